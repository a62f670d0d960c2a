// The backlog signal admission control sheds on: full read turns (libuv's 32) mark a socket as
// falling behind, the first turn that reads less clears it, and a burst that ends exactly on a
// full turn is cleared by the next, empty turn.
import { test } from "node:test";
import assert from "node:assert/strict";
import { LIBUV_UDP_READS_PER_TURN, UdpBacklog } from "../../src/transport/udp-backlog.js";

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function readTurn(b: UdpBacklog, n: number, bytes = 500): void {
  for (let i = 0; i < n; i++) b.read(bytes);
}

test("full turns mark the socket as falling behind; a partial turn clears it", async () => {
  const b = new UdpBacklog();
  readTurn(b, LIBUV_UDP_READS_PER_TURN);
  await nextTurn();
  const t0 = Date.now();
  const marked = b.backlogMs(t0); // a few ms at most on a busy machine
  assert.ok(marked >= 0 && marked < 1000, "marked just now");
  assert.equal(b.backlogMs(t0 + 100), marked + 100);
  readTurn(b, LIBUV_UDP_READS_PER_TURN);
  await nextTurn();
  assert.equal(b.backlogMs(t0 + 200), marked + 200, "still behind after a second full turn, counted from the first");
  readTurn(b, 3);
  await nextTurn();
  assert.equal(b.backlogMs(t0 + 300), 0, "a turn with room to spare clears it");
});

test("a burst that ends on a full turn is cleared by the next turn, even one that reads nothing", async () => {
  const b = new UdpBacklog();
  readTurn(b, LIBUV_UDP_READS_PER_TURN);
  await nextTurn();
  assert.ok(b.backlogMs(Date.now() + 50) > 0);
  await nextTurn();
  await nextTurn();
  assert.equal(b.backlogMs(Date.now() + 50), 0);
});

test("while behind, the kernel probe's queue and drops are kept, the queue as time to read it; catching up clears them", async () => {
  let kernel = { rxQueue: 0, drops: 7 };
  const b = new UdpBacklog(() => kernel);
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
  const started = Date.now();
  while (Date.now() - started < 11); // the probe runs at most every 10 ms: let the clock pass it
  readTurn(b, LIBUV_UDP_READS_PER_TURN);
  await nextTurn();
  const elapsed = Date.now() - started;
  const s = b.state();
  // 32 read in `elapsed` ms (at least 11): 320 waiting take 10 times as long.
  assert.ok(s.queueMs >= 100 && s.queueMs <= 10 * (elapsed + 1), `queueMs ${s.queueMs}, elapsed ${elapsed}`);
  assert.equal(s.dropping, true);
  readTurn(b, 1);
  await nextTurn();
  assert.deepEqual(b.state(), { behindMs: 0, queuedBytes: 0, queueMs: 0, dropping: false });
});

test("without a probe (not Linux) only the time behind counts", async () => {
  const b = new UdpBacklog(() => undefined);
  readTurn(b, LIBUV_UDP_READS_PER_TURN);
  await nextTurn();
  assert.equal(b.state().queuedBytes, 0);
  assert.equal(b.state().dropping, false);
});

test("a probe too slow to keep making turns the queue rule off; the time behind still counts", async () => {
  // A clock the test moves on: each read of the table takes 6 ms of it (a /proc/net/udp of tens of
  // thousands of sockets), and the test lets the probes' spacing (50 × 6 ms) pass between turns.
  let offset = 0;
  const clock = (): number => Date.now() + offset;
  let probes = 0;
  const b = new UdpBacklog(() => {
    probes++;
    offset += 6;
    return { rxQueue: 10_000_000, drops: 0 };
  }, clock);
  for (let turn = 0; turn < 20 && !b.probeOff; turn++) {
    readTurn(b, LIBUV_UDP_READS_PER_TURN);
    await nextTurn();
    if (!b.probeOff) assert.equal(b.state().queuedBytes, 10_000_000, "kept until the rule goes off");
    offset += 301;
  }
  assert.equal(b.probeOff, true);
  assert.equal(probes, 4, "off once four reads in a row were slow, not on the first");
  assert.equal(b.state().queuedBytes, 0);
  assert.equal(b.state().queueMs, 0);
  assert.ok(b.backlogMs(clock() + 10) > 0, "still behind");
});

test("one slow read among fast ones (descheduled, throttled) neither turns the rule off nor spaces the probes out", async () => {
  let offset = 0;
  const clock = (): number => Date.now() + offset;
  let probes = 0;
  const b = new UdpBacklog(() => {
    probes++;
    if (probes === 2) offset += 40; // this one was preempted for 40 ms
    return { rxQueue: 1_000_000, drops: 0 };
  }, clock);
  for (let turn = 0; turn < 8; turn++) {
    readTurn(b, LIBUV_UDP_READS_PER_TURN);
    await nextTurn();
    offset += 11; // past the 10 ms spacing of cheap probes
  }
  assert.equal(b.probeOff, false);
  assert.equal(probes, 8, "every turn 11 ms apart was probed: the slow read did not space them to 2 s");
  assert.equal(b.state().queuedBytes, 1_000_000);
});
