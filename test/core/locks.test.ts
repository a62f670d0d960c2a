// ctx.lock really excludes across `await`: two async critical sections never interleave; waiting is
// bounded by locks.maxWaiters (ERR_LOCK_BUSY) and locks.waitTimeout (ERR_LOCK_TIMEOUT).
import { test } from "node:test";
import assert from "node:assert/strict";
import { LOCK_SCHEMA, LockTable } from "../../src/core/locks.js";
import { LockError } from "../../src/errors.js";
import { validateParams } from "../../src/core/params.js";

/** The app's defaults, as a server built without `locks` has them. */
const DEFAULTS = validateParams("locks", LOCK_SCHEMA, {}).params;

test("lock excludes two async sections interleaving at an await", async () => {
  const locks = new LockTable(DEFAULTS);
  const trace: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const a = locks.withLock("calls", async () => {
    trace.push("a:in");
    await gate;
    trace.push("a:out");
  });
  const b = locks.withLock("calls", async () => {
    trace.push("b:in");
    trace.push("b:out");
  });
  const other = locks.withLock("other", () => trace.push("other"));
  await other;
  assert.deepEqual(trace, ["a:in", "other"], "b waits while a holds the lock; other names are free");
  release();
  await Promise.all([a, b]);
  assert.deepEqual(trace, ["a:in", "other", "a:out", "b:in", "b:out"]);
  assert.equal(locks.isLocked("calls"), false, "an unlocked name holds no memory");
});

test("withLock releases on throw and unlock of a free name is a no-op", async () => {
  const locks = new LockTable(DEFAULTS);
  await assert.rejects(locks.withLock("x", () => Promise.reject(new Error("boom"))));
  assert.equal(locks.isLocked("x"), false);
  locks.unlock("never-locked");
  await locks.lock("x");
  assert.equal(locks.isLocked("x"), true);
  locks.unlock("x");
});

test("past maxWaiters a lock is refused at once with ERR_LOCK_BUSY, counted; the queue keeps its order", async () => {
  const locks = new LockTable({ waitTimeout: 0, maxWaiters: 2 });
  await locks.lock("caller");
  const order: number[] = [];
  const first = locks.lock("caller").then(() => order.push(1));
  const second = locks.lock("caller").then(() => order.push(2));
  await assert.rejects(locks.lock("caller"), (e: unknown) => e instanceof LockError && e.code === "ERR_LOCK_BUSY");
  assert.equal(locks.stats.refused.get("busy"), 1);
  assert.equal(locks.waiting("caller"), 2);
  assert.equal(locks.stats.waiting, 2, "the gauge counts the two queued, not the refused one");
  locks.unlock("caller");
  await first;
  locks.unlock("caller");
  await second;
  assert.deepEqual(order, [1, 2]);
  assert.equal(locks.stats.waiting, 0);
  locks.unlock("caller");
  assert.equal(locks.isLocked("caller"), false);
});

test("a waiter gives up after waitTimeout with ERR_LOCK_TIMEOUT and leaves the queue; the next one still gets the lock", async () => {
  const locks = new LockTable({ waitTimeout: 30, maxWaiters: 10 });
  await locks.lock("stuck");
  const started = performance.now();
  // The wait's timer is unref'd (a router's sockets keep its process up): hold this one up meanwhile.
  const alive = setTimeout(() => undefined, 10_000);
  await assert.rejects(locks.lock("stuck"), (e: unknown) => e instanceof LockError && e.code === "ERR_LOCK_TIMEOUT");
  clearTimeout(alive);
  assert.ok(performance.now() - started >= 29, "not before the timeout");
  assert.equal(locks.stats.refused.get("timeout"), 1);
  assert.equal(locks.waiting("stuck"), 0, "the timed-out waiter left the queue");
  assert.equal(locks.stats.waiting, 0);
  const next = locks.lock("stuck");
  locks.unlock("stuck");
  await next;
  assert.equal(locks.isLocked("stuck"), true, "handed to the next waiter, not to the one that gave up");
  locks.unlock("stuck");
  assert.equal(locks.isLocked("stuck"), false);
});
