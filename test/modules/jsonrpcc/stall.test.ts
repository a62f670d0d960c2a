// Dead or stalled JSON-RPC servers, with real sockets: a server that stops reading fills the socket
// past maxWriteBuffer, is dropped as stalled after `stallTimeout` ms (ERR_JSONRPC_SERVER_STALLED, counted,
// its requests fail at once) and reconnected; a server that reads but never answers is not stalled;
// rejections and unknown ids are logged at warn, one line per code per interval.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { pino } from "pino";
import { validateParams } from "../../../src/core/params.js";
import { encodeNetstring } from "evsip-client/netstring";
import { jsonrpccModule, type Outcome } from "../../../src/modules/jsonrpcc/index.js";
import { startTestServer } from "../../support/jsonrpc-test-server.js";
import { makeClient, waitDown, waitUp } from "../../support/jsonrpc-client-harness.js";

interface LogLine {
  code?: string;
  msg: string;
  suppressed?: number;
}

function captureLogger(): { logger: pino.Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level: "warn" }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  return { logger, lines };
}

test("maxWriteBuffer param: default 16 MiB, validated", () => {
  const ok = validateParams("jsonrpcc", jsonrpccModule.params, { servers: "127.0.0.1:1,1" });
  assert.deepEqual(ok.problems, []);
  assert.equal(ok.params.maxWriteBuffer, 16 * 1024 * 1024);
  for (const bad of [0, 1000, -1, "big", 2 ** 31]) {
    const r = validateParams("jsonrpcc", jsonrpccModule.params, { servers: "127.0.0.1:1,1", maxWriteBuffer: bad });
    assert.equal(r.problems.length, 1, `maxWriteBuffer ${String(bad)} refused`);
  }
});

test("a server that stops reading is dropped as stalled, its requests fail at once, it reconnects", async () => {
  const server = await startTestServer((req, reply) => {
    if (req.method === "ping") reply.result("pong");
  });
  let first = true;
  server.on("connection", (s: Socket) => {
    if (first) s.pause(); // the first connection is never read again
    first = false;
  });
  const { logger, lines } = captureLogger();
  const client = makeClient(`127.0.0.1:${server.port},1`, {
    timeout: 200,
    stallTimeout: 1000,
    maxWriteBuffer: 64 * 1024,
    logger,
  });
  try {
    await waitUp(client);
    const link = client.links[0]!;
    const big = { blob: "x".repeat(16 * 1024) };
    const t0 = Date.now();
    const outcomes: Array<Promise<Outcome>> = [];
    // One request per loop turn: the requests of one turn leave in one write at its end, so the
    // kernel's socket buffer must fill before bytes wait in ours.
    for (let i = 0; i < 4000 && link.isUp; i++) {
      outcomes.push(client.requestAsync("work", big, 30_000));
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(link.isUp, false, "the socket filled past maxWriteBuffer");
    assert.equal(link.state, "connected");
    assert.deepEqual(await client.requestAsync("more", null, 30_000), { kind: "failure", code: "ERR_JSONRPC_NO_SERVER" });
    await waitDown(client, link.address);
    for (const o of await Promise.all(outcomes)) assert.deepEqual(o, { kind: "failure", code: "ERR_JSONRPC_CONNECTION_LOST" });
    assert.ok(Date.now() - t0 < 10_000, "failed long before their 30 s timeout");
    assert.equal(link.stats.stalls, 1);
    assert.ok(lines.some((l) => l.code === "ERR_JSONRPC_SERVER_STALLED"));
    assert.equal(lines.filter((l) => l.code === "ERR_JSONRPC_NO_SERVER").length, 1);
    await waitUp(client);
    assert.deepEqual(await client.requestAsync("ping", null, 5000), { kind: "result", value: "pong" });
    assert.equal(server.connections, 2);
  } finally {
    await client.stop();
    await server.stop();
  }
});

test("a server that reads but never answers: timeouts, not a stall", async () => {
  const server = await startTestServer(() => undefined);
  const client = makeClient(`127.0.0.1:${server.port},1`, { timeout: 50 });
  try {
    await waitUp(client);
    const all = await Promise.all(Array.from({ length: 20 }, () => client.requestAsync("x", { n: 1 }, 50)));
    for (const o of all) assert.deepEqual(o, { kind: "timeout" });
    assert.equal(client.links[0]?.stats.stalls, 0);
    assert.equal(client.links[0]?.state, "connected");
  } finally {
    await client.stop();
    await server.stop();
  }
});

test("no-server and unknown-id warnings: one line per code per interval", async () => {
  const server = await startTestServer((req, reply) => {
    reply.write(encodeNetstring(JSON.stringify({ jsonrpc: "2.0", id: 999_999, result: 1 })));
    reply.result(req.method);
  });
  const { logger, lines } = captureLogger();
  const client = makeClient(`127.0.0.1:${server.port},1`, { logger });
  try {
    await waitUp(client);
    for (let i = 0; i < 5; i++) assert.equal((await client.requestAsync("m", null, 2000)).kind, "result");
    assert.equal(client.links[0]?.stats.unknownIds, 5);
    assert.equal(lines.filter((l) => l.code === "ERR_JSONRPC_UNKNOWN_ID").length, 1);
    const down = waitDown(client, client.links[0].address);
    await server.stop();
    await down;
    for (let i = 0; i < 50; i++) assert.equal(client.notify("n", null), false);
    assert.equal(client.stats.noServer, 50);
    assert.equal(lines.filter((l) => l.code === "ERR_JSONRPC_NO_SERVER").length, 1);
    assert.equal(client.warnLog.suppressedTotal, 4 + 49);
  } finally {
    await client.stop();
    await server.stop();
  }
});

test("a server that pauses reading for less than stallTimeout keeps its connection: long per-call timeouts are honoured", async () => {
  let paused: Socket | undefined;
  const server = await startTestServer((req, reply) => {
    if (req.method === "work") reply.result("done");
  });
  server.on("connection", (s: Socket) => {
    paused = s;
    s.pause(); // busy: not reading for a while
  });
  const client = makeClient(`127.0.0.1:${server.port},1`, { timeout: 100, stallTimeout: 5000, maxWriteBuffer: 64 * 1024 * 1024 });
  try {
    await waitUp(client);
    const link = client.links[0]!;
    const big = { blob: "x".repeat(256 * 1024) };
    const outcomes: Array<Promise<Outcome>> = [];
    for (let i = 0; i < 40; i++) outcomes.push(client.requestAsync("work", big, 10_000));
    // Resume once our backlog has outlived the module timeout (100 ms) several times over: the
    // server only paused, and the requests allow 10 s.
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (link.stats.sent === 40) setTimeout(resolve, 400).unref();
        else setImmediate(check);
      };
      check();
    });
    paused?.resume();
    for (const o of await Promise.all(outcomes)) assert.deepEqual(o, { kind: "result", value: "done" });
    assert.equal(link.stats.stalls, 0);
  } finally {
    await client.stop();
    await server.stop();
  }
});

test("a backlog is judged from when it began: bytes Node held that were taken without a drain do not leave a stale stall timer behind", async () => {
  let serverSide: Socket | undefined;
  // A notification sink: it never answers, so nothing read from it counts as progress.
  const server = await startTestServer(() => undefined);
  server.on("connection", (s: Socket) => {
    serverSide = s;
    s.pause();
  });
  const { logger, lines } = captureLogger();
  const stallTimeout = 2000;
  const client = makeClient(`127.0.0.1:${server.port},1`, { stallTimeout, logger });
  try {
    await waitUp(client);
    const link = client.links[0]!;
    const row = { pad: "x".repeat(1000) };
    // One small notification per turn until the kernel's buffers are full and Node holds a few KB,
    // under its high-water mark, so no 'drain' is owed for them. The stall timer starts here.
    while (link.heldBytes === 0) {
      client.notify("cdr", row);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const firstBacklog = Date.now();
    assert.ok(link.heldBytes < 16 * 1024, `Node holds ${link.heldBytes} bytes, under its mark`);
    serverSide?.resume();
    // Every notification sent has reached the server, so Node holds none of them any more.
    await server.waitForRequests(link.stats.sent, AbortSignal.timeout(10_000));
    assert.equal(link.pendingBytes, 0);
    // The server reads again for a while (the scenario's own time, not a wait for an event), then
    // pauses once more as a burst arrives.
    await new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, firstBacklog + 1000 - Date.now())));
    serverSide?.pause();
    const burst = Date.now();
    for (let i = 0; i < 24_000; i++) client.notify("cdr", row);
    await waitDown(client, link.address);
    const droppedAfter = Date.now() - burst;
    assert.equal(link.stats.stalls, 1, "dropped as stalled: the server stopped reading");
    assert.ok(
      droppedAfter >= stallTimeout - 50,
      `dropped ${droppedAfter} ms after the burst began, not before stallTimeout (${stallTimeout})`,
    );
    const stall = lines.find((l) => l.code === "ERR_JSONRPC_SERVER_STALLED") as LogLine & { quietMs: number };
    assert.ok(stall.quietMs >= stallTimeout);
  } finally {
    await client.stop();
    await server.stop();
  }
});

test("the lost-connection warning names every unsent byte: the link's queue and what Node held", async () => {
  let serverSide: Socket | undefined;
  const server = await startTestServer();
  server.on("connection", (s: Socket) => {
    serverSide = s;
    s.pause();
  });
  const { logger, lines } = captureLogger();
  const client = makeClient(`127.0.0.1:${server.port},1`, { logger });
  try {
    await waitUp(client);
    const link = client.links[0]!;
    for (let i = 0; i < 24_000; i++) client.notify("cdr", { pad: "x".repeat(1000) });
    // The turn's flush, which runs before an immediate queued after it, fills the kernel's buffers and
    // hands Node a piece; nothing moves after it.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const waiting = link.queuedBytes + link.heldBytes;
    assert.ok(link.queuedBytes > 0 && link.heldBytes > 0);
    serverSide?.resetAndDestroy();
    await waitDown(client, link.address);
    const lost = lines.find((l) => l.msg === "jsonrpcc: connection lost") as LogLine & { unsentBytes: number };
    assert.equal(lost.unsentBytes, waiting);
  } finally {
    await client.stop();
    await server.stop();
  }
});
