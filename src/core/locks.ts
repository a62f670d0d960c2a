// Named async mutexes for ctx.lock/unlock/withLock (Kamailio's cfgutils lock/unlock). In one event
// loop a lock only matters across `await`, so each name keeps a FIFO of waiters; an unlocked name
// holds no memory.
//
// Kamailio's lock blocks a worker process; here a waiter is a parked route run holding its
// transaction, so waiting is bounded twice over. A burst on one name (one caller's flood, or a
// global name behind a slow consumer) cannot queue without end: past `maxWaiters` a lock is refused
// at once. A holder that never unlocks (a route that throws between lock and unlock) cannot park
// every later call for ever: a waiter gives up after `waitTimeout`.
import { LockError } from "../errors.js";
import { intParam, type ParamSchema } from "./params.js";

/** The app's `locks` params. */
export interface LockParams {
  /** ms a route may wait for a lock before ctx.lock rejects with ERR_LOCK_TIMEOUT; 0 = for ever. */
  waitTimeout: number;
  /** Route runs that may wait for one lock name at once; the next is refused with ERR_LOCK_BUSY. */
  maxWaiters: number;
}

export const LOCK_SCHEMA: ParamSchema<LockParams> = {
  waitTimeout: intParam(
    10_000,
    0,
    3_600_000,
    "ms a route may wait for a lock before it is refused (ERR_LOCK_TIMEOUT); 0 = for ever",
  ),
  maxWaiters: intParam(
    1000,
    1,
    1_000_000,
    "route runs that may wait for one lock name at once; more are refused (ERR_LOCK_BUSY)",
  ),
};

/** Why a lock was refused: too many waiters already, or the wait ran out. */
export type LockRefusal = "busy" | "timeout";

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (err: LockError) => void;
  timer: NodeJS.Timeout | undefined;
}

export class LockTable {
  /** Refusals by reason (evsip_core_lock_refused_total) and route runs waiting now, all names (evsip_core_lock_waiters). */
  readonly stats = { refused: new Map<LockRefusal, number>(), waiting: 0 };
  private readonly held = new Map<string, Waiter[]>();
  private readonly params: LockParams;

  constructor(params: LockParams) {
    this.params = params;
  }

  /** Resolves once `name` is held by the caller; rejects with a LockError when refused. */
  lock(name: string): Promise<void> {
    const waiters = this.held.get(name);
    if (!waiters) {
      this.held.set(name, []);
      return Promise.resolve();
    }
    if (waiters.length >= this.params.maxWaiters) {
      return Promise.reject(this.refuse("busy", name, `${waiters.length} route runs already wait for it`));
    }
    return new Promise((resolve, reject) => {
      const w: Waiter = { resolve, reject, timer: undefined };
      if (this.params.waitTimeout > 0) {
        // Unref'd like every timer of the router: a stopped server's parked runs do not keep the process.
        w.timer = setTimeout(() => this.giveUp(name, w), this.params.waitTimeout);
        w.timer.unref();
      }
      waiters.push(w);
      this.stats.waiting++;
    });
  }

  /** Releases `name`, handing it to the next waiter. Unlocking a free name is a no-op (as Kamailio). */
  unlock(name: string): void {
    const waiters = this.held.get(name);
    if (!waiters) return;
    const next = waiters.shift();
    if (!next) {
      this.held.delete(name);
      return;
    }
    if (next.timer !== undefined) clearTimeout(next.timer);
    this.stats.waiting--;
    next.resolve();
  }

  /** Runs fn while holding `name`; releases even when fn throws. */
  async withLock<T>(name: string, fn: () => T | Promise<T>): Promise<T> {
    await this.lock(name);
    try {
      return await fn();
    } finally {
      this.unlock(name);
    }
  }

  isLocked(name: string): boolean {
    return this.held.has(name);
  }

  /** Route runs waiting for `name` (not counting its holder). */
  waiting(name: string): number {
    return this.held.get(name)?.length ?? 0;
  }

  private giveUp(name: string, w: Waiter): void {
    const waiters = this.held.get(name);
    const i = waiters ? waiters.indexOf(w) : -1;
    if (i < 0) return;
    waiters?.splice(i, 1);
    this.stats.waiting--;
    w.reject(this.refuse("timeout", name, `not released within ${this.params.waitTimeout} ms`));
  }

  private refuse(reason: LockRefusal, name: string, why: string): LockError {
    this.stats.refused.set(reason, (this.stats.refused.get(reason) ?? 0) + 1);
    const code = reason === "busy" ? "ERR_LOCK_BUSY" : "ERR_LOCK_TIMEOUT";
    return new LockError(code, `lock ${JSON.stringify(name.slice(0, 80))} refused: ${why}`);
  }
}
