// Server transactions over real UDP: retransmissions absorbed with the last response re-sent,
// INVITE ≥ 300 retransmitted on Timer G until the ACK (then absorbed, Timer I ends it), non-INVITE
// Timer J, the 2xx ACK passed on as new, and the maxTransactions limit.
import { test } from "node:test";
import assert from "node:assert/strict";
import { isRequest, isResponse, SipPeer, sipText } from "../support/sip-peer.js";
import { answer, request, startTm, withTm, type TmHarness } from "../support/tm-harness.js";
import { waitFor } from "../support/wait-for.js";
import type { ServerTransaction } from "../../src/tm/index.js";

test("INVITE retransmission is absorbed and the last response re-sent", () =>
  withTm({ t1: 50 }, async (h, uac) => {
    let routed = 0;
    h.route = (msg, src) => {
      routed++;
      const st = h.tm.create(msg, src);
      assert.ok(st.ok);
      h.tm.reply(st, 180, "Ringing");
    };
    const invite = sipText(request("INVITE", { uacHostport: uac.hostport, branch: uac.branch(), callId: "c-retx" }));
    uac.send(invite, h.port);
    const first = await uac.expect(isResponse(180));
    assert.ok(first.msg.to.tag !== undefined);
    uac.send(invite, h.port);
    const again = await uac.expect(isResponse(180));
    assert.equal(again.msg.to.tag, first.msg.to.tag);
    assert.equal(routed, 1);
    assert.equal(h.tm.stats.retransmissionsAbsorbed, 1);
  }));

test("INVITE 486 is retransmitted on Timer G until the ACK, which is absorbed", () =>
  withTm({ t1: 20, t2: 80, t4: 60 }, async (h, uac) => {
    let st: ServerTransaction | undefined;
    let routed = 0;
    h.route = (msg, src) => {
      routed++;
      const r = h.tm.create(msg, src);
      assert.ok(r.ok);
      st = r;
      h.tm.reply(r, 486, "Busy Here");
    };
    const branch = uac.branch();
    uac.send(sipText(request("INVITE", { uacHostport: uac.hostport, branch, callId: "c-486" })), h.port);
    const busy = await uac.expect(isResponse(486));
    await uac.expect(isResponse(486));
    await uac.expect(isResponse(486));
    const ack = request("ACK", { uacHostport: uac.hostport, branch, callId: "c-486", toTag: busy.msg.to.tag });
    uac.send(sipText(ack), h.port);
    await waitFor(() => st?.state === "confirmed");
    const atAck = uac.count(isResponse(486));
    await waitFor(() => st?.state === "terminated");
    assert.ok(uac.count(isResponse(486)) <= atAck + 1, "no more 486 after the ACK");
    assert.equal(routed, 1, "the ACK never reached the route");
    assert.equal(h.tm.stats.serverTransactions, 0);
  }));

test("non-INVITE: the transaction ends at its final; a retransmission gets the final again until Timer J, then is new", async () => {
  const h = await startTm({ t1: 40 }); // Timer J = 64·T1 = 2.56 s: room for a stall before the retransmission
  const uac = await SipPeer.open();
  try {
    let st: ServerTransaction | undefined;
    let routed = 0;
    h.route = (msg, src) => {
      routed++;
      const r = h.tm.create(msg, src);
      assert.ok(r.ok);
      st = r;
      h.tm.reply(r, 200, "OK");
    };
    const options = sipText(request("OPTIONS", { uacHostport: uac.hostport, branch: uac.branch(), callId: "c-opt" }));
    // Timer J starts when the final leaves, after this: a bound from here cannot be broken by a
    // pause between the final and this test seeing it.
    const sentAt = Date.now();
    uac.send(options, h.port);
    await uac.expect(isResponse(200, "OPTIONS"));
    assert.equal(st?.state, "terminated", "only the final's bytes and destination are kept for Timer J");
    assert.equal(h.tm.stats.serverTransactions, 0);
    uac.send(options, h.port);
    await uac.expect(isResponse(200, "OPTIONS"));
    assert.equal(routed, 1, "the retransmission got the final again without the route");
    assert.equal(h.tm.stats.retransmissionsAbsorbed, 1);
    // A UA re-sending every 20 ms is answered from what was kept until Timer J is over; then the
    // route sees the request again.
    while (routed === 1) {
      await new Promise((r) => setTimeout(r, 20));
      uac.send(options, h.port);
      await uac.expect(isResponse(200, "OPTIONS"));
    }
    // 2,550: timers count whole milliseconds of the loop's clock, Date.now() the wall's.
    assert.ok(Date.now() - sentAt >= 2550, `new again after ${Date.now() - sentAt} ms, not before Timer J`);
  } finally {
    uac.close();
    h.close();
  }
});

test("the ACK of a 2xx is end to end: handleRequest says new", () =>
  withTm({ t1: 50 }, async (h, uac) => {
    const seen: string[] = [];
    h.route = (msg, src) => {
      seen.push(msg.method);
      if (msg.method !== "INVITE") return;
      const r = h.tm.create(msg, src);
      assert.ok(r.ok);
      h.tm.reply(r, 200, "OK");
    };
    uac.send(sipText(request("INVITE", { uacHostport: uac.hostport, branch: uac.branch(), callId: "c-2xx" })), h.port);
    const ok = await uac.expect(isResponse(200));
    uac.send(
      sipText(request("ACK", { uacHostport: uac.hostport, branch: uac.branch(), callId: "c-2xx", toTag: ok.msg.to.tag })),
      h.port,
    );
    await waitFor(() => seen.length === 2);
    assert.deepEqual(seen, ["INVITE", "ACK"]);
  }));

test("maxTransactions: create() refuses with ERR_TM_LIMIT and counts it", () =>
  withTm({ maxTransactions: 1 }, async (h, uac) => {
    const results: string[] = [];
    h.route = (msg, src) => {
      const r = h.tm.create(msg, src);
      results.push(r.ok ? "created" : r.code);
    };
    uac.send(sipText(request("INVITE", { uacHostport: uac.hostport, branch: uac.branch(), callId: "c-lim1" })), h.port);
    uac.send(sipText(request("INVITE", { uacHostport: uac.hostport, branch: uac.branch(), callId: "c-lim2" })), h.port);
    await waitFor(() => results.length === 2);
    assert.deepEqual(results, ["created", "ERR_TM_LIMIT"]);
    assert.equal(h.tm.stats.limitRejected, 1);
  }));

test("maxTransactions: an emergency call may take the reserve past it (a hundredth, at least one), then is refused too", () =>
  withTm({ maxTransactions: 200 }, async (h, uac) => {
    const results: string[] = [];
    h.route = (msg, src) => {
      const r = h.tm.create(msg, src);
      results.push(r.ok ? "created" : r.code);
    };
    const send = (callId: string, ruri?: string): void =>
      uac.send(sipText(request("INVITE", { uacHostport: uac.hostport, branch: uac.branch(), callId, ruri })), h.port);
    // In rounds of 20, each taken before the next: the harness's socket buffer is the kernel's default.
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 20; i++) send(`c-res-${round}-${i}`);
      await waitFor(() => results.length === 20 * (round + 1));
    }
    send("c-over");
    for (let i = 0; i < 3; i++) send(`c-sos-${i}`, i === 1 ? "urn:service:sos.fire" : "urn:service:sos");
    await waitFor(() => results.length === 204);
    assert.deepEqual(results.slice(200), ["ERR_TM_LIMIT", "created", "created", "ERR_TM_LIMIT"]);
    assert.equal(h.tm.stats.limitRejected, 2);
  }));

test("RFC 2543 fallback: a request without the magic cookie still matches its retransmission", () =>
  withTm({ t1: 50 }, async (h, uac) => {
    let routed = 0;
    let st: ServerTransaction | undefined;
    h.route = (msg, src) => {
      routed++;
      const r = h.tm.create(msg, src);
      assert.ok(r.ok);
      st = r;
      h.tm.reply(r, 603, "Decline");
    };
    const invite = sipText(request("INVITE", { uacHostport: uac.hostport, branch: "old1", callId: "c-2543" }));
    uac.send(invite, h.port);
    const declined = await uac.expect(isResponse(603));
    uac.send(invite, h.port);
    await uac.expect(isResponse(603));
    const ack = request("ACK", { uacHostport: uac.hostport, branch: "old1", callId: "c-2543", toTag: declined.msg.to.tag });
    uac.send(sipText(ack), h.port);
    await waitFor(() => st?.state === "confirmed");
    assert.equal(h.tm.stats.retransmissionsAbsorbed, 1);
    assert.equal(routed, 1, "neither the retransmission nor the ACK was routed");
  }));

test("after the final the parsed request is dropped; msg re-reads the same request and the To tag stays", () =>
  withTm({ t1: 50 }, async (h, uac) => {
    let st: ServerTransaction | undefined;
    h.route = (msg, src) => {
      const r = h.tm.create(msg, src);
      assert.ok(r.ok);
      st = r;
      assert.equal(r.msg, msg, "the request itself while no final was sent");
      h.tm.reply(r, 486, "Busy Here");
    };
    uac.send(sipText(request("INVITE", { uacHostport: uac.hostport, branch: uac.branch(), callId: "c-release" })), h.port);
    const busy = await uac.expect(isResponse(486));
    assert.ok(st !== undefined);
    assert.equal(st.msg.callId, "c-release");
    assert.equal(st.msg.method, "INVITE");
    assert.equal(st.toTag, busy.msg.to.tag);
  }));

/** A route that answers each INVITE 200 itself and notes tm's re-send count when the ACK reaches it. */
function answerOwn200(h: TmHarness): { st(): ServerTransaction | undefined; sentAtAck(): number } {
  let st: ServerTransaction | undefined;
  let sentAtAck = -1;
  h.route = (msg, src) => {
    if (msg.method === "ACK") {
      sentAtAck = h.tm.stats.retransmissionsSent;
      return;
    }
    const r = h.tm.create(msg, src);
    assert.ok(r.ok);
    st = r;
    h.tm.reply(r, 200, "OK");
  };
  return { st: () => st, sentAtAck: () => sentAtAck };
}

/** The ACK reached the route, ended the transaction well before Timer L, and nothing was re-sent after it. */
async function assertAckEndedIt(h: TmHarness, rig: ReturnType<typeof answerOwn200>): Promise<void> {
  await waitFor(() => rig.sentAtAck() >= 0);
  const ackedAt = Date.now();
  await waitFor(() => rig.st()?.state === "terminated"); // not Timer L's 64·T1 = 12.8 s
  assert.ok(Date.now() - ackedAt < 3000, "the ACK ended the transaction");
  assert.equal(h.tm.stats.retransmissionsSent, rig.sentAtAck(), "nothing re-sent after the ACK");
}

test("our own 2xx to an INVITE is re-sent (T1 doubling) until its ACK, whose branch is new; the ACK ends the transaction", () =>
  withTm({ t1: 200, t2: 800, t4: 50 }, async (h, uac) => {
    const rig = answerOwn200(h);
    uac.send(sipText(request("INVITE", { uacHostport: uac.hostport, branch: uac.branch(), callId: "c-own2xx" })), h.port);
    const ok = await uac.expect(isResponse(200));
    // The UAC "lost" it and waits: evsip re-sends it, as Kamailio does for its local 2xx.
    await uac.expect(isResponse(200));
    await uac.expect(isResponse(200));
    assert.ok(h.tm.stats.retransmissionsSent >= 2);
    uac.send(
      sipText(request("ACK", { uacHostport: uac.hostport, branch: uac.branch(), callId: "c-own2xx", toTag: ok.msg.to.tag })),
      h.port,
    );
    await assertAckEndedIt(h, rig);
  }));

test("a relayed 2xx is not re-sent by us (the UAS does that); its end-to-end ACK ends the transaction and its branch soon after", () =>
  withTm({ t1: 200, t2: 800, t4: 50 }, async (h, uac, uas) => {
    let st: ServerTransaction | undefined;
    h.route = (msg, src) => {
      if (msg.method === "ACK") return; // end to end: the proxy would forward it
      const r = h.tm.create(msg, src);
      assert.ok(r.ok);
      st = r;
      h.relayTo(r, uas);
    };
    uac.send(sipText(request("INVITE", { uacHostport: uac.hostport, branch: uac.branch(), callId: "c-relayed2xx" })), h.port);
    const req = await uas.expect((m) => m.method === "INVITE");
    const vias = req.msg.headerValues("Via").map((v) => `Via: ${v}`);
    uas.send(
      sipText([
        "SIP/2.0 200 OK",
        ...vias,
        `From: ${req.msg.header("From")}`,
        `To: ${req.msg.header("To")};tag=uas`,
        "Call-ID: c-relayed2xx",
        "CSeq: 1 INVITE",
      ]),
      h.port,
    );
    await uac.expect(isResponse(200));
    assert.equal(h.tm.stats.clientTransactions, 1);
    uac.send(
      sipText(request("ACK", { uacHostport: uac.hostport, branch: uac.branch(), callId: "c-relayed2xx", toTag: "uas" })),
      h.port,
    );
    await waitFor(() => st?.state === "terminated" && h.tm.stats.clientTransactions === 0); // not Timer L/M's 12.8 s
    assert.equal(uac.count(isResponse(200)), 1);
    // Our only retransmissions: the INVITE's on Timer A, had this process stalled past T1.
    assert.equal(h.tm.stats.retransmissionsSent, uas.count(isRequest("INVITE")) - 1);
  }));

test("maxTransactions counts transactions without a final: finished ones waiting for retransmissions do not lock out new calls", () =>
  withTm({ maxTransactions: 1 }, async (h, uac) => {
    const results: string[] = [];
    h.route = (msg, src) => {
      const r = h.tm.create(msg, src);
      results.push(r.ok ? "created" : r.code);
      if (r.ok) h.tm.reply(r, 404, "Not Found");
    };
    for (const id of ["c-fin1", "c-fin2", "c-fin3"]) {
      uac.send(sipText(request("INVITE", { uacHostport: uac.hostport, branch: uac.branch(), callId: id })), h.port);
      await uac.expect((m) => m.callId === id && m.status === 404);
    }
    assert.deepEqual(results, ["created", "created", "created"]);
    assert.equal(h.tm.stats.serverTransactions, 3, "all three still absorb retransmissions");
    assert.equal(h.tm.stats.limitRejected, 0);
  }));

test("an ACK that reuses the INVITE's branch also stops our 2xx's re-sending and ends the transaction", () =>
  withTm({ t1: 200, t2: 800, t4: 50 }, async (h, uac) => {
    const rig = answerOwn200(h);
    const branch = uac.branch();
    uac.send(sipText(request("INVITE", { uacHostport: uac.hostport, branch, callId: "c-samebranch" })), h.port);
    const ok = await uac.expect(isResponse(200));
    uac.send(
      sipText(request("ACK", { uacHostport: uac.hostport, branch, callId: "c-samebranch", toTag: ok.msg.to.tag })),
      h.port,
    );
    await assertAckEndedIt(h, rig);
  }));

test("a 2xx from a second branch that crossed our CANCEL still goes upstream after the first 2xx was ACKed", async () => {
  const h = await startTm({ t1: 200, t2: 800, t4: 50 });
  const uac = await SipPeer.open();
  const uas1 = await SipPeer.open();
  const uas2 = await SipPeer.open();
  try {
    let acked = false;
    h.route = (msg, src) => {
      if (msg.method === "ACK") {
        acked = true;
        return;
      }
      const r = h.tm.create(msg, src);
      assert.ok(r.ok);
      h.relayTo(r, uas1);
      h.relayTo(r, uas2);
    };
    uac.send(sipText(request("INVITE", { uacHostport: uac.hostport, branch: uac.branch(), callId: "c-fork2xx" })), h.port);
    const inv1 = await uas1.expect((m) => m.method === "INVITE");
    const inv2 = await uas2.expect((m) => m.method === "INVITE");
    uas2.send(answer(inv2.msg, 180, "Ringing", "u2"), h.port);
    await uac.expect(isResponse(180));
    uas1.send(answer(inv1.msg, 200, "OK", "u1"), h.port);
    await uac.expect((m) => m.status === 200 && m.to.tag === "u1");
    uac.send(
      sipText(request("ACK", { uacHostport: uac.hostport, branch: uac.branch(), callId: "c-fork2xx", toTag: "u1" })),
      h.port,
    );
    await uas2.expect((m) => m.method === "CANCEL");
    await waitFor(() => acked); // without the pending-branch check the ACK would have ended the transaction here
    uas2.send(answer(inv2.msg, 200, "OK", "u2"), h.port); // crossed the CANCEL
    const second = await uac.expect((m) => m.status === 200 && m.to.tag === "u2");
    assert.equal(second.msg.to.tag, "u2", "every 2xx goes upstream (RFC 3261 §16.7 step 10)");
  } finally {
    uac.close();
    uas1.close();
    uas2.close();
    h.close();
  }
});

test("after its 2xx's ACK the INVITE transaction is gone at once, and a late retransmission of the INVITE is still absorbed for T4", () =>
  withTm({ t1: 200, t2: 800, t4: 5000 }, async (h, uac) => {
    let invites = 0;
    let acks = 0;
    h.route = (msg, src) => {
      if (msg.method === "ACK") {
        acks++;
        return;
      }
      invites++;
      const r = h.tm.create(msg, src);
      assert.ok(r.ok);
      h.tm.reply(r, 200, "OK");
    };
    const invite = sipText(request("INVITE", { uacHostport: uac.hostport, branch: uac.branch(), callId: "c-tomb" }));
    uac.send(invite, h.port);
    const ok = await uac.expect(isResponse(200));
    uac.send(
      sipText(request("ACK", { uacHostport: uac.hostport, branch: uac.branch(), callId: "c-tomb", toTag: ok.msg.to.tag })),
      h.port,
    );
    await waitFor(() => acks === 1 && h.tm.stats.serverTransactions === 0);
    uac.send(invite, h.port); // a copy that was still in the network
    await waitFor(() => h.tm.stats.retransmissionsAbsorbed === 1);
    assert.equal(invites, 1, "the late copy did not start a second call");
  }));
