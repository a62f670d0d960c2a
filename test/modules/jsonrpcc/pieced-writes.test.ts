// A burst of frames to a server that is not reading goes to the socket a piece (64 KB) at a time,
// the rest waiting in the link's queue until `drain`, so the stall rule sees each piece the kernel
// takes (steady-reader.test.ts). Nothing is lost or reordered, and maxWriteBuffer counts what is
// queued as well as what Node holds.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { encodeNotification } from "../../../src/modules/jsonrpcc/wire.js";
import { startTestServer } from "../../support/jsonrpc-test-server.js";
import { makeClient, waitUp } from "../../support/jsonrpc-client-harness.js";

const PIECE = 64 * 1024;
const N = 25_000;
const pad = "x".repeat(200);

test(`${N} notifications queued in one turn to a server that is not reading arrive whole and in order, written a piece at a time`, async () => {
  const server = await startTestServer();
  let serverSide: Socket | undefined;
  server.on("connection", (s: Socket) => {
    serverSide = s;
    s.pause();
  });
  const client = makeClient(`127.0.0.1:${server.port},1`);
  try {
    await waitUp(client);
    const link = client.links[0]!;
    for (let seq = 0; seq < N; seq++) assert.ok(client.notify("cdr", { seq, pad }));
    // The flush runs at the end of this turn, before an immediate queued after it.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const frame = encodeNotification("cdr", { seq: N - 1, pad }).length;
    assert.ok(link.heldBytes <= PIECE + frame, `Node holds ${link.heldBytes} bytes, at most a piece`);
    assert.ok(link.queuedBytes > 0, "what the kernel could not take yet stayed in the link's queue");
    assert.ok(serverSide, "the server saw the connection");
    serverSide.resume();
    await server.waitForRequests(N, AbortSignal.timeout(20_000));
    server.received.forEach((r, i) => assert.deepEqual(r.params, { seq: i, pad }, `notification ${i} in order`));
    assert.equal(link.queuedBytes + link.heldBytes, 0);
    assert.equal(link.stats.stalls, 0);
  } finally {
    await client.stop();
    await server.stop();
  }
});

test("maxWriteBuffer counts the link's queue: a server that is not reading is skipped once that much waits for it", async () => {
  const server = await startTestServer();
  server.on("connection", (s: Socket) => s.pause());
  const client = makeClient(`127.0.0.1:${server.port},1`, { maxWriteBuffer: 256 * 1024 });
  try {
    await waitUp(client);
    const link = client.links[0]!;
    let queued = 0;
    let bytes = 0;
    // All in one turn: Node is handed nothing until the turn ends, so only the link's queue counts.
    while (client.notify("cdr", { seq: queued, pad })) bytes += encodeNotification("cdr", { seq: queued++, pad }).length;
    assert.ok(!link.isUp, "skipped as if disconnected");
    assert.equal(link.heldBytes, 0, "Node holds nothing yet");
    assert.equal(link.queuedBytes, bytes);
    const last = encodeNotification("cdr", { seq: queued - 1, pad }).length;
    assert.ok(
      bytes >= 256 * 1024 && bytes - last < 256 * 1024,
      `queued up to the bound, not past it: ${queued} frames, ${bytes} bytes`,
    );
    assert.equal(client.stats.noServer, 1, "the refused one is counted");
  } finally {
    await client.stop();
    await server.stop();
  }
});
