// Jittered exponential backoff for reconnects ("equal jitter": half the delay fixed, half random),
// so a fleet of clients does not reconnect in lock-step after a server restart.

/** Reconnect policy. Delays in milliseconds. */
export interface ReconnectOptions {
  /** Delay before the first retry. Default 100. */
  readonly initialDelay?: number;
  /** Upper bound of any delay. Default 30000. */
  readonly maxDelay?: number;
  /** Retries after a failure before giving up; `Infinity` (default) never gives up. */
  readonly maxAttempts?: number;
  /** Backoff factor. Default 2. */
  readonly factor?: number;
}

/** Fully resolved policy. */
export interface ReconnectPolicy {
  readonly initialDelay: number;
  readonly maxDelay: number;
  readonly maxAttempts: number;
  readonly factor: number;
}

/** Fills the defaults of {@link ReconnectOptions}; `false` disables reconnecting. */
export function resolveReconnect(o: ReconnectOptions | boolean | undefined): ReconnectPolicy {
  if (o === false) return { initialDelay: 0, maxDelay: 0, maxAttempts: 0, factor: 2 };
  const r = o === true || o === undefined ? {} : o;
  const initialDelay = r.initialDelay ?? 100;
  return {
    initialDelay,
    maxDelay: Math.max(initialDelay, r.maxDelay ?? 30000),
    maxAttempts: r.maxAttempts ?? Infinity,
    factor: r.factor ?? 2,
  };
}

/**
 * The delay before retry number `attempt` (1-based): `initialDelay * factor^(attempt-1)` capped at
 * `maxDelay`, then drawn uniformly from [d/2, d].
 */
export function backoffDelay(p: ReconnectPolicy, attempt: number, random: () => number = Math.random): number {
  const exp = Math.min(p.maxDelay, p.initialDelay * p.factor ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}
