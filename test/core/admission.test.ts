// Admission's overload spells as an operator reads them: the start logged with the rule that made the
// decision and the input's state it read, the end at the next new call admitted (with the refusals and
// how long they went on, up to the last one), or when a graceful stop takes over. The input's state is
// given as a function, as the transport gives it; the 503s go to a replier that records them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Admission } from "../../src/core/admission.js";
import type { StatelessReplier } from "../../src/core/sl.js";
import { RateLimitedLog } from "../../src/common/rate-limited-log.js";
import { parseMessage } from "../../src/sip/index.js";
import type { SipMessageLike } from "../../src/sip/types.js";
import type { Source } from "../../src/transport/types.js";
import { KEEPING_UP, type BacklogState } from "../../src/transport/input-backlog.js";
import { sipRequest } from "../support/sip-samples.js";
import { captureLogger } from "../support/transport-harness.js";

const SRC: Source = {
  proto: "udp",
  remoteAddr: "127.0.0.1",
  remotePort: 5099,
  localAddr: "127.0.0.1",
  localPort: 5060,
  connId: 0,
};

function msg(method: string, callId: string): SipMessageLike {
  const r = parseMessage(sipRequest({ method, callId }));
  assert.ok(r.ok);
  return r.msg;
}

function setup(): { admission: Admission; lines: Record<string, unknown>[]; answered: number[]; input: { state: BacklogState } } {
  const { logger, lines } = captureLogger();
  const answered: number[] = [];
  const replier = { replyTo: (_m: SipMessageLike, _s: Source, code: number) => answered.push(code) > 0 };
  const input: { state: BacklogState } = { state: KEEPING_UP };
  const admission = new Admission(
    replier as unknown as StatelessReplier,
    { retryAfter: 5, drainTimeout: 1000, shedAfter: 2000, shedQueue: 100 },
    () => input.state,
    new RateLimitedLog(logger),
  );
  return { admission, lines, answered, input };
}

test("a spell is logged with the rule that fired and the state it read; its end counts its refusals", () => {
  const { admission, lines, answered, input } = setup();
  input.state = { behindMs: 300, queuedBytes: 1000, queueMs: 140, dropping: false };
  assert.equal(admission.refuse(msg("INVITE", "a"), SRC), true);
  assert.equal(admission.refuse(msg("ACK", "x"), SRC), false, "an ACK is never refused");
  assert.equal(admission.refuse(msg("INVITE", "b"), SRC), true);
  input.state = { behindMs: 2500, queuedBytes: 0, queueMs: 20, dropping: false };
  assert.equal(admission.refuse(msg("INVITE", "c"), SRC), true, "still closed, now by shedAfter: the same spell");
  input.state = KEEPING_UP;
  assert.equal(admission.refuse(msg("INVITE", "d"), SRC), false);
  assert.deepEqual(answered, [503, 503, 503]);
  assert.deepEqual(
    lines.map((l) => [l.level, l.rule, l.queueMs, l.refused]),
    [
      [40, "queue past shedQueue", 140, undefined],
      [30, undefined, undefined, 3],
    ],
  );
});

test("the kernel's drops are named as the rule; a graceful stop ends an open spell", () => {
  const { admission, lines, input } = setup();
  input.state = { behindMs: 50, queuedBytes: 0, queueMs: 0, dropping: true };
  assert.equal(admission.refuse(msg("INVITE", "a"), SRC), true);
  admission.startDraining();
  assert.equal(admission.refuse(msg("INVITE", "b"), SRC), true, "refused for the stop");
  assert.deepEqual(
    admission.stats.refused,
    new Map([
      ["overload", 1],
      ["draining", 1],
    ]),
  );
  assert.deepEqual(
    lines.map((l) => [l.rule, l.refused, l.msg]),
    [
      ["the kernel dropped datagrams", undefined, "overload: new calls are refused with 503 + Retry-After"],
      [undefined, 1, "overload over: a graceful stop refuses new calls now"],
    ],
  );
});

test("a module's claim of accepted work is asked only while new work is refused, and only for new work", () => {
  const { admission, answered } = setup();
  const asked: string[] = [];
  admission.addAcceptedWork((m) => {
    asked.push(`${m.method} ${m.callId}`);
    return m.callId === "kept";
  });
  assert.equal(admission.refuse(msg("INVITE", "open"), SRC), false);
  assert.deepEqual(asked, [], "not asked while new work is admitted");
  admission.startDraining();
  assert.equal(admission.refuse(msg("INVITE", "kept"), SRC), false, "claimed: let through");
  assert.equal(admission.refuse(msg("INVITE", "new"), SRC), true, "not claimed: refused");
  assert.equal(admission.refuse(msg("ACK", "kept"), SRC), false);
  assert.equal(admission.refuse(msg("CANCEL", "kept"), SRC), false);
  assert.deepEqual(asked, ["INVITE kept", "INVITE new"], "never asked for what opens no new work");
  assert.deepEqual(answered, [503]);
});
