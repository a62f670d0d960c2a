// The backlog signal admission control sheds on: full read turns (libuv's 32, TCP's BATCH) mark an input as
// falling behind, the first turn that reads less clears it, and a burst that ends exactly on a
// full turn is cleared by the next, empty turn. The kernel probe's queue, drops and cost. Time is a
// clock the tests move on (the real one is monotonic ms); turns are real event-loop turns.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BATCH } from "../../src/common/worker-pool.js";
import { InputBacklog, KEEPING_UP, LIBUV_UDP_READS_PER_TURN } from "../../src/transport/input-backlog.js";

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A clock that moves only when told to. */
function testClock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

function readTurn(b: InputBacklog, n: number, bytes = 500): void {
  for (let i = 0; i < n; i++) b.read(bytes);
}

test("full turns mark the socket as falling behind; a partial turn clears it", async () => {
  const clock = testClock();
  const b = new InputBacklog({ clock: clock.now });
  readTurn(b, LIBUV_UDP_READS_PER_TURN);
  await nextTurn();
  assert.equal(b.state().behindMs, 0, "marked just now");
  assert.equal(b.state(clock.now() - 5_000).behindMs, 0, "never negative, even asked with an earlier time");
  clock.advance(100);
  assert.equal(b.state().behindMs, 100);
  readTurn(b, LIBUV_UDP_READS_PER_TURN);
  await nextTurn();
  clock.advance(100);
  assert.equal(b.state().behindMs, 200, "still behind after a second full turn, counted from the first");
  readTurn(b, 3);
  await nextTurn();
  assert.equal(b.state().behindMs, 0, "a turn with room to spare clears it");
});

test("a burst that ends on a full turn is cleared by the next turn, even one that reads nothing", async () => {
  const clock = testClock();
  const b = new InputBacklog({ clock: clock.now });
  readTurn(b, LIBUV_UDP_READS_PER_TURN);
  await nextTurn();
  clock.advance(50);
  assert.equal(b.state().behindMs, 50);
  await nextTurn();
  await nextTurn();
  assert.equal(b.state().behindMs, 0);
});

test("while behind, the kernel probe's queue and drops are kept, the queue as time to read it; catching up clears them", async () => {
  let kernel = { rxQueue: 0, drops: 7 };
  const clock = testClock();
  const b = new InputBacklog({ probe: () => kernel, clock: clock.now });
  readTurn(b, 3);
  await nextTurn();
  assert.deepEqual(
    b.state(),
    { behindMs: 0, queuedBytes: 0, queueMs: 0, dropping: false },
    "keeping up: the kernel is not asked",
  );
  kernel = { rxQueue: 1180 * 320, drops: 7 }; // 320 datagrams of 500 bytes, as the kernel counts them
  readTurn(b, LIBUV_UDP_READS_PER_TURN);
  await nextTurn();
  assert.equal(b.state().queuedBytes, 1180 * 320);
  assert.equal(b.state().queueMs, 0, "no read rate yet: the first probe of a spell only starts the count");
  assert.equal(b.state().dropping, false, "drops from before falling behind do not count");
  kernel = { rxQueue: 1180 * 320, drops: 9 };
  clock.advance(13); // past the probes' spacing (10 ms, jittered up to 12.5)
  readTurn(b, LIBUV_UDP_READS_PER_TURN);
  await nextTurn();
  assert.equal(b.state().queueMs, 0, "32 read in 13 ms: 130 ms to read, but one window's rate is not enough");
  assert.equal(b.state().dropping, true, "drops count at once");
  clock.advance(16);
  readTurn(b, LIBUV_UDP_READS_PER_TURN);
  await nextTurn();
  assert.equal(b.state().queueMs, 130, "the next window reads 32 in 16 ms (160 ms): the lesser of the two counts");
  readTurn(b, 1);
  await nextTurn();
  assert.deepEqual(b.state(), { behindMs: 0, queuedBytes: 0, queueMs: 0, dropping: false });
});

test("a window read slowly while the queue drains (a GC pause, a cold JIT) is not an overload; a queue that stays long is", async () => {
  // A cold start at 5,000 calls/s: the queue was at 298 KB, one window read 32 datagrams in 19 ms
  // (an estimate of 184 ms), and the socket caught up 31 ms later.
  let kernel = { rxQueue: 0, drops: 0 };
  const clock = testClock();
  const b = new InputBacklog({ probe: () => kernel, clock: clock.now });
  // `reads` datagrams in full turns over `ms`; the last turn, after the spacing, makes the probe.
  const probeAfter = async (ms: number, reads: number, rxQueue: number): Promise<number> => {
    for (let left = reads; left > LIBUV_UDP_READS_PER_TURN; left -= LIBUV_UDP_READS_PER_TURN) {
      readTurn(b, LIBUV_UDP_READS_PER_TURN);
      await nextTurn();
    }
    kernel = { rxQueue, drops: 0 };
    clock.advance(ms);
    readTurn(b, LIBUV_UDP_READS_PER_TURN);
    await nextTurn();
    return b.state().queueMs;
  };
  await probeAfter(0, 32, 200_000); // the spell's first probe: starts the count
  assert.equal(await probeAfter(13, 160, 230_000), 0, "one window: 230 KB read at 12.3/ms, not enough alone");
  assert.ok((await probeAfter(19, 32, 298_000)) < 50, "a slow window (184 ms alone) counts as the lesser, the window before");
  assert.ok((await probeAfter(13, 160, 150_000)) < 50, "the next window reads fast again: still no overload");
  // Overload: the queue grows and reads long on every probe.
  for (const rx of [900_000, 1_200_000]) await probeAfter(13, 64, rx);
  assert.ok(b.state().queueMs > 100, `a queue that stays long: ${b.state().queueMs} ms`);
});

test("TCP input: a full turn is the input pool's BATCH, and with no probe only the time behind counts", async () => {
  const clock = testClock();
  const b = new InputBacklog({ clock: clock.now, readsPerTurn: BATCH });
  readTurn(b, BATCH - 1);
  await nextTurn();
  assert.equal(b.state(), KEEPING_UP, "a turn under the budget keeps up");
  readTurn(b, BATCH);
  await nextTurn();
  clock.advance(30);
  readTurn(b, BATCH);
  await nextTurn();
  assert.deepEqual(b.state(), { behindMs: 30, queuedBytes: 0, queueMs: 0, dropping: false });
});

test("TCP input: the wait the pool reports per window is its queue, and two windows in a row must agree", async () => {
  const clock = testClock();
  let windowWait = Number.POSITIVE_INFINITY;
  let windows = 0;
  const b = new InputBacklog({
    clock: clock.now,
    readsPerTurn: BATCH,
    queueWait: () => {
      windows++;
      return windowWait;
    },
  });
  const window = async (ms: number, wait: number): Promise<number> => {
    clock.advance(ms);
    windowWait = wait;
    readTurn(b, BATCH);
    await nextTurn();
    return b.state().queueMs;
  };
  assert.equal(await window(0, 5), 0, "the spell's first window: one estimate is not enough");
  assert.equal(await window(11, 150), 5, "the lesser of the two windows' waits");
  assert.equal(await window(11, 130), 130);
  assert.equal(await window(4, 900), 130, "a window is at least 10 ms: not asked again yet");
  assert.equal(await window(11, 2), 2, "a connection whose messages waited little: no standing queue");
  assert.equal(await window(11, Number.POSITIVE_INFINITY), 2, "a window with nothing handed on changes nothing");
  assert.equal(windows, 5);
  readTurn(b, 1);
  await nextTurn();
  assert.equal(b.state(), KEEPING_UP, "a turn under the budget clears it");
});

test("without a probe (not Linux) only the time behind counts", async () => {
  const b = new InputBacklog({ probe: () => undefined, clock: testClock().now });
  readTurn(b, LIBUV_UDP_READS_PER_TURN);
  await nextTurn();
  assert.equal(b.state().queuedBytes, 0);
  assert.equal(b.state().dropping, false);
});

test("a probe too slow to keep making turns the queue rule off; the time behind still counts", async () => {
  // Each read of the table takes 6 ms of the clock (a /proc/net/udp of about a thousand sockets);
  // the test lets the probes' spacing (50 × 6 ms, jittered up to 375) pass between turns.
  const clock = testClock();
  let probes = 0;
  const b = new InputBacklog({
    probe: () => {
      probes++;
      clock.advance(6);
      return { rxQueue: 10_000_000, drops: 0 };
    },
    clock: clock.now,
  });
  for (let turn = 0; turn < 20 && !b.probeOff; turn++) {
    readTurn(b, LIBUV_UDP_READS_PER_TURN);
    await nextTurn();
    if (!b.probeOff) assert.equal(b.state().queuedBytes, 10_000_000, "kept until the rule goes off");
    clock.advance(400);
  }
  assert.equal(b.probeOff, true);
  assert.equal(probes, 4, "off once four reads in a row were slow, not on the first");
  assert.equal(b.state().queuedBytes, 0);
  assert.equal(b.state().queueMs, 0);
  assert.ok(b.state().behindMs > 0, "still behind");
});

test("one slow read among fast ones (descheduled, throttled) neither turns the rule off nor spaces the probes out", async () => {
  const clock = testClock();
  let probes = 0;
  const b = new InputBacklog({
    probe: () => {
      probes++;
      clock.advance(probes === 2 ? 40 : 0.05); // the second read was preempted for 40 ms
      return { rxQueue: 1_000_000, drops: 0 };
    },
    clock: clock.now,
  });
  for (let turn = 0; turn < 8; turn++) {
    readTurn(b, LIBUV_UDP_READS_PER_TURN);
    await nextTurn();
    clock.advance(13); // past the spacing of cheap probes (10 ms, jittered up to 12.5)
  }
  assert.equal(b.probeOff, false);
  assert.equal(probes, 8, "every turn 13 ms apart was probed: the slow read did not space them to 2 s");
  assert.equal(b.state().queuedBytes, 1_000_000);
});

test("fast reads from more than 10 s ago do not hide a table that has grown since", async () => {
  const clock = testClock();
  let cost = 0.05;
  let probes = 0;
  const b = new InputBacklog({
    probe: () => {
      probes++;
      clock.advance(cost);
      return { rxQueue: 1_000_000, drops: 0 };
    },
    clock: clock.now,
  });
  const behindFor = async (turns: number, gap: number): Promise<void> => {
    for (let turn = 0; turn < turns && !b.probeOff; turn++) {
      readTurn(b, LIBUV_UDP_READS_PER_TURN);
      await nextTurn();
      clock.advance(gap);
    }
    readTurn(b, 1); // caught up: the spell ends
    await nextTurn();
  };
  await behindFor(4, 13);
  assert.equal(probes, 4);
  clock.advance(20_000);
  cost = 57; // an RTP relay's ten thousand sockets beside the router now
  await behindFor(10, 4_000); // past the spacing of 57 ms reads (2.85 s, jittered up to 3.6)
  assert.equal(b.probeOff, true);
  assert.equal(probes, 8, "four slow reads, not one for each fast one still remembered");
});

test("kernelDrops: the kernel's drops since the socket opened, read at each call; four slow reads in a row stop the reads, one does not", () => {
  const clock = testClock();
  let drops = 0;
  let readMs = 0;
  let reads = 0;
  const b = new InputBacklog({
    clock: clock.now,
    probe: () => {
      reads++;
      clock.advance(readMs);
      return { rxQueue: 0, drops };
    },
  });
  assert.equal(b.kernelDrops(), 0, "a new socket's count starts at 0");
  drops = 7;
  assert.equal(b.kernelDrops(), 7);
  readMs = 6; // slower than the 5 ms a read may take
  assert.equal(b.kernelDrops(), 7);
  readMs = 0;
  drops = 9;
  assert.equal(b.kernelDrops(), 9, "one slow read (the process descheduled) stops nothing");
  readMs = 6;
  for (let i = 0; i < 4; i++) b.kernelDrops();
  const before = reads;
  drops = 20;
  assert.equal(b.kernelDrops(), 9, "after four slow reads in a row the metric no longer reads the table");
  assert.equal(reads, before);
});
