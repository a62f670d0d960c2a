// evsip/client's durable mode against the real evapi module: handshake, unwrapped events for
// existing listeners, automatic acks after consume() resolves, resume after the router drops the
// connection, duplicates dropped by id, manual acks, a throwing handler gets its event again, a
// loss reported by the router surfaces as a coded error, and a stream that restarted (resume ahead).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EvapiClient, fileDurableStore, type DurableStore, type SubscribedInfo } from "../../src/client/index.js";
import type { EvapiParams } from "../../src/modules/evapi/params.js";
import { startEvapi, type Harness } from "../support/evapi-harness.js";
import { nextEvent } from "../support/async-queue.js";

const fast = { initialDelay: 5, maxDelay: 20 };

async function withRouter(params: Partial<EvapiParams>, body: (h: Harness) => Promise<void>): Promise<void> {
  const h = await startEvapi(params, { "evapi:message-received": () => undefined });
  try {
    await body(h);
  } finally {
    await h.stop();
  }
}

const relay = (h: Harness, n: number): number => h.ctx("event").evapi.relay({ n });
const pending = (h: Harness): number => (h.mod.stats().pendingByConsumer as Map<string, number>).get("billing") ?? -1;

/** Resolves once `pred` holds, checked every loop turn (no timers: it waits on I/O, not on time). */
async function until(pred: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((r) => setImmediate(r));
  }
}

const acked = (h: Harness, n: number): Promise<void> => until(() => h.mod.service.stats.durableAcked >= n);

function memoryStore(initial: number | null): DurableStore & { saved: number[] } {
  const saved: number[] = [];
  return {
    saved,
    load: () => Promise.resolve(initial),
    save: (id) => {
      saved.push(id);
      return Promise.resolve();
    },
  };
}

test("client durable: consume() in order, auto acks release the router's retention, resume after a drop, duplicates dropped", async () => {
  await withRouter({ durableConsumers: ["billing"] }, async (h) => {
    const store = memoryStore(null);
    const client = new EvapiClient({ port: h.port, reconnect: fast, durable: { consumer: "billing", store } });
    const handled: number[] = [];
    const seen: unknown[] = [];
    client.on("event", (e) => seen.push(e));
    client.consume(async (ev, { id }) => {
      await Promise.resolve();
      assert.equal((ev as { n: number }).n, id);
      handled.push(id);
    });
    for (let n = 1; n <= 3; n++) relay(h, n); // before the consumer ever connected
    const subscribed = nextEvent(client, "subscribed");
    await client.connect();
    assert.deepEqual(((await subscribed)[0] as SubscribedInfo).next, 1);
    await until(() => handled.length === 3);
    await acked(h, 3);
    assert.equal(pending(h), 0);
    assert.deepEqual(seen, [{ n: 1 }, { n: 2 }, { n: 3 }], "plain listeners see the application payload");

    // The router drops the connection; events go on meanwhile; the client resumes from 3.
    const resubscribed = nextEvent(client, "subscribed");
    h.mod.service.closeByScript(h.ctx("event").evapi.clients()[0]?.conidx ?? -1);
    for (let n = 4; n <= 6; n++) relay(h, n);
    const info = (await resubscribed)[0] as SubscribedInfo;
    assert.deepEqual({ acked: info.acked, next: info.next, lost: info.lost }, { acked: 3, next: 4, lost: null });
    await until(() => handled.length === 6);
    assert.deepEqual(handled, [1, 2, 3, 4, 5, 6]);
    await acked(h, 6);
    assert.equal(store.saved.at(-1), 6);
    assert.equal(client.durableStats?.duplicates, 0);
    await client.close();
  });
});

test("client durable: a replayed id already handled is dropped, manual acks are cumulative", async () => {
  await withRouter({}, async (h) => {
    const client = new EvapiClient({ port: h.port, reconnect: fast, durable: { consumer: "billing", ack: "manual" } });
    const handled: number[] = [];
    client.consume((_ev, { id }) => void handled.push(id));
    await client.connect();
    await nextEvent(client, "subscribed");
    for (let n = 1; n <= 4; n++) relay(h, n);
    await until(() => handled.length === 4);
    client.ack(2);
    await acked(h, 2);
    assert.equal(pending(h), 2);
    // Reconnect without having acked 3 and 4: the router replays them, the client drops them.
    const again = nextEvent(client, "subscribed");
    h.mod.service.closeByScript(h.ctx("event").evapi.clients()[0]?.conidx ?? -1);
    await again;
    relay(h, 5);
    await until(() => handled.length === 5);
    assert.deepEqual(handled, [1, 2, 3, 4, 5]);
    assert.equal(client.durableStats?.duplicates, 2);
    client.ack(5);
    await acked(h, 5);
    assert.equal(pending(h), 0);
    await client.close();
  });
});

test("client durable: a handler that throws gets its event again after a reconnect", async () => {
  await withRouter({}, async (h) => {
    const client = new EvapiClient({ port: h.port, reconnect: fast, durable: { consumer: "billing" } });
    const errors: string[] = [];
    client.on("error", (e) => errors.push(e.code));
    const attempts: number[] = [];
    client.consume((_ev, { id }) => {
      attempts.push(id);
      if (id === 2 && attempts.filter((x) => x === 2).length === 1) throw new Error("database down");
    });
    await client.connect();
    await nextEvent(client, "subscribed");
    for (let n = 1; n <= 3; n++) relay(h, n);
    await until(() => attempts.includes(3));
    assert.deepEqual(attempts, [1, 2, 2, 3]);
    assert.ok(errors.includes("ERR_CLIENT_HANDLER_THREW"));
    await acked(h, 3);
    await client.close();
  });
});

test("client durable: a loss reported by the router is a coded error and a lost event", async () => {
  await withRouter({ durableConsumers: ["billing"], durableMaxEvents: 2 }, async (h) => {
    for (let n = 1; n <= 5; n++) relay(h, n);
    const client = new EvapiClient({ port: h.port, reconnect: fast, durable: { consumer: "billing" } });
    const errors: string[] = [];
    client.on("error", (e) => errors.push(e.code));
    const lost = nextEvent(client, "lost");
    const handled: number[] = [];
    client.consume((_ev, { id }) => void handled.push(id));
    await client.connect();
    assert.deepEqual((await lost)[0], { from: 1, to: 3, count: 3 });
    await until(() => handled.length === 2);
    assert.deepEqual(handled, [4, 5]);
    assert.deepEqual(errors, ["ERR_CLIENT_EVENTS_LOST"]);
    assert.equal(client.durableStats?.lost, 3);
    await client.close();
  });
});

test("client durable: a resume position the router never reached (its stream restarted) starts over from the router's", async () => {
  await withRouter({ durableConsumers: ["billing"] }, async (h) => {
    for (let n = 1; n <= 3; n++) relay(h, n);
    const store = memoryStore(1000);
    const client = new EvapiClient({ port: h.port, reconnect: fast, durable: { consumer: "billing", store } });
    const handled: number[] = [];
    client.consume((_ev, { id }) => void handled.push(id));
    const sub = nextEvent(client, "subscribed");
    await client.connect();
    assert.equal(((await sub)[0] as SubscribedInfo).error, "ERR_EVAPI_RESUME_AHEAD");
    await until(() => handled.length === 3);
    assert.deepEqual(handled, [1, 2, 3]);
    await acked(h, 3);
    assert.equal(store.saved[0], 0, "the position was reset in the store");
    await client.close();
  });
});

test("client durable: a store that fails to load rejects connect() with ERR_CLIENT_STORE_FAILED", async () => {
  const client = new EvapiClient({
    port: 1,
    durable: { consumer: "billing", store: { load: () => Promise.reject(new Error("disk")), save: () => Promise.resolve() } },
  });
  await assert.rejects(client.connect(), { code: "ERR_CLIENT_STORE_FAILED" });
});

test("fileDurableStore: null before the first save, the saved id after, a corrupt file is an error", async () => {
  const dir = mkdtempSync(join(tmpdir(), "evsip-store-"));
  try {
    const store = fileDurableStore(join(dir, "offset"));
    assert.equal(await store.load(), null);
    await store.save(41);
    await store.save(42);
    assert.equal(await fileDurableStore(join(dir, "offset")).load(), 42);
    writeFileSync(join(dir, "offset"), "garbage");
    await assert.rejects(store.load());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
