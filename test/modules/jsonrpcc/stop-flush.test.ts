// Stopping the client (the router's graceful stop, after its calls have drained) writes out what is
// queued for each server before closing: the CDR notification a route sent as the last call ended
// is in the queue, not yet on the wire, when the stop comes in the same turn. Before, the stop
// destroyed the socket and it was lost. A server that does not read is cut after the linger, and
// what it left unread is named in the log.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { pino } from "pino";
import { startTestServer, type JsonRpcTestServer } from "../../support/jsonrpc-test-server.js";
import type { JsonRpcClient } from "../../../src/modules/jsonrpcc/index.js";
import { makeClient, waitUp } from "../../support/jsonrpc-client-harness.js";

test("notifications queued in the turn the client stops all reach the server", async () => {
  const server = await startTestServer(() => undefined);
  const client = makeClient(`127.0.0.1:${server.port},1`);
  try {
    await waitUp(client);
    for (let seq = 0; seq < 2000; seq++) assert.ok(client.notify("cdr", { seq }));
    await client.stop();
    await server.waitForRequests(2000, AbortSignal.timeout(10_000));
    server.received.forEach((r, i) => assert.deepEqual(r.params, { seq: i }));
  } finally {
    await client.stop();
    await server.stop();
  }
});

interface LogLine {
  msg: string;
  unsentBytes?: number;
}

/** A server that never reads, and a client that queued a 20 MB burst for it. */
async function backlogged(): Promise<{ server: JsonRpcTestServer; client: JsonRpcClient; lines: LogLine[] }> {
  const server = await startTestServer(() => undefined);
  server.on("connection", (s: Socket) => s.pause());
  const lines: LogLine[] = [];
  const logger = pino({ level: "warn" }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  const client = makeClient(`127.0.0.1:${server.port},1`, { logger });
  await waitUp(client);
  for (let seq = 0; seq < 40_000; seq++) client.notify("cdr", { seq, pad: "x".repeat(500) });
  return { server, client, lines };
}

/** The stop's warning names the unsent bytes, and the link counted the same in lostBytes. */
function assertCutLogged(client: JsonRpcClient, lines: readonly LogLine[]): void {
  const cut = lines.find((l) => l.msg.startsWith("jsonrpcc: stopped"));
  assert.ok(cut?.unsentBytes !== undefined && cut.unsentBytes > 0, "the unread bytes are named");
  assert.equal(client.links[0]?.stats.lostBytes, cut.unsentBytes, "and counted");
}

test("a server that does not read is cut when the stop's linger runs out, and the bytes it left are logged", async () => {
  const { server, client, lines } = await backlogged();
  try {
    const t0 = Date.now();
    await client.stop();
    assert.ok(Date.now() - t0 < 5000, `the stop ended in ${Date.now() - t0} ms`);
    assertCutLogged(client, lines);
  } finally {
    await server.stop();
  }
});

test("a second stop during the linger cuts at once, and what Node still held is logged and counted", async () => {
  const { server, client, lines } = await backlogged();
  try {
    const first = client.stop();
    await client.stop(); // a second signal: no waiting any more
    await first;
    assertCutLogged(client, lines);
  } finally {
    await server.stop();
  }
});
