// ctx.lock through the whole router, with the app's `locks` params: one caller's INVITEs queue on
// its lock; past locks.maxWaiters the next is refused at once, a waiter whose holder never lets go
// gives up after locks.waitTimeout, each refusal answered 500 (a route error) and counted, and the
// holder still completes its call: a refused run's `finally { unlock }` does not release its lock.
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineApp } from "../../src/app.js";
import { startRouter } from "../support/router.js";
import { SipPeer, sipText } from "../support/sip-peer.js";
import { Collector, deferred } from "../support/evapi-harness.js";

function invite(peer: SipPeer, callId: string): string {
  return sipText([
    "INVITE sip:bob@127.0.0.1 SIP/2.0",
    `Via: SIP/2.0/UDP ${peer.hostport};branch=${peer.branch()}`,
    "Max-Forwards: 70",
    `From: <sip:alice@127.0.0.1>;tag=f${callId}`,
    "To: <sip:bob@127.0.0.1>",
    `Call-ID: ${callId}`,
    "CSeq: 1 INVITE",
  ]);
}

test("locks.maxWaiters refuses at once (ERR_LOCK_BUSY), locks.waitTimeout gives up (ERR_LOCK_TIMEOUT); both 500 and counted", async () => {
  const inside = new Collector<string>();
  const refused = new Collector<string>();
  const release = deferred();
  const app = defineApp({
    locks: { waitTimeout: 200, maxWaiters: 1 },
    async request(ctx) {
      if (ctx.isMethod("ACK")) return;
      const callId = String(ctx.pv("$ci"));
      const caller = String(ctx.pv("$fU"));
      // The usual shape, unlock in `finally`: a refused run's unlock must not release the holder's lock.
      try {
        await ctx.lock(caller);
        inside.push(callId);
        await ctx.tm.hold(release.promise); // the holder's slow work: the others wait on the caller's lock
        ctx.tm.reply(200, "OK");
      } catch (err) {
        refused.push(`${callId}: ${(err as { code?: string }).code}`);
        throw err;
      } finally {
        ctx.unlock(caller);
      }
    },
  });
  const r = await startRouter(app, ["udp:127.0.0.1:0"]);
  const peer = await SipPeer.open();
  try {
    peer.send(invite(peer, "holder"), r.udpPort);
    assert.deepEqual(await inside.wait(1), ["holder"]);
    peer.send(invite(peer, "waiter"), r.udpPort);
    peer.send(invite(peer, "third"), r.udpPort);
    const busy = await peer.expect((m) => m.callId === "third" && m.status === 500);
    assert.ok(busy, "the third is refused at once: one waiter already");
    const timedOut = await peer.expect((m) => m.callId === "waiter" && m.status === 500);
    assert.ok(timedOut);
    assert.deepEqual(await refused.wait(2), ["third: ERR_LOCK_BUSY", "waiter: ERR_LOCK_TIMEOUT"]);
    const stats = r.internals.engine.locks.stats.refused;
    assert.equal(stats.get("busy"), 1);
    assert.equal(stats.get("timeout"), 1);
    release.resolve();
    await peer.expect((m) => m.callId === "holder" && m.status === 200);
    assert.equal(r.internals.engine.locks.isLocked("alice"), false, "released, and nobody left waiting");
    assert.deepEqual(inside.items, ["holder"], "neither refused call ran its critical section");
  } finally {
    release.resolve();
    peer.close();
    await r.stop();
  }
});

test("locks params are checked: a negative waitTimeout or a maxWaiters of 0 is refused at start", async () => {
  for (const locks of [{ waitTimeout: -1 }, { maxWaiters: 0 }]) {
    await assert.rejects(startRouter(defineApp({ locks, request() {} })), { code: "ERR_CONFIG_INVALID" });
  }
});
