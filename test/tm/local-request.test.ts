// Local requests (TransactionLayer.request, Kamailio's t_request_within): a client transaction with
// no server transaction above it, retransmitted over UDP on Timer E until answered, its final
// handed to the callback once, a local 408 when nothing answers, and refused for INVITE/ACK/CANCEL.
import { test } from "node:test";
import assert from "node:assert/strict";
import { answer, startTm } from "../support/tm-harness.js";
import { isRequest, SipPeer, sipText } from "../support/sip-peer.js";
import { AsyncQueue } from "../support/async-queue.js";

function options(tmPort: number, peer: SipPeer, branch: string): Buffer {
  return Buffer.from(
    sipText([
      `OPTIONS sip:bob@${peer.hostport} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${tmPort};branch=${branch}`,
      "Max-Forwards: 70",
      "From: <sip:alice@example.com>;tag=a1",
      "To: <sip:bob@example.com>;tag=b1",
      "Call-ID: local-1",
      "CSeq: 2 OPTIONS",
    ]),
  );
}

test("a local OPTIONS is retransmitted until answered, and its final reaches the callback once", async () => {
  const h = await startTm({ t1: 20, t2: 40 });
  const peer = await SipPeer.open();
  const outcomes = new AsyncQueue<number>();
  try {
    const r = h.tm.request(
      "OPTIONS",
      { proto: "udp", addr: "127.0.0.1", port: peer.port },
      (b) => options(h.port, peer, b),
      (status) => outcomes.push(status),
    );
    assert.equal(r.ok, true);
    const first = (await peer.expect(isRequest("OPTIONS"))).msg;
    await peer.expect(isRequest("OPTIONS")); // Timer E: the same request again
    assert.ok(first.topVia.branch?.startsWith("z9hG4bK"));
    const ok = answer(first, 200, "OK");
    peer.send(ok, h.port);
    peer.send(ok, h.port); // a retransmitted final is absorbed, not reported twice
    assert.equal(await outcomes.next(), 200);
    assert.equal(h.tm.stats.localRequests, 1);
    assert.equal(h.unmatched.length, 0);
    assert.equal(outcomes.size, 0);
  } finally {
    peer.close();
    h.close();
  }
});

test("a local request nobody answers ends with a local 408; INVITE, ACK and CANCEL are refused", async () => {
  const h = await startTm({ t1: 5, frTimer: 100 });
  const peer = await SipPeer.open();
  const outcomes = new AsyncQueue<[number, unknown]>();
  try {
    const dest = { proto: "udp" as const, addr: "127.0.0.1", port: peer.port };
    h.tm.request(
      "OPTIONS",
      dest,
      (b) => options(h.port, peer, b),
      (status, res) => outcomes.push([status, res]),
    );
    assert.deepEqual(await outcomes.next(), [408, undefined]);
    assert.equal(h.tm.stats.timeouts, 1);
    for (const m of ["INVITE", "ACK", "CANCEL"]) {
      const r = h.tm.request(
        m,
        dest,
        (b) => options(h.port, peer, b),
        () => assert.fail("never called"),
      );
      assert.equal(r.ok, false, m);
    }
  } finally {
    peer.close();
    h.close();
  }
});
