// The idleTimeout param: one timer per client, re-armed lazily for the time left since the client's
// last read (no per-read timer work, just a timestamp). A client whose messages are still queued or
// running is not idle, since evsip itself may have paused its socket (worker-pool inbox bound).
import type { EvapiConnection } from "./connection.js";

/** Starts watching `c`: `onIdle(c)` runs once it has sent nothing for `limit` ms. */
export function watchIdle(c: EvapiConnection, limit: number, onIdle: (c: EvapiConnection) => void): void {
  arm(c, limit, limit, onIdle);
}

/** Stops watching `c` (on close). */
export function unwatchIdle(c: EvapiConnection): void {
  if (c.idleTimer) clearTimeout(c.idleTimer);
  c.idleTimer = undefined;
}

function arm(c: EvapiConnection, ms: number, limit: number, onIdle: (c: EvapiConnection) => void): void {
  c.idleTimer = setTimeout(() => {
    c.idleTimer = undefined;
    if (!c.connected) return;
    const quiet = Date.now() - c.lastRx;
    if (quiet < limit || c.running || c.inbox.length > c.inboxHead) arm(c, Math.max(1, limit - quiet), limit, onIdle);
    else onIdle(c);
  }, ms);
  c.idleTimer.unref();
}
