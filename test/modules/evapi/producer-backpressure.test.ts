// Producer backpressure (issue: 200,000 events of 140 bytes relayed by one handler closed healthy,
// fast clients as slow). With `await ctx.evapi.drain()` between events a fast client gets every
// event and stays connected while a stalled one is closed and never holds the producer; without
// drain() the fast client is still not closed (the burst is dropped for it, counted); a stalled
// client alone does not keep drain() waiting.
import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeNetstring } from "evsip-client/netstring";
import { Collector, startEvapi, TestClient } from "../../support/evapi-harness.js";

const EVENTS = 200_000;
// 135 bytes of JSON: a 140-byte netstring frame.
const PAYLOAD = { event: "call.update", ci: "a84b4c76e66710@pc33.atlanta.example.com", pad: "" };
PAYLOAD.pad = "x".repeat(135 - JSON.stringify(PAYLOAD).length);
assert.equal(encodeNetstring(JSON.stringify(PAYLOAD)).length, 140);

test(
  `drain(): ${EVENTS} events of 140 bytes in one handler reach a fast client; a stalled one is closed, not waited for`,
  { timeout: 60_000 },
  async () => {
    const closed = new Collector<number>();
    const done = new Collector<number>();
    // The default grace (2 s): the stalled client never reads, so it is closed 2 s in. With a 100 ms
    // grace this test closed the fast client too when the suite kept both cores busy (see
    // steady-reader.test.ts for why the kernel shows a reader's progress only in steps).
    const h = await startEvapi(
      {},
      {
        "evapi:connection-closed": (ctx) => closed.push(ctx.evapi.conidx),
        async "evapi:message-received"(ctx) {
          let sent = 0;
          for (let i = 0; i < EVENTS; i++) {
            sent += ctx.evapi.relay(PAYLOAD);
            await ctx.evapi.drain();
          }
          done.push(sent);
        },
      },
    );
    try {
      const stalled = await TestClient.open(h.port, "127.0.0.1", false);
      stalled.socket.pause(); // never reads
      const fast = await TestClient.open(h.port, "127.0.0.1", false);
      await h.connections.wait(2);
      fast.send(encodeNetstring("go"));
      await fast.waitFrames(EVENTS, 50_000);
      await done.wait(1, 50_000);
      assert.equal(fast.frameCount, EVENTS, "every event reached the fast client");
      assert.equal(fast.closed, false);
      assert.deepEqual(await closed.wait(1), [0], "the stalled client was closed as slow");
      const s = h.mod.service.stats;
      assert.equal(s.closes.get("ERR_EVAPI_SLOW_CLIENT"), 1);
      assert.equal(s.drops.get("producer-burst") ?? 0, 0, "nothing was dropped for the fast client");
      stalled.destroy();
      fast.destroy();
    } finally {
      await h.stop();
    }
  },
);

test(
  `no drain(): ${EVENTS} events in one synchronous turn do not close a fast client; the overflow is counted`,
  { timeout: 60_000 },
  async () => {
    const h = await startEvapi({});
    try {
      const fast = await TestClient.open(h.port, "127.0.0.1", false);
      await h.connections.wait(1);
      const ev = h.ctx("event").evapi;
      let queued = 0;
      for (let i = 0; i < EVENTS; i++) queued += ev.relay(PAYLOAD);
      const s = h.mod.service.stats;
      const dropped = s.drops.get("producer-burst") ?? 0;
      assert.ok(dropped > 0, "the burst did not fit the queue");
      assert.equal(queued + dropped, EVENTS);
      assert.equal(s.errors.get("ERR_EVAPI_PRODUCER_BURST"), 1, "one warning per burst");
      assert.equal(s.closes.get("ERR_EVAPI_SLOW_CLIENT") ?? 0, 0);
      await fast.waitFrames(queued, 30_000);
      // Still connected and served: the next event (after the queue drained) arrives.
      await ev.drain();
      assert.equal(ev.relay(PAYLOAD), 1);
      await fast.waitFrames(queued + 1);
      assert.equal(fast.closed, false);
      fast.destroy();
    } finally {
      await h.stop();
    }
  },
);

test(
  "drain(): resolves at once with room, and a stalled client alone does not keep it waiting",
  { timeout: 30_000 },
  async () => {
    const max = 64 * 1024;
    const h = await startEvapi({ maxQueueBytes: max, slowClientGrace: 50, slowClient: "drop" });
    try {
      const stalled = await TestClient.open(h.port, "127.0.0.1", false);
      stalled.socket.pause();
      await h.connections.wait(1);
      const ev = h.ctx("event").evapi;
      await ev.drain(); // nothing queued: at once
      // Small batches, each followed by drain(), until drain() returns while the client is past the
      // mark: the kernel's buffers are full, the client takes nothing, and drain() stopped waiting for it.
      let rounds = 0;
      while ((ev.clients()[0]?.queuedBytes ?? 0) <= max / 2) {
        assert.ok(++rounds < 100_000, "the stalled client never filled up");
        for (let i = 0; i < 100; i++) ev.relay(PAYLOAD);
        await ev.drain();
      }
      assert.equal(stalled.closed, false, 'slowClient "drop" keeps it');
      assert.equal(h.mod.service.stats.closes.size, 0);
      stalled.destroy();
    } finally {
      await h.stop();
    }
  },
);
