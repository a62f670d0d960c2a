// Waiting for a condition that has no event of its own to wait on: a counter in this process, or
// something only /proc shows (a socket another process bound, a connection it made).

export interface WaitForOptions {
  /** Checked every this many ms; 0 (the default): on every event-loop turn, for cheap checks. */
  readonly every?: number;
  /** What is awaited, for the timeout's message. */
  readonly what?: string;
}

/** Resolves once `cond()` holds, rejects after `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs = 3000, o: WaitForOptions = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const every = o.every ?? 0;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`waitFor: ${o.what ?? "condition"} not met in ${timeoutMs} ms`);
    await new Promise<void>((r) => (every > 0 ? setTimeout(r, every) : setImmediate(r)));
  }
}
