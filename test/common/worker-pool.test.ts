// The evapi worker pool keeps each connection's messages in order and loses none, and a long run of
// synchronous handlers yields to the event loop every BATCH messages (so SIP input is read between
// them and replies leave in smaller bursts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { BATCH, WorkerPool, type InboxOwner } from "../../src/common/worker-pool.js";

function owner<T = number>(): InboxOwner<T> {
  return { inbox: [], inboxHead: 0, running: false, waitingForWorker: false, inboxHigh: false, onInboxPressure: () => undefined };
}

test("a burst of synchronous messages is handled in order, none lost, across several event-loop turns", async () => {
  const N = 10 * BATCH + 5;
  let turn = 0;
  let ticking = true;
  const tick = (): void => {
    turn++;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  const seen: number[] = [];
  const turns = new Set<number>();
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const pool = new WorkerPool<number, InboxOwner<number>>(
    1,
    (_o, item) => {
      seen.push(item);
      turns.add(turn);
      if (seen.length === N) finished();
    },
    (err) => assert.fail(String(err)),
  );
  const o = owner();
  for (let i = 0; i < N; i++) pool.enqueue(o, i);
  await done;
  ticking = false;
  assert.deepEqual(
    seen,
    Array.from({ length: N }, (_, i) => i),
  );
  assert.ok(turns.size >= Math.ceil(N / BATCH) - 1, `handled over ${turns.size} turns`);
  assert.equal(pool.active, 0);
});

test("messages queued while a yielded drain waits are handled after the earlier ones", async () => {
  const seen: number[] = [];
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const total = 2 * BATCH + 10;
  const pool = new WorkerPool<number, InboxOwner<number>>(
    1,
    (_o, item) => {
      seen.push(item);
      if (seen.length === total) finished();
    },
    (err) => assert.fail(String(err)),
  );
  const o = owner();
  for (let i = 0; i < 2 * BATCH; i++) pool.enqueue(o, i);
  for (let i = 2 * BATCH; i < total; i++) pool.enqueue(o, i); // arrive while the first drain has yielded
  await done;
  assert.deepEqual(
    seen,
    Array.from({ length: total }, (_, i) => i),
  );
});

test("a connection that always has a turn's worth queued does not starve another", async () => {
  const handled = { a: 0, b: 0 };
  let bDone!: () => void;
  const bFinished = new Promise<void>((resolve) => (bDone = resolve));
  const pool = new WorkerPool<string, InboxOwner<string>>(
    4,
    (_o, item) => {
      if (item === "a") handled.a++;
      else if (++handled.b === 5) bDone();
    },
    (err) => assert.fail(String(err)),
  );
  const a = owner<string>();
  const b = owner<string>();
  let feeding = true;
  const feed = (): void => {
    for (let i = 0; i < BATCH; i++) pool.enqueue(a, "a"); // a busy peer: a turn's worth, every turn
    if (feeding) setImmediate(feed);
  };
  for (let i = 0; i < 200; i++) pool.enqueue(a, "a");
  for (let i = 0; i < 5; i++) pool.enqueue(b, "b");
  setImmediate(feed);
  await bFinished;
  feeding = false;
  assert.ok(handled.a < 200 + 10 * BATCH, `b was served within a few turns (a had ${handled.a})`);
});

test("highWater 1: the owner is told high only once items wait past the turn's budget, and low when they are handed on or discarded", async () => {
  const told: boolean[] = [];
  const o: InboxOwner<number> = { ...owner(), onInboxPressure: (high) => told.push(high) };
  let handled = 0;
  let waitedOne!: () => void;
  const nextTurnHandled = new Promise<void>((resolve) => (waitedOne = resolve));
  const pool = new WorkerPool<number, InboxOwner<number>>(
    Number.POSITIVE_INFINITY,
    () => {
      if (++handled === BATCH + 1) waitedOne();
    },
    (err) => assert.fail(String(err)),
    1,
  );
  for (let i = 0; i < BATCH; i++) pool.enqueue(o, i);
  assert.deepEqual([handled, told], [BATCH, []], "what the budget allows never waits, never pauses");
  pool.enqueue(o, BATCH);
  assert.deepEqual(told, [true]);
  await nextTurnHandled; // the next turn's budget hands it on
  assert.deepEqual([handled, told], [BATCH + 1, [true, false]]);
  // This turn's budget has BATCH - 1 left (the item that waited took one): the rest wait.
  for (let i = 0; i < BATCH + 3; i++) pool.enqueue(o, i);
  assert.deepEqual(told, [true, false, true]);
  assert.equal(pool.discard(o), 4);
  assert.deepEqual(told, [true, false, true, false], "discarding what waits lets the owner read again");
});

test("a handler that throws: the error goes to onError with its owner, and the owner's next items are still handled", () => {
  const errors: Array<[string, InboxOwner<number>]> = [];
  const seen: number[] = [];
  const pool = new WorkerPool<number, InboxOwner<number>>(
    1,
    (_o, item) => {
      if (item === 1) throw new Error("boom");
      seen.push(item);
    },
    (err, o) => errors.push([(err as Error).message, o]),
  );
  const o = owner();
  for (let i = 0; i < 3; i++) pool.enqueue(o, i);
  assert.deepEqual(seen, [0, 2]);
  assert.deepEqual(errors, [["boom", o]]);
  assert.equal(pool.active, 0);
});

test("an inbox that never empties does not keep every slot it used, and loses nothing", async () => {
  const seen: number[] = [];
  const pool = new WorkerPool<number, InboxOwner<number>>(
    1,
    (_o, item) => void seen.push(item),
    (err) => assert.fail(String(err)),
    Number.MAX_SAFE_INTEGER,
  );
  const o = owner();
  let next = 0;
  // Each turn brings 40 and the pool hands on 32: the queue grows by 8 a turn and never empties.
  for (let turn = 0; turn < 150; turn++) {
    for (let i = 0; i < 40; i++) pool.enqueue(o, next++);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const queuedNow = o.inbox.length - o.inboxHead;
  assert.ok(queuedNow > 0, "still not empty");
  assert.ok(o.inbox.length < queuedNow + 2048, `${o.inbox.length} slots held for ${queuedNow} queued`);
  assert.deepEqual(
    seen,
    Array.from({ length: seen.length }, (_, i) => i),
    "in order, none skipped",
  );
  assert.equal(seen.length + queuedNow, next, "none lost");
});
