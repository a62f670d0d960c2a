// A client that never reads while 100 000 events go to it and 7 readers: the readers receive every
// event, the slow client's queue never passes maxQueueBytes, and it is closed ("close") or
// loses events ("drop"), counted. Events are relayed in batches, one batch per loop turn.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Collector, startEvapi, TestClient } from "../../support/evapi-harness.js";
import { captureLogger } from "../../support/transport-harness.js";

const EVENTS = 100_000;
const BATCH = 2_000;
const MAX_QUEUE = 1024 * 1024;
const PAYLOAD = { event: "call-update", ci: "a84b4c76e66710@pc33.atlanta.example.com", pad: "x".repeat(120) };

for (const policy of ["close", "drop"] as const) {
  test(`slowClient "${policy}": 7 readers get all ${EVENTS} events, the non-reader is bounded`, { timeout: 20_000 }, async () => {
    const closed = new Collector<number>();
    const log = captureLogger();
    const h = await startEvapi(
      // A short grace: the whole stream takes under 2 s, the default grace, and the non-reader is
      // found out only while events overflow its queue.
      { slowClient: policy, maxQueueBytes: MAX_QUEUE, slowClientGrace: 100 },
      { "evapi:connection-closed": (ctx) => closed.push(ctx.evapi.conidx) },
      log.logger,
    );
    try {
      const slow = await TestClient.open(h.port, "127.0.0.1", false);
      slow.socket.pause(); // never reads: the kernel buffers fill, then evsip's queue
      await h.connections.wait(1);
      const readers: TestClient[] = [];
      for (let i = 0; i < 7; i++) readers.push(await TestClient.open(h.port, "127.0.0.1", false));
      await h.connections.wait(8);
      const ev = h.ctx("event").evapi;
      let maxSlowQueue = 0;
      for (let sent = 0; sent < EVENTS; sent += BATCH) {
        for (let i = 0; i < BATCH; i++) ev.relay(PAYLOAD);
        const slowInfo = ev.clients().find((c) => c.conidx === 0);
        if (slowInfo) maxSlowQueue = Math.max(maxSlowQueue, slowInfo.queuedBytes);
        // The readers live in this process: they read the batch before the next one is produced.
        await Promise.all(readers.map((r) => r.until(() => r.frameCount >= sent + BATCH, 10_000)));
      }
      await Promise.all(readers.map((r) => r.waitFrames(EVENTS, 15_000)));
      for (const r of readers) assert.equal(r.frameCount, EVENTS);
      assert.ok(maxSlowQueue <= MAX_QUEUE, `slow queue ${maxSlowQueue} > ${MAX_QUEUE}`);
      const s = h.mod.service.stats;
      if (policy === "close") {
        assert.deepEqual(await closed.wait(1), [0]);
        assert.equal(s.errors.get("ERR_EVAPI_SLOW_CLIENT"), 1);
        assert.equal(s.closes.get("ERR_EVAPI_SLOW_CLIENT"), 1);
        // Every event still in its queue is counted, not the close: what the close line logged.
        const line = log.lines.find((l) => l.msg === "evapi client closed");
        const unsent = line?.unsent as number;
        assert.ok(unsent > 1, `events were left in its queue (${String(unsent)})`);
        assert.equal(s.drops.get("closed"), unsent, "drops{closed} counts the events its queue held");
      } else {
        const drops = s.drops.get("slow-client") ?? 0;
        assert.ok(drops > 0, "events were dropped for the slow client");
        assert.equal(s.eventsQueued, EVENTS * 7 + (EVENTS - drops));
        assert.equal(closed.items.length, 0);
        assert.equal(slow.closed, false);
      }
      slow.destroy();
      for (const r of readers) r.destroy();
    } finally {
      await h.stop();
    }
  });
}

test(
  'slowClient "close": a lone client that stops reading is closed even when nothing else is queued',
  { timeout: 20_000 },
  async () => {
    const closed = new Collector<number>();
    const h = await startEvapi(
      { slowClient: "close", maxQueueBytes: 64 * 1024, slowClientGrace: 50 },
      { "evapi:connection-closed": (ctx) => closed.push(ctx.evapi.conidx) },
    );
    try {
      const hung = await TestClient.open(h.port, "127.0.0.1", false);
      hung.socket.pause();
      await h.connections.wait(1);
      const ev = h.ctx("event").evapi;
      // One burst past the queue's bound, then one event per loop turn: only the overflowing events
      // themselves can move the stall clock, since none of them is queued any more.
      for (let i = 0; i < 20_000; i++) ev.relay(PAYLOAD);
      const deadline = Date.now() + 10_000;
      while (closed.items.length === 0 && Date.now() < deadline) {
        ev.relay(PAYLOAD);
        await new Promise<void>((r) => setImmediate(r));
      }
      assert.deepEqual(closed.items, [0], "closed as slow");
      assert.equal(h.mod.service.stats.closes.get("ERR_EVAPI_SLOW_CLIENT"), 1);
      hung.destroy();
    } finally {
      await h.stop();
    }
  },
);
