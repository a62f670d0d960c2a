// One consumer's journal (the durableDir store, disk-retention.ts): the consumer's window in memory
// (MemoryLog, which sends read from) with every change first appended, synchronously, to the
// current segment file `<seq>.seg` in the consumer's directory (journal-codec.ts records). A
// segment starts with a header holding the log's state, so once every event of the older segments
// is released they can be deleted. A failed write never loses what memory holds: the journal stops,
// reports ERR_EVAPI_STORE_UNWRITABLE (rate-limited, counted) and retries with a snapshot segment
// (header and every retained event), after which the older segments are deleted.
import { closeSync, fdatasync, fdatasyncSync, mkdirSync, openSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import type { RateLimitedLog } from "../../../common/rate-limited-log.js";
import { abandonFile, errCode, syncDir } from "../../../common/journal-file.js";
import { bump, type EvapiStats } from "../stats.js";
import { encodeRecord, REC, type JournalRecord } from "./journal-codec.js";
import { segmentName, type RecoveredLog } from "./journal-recovery.js";
import { MemoryLog } from "./memory-retention.js";

/** What the store reports to. */
export interface StoreReport {
  readonly stats: EvapiStats;
  readonly logger: Logger;
  readonly log: RateLimitedLog;
}

/** The store-wide settings a journal uses. */
export interface JournalConfig {
  readonly report: StoreReport;
  readonly netstring: boolean;
  readonly segmentBytes: number;
  readonly retryMs: number;
}

const UNWRITABLE = "ERR_EVAPI_STORE_UNWRITABLE";

export class JournalLog extends MemoryLog {
  private readonly dir: string;
  private readonly store: JournalConfig;
  /** Segment files, oldest first, with the highest id each holds; the last is being written. */
  private segments: Array<{ seq: number; maxId: number }>;
  private fd = -1;
  private size = 0;
  dirty = false;
  /** When writing failed (0 = it works), and when it was last retried. */
  failingSince = 0;
  private lastTry = 0;

  /** A log recovered as `r` (or a new one), journaled under `dir`; starts with a snapshot segment. */
  constructor(store: JournalConfig, name: string, dir: string, r: RecoveredLog | undefined) {
    super(name, r?.released, r?.acked);
    for (const f of r?.frames ?? []) super.append(f);
    this.store = store;
    this.dir = dir;
    const seqs = r?.seqs ?? [];
    this.segments = seqs.map((seq) => ({ seq, maxId: Number.MAX_SAFE_INTEGER }));
    this.startSegment(true);
  }

  override append(frame: Buffer): void {
    super.append(frame);
    if (!this.write({ type: REC.event, id: this.lastId, frame })) {
      this.store.report.stats.eventsNotStored++;
      bump(this.store.report.stats.errors, UNWRITABLE);
    }
  }

  override ack(id: number): void {
    const before = this.ackedId;
    super.ack(id);
    if (this.ackedId > before && this.write({ type: REC.ack, id: this.ackedId })) this.prune();
  }

  override dropOldest(): number {
    const n = super.dropOldest();
    if (n > 0 && this.write({ type: REC.drop, id: this.firstId - 1 })) this.prune();
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
      fdatasyncSync(this.fd); // even if a background fdatasync is still running
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
    const seq = (this.segments.at(-1)?.seq ?? 0) + 1;
    const header = { v: 1 as const, consumer: this.name, netstring: this.store.netstring, lastId: this.lastId };
    const parts = [encodeRecord({ type: REC.header, header: { ...header, acked: this.ackedId, released: this.firstId - 1 } })];
    if (snapshot)
      for (let id = this.firstId; id <= this.lastId; id++)
        parts.push(encodeRecord({ type: REC.event, id, frame: this.frame(id) as Buffer }));
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
    this.segments.push({ seq, maxId: this.lastId });
    if (snapshot) while (this.segments.length > 1) this.unlinkOldest();
    if (this.failingSince > 0) {
      this.store.report.logger.info(
        { consumer: this.name, retained: this.count, failedForMs: Date.now() - this.failingSince },
        "evapi durable store writable again: every retained event is on disk",
      );
      this.failingSince = 0;
    }
    return true;
  }

  /** Deletes the segments whose events are all released (only while the journal holds the release). */
  private prune(): void {
    const released = this.firstId - 1;
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
    this.fd = abandonFile(this.fd, this.size);
    if (this.failingSince === 0) this.failingSince = Date.now();
    this.fail(e, op);
  }

  private fail(e: unknown, op: string): void {
    const { stats, log } = this.store.report;
    stats.storeWriteFailures++;
    log.warn(UNWRITABLE, "evapi durable store cannot write: retained events are kept in memory only, not across a restart", {
      consumer: this.name,
      op,
      dir: this.dir,
      error: errCode(e),
      retained: this.count,
    });
  }
}
