// Async variants and request() against a small stand-in for ctx.tm, to see the order of the module's
// own steps: suspend only with >= 1 recipient, data built from the transaction id, request()
// resolved by the echoing reply (which skips message-received), ERR_EVAPI_NO_CLIENT. The same
// flows with the real transaction layer, SIPp and a consumer, the timeout (ERR_EVAPI_TIMEOUT)
// among them, are in test/e2e/evapi-async.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { TmApi } from "../../../src/core/context-types.js";
import type { TransactionId } from "../../../src/core/transaction-user.js";
import { Collector, startEvapi, TestClient } from "../../support/evapi-harness.js";

/** The parts of ctx.tm that evapi uses, with the calls recorded. */
function stubTm(id: TransactionId = { index: 7, label: 42 }): TmApi & { suspends: number } {
  const tm = {
    suspends: 0,
    suspend() {
      tm.suspends++;
      return id;
    },
    id: () => id,
    hold: <T>(p: Promise<T>): Promise<T> => p, // the real hold's timer is tm's (e2e/evapi-async.test.ts)
  };
  return tm as unknown as TmApi & { suspends: number };
}

test("asyncRelay with no client: not suspended, returns 0", async () => {
  const h = await startEvapi({});
  try {
    const tm = stubTm();
    assert.equal(
      h.ctx("request", tm).evapi.asyncRelay(() => "x"),
      0,
    );
    assert.equal(h.ctx("request", tm).evapi.asyncUnicast("x", "billing"), 0);
    assert.equal(tm.suspends, 0);
  } finally {
    await h.stop();
  }
});

test("asyncRelay with a client: suspends first, then builds the data from the id", async () => {
  const h = await startEvapi({});
  try {
    const c = await TestClient.open(h.port);
    await h.connections.wait(1);
    const tm = stubTm();
    const n = h.ctx("request", tm).evapi.asyncRelay((t) => {
      assert.equal(tm.suspends, 1, "suspended before the data is evaluated");
      return { event: "invite", tindex: t.index, tlabel: t.label };
    });
    assert.equal(n, 1);
    await c.waitFrames(1);
    assert.deepEqual(JSON.parse(c.frames[0]!), { event: "invite", tindex: 7, tlabel: 42 });
    assert.equal(h.mod.service.stats.suspended, 1);
    c.destroy();
  } finally {
    await h.stop();
  }
});

test("async variants and request() outside a request route throw ERR_EVAPI_NOT_REQUEST_ROUTE", async () => {
  const h = await startEvapi({});
  try {
    const ev = h.ctx("event", stubTm()).evapi;
    assert.throws(() => ev.asyncRelay("x"), { code: "ERR_EVAPI_NOT_REQUEST_ROUTE" });
    await assert.rejects(ev.request({ a: 1 }), { code: "ERR_EVAPI_NOT_REQUEST_ROUTE" });
  } finally {
    await h.stop();
  }
});

test("request(): the echoing reply resolves it and skips message-received; others reach the route", async () => {
  const routed = new Collector<string>();
  const h = await startEvapi({}, { "evapi:message-received": (ctx) => routed.push(ctx.evapi.msg) });
  try {
    const c = await TestClient.open(h.port);
    await h.connections.wait(1);
    const p = h
      .ctx("request", stubTm({ index: 3, label: 99 }))
      .evapi.request<{ allow: boolean }>({ event: "auth", user: "alice" });
    await c.waitFrames(1);
    const ev = JSON.parse(c.frames[0]!) as Record<string, unknown>;
    assert.deepEqual(ev, { event: "auth", user: "alice", tindex: 3, tlabel: 99 });
    c.send(`${'{"other":1}'.length}:{"other":1},`);
    const reply = JSON.stringify({ tindex: "3", tlabel: "99", allow: true });
    c.send(`${reply.length}:${reply},`);
    assert.deepEqual(await p, { tindex: "3", tlabel: "99", allow: true });
    assert.deepEqual(await routed.wait(1), ['{"other":1}']);
    assert.equal(h.mod.pending.size, 0);
    assert.equal(h.mod.service.stats.requestsAnswered, 1);
    c.destroy();
  } finally {
    await h.stop();
  }
});

test("request(): custom field names; no client rejects with ERR_EVAPI_NO_CLIENT", async () => {
  const h = await startEvapi({});
  try {
    await assert.rejects(h.ctx("request", stubTm()).evapi.request({ a: 1 }), { code: "ERR_EVAPI_NO_CLIENT" });
    const c = await TestClient.open(h.port);
    await h.connections.wait(1);
    const ev = h.ctx("request", stubTm({ index: 1, label: 2 })).evapi;
    const p = ev.request({ q: 1 }, { indexField: "tr_index", labelField: "tr_label" });
    await c.waitFrames(1);
    assert.deepEqual(JSON.parse(c.frames[0]!), { q: 1, tr_index: 1, tr_label: 2 });
    const reply = '{"tr_index":1,"tr_label":2}';
    c.send(`${reply.length}:${reply},`);
    assert.deepEqual(await p, { tr_index: 1, tr_label: 2 });
    assert.equal(h.mod.pending.size, 0);
    c.destroy();
  } finally {
    await h.stop();
  }
});
