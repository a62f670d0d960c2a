// EvapiClient bounds what a peer can make it hold, against a real scripted event server on
// loopback: reads go on while replies wait for drain, answer() replies past maxBufferedBytes drop
// the connection (ERR_CLIENT_SLOW_PEER), async answer handlers are capped, and a throwing listener
// is reported as ERR_CLIENT_HANDLER_THREW instead of crashing the process.
import { test } from "node:test";
import assert from "node:assert/strict";
import { EvapiClient, type EvapiClientOptions } from "../../src/client/index.js";
import { encodeNetstring } from "evsip-client/netstring";
import { ScriptedEventServer } from "../support/scripted-event-server.js";
import { AsyncQueue, nextEvent } from "../support/async-queue.js";

const fast = { initialDelay: 5, maxDelay: 40 };

async function setup(extra: Partial<EvapiClientOptions> = {}) {
  const server = await ScriptedEventServer.start();
  const client = new EvapiClient({ port: server.port, reconnect: fast, ...extra });
  await client.connect();
  const socket = await server.accepted.next();
  return { server, client, socket };
}

function events(n: number, pad = 0): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < n; i++) parts.push(encodeNetstring(JSON.stringify({ tindex: i, tlabel: 1, pad: "p".repeat(pad) })));
  return Buffer.concat(parts);
}

test("client bounds: a server flooding events and reading nothing → answer() drops it with ERR_CLIENT_SLOW_PEER", async () => {
  const limit = 1024 * 1024;
  const { server, client, socket } = await setup({ maxBufferedBytes: limit });
  server.pauseReading();
  const reply = { pad: "r".repeat(10000) };
  let peak = 0;
  client.answer(() => {
    peak = Math.max(peak, client.bufferedAmount);
    return reply;
  });
  const error = nextEvent(client, "error", 10000);
  const disconnected = nextEvent(client, "disconnected", 10000);
  socket.write(events(20000, 100)); // 2.6 MB of events asking for 200 MB of replies
  assert.equal(((await error)[0] as { code: string }).code, "ERR_CLIENT_SLOW_PEER");
  const [info] = (await disconnected) as [{ reason: { code: string }; willReconnect: boolean }];
  assert.equal(info.reason.code, "ERR_CLIENT_SLOW_PEER");
  assert.equal(info.willReconnect, true);
  assert.ok(peak <= limit, `${peak} bytes were buffered, limit ${limit}`);
  assert.equal(client.stats.errors.get("ERR_CLIENT_SLOW_PEER"), 1);
  server.resume();
  await nextEvent(client, "connected");
  await server.accepted.next();
  server.send({ tindex: 1, tlabel: 2 });
  while (JSON.parse((await server.frames.next()).text).tlabel !== 2);
  await client.close();
  await server.stop();
});

test("client bounds: send() past maxBufferedBytes throws ERR_CLIENT_SLOW_PEER, counted, connection kept", async () => {
  const { server, client } = await setup({ maxBufferedBytes: 256 * 1024 });
  server.pauseReading();
  const big = { pad: "x".repeat(60000) };
  let thrown: unknown;
  for (let i = 0; i < 1000 && thrown === undefined; i++) {
    try {
      client.send(big);
    } catch (e) {
      thrown = e;
    }
  }
  assert.equal((thrown as { code: string }).code, "ERR_CLIENT_SLOW_PEER");
  assert.ok(client.bufferedAmount <= 256 * 1024);
  assert.equal(client.stats.errors.get("ERR_CLIENT_SLOW_PEER"), 1);
  assert.equal(client.connected, true);
  const drained = client.drain();
  server.resume();
  await drained;
  await client.close();
  await server.stop();
});

test("client bounds: events keep arriving while our replies wait for drain (no deadlock with a peer that writes but does not read)", async () => {
  const { server, client } = await setup();
  try {
    server.pauseReading();
    const big = { pad: "x".repeat(60000) };
    while (client.send(big) || client.bufferedAmount < 2 * 1024 * 1024);
    // The peer still does not read; its event must reach us anyway (the old code paused reading
    // here, and this wait timed out).
    const seen = nextEvent(client, "event", 5000);
    server.send({ ping: 1 });
    await seen;
    assert.equal(client.stats.readPauses, 0, "reading never paused for our own unsent bytes");
  } finally {
    server.resume();
    await client.close();
    await server.stop();
  }
});

test("client bounds: 3000 flooded events never run more than maxConcurrent async answer handlers", async () => {
  const { server, client, socket } = await setup();
  const started = new AsyncQueue<() => void>();
  let active = 0;
  let peak = 0;
  client.answer(
    () =>
      new Promise((resolve) => {
        active++;
        peak = Math.max(peak, active);
        started.push(() => {
          active--;
          resolve({ ok: true });
        });
      }),
    { maxConcurrent: 8 },
  );
  const n = 3000;
  socket.write(events(n));
  for (let i = 0; i < n; i++) {
    const release = await started.next();
    assert.ok(active <= 8, `${active} handlers running at once`);
    release();
  }
  const seen = new Set<number>();
  for (let i = 0; i < n; i++) seen.add(JSON.parse((await server.frames.next()).text).tindex as number);
  assert.equal(seen.size, n);
  assert.equal(peak, 8);
  await client.close();
  await server.stop();
});

test("client bounds: a throwing event/message listener → ERR_CLIENT_HANDLER_THREW, no crash, next events delivered", async () => {
  const { server, client } = await setup();
  let messages = 0;
  client.on("message", () => {
    messages++;
    if (messages === 2) throw new Error("message listener bug");
  });
  client.on("event", (ev) => {
    if ((ev as { boom?: boolean }).boom) throw new Error("event listener bug");
  });
  const errors = new AsyncQueue<{ code: string; message: string }>();
  client.on("error", (e) => errors.push(e));
  server.send({ boom: true });
  const first = await errors.next();
  assert.equal(first.code, "ERR_CLIENT_HANDLER_THREW");
  assert.match(first.message, /"event" listener threw/);
  const fine = nextEvent(client, "event");
  server.send({ fine: true });
  assert.match((await errors.next()).message, /"message" listener threw/);
  assert.deepEqual((await fine)[0], { fine: true });
  assert.equal(client.stats.errors.get("ERR_CLIENT_HANDLER_THREW"), 2);
  assert.equal(client.stats.listenerErrors, 2);
  assert.equal(client.connected, true);
  await client.close();
  await server.stop();
});

test("client bounds: a throwing listener with no error listener is counted, not thrown", async () => {
  const { server, client } = await setup();
  client.on("event", (ev) => {
    if ((ev as { boom?: boolean }).boom) throw new Error("bug");
  });
  server.send({ boom: true });
  server.send({ after: 1 });
  while (((await nextEvent(client, "event"))[0] as { after?: number }).after !== 1);
  assert.equal(client.stats.errors.get("ERR_CLIENT_HANDLER_THREW"), 1);
  await client.close();
  await server.stop();
});
