// Messages of many connections, handled with per-connection order, bounded concurrency and a
// per-turn budget. Messages of one connection are handled strictly in arrival order (an async
// handler is awaited before the next), and at most `workers` connections have a handler running at
// once. Sync handlers run inline, so the common case costs no promise. At most BATCH messages are
// handled per event-loop turn, over all connections, so one read chunk of many messages cannot
// hold the loop: other sockets are read in between. Each connection's inbox is bounded by pausing
// its socket once `highWater` items wait; the pause takes effect after the current read chunk
// (≤ 64 KiB) has been split, so the real bound is highWater + the messages of one chunk.
//
// Two users: evapi's `workers` param, Kamailio's polling processes without the processes (highWater
// INBOX_HIGH_WATER: 16,384 one-byte netstrings `1:x,` in one chunk, 32,768 one-byte lines in raw
// "\n" mode), and SIP over TCP (highWater 1: the connection is told when its last message is taken;
// it bounds its read-ahead in bytes itself, tcp-connection.ts).

import { dropTakenFront } from "./taken-front.js";

/** A connection as the pool sees it: an ordered inbox and three flags the pool owns. */
export interface InboxOwner<T> {
  readonly inbox: T[];
  inboxHead: number;
  running: boolean;
  waitingForWorker: boolean;
  /** Set while the inbox is over the high-water mark (told true, not yet told false). */
  inboxHigh: boolean;
  /** Called when the inbox reaches the high-water mark / falls back to half of it (pause / resume reading). */
  onInboxPressure(high: boolean): void;
}

/** Items in `owner`'s inbox not yet handed to the handler. */
export function queued(owner: InboxOwner<unknown>): number {
  return owner.inbox.length - owner.inboxHead;
}

/**
 * evapi's inbox length at which a connection's socket is paused; resumed at half of it. Not the
 * peak: the rest of the read chunk that crossed it is still queued (see the header).
 */
export const INBOX_HIGH_WATER = 256;

/** Messages handled per event-loop turn before yielding (libuv reads 32 datagrams a turn). */
export const BATCH = 32;

/** Runs `handle(owner, item)` per queued item with per-owner order and bounded concurrency. */
export class WorkerPool<T, O extends InboxOwner<T>> {
  readonly workers: number;
  /** Owners with a handler running now (sync or async). */
  active = 0;
  private readonly ready: O[] = [];
  private turnHandled = 0;
  private turnScheduled = false;
  /** Owners that ran out of a turn's budget, in the order they get the next one. */
  private yielded: O[] = [];
  private readonly handle: (owner: O, item: T) => unknown;
  /** A handler that threw or rejected, with the owner it ran for. */
  private readonly onError: (err: unknown, owner: O) => void;
  private readonly highWater: number;

  constructor(
    workers: number,
    handle: (owner: O, item: T) => unknown,
    onError: (err: unknown, owner: O) => void,
    highWater = INBOX_HIGH_WATER,
  ) {
    this.workers = Math.max(1, workers);
    this.handle = handle;
    this.onError = onError;
    this.highWater = Math.max(1, highWater);
  }

  /** Queues an item for its owner and starts it when a worker is free. */
  enqueue(owner: O, item: T): void {
    owner.inbox.push(item);
    if (!owner.running && !owner.waitingForWorker) {
      if (this.active < this.workers) this.start(owner);
      else {
        owner.waitingForWorker = true;
        this.ready.push(owner);
      }
    }
    // Checked after the item had its chance to run: what the budget allows never waits, and never pauses.
    if (!owner.inboxHigh && queued(owner) >= this.highWater) {
      owner.inboxHigh = true;
      owner.onInboxPressure(true);
    }
  }

  /** Forgets what an owner still has queued (script close: those messages are not handled). */
  discard(owner: O): number {
    const n = queued(owner);
    owner.inbox.length = 0;
    owner.inboxHead = 0;
    if (owner.inboxHigh) {
      owner.inboxHigh = false;
      owner.onInboxPressure(false); // nothing waits now: whatever the pressure paused goes on
    }
    return n;
  }

  private start(owner: O): void {
    this.active++;
    owner.running = true;
    this.drain(owner);
  }

  /**
   * Counts a message handled in this event-loop turn; false when the turn's BATCH is used up. A
   * read chunk of hundreds of answers, each resuming a call, would otherwise run in one go: SIP
   * input would wait behind it and its replies leave in one burst that a caller's socket drops.
   */
  private takeTurnBudget(): boolean {
    if (this.turnHandled >= BATCH) return false;
    this.turnHandled++;
    this.scheduleTurn();
    return true;
  }

  private scheduleTurn(): void {
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    setImmediate(this.nextTurn);
  }

  /**
   * A new turn's budget, handed to the connections that ran out of the last one in the order they
   * yielded: one that used the budget up goes behind those it kept waiting, so a connection that
   * always has 32 messages queued cannot starve the others.
   */
  private readonly nextTurn = (): void => {
    this.turnScheduled = false;
    this.turnHandled = 0;
    const waiting = this.yielded;
    this.yielded = [];
    let i = 0;
    for (; i < waiting.length && this.turnHandled < BATCH; i++) this.drain(waiting[i] as O);
    if (i < waiting.length) this.yielded = [...waiting.slice(i), ...this.yielded];
    if (this.yielded.length > 0) this.scheduleTurn();
  };

  private drain(owner: O): void {
    while (owner.inboxHead < owner.inbox.length) {
      if (!this.takeTurnBudget()) {
        this.yielded.push(owner);
        this.scheduleTurn();
        return;
      }
      const item = owner.inbox[owner.inboxHead] as T;
      owner.inbox[owner.inboxHead] = undefined as T;
      owner.inboxHead++;
      owner.inboxHead = dropTakenFront(owner.inbox, owner.inboxHead, 1024);
      if (owner.inboxHigh && queued(owner) <= this.highWater >> 1) {
        owner.inboxHigh = false;
        owner.onInboxPressure(false);
      }
      let r: unknown;
      try {
        r = this.handle(owner, item);
      } catch (err) {
        this.onError(err, owner);
      }
      if (r instanceof Promise) {
        r.then(
          () => this.drain(owner),
          (err: unknown) => {
            this.onError(err, owner);
            this.drain(owner);
          },
        );
        return;
      }
    }
    owner.inbox.length = 0;
    owner.inboxHead = 0;
    owner.running = false;
    this.active--;
    const next = this.ready.shift();
    if (next) {
      next.waitingForWorker = false;
      this.start(next);
    }
  }
}
