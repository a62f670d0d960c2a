// ctx.lock really excludes across `await`: two async critical sections never interleave.
import { test } from "node:test";
import assert from "node:assert/strict";
import { LockTable } from "../../src/core/locks.js";

test("lock excludes two async sections interleaving at an await", async () => {
  const locks = new LockTable();
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
  const locks = new LockTable();
  await assert.rejects(locks.withLock("x", () => Promise.reject(new Error("boom"))));
  assert.equal(locks.isLocked("x"), false);
  locks.unlock("never-locked");
  await locks.lock("x");
  assert.equal(locks.isLocked("x"), true);
  locks.unlock("x");
});
