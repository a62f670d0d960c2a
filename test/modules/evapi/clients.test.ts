// Client slots and targeting over real sockets: maxClients + 1, lowest-free conidx reuse, relay /
// multicast / unicast ("first" and "round-robin"), tags of 63 and 64 bytes, relay from
// connection-new, close() from each route kind, clients(), $evapi(...), eventCallback.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Collector, startEvapi, TestClient } from "../../support/evapi-harness.js";
import { captureLogger } from "../../support/transport-harness.js";

test("maxClients + 1: the extra connection is accepted, closed at once, counted, no route runs", async () => {
  const news = new Collector<number>();
  const h = await startEvapi({ maxClients: 2 }, { "evapi:connection-new": (ctx) => news.push(ctx.evapi.conidx) });
  try {
    const a = await TestClient.open(h.port);
    const b = await TestClient.open(h.port);
    assert.deepEqual(await news.wait(2), [0, 1]);
    const extra = await TestClient.open(h.port);
    await extra.waitClosed();
    assert.equal(h.mod.service.stats.connectionsRejected, 1);
    assert.equal(h.mod.service.stats.errors.get("ERR_EVAPI_MAX_CLIENTS"), 1);
    assert.equal(news.items.length, 2);
    assert.equal(a.closed || b.closed, false);
    a.destroy();
    b.destroy();
  } finally {
    await h.stop();
  }
});

test("a client reconnecting in a loop while every slot is taken: each refusal counted, the log bounded", async () => {
  const log = captureLogger();
  const h = await startEvapi({ maxClients: 1 }, {}, log.logger);
  try {
    const a = await TestClient.open(h.port);
    await h.connections.wait(1);
    for (let i = 0; i < 30; i++) await (await TestClient.open(h.port)).waitClosed();
    assert.equal(h.mod.service.stats.errors.get("ERR_EVAPI_MAX_CLIENTS"), 30);
    const lines = log.lines.filter((l) => l.code === "ERR_EVAPI_MAX_CLIENTS");
    assert.equal(lines.length, 10, "10 lines per code per 10 s (RateLimitedLog), the rest counted");
    assert.match(String(lines[0]?.peer), /^127\.0\.0\.1:\d+$/);
    a.destroy();
  } finally {
    await h.stop();
  }
});

test("conidx is the lowest free slot, reused after a close", async () => {
  const closed = new Collector<number>();
  const h = await startEvapi({ maxClients: 4 }, { "evapi:connection-closed": (ctx) => closed.push(ctx.evapi.conidx) });
  try {
    const c0 = await TestClient.open(h.port);
    const c1 = await TestClient.open(h.port);
    const c2 = await TestClient.open(h.port);
    assert.deepEqual(await h.connections.wait(3), [0, 1, 2]);
    c1.end();
    assert.deepEqual(await closed.wait(1), [1]);
    const c3 = await TestClient.open(h.port);
    assert.deepEqual((await h.connections.wait(4))[3], 1);
    assert.deepEqual(
      h
        .ctx("event")
        .evapi.clients()
        .map((c) => c.conidx),
      [0, 1, 2],
    );
    for (const c of [c0, c2, c3]) c.destroy();
  } finally {
    await h.stop();
  }
});

async function taggedClients(
  policy: "first" | "round-robin",
): Promise<{ h: Awaited<ReturnType<typeof startEvapi>>; cs: TestClient[] }> {
  const tags = ["", "billing", "billing", "fraud"];
  const h = await startEvapi(
    { unicast: policy },
    { "evapi:connection-new": (ctx) => void ctx.evapi.setTag(tags[ctx.evapi.conidx] ?? "") },
  );
  const cs: TestClient[] = [];
  for (let i = 0; i < tags.length; i++) {
    cs.push(await TestClient.open(h.port));
    await h.connections.wait(i + 1);
  }
  return { h, cs };
}

test("relay reaches every client, multicast the exact tag only, untagged never", async () => {
  const { h, cs } = await taggedClients("first");
  try {
    const ev = h.ctx("event").evapi;
    assert.equal(ev.relay("all"), 4);
    assert.equal(ev.multicast("bill", "billing"), 2);
    assert.equal(ev.multicast("none", "Billing"), 0);
    assert.equal(ev.multicast("fr", "fraud"), 1);
    await Promise.all([cs[0]!.waitFrames(1), cs[1]!.waitFrames(2), cs[2]!.waitFrames(2), cs[3]!.waitFrames(2)]);
    assert.deepEqual(
      cs.map((c) => c.frames),
      [["all"], ["all", "bill"], ["all", "bill"], ["all", "fr"]],
    );
    for (const c of cs) c.destroy();
  } finally {
    await h.stop();
  }
});

test('unicast "first" always picks the lowest conidx with the tag', async () => {
  const { h, cs } = await taggedClients("first");
  try {
    const ev = h.ctx("event").evapi;
    for (let i = 0; i < 4; i++) assert.equal(ev.unicast(`u${i}`, "billing"), 1);
    assert.equal(ev.unicast("x", "nobody"), 0);
    await cs[1]!.waitFrames(4);
    assert.deepEqual(cs[1]!.frames, ["u0", "u1", "u2", "u3"]);
    assert.equal(cs[2]!.frames.length, 0);
    for (const c of cs) c.destroy();
  } finally {
    await h.stop();
  }
});

test('unicast "round-robin" alternates among the clients with the tag', async () => {
  const { h, cs } = await taggedClients("round-robin");
  try {
    const ev = h.ctx("event").evapi;
    for (let i = 0; i < 4; i++) assert.equal(ev.unicast(`u${i}`, "billing"), 1);
    await Promise.all([cs[1]!.waitFrames(2), cs[2]!.waitFrames(2)]);
    assert.deepEqual(cs[1]!.frames, ["u0", "u2"]);
    assert.deepEqual(cs[2]!.frames, ["u1", "u3"]);
    for (const c of cs) c.destroy();
  } finally {
    await h.stop();
  }
});

test("setTag: 63 bytes accepted, 64 refused, empty untags; false outside evapi events", async () => {
  const results = new Collector<boolean[]>();
  const h = await startEvapi(
    {},
    {
      "evapi:connection-new": (ctx) => {
        const ok63 = ctx.evapi.setTag("t".repeat(63));
        const no64 = ctx.evapi.setTag("u".repeat(64));
        results.push([ok63, no64]);
      },
    },
  );
  try {
    const c = await TestClient.open(h.port);
    assert.deepEqual((await results.wait(1))[0], [true, false]);
    const ev = h.ctx("event").evapi;
    assert.equal(ev.multicast("m", "t".repeat(63)), 1);
    assert.equal(ev.setTag("x"), false);
    assert.equal(ev.clients()[0]?.tag, "t".repeat(63));
    c.destroy();
  } finally {
    await h.stop();
  }
});

test("relay from connection-new reaches the new client; $evapi() values in the route", async () => {
  const seen = new Collector<unknown[]>();
  const h = await startEvapi(
    {},
    {
      "evapi:connection-new": (ctx) => {
        seen.push([ctx.pv("$evapi(conidx)"), ctx.pv("$evapi(srcaddr)"), ctx.pv("$evapi(srcport)"), ctx.pv("$evapi(msg)")]);
        ctx.evapi.relay({ hello: ctx.evapi.conidx });
      },
    },
  );
  try {
    const c = await TestClient.open(h.port);
    await c.waitFrames(1);
    assert.deepEqual(c.frames, ['{"hello":0}']);
    assert.deepEqual((await seen.wait(1))[0], [0, "127.0.0.1", c.socket.localPort, null]);
    assert.equal(h.ctx("event").pv("$evapi(conidx)"), null);
    c.destroy();
  } finally {
    await h.stop();
  }
});

test("close() from connection-new, message-received and a SIP-less route; no connection-closed route", async () => {
  const closedRoute = new Collector<number>();
  const results = new Collector<string>();
  let accepted = 0;
  const h = await startEvapi(
    {},
    {
      "evapi:connection-new": (ctx) => {
        if (accepted++ === 0) results.push(`new:${ctx.evapi.close()}`);
      },
      "evapi:message-received": (ctx) => {
        results.push(`msg:${ctx.evapi.close()}`);
      },
      "evapi:connection-closed": (ctx) => closedRoute.push(ctx.evapi.conidx),
    },
  );
  try {
    const a = await TestClient.open(h.port);
    await a.waitClosed();
    const b = await TestClient.open(h.port);
    await h.connections.wait(2);
    b.send("2:hi,3:two,");
    await b.waitClosed();
    const c = await TestClient.open(h.port);
    await h.connections.wait(3);
    const req = h.ctx("request").evapi;
    assert.equal(req.close(0), true);
    assert.equal(req.close(0), false);
    assert.equal(req.close(), false);
    await c.waitClosed();
    assert.deepEqual(results.items, ["new:true", "msg:true"]);
    assert.equal(h.mod.service.stats.closes.get("script"), 3);
    assert.equal(closedRoute.items.length, 0);
  } finally {
    await h.stop();
  }
});

test("eventCallback runs for an evapi event that has no route; a route wins over it", async () => {
  const calls = new Collector<string>();
  const h = await startEvapi(
    { eventCallback: (name, ctx) => calls.push(`${name}:${(ctx as unknown as { evapi: { msg: string } }).evapi.msg}`) },
    { "evapi:connection-new": () => undefined },
  );
  try {
    const c = await TestClient.open(h.port);
    await h.connections.wait(1);
    c.send("2:hi,");
    await calls.wait(1);
    c.end();
    assert.deepEqual(await calls.wait(2), ["evapi:message-received:hi", "evapi:connection-closed:"]);
  } finally {
    await h.stop();
  }
});
