// The disk journal of durable delivery (durable/disk-retention.ts): the record codec under any
// truncation or byte flip, recovery of ids, ack point and retained events across a reopen, segment
// deletion once acked, damaged journals (torn tail, flipped byte, garbage file) and a journal that
// cannot be written (a segment path on /dev/full: ENOSPC, as a full disk gives even to root).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import fc from "fast-check";
import { pino } from "pino";
import { RateLimitedLog } from "../../../src/common/rate-limited-log.js";
import { decodeRecords, encodeRecord, REC, type JournalRecord } from "../../../src/modules/evapi/durable/journal-codec.js";
import { DiskRetentionStore, type DiskStoreOptions } from "../../../src/modules/evapi/durable/disk-retention.js";
import { newEvapiStats } from "../../../src/modules/evapi/stats.js";
import { segmentName } from "../../../src/modules/evapi/durable/journal-recovery.js";
import { startEvapi } from "../../support/evapi-harness.js";
import { NetstringSocket } from "../../support/netstring-socket.js";

const record: fc.Arbitrary<JournalRecord> = fc.oneof(
  fc.record(
    {
      type: fc.constant(REC.header),
      header: fc.record(
        {
          v: fc.constant(1 as const),
          consumer: fc.string({ minLength: 1, maxLength: 63 }),
          netstring: fc.boolean(),
          lastId: fc.nat(),
          acked: fc.nat(),
          released: fc.nat(),
        },
        { noNullPrototype: true },
      ),
    },
    { noNullPrototype: true },
  ),
  fc.record(
    {
      type: fc.constant(REC.event),
      id: fc.integer({ min: 1, max: 2 ** 48 - 1 }),
      frame: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
    },
    { noNullPrototype: true },
  ),
  fc.record(
    { type: fc.constantFrom(REC.ack, REC.drop), id: fc.integer({ min: 1, max: 2 ** 48 - 1 }) },
    { noNullPrototype: true },
  ),
);

test("journal codec: round trip; any truncation or byte flip yields a prefix of the records and never throws", () => {
  fc.assert(
    fc.property(fc.array(record, { maxLength: 12 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (recs, at, xor) => {
      const bufs = recs.map(encodeRecord);
      const all = Buffer.concat(bufs);
      assert.deepEqual(decodeRecords(all), { records: recs, end: all.length });
      if (all.length === 0) return;
      const cut = at % all.length;
      const truncated = decodeRecords(all.subarray(0, cut));
      const whole = bufs.reduce((n, b, i) => (bufs.slice(0, i + 1).reduce((s, x) => s + x.length, 0) <= cut ? i + 1 : n), 0);
      assert.deepEqual(truncated.records, recs.slice(0, whole), "a cut keeps exactly the whole records before it");
      const flipped = Buffer.from(all);
      flipped[cut] = (flipped[cut] as number) ^ xor;
      const got = decodeRecords(flipped).records;
      assert.deepEqual(got, recs.slice(0, got.length), "a flipped byte never yields a wrong record");
      assert.ok(got.length < recs.length, "the damaged record is not returned");
    }),
    { numRuns: 2000 },
  );
});

test("journal codec: garbage never throws", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (a) => {
      const r = decodeRecords(Buffer.from(a));
      assert.ok(r.end <= a.length);
    }),
  );
});

/** A store on a temp dir, its stats and the log lines it wrote. */
function open(dir: string, opts: Partial<DiskStoreOptions> = {}) {
  const lines: Array<{ code?: string; msg: string; detail?: string; error?: string }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      lines.push(JSON.parse(chunk.toString()) as (typeof lines)[number]);
      cb();
    },
  });
  const logger = pino({ level: "info" }, sink);
  const stats = newEvapiStats();
  const store = new DiskRetentionStore(
    { dir, netstring: false, syncInterval: 0, ...opts },
    { stats, logger, log: new RateLimitedLog(logger) },
  );
  return { store, stats, lines };
}

const frames = (log: { firstId: number; lastId: number; frame(id: number): Buffer | undefined }): string[] => {
  const out: string[] = [];
  for (let id = log.firstId; id <= log.lastId; id++) out.push(String(log.frame(id)));
  return out;
};

function withDir(fn: (dir: string) => Promise<void> | void): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), "evsip-store-"));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test(
  "disk store: ids, ack point, drops and retained events come back after a reopen; acked segments are deleted",
  withDir(async (dir) => {
    const a = open(dir, { segmentBytes: 200 });
    const log = a.store.open("billing");
    for (let i = 1; i <= 30; i++) log.append(Buffer.from(`e${i}`));
    log.ack(12);
    log.dropOldest(); // 13 dropped by a bound
    a.store.open("audit").append(Buffer.from("x1"));
    const cdir = join(dir, `c-${Buffer.from("billing").toString("hex")}`);
    assert.ok(readdirSync(cdir).length < 30 / 4, "old segments were deleted as acks released them");
    await a.store.close();

    const b = open(dir, { segmentBytes: 200 });
    const back = b.store.get("billing");
    assert.ok(back);
    assert.deepEqual({ last: back.lastId, acked: back.ackedId, first: back.firstId }, { last: 30, acked: 12, first: 14 });
    assert.deepEqual(
      frames(back),
      Array.from({ length: 17 }, (_, i) => `e${i + 14}`),
    );
    assert.equal(b.stats.eventsRecovered, 18);
    assert.deepEqual([...b.store.logs()].map((l) => l.name).sort(), ["audit", "billing"]);
    assert.equal(readdirSync(cdir).length, 1, "one snapshot segment after a start");
    back.append(Buffer.from("e31"));
    assert.equal(back.lastId, 31, "ids go on from where they were");
    await b.store.close();
    const c = open(dir);
    const again = c.store.get("billing") as NonNullable<ReturnType<typeof c.store.get>>;
    assert.equal(again.lastId, 31);
    again.ack(31);
    const recs = readdirSync(cdir).flatMap((f) => decodeRecords(readFileSync(join(cdir, f))).records);
    assert.deepEqual(
      recs.filter((r) => r.type !== REC.header && r.type !== REC.event),
      [{ type: REC.ack, id: 31 }],
      "one ack is one record, however many events it releases",
    );
    assert.equal(c.lines.filter((l) => l.code).length, 0, "a clean journal reports nothing");
    await c.store.close();
  }),
);

test(
  "disk store: a torn tail, a flipped byte and a garbage file are logged, counted, and the intact prefix kept",
  withDir(async (dir) => {
    const a = open(dir);
    const log = a.store.open("billing");
    for (let i = 1; i <= 10; i++) log.append(Buffer.from(`event-${i}`));
    await a.store.close();
    const cdir = join(dir, `c-${Buffer.from("billing").toString("hex")}`);
    const [seg] = readdirSync(cdir);
    const path = join(cdir, seg as string);
    const size = readFileSync(path).length;
    truncateSync(path, size - 3); // event 10 torn

    const b = open(dir);
    assert.deepEqual(
      frames(b.store.get("billing") as never),
      Array.from({ length: 9 }, (_, i) => `event-${i + 1}`),
    );
    assert.equal(b.stats.errors.get("ERR_EVAPI_STORE_CORRUPT"), 1);
    assert.match(b.lines.find((l) => l.code === "ERR_EVAPI_STORE_CORRUPT")?.detail ?? "", /cut short or fail their checksum/);
    await b.store.close();

    // The restart rewrote one clean segment: flip a byte inside event 5, add a garbage segment.
    const [seg2] = readdirSync(cdir);
    const bytes = readFileSync(join(cdir, seg2 as string));
    const at = bytes.indexOf("event-5") + 2;
    bytes[at] = (bytes[at] as number) ^ 0x20;
    writeFileSync(join(cdir, seg2 as string), bytes);
    writeFileSync(join(cdir, segmentName(99)), "not a journal at all");
    const c = open(dir);
    const got = c.store.get("billing");
    const lost = (id: number): string => JSON.stringify({ evsip: "lost", from: id, to: id, count: 1 });
    assert.deepEqual(frames(got as never), ["event-1", "event-2", "event-3", "event-4", ...[5, 6, 7, 8, 9].map(lost)]);
    assert.equal(got?.lastId, 9, "ids are never reused: the header keeps the last id, the missing ones replay as lost");
    assert.equal(c.stats.errors.get("ERR_EVAPI_STORE_CORRUPT"), 3, "the flipped record, the garbage file, the missing ids");
    assert.ok(c.lines.some((l) => l.detail === "events 5..9 are missing: replayed as lost"));
    await c.store.close();
    const d = open(dir);
    assert.equal(d.stats.errors.get("ERR_EVAPI_STORE_CORRUPT"), undefined, "the damage was rewritten away");
    assert.equal(d.store.get("billing")?.count, 9);
    await d.store.close();
  }),
);

test(
  "disk store: a journal that cannot be written keeps delivering from memory, says so, and catches up once it can",
  withDir(async (dir) => {
    const a = open(dir, { segmentBytes: 100, retryMs: 0 });
    const log = a.store.open("billing");
    const cdir = join(dir, `c-${Buffer.from("billing").toString("hex")}`);
    const next = Number.parseInt(readdirSync(cdir).at(-1) as string) + 1;
    symlinkSync("/dev/full", join(cdir, segmentName(next))); // the next segment is on a full device
    for (let i = 1; i <= 20; i++) log.append(Buffer.from(`event-${i}`));
    assert.equal(log.lastId, 20);
    assert.equal(String(log.frame(20)), "event-20", "events are still retained (in memory)");
    assert.ok(a.stats.eventsNotStored > 0);
    assert.ok(a.stats.storeWriteFailures > 0);
    assert.equal(a.store.failing, 1);
    assert.equal(a.stats.errors.get("ERR_EVAPI_STORE_UNWRITABLE"), a.stats.eventsNotStored);
    const warned = a.lines.filter((l) => l.code === "ERR_EVAPI_STORE_UNWRITABLE");
    assert.ok(warned.length >= 1 && warned.length <= 10, `rate-limited (${warned.length} lines)`);
    assert.equal(warned[0]?.error, "ENOSPC");

    unlinkSync(join(cdir, segmentName(next))); // space again
    log.append(Buffer.from("event-21"));
    assert.equal(a.store.failing, 0);
    assert.ok(a.lines.some((l) => /writable again/.test(l.msg)));
    await a.store.close();
    const b = open(dir);
    assert.deepEqual(
      frames(b.store.get("billing") as never),
      Array.from({ length: 21 }, (_, i) => `event-${i + 1}`),
    );
    await b.store.close();
  }),
);

test(
  "evapi with a durableDir it cannot use (a path under a regular file): live events still flow, the failure is in stats",
  withDir(async (dir) => {
    writeFileSync(join(dir, "file"), "");
    const h = await startEvapi({ durableConsumers: ["billing"], durableDir: join(dir, "file", "journal") });
    const s = await NetstringSocket.connect(h.port);
    try {
      s.send({ evsip: "subscribe", consumer: "billing", resume: null });
      assert.equal(((await s.nextJson()) as { evsip: string }).evsip, "subscribed");
      assert.equal(h.ctx("event").evapi.relay({ n: 1 }), 1);
      assert.deepEqual(await s.nextJson(), { evsip: "event", id: 1, event: { n: 1 } });
      const st = h.mod.stats();
      assert.equal(st.eventsNotStored, 1);
      assert.equal((st.errors as Map<string, number>).get("ERR_EVAPI_STORE_UNWRITABLE"), 1);
      assert.ok((st.storeWriteFailures as number) >= 1);
      assert.equal(st.storeUnwritableCurrent, 1);
    } finally {
      s.close();
      await h.stop();
    }
  }),
);

test(
  "disk store: frames journaled under one framing come back in the other when netstringFormat changed between runs",
  withDir(async (dir) => {
    const a = open(dir, { netstring: true });
    a.store.open("billing").append(Buffer.from('11:{"evsip":1},'));
    await a.store.close();
    const b = open(dir, { netstring: false });
    assert.deepEqual(frames(b.store.get("billing") as never), ['{"evsip":1}']);
    await b.store.close();
    const c = open(dir, { netstring: true });
    assert.deepEqual(frames(c.store.get("billing") as never), ['11:{"evsip":1},']);
    await c.store.close();
  }),
);

test(
  "disk store: a consumer's journal path that is a file, not a directory, is damage reported at start, not a crash",
  withDir(async (dir) => {
    writeFileSync(join(dir, `c-${Buffer.from("billing").toString("hex")}`), "garbage");
    const a = open(dir);
    const log = a.store.get("billing");
    assert.equal(a.stats.errors.get("ERR_EVAPI_STORE_CORRUPT"), 1);
    assert.equal(a.store.failing, 1, "and it cannot be written there");
    log?.append(Buffer.from("live"));
    assert.equal(String(log?.frame(1)), "live", "events are still kept in memory");
    await a.store.close();
  }),
);
