// When the automatic 100 Trying leaves (src/tm/trying.ts), over real UDP: not at all for an INVITE
// answered (or rung) within trying100Delay, after the delay for one still waiting (a CANCELled one
// included), at once when the INVITE is retransmitted or released meanwhile, and at once with a
// delay of 0. The ring keeps order when it grows wrapped around.
import { test } from "node:test";
import assert from "node:assert/strict";
import { isRequest, isResponse, SipPeer, sipText } from "../support/sip-peer.js";
import { answer, inviteTx, request, withTm, type TmHarness } from "../support/tm-harness.js";
import { waitFor } from "../support/wait-for.js";
import type { ServerTransaction } from "../../src/tm/index.js";
import type { SipMessageLike } from "../../src/sip/types.js";

/** Sends an INVITE and resolves with its transaction, suspended. */
async function suspended(h: TmHarness, uac: SipPeer, callId: string, branch = uac.branch()): Promise<ServerTransaction> {
  const st = await inviteTx(h, uac, callId, branch);
  assert.ok(h.tm.suspend(st));
  return st;
}

const trying = (callId: string) => (m: SipMessageLike) => m.status === 100 && m.callId === callId;

test("an INVITE answered within trying100Delay gets no 100; one still waiting gets it after the delay", () =>
  withTm({ trying100Delay: 50 }, async (h, uac) => {
    const fast = await suspended(h, uac, "fast-1");
    // Answered a loop turn later: with no delay its 100 would already have left at the turn's end.
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(h.tm.continue(fast.index, fast.label), fast);
    h.tm.reply(fast, 200, "OK");
    await uac.expect(isResponse(200));
    const started = performance.now();
    await suspended(h, uac, "slow-1");
    // The ring is in order: once the later INVITE's 100 is out, the earlier one's turn has passed.
    await uac.expect(trying("slow-1"));
    assert.ok(performance.now() - started >= 50, "the 100 waited for the delay");
    assert.equal(uac.count(trying("fast-1")), 0, "the answered INVITE got no 100");
  }));

test("a retransmitted INVITE gets its 100 at once, and only one", () =>
  withTm({ trying100Delay: 60_000 }, async (h, uac) => {
    const branch = uac.branch();
    const st = await suspended(h, uac, "retx-1", branch);
    uac.send(sipText(request("INVITE", { uacHostport: uac.hostport, branch, callId: "retx-1" })), h.port);
    await uac.expect(trying("retx-1"));
    h.tm.reply(st, 486, "Busy Here");
    await uac.expect(isResponse(486));
    assert.equal(uac.count(trying("retx-1")), 1);
    assert.equal(st.tryingPending, false);
  }));

test("trying100Delay 0: a relayed INVITE's 100 leaves right after its branch", () =>
  withTm({ trying100Delay: 0 }, async (h, uac, uas) => {
    const relayed = new Promise<{ st: ServerTransaction; status: number }>((resolve) => {
      h.route = (msg, src) => {
        const r = h.tm.create(msg, src);
        if (!r.ok) throw new Error(r.code);
        h.relayTo(r, uas);
        // Sent synchronously: nothing waits on a timer or the end of the turn.
        resolve({ st: r, status: r.lastStatus });
      };
    });
    uac.send(sipText(request("INVITE", { uacHostport: uac.hostport, branch: uac.branch(), callId: "zero-1" })), h.port);
    const { st, status } = await relayed;
    assert.equal(status, 100);
    await uas.expect((m) => m.method === "INVITE");
    await uac.expect(trying("zero-1"));
    assert.equal(st.tryingPending, false);
  }));

test("a CANCEL within the delay does not stop the 100 of a relayed INVITE still waiting for its final", () =>
  withTm({ trying100Delay: 1000 }, async (h, uac, uas) => {
    const branch = uac.branch();
    h.relayAllTo(uas);
    uac.send(sipText(request("INVITE", { uacHostport: uac.hostport, branch, callId: "cancel-1" })), h.port);
    await uas.expect(isRequest("INVITE"));
    uac.send(sipText(request("CANCEL", { uacHostport: uac.hostport, branch, callId: "cancel-1" })), h.port);
    await uac.expect(isResponse(200, "CANCEL"));
    // tm cancels the branch once it has a provisional (RFC 3261 §9.1); until then the call waits.
    await uac.expect(trying("cancel-1"));
    const order = uac.received.map((r) => `${r.msg.status} ${r.msg.cseq.method}`);
    assert.deepEqual(order, ["200 CANCEL", "100 INVITE"], "the 100 left after the CANCEL was handled");
  }));

test("a provisional from the callee within the delay makes the 100 needless", () =>
  withTm({ trying100Delay: 1000 }, async (h, uac, uas) => {
    h.relayAllTo(uas);
    uac.send(sipText(request("INVITE", { uacHostport: uac.hostport, branch: uac.branch(), callId: "ring-1" })), h.port);
    const inv = await uas.expect(isRequest("INVITE"));
    uas.send(answer(inv.msg, 180, "Ringing"), h.port);
    await uac.expect(isResponse(180));
    // The ring is in order: once a later INVITE's 100 is out, the earlier one's turn has passed.
    await suspended(h, uac, "later-1");
    await uac.expect(trying("later-1"));
    assert.equal(uac.count(trying("ring-1")), 0);
  }));

test("an INVITE released without an answer gets its 100 at once, so its caller stops re-sending it", () =>
  withTm({ trying100Delay: 60_000 }, async (h, uac) => {
    const st = await suspended(h, uac, "drop-1");
    assert.equal(h.tm.continue(st.index, st.label), st);
    assert.equal(h.tm.release(st), true);
    await uac.expect(trying("drop-1"));
  }));

test("more INVITEs waiting than the ring first holds, wrapped around it: every one gets its 100, in order", () =>
  withTm({ trying100Delay: 200 }, async (h, uac) => {
    uac.socket.setRecvBufferSize(1 << 20);
    const ids: string[] = [];
    let routed = 0;
    let refused = 0;
    h.route = (msg, src) => {
      const st = h.tm.create(msg, src);
      if (st.ok && h.tm.suspend(st)) routed++;
      else refused++;
    };
    // In batches the sockets' buffers hold, each routed before the next is sent.
    const send = async (batches: number): Promise<void> => {
      for (let b = 0; b < batches; b++) {
        for (let i = 0; i < 45; i++) {
          const id = `ring-${ids.length}`;
          ids.push(id);
          uac.send(sipText(request("INVITE", { uacHostport: uac.hostport, branch: uac.branch(), callId: id })), h.port);
        }
        await waitFor(() => routed + refused === ids.length);
        assert.equal(refused, 0);
      }
    };
    // First 90 come and go, so the ring's start has moved on when the next 270 overfill it.
    await send(2);
    for (const id of ids) await uac.expect(trying(id));
    await send(6);
    for (const id of ids.slice(90)) await uac.expect(trying(id));
    const order = uac.received.filter((r) => r.msg.status === 100).map((r) => r.msg.callId);
    assert.deepEqual(order, ids);
  }));

// From the timer (a delay) and from the end of the turn (delay 0) alike: caught, not rethrown.
for (const delay of [20, 0]) {
  test(`a 100 whose send throws is counted and logged; the 100s due after it still leave (trying100Delay ${delay})`, () =>
    withTm({ trying100Delay: delay }, async (h, uac) => {
      h.callbacks.onSent = (st, status) => {
        if (status === 100 && st.msg.callId === "throw-1") throw new Error("observer bug");
      };
      await suspended(h, uac, "throw-1");
      await suspended(h, uac, "after-1");
      await uac.expect(trying("after-1"));
      assert.equal(h.tm.stats.errors.get("ERR_TRANSPORT_SEND_FAILED"), 1);
    }));
}
