// The proxy path end to end over UDP (UAC peer → tm → UAS peer): 100 Trying (after trying100Delay), 180 and 200
// forwarded with our Via removed, client retransmissions on Timer A/E and the 408 on timeout,
// 486 ACKed hop by hop then serial forking from the failure hook, CANCEL before the answer.
import { test } from "node:test";
import assert from "node:assert/strict";
import { isRequest, isResponse, SipPeer, sipText } from "../support/sip-peer.js";
import { answer, request, startTm } from "../support/tm-harness.js";
import { waitFor } from "../support/wait-for.js";
import { captureLogger } from "../support/transport-harness.js";
import type { ServerTransaction, TmFailure } from "../../src/tm/index.js";

test("INVITE relay: 100 Trying upstream, 180 and 200 forwarded without our Via", async () => {
  const h = await startTm({ t1: 50 });
  const [uac, uas] = await Promise.all([SipPeer.open(), SipPeer.open()]);
  try {
    h.relayAllTo(uas);
    uac.send(sipText(request("INVITE", { uacHostport: uac.hostport, branch: uac.branch(), callId: "r-ok" })), h.port);
    await uac.expect(isResponse(100));
    const inv = await uas.expect(isRequest("INVITE"));
    assert.equal(inv.msg.vias.length, 2);
    assert.equal(inv.msg.topVia.port, h.port);
    uas.send(answer(inv.msg, 180, "Ringing"), h.port);
    const ringing = await uac.expect(isResponse(180));
    assert.equal(ringing.msg.vias.length, 1);
    uas.send(answer(inv.msg, 200, "OK"), h.port);
    const ok = await uac.expect(isResponse(200));
    assert.equal(ok.msg.vias.length, 1);
    assert.equal(ok.msg.topVia.host, "127.0.0.1");
    assert.equal(ok.msg.topVia.port, uac.port);
    // A 2xx retransmission from the UAS still goes upstream (RFC 6026).
    uas.send(answer(inv.msg, 200, "OK"), h.port);
    await uac.expect(isResponse(200));
  } finally {
    uac.close();
    uas.close();
    h.close();
  }
});

test("client transaction retransmits on Timer E and times out into a 408 failure", async () => {
  // Copies are due at 20, 60, 140, 220… ms; Timer F at 1 s leaves the 4th room for a loaded machine.
  const h = await startTm({ t1: 20, t2: 80, frTimer: 1000 });
  const [uac, uas] = await Promise.all([SipPeer.open(), SipPeer.open()]);
  try {
    const failures: TmFailure[] = [];
    h.callbacks.onFailure = (_st, f) => {
      failures.push(f);
    };
    h.relayAllTo(uas);
    uac.send(sipText(request("OPTIONS", { uacHostport: uac.hostport, branch: uac.branch(), callId: "r-to" })), h.port);
    const timeout = await uac.expect(isResponse(408), 5000);
    assert.ok(timeout.msg.to.tag !== undefined);
    assert.ok(uas.count(isRequest("OPTIONS")) >= 4, "retransmitted on Timer E");
    assert.equal(failures.length, 1);
    assert.equal(failures[0]?.cause, "timeout");
    assert.equal(failures[0]?.status, 408);
    assert.equal(h.tm.stats.timeouts, 1);
  } finally {
    uac.close();
    uas.close();
    h.close();
  }
});

test("INVITE retransmits on Timer A until a provisional", async () => {
  const h = await startTm({ t1: 20, frTimer: 2000 });
  const [uac, uas] = await Promise.all([SipPeer.open(), SipPeer.open()]);
  try {
    h.relayAllTo(uas);
    uac.send(sipText(request("INVITE", { uacHostport: uac.hostport, branch: uac.branch(), callId: "r-a" })), h.port);
    const inv = await uas.expect(isRequest("INVITE"));
    await uas.expect(isRequest("INVITE"));
    await uas.expect(isRequest("INVITE"));
    uas.send(answer(inv.msg, 180, "Ringing"), h.port);
    await uac.expect(isResponse(180));
    uas.send(answer(inv.msg, 486, "Busy Here"), h.port);
    await uac.expect(isResponse(486));
    await uas.expect(isRequest("ACK"));
  } finally {
    uac.close();
    uas.close();
    h.close();
  }
});

test("486 is ACKed hop by hop, the failure hook relays to a second UAS whose 200 goes up", async () => {
  const h = await startTm({ t1: 50 });
  const [uac, uas1, uas2] = await Promise.all([SipPeer.open(), SipPeer.open(), SipPeer.open()]);
  try {
    const failures: number[] = [];
    h.callbacks.onFailure = (st, f) => {
      failures.push(f.status);
      h.relayTo(st, uas2);
    };
    h.route = (msg, src) => {
      const st = h.tm.create(msg, src);
      assert.ok(st.ok);
      h.relayTo(st, uas1);
    };
    uac.send(sipText(request("INVITE", { uacHostport: uac.hostport, branch: uac.branch(), callId: "r-fork" })), h.port);
    const inv1 = await uas1.expect(isRequest("INVITE"));
    uas1.send(answer(inv1.msg, 486, "Busy Here"), h.port);
    const ack = await uas1.expect(isRequest("ACK"));
    assert.equal(ack.msg.topVia.branch, inv1.msg.topVia.branch);
    assert.equal(ack.msg.to.tag, "b1");
    const inv2 = await uas2.expect(isRequest("INVITE"));
    assert.notEqual(inv2.msg.topVia.branch, inv1.msg.topVia.branch);
    // A retransmitted 486 is ACKed again, never forwarded.
    uas1.send(answer(inv1.msg, 486, "Busy Here"), h.port);
    await uas1.expect(isRequest("ACK"));
    uas2.send(answer(inv2.msg, 200, "OK", "b2"), h.port);
    const ok = await uac.expect(isResponse(200));
    assert.equal(ok.msg.to.tag, "b2");
    assert.deepEqual(failures, [486]);
    assert.equal(uac.count(isResponse(486)), 0);
  } finally {
    uac.close();
    uas1.close();
    uas2.close();
    h.close();
  }
});

test("failure hook that does nothing: the 486 goes upstream", async () => {
  const h = await startTm({ t1: 50 });
  const [uac, uas] = await Promise.all([SipPeer.open(), SipPeer.open()]);
  try {
    h.callbacks.onFailure = async () => {
      await Promise.resolve();
    };
    let st: ServerTransaction | undefined;
    h.route = (msg, src) => {
      const r = h.tm.create(msg, src);
      assert.ok(r.ok);
      st = r;
      h.relayTo(r, uas);
    };
    const branch = uac.branch();
    uac.send(sipText(request("INVITE", { uacHostport: uac.hostport, branch, callId: "r-486" })), h.port);
    const inv = await uas.expect(isRequest("INVITE"));
    uas.send(answer(inv.msg, 486, "Busy Here"), h.port);
    const busy = await uac.expect(isResponse(486));
    assert.equal(busy.msg.vias.length, 1);
    uac.send(sipText(request("ACK", { uacHostport: uac.hostport, branch, callId: "r-486", toTag: "b1" })), h.port);
    await waitFor(() => st?.state === "confirmed");
  } finally {
    uac.close();
    uas.close();
    h.close();
  }
});

test("CANCEL before the answer: 200 to the CANCEL, CANCEL downstream, 487 upstream", async () => {
  const h = await startTm({ t1: 50 });
  const [uac, uas] = await Promise.all([SipPeer.open(), SipPeer.open()]);
  try {
    let cancelled = 0;
    h.callbacks.onCancel = () => {
      cancelled++;
    };
    const routed: string[] = [];
    h.route = (msg, src) => {
      routed.push(msg.method);
      const st = h.tm.create(msg, src);
      assert.ok(st.ok);
      h.relayTo(st, uas);
    };
    const branch = uac.branch();
    uac.send(sipText(request("INVITE", { uacHostport: uac.hostport, branch, callId: "r-cancel" })), h.port);
    const inv = await uas.expect(isRequest("INVITE"));
    uas.send(answer(inv.msg, 180, "Ringing"), h.port);
    await uac.expect(isResponse(180));
    uac.send(sipText(request("CANCEL", { uacHostport: uac.hostport, branch, callId: "r-cancel" })), h.port);
    await uac.expect(isResponse(200, "CANCEL"));
    const cancel = await uas.expect(isRequest("CANCEL"));
    assert.equal(cancel.msg.topVia.branch, inv.msg.topVia.branch);
    uas.send(answer(cancel.msg, 200, "OK"), h.port);
    uas.send(answer(inv.msg, 487, "Request Terminated"), h.port);
    await uas.expect(isRequest("ACK"));
    const terminated = await uac.expect(isResponse(487));
    assert.equal(terminated.msg.cseq.method, "INVITE");
    assert.deepEqual(routed, ["INVITE"]);
    assert.equal(cancelled, 1);
    assert.equal(h.tm.stats.cancelled, 1);
  } finally {
    uac.close();
    uas.close();
    h.close();
  }
});

test("a request relayed again by a new transaction layer (a restarted router) leaves with the same branch", async () => {
  const [uac, uas] = await Promise.all([SipPeer.open(), SipPeer.open()]);
  const bye = sipText(request("BYE", { uacHostport: uac.hostport, branch: uac.branch(), callId: "r-restart" }));
  const branches: string[] = [];
  try {
    for (const _process of [1, 2]) {
      const h = await startTm({ t1: 50 });
      try {
        h.route = (msg, src) => {
          const st = h.tm.create(msg, src);
          assert.ok(st.ok);
          h.relayTo(st, uas);
        };
        uac.send(bye, h.port); // the UAC's retransmission reaches the second one
        branches.push((await uas.expect(isRequest("BYE"))).msg.topVia.branch ?? "");
      } finally {
        h.close();
      }
    }
    assert.match(branches[0] ?? "", /^z9hG4bK[0-9a-f]{16}\.0$/);
    assert.equal(branches[1], branches[0], "the next hop sees a retransmission, not a new transaction");
  } finally {
    uac.close();
    uas.close();
  }
});

test("a CANCEL relayed by a new transaction layer (the INVITE's died with a restart) leaves on the INVITE's branch", async () => {
  const [uac, uas] = await Promise.all([SipPeer.open(), SipPeer.open()]);
  const branch = uac.branch();
  const ids = { uacHostport: uac.hostport, branch, callId: "r-restart-cancel" };
  try {
    const first = await startTm({ t1: 50 });
    try {
      first.route = (msg, src) => {
        const st = first.tm.create(msg, src);
        assert.ok(st.ok);
        first.relayTo(st, uas);
      };
      uac.send(sipText(request("INVITE", ids)), first.port);
      await uas.expect(isRequest("INVITE"));
    } finally {
      first.close();
    }
    const second = await startTm({ t1: 50 });
    try {
      second.route = (msg, src) => {
        const st = second.tm.create(msg, src);
        assert.ok(st.ok, "no INVITE transaction here: the CANCEL is routed like any request");
        second.relayTo(st, uas);
      };
      uac.send(sipText(request("CANCEL", ids)), second.port);
      const cancel = (await uas.expect(isRequest("CANCEL"))).msg;
      const invite = uas.received.find((r) => isRequest("INVITE")(r.msg))?.msg;
      assert.equal(cancel.topVia.branch, invite?.topVia.branch, "the callee can match it to the INVITE it is ringing for");
    } finally {
      second.close();
    }
  } finally {
    uac.close();
    uas.close();
  }
});

test("a branch waiting only for late copies of its final is a tombstone: copies absorbed, except an INVITE 2xx, which goes on statelessly", async () => {
  const h = await startTm({ t1: 50 });
  const [uac, uas] = await Promise.all([SipPeer.open(), SipPeer.open()]);
  const okFor = (method: string) => (m: Parameters<ReturnType<typeof isResponse>>[0]) =>
    isResponse(200)(m) && m.cseq.method === method;
  try {
    h.route = (msg, src) => {
      if (msg.method === "ACK") return; // end to end: tm has seen it first
      const st = h.tm.create(msg, src);
      assert.ok(st.ok);
      h.relayTo(st, uas);
    };
    const callId = "r-tomb";
    uac.send(sipText(request("INVITE", { uacHostport: uac.hostport, branch: uac.branch(), callId })), h.port);
    const inv = await uas.expect(isRequest("INVITE"));
    uas.send(answer(inv.msg, 200, "OK"), h.port);
    await uac.expect(okFor("INVITE"));
    uac.send(sipText(request("ACK", { uacHostport: uac.hostport, branch: uac.branch(), callId, toTag: "b1" })), h.port);
    await waitFor(() => h.tm.stats.clientTransactions === 0); // the INVITE branch ended at its ACK
    // A 2xx after the ACK (a re-send after a lost ACK, or another fork's) is not absorbed: tm leaves
    // it unmatched, and core forwards unmatched responses statelessly (RFC 6026: every 2xx goes up).
    uas.send(answer(inv.msg, 200, "OK", "fork2"), h.port);
    await waitFor(() => h.tm.stats.responsesUnmatched === 1);

    uac.send(sipText(request("BYE", { uacHostport: uac.hostport, branch: uac.branch(), callId, cseq: 2, toTag: "b1" })), h.port);
    const bye = await uas.expect(isRequest("BYE"));
    uas.send(answer(bye.msg, 200, "OK"), h.port);
    await uac.expect(okFor("BYE"));
    assert.equal(h.tm.stats.clientTransactions, 0, "the BYE branch ended at its final, not T4 later");
    uas.send(answer(bye.msg, 200, "OK"), h.port); // a retransmitted final

    // Barrier: an OPTIONS relayed after the copies; its 200 comes after anything they could cause.
    uac.send(sipText(request("OPTIONS", { uacHostport: uac.hostport, branch: uac.branch(), callId: "r-tomb-2" })), h.port);
    const opt = await uas.expect(isRequest("OPTIONS"));
    uas.send(answer(opt.msg, 200, "OK"), h.port);
    await uac.expect(okFor("OPTIONS"));
    assert.equal(uac.count(okFor("BYE")), 1, "the BYE's late final was absorbed");
    assert.equal(h.tm.stats.responsesUnmatched, 1, "only the INVITE 2xx went past the tombstones");
  } finally {
    uac.close();
    uas.close();
    h.close();
  }
});

test("a reply hook that throws and a failure hook that rejects: each counted and logged under ERR_TM_OBSERVER_THREW, the responses go upstream as if they had not run", async () => {
  const log = captureLogger();
  const h = await startTm({ t1: 50, logger: log.logger });
  const [uac, uas] = await Promise.all([SipPeer.open(), SipPeer.open()]);
  try {
    h.callbacks.onReply = () => {
      throw new Error("planted reply hook bug");
    };
    h.callbacks.onFailure = () => Promise.reject(new Error("planted failure hook bug"));
    h.relayAllTo(uas);
    uac.send(sipText(request("INVITE", { uacHostport: uac.hostport, branch: uac.branch(), callId: "r-hook-ok" })), h.port);
    const inv = await uas.expect(isRequest("INVITE"));
    uas.send(answer(inv.msg, 180, "Ringing"), h.port);
    await uac.expect(isResponse(180));
    uas.send(answer(inv.msg, 200, "OK"), h.port);
    await uac.expect(isResponse(200));
    uac.send(sipText(request("INVITE", { uacHostport: uac.hostport, branch: uac.branch(), callId: "r-hook-busy" })), h.port);
    const inv2 = await uas.expect((m) => isRequest("INVITE")(m) && m.callId === "r-hook-busy");
    uas.send(answer(inv2.msg, 486, "Busy Here"), h.port);
    const busy = await uac.expect(isResponse(486));
    assert.equal(busy.msg.vias.length, 1);
    // 180, 200 and 486 each ran the reply hook; the 486 ran the failure hook too.
    assert.equal(h.tm.stats.errors.get("ERR_TM_OBSERVER_THREW"), 4);
    const lines = await log.withCode("ERR_TM_OBSERVER_THREW", 4);
    assert.deepEqual(lines.map((l) => l.hook).sort(), ["onFailure hook", "onReply hook", "onReply hook", "onReply hook"]);
  } finally {
    uac.close();
    uas.close();
    h.close();
  }
});
