// ExpiringRecords (what tm keeps of ended transactions) against a plain Map model: any sequence of
// adds and lookups at advancing times gives the model's answers, bytes and destinations included,
// and what it holds stays bounded by the entries of one span however long the run.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { ExpiringRecords } from "../../src/tm/expiring-records.js";
import type { TmDestination } from "../../src/tm/types.js";

type Op =
  | { kind: "add"; id: number; dt: number; ms: number; bytes: Uint8Array | undefined; port: number }
  | { kind: "find"; id: number; dt: number };

const SPAN = 1000;
// A few ids, so adds and lookups meet; 0 and 2^53-1 are the edges of what tombstoneId gives.
const ids = fc.constantFrom(0, 1, 7, 1024, 1025, 2 ** 32 + 1, 2 ** 53 - 1, 123_456_789_012);
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant("add" as const),
    id: ids,
    dt: fc.integer({ min: 0, max: 400 }),
    ms: fc.integer({ min: 1, max: SPAN }),
    bytes: fc.option(fc.uint8Array({ minLength: 0, maxLength: 64 }), { nil: undefined }),
    port: fc.integer({ min: 1, max: 65535 }),
  }),
  fc.record({ kind: fc.constant("find" as const), id: ids, dt: fc.integer({ min: 0, max: 400 }) }),
);

test("lookups agree with a Map model at every step, bytes and destination included", () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
      const r = new ExpiringRecords(SPAN);
      const model = new Map<number, { until: number; bytes?: Buffer; dest?: TmDestination }>();
      let now = 1_700_000_000_000;
      for (const o of ops) {
        now += o.dt;
        if (o.kind === "add") {
          const dest: TmDestination = { proto: "udp", addr: "127.0.0.1", port: o.port };
          const bytes = o.bytes === undefined ? undefined : Buffer.from(o.bytes);
          r.add(o.id, now, o.ms, bytes, bytes && dest);
          model.set(o.id, { until: now + o.ms, bytes, dest: bytes && dest });
          continue;
        }
        const m = model.get(o.id);
        const alive = m !== undefined && m.until > now;
        assert.equal(r.has(o.id, now), alive);
        const a = r.answer(o.id, now);
        if (!alive || m.bytes === undefined) {
          assert.equal(a, undefined);
        } else {
          assert.ok(a);
          assert.deepEqual([...a.buf], [...m.bytes]);
          assert.deepEqual(a.dest, m.dest);
        }
      }
    }),
    { numRuns: 300 },
  );
});

test("a steady stream holds about one span of entries, not the whole run, and finds all of them", () => {
  const r = new ExpiringRecords(SPAN);
  let now = 0;
  const bytes = Buffer.from("SIP/2.0 200 OK\r\n\r\n");
  const dest: TmDestination = { proto: "udp", addr: "10.0.0.1", port: 5060 };
  for (let i = 1; i <= 100_000; i++) {
    now += 1; // 1,000 entries per span
    r.add(i * 7919, now, SPAN, bytes, dest);
  }
  assert.ok(r.held <= (SPAN * 4) / 3 + 1, `held ${r.held}`);
  assert.ok(r.held >= SPAN, `held ${r.held}`);
  // Every entry of the last span, moved by the tables' growth, is still there with its bytes.
  for (let i = 100_000 - SPAN + 2; i <= 100_000; i++) {
    assert.equal(r.answer(i * 7919, now)?.buf.toString(), bytes.toString(), `entry ${i}`);
  }
  assert.equal(r.answer(1 * 7919, now), undefined, "long expired");
  // After a quiet spell longer than the span, nothing is held.
  r.add(1, now + 10 * SPAN, 1);
  assert.equal(r.held, 1);
});

test("a burst far beyond the first table's size keeps every entry findable until it expires", () => {
  const r = new ExpiringRecords(SPAN);
  const now = 5_000;
  for (let i = 0; i < 50_000; i++) r.add(i * 2 ** 21 + (i % 7), now, SPAN - (i % 3));
  for (let i = 0; i < 50_000; i++) assert.equal(r.has(i * 2 ** 21 + (i % 7), now + SPAN - 3), true, `entry ${i}`);
  assert.equal(r.has(3, now), false);
  assert.equal(r.has(2 * 2 ** 21 + 2, now + SPAN - 2), false, "an entry of ms = SPAN - 2 has expired");
  assert.equal(r.has(0, now + SPAN - 2), true, "one of ms = SPAN has not");
});

test("under steady traffic a new generation's arena starts as large as the last one needed: no copies after the first", () => {
  const r = new ExpiringRecords(SPAN);
  const bytes = Buffer.alloc(400, 0x41); // a final of 400 bytes, 1,000 per span: ~134 KB a generation (a third of it)
  const dest: TmDestination = { proto: "udp", addr: "10.0.0.1", port: 5060 };
  let now = 0;
  for (let i = 1; i <= 1000; i++) r.add(i, ++now, SPAN, bytes, dest);
  const afterFirstSpan = r.arenaCopies;
  assert.ok(afterFirstSpan > 0, "the first generations grow from the smallest arena");
  for (let i = 1001; i <= 10_000; i++) r.add(i, ++now, SPAN, bytes, dest);
  assert.equal(r.arenaCopies, afterFirstSpan, "none grew again");
  assert.equal(r.answer(10_000, now)?.buf.length, 400);
});
