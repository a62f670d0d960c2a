// The disk-backed RetentionStore (the evapi param durableDir): each consumer's window stays in
// memory (MemoryLog) and every change is first appended to that consumer's journal, a directory
// `c-<hex of name>/` of segment files (journal-codec.ts records). Writes are synchronous, so an
// event is in the kernel's page cache before relay() returns and before any consumer sees it: a
// kill -9 loses nothing. fdatasync runs every syncInterval ms (group commit), so a power loss loses
// at most that much. A segment is deleted once every event in it is released; at start-up each log
// is recovered and rewritten as one fresh segment (a snapshot), which also sheds damaged files.
// A write that fails (ENOSPC, EACCES, EISDIR…) never stops delivery: the log keeps its events in
// memory, says so (ERR_EVAPI_STORE_UNWRITABLE, rate-limited, counted) and retries with a snapshot.
import {
  closeSync,
  fdatasync,
  fdatasyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import type { RateLimitedLog } from "../../../common/rate-limited-log.js";
import { bump, type EvapiStats } from "../stats.js";
import { isConsumerName } from "./control-message.js";
import { encodeRecord, REC, type JournalRecord } from "./journal-codec.js";
import { readConsumerDir, segmentName } from "./journal-recovery.js";
import { MemoryLog } from "./memory-retention.js";
import type { ConsumerLog, RetentionStore } from "./retention-store.js";

/** What the store reports to. */
export interface StoreReport {
  readonly stats: EvapiStats;
  readonly logger: Logger;
  readonly log: RateLimitedLog;
}

export interface DiskStoreOptions {
  readonly dir: string;
  /** Frames are netstrings (netstringFormat); recorded per segment so a change of format is undone on recovery. */
  readonly netstring: boolean;
  /** ms between fdatasync of journals written since the last one; 0 = never (the kernel writes back). */
  readonly syncInterval: number;
  /** A segment is closed and a new one started past this size. */
  readonly segmentBytes?: number;
  /** ms between attempts to write again after a failure. */
  readonly retryMs?: number;
}

const UNWRITABLE = "ERR_EVAPI_STORE_UNWRITABLE";

class DiskLog implements ConsumerLog {
  private readonly mem: MemoryLog;
  private readonly dir: string;
  private readonly store: DiskRetentionStore;
  /** Segment files, oldest first, with the highest id each holds; the last is being written. */
  private segments: Array<{ seq: number; maxId: number }>;
  private fd = -1;
  private size = 0;
  dirty = false;
  /** When writing failed (0 = it works), and when it was last retried. */
  failingSince = 0;
  private lastTry = 0;

  constructor(store: DiskRetentionStore, mem: MemoryLog, dir: string, seqs: number[]) {
    this.store = store;
    this.mem = mem;
    this.dir = dir;
    this.segments = seqs.map((seq) => ({ seq, maxId: Number.MAX_SAFE_INTEGER }));
    this.startSegment(true);
  }

  get name(): string {
    return this.mem.name;
  }
  get lastId(): number {
    return this.mem.lastId;
  }
  get ackedId(): number {
    return this.mem.ackedId;
  }
  get firstId(): number {
    return this.mem.firstId;
  }
  get count(): number {
    return this.mem.count;
  }
  get bytes(): number {
    return this.mem.bytes;
  }

  frame(id: number): Buffer | undefined {
    return this.mem.frame(id);
  }

  append(frame: Buffer): void {
    this.mem.append(frame);
    if (!this.write({ type: REC.event, id: this.mem.lastId, frame })) {
      this.store.report.stats.eventsNotStored++;
      bump(this.store.report.stats.errors, UNWRITABLE);
    }
  }

  ack(id: number): void {
    const before = this.mem.ackedId;
    this.mem.ack(id);
    if (this.mem.ackedId > before && this.write({ type: REC.ack, id: this.mem.ackedId })) this.prune();
  }

  dropOldest(): number {
    const n = this.mem.dropOldest();
    if (n > 0 && this.write({ type: REC.drop, id: this.mem.firstId - 1 })) this.prune();
    return n;
  }

  /** fdatasync of what was written since the last one; `wait` false runs it in the background. */
  sync(wait: boolean): void {
    if (!this.dirty || this.fd < 0) return;
    this.dirty = false;
    if (wait) fdatasyncSync(this.fd);
    else fdatasync(this.fd, (e) => e && e.code !== "EBADF" && this.fail(e, "fdatasync")); // EBADF: closed by a roll, which synced it
  }

  /** Retries a failing journal with a snapshot once retryMs has passed. */
  retry(): void {
    if (this.failingSince > 0 && Date.now() - this.lastTry >= this.store.retryMs) this.startSegment(true);
  }

  close(): void {
    if (this.fd < 0) return;
    try {
      this.sync(true);
      closeSync(this.fd);
    } catch (e) {
      this.fail(e, "close");
    }
    this.fd = -1;
  }

  /** Appends a record; false when it is not on disk (the journal is failing). */
  private write(r: JournalRecord): boolean {
    if (this.fd < 0) {
      this.retry(); // a snapshot holds the record's effect already (memory changed first)
      return this.fd >= 0;
    }
    const bytes = encodeRecord(r);
    try {
      const n = writeSync(this.fd, bytes);
      if (n !== bytes.length) throw Object.assign(new Error(`short write (${n} of ${bytes.length})`), { code: "ENOSPC" });
    } catch (e) {
      this.abandon(e, "write");
      return false;
    }
    this.size += bytes.length;
    this.dirty = true;
    if (r.type === REC.event) (this.segments.at(-1) as { maxId: number }).maxId = r.id;
    if (this.size >= this.store.segmentBytes) this.startSegment(false);
    return true;
  }

  /**
   * Opens the next segment with a header (the log's state) and, for a snapshot, every retained
   * event; a snapshot then deletes the older segments. False (and failing) when it cannot.
   */
  private startSegment(snapshot: boolean): boolean {
    const mem = this.mem;
    const seq = (this.segments.at(-1)?.seq ?? 0) + 1;
    const header = { v: 1 as const, consumer: mem.name, netstring: this.store.netstring, lastId: mem.lastId };
    const parts = [encodeRecord({ type: REC.header, header: { ...header, acked: mem.ackedId, released: mem.firstId - 1 } })];
    if (snapshot)
      for (let id = mem.firstId; id <= mem.lastId; id++)
        parts.push(encodeRecord({ type: REC.event, id, frame: mem.frame(id) as Buffer }));
    const bytes = Buffer.concat(parts);
    this.lastTry = Date.now();
    let fd = -1;
    try {
      mkdirSync(this.dir, { recursive: true });
      fd = openSync(join(this.dir, segmentName(seq)), "w");
      if (writeSync(fd, bytes) !== bytes.length) throw Object.assign(new Error("short write"), { code: "ENOSPC" });
      fdatasyncSync(fd);
      syncDir(this.dir);
    } catch (e) {
      if (fd >= 0) closeSync(fd);
      this.abandon(e, snapshot ? "snapshot" : "new segment");
      return false;
    }
    this.close();
    this.fd = fd;
    this.size = bytes.length;
    this.segments.push({ seq, maxId: mem.lastId });
    if (snapshot) while (this.segments.length > 1) this.unlinkOldest();
    if (this.failingSince > 0) {
      this.store.report.logger.info(
        { consumer: mem.name, retained: mem.count, failedForMs: Date.now() - this.failingSince },
        "evapi durable store writable again: every retained event is on disk",
      );
      this.failingSince = 0;
    }
    return true;
  }

  /** Deletes the segments whose events are all released (only while the journal holds the release). */
  private prune(): void {
    const released = this.mem.firstId - 1;
    while (this.segments.length > 1 && (this.segments[0] as { maxId: number }).maxId <= released) this.unlinkOldest();
  }

  private unlinkOldest(): void {
    const s = this.segments.shift() as { seq: number };
    try {
      unlinkSync(join(this.dir, segmentName(s.seq)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") this.fail(e, "delete segment");
    }
  }

  /** A write failed: cut a torn record off if possible, stop writing this segment, report. */
  private abandon(e: unknown, op: string): void {
    if (this.fd >= 0) {
      try {
        ftruncateSync(this.fd, this.size);
        closeSync(this.fd);
      } catch {
        // the torn tail, if any, is found by its checksum on recovery
      }
      this.fd = -1;
    }
    if (this.failingSince === 0) this.failingSince = Date.now();
    this.fail(e, op);
  }

  private fail(e: unknown, op: string): void {
    const { stats, log } = this.store.report;
    stats.storeWriteFailures++;
    log.warn(UNWRITABLE, "evapi durable store cannot write: retained events are kept in memory only, not across a restart", {
      consumer: this.mem.name,
      op,
      dir: this.dir,
      error: (e as NodeJS.ErrnoException).code ?? String(e),
      retained: this.mem.count,
    });
  }
}

/** Consumer logs journaled under `dir`, recovered at construction. */
export class DiskRetentionStore implements RetentionStore {
  readonly report: StoreReport;
  readonly netstring: boolean;
  readonly segmentBytes: number;
  readonly retryMs: number;
  private readonly dir: string;
  private readonly byName = new Map<string, DiskLog>();
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(opts: DiskStoreOptions, report: StoreReport) {
    this.report = report;
    this.dir = opts.dir;
    this.netstring = opts.netstring;
    this.segmentBytes = opts.segmentBytes ?? 16 * 1024 * 1024;
    this.retryMs = opts.retryMs ?? 5000;
    this.recover();
    if (opts.syncInterval > 0) this.timer = setInterval(() => this.tick(), opts.syncInterval).unref();
  }

  get size(): number {
    return this.byName.size;
  }

  /** Consumers whose journal cannot be written now. */
  get failing(): number {
    let n = 0;
    for (const l of this.byName.values()) if (l.failingSince > 0) n++;
    return n;
  }

  open(name: string): ConsumerLog {
    let log = this.byName.get(name);
    if (!log) {
      log = new DiskLog(this, new MemoryLog(name), this.consumerDir(name), []);
      this.byName.set(name, log);
    }
    return log;
  }

  get(name: string): ConsumerLog | undefined {
    return this.byName.get(name);
  }

  logs(): IterableIterator<ConsumerLog> {
    return this.byName.values();
  }

  flush(): Promise<void> {
    for (const l of this.byName.values()) l.sync(true);
    return Promise.resolve();
  }

  /** Syncs and closes every journal (stop). */
  close(): Promise<void> {
    clearInterval(this.timer);
    for (const l of this.byName.values()) l.close();
    return Promise.resolve();
  }

  private tick(): void {
    for (const l of this.byName.values()) {
      l.sync(false);
      l.retry();
    }
  }

  private consumerDir(name: string): string {
    return join(this.dir, `c-${Buffer.from(name, "utf8").toString("hex")}`);
  }

  private recover(): void {
    const { logger, log, stats } = this.report;
    let entries: string[];
    try {
      mkdirSync(this.dir, { recursive: true });
      entries = readdirSync(this.dir);
    } catch (e) {
      stats.storeWriteFailures++;
      log.warn(UNWRITABLE, "evapi durable store directory unusable: retained events are kept in memory only", {
        dir: this.dir,
        error: (e as NodeJS.ErrnoException).code ?? String(e),
      });
      return;
    }
    for (const entry of entries.sort()) {
      const name = /^c-((?:[0-9a-f]{2})+)$/.exec(entry) && Buffer.from(entry.slice(2), "hex").toString("utf8");
      if (!name || !isConsumerName(name)) continue;
      const dir = join(this.dir, entry);
      const r = readConsumerDir(dir, name, this.netstring);
      for (const detail of r.damage) {
        bump(stats.errors, "ERR_EVAPI_STORE_CORRUPT");
        log.warn("ERR_EVAPI_STORE_CORRUPT", "evapi durable journal damaged: the intact records are kept", {
          consumer: name,
          dir,
          detail,
        });
      }
      const mem = new MemoryLog(name, r.released, r.acked);
      for (const f of r.frames) mem.append(f);
      stats.eventsRecovered += mem.count;
      this.byName.set(name, new DiskLog(this, mem, dir, r.seqs));
      logger.info(
        { consumer: name, lastId: mem.lastId, acked: mem.ackedId, retained: mem.count },
        "evapi durable consumer recovered",
      );
    }
  }
}

/** fsync of a directory, so a new segment's name survives a power loss. */
function syncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
