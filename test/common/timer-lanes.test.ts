// TimerLanes: timers of one duration fire in the order armed, never early by more than the slack,
// cleared ones never; a timer armed from inside a firing one of the same lane does not delay the
// lane's older entries; a lane full of cleared timers is compacted; stop() clears everything.
// Real Node timers: each test waits for the timers' own callbacks.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { TimerLanes } from "../../src/common/timer-lanes.js";
import { monotonicMs } from "../../src/common/monotonic.js";

// The lanes' timers are unref'd, as the router's are: something must keep the test process up.
let keepAlive: NodeJS.Timeout | undefined;
before(() => {
  keepAlive = setInterval(() => {}, 60_000);
});
after(() => clearInterval(keepAlive));

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

test("fires each timer once, in order within a lane, not before its time (less 1 ms), cleared ones never", async () => {
  const lanes = new TimerLanes();
  const fired: string[] = [];
  const done = deferred();
  const t0 = monotonicMs();
  const late: number[] = [];
  const at = (name: string, ms: number): void => {
    lanes.set(ms, () => {
      late.push(monotonicMs() - t0 - ms);
      fired.push(name);
      if (fired.length === 4) done.resolve();
    });
  };
  at("a30", 30);
  const cleared = lanes.set(30, () => fired.push("cleared"));
  at("b30", 30);
  at("c5", 5);
  at("d60", 60);
  lanes.clear(cleared);
  lanes.clear(cleared); // twice is harmless
  lanes.clear(undefined);
  assert.equal(lanes.size, 4);
  await done.promise;
  assert.deepEqual(fired, ["c5", "a30", "b30", "d60"]);
  for (const l of late) assert.ok(l >= -1, `fired ${-l} ms early`);
  assert.equal(lanes.size, 0);
});

test("a timer set while its lane fires does not hold back the lane's older entries", async () => {
  const lanes = new TimerLanes();
  const order: string[] = [];
  const done = deferred();
  lanes.set(50, () => {
    order.push("first");
    lanes.set(50, () => {
      order.push("re-armed");
      done.resolve();
    });
  });
  // Due a few ms after the first: still in the lane when the first fires and re-arms it.
  await new Promise<void>((r) => lanes.set(5, r));
  const t1 = monotonicMs();
  let secondAt = 0;
  lanes.set(50, () => {
    order.push("second");
    secondAt = monotonicMs() - t1;
  });
  await done.promise;
  assert.deepEqual(order, ["first", "second", "re-armed"]);
  // Held back until the re-armed timer, it would wait ~95 ms.
  assert.ok(secondAt < 80, `the second timer waited ${secondAt} ms for a 50 ms timeout`);
});

test("many cleared timers in a long lane are compacted away; the live ones still fire", async () => {
  const lanes = new TimerLanes();
  const done = deferred();
  let fired = 0;
  const keep = lanes.set(40, () => {
    fired++;
    done.resolve();
  });
  for (let i = 0; i < 100_000; i++) lanes.clear(lanes.set(60_000, () => assert.fail("a cleared timer fired")));
  const lane = (keep as unknown as { lane: { entries: unknown[] } }).lane;
  assert.equal(lanes.size, 1);
  const long = lanes.set(60_000, () => assert.fail("stopped before its time"));
  const longLane = (long as unknown as { lane: { entries: unknown[]; head: number } }).lane;
  assert.ok(longLane.entries.length - longLane.head < 3000, `${longLane.entries.length} entries held`);
  assert.ok(lane.entries.length <= 1);
  await done.promise;
  assert.equal(fired, 1);
  lanes.stop();
  assert.equal(lanes.size, 0);
});

test("stop() clears every lane: nothing fires afterwards", async () => {
  const lanes = new TimerLanes();
  lanes.set(5, () => assert.fail("fired after stop"));
  lanes.set(10, () => assert.fail("fired after stop"));
  lanes.stop();
  assert.equal(lanes.size, 0);
  // A timer of the same durations armed after stop() fires alone.
  await new Promise<void>((r) => lanes.set(15, r));
});
