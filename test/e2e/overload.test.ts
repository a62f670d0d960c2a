// Overload degrades, it does not collapse: a route that can do ~500 requests/s gets 2,000 new
// INVITEs at once plus in-dialog requests. Once the UDP listener has been falling behind for
// admission.shedAfter, or falls behind with a kernel queue that takes more than admission.shedQueue
// ms to read (Linux), new INVITEs get a cheap 503 + Retry-After; in-dialog requests are never shed;
// every request gets an answer.
import { test } from "node:test";
import { existsSync } from "node:fs";
import assert from "node:assert/strict";
import { defineApp } from "../../src/app.js";
import { startRouter } from "../support/router.js";
import { SipPeer, sipText } from "../support/sip-peer.js";

const BURST = 2000;
const IN_DIALOG = 100;

function request(peer: SipPeer, method: string, callId: string, toTag = ""): string {
  return sipText([
    `${method} sip:bob@127.0.0.1 SIP/2.0`,
    `Via: SIP/2.0/UDP ${peer.hostport};branch=${peer.branch()}`,
    "Max-Forwards: 70",
    `From: <sip:alice@127.0.0.1>;tag=f-${callId}`,
    `To: <sip:bob@127.0.0.1>${toTag ? `;tag=${toTag}` : ""}`,
    `Call-ID: ${callId}`,
    `CSeq: 1 ${method}`,
  ]);
}

async function burstIsShed(admission: { shedAfter: number; shedQueue: number }): Promise<void> {
  const r = await startRouter(
    defineApp({
      admission: { ...admission, retryAfter: 3 },
      request(ctx) {
        const until = Date.now() + 2; // a slow route: ~500 requests/s
        while (Date.now() < until);
        ctx.sl.sendReply(ctx.hasToTag() ? 202 : 200, "OK");
      },
    }),
    ["udp:127.0.0.1:0"],
  );
  const peer = await SipPeer.open();
  try {
    for (let i = 0; i < BURST; i++) {
      peer.send(request(peer, "INVITE", `ov-${i}`), r.udpPort);
      if (i % (BURST / IN_DIALOG) === 0) peer.send(request(peer, "OPTIONS", `ov-dlg-${i}`, "dlg"), r.udpPort);
    }
    const finals = new Map<string, number>();
    const retryAfter = new Set<string | undefined>();
    while (finals.size < BURST + IN_DIALOG) {
      const got = await peer.expect((m) => !m.isRequest && m.status >= 200 && !finals.has(m.callId), 20_000);
      finals.set(got.msg.callId, got.msg.status);
      if (got.msg.status === 503) retryAfter.add(got.msg.header("Retry-After"));
    }
    const statuses = [...finals.entries()];
    const shed = statuses.filter(([, s]) => s === 503).length;
    const served = statuses.filter(([id, s]) => !id.startsWith("ov-dlg") && s === 200).length;
    assert.ok(shed > 0, "some new INVITEs were shed");
    assert.ok(served > 0, "and some were served");
    assert.equal(shed + served, BURST, "every INVITE got an answer");
    assert.ok(
      statuses.filter(([id]) => id.startsWith("ov-dlg")).every(([, s]) => s === 202),
      "in-dialog requests are never shed",
    );
    assert.deepEqual([...retryAfter], ["3"]);
    assert.equal(r.internals.engine.admission.stats.refused.get("overload"), shed, "counted by reason");
  } finally {
    peer.close();
    await r.stop();
  }
}

test("past shedAfter of listener backlog, new INVITEs get 503 + Retry-After; in-dialog requests still get through; all are answered", () =>
  burstIsShed({ shedAfter: 50, shedQueue: 0 }));

test(
  "with a kernel queue longer than shedQueue ms to read, new INVITEs are shed at once (shedAfter far off); all are answered",
  { skip: !existsSync("/proc/net/udp") },
  () => burstIsShed({ shedAfter: 60_000, shedQueue: 100 }),
);

test("a short burst that a fast route catches up on is served, not shed (behind, but the queue is short)", async () => {
  const r = await startRouter(
    defineApp({
      admission: { shedAfter: 60_000, shedQueue: 100 },
      request(ctx) {
        ctx.sl.sendReply(200, "OK");
      },
    }),
    ["udp:127.0.0.1:0"],
  );
  const peer = await SipPeer.open();
  try {
    // Three full read turns (32 datagrams each): the listener is behind for a moment. Not more: the
    // backlog's rate is learnt from its first turns, and a pause then (a GC on a loaded machine)
    // makes a longer queue look over shedQueue.
    const n = 96;
    for (let i = 0; i < n; i++) peer.send(request(peer, "INVITE", `short-${i}`), r.udpPort);
    const finals = new Map<string, number>();
    while (finals.size < n) {
      const got = await peer.expect((m) => !m.isRequest && m.status >= 200 && !finals.has(m.callId), 20_000);
      finals.set(got.msg.callId, got.msg.status);
    }
    assert.deepEqual([...new Set(finals.values())], [200], "every INVITE served");
    assert.equal(r.internals.engine.admission.stats.refused.get("overload") ?? 0, 0);
  } finally {
    peer.close();
    await r.stop();
  }
});
