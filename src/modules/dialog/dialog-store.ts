// The dialogDir store: live dialogs on disk so they survive a crash of evsip. One journal file,
// `dialogs.journal`, of store-codec.ts records: every change of a dialog that matters after a
// restart appends the whole record (an upsert), its end appends its key (a removal). Changes are
// collected per dialog and written once at the end of the current task (a microtask), or before
// a message leaves the router if that comes first, so a route that sets three $dlg_var writes one
// record and a peer never hears of a change the journal does not hold; the write itself is synchronous (in the page cache,
// so a kill -9 loses nothing written), and fdatasync runs every syncInterval ms (what a power loss
// may lose). At start the journal is read back (recover) and rewritten with the live dialogs only
// (compact: a fresh file renamed over the old one). A failed write keeps routing: the store stops,
// reports ERR_DIALOG_STORE_UNWRITABLE (rate-limited, counted) and retries with a compaction.
import { closeSync, fdatasync, fdatasyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import { RateLimitedLog } from "../../common/rate-limited-log.js";
import { abandonFile, errCode, syncDir } from "../../common/journal-file.js";
import type { DialogRecord } from "./api-types.js";
import { decodeRecords, dialogKey, encodeRecord, type StoreRecord } from "./store-codec.js";

const FILE = "dialogs.journal";
const UNWRITABLE = "ERR_DIALOG_STORE_UNWRITABLE";
/** How long a failing store waits before it retries with a compaction. */
const RETRY_MS = 5000;
/** The journal is compacted again once it holds this many times the bytes of its last compaction (and at least MIN_COMPACT). */
const GROWTH = 4;
const MIN_COMPACT = 1024 * 1024;

/** The store's counters, for the module's stats. */
export interface StoreCounters {
  storeWriteFailures: number;
  storeDamaged: number;
}

export class DialogStore {
  readonly counters: StoreCounters = { storeWriteFailures: 0, storeDamaged: 0 };
  private readonly dir: string;
  private readonly logger: Logger;
  private readonly log: RateLimitedLog;
  /** The live dialogs, for a compaction. */
  private readonly live: () => Iterable<DialogRecord>;
  private readonly pending = new Set<DialogRecord>();
  private fd = -1;
  private dirty = false;
  private failingSince = 0;
  private lastTry = 0;
  private syncTimer: NodeJS.Timeout | undefined;
  /** Bytes in the journal, and how many its last compaction wrote. */
  private size = 0;
  private compacted = 0;

  constructor(dir: string, logger: Logger, live: () => Iterable<DialogRecord>) {
    this.dir = dir;
    this.logger = logger;
    this.log = new RateLimitedLog(logger);
    this.live = live;
  }

  /** The dialogs the journal holds (the last upsert of each key not removed since); damage is logged and counted. */
  recover(): DialogRecord[] {
    let buf: Buffer;
    try {
      buf = readFileSync(join(this.dir, FILE));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") this.damaged(`cannot be read (${errCode(e)})`);
      return [];
    }
    const { records, end } = decodeRecords(buf);
    if (end < buf.length) this.damaged(`${buf.length - end} bytes from offset ${end} are cut short or fail their checksum`);
    const byKey = new Map<string, DialogRecord>();
    for (const r of records) {
      if (r.type === "upsert") byKey.set(dialogKey(r.dialog), r.dialog);
      else byKey.delete(r.key);
    }
    return [...byKey.values()];
  }

  /** Rewrites the journal with the live dialogs and starts the fdatasync interval (0 = never). */
  open(syncIntervalMs: number): void {
    this.compact();
    if (syncIntervalMs > 0) {
      this.syncTimer = setInterval(() => this.sync(), syncIntervalMs);
      this.syncTimer.unref();
    }
  }

  /** Notes a change of `d`; its record is written at the end of the current task. */
  changed(d: DialogRecord): void {
    if (this.pending.size === 0) queueMicrotask(() => this.flush());
    this.pending.add(d);
  }

  /** Syncs and closes the journal (graceful stop). */
  close(): void {
    if (this.syncTimer) clearInterval(this.syncTimer);
    this.syncTimer = undefined;
    this.flush();
    if (this.fd < 0) return;
    try {
      fdatasyncSync(this.fd);
      closeSync(this.fd);
    } catch (e) {
      this.fail(e, "close");
    }
    this.fd = -1;
  }

  /** Writes the changes noted so far (also called before any message leaves: write-ahead). */
  flush(): void {
    if (this.pending.size === 0) return;
    const ds = [...this.pending];
    this.pending.clear();
    if (ds.length === 0) return;
    if (this.fd < 0) {
      // A compaction writes every live dialog as it is now, these changes included.
      if (Date.now() - this.lastTry >= RETRY_MS) this.compact();
      return;
    }
    const recs: StoreRecord[] = ds.map((d) =>
      d.state === 5 ? { type: "remove", key: dialogKey(d) } : { type: "upsert", dialog: d },
    );
    const bytes = Buffer.concat(recs.map(encodeRecord));
    try {
      const n = writeSync(this.fd, bytes);
      if (n !== bytes.length) throw Object.assign(new Error(`short write (${n} of ${bytes.length})`), { code: "ENOSPC" });
      this.dirty = true;
    } catch (e) {
      this.abandon(e, "write");
      return;
    }
    this.size += bytes.length;
    // Ended dialogs' records pile up: rewrite the live ones once the file has grown well past them.
    if (this.size >= Math.max(MIN_COMPACT, GROWTH * this.compacted)) this.compact();
  }

  /** fdatasync, in the background, of what was written since the last one. */
  private sync(): void {
    if (!this.dirty || this.fd < 0) return;
    this.dirty = false;
    fdatasync(this.fd, (e) => e && e.code !== "EBADF" && this.fail(e, "fdatasync"));
  }

  /** A fresh file with one upsert per live dialog, synced, renamed over the journal; then appended to. */
  private compact(): void {
    this.lastTry = Date.now();
    const bytes = Buffer.concat(
      [...this.live()].filter((d) => d.state < 5).map((d) => encodeRecord({ type: "upsert", dialog: d })),
    );
    const tmp = join(this.dir, `${FILE}.new`);
    let fd = -1;
    try {
      mkdirSync(this.dir, { recursive: true });
      fd = openSync(tmp, "w");
      if (writeSync(fd, bytes) !== bytes.length) throw Object.assign(new Error("short write"), { code: "ENOSPC" });
      fdatasyncSync(fd);
      renameSync(tmp, join(this.dir, FILE));
      syncDir(this.dir);
    } catch (e) {
      if (fd >= 0) closeSync(fd);
      this.abandon(e, "compact");
      return;
    }
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = fd;
    this.size = this.compacted = bytes.length;
    if (this.failingSince > 0) {
      this.logger.info({ dir: this.dir, failedForMs: Date.now() - this.failingSince }, "dialog store writable again");
      this.failingSince = 0;
    }
  }

  /** A write failed: stop appending (a torn record is cut off, or found by its checksum on recovery), report. */
  private abandon(e: unknown, op: string): void {
    this.fd = abandonFile(this.fd, this.size);
    if (this.failingSince === 0) this.failingSince = Date.now();
    this.fail(e, op);
  }

  private fail(e: unknown, op: string): void {
    this.counters.storeWriteFailures++;
    this.log.warn(UNWRITABLE, "dialog store cannot write: dialogs go on in memory but would not survive a restart", {
      op,
      dir: this.dir,
      error: errCode(e),
    });
  }

  private damaged(what: string): void {
    this.counters.storeDamaged++;
    this.logger.error(
      { code: "ERR_DIALOG_STORE_CORRUPT", dir: this.dir, file: FILE },
      `dialog store: ${what}; the intact records before it are kept`,
    );
  }
}
