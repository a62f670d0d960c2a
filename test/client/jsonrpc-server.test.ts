// createJsonRpcServer answering real netstring requests sent from a plain net.Socket, in the exact
// shape Kamailio's jsonrpcc writes them (json-c spacing, key order id/jsonrpc/method/params).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createJsonRpcServer, JsonRpcMethodError } from "../../src/client/index.js";
import { NetstringSocket } from "../support/netstring-socket.js";

async function start() {
  const server = createJsonRpcServer({
    maxMessageSize: 1000,
    methods: {
      add: (p) => (p as number[]).reduce((a, b) => a + b, 0),
      lookup: async (p) => ({ route: "gw1", for: (p as { id: number }).id }),
      boom: () => {
        throw new Error("no route");
      },
      custom: () => {
        throw new JsonRpcMethodError(-32010, "busy", { retry: 5 });
      },
      nothing: () => undefined,
      whoami: (_p, call) => call,
    },
  });
  const { port } = await server.listen();
  const client = await NetstringSocket.connect(port);
  return { server, client };
}

test("jsonrpc server: answers a jsonrpcc-shaped request", async () => {
  const { server, client } = await start();
  client.send('{ "id": 2, "jsonrpc": "2.0", "method": "add", "params": [ 1, 2, 3 ] }');
  assert.deepEqual(await client.nextJson(), { jsonrpc: "2.0", result: 6, id: 2 });
  client.send({ id: 3, jsonrpc: "2.0", method: "lookup", params: { id: 1234 } });
  assert.deepEqual(await client.nextJson(), { jsonrpc: "2.0", result: { route: "gw1", for: 1234 }, id: 3 });
  client.send({ id: "s", jsonrpc: "2.0", method: "whoami" });
  assert.deepEqual(await client.nextJson(), { jsonrpc: "2.0", result: { id: "s", method: "whoami" }, id: "s" });
  assert.equal(server.stats.requests, 3);
  client.close();
  await server.close();
});

test("jsonrpc server: thrown errors, unknown methods, parse errors, null results", async () => {
  const { server, client } = await start();
  client.send({ id: 1, jsonrpc: "2.0", method: "boom" });
  assert.deepEqual(await client.nextJson(), { jsonrpc: "2.0", error: { code: -32000, message: "no route" }, id: 1 });
  client.send({ id: 2, jsonrpc: "2.0", method: "custom" });
  assert.deepEqual(await client.nextJson(), {
    jsonrpc: "2.0",
    error: { code: -32010, message: "busy", data: { retry: 5 } },
    id: 2,
  });
  client.send({ id: 3, jsonrpc: "2.0", method: "nope" });
  assert.equal(((await client.nextJson()) as { error: { code: number } }).error.code, -32601);
  client.send({ id: 4, jsonrpc: "2.0", method: "constructor" });
  assert.equal(((await client.nextJson()) as { error: { code: number } }).error.code, -32601);
  client.send("{not json");
  assert.deepEqual(await client.nextJson(), { jsonrpc: "2.0", error: { code: -32700, message: "Parse error" }, id: null });
  client.send({ id: 5, jsonrpc: "2.0", method: "nothing" });
  assert.deepEqual(await client.nextJson(), { jsonrpc: "2.0", result: null, id: 5 });
  client.send("[]");
  assert.equal(((await client.nextJson()) as { error: { code: number } }).error.code, -32600);
  client.close();
  await server.close();
});

test("jsonrpc server: notifications get no reply; batches get an array", async () => {
  const { server, client } = await start();
  client.send({ jsonrpc: "2.0", method: "add", params: [1] });
  client.send({ jsonrpc: "2.0", method: "boom" });
  client.send([
    { id: 7, jsonrpc: "2.0", method: "add", params: [2, 2] },
    { jsonrpc: "2.0", method: "add", params: [] },
  ]);
  assert.deepEqual(await client.nextJson(), [{ jsonrpc: "2.0", result: 4, id: 7 }]);
  assert.equal(client.frames.size, 0);
  client.close();
  await server.close();
});

test("jsonrpc server: frames split anywhere, several per write, whitespace between", async () => {
  const { server, client } = await start();
  const a = '{"id":1,"jsonrpc":"2.0","method":"add","params":[1]}';
  const b = '{"id":2,"jsonrpc":"2.0","method":"add","params":[2]}';
  const wire = Buffer.from(`${a.length}:${a},\r\n${b.length}:${b},`);
  for (let i = 0; i < wire.length; i++) client.writeRaw(wire.subarray(i, i + 1));
  const got = [await client.nextJson(), await client.nextJson()] as { id: number }[];
  assert.deepEqual(got.map((r) => r.id).sort(), [1, 2]);
  client.writeRaw(Buffer.from(`${a.length}:${a},${b.length}:${b},`));
  assert.equal(((await client.nextJson()) as { id: number }).id, 1);
  assert.equal(((await client.nextJson()) as { id: number }).id, 2);
  client.close();
  await server.close();
});

test("jsonrpc server: bad framing or oversize closes that connection, counted; others unaffected", async () => {
  const { server, client } = await start();
  const other = await NetstringSocket.connect(server.address?.port ?? 0);
  client.writeRaw("GET / HTTP/1.0\r\n\r\n");
  await client.closed;
  const big = await NetstringSocket.connect(server.address?.port ?? 0);
  big.writeRaw("5000:");
  await big.closed;
  assert.equal(server.stats.errors.get("ERR_NETSTRING_BAD_LENGTH"), 1);
  assert.equal(server.stats.errors.get("ERR_NETSTRING_TOO_LARGE"), 1);
  other.send({ id: 9, jsonrpc: "2.0", method: "add", params: [9] });
  assert.deepEqual(await other.nextJson(), { jsonrpc: "2.0", result: 9, id: 9 });
  other.close();
  await server.close();
});
