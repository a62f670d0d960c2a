// Stopping the evapi module (the router's graceful stop, after its calls have drained) writes out
// what is queued for each client before closing it: the events of the last call, relayed in the
// turn it ended, are queued, not yet on the wire, when the stop comes. Before, the stop destroyed
// every client socket and they were dropped (counted in drops{closed}, but lost). A client that does
// not read is cut after the linger, counted (cutOnClose, cutBytes) and logged.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startEvapi, TestClient } from "../../support/evapi-harness.js";
import { captureLogger } from "../../support/transport-harness.js";

test("events relayed in the turn the module stops all reach a reading client, in order", async () => {
  const h = await startEvapi({});
  const client = await TestClient.open(h.port);
  try {
    await h.connections.wait(1);
    const ev = h.ctx("event").evapi;
    for (let seq = 0; seq < 2000; seq++) assert.equal(ev.relay({ event: "cdr", seq }), 1);
    await h.stop();
    await client.waitClosed(10_000);
    assert.equal(client.frames.length, 2000, "every queued event arrived before the close");
    client.frames.forEach((f, i) => assert.equal((JSON.parse(f) as { seq: number }).seq, i));
    assert.equal(h.mod.service.stats.drops.get("closed") ?? 0, 0, "nothing dropped");
  } finally {
    client.destroy();
  }
});

test("a client that does not read is cut when the stop's linger runs out: counted and logged", async () => {
  const { logger, lines } = captureLogger();
  const h = await startEvapi({ maxQueueBytes: 64 * 1024 * 1024 }, {}, logger);
  const client = await TestClient.open(h.port);
  try {
    client.socket.pause();
    await h.connections.wait(1);
    const ev = h.ctx("event").evapi;
    for (let seq = 0; seq < 40_000; seq++) ev.relay({ event: "cdr", seq, pad: "x".repeat(500) });
    const t0 = Date.now();
    await h.stop();
    assert.ok(Date.now() - t0 < 5000, `the stop ended in ${Date.now() - t0} ms`);
    const s = h.mod.service.stats;
    assert.equal(s.cutOnClose, 1, "the cut is counted");
    assert.ok(s.cutBytes > 0, "with the bytes the client left unread");
    assert.equal(s.drops.get("closed") ?? 0, 0, "the queue was handed over, not dropped");
    assert.ok(
      lines.some((l) => l.code === "ERR_EVAPI_SLOW_CLIENT"),
      "and logged with its code",
    );
  } finally {
    client.destroy();
  }
});
