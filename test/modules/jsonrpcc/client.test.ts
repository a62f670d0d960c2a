// JsonRpcClient against a real scripted netstring JSON-RPC server on loopback: answers, errors,
// result null, late and missing answers, split writes, garbage, a close mid-request, a restart,
// and the wire format a Kamailio-era server expects (key order, first id 2, single-quoted params).
import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { encodeNetstring } from "evsip-client/netstring";
import { normaliseParams, type JsonRpcClient, type Outcome } from "../../../src/modules/jsonrpcc/index.js";
import { startTestServer, type Script, type ScriptedReply } from "../../support/jsonrpc-test-server.js";
import { makeClient, waitDown, waitUp } from "../../support/jsonrpc-client-harness.js";

async function setup(script?: Parameters<typeof startTestServer>[0], over?: Parameters<typeof makeClient>[1]) {
  const server = await startTestServer(script);
  const client = makeClient(`127.0.0.1:${server.port},1`, over);
  await waitUp(client);
  return {
    server,
    client,
    async [Symbol.asyncDispose]() {
      await client.stop();
      await server.stop();
    },
  };
}

test("request: wire format, first id 2, single-quoted params, result", async () => {
  await using s = await setup();
  const o = await s.client.requestAsync("get_user", normaliseParams("{'id': 1234}"), 1000);
  assert.deepEqual(o, { kind: "result", value: { echo: "get_user", params: { id: 1234 } } });
  assert.equal(s.server.received[0]?.raw, '{"id":2,"jsonrpc":"2.0","method":"get_user","params":{"id":1234}}');
  const link = s.client.links[0];
  assert.equal(link?.stats.sent, 1);
  assert.equal(link?.stats.received, 1);
  assert.equal(link?.stats.pending, 0);
});

test("the requests of one loop turn (one corked write) arrive in order, and each gets its own answer", async () => {
  await using s = await setup();
  const link = s.client.links[0]!;
  const writes = link.stats.writes;
  const outcomes = Array.from({ length: 200 }, (_, i) => s.client.requestAsync("n", { i }, 5000));
  const all = await Promise.all(outcomes);
  all.forEach((o, i) => assert.deepEqual(o, { kind: "result", value: { echo: "n", params: { i } } }));
  assert.deepEqual(
    s.server.received.map((r) => (r.params as { i: number }).i),
    Array.from({ length: 200 }, (_, i) => i),
  );
  assert.equal(link.stats.writes - writes, 1, "200 requests of one turn, one socket write");
});

test("notification has no id and gets no answer", async () => {
  await using s = await setup();
  assert.equal(s.client.notify("update_user", normaliseParams("{'id': 1234, 'name': 'Petros'}")), true);
  await s.server.waitForRequests(1, AbortSignal.timeout(5000));
  assert.equal(s.server.received[0]?.raw, '{"jsonrpc":"2.0","method":"update_user","params":{"id":1234,"name":"Petros"}}');
});

test("error answer and result null", async () => {
  await using s = await setup((req, reply) => {
    if (req.method === "nothing") reply.result(null);
    else reply.error({ code: -32601, message: "Method not found" });
  });
  assert.deepEqual(await s.client.requestAsync("nothing", null, 1000), { kind: "result", value: null });
  assert.deepEqual(await s.client.requestAsync("missing", null, 1000), {
    kind: "error",
    error: { code: -32601, message: "Method not found" },
  });
});

test("never answered: timeout; a late answer is dropped and counted", async () => {
  const held: ScriptedReply[] = [];
  await using s = await setup((_req, reply) => held.push(reply));
  const o = await s.client.requestAsync("slow", {}, 50);
  assert.deepEqual(o, { kind: "timeout" });
  assert.equal(s.client.links[0]?.stats.timeouts, 1);
  const dropped = once(s.client.events, "dropped", { signal: AbortSignal.timeout(5000) });
  held[0]?.result("too late");
  const [, code] = await dropped;
  assert.equal(code, "ERR_JSONRPC_UNKNOWN_ID");
  assert.equal(s.client.links[0]?.stats.unknownIds, 1);
  assert.equal(s.client.pendingCount, 0);
});

test("an answer in two TCP writes, and whitespace between frames, are reassembled", async () => {
  await using s = await setup((req, reply) => {
    const frame = encodeNetstring(JSON.stringify({ jsonrpc: "2.0", id: req.id, result: "split" }));
    if (req.method === "split") reply.writeSplit(frame, 3);
    else reply.write(Buffer.concat([Buffer.from("\r\n  "), frame, Buffer.from("\n")]));
  });
  assert.deepEqual(await s.client.requestAsync("split", null, 2000), { kind: "result", value: "split" });
  assert.deepEqual(await s.client.requestAsync("spaced", null, 2000), { kind: "result", value: "split" });
});

test("non-JSON-RPC frames are dropped and counted; the connection stays", async () => {
  await using s = await setup((req, reply) => {
    reply.write(encodeNetstring("not json"));
    reply.write(encodeNetstring("[1,2]"));
    reply.write(encodeNetstring(JSON.stringify({ id: req.id, jsonrpc: "2.0" })));
    reply.result("after garbage");
  });
  const o = await s.client.requestAsync("x", null, 2000);
  assert.deepEqual(o, { kind: "result", value: "after garbage" });
  assert.equal(s.client.links[0]?.stats.badResponses.get("ERR_JSONRPC_BAD_RESPONSE"), 3);
  assert.equal(s.client.links[0]?.state, "connected");
});

test("garbage framing drops the connection: pending fail at once, then reconnect", async () => {
  await using s = await setup((_req, reply) => reply.write("hello, this is no netstring"));
  const t0 = Date.now();
  const o = await s.client.requestAsync("x", null, 10_000);
  assert.deepEqual(o, { kind: "failure", code: "ERR_JSONRPC_CONNECTION_LOST" });
  assert.ok(Date.now() - t0 < 5000, "failed before its timeout");
  assert.equal(s.client.links[0]?.stats.badResponses.get("ERR_NETSTRING_BAD_LENGTH"), 1);
  await waitUp(s.client);
  assert.ok((s.client.links[0]?.stats.reconnects ?? 0) >= 1);
});

test("server closes mid-request: failure at once, not after the timeout", async () => {
  await using s = await setup((_req, reply) => reply.close());
  const t0 = Date.now();
  const o = await s.client.requestAsync("x", null, 10_000);
  assert.deepEqual(o, { kind: "failure", code: "ERR_JSONRPC_CONNECTION_LOST" });
  assert.ok(Date.now() - t0 < 5000);
  assert.equal(s.client.links[0]?.stats.failedOnLoss, 1, "counted against the server");
});

test("a stop fails the requests in flight, and they are not counted as the server's loss", async () => {
  await using s = await setup(() => undefined); // never answers
  const outcome = s.client.requestAsync("x", null, 10_000);
  await once(s.server, "request");
  await s.client.stop();
  assert.deepEqual(await outcome, { kind: "failure", code: "ERR_JSONRPC_CONNECTION_LOST" });
  assert.equal(s.client.links[0]?.stats.failedOnLoss, 0);
});

/**
 * Two servers: `first` (priority 2, tried first) closes on every request; `second` (priority 1)
 * runs `secondScript`, or echoes.
 */
async function failover(retryOnLoss: boolean, secondScript?: Script) {
  const first = await startTestServer((_req, reply) => reply.close());
  const second = await startTestServer(secondScript);
  const client = makeClient(`127.0.0.1:${first.port},2 127.0.0.1:${second.port},1`, { retryOnLoss });
  await waitUp(client);
  return {
    first,
    second,
    client,
    async [Symbol.asyncDispose]() {
      await client.stop();
      await first.stop();
      await second.stop();
    },
  };
}

/** Each failover server's count of requests that failed with its dropped connection: [first, second]. */
function failedOnLoss(s: { client: JsonRpcClient; first: { port: number }; second: { port: number } }): number[] {
  return [s.first, s.second].map(
    (srv) => s.client.links.find((l) => l.address === `127.0.0.1:${srv.port}`)?.stats.failedOnLoss ?? -1,
  );
}

test("retryOnLoss: a request whose server drops the connection before answering is answered by another server", async () => {
  await using s = await failover(true);
  const o = await s.client.requestAsync("route", { ruri: "sip:1@x" }, 10_000);
  assert.deepEqual(o, { kind: "result", value: { echo: "route", params: { ruri: "sip:1@x" } } });
  assert.equal(s.first.received.length, 1, "sent to the first server, which died with it");
  assert.equal(s.second.received.length, 1, "then to the second");
  assert.equal(s.second.received[0]?.id, s.first.received[0]?.id, "the same request, id included");
  assert.equal(s.client.stats.retriedOnLoss, 1);
  assert.equal(s.client.pendingCount, 0);
  assert.equal(
    s.client.links.reduce((n, l) => n + l.stats.pending, 0),
    0,
  );
});

test("retryOnLoss per request: the module's default is overridden both ways", async () => {
  {
    await using s = await failover(true);
    const o = await s.client.requestAsync("charge", null, 10_000, false); // must not run twice
    assert.deepEqual(o, { kind: "failure", code: "ERR_JSONRPC_CONNECTION_LOST" });
    assert.equal(s.second.received.length, 0);
  }
  {
    await using s = await failover(false);
    const o = await s.client.requestAsync("route", null, 10_000, true);
    assert.equal(o.kind, "result");
    assert.equal(s.client.stats.retriedOnLoss, 1);
  }
});

test("retryOnLoss: a request moves once; when its second server drops it too, it fails", async () => {
  // The second holds the moved request until the first is connected again, then drops it too: a
  // request that bounced on would go back to the first.
  let held: ScriptedReply | undefined;
  await using s = await failover(true, (_req, reply) => (held = reply));
  const outcome = s.client.requestAsync("crash", null, 10_000);
  await once(s.second, "request");
  await waitUp(s.client, [`127.0.0.1:${s.first.port}`]);
  held?.close();
  const o = await outcome;
  assert.deepEqual(o, { kind: "failure", code: "ERR_JSONRPC_CONNECTION_LOST" });
  assert.equal(s.first.received.length + s.second.received.length, 2, "sent twice, not bounced on");
  assert.equal(s.client.stats.retriedOnLoss, 1);
  assert.deepEqual(failedOnLoss(s), [0, 1], "the second drop failed it, and is counted");
});

test("retryOnLoss false: the request fails at once (ERR_JSONRPC_CONNECTION_LOST), another server up or not", async () => {
  await using s = await failover(false);
  const o = await s.client.requestAsync("route", null, 10_000);
  assert.deepEqual(o, { kind: "failure", code: "ERR_JSONRPC_CONNECTION_LOST" });
  assert.equal(s.second.received.length, 0);
  assert.equal(s.client.stats.retriedOnLoss, 0);
  assert.deepEqual(failedOnLoss(s), [1, 0], "counted against the server whose connection dropped");
});

test("server restart: the client reconnects with backoff and requests flow again", async () => {
  await using s = await setup();
  const addr = s.client.links[0]?.address as string;
  const down = waitDown(s.client, addr);
  await s.server.stop();
  await down;
  assert.deepEqual(await s.client.requestAsync("x", null, 1000), { kind: "failure", code: "ERR_JSONRPC_NO_SERVER" });
  assert.equal(s.client.notify("x", null), false);
  await s.server.listen();
  await waitUp(s.client);
  const o = await s.client.requestAsync("again", null, 1000);
  assert.equal(o.kind, "result");
  assert.ok((s.client.links[0]?.stats.reconnects ?? 0) >= 1);
});

test("maxConnAttempts 0: a server down at start is never retried", async () => {
  const server = await startTestServer();
  const port = server.port;
  await server.stop();
  const client = makeClient(`127.0.0.1:${port},1`, { maxConnAttempts: 0 });
  const link = client.links[0];
  while (link?.state !== "dead") await once(client.events, "down", { signal: AbortSignal.timeout(5000) });
  assert.equal(link.stats.reconnects, 0);
  await client.stop();
});

test("IPv6 [::1]:port", async (t) => {
  let server;
  try {
    server = await startTestServer(undefined, "::1");
  } catch {
    t.skip("no IPv6 loopback on this machine");
    return;
  }
  const client = makeClient(`[::1]:${server.port},1`);
  await waitUp(client);
  const o: Outcome = await client.requestAsync("v6", null, 1000);
  assert.equal(o.kind, "result");
  await client.stop();
  await server.stop();
});
