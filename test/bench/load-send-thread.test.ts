// The load tool's sending thread (bench/load/send-thread.ts), run here on the test's own thread
// against a real UDP socket: every request of the schedule leaves exactly once, in order, never
// before it is due; its Via names the receiving socket it was given (so the answer goes there, not
// to the sender); its send time and lag are in the shared arrays, flag set; and the requests are
// spread over the schedule instead of leaving in ticks. A Cursor walks segments like dueNs does.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { once } from "node:events";
import fc from "fast-check";
import { Cursor, Schedule } from "../../bench/load/schedule.js";
import { sendSchedule } from "../../bench/load/send-thread.js";
import { RunIds } from "../../bench/load/sip-wire.js";

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

test("the sending thread sends every request once, in order, on time, named for the receiving socket", async () => {
  // The test's thread both sends (blocking between requests) and receives: room for all of them.
  const router = createSocket({ type: "udp4", recvBufferSize: 4 * 1024 * 1024 });
  router.bind(0, "127.0.0.1");
  await once(router, "listening");
  const rate = 2000;
  const seconds = 0.25;
  const total = rate * seconds;
  const arrivals: { branch: string; via: string }[] = [];
  const allIn = new Promise<void>((resolve) => {
    router.on("message", (msg) => {
      const via = /^Via: SIP\/2\.0\/UDP ([^;]+);branch=(\S+)/m.exec(msg.toString("latin1"));
      arrivals.push({ via: via?.[1] ?? "", branch: via?.[2] ?? "" });
      if (arrivals.length === total) resolve();
    });
  });
  const legs = [
    { target: `127.0.0.1:${router.address().port}`, local: "127.0.0.1:40001" },
    { target: `127.0.0.1:${router.address().port}`, local: "127.0.0.1:40002" },
  ];
  const sentNs = new SharedArrayBuffer(8 * total);
  const lagNs = new SharedArrayBuffer(8 * total);
  const sent = new SharedArrayBuffer(total);
  const baseNs = process.hrtime.bigint();
  try {
    const done = await sendSchedule({
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
    let deadline: NodeJS.Timeout | undefined;
    const missing = new Promise<never>((_, reject) => {
      deadline = setTimeout(() => reject(new Error(`${arrivals.length} of ${total} requests arrived`)), 5000);
    });
    await Promise.race([allIn, missing]).finally(() => clearTimeout(deadline));
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
    const offset = Number(done.startNs - baseNs);
    for (let i = 0; i < total; i++) {
      assert.equal(flags[i], 1);
      const due = (i * 1e9) / rate;
      assert.ok((lags[i] ?? -1) >= 0, `request ${i} not sent before it was due`);
      assert.ok(Math.abs((times[i] ?? 0) - offset - due - (lags[i] ?? 0)) < 1, `request ${i}: time = start + due + lag`);
    }
    // Spread, not ticked: a 1 ms timer would send the 500 requests in about 250 groups of two or
    // more; the thread sends most of them alone (loose bound: a loaded CI machine delays some).
    let alone = 0;
    for (let i = 1; i < total; i++) if ((times[i] ?? 0) - (times[i - 1] ?? 0) > 100_000) alone++;
    assert.ok(alone > total / 2, `${alone} of ${total} requests left over 100 µs after the one before`);
  } finally {
    router.close();
  }
});
