// Waiting for something with a bound: the start's warm-ups and the graceful stop's drain each give
// a promise a fixed time and go on either way. The timer lives only as long as the wait.

/**
 * Resolves true once `p` fulfils, false when `ms` pass first; rejects if `p` rejects first.
 * @example if (!(await within(tu.whenIdle(), 10_000))) answerTheRest();
 */
export async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p.then(() => true), new Promise<false>((resolve) => (timer = setTimeout(resolve, ms, false)))]);
  } finally {
    clearTimeout(timer);
  }
}
