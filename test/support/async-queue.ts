// A queue tests await instead of sleeping: peers push what they observe, tests `await q.next()`.
// next() rejects after a safety timeout so a broken test fails instead of hanging; the timeout is
// a guard, never a way to synchronise.

/** FIFO of observed items with awaitable `next()`. */
export class AsyncQueue<T> {
  private readonly items: T[] = [];
  private readonly waiters: { resolve(v: T): void; reject(e: Error): void; timer: NodeJS.Timeout }[] = [];

  /** Items pushed and not yet taken. */
  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    const w = this.waiters.shift();
    if (w) {
      clearTimeout(w.timer);
      w.resolve(item);
    } else this.items.push(item);
  }

  /** The next item, waiting for it if none is queued. Rejects after `timeoutMs` (default 5000). */
  next(timeoutMs = 5000): Promise<T> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift() as T);
    return new Promise<T>((resolve, reject) => {
      const w = {
        resolve,
        reject,
        timer: setTimeout(() => {
          const i = this.waiters.indexOf(w);
          if (i !== -1) this.waiters.splice(i, 1);
          reject(new Error(`AsyncQueue.next: nothing arrived within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.waiters.push(w);
    });
  }

  /** Takes everything queued now. */
  drainNow(): T[] {
    return this.items.splice(0, this.items.length);
  }
}

/**
 * Resolves with the arguments of the next `name` event. Unlike events.once, an `error` event does
 * not reject it (tests that expect a coded error wait for several events at once).
 */
export function nextEvent(
  emitter: {
    once(name: string, listener: (...args: never[]) => void): unknown;
    off(name: string, listener: (...args: never[]) => void): unknown;
  },
  name: string,
  timeoutMs = 5000,
): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const listener = (...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args);
    };
    const timer = setTimeout(() => {
      emitter.off(name, listener);
      reject(new Error(`no "${name}" event within ${timeoutMs} ms`));
    }, timeoutMs);
    emitter.once(name, listener);
  });
}
