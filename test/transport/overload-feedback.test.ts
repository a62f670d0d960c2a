// OverloadFeedback's control rule on its own clock: a queue past the bound cuts the share of new work
// asked for (at most once per 100 ms), time without one raises it back, and the feedback ends one
// oc-validity after the reduction reached 0. Responses are stamped only while it lasts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { OverloadFeedback } from "../../src/transport/overload-feedback.js";

const RESPONSE = Buffer.from(
  "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1;oc\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
  "latin1",
);

function setup(): { f: OverloadFeedback; clock: { now: number }; changes: [number, boolean][] } {
  const clock = { now: 1000 };
  const changes: [number, boolean][] = [];
  const f = new OverloadFeedback({
    queueMs: 20,
    validityMs: 500,
    clock: () => clock.now,
    wallClock: () => 1_764_460_800_000,
    onChange: (r, a) => changes.push([r, a]),
  });
  return { f, clock, changes };
}

function oc(buf: Buffer): string | undefined {
  return /;oc=(\d+);/.exec(buf.toString("latin1"))?.[1];
}

test("a queue under the bound asks nothing; past it the share is cut by 30 %, at most once per 100 ms", () => {
  const { f, clock, changes } = setup();
  f.queueSeen(20, false);
  assert.equal(f.active, false);
  assert.equal(f.stamp(RESPONSE), RESPONSE, "no feedback: the same buffer leaves");
  f.queueSeen(21, false);
  assert.equal(f.reduction(), 30);
  f.queueSeen(500, false);
  assert.equal(f.reduction(), 30, "a second queue within 100 ms changes nothing");
  clock.now += 100;
  f.queueSeen(0, true);
  assert.equal(f.reduction(), 51, "the kernel's drops count as a queue past the bound");
  assert.equal(oc(f.stamp(RESPONSE)), "51");
  assert.deepEqual(changes, [[30, true]]);
});

test("without a queue the share climbs back 10 points per 100 ms; oc=0 goes out for one validity, then nothing", () => {
  const { f, clock, changes } = setup();
  for (let i = 0; i < 20; i++) {
    clock.now += 100;
    f.queueSeen(1000, false);
  }
  assert.equal(f.reduction(), 95, "never more than 95 %: some new work still comes, so recovery is seen");
  clock.now += 250;
  // Queues came 100 ms apart, so the first 200 ms after the last one are not yet quiet.
  assert.equal(f.reduction(), 85, "one step, after twice the queues' spacing");
  // Responses keep leaving meanwhile (each asks the rule): 85 → 75 → … → 0.
  for (let i = 0; i < 9; i++) {
    clock.now += 100;
    assert.equal(f.reduction(), Math.max(0, 75 - 10 * i));
  }
  const stamped = f.stamp(RESPONSE);
  assert.equal(oc(stamped), "0", "the end of the reduction is said");
  assert.match(stamped.toString("latin1"), /;oc=0;oc-algo="loss";oc-validity=500;oc-seq=\d+\.\d{3}\r\n/);
  clock.now += 500;
  assert.equal(f.stamp(RESPONSE), RESPONSE, "a validity later, no feedback at all");
  assert.equal(f.active, false);
  assert.deepEqual(changes.at(-1), [0, false]);
});

test("oc-seq grows with every change, even when the wall clock does not", () => {
  const { f, clock } = setup();
  const seqs: number[] = [];
  for (let i = 0; i < 5; i++) {
    f.queueSeen(100, false);
    seqs.push(Number(/oc-seq=([\d.]+)/.exec(f.stamp(RESPONSE).toString("latin1"))?.[1]));
    clock.now += 100;
  }
  assert.ok(
    seqs.every((s, i) => i === 0 || s > (seqs[i - 1] as number)),
    seqs.join(" "),
  );
});

test("an idle spell earns the share back: the next queue cuts from where the climb had got to, not from before", () => {
  const { f, clock } = setup();
  for (let i = 0; i < 10; i++) {
    clock.now += 100;
    f.queueSeen(1000, false);
  }
  assert.equal(f.reduction(), 95);
  clock.now += 60_000; // nothing sent, nothing asked meanwhile
  f.queueSeen(1000, false);
  assert.equal(f.reduction(), 30, "all of it back, then one cut");
});

test("a queue seen again and again within a step earns nothing back between the cuts", () => {
  const { f, clock } = setup();
  f.queueSeen(1000, false);
  for (let t = 0; t < 10; t++) {
    clock.now += 10;
    f.queueSeen(1000, false);
  }
  assert.equal(f.reduction(), 51, "cut at 0 and at 100 ms, never raised in between");
});

test("queues probed 300 ms apart (a long socket table) earn nothing back between them: the share keeps falling", () => {
  const { f, clock } = setup();
  for (let i = 0; i < 12; i++) {
    f.queueSeen(1000, false);
    clock.now += 150;
    f.stamp(RESPONSE); // responses leave between the probes
    clock.now += 150;
  }
  assert.equal(f.reduction(), 95, "down to the floor, as with probes every 10 ms");
  clock.now += 1000; // the queue is gone: 1,300 ms after the last one, twice the spacing (600 ms) waited out, then 8 steps
  assert.equal(f.reduction(), 15);
});
