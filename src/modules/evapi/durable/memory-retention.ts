// The in-memory RetentionStore: per consumer a deque of frames indexed by id - firstId. Survives a
// consumer's reconnect, not a restart of evsip (a persistent store implements the same interface).
import type { ConsumerLog, RetentionStore } from "./retention-store.js";

/** Compact the deque's array once this many slots at its head are released. */
const COMPACT_AT = 1024;

/** One consumer's window in memory (also the cache in front of the disk journal, disk-retention.ts). */
export class MemoryLog implements ConsumerLog {
  readonly name: string;
  lastId = 0;
  ackedId = 0;
  bytes = 0;
  private frames: Buffer[] = [];
  private head = 0;

  /** A log whose ids up to `released` are gone and `acked` is the ack point (a recovered log). */
  constructor(name: string, released = 0, acked = 0) {
    this.name = name;
    this.lastId = released;
    this.ackedId = acked;
  }

  get count(): number {
    return this.frames.length - this.head;
  }

  get firstId(): number {
    return this.lastId - this.count + 1;
  }

  append(frame: Buffer): void {
    this.frames.push(frame);
    this.lastId++;
    this.bytes += frame.length;
  }

  frame(id: number): Buffer | undefined {
    const first = this.firstId;
    return id >= first && id <= this.lastId ? this.frames[this.head + id - first] : undefined;
  }

  ack(id: number): void {
    if (id <= this.ackedId) return;
    this.ackedId = Math.min(id, this.lastId);
    while (this.count > 0 && this.firstId <= this.ackedId) this.shift();
  }

  dropOldest(): number {
    return this.shift();
  }

  /** Releases the oldest retained frame (not dropOldest, which a journaling subclass records). */
  private shift(): number {
    if (this.count === 0) return 0;
    const f = this.frames[this.head] as Buffer;
    this.frames[this.head] = undefined as unknown as Buffer;
    this.head++;
    this.bytes -= f.length;
    if (this.head >= COMPACT_AT && this.head * 2 >= this.frames.length) {
      this.frames = this.frames.slice(this.head);
      this.head = 0;
    }
    return f.length;
  }
}

/** Consumer logs in memory. */
export class MemoryRetentionStore implements RetentionStore {
  private readonly byName = new Map<string, MemoryLog>();

  get size(): number {
    return this.byName.size;
  }

  open(name: string): ConsumerLog {
    let log = this.byName.get(name);
    if (!log) {
      log = new MemoryLog(name);
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
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
