// Durable delivery over plain TCP (README.md "Durable delivery"): the subscribe handshake, ids and
// wrapped events, cumulative acks, resume after a destroyed connection, retention while away,
// the bound (drop-oldest, reported), flow-controlled replay, and every bad input with its code.
// Clients that do not subscribe keep receiving exactly the plain frames.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { TmApi } from "../../../src/core/context-types.js";
import { NetstringDecoder } from "evsip-client/netstring";
import { TestClient, type Harness, withEvapi } from "../../support/evapi-harness.js";

type Frame = { evsip?: string; id?: number; event?: unknown; text?: string; [k: string]: unknown };

const frames = (c: TestClient): Frame[] => c.frames.map((f) => JSON.parse(f) as Frame);
const events = (c: TestClient): Frame[] => frames(c).filter((f) => f.evsip === "event");
const subscribe = (consumer: string | undefined, resume: number | null = null): string =>
  netstring(JSON.stringify({ evsip: "subscribe", consumer, resume }));
const ack = (id: unknown): string => netstring(JSON.stringify({ evsip: "ack", id }));

function netstring(s: string): string {
  return `${Buffer.byteLength(s)}:${s},`;
}

/** Connects, subscribes and waits for the reply. */
async function consumer(
  h: Harness,
  name: string | undefined,
  resume: number | null = null,
): Promise<{ c: TestClient; reply: Frame }> {
  const c = await TestClient.open(h.port);
  c.send(subscribe(name, resume));
  await c.until(() => frames(c).some((f) => f.evsip === "subscribed" || f.evsip === "error"));
  return { c, reply: frames(c).find((f) => f.evsip === "subscribed" || f.evsip === "error") as Frame };
}

const relay = (h: Harness, data: string | object): number => h.ctx("event").evapi.relay(data);
/** Waits until the router has read every message the clients sent (acks are processed on read). */
const readAll = (h: Harness, n: number): Promise<void> => waitFor(() => h.mod.service.stats.messagesReceived >= n);

async function waitFor(pred: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error("condition not reached");
    await new Promise((r) => setImmediate(r));
  }
}

test("durable: subscribe, ids, wrapped payloads (object and string), acks release; a plain client sees plain frames", async () => {
  await withEvapi({}, async (h) => {
    const plain = await TestClient.open(h.port);
    const { c, reply } = await consumer(h, "billing");
    assert.deepEqual(reply, { evsip: "subscribed", consumer: "billing", acked: 0, next: 1, last: 0, lost: null });
    assert.equal(relay(h, { event: "call-start", ci: "a" }), 2);
    relay(h, '{"event":"call-end","ci":"a"}');
    relay(h, "not json at all");
    await c.until(() => events(c).length === 3);
    await plain.waitFrames(3);
    assert.deepEqual(
      plain.frames,
      ['{"event":"call-start","ci":"a"}', '{"event":"call-end","ci":"a"}', "not json at all"],
      "plain frames unchanged",
    );
    assert.equal(c.frames[1], '{"evsip":"event","id":1,"event":{"event":"call-start","ci":"a"}}');
    assert.deepEqual(events(c).slice(1), [
      { evsip: "event", id: 2, text: '{"event":"call-end","ci":"a"}' },
      { evsip: "event", id: 3, text: "not json at all" },
    ]);
    assert.equal((h.mod.stats().pendingByConsumer as Map<string, number>).get("billing"), 3);
    c.send(ack(2));
    await readAll(h, 2);
    assert.equal((h.mod.stats().pendingByConsumer as Map<string, number>).get("billing"), 1);
    assert.equal(h.mod.service.stats.durableAcked, 2);
    assert.equal(
      h
        .ctx("event")
        .evapi.clients()
        .find((x) => x.conidx === 1)?.tag,
      "billing",
      "the consumer name is the connection's tag",
    );
    c.destroy();
    plain.destroy();
  });
});

test("durable: a consumer destroyed mid-stream resumes with every unacked event in order, then new ones", async () => {
  await withEvapi({}, async (h) => {
    const first = await consumer(h, "billing");
    for (let i = 1; i <= 5; i++) relay(h, { n: i });
    await first.c.until(() => events(first.c).length === 5);
    first.c.send(ack(2));
    await readAll(h, 2);
    first.c.destroy();
    await waitFor(() => h.mod.stats().consumersConnected === 0);
    for (let i = 6; i <= 8; i++) assert.equal(relay(h, { n: i }), 1, "retained for the away consumer");
    const { c, reply } = await consumer(h, "billing", 2);
    assert.deepEqual(
      { acked: reply.acked, next: reply.next, last: reply.last, lost: reply.lost },
      { acked: 2, next: 3, last: 8, lost: null },
    );
    relay(h, { n: 9 });
    await c.until(() => events(c).length === 7);
    assert.deepEqual(
      events(c).map((e) => [e.id, (e.event as { n: number }).n]),
      [3, 4, 5, 6, 7, 8, 9].map((n) => [n, n]),
    );
    assert.ok(h.mod.service.stats.durableReplayed >= 6);
    c.destroy();
  });
});

test("durable: a declared consumer gets what was produced before it ever connected (resume null)", async () => {
  await withEvapi({ durableConsumers: ["billing"] }, async (h) => {
    assert.equal(relay(h, { n: 1 }), 1);
    assert.equal(h.ctx("event").evapi.multicast({ n: 2 }, "billing"), 1);
    assert.equal(h.ctx("event").evapi.unicast({ n: 3 }, "billing"), 1);
    assert.equal(h.ctx("event").evapi.multicast({ n: 0 }, "other"), 0);
    const { c, reply } = await consumer(h, "billing");
    assert.equal(reply.next, 1);
    await c.until(() => events(c).length === 3);
    assert.deepEqual(
      events(c).map((e) => (e.event as { n: number }).n),
      [1, 2, 3],
    );
    c.destroy();
  });
});

test("durable: async relays still fail fast when no client is connected, and are not retained for an away consumer", async () => {
  await withEvapi({ durableConsumers: ["billing"] }, async (h) => {
    let suspends = 0;
    const tm = { suspend: () => (suspends++, { index: 1, label: 2 }), unsuspend: () => undefined } as unknown as TmApi;
    assert.equal(
      h.ctx("request", tm).evapi.asyncRelay(() => ({ n: 1 })),
      0,
    );
    assert.equal(h.ctx("request", tm).evapi.asyncUnicast({ n: 1 }, "billing"), 0);
    assert.equal(suspends, 0);
    const plain = await TestClient.open(h.port);
    await h.connections.wait(1);
    assert.equal(
      h.ctx("request", tm).evapi.asyncRelay((t) => ({ t: t.index })),
      1,
      "to the connected plain client only",
    );
    assert.equal((h.mod.stats().pendingByConsumer as Map<string, number>).get("billing"), 0);
    plain.destroy();
  });
});

test("durable: retention overflow drops the oldest, is counted and logged, and the resume reply says what was lost", async () => {
  await withEvapi({ durableConsumers: ["billing"], durableMaxEvents: 5 }, async (h) => {
    for (let i = 1; i <= 8; i++) relay(h, { n: i });
    const s = h.mod.service.stats;
    assert.equal(s.retentionDropped, 3);
    assert.equal(s.errors.get("ERR_EVAPI_RETENTION_FULL"), 3);
    assert.equal((h.mod.stats().pendingByConsumer as Map<string, number>).get("billing"), 5);
    const { c, reply } = await consumer(h, "billing", 0);
    assert.deepEqual(reply.lost, { from: 1, to: 3, count: 3 });
    assert.equal(reply.next, 4);
    await c.until(() => events(c).length === 5);
    assert.deepEqual(
      events(c).map((e) => e.id),
      [4, 5, 6, 7, 8],
    );
    assert.equal(s.eventsLost, 3);
    c.destroy();
  });
});

test("durable: a byte bound too", async () => {
  await withEvapi({ durableConsumers: ["billing"], durableMaxBytes: 1024 }, async (h) => {
    const big = "x".repeat(300);
    for (let i = 1; i <= 6; i++) relay(h, { n: i, big });
    assert.equal(h.mod.service.stats.retentionDropped, 4);
    const bytes = (h.mod.stats().bytesPendingByConsumer as Map<string, number>).get("billing") ?? 0;
    assert.ok(bytes <= 1024, `retained ${bytes} bytes`);
    const { c, reply } = await consumer(h, "billing");
    assert.deepEqual(reply.lost, { from: 1, to: 4, count: 4 });
    await c.until(() => events(c).length === 2);
    assert.deepEqual(
      events(c).map((e) => e.id),
      [5, 6],
    );
    c.destroy();
  });
});

test("durable: events dropped before a connected consumer was sent them are announced in the stream", async () => {
  await withEvapi({ durableMaxEvents: 100 }, async (h) => {
    const { c } = await consumer(h, "billing");
    const pad = "p".repeat(1000);
    for (let i = 1; i <= 2000; i++) relay(h, { n: i, pad }); // one turn: the queue passes PUMP_CHUNK
    await c.until(() => events(c).some((e) => e.id === 2000), 10_000);
    const stream = frames(c).slice(1);
    const lostAt = stream.findIndex((f) => f.evsip === "lost");
    assert.ok(lostAt > 0, "a lost notice");
    const sent = stream.slice(0, lostAt).map((f) => f.id);
    assert.deepEqual(
      sent,
      sent.map((_, i) => i + 1),
      "a contiguous prefix was sent directly",
    );
    assert.deepEqual(stream[lostAt], { evsip: "lost", from: lostAt + 1, to: 1900, count: 1900 - lostAt });
    assert.deepEqual(
      stream.slice(lostAt + 1).map((f) => f.id),
      Array.from({ length: 100 }, (_, i) => 1901 + i),
    );
    c.destroy();
  });
});

test("durable: a long replay is flow-controlled and arrives complete and in order", async () => {
  await withEvapi({ durableConsumers: ["billing"] }, async (h) => {
    const N = 20_000;
    const pad = "p".repeat(200);
    for (let i = 1; i <= N; i++) relay(h, { n: i, pad });
    const c = await TestClient.open(h.port, "127.0.0.1", false);
    const ids: number[] = [];
    const d = new NetstringDecoder({
      maxMessageSize: 1 << 20,
      onFrame: (p) => {
        const f = JSON.parse(p.toString()) as Frame;
        if (f.evsip === "event") ids.push(f.id as number);
      },
    });
    c.socket.on("data", (chunk: Buffer) => d.push(chunk));
    c.send(subscribe("billing"));
    await c.until(() => ids.length === N, 20_000);
    assert.ok(
      ids.every((id, i) => id === i + 1),
      "ids 1..N, each once, in order",
    );
    c.destroy();
  });
});

test("durable: bad input gets coded errors and loses nothing", async () => {
  await withEvapi({ durableMaxConsumers: 2 }, async (h) => {
    const s = h.mod.service.stats;
    const notice = async (send: string, code: string, closes: boolean): Promise<void> => {
      const c = await TestClient.open(h.port);
      for (const part of send.split("|")) c.send(part);
      await c.until(() => frames(c).some((f) => f.evsip === "error"));
      assert.equal(frames(c).find((f) => f.evsip === "error")?.code, code);
      if (closes) await c.waitClosed();
      else assert.equal(c.closed, false);
      c.destroy();
    };
    await notice(netstring('{"evsip":"subscribe",'), "ERR_EVAPI_BAD_HANDSHAKE", true);
    await notice(subscribe(""), "ERR_EVAPI_BAD_HANDSHAKE", true);
    await notice(netstring(JSON.stringify({ evsip: "subscribe", consumer: "b", resume: -1 })), "ERR_EVAPI_BAD_HANDSHAKE", true);
    await notice(
      netstring(JSON.stringify({ evsip: "subscribe", consumer: "b", pad: "x".repeat(2000) })),
      "ERR_EVAPI_BAD_HANDSHAKE",
      true,
    );
    await notice(netstring(JSON.stringify({ evsip: "subscribe" })), "ERR_EVAPI_BAD_HANDSHAKE", true); // untagged, no name
    await notice(netstring(JSON.stringify({ evsip: "hello" })), "ERR_EVAPI_BAD_HANDSHAKE", true);
    await notice(`5:hello,|${subscribe("billing")}`, "ERR_EVAPI_HANDSHAKE_NOT_FIRST", true);
    await notice(ack(1), "ERR_EVAPI_NOT_SUBSCRIBED", false);
    assert.equal(s.errors.get("ERR_EVAPI_BAD_HANDSHAKE"), 6);

    const { c } = await consumer(h, "billing");
    for (let i = 1; i <= 3; i++) relay(h, { n: i });
    await c.until(() => events(c).length === 3);
    c.send(ack(7)); // future: never sent
    c.send(ack("x"));
    c.send(ack(2));
    c.send(ack(1)); // duplicate (cumulative: already covered)
    c.send(ack(2));
    c.send(netstring(JSON.stringify({ evsip: "subscribe", consumer: "billing" })));
    await c.waitClosed();
    assert.equal(s.errors.get("ERR_EVAPI_BAD_ACK"), 2);
    assert.equal(s.errors.get("ERR_EVAPI_DUPLICATE_ACK"), 2);
    assert.equal(s.errors.get("ERR_EVAPI_HANDSHAKE_NOT_FIRST"), 2);
    const errs = frames(c)
      .filter((f) => f.evsip === "error")
      .map((f) => f.code);
    assert.deepEqual(errs, ["ERR_EVAPI_BAD_ACK", "ERR_EVAPI_BAD_ACK", "ERR_EVAPI_HANDSHAKE_NOT_FIRST"]);

    // Nothing was lost: id 3 was never acked and comes back.
    const again = await consumer(h, "billing", 99); // a future resume position
    assert.equal(again.reply.error, "ERR_EVAPI_RESUME_AHEAD");
    assert.equal(again.reply.acked, 2);
    await again.c.until(() => events(again.c).length === 1);
    assert.equal(events(again.c)[0]?.id, 3);
    assert.equal(s.errors.get("ERR_EVAPI_RESUME_AHEAD"), 1);

    // Takeover: the same consumer from a new connection replaces the old one.
    const taker = await consumer(h, "billing", 2);
    await again.c.waitClosed();
    assert.equal(frames(again.c).at(-1)?.code, "ERR_EVAPI_CONSUMER_REPLACED");
    await taker.c.until(() => events(taker.c).length === 1);
    assert.equal(s.errors.get("ERR_EVAPI_CONSUMER_REPLACED"), 1);

    await consumer(h, "fraud"); // the second consumer
    await notice(subscribe("third"), "ERR_EVAPI_TOO_MANY_CONSUMERS", true);
    taker.c.destroy();
  });
});

test("durable: the README's plain-TCP session, byte for byte", async () => {
  await withEvapi({ durableConsumers: ["billing"] }, async (h) => {
    const c = await TestClient.open(h.port);
    c.send('56:{"evsip":"subscribe","consumer":"billing","resume":null},');
    await c.waitFrames(1);
    relay(h, { event: "call-start", ci: "a1" });
    relay(h, '{"event":"call-end","ci":"a1"}');
    await c.waitFrames(3);
    assert.equal(
      c.raw.toString(),
      '83:{"evsip":"subscribed","consumer":"billing","acked":0,"next":1,"last":0,"lost":null},' +
        '65:{"evsip":"event","id":1,"event":{"event":"call-start","ci":"a1"}},' +
        '72:{"evsip":"event","id":2,"text":"{\\"event\\":\\"call-end\\",\\"ci\\":\\"a1\\"}"},',
    );
    c.send('22:{"evsip":"ack","id":2},');
    await readAll(h, 2);
    c.destroy();
    await waitFor(() => h.mod.stats().consumersConnected === 0);
    relay(h, { event: "call-start", ci: "b2" });
    const again = await TestClient.open(h.port);
    again.send('53:{"evsip":"subscribe","consumer":"billing","resume":2},');
    await again.waitFrames(2);
    assert.equal(
      again.raw.toString(),
      '83:{"evsip":"subscribed","consumer":"billing","acked":2,"next":3,"last":3,"lost":null},' +
        '65:{"evsip":"event","id":3,"event":{"event":"call-start","ci":"b2"}},',
    );
    again.destroy();
  });
});
