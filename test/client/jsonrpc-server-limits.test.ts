// createJsonRpcServer bounds what one peer can make it hold, over real loopback sockets: calls in
// flight per connection (maxInFlight), responses queued for a peer that never reads (maxQueueBytes →
// ERR_CLIENT_SLOW_PEER), the number of connections (maxConnections) and idle connections (idleTimeout).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { pino } from "pino";
import { createJsonRpcServer } from "../../src/client/index.js";
import { encodeNetstring } from "evsip-client/netstring";
import { NetstringSocket } from "../support/netstring-socket.js";
import { AsyncQueue } from "../support/async-queue.js";

/** A pino logger whose lines are queued for the test to await. */
function queuedLogger() {
  const lines = new AsyncQueue<Record<string, unknown>>();
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString("utf8").split("\n")) if (l !== "") lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: "warn" }, stream), lines };
}

function requests(n: number, method: string): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < n; i++) parts.push(encodeNetstring(JSON.stringify({ id: i, jsonrpc: "2.0", method })));
  return Buffer.concat(parts);
}

test("jsonrpc server limits: 2000 pipelined calls to a slow method never run more than maxInFlight at once", async () => {
  const started = new AsyncQueue<() => void>();
  let active = 0;
  let peak = 0;
  const server = createJsonRpcServer({
    maxInFlight: 16,
    methods: {
      slow: () =>
        new Promise<string>((resolve) => {
          active++;
          peak = Math.max(peak, active);
          started.push(() => {
            active--;
            resolve("done");
          });
        }),
    },
  });
  const { port } = await server.listen();
  const client = await NetstringSocket.connect(port);
  const n = 2000;
  client.writeRaw(requests(n, "slow"));
  for (let i = 0; i < n; i++) {
    const release = await started.next();
    assert.ok(active <= 16, `${active} calls running at once`);
    release();
  }
  const ids = new Set<number>();
  for (let i = 0; i < n; i++) ids.add(((await client.nextJson()) as { id: number }).id);
  assert.equal(ids.size, n);
  assert.equal(peak, 16);
  assert.equal(server.stats.requests, n);
  client.close();
  await server.close();
});

test("jsonrpc server limits: a peer that never reads 200 KB responses is closed with ERR_CLIENT_SLOW_PEER", async () => {
  const { logger, lines } = queuedLogger();
  const big = "x".repeat(200 * 1024);
  const server = createJsonRpcServer({ maxInFlight: 8, maxQueueBytes: 512 * 1024, logger, methods: { big: () => big } });
  const { port } = await server.listen();
  const client = await NetstringSocket.connect(port);
  client.socket.pause();
  client.writeRaw(requests(10000, "big"));
  const line = await lines.next(10000);
  assert.equal(line.code, "ERR_CLIENT_SLOW_PEER");
  client.socket.resume(); // a paused socket would not notice the close behind its unread bytes
  await client.closed;
  assert.equal(server.stats.slowPeers, 1);
  assert.equal(server.stats.errors.get("ERR_CLIENT_SLOW_PEER"), 1);
  // It stopped reading requests once responses backed up: far fewer calls than were sent.
  assert.ok(server.stats.requests < 1000, `${server.stats.requests} calls ran for a peer that reads nothing`);
  const other = await NetstringSocket.connect(port);
  other.send({ id: 1, jsonrpc: "2.0", method: "big" });
  assert.equal(((await other.nextJson()) as { result: string }).result.length, big.length);
  other.close();
  await server.close();
});

test("jsonrpc server limits: past maxConnections a connection is accepted and closed, counted", async () => {
  const { logger, lines } = queuedLogger();
  const server = createJsonRpcServer({ maxConnections: 2, logger, methods: { ping: () => "pong" } });
  const { port } = await server.listen();
  const a = await NetstringSocket.connect(port);
  const b = await NetstringSocket.connect(port);
  a.send({ id: 1, jsonrpc: "2.0", method: "ping" });
  b.send({ id: 2, jsonrpc: "2.0", method: "ping" });
  await a.nextJson();
  await b.nextJson();
  const c = await NetstringSocket.connect(port);
  await c.closed;
  assert.equal((await lines.next()).code, "ERR_CLIENT_MAX_CONNECTIONS");
  assert.equal(server.stats.rejectedConnections, 1);
  assert.equal(server.stats.connections, 2);
  a.close();
  await a.closed;
  b.send({ id: 3, jsonrpc: "2.0", method: "ping" });
  assert.deepEqual(await b.nextJson(), { jsonrpc: "2.0", result: "pong", id: 3 });
  b.close();
  await server.close();
});

test("jsonrpc server limits: idleTimeout closes a silent connection, counted", async () => {
  const server = createJsonRpcServer({ idleTimeout: 300, methods: { ping: () => "pong" } });
  const { port } = await server.listen();
  const client = await NetstringSocket.connect(port);
  client.send({ id: 1, jsonrpc: "2.0", method: "ping" });
  assert.deepEqual(await client.nextJson(), { jsonrpc: "2.0", result: "pong", id: 1 });
  await client.closed;
  assert.equal(server.stats.idleTimeouts, 1);
  await server.close();
});

test("jsonrpc server limits: a reset from the peer is logged and counted in socketErrors", async () => {
  const { logger, lines } = queuedLogger();
  const big = "y".repeat(100 * 1024);
  const server = createJsonRpcServer({ logger, methods: { big: () => big } });
  const { port } = await server.listen();
  const client = await NetstringSocket.connect(port);
  client.send({ id: 1, jsonrpc: "2.0", method: "big" });
  await client.nextJson();
  client.socket.pause();
  client.writeRaw(requests(200, "big"));
  // Unread data in our receive buffer makes the close an RST: the server's next read or write fails.
  client.socket.resetAndDestroy();
  const line = await lines.next();
  assert.equal(line.msg, "json-rpc socket error");
  assert.equal(server.stats.socketErrors, 1);
  await server.close();
});
