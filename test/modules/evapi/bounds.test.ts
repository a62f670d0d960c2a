// evapi bounds with real sockets: idleTimeout closes a client that sent nothing for that long
// (ERR_EVAPI_IDLE_TIMEOUT, counted, connection-closed runs, the slot is freed) while a talking
// client stays; and a client flooding one-byte frames at a slow async message-received route is
// held by the inbox bound (INBOX_HIGH_WATER + the frames of one read chunk), not buffered without end.
import { test } from "node:test";
import assert from "node:assert/strict";
import { validateParams } from "../../../src/core/params.js";
import { EVAPI_PARAMS } from "../../../src/modules/evapi/params.js";
import { INBOX_HIGH_WATER } from "../../../src/common/worker-pool.js";
import { Collector, deferred, startEvapi, TestClient } from "../../support/evapi-harness.js";

test("idleTimeout: validated, default 0 (off)", () => {
  assert.equal(validateParams("evapi", EVAPI_PARAMS, {}).params.idleTimeout, 0);
  for (const bad of [-1, 1.5, "10s", 86_400_001]) {
    assert.equal(validateParams("evapi", EVAPI_PARAMS, { idleTimeout: bad }).problems.length, 1, `idleTimeout ${String(bad)}`);
  }
});

test("idleTimeout: a silent client is closed with connection-closed, a talking one stays", async () => {
  const closed = new Collector<number>();
  const h = await startEvapi(
    { idleTimeout: 1000, maxClients: 2 }, // far above a loaded machine's stalls: the talker sends every 20 ms
    { "evapi:connection-closed": (ctx) => closed.push(ctx.evapi.conidx), "evapi:message-received": () => undefined },
  );
  const talker = await TestClient.open(h.port);
  await h.connections.wait(1);
  const tick = setInterval(() => talker.send("4:ping,"), 20); // the client's own traffic, not a wait
  try {
    const silent = await TestClient.open(h.port);
    await h.connections.wait(2);
    await silent.waitClosed(5000);
    assert.deepEqual(await closed.wait(1), [1]);
    assert.equal(talker.closed, false, "the talking client is kept");
    assert.equal(h.mod.service.stats.closes.get("ERR_EVAPI_IDLE_TIMEOUT"), 1);
    assert.equal(h.mod.service.stats.errors.get("ERR_EVAPI_IDLE_TIMEOUT"), 1);
    const next = await TestClient.open(h.port);
    assert.deepEqual(await h.connections.wait(3), [0, 1, 1], "the idle client's slot is free again");
    next.destroy();
    clearInterval(tick);
    await talker.waitClosed(5000); // silent now, so closed in turn
    assert.ok(closed.items.includes(0));
  } finally {
    clearInterval(tick);
    talker.destroy();
    await h.stop();
  }
});

test("inbox bound: a flood of one-byte frames at a slow async route stops being read", async () => {
  const FRAMES = 2_000_000; // 8 MB of "1:x,"
  const bound = INBOX_HIGH_WATER + 65_536 / 4; // one read chunk (64 KiB) of 4-byte frames
  const done = deferred();
  let handled = 0;
  let maxQueued = 0;
  const h = await startEvapi(
    {},
    {
      "evapi:message-received": async () => {
        handled++;
        if (handled === 300) done.resolve();
        await new Promise((resolve) => setTimeout(resolve, 1)); // a slow route (e.g. a DB lookup)
      },
    },
  );
  try {
    const c = await TestClient.open(h.port);
    await h.connections.wait(1);
    const client = h.mod.service.table.get(0)!;
    const sample = (): void => {
      maxQueued = Math.max(maxQueued, client.inbox.length - client.inboxHead);
    };
    client.socket.on("data", sample); // after the service's own listener: sees the inbox just filled
    c.send(Buffer.from("1:x,".repeat(FRAMES)));
    await done.promise;
    sample();
    const received = h.mod.service.stats.messagesReceived;
    assert.ok(maxQueued >= INBOX_HIGH_WATER, `the inbox reached the high-water mark (${maxQueued})`);
    assert.ok(maxQueued <= bound, `inbox peak ${maxQueued} ≤ ${bound}`);
    assert.ok(received - handled <= bound, `received ${received} − handled ${handled} ≤ ${bound}`);
    assert.ok(received < FRAMES / 10, `reading was held: ${received} of ${FRAMES} frames read`);
    c.destroy();
  } finally {
    await h.stop();
  }
});
