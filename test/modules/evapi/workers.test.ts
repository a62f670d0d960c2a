// The `workers` param: per-connection arrival order with async message-received routes, at most
// `workers` connections handled at once, and messages queued before a peer close still handled
// before connection-closed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Collector, deferred, startEvapi, TestClient } from "../../support/evapi-harness.js";
import { waitFor } from "../../support/wait-for.js";

test("async routes: one connection's messages run in order, one at a time", async () => {
  const log = new Collector<string>();
  const gates = new Map<string, () => void>();
  const h = await startEvapi(
    { workers: 4 },
    {
      "evapi:message-received": async (ctx) => {
        const m = ctx.evapi.msg;
        log.push(`start ${m}`);
        const d = deferred();
        gates.set(m, d.resolve);
        await d.promise;
        log.push(`end ${m}`);
      },
    },
  );
  try {
    const c = await TestClient.open(h.port);
    c.send("1:a,1:b,");
    await log.wait(1);
    gates.get("a")!();
    await log.wait(3);
    gates.get("b")!();
    assert.deepEqual(await log.wait(4), ["start a", "end a", "start b", "end b"]);
    c.destroy();
  } finally {
    await h.stop();
  }
});

for (const workers of [1, 2]) {
  test(`workers: ${workers}: at most ${workers} connections handled at once`, async () => {
    const started = new Collector<number>();
    const release: Array<() => void> = [];
    const h = await startEvapi(
      { workers },
      {
        "evapi:message-received": async (ctx) => {
          started.push(ctx.evapi.conidx);
          const d = deferred();
          release.push(d.resolve);
          await d.promise;
        },
      },
    );
    try {
      const cs = [await TestClient.open(h.port), await TestClient.open(h.port), await TestClient.open(h.port)];
      await h.connections.wait(3);
      for (const c of cs) c.send("1:x,");
      await started.wait(workers);
      // Once all three are read they are queued (a free worker starts a message as it is queued):
      // nothing beyond `workers` started, and none will until one finishes.
      await waitFor(() => h.mod.service.stats.messagesReceived === 3);
      assert.equal(started.items.length, workers);
      release.shift()!();
      await started.wait(workers + 1);
      while (release.length > 0) release.shift()!();
      await started.wait(3);
      while (release.length > 0) release.shift()!();
      assert.deepEqual([...started.items].sort(), [0, 1, 2]);
      for (const c of cs) c.destroy();
    } finally {
      await h.stop();
    }
  });
}

test("messages queued before a peer close are handled, then connection-closed", async () => {
  const log = new Collector<string>();
  const gate = deferred();
  const h = await startEvapi(
    {},
    {
      "evapi:message-received": async (ctx) => {
        log.push(ctx.evapi.msg);
        if (ctx.evapi.msg === "first") await gate.promise;
      },
      "evapi:connection-closed": (ctx) => log.push(`closed ${ctx.evapi.conidx} ${ctx.pv("$evapi(srcaddr)")}`),
    },
  );
  try {
    const c = await TestClient.open(h.port);
    c.send("5:first,6:second,");
    await log.wait(1);
    c.end();
    await c.waitClosed();
    gate.resolve();
    assert.deepEqual(await log.wait(3), ["first", "second", "closed 0 127.0.0.1"]);
  } finally {
    await h.stop();
  }
});
