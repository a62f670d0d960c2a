// Producer backpressure for the event socket (README.md "Producer backpressure"). A route that
// relays a burst of events in one turn of the event loop fills every client's queue before any
// socket had a chance to drain, so a full queue alone says nothing about the client. Two ideas here:
// - progress: a client is *stalled* when Node still holds bytes for it and the kernel has taken
//   none of them for `slowClientGrace` ms. Only a stalled client is "not reading"; a full queue of
//   a client that is keeping up is momentarily full because of the producer. Progress shows only
//   when a write is wholly taken (so a flush hands Node one 64 KB piece at a time, connection.ts),
//   and the kernel wakes a writer only when about a third of its send buffer is free: the grace
//   must cover the time a slow but reading client takes to free that much.
// - drain(): the awaitable a producer uses between events. It resolves at once while every client
//   has room (at most half of maxQueueBytes pending), else once each client that is not stalled
//   is back under that mark. A stalled client is never waited for, so it cannot hold others back.
import type { ClientTable } from "./client-table.js";
import type { EvapiConnection } from "./connection.js";

/** How often waiting producers re-check while no socket reports `drain` (stalls are found by time). */
const RECHECK_MS = 10;

/**
 * Loop turns in which libuv could have written to the sockets. Time alone would call a client
 * stalled after a long synchronous burst, or while the whole process waited for a CPU: the kernel
 * cannot take bytes Node has not had a turn to hand it, so a stall must also span a few turns.
 * The flush, an overflow and the re-check timer each report a turn, and one loop iteration
 * can run all three (the timer in the timers phase, the flush in the check phase, an overflow
 * wherever a route relays, as often as it relays), so a report
 * counts only once a poll phase has passed since the last one that counted: three reports in one
 * iteration are one turn in which the kernel could take bytes, not three.
 */
let turns = 0;
const STALL_TURNS = 3;
/** Whether a poll phase has passed since the last turn counted (set by a setImmediate, which runs after one). */
let polled = true;
let armed = false;

/** The loop turns so far (a new connection starts its count here). */
export function currentTurn(): number {
  return turns;
}

/** A loop turn passed (called from the flush, an overflow and the re-check timer). */
export function turnPassed(): void {
  if (polled) {
    polled = false;
    turns++;
  }
  if (armed) return;
  armed = true;
  // An immediate queued before the check phase runs in it, after this iteration's poll; one queued
  // in the check phase runs in the next iteration's, after the next poll.
  setImmediate(() => {
    armed = false;
    polled = true;
  }).unref();
}

/**
 * Notes the kernel's progress on `c` (Node holds fewer bytes than last seen, or none); called at
 * each flush before writing and whenever stalls are checked.
 */
export function noteProgress(c: EvapiConnection, now: number): void {
  const held = c.socket.writableLength;
  if (held === 0 || held < c.lastHeld) {
    c.progressAt = now;
    c.progressTurn = turns;
  }
  c.lastHeld = held;
}

/** True when Node holds bytes for `c` and the kernel took none of them for `grace` ms and a few loop turns. */
export function isStalled(c: EvapiConnection, now: number, grace: number): boolean {
  noteProgress(c, now);
  return c.socket.writableLength > 0 && now - c.progressAt >= grace && turns - c.progressTurn >= STALL_TURNS;
}

/** The drain() waiters of one event socket. */
export class DrainGate {
  private readonly table: ClientTable;
  private readonly highWater: number;
  private readonly grace: number;
  private waiters: Array<() => void> = [];
  /** Set when a queue passed the mark since the last check; while false drain() resolves at once. */
  private maybeFull = false;
  private timer: NodeJS.Timeout | undefined = undefined;

  constructor(table: ClientTable, maxQueueBytes: number, grace: number) {
    this.table = table;
    this.highWater = Math.floor(maxQueueBytes / 2);
    this.grace = grace;
  }

  /** After queueing to `c`: remembers that some queue may be past the mark. */
  queued(c: EvapiConnection): void {
    if (!this.maybeFull && c.pendingBytes > this.highWater) this.maybeFull = true;
  }

  /** A queue is over the mark (a frame did not fit): the next wait() checks instead of resolving at once. */
  markFull(): void {
    this.maybeFull = true;
  }

  /** Resolves when every client that is reading has room. */
  wait(): Promise<void> {
    if (!this.maybeFull || this.hasRoom()) return Promise.resolve();
    const p = new Promise<void>((resolve) => this.waiters.push(resolve));
    this.timer ??= setInterval(() => {
      turnPassed();
      this.check();
    }, RECHECK_MS).unref();
    return p;
  }

  /** Re-checks (a socket drained, a flush ran, a client closed); wakes the waiters when there is room. */
  check(): void {
    if (this.waiters.length === 0 || !this.hasRoom()) return;
    const ws = this.waiters;
    this.waiters = [];
    clearInterval(this.timer);
    this.timer = undefined;
    for (const w of ws) w();
  }

  /** Wakes every waiter (stop). */
  release(): void {
    this.maybeFull = false;
    this.check();
  }

  private hasRoom(): boolean {
    const now = Date.now();
    for (const c of this.table.all()) {
      if (!c.connected || c.pendingBytes <= this.highWater) continue;
      if (!isStalled(c, now, this.grace)) return false;
    }
    this.maybeFull = false;
    return true;
  }
}
