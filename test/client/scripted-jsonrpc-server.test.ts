// The scripted JSON-RPC peer (test/support) does what the jsonrpcc tests will rely on: each
// behaviour checked from a plain netstring socket, plus counting, awaiting and restart.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ScriptedJsonRpcServer } from "../support/scripted-jsonrpc-server.js";
import { NetstringSocket } from "../support/netstring-socket.js";

const req = (id: number, method: string, params: unknown = { id }) => ({ id, jsonrpc: "2.0", method, params });

test("scripted jsonrpc: answer (echo or fixed), error, late, split, never, notification", async () => {
  const server = await ScriptedJsonRpcServer.start();
  server
    .behave("fixed", { kind: "answer", result: null })
    .behave("fail", { kind: "error", error: { code: -32601, message: "nope" } })
    .behave("late", { kind: "late", delay: 30, result: "late" })
    .behave("split", { kind: "split", splitAt: 2 })
    .behave("silent", { kind: "never" });
  const c = await NetstringSocket.connect(server.port);
  c.send(req(1, "echo"));
  assert.deepEqual(await c.nextJson(), { jsonrpc: "2.0", result: { id: 1 }, id: 1 });
  c.send(req(2, "fixed"));
  assert.deepEqual(await c.nextJson(), { jsonrpc: "2.0", result: null, id: 2 });
  c.send(req(3, "fail"));
  assert.deepEqual(await c.nextJson(), { jsonrpc: "2.0", error: { code: -32601, message: "nope" }, id: 3 });
  c.send(req(4, "silent"));
  c.send(req(5, "late"));
  c.send(req(6, "split"));
  const two = [await c.nextJson(), await c.nextJson()] as { id: number }[];
  assert.deepEqual(two.map((r) => r.id).sort(), [5, 6]);
  c.send({ jsonrpc: "2.0", method: "echo", params: [] });
  await server.waitForRequests(1, "silent");
  await server.waitForRequests(7);
  assert.equal(server.count(), 7);
  assert.equal(server.count("echo"), 2);
  assert.equal(server.requests[6]?.id, undefined);
  assert.equal(c.frames.size, 0);
  c.close();
  await server.stop();
});

test("scripted jsonrpc: global garbage, close mid-request and mid-response", async () => {
  const server = await ScriptedJsonRpcServer.start();
  server.behave("*", { kind: "garbage" });
  const a = await NetstringSocket.connect(server.port);
  const got = new Promise<string>((resolve) => a.socket.once("data", (d: Buffer) => resolve(d.toString())));
  a.send(req(1, "x"));
  assert.equal(await got, "garbage!");
  assert.equal(a.decodeError, "ERR_NETSTRING_BAD_LENGTH");
  a.close();
  server.behave("*", { kind: "close" });
  const b = await NetstringSocket.connect(server.port);
  b.send(req(2, "y"));
  await b.closed;
  server.behave("*", { kind: "close", afterBytes: 5 });
  const c = await NetstringSocket.connect(server.port);
  c.send(req(3, "z"));
  await c.closed;
  assert.equal(c.frames.size, 0);
  assert.equal((await server.arrivals.next()).id, 1);
  await server.stop();
});

test("scripted jsonrpc: stop refuses connections, restart listens on the same port", async () => {
  const server = await ScriptedJsonRpcServer.start();
  const port = server.port;
  const first = server.arrivals.next();
  const c = await NetstringSocket.connect(port);
  c.send(req(1, "a"));
  assert.equal((await first).method, "a");
  await server.stop();
  await c.closed;
  await assert.rejects(NetstringSocket.connect(port), { code: "ECONNREFUSED" });
  await server.restart();
  assert.equal(server.port, port);
  const d = await NetstringSocket.connect(port);
  d.send(req(2, "b"));
  assert.deepEqual(await d.nextJson(), { jsonrpc: "2.0", result: { id: 2 }, id: 2 });
  assert.equal(server.requests[1]?.connection, 1);
  d.close();
  await server.stop();
});
