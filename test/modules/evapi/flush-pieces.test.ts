// A flush hands Node at most one piece (64 KB) beyond what it already holds for a client, so that
// the stall rule, which sees progress only when a whole write is taken, sees it piece by piece (see
// steady-reader.test.ts). What does not fit stays in evsip's queue and follows on `drain`: nothing
// is lost or reordered, and the queue bound still counts both; a client that half-closes still gets
// what was queued for it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { encodeNetstring } from "evsip-client/netstring";
import { Collector, startEvapi, TestClient, type Harness } from "../../support/evapi-harness.js";
import type { EvapiConnection } from "../../../src/modules/evapi/connection.js";
import { SERVER_TLS, TRUST } from "../../support/tls-fixtures.js";
import { captureLogger } from "../../support/transport-harness.js";

const PIECE = 64 * 1024;
const EVENTS = 25_000;
const eventOf = (seq: number): { event: string; seq: number; pad: string } => ({
  event: "call.update",
  seq,
  pad: "x".repeat(200),
});

/** A connected client that is not reading, and its connection after EVENTS events were queued and flushed. */
async function backlogged(h: Harness, open: () => Promise<TestClient>): Promise<{ client: TestClient; c: EvapiConnection }> {
  const client = await open();
  client.socket.pause();
  await h.connections.wait(1);
  const ev = h.ctx("event").evapi;
  for (let seq = 0; seq < EVENTS; seq++) ev.relay(eventOf(seq));
  // The flush runs at the end of this turn, before an immediate queued after it.
  await new Promise<void>((resolve) => setImmediate(resolve));
  const c = h.mod.service.table.all().next().value;
  assert.ok(c, "the client is connected");
  return { client, c };
}

/** The frames arrived whole, every one, in the order queued. */
function assertInOrder(client: TestClient): void {
  assert.equal(client.frames.length, EVENTS, "every queued event arrived");
  client.frames.forEach((f, i) => assert.equal((JSON.parse(f) as { seq: number }).seq, i));
}

for (const transport of ["tcp", "tls"] as const) {
  test(`${transport}: ${EVENTS} events queued in one turn to a client that is not reading: Node holds one piece, evsip the rest, and all arrive in order`, async () => {
    const h = await startEvapi({ maxQueueBytes: 16 * 1024 * 1024, ...(transport === "tls" ? { tls: SERVER_TLS } : {}) });
    try {
      const { client, c } = await backlogged(h, () =>
        transport === "tls" ? TestClient.openTls(h.port, TRUST) : TestClient.open(h.port),
      );
      const frameBytes = encodeNetstring(JSON.stringify(eventOf(EVENTS - 1))).length;
      assert.ok(c.socket.writableLength <= PIECE + frameBytes, `Node holds ${c.socket.writableLength} bytes, at most a piece`);
      assert.ok(c.queue.bytes > 0, "what the kernel could not take yet stayed in evsip's queue");
      client.socket.resume();
      await client.waitFrames(EVENTS, 20_000);
      assertInOrder(client);
      assert.equal(c.queue.bytes, 0);
      assert.equal(h.mod.service.stats.drops.size, 0, "nothing was dropped");
      client.destroy();
    } finally {
      await h.stop();
    }
  });
}

test("a client that half-closes (FIN, still reading) gets everything queued for it, then the connection closes", async () => {
  const closed = new Collector<number>();
  const h = await startEvapi(
    { maxQueueBytes: 16 * 1024 * 1024 },
    { "evapi:connection-closed": (ctx) => closed.push(ctx.evapi.conidx) },
  );
  try {
    const { client, c } = await backlogged(h, () => TestClient.open(h.port));
    assert.ok(c.queue.bytes > 0, "most of the stream still waits in evsip's queue");
    client.socket.end(); // our FIN: done sending, still reading
    client.socket.resume();
    assert.deepEqual(await closed.wait(1), [0], "connection-closed ran");
    await client.waitClosed(20_000);
    assertInOrder(client);
    const s = h.mod.service.stats;
    assert.equal(s.drops.get("closed") ?? 0, 0, "nothing queued was dropped");
    assert.equal(s.closes.get("peer"), 1);
    assert.equal(h.ctx("event").evapi.relay({ event: "after" }), 0, "nothing is queued for it after its FIN");
  } finally {
    await h.stop();
  }
});

test(
  "a client that half-closes and never reads is destroyed after its 10 s, and what it left unread is counted and logged",
  { timeout: 30_000 },
  async () => {
    const log = captureLogger();
    const h = await startEvapi({ maxQueueBytes: 16 * 1024 * 1024 }, {}, log.logger);
    try {
      const { client, c } = await backlogged(h, () => TestClient.open(h.port));
      client.socket.end(); // our FIN; we never read
      const finAt = Date.now();
      await once(c.socket, "close"); // the router's side of the connection
      assert.ok(Date.now() - finAt >= 9_000, "it had its linger to read before the router destroyed the socket");
      const s = h.mod.service.stats;
      assert.equal(s.closes.get("peer"), 1);
      assert.equal(s.drops.get("closed") ?? 0, 0, "its queue had been handed over whole before the linger");
      assert.equal(s.cutOnClose, 1, "the cut was counted, not lost silently");
      const cut = log.lines.find((l) => l.code === "ERR_EVAPI_SLOW_CLIENT");
      assert.ok(cut && typeof cut.unsent === "number" && cut.unsent > 0, "and logged with a code and the bytes left");
      assert.equal(s.cutBytes, cut.unsent, "the bytes are counted as logged");
      client.destroy();
    } finally {
      await h.stop();
    }
  },
);

test("a client that half-closes and then resets without reading: what it left unread is counted and logged at once", async () => {
  const log = captureLogger();
  const closed = new Collector<number>();
  const h = await startEvapi(
    { maxQueueBytes: 16 * 1024 * 1024 },
    { "evapi:connection-closed": (ctx) => closed.push(ctx.evapi.conidx) },
    log.logger,
  );
  try {
    const { client, c } = await backlogged(h, () => TestClient.open(h.port));
    client.socket.end(); // our FIN; we never read
    await closed.wait(1); // the router has closed its side and lingers, its queue written to Node
    const resetAt = Date.now();
    // (Not events.once: the router's socket errs before it closes, which is the point.)
    const routerSideClosed = new Promise<void>((resolve) => c.socket.once("close", () => resolve()));
    client.socket.resetAndDestroy(); // a consumer killed mid-close: its kernel answers with a reset
    await routerSideClosed;
    assert.ok(Date.now() - resetAt < 9_000, "not left for the linger to find");
    const s = h.mod.service.stats;
    assert.equal(s.cutOnClose, 1, "the close that lost events at the reset was counted, not lost silently");
    const cut = log.lines.find((l) => l.code === "ERR_EVAPI_SLOW_CLIENT");
    assert.equal(cut?.by, "reset");
    assert.equal(typeof cut?.unsent, "number", "logged with a code and the bytes Node still held");
    assert.equal(s.cutBytes, cut?.unsent, "the bytes are counted as logged");
  } finally {
    await h.stop();
  }
});
