// A flush hands Node at most one piece (64 KB) beyond what it already holds for a client, so that
// the stall rule, which sees progress only when a whole write is taken, sees it piece by piece (see
// steady-reader.test.ts). What does not fit stays in evsip's queue and follows on `drain`: nothing
// is lost or reordered, and the queue bound still counts both.
import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeNetstring } from "evsip-client/netstring";
import { startEvapi, TestClient } from "../../support/evapi-harness.js";

const PIECE = 64 * 1024;
const EVENTS = 25_000;
const frameOf = (seq: number): Buffer => encodeNetstring(JSON.stringify({ event: "call.update", seq, pad: "x".repeat(200) }));

test(`${EVENTS} events queued in one turn to a client that is not reading: Node holds one piece, evsip the rest, and all arrive in order`, async () => {
  const h = await startEvapi({ maxQueueBytes: 16 * 1024 * 1024 });
  try {
    const client = await TestClient.open(h.port);
    client.socket.pause();
    await h.connections.wait(1);
    const ev = h.ctx("event").evapi;
    for (let seq = 0; seq < EVENTS; seq++) ev.relay({ event: "call.update", seq, pad: "x".repeat(200) });
    // The flush runs at the end of this turn, before an immediate queued after it.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const c = h.mod.service.table.all().next().value;
    assert.ok(c, "the client is connected");
    const frameBytes = frameOf(EVENTS - 1).length;
    assert.ok(c.socket.writableLength <= PIECE + frameBytes, `Node holds ${c.socket.writableLength} bytes, at most a piece`);
    assert.ok(c.queue.bytes > 0, "what the kernel could not take yet stayed in evsip's queue");
    client.socket.resume();
    await client.waitFrames(EVENTS, 20_000);
    assert.equal(client.frames.length, EVENTS);
    client.frames.forEach((f, i) => assert.equal((JSON.parse(f) as { seq: number }).seq, i));
    assert.equal(c.queue.bytes, 0);
    assert.equal(h.mod.service.stats.drops.size, 0, "nothing was dropped");
    client.destroy();
  } finally {
    await h.stop();
  }
});
