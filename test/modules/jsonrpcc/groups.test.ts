// Priority groups, round robin and load: three real servers in two groups (one group down, then
// back), requests counted per server, and 10 000 requests in flight at once with maxPending.
import { test } from "node:test";
import assert from "node:assert/strict";
import { groupServers, parseServers, type ServerSpec } from "../../../src/modules/jsonrpcc/index.js";
import { startTestServer, type ScriptedReply } from "../../support/jsonrpc-test-server.js";
import { makeClient, waitDown, waitUp } from "../../support/jsonrpc-client-harness.js";

test("the seed's servers string: two groups, higher priority first, param order inside", () => {
  const r = parseServers("localhost:9999,2 10.10.0.1:9999,2 backup.server:9999,1");
  assert.ok(r.ok);
  const groups = groupServers(r.servers);
  assert.deepEqual(
    groups.map((g) => [g.priority, g.servers.map((s: ServerSpec) => s.host)]),
    [
      [2, ["localhost", "10.10.0.1"]],
      [1, ["backup.server"]],
    ],
  );
});

test("three servers, two groups: round robin in group 2, failover to group 1 and back", async () => {
  const a = await startTestServer();
  const b = await startTestServer();
  const c = await startTestServer();
  const addr = (p: number) => `127.0.0.1:${p}`;
  const client = makeClient(`${addr(a.port)},2 ${addr(b.port)},2 ${addr(c.port)},1`);
  try {
    await waitUp(client);
    for (let i = 0; i < 10; i++) assert.equal((await client.requestAsync("rr", { i }, 1000)).kind, "result");
    assert.deepEqual([a.received.length, b.received.length, c.received.length], [5, 5, 0]);
    const sent = client.links.map((l) => l.stats.sent);
    assert.deepEqual(sent, [5, 5, 0]);

    const downA = waitDown(client, addr(a.port));
    const downB = waitDown(client, addr(b.port));
    await Promise.all([a.stop(), b.stop()]);
    await Promise.all([downA, downB]);
    for (let i = 0; i < 4; i++) assert.equal((await client.requestAsync("failover", { i }, 1000)).kind, "result");
    assert.equal(c.received.length, 4);

    await Promise.all([a.listen(), b.listen()]);
    await waitUp(client);
    for (let i = 0; i < 4; i++) assert.equal((await client.requestAsync("back", { i }, 1000)).kind, "result");
    assert.equal(c.received.length, 4, "group 1 unused again once group 2 is back");
    assert.equal(a.received.length + b.received.length, 14);
    assert.deepEqual([a.received.length - 5, b.received.length - 5], [2, 2]);
  } finally {
    await client.stop();
    await Promise.all([a.stop(), b.stop(), c.stop()]);
  }
});

test("round robin skips a disconnected server of the group", async () => {
  const a = await startTestServer();
  const b = await startTestServer();
  const client = makeClient(`127.0.0.1:${a.port},5 127.0.0.1:${b.port},5`);
  try {
    await waitUp(client);
    const down = waitDown(client, `127.0.0.1:${a.port}`);
    await a.stop();
    await down;
    for (let i = 0; i < 3; i++) assert.equal((await client.requestAsync("x", null, 1000)).kind, "result");
    assert.equal(b.received.length, 3);
  } finally {
    await client.stop();
    await Promise.all([a.stop(), b.stop()]);
  }
});

test("10 000 requests in flight, answered together, each matched by id; the 10 001st fails", async () => {
  const N = 10_000;
  const held: Array<[ScriptedReply, unknown]> = [];
  const server = await startTestServer((req, reply) => {
    held.push([reply, req.params]);
    if (held.length === N) for (const [r, p] of held) r.result((p as { n: number }).n);
  });
  const client = makeClient(`127.0.0.1:${server.port},1`, { maxPending: N });
  try {
    await waitUp(client);
    const all = Array.from({ length: N }, (_, n) => client.requestAsync("load", { n }, 30_000));
    assert.equal(client.pendingCount, N);
    assert.deepEqual(await client.requestAsync("over", null, 1000), { kind: "failure", code: "ERR_JSONRPC_MAX_PENDING" });
    const out = await Promise.all(all);
    out.forEach((o, n) => assert.deepEqual(o, { kind: "result", value: n }));
    assert.equal(client.pendingCount, 0);
    assert.equal(client.links[0]?.stats.received, N);
  } finally {
    await client.stop();
    await server.stop();
  }
});
