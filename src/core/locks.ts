// Named async mutexes for ctx.lock/unlock/withLock (Kamailio's cfgutils lock/unlock). In one event
// loop a lock only matters across `await`, so each name keeps a FIFO of waiters; an unlocked name
// holds no memory.

export class LockTable {
  private readonly held = new Map<string, Array<() => void>>();

  /** Resolves once `name` is held by the caller. */
  lock(name: string): Promise<void> {
    const waiters = this.held.get(name);
    if (!waiters) {
      this.held.set(name, []);
      return Promise.resolve();
    }
    return new Promise((resolve) => waiters.push(resolve));
  }

  /** Releases `name`, handing it to the next waiter. Unlocking a free name is a no-op (as Kamailio). */
  unlock(name: string): void {
    const waiters = this.held.get(name);
    if (!waiters) return;
    const next = waiters.shift();
    if (next) next();
    else this.held.delete(name);
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
}
