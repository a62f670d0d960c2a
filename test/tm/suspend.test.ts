// t_suspend / t_continue and hold() over real UDP (docs/tm.md): identifiers,
// continue by numbers or strings, second/stale continue false, suspension timeout → failure hook
// and 408, CANCEL while suspended → 487 + 200, retransmissions absorbed while suspended.
import { test } from "node:test";
import assert from "node:assert/strict";
import { isResponse, SipPeer, sipText } from "../support/sip-peer.js";
import { answer, inviteTx, request, startTm, withTm } from "../support/tm-harness.js";
import { waitFor } from "../support/wait-for.js";
import { hashIndex, type TmFailure } from "../../src/tm/index.js";
import { TransactionError } from "../../src/errors.js";

test("identifiers: index = hash(Call-ID, CSeq) in 0..65535, label counts per bucket", () =>
  withTm({}, async (h, uac) => {
    const a = await inviteTx(h, uac, "id-call");
    const b = await inviteTx(h, uac, "id-call"); // same Call-ID and CSeq, new branch: same bucket
    assert.equal(a.index, hashIndex("id-call", 1));
    assert.ok(a.index >= 0 && a.index <= 65535);
    assert.equal(b.index, a.index);
    assert.equal(b.label, (a.label + 1) >>> 0);
    assert.ok(h.tm.suspend(a));
    assert.equal(h.tm.continue(a.index, a.label), a, "the identifiers find the transaction");
  }));

test("suspend sends 100, continue accepts numbers or strings once; stale and bad ids are false", () =>
  withTm({ t1: 50 }, async (h, uac) => {
    const branch = uac.branch();
    const st = await inviteTx(h, uac, "sus-1", branch);
    const ids = h.tm.suspend(st);
    assert.deepEqual(ids, { index: st.index, label: st.label });
    await uac.expect(isResponse(100));
    assert.equal(h.tm.stats.suspended, 1);
    // A retransmission while suspended is absorbed and gets the 100 again.
    let rerouted = 0;
    h.route = () => rerouted++;
    uac.send(sipText(request("INVITE", { uacHostport: uac.hostport, branch, callId: "sus-1" })), h.port);
    await uac.expect(isResponse(100));
    assert.equal(rerouted, 0);
    assert.equal(h.tm.continue(st.index, (st.label + 1) >>> 0), false, "stale label");
    assert.equal(h.tm.continue(70000, st.label), false, "index out of range");
    assert.equal(h.tm.continue("abc", "1"), false, "not a number");
    assert.equal(h.tm.continue(String(st.index), String(st.label)), st);
    assert.equal(st.isSuspended, false);
    assert.equal(h.tm.continue(st.index, st.label), false, "second continue");
    assert.equal(h.tm.stats.suspended, 0);
    assert.equal(h.tm.ensureReplied(st), true);
    await uac.expect(isResponse(500));
    assert.equal(h.tm.continue(st.index, st.label), false, "finished");
  }));

test("suspended past frTimer: failure hook with suspend-timeout, then 408 upstream", () =>
  withTm({ t1: 50, frTimer: 150 }, async (h, uac) => {
    const failures: TmFailure[] = [];
    h.callbacks.onFailure = (_st, f) => {
      failures.push(f);
    };
    const st = await inviteTx(h, uac, "sus-to");
    assert.ok(h.tm.suspend(st));
    await uac.expect(isResponse(100));
    await uac.expect(isResponse(408));
    assert.equal(failures.length, 1);
    assert.equal(failures[0]?.cause, "suspend-timeout");
    assert.equal(failures[0]?.branch, undefined);
    assert.equal(h.tm.stats.timeouts, 1);
    assert.equal(h.tm.continue(st.index, st.label), false);
    assert.equal(h.tm.suspend(st), undefined, "already replied");
  }));

test("CANCEL while suspended: 200 to the CANCEL, 487 to the INVITE, continue once returns it cancelled", () =>
  withTm({ t1: 50 }, async (h, uac) => {
    const branch = uac.branch();
    const st = await inviteTx(h, uac, "sus-cancel", branch);
    assert.ok(h.tm.suspend(st));
    await uac.expect(isResponse(100));
    uac.send(sipText(request("CANCEL", { uacHostport: uac.hostport, branch, callId: "sus-cancel" })), h.port);
    await uac.expect(isResponse(200, "CANCEL"));
    await uac.expect(isResponse(487, "INVITE"));
    const again = h.tm.continue(st.index, st.label);
    assert.equal(again, st);
    assert.equal(st.isCancelled, true);
    assert.equal(h.tm.continue(st.index, st.label), false);
    assert.equal(h.tm.suspend(st), undefined, "cancelled");
  }));

test("hold(): resolves with the value, retransmissions absorbed meanwhile", () =>
  withTm({ t1: 50 }, async (h, uac) => {
    const branch = uac.branch();
    const st = await inviteTx(h, uac, "hold-ok", branch);
    let release: (v: string) => void = () => undefined;
    const p = h.tm.hold(st, new Promise<string>((r) => (release = r)), { timeout: 5000 });
    await uac.expect(isResponse(100));
    assert.equal(h.tm.continue(st.index, st.label), false, "held transactions are not continued");
    let rerouted = 0;
    h.route = () => rerouted++;
    uac.send(sipText(request("INVITE", { uacHostport: uac.hostport, branch, callId: "hold-ok" })), h.port);
    await uac.expect(isResponse(100));
    release("answer");
    assert.equal(await p, "answer");
    assert.equal(st.isSuspended, false);
    assert.equal(rerouted, 0);
    h.tm.reply(st, 404, "Not Found");
    await uac.expect(isResponse(404));
  }));

test("hold(): its own timeout rejects ERR_TM_TIMEOUT and leaves the transaction to the route", () =>
  withTm({ t1: 50, frTimer: 5000 }, async (h, uac) => {
    const st = await inviteTx(h, uac, "hold-to");
    const never = new Promise<void>(() => undefined);
    await assert.rejects(
      h.tm.hold(st, never, { timeout: 100 }),
      (e: unknown) => e instanceof TransactionError && e.code === "ERR_TM_TIMEOUT",
    );
    assert.equal(st.isSuspended, false);
    assert.equal(st.isFinal, false, "no 408: the awaiting route answers");
    assert.equal(h.tm.reply(st, 503, "Try Later"), true);
    await uac.expect(isResponse(503));
  }));

test("hold(): fr_timer still ends in 408 when the hold has no shorter timeout", () =>
  withTm({ t1: 50, frTimer: 150 }, async (h, uac) => {
    const st = await inviteTx(h, uac, "hold-fr");
    const never = new Promise<void>(() => undefined);
    await assert.rejects(h.tm.hold(st, never), (e: unknown) => e instanceof TransactionError && e.code === "ERR_TM_TIMEOUT");
    await uac.expect(isResponse(408));
  }));

test("hold(): CANCEL rejects ERR_TM_CANCELLED after 487 and 200", () =>
  withTm({ t1: 50 }, async (h, uac) => {
    const branch = uac.branch();
    const st = await inviteTx(h, uac, "hold-cancel", branch);
    const p = h.tm.hold(st, new Promise<void>(() => undefined));
    await uac.expect(isResponse(100));
    uac.send(sipText(request("CANCEL", { uacHostport: uac.hostport, branch, callId: "hold-cancel" })), h.port);
    await assert.rejects(p, (e: unknown) => e instanceof TransactionError && e.code === "ERR_TM_CANCELLED");
    await uac.expect(isResponse(200, "CANCEL"));
    await uac.expect(isResponse(487, "INVITE"));
    assert.equal(h.tm.continue(st.index, st.label), false, "a held transaction is not handed to continue");
    await waitFor(() => h.tm.stats.suspended === 0);
  }));

test("continue then relay from the resumed route: the UAS answer goes upstream", async () => {
  const h = await startTm({ t1: 50 });
  const [uac, uas] = await Promise.all([SipPeer.open(), SipPeer.open()]);
  try {
    const st = await inviteTx(h, uac, "sus-relay");
    const ids = h.tm.suspend(st);
    assert.ok(ids);
    await uac.expect(isResponse(100));
    const resumed = h.tm.continue(ids.index, ids.label);
    assert.ok(resumed);
    h.relayTo(resumed, uas);
    assert.equal(h.tm.ensureReplied(resumed), false, "a branch is pending");
    const inv = await uas.expect((m) => m.isRequest && m.method === "INVITE");
    uas.send(answer(inv.msg, 200, "OK"), h.port);
    await uac.expect(isResponse(200));
    assert.equal(uac.count(isResponse(100)), 1, "no second 100 on relay");
  } finally {
    uac.close();
    uas.close();
    h.close();
  }
});

test("an answer in the same loop turn as the suspend makes its 100 needless; a later one finds it sent", () =>
  withTm({ t1: 50, trying100Delay: 0 }, async (h, uac) => {
    // Same turn: the 100 is due at the turn's end, after the 486, so it is not sent at all.
    const st = await inviteTx(h, uac, "sus-same-turn");
    const ids = h.tm.suspend(st);
    assert.ok(ids);
    assert.equal(h.tm.continue(ids.index, ids.label), st);
    h.tm.reply(st, 486, "Busy Here");
    await uac.expect(isResponse(486));
    // A second INVITE answered in a later turn is the barrier: its 100 comes after anything the
    // first one could still have sent on this socket pair.
    const later = await inviteTx(h, uac, "sus-later-turn");
    assert.ok(h.tm.suspend(later));
    const trying = await uac.expect(isResponse(100));
    assert.equal(trying.msg.callId, "sus-later-turn");
    assert.equal(uac.count(isResponse(100)), 1, "the first INVITE had no 100");
  }));
