// The disk-backed RetentionStore (the evapi param durableDir): each consumer's window stays in
// memory (MemoryLog) and every change is first appended to that consumer's journal, a directory
// `c-<hex of name>/` of segment files (journal-codec.ts records). Writes are synchronous, so an
// event is in the kernel's page cache before relay() returns and before any consumer sees it: a
// kill -9 loses nothing. fdatasync runs every syncInterval ms (group commit), so a power loss loses
// at most that much. A segment is deleted once every event in it is released; at start-up each log
// is recovered and rewritten as one fresh segment (a snapshot), which also sheds damaged files.
// A write that fails (ENOSPC, EACCES, EISDIR…) never stops delivery: the log keeps its events in
// memory, says so (ERR_EVAPI_STORE_UNWRITABLE, rate-limited, counted) and retries with a snapshot.
import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { bump } from "../stats.js";
import { isConsumerName } from "./control-message.js";
import { readConsumerDir } from "./journal-recovery.js";
import { JournalLog, type JournalConfig, type StoreReport } from "./journal-log.js";
import type { ConsumerLog, RetentionStore } from "./retention-store.js";

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

/** Consumer logs journaled under `dir`, recovered at construction. */
export class DiskRetentionStore implements RetentionStore, JournalConfig {
  readonly report: StoreReport;
  readonly netstring: boolean;
  readonly segmentBytes: number;
  readonly retryMs: number;
  private readonly dir: string;
  private readonly byName = new Map<string, JournalLog>();
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
      log = new JournalLog(this, name, this.consumerDir(name), undefined);
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
      log.warn("ERR_EVAPI_STORE_UNWRITABLE", "evapi durable store directory unusable: retained events are kept in memory only", {
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
      const mem = new JournalLog(this, name, dir, r);
      stats.eventsRecovered += mem.count;
      this.byName.set(name, mem);
      logger.info(
        { consumer: name, lastId: mem.lastId, acked: mem.ackedId, retained: mem.count },
        "evapi durable consumer recovered",
      );
    }
  }
}
