// EvapiClient against a real scripted netstring event server on loopback: events as text and JSON,
// answer() echoing tindex/tlabel, garbage/oversize/mid-frame close → coded error + reconnect,
// refused connections and restart on the same port, giving up, backpressure, raw NDJSON, IPv6.
import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { EvapiClient, type EvapiClientOptions } from "../../src/client/index.js";
import { ScriptedEventServer } from "../support/scripted-event-server.js";
import { nextEvent } from "../support/async-queue.js";

const fast = { initialDelay: 5, maxDelay: 40 };

async function setup(extra: Partial<EvapiClientOptions> = {}) {
  const server = await ScriptedEventServer.start();
  const client = new EvapiClient({ port: server.port, reconnect: fast, ...extra });
  await client.connect();
  const socket = await server.accepted.next();
  return { server, client, socket };
}

async function teardown(server: ScriptedEventServer, client: EvapiClient) {
  await client.close();
  await server.stop();
}

test("client: events arrive as text and as parsed JSON, in order, across any segmentation", async () => {
  const { server, client, socket } = await setup();
  const texts: string[] = [];
  const events: unknown[] = [];
  client.on("message", (t) => texts.push(t));
  client.on("event", (e) => events.push(e));
  const done = nextEvent(client, "event");
  const wire = Buffer.from('13:{"event":"a"}, \r\n13:{"event":"b"},13:{"event":"c"},');
  for (let i = 0; i < wire.length; i += 3) socket.write(wire.subarray(i, i + 3));
  await done;
  while (events.length < 3) await nextEvent(client, "event");
  assert.deepEqual(events, [{ event: "a" }, { event: "b" }, { event: "c" }]);
  assert.deepEqual(texts, ['{"event":"a"}', '{"event":"b"}', '{"event":"c"}']);
  assert.equal(client.stats.rx, 3);
  await teardown(server, client);
});

test("client: a non-JSON message gives a coded parseError and the connection stays up", async () => {
  const { server, client } = await setup();
  client.on("event", () => undefined);
  const parseError = nextEvent(client, "parseError");
  server.send("not json");
  const [err, text] = (await parseError) as [{ code: string }, string];
  assert.equal(err.code, "ERR_CLIENT_BAD_JSON");
  assert.equal(text, "not json");
  assert.equal(client.connected, true);
  server.send({ ok: 1 });
  assert.deepEqual((await nextEvent(client, "event"))[0], { ok: 1 });
  await teardown(server, client);
});

test("client: answer() echoes tindex/tlabel for sync and async handlers, none for undefined", async () => {
  const { server, client } = await setup();
  client.answer(async (ev) => {
    const e = ev as { kind: string };
    if (e.kind === "skip") return undefined;
    if (e.kind === "async") return Promise.resolve({ action: "async-ok" });
    return { action: "ok" };
  });
  server.send({ kind: "skip", tindex: 0, tlabel: 0 });
  server.send({ kind: "sync", tindex: 12566, tlabel: 1148670067 });
  server.send({ kind: "async", tindex: 7, tlabel: 8, other: "x" });
  const got = [JSON.parse((await server.frames.next()).text), JSON.parse((await server.frames.next()).text)];
  got.sort((a, b) => a.tindex - b.tindex);
  assert.deepEqual(got, [
    { action: "async-ok", tindex: 7, tlabel: 8 },
    { action: "ok", tindex: 12566, tlabel: 1148670067 },
  ]);
  assert.equal(server.frames.size, 0);
  await teardown(server, client);
});

test("client: answer() with custom fields and a throwing handler (coded error, no crash)", async () => {
  const { server, client } = await setup();
  client.answer(
    (ev) => {
      if ((ev as { boom?: boolean }).boom) throw new Error("boom");
      return { Event: "CGR_AUTH_REPLY" };
    },
    { fields: ["TransactionIndex", "TransactionLabel"] },
  );
  const error = nextEvent(client, "error");
  server.send({ boom: true, TransactionIndex: 1 });
  assert.equal(((await error)[0] as { code: string }).code, "ERR_CLIENT_HANDLER_THREW");
  server.send({ TransactionIndex: "12566", TransactionLabel: "1148670067" });
  const reply = JSON.parse((await server.frames.next()).text);
  assert.deepEqual(reply, { Event: "CGR_AUTH_REPLY", TransactionIndex: "12566", TransactionLabel: "1148670067" });
  await teardown(server, client);
});

for (const [name, act, code] of [
  ["garbage", (s: ScriptedEventServer) => s.sendGarbage(), "ERR_NETSTRING_BAD_LENGTH"],
  ["an oversize frame", (s: ScriptedEventServer) => s.sendOversize(70000), "ERR_NETSTRING_TOO_LARGE"],
  ["a missing comma", (s: ScriptedEventServer) => s.sendRaw("3:abc;"), "ERR_NETSTRING_NO_COMMA"],
] as const) {
  test(`client: ${name} from the server → ${code}, disconnect, reconnect`, async () => {
    const { server, client } = await setup();
    const error = nextEvent(client, "error");
    const disconnected = nextEvent(client, "disconnected");
    const reconnecting = nextEvent(client, "reconnecting");
    act(server);
    assert.equal(((await error)[0] as { code: string }).code, code);
    const [info] = (await disconnected) as [{ reason: { code: string }; willReconnect: boolean }];
    assert.equal(info.reason.code, code);
    assert.equal(info.willReconnect, true);
    assert.equal(((await reconnecting)[0] as { attempt: number }).attempt, 1);
    await nextEvent(client, "connected");
    await server.accepted.next();
    assert.equal(client.stats.errors.get(code), 1);
    server.send({ again: true });
    client.on("event", () => undefined);
    assert.deepEqual((await nextEvent(client, "event"))[0], { again: true });
    await teardown(server, client);
  });
}

test("client: server closes mid-frame → disconnected (no error), reconnected, no partial event", async () => {
  const { server, client } = await setup();
  let events = 0;
  client.on("event", () => events++);
  const disconnected = nextEvent(client, "disconnected");
  server.closeMidFrame();
  const [info] = (await disconnected) as [{ reason: unknown; willReconnect: boolean }];
  assert.equal(info.reason, undefined);
  await nextEvent(client, "connected");
  assert.equal(events, 0);
  await teardown(server, client);
});

test("client: refused connections retry with backoff until the server restarts on the same port", async () => {
  const server = await ScriptedEventServer.start();
  await server.stop();
  const client = new EvapiClient({ port: server.port, reconnect: fast });
  const attempts: number[] = [];
  let restarted: Promise<void> | undefined;
  client.on("reconnecting", ({ attempt, delay, reason }) => {
    attempts.push(attempt);
    assert.ok(delay <= fast.maxDelay);
    assert.equal(reason?.code, "ERR_CLIENT_CONNECT_FAILED");
    if (attempt === 3) restarted = server.restart();
  });
  await client.connect();
  await restarted;
  assert.deepEqual(attempts.slice(0, 3), [1, 2, 3]);
  assert.equal(client.connected, true);
  await teardown(server, client);
});

test("client: server restart while connected → disconnected, reconnecting, connected, in that order", async () => {
  const { server, client } = await setup();
  const seen: string[] = [];
  for (const name of ["connected", "disconnected", "reconnecting"] as const) client.on(name, () => seen.push(name));
  const reconnected = nextEvent(client, "connected");
  client.once("reconnecting", () => void server.restart());
  await server.stop();
  await reconnected;
  await server.accepted.next();
  assert.equal(seen[0], "disconnected");
  assert.equal(seen[1], "reconnecting");
  assert.equal(seen.at(-1), "connected");
  server.send({ after: "restart" });
  client.on("event", () => undefined);
  assert.deepEqual((await nextEvent(client, "event"))[0], { after: "restart" });
  await teardown(server, client);
});

test("client: maxAttempts used up → coded error, close, connect() rejects; no unhandled rejection", async () => {
  const server = await ScriptedEventServer.start();
  await server.stop();
  const client = new EvapiClient({ port: server.port, reconnect: { initialDelay: 1, maxDelay: 2, maxAttempts: 2 } });
  const errors: string[] = [];
  client.on("error", (e) => errors.push(e.code));
  const closed = nextEvent(client, "close");
  await assert.rejects(client.connect(), { code: "ERR_CLIENT_CONNECT_FAILED" });
  await closed;
  assert.deepEqual(errors, ["ERR_CLIENT_CONNECT_FAILED"]);
  assert.equal(client.stats.reconnectAttempts, 2);
  await assert.rejects(client.connect(), { code: "ERR_CLIENT_CLOSED" });
});

test("client: close() fires disconnected without reconnect, then close; send() then throws", async () => {
  const { server, client } = await setup();
  const disconnected = nextEvent(client, "disconnected");
  let reconnecting = false;
  client.on("reconnecting", () => (reconnecting = true));
  await client.close();
  assert.equal(((await disconnected)[0] as { willReconnect: boolean }).willReconnect, false);
  assert.equal(reconnecting, false);
  assert.throws(() => client.send({ a: 1 }), { code: "ERR_CLIENT_NOT_CONNECTED" });
  await assert.rejects(client.drain(), { code: "ERR_CLIENT_NOT_CONNECTED" });
  await server.stop();
});

test("client: backpressure — send() returns false while the server does not read, drain() resolves", async () => {
  const { server, client } = await setup({ maxBufferedBytes: 64 * 1024 * 1024 });
  server.pauseReading();
  const big = { pad: "x".repeat(60000) };
  const n = 400; // 24 MB: more than loopback socket buffers hold, so bytes stay queued in the client
  let refused = 0;
  for (let i = 0; i < n; i++) if (!client.send(big)) refused++;
  assert.ok(refused > 0, "send never reported backpressure");
  assert.ok(client.bufferedAmount > 0, "nothing queued although the server is not reading");
  const drained = client.drain();
  server.resume();
  await drained;
  for (let i = 0; i < n; i++) assert.equal((await server.frames.next()).text.length, 60010);
  assert.equal(client.stats.tx, n);
  await teardown(server, client);
});

test("client: raw mode with a newline delimiter (NDJSON) both ways", async () => {
  const { server, client, socket } = await setup({ framing: "raw", rawDelimiter: "\n" });
  const events: unknown[] = [];
  client.on("event", (e) => events.push(e));
  socket.write('{"a":1}\n{"b"');
  socket.write(":2}\n");
  while (events.length < 2) await nextEvent(client, "event");
  assert.deepEqual(events, [{ a: 1 }, { b: 2 }]);
  const line = once(socket, "data", { signal: AbortSignal.timeout(5000) });
  client.send({ reply: true });
  assert.equal(String((await line)[0]), '{"reply":true}\n');
  await teardown(server, client);
});

test("client: connects over IPv6 loopback", async (t) => {
  let server: ScriptedEventServer;
  try {
    server = await ScriptedEventServer.start({ host: "::1" });
  } catch {
    t.skip("no IPv6 loopback on this machine");
    return;
  }
  const client = new EvapiClient({ host: "::1", port: server.port, reconnect: false });
  await client.connect();
  const socket = await server.accepted.next();
  assert.equal(socket.remoteFamily, "IPv6");
  await teardown(server, client);
});
