// Dialog profiles without a live server: counts per profile and per value, membership, leaving
// every profile at once when a dialog ends, and the coded error for an undeclared profile.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Profiles, checkProfiles, profileNames } from "../../../src/modules/dialog/profiles.js";
import type { DialogRecord } from "../../../src/modules/dialog/index.js";
import { EvsipError } from "../../../src/errors.js";

function dialog(): DialogRecord {
  const side = { contact: "", cseq: 0, routeSet: [], keepalive: false, kaFailures: 0 };
  return {
    hEntry: 0,
    hId: 0,
    callId: "c",
    fromUri: "",
    toUri: "",
    fromTag: "f",
    toTag: "",
    fromHeader: "",
    toHeader: "",
    inviteCseq: 1,
    state: 1,
    createdAt: 0,
    startTs: 0,
    timeout: 1,
    expiresAt: 0,
    nextKaAt: 0,
    caller: { ...side },
    callee: { ...side },
    vars: {},
    profiles: [],
  };
}

test("profiles with and without value count their dialogs, and a dialog leaves all of them at once", () => {
  const p = new Profiles(profileNames("inbound; all"), profileNames(["calls-to"]));
  const a = dialog();
  const b = dialog();
  assert.equal(p.add(a, "all"), true);
  assert.equal(p.add(a, "all"), true, "adding twice counts once");
  p.add(b, "all");
  p.add(a, "calls-to", "10.10.10.10");
  p.add(b, "calls-to", "10.10.10.11");
  assert.equal(p.size("all"), 2);
  assert.equal(p.size("calls-to", "10.10.10.10"), 1);
  assert.equal(p.size("calls-to"), 2, "without a value: every value");
  assert.equal(p.has(a, "calls-to"), true);
  assert.equal(p.has(a, "calls-to", "10.10.10.11"), false);
  assert.equal(p.has(a, "inbound"), false);
  assert.deepEqual(
    a.profiles,
    [
      ["all", ""],
      ["calls-to", "10.10.10.10"],
    ],
    "kept on the record too",
  );
  assert.equal(p.remove(b, "calls-to", "10.10.10.11"), true);
  assert.equal(p.remove(b, "calls-to", "10.10.10.11"), false);
  p.removeAll(a);
  assert.deepEqual(a.profiles, []);
  assert.deepEqual(
    [...p.sizes()],
    [
      ["inbound", 0],
      ["all", 1],
      ["calls-to", 0],
    ],
  );
});

test("an undeclared profile, or a per-value profile without a value, throws ERR_DIALOG_UNKNOWN_PROFILE", () => {
  const p = new Profiles(["all"], ["calls-to"]);
  const code = (fn: () => unknown): string | undefined => {
    try {
      fn();
    } catch (e) {
      return e instanceof EvsipError ? e.code : "other";
    }
    return undefined;
  };
  assert.equal(
    code(() => p.size("nope")),
    "ERR_DIALOG_UNKNOWN_PROFILE",
  );
  assert.equal(
    code(() => p.add(dialog(), "calls-to")),
    "ERR_DIALOG_UNKNOWN_PROFILE",
  );
  assert.deepEqual(checkProfiles("a;b", ["b", "bad name"]), [
    "profile b is declared twice",
    'profile name "bad name" is not valid',
  ]);
});
