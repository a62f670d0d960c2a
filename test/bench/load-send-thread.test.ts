// The load tool's sending thread (bench/load/send-thread.ts), a real worker, against a real UDP
// socket: every request of the schedule leaves exactly once, in order, never before it is due and
// on time; its Via names the receiving socket it was given (so the answer goes there, not to the
// sender); its send time and lag are in the shared arrays, flag set; and the requests are spread
// over the schedule instead of leaving in ticks. A thread that fails rejects the run at once. A
// Cursor walks segments like dueNs does.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { once } from "node:events";
import fc from "fast-check";
import { Cursor, Schedule } from "../../bench/load/schedule.js";
import { paceOnThread } from "../../bench/load/uac.js";
import { RunIds } from "../../bench/load/sip-wire.js";
import { AsyncQueue } from "../support/async-queue.js";

test("a Cursor gives each send's due time, across segments, as Schedule.dueNs does", () => {
  const segs = fc.array(fc.record({ rate: fc.integer({ min: 1, max: 500 }), seconds: fc.integer({ min: 1, max: 3 }) }), {
    minLength: 1,
    maxLength: 4,
  });
  fc.assert(
    fc.property(segs, (ss) => {
      const s = new Schedule(ss);
      const c = new Cursor(s);
      for (let i = 0; i < s.total; i++, c.next++) assert.equal(c.due(), s.dueNs(i));
      assert.ok(c.done);
    }),
  );
});

/** Timing of one paced run: the median lag, and how many requests left alone (over 100 µs apart). */
type Timing = { medianLagNs: number; alone: number; total: number };

/** One paced run of 500 requests at 2,000/s to a real socket; asserts order and accounting, returns its timing. */
async function pacedRun(): Promise<Timing> {
  const router = createSocket("udp4");
  router.bind(0, "127.0.0.1");
  await once(router, "listening");
  const rate = 2000;
  const seconds = 0.25;
  const total = rate * seconds;
  const received = new AsyncQueue<Buffer>();
  router.on("message", (msg: Buffer) => received.push(msg));
  const legs = [
    { target: `127.0.0.1:${router.address().port}`, local: "127.0.0.1:40001" },
    { target: `127.0.0.1:${router.address().port}`, local: "127.0.0.1:40002" },
  ];
  const sentNs = new SharedArrayBuffer(8 * total);
  const lagNs = new SharedArrayBuffer(8 * total);
  const sent = new SharedArrayBuffer(total);
  const baseNs = process.hrtime.bigint();
  try {
    const done = await paceOnThread({
      segments: [{ rate, seconds }],
      port: router.address().port,
      legs,
      method: "OPTIONS",
      runId: "S1",
      baseNs,
      sentNs,
      lagNs,
      sent,
    });
    const arrivals: { branch: string; via: string }[] = [];
    while (arrivals.length < total) {
      const via = /^Via: SIP\/2\.0\/UDP ([^;]+);branch=(\S+)/m.exec((await received.next()).toString("latin1"));
      arrivals.push({ via: via?.[1] ?? "", branch: via?.[2] ?? "" });
    }
    const ids = new RunIds("S1");
    assert.deepEqual(
      arrivals.map((a) => ids.initialOf(a.branch)),
      Array.from({ length: total }, (_, i) => i),
      "each request once, in order",
    );
    arrivals.forEach((a, i) => assert.equal(a.via, legs[i % 2]?.local, `request ${i}'s Via names its receiving socket`));
    const times = new Float64Array(sentNs);
    const lags = new Float64Array(lagNs);
    const flags = new Uint8Array(sent);
    const offset = Number(done.pace.startNs - baseNs);
    for (let i = 0; i < total; i++) {
      assert.equal(flags[i], 1);
      const due = (i * 1e9) / rate;
      assert.ok((lags[i] ?? -1) >= 0, `request ${i} not sent before it was due`);
      assert.ok(Math.abs((times[i] ?? 0) - offset - due - (lags[i] ?? 0)) < 1, `request ${i}: time = start + due + lag`);
    }
    assert.equal(await done.finish(), 0, "no answer came back to the sending sockets");
    let alone = 0;
    for (let i = 1; i < total; i++) if ((times[i] ?? 0) - (times[i - 1] ?? 0) > 100_000) alone++;
    return { medianLagNs: [...lags].sort((a, b) => a - b)[total >> 1] ?? Infinity, alone, total };
  } finally {
    router.close();
  }
}

/**
 * On time and spread, not ticked: 1 ms ticks would put the median lag near 500 µs and send the 500
 * requests in about 250 groups of two or more, none alone. The bounds are loose, and a run that
 * misses them is run again (three at most): a CI machine running other tests can stall a thread
 * for a while, which is the machine's timing, not the pacer's. Order and accounting are asserted on
 * every run.
 */
function onTimeAndSpread(t: Timing): boolean {
  return t.medianLagNs < 400_000 && t.alone > t.total / 4;
}

test("the sending thread sends every request once, in order, on time, named for the receiving socket", async () => {
  const tries: Timing[] = [];
  while (tries.length < 3) {
    const t = await pacedRun();
    tries.push(t);
    if (onTimeAndSpread(t)) return;
  }
  assert.fail(
    `no run on time and spread: ${tries.map((t) => `median lag ${t.medianLagNs} ns, ${t.alone} of ${t.total} alone`).join("; ")}`,
  );
});

test("a sending thread that fails rejects the run instead of hanging it", async () => {
  const n = 10;
  const input = {
    segments: [{ rate: 1000, seconds: 0.01 }],
    port: 0, // not a port one can send to: the thread's connect throws
    legs: [{ target: "127.0.0.1:0", local: "127.0.0.1:40001" }],
    method: "OPTIONS" as const,
    runId: "S2",
    baseNs: process.hrtime.bigint(),
    sentNs: new SharedArrayBuffer(8 * n),
    lagNs: new SharedArrayBuffer(8 * n),
    sent: new SharedArrayBuffer(n),
  };
  await assert.rejects(paceOnThread(input), /port|ERR_SOCKET/i);
});
