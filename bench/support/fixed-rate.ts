// An open-loop producer for in-process benches: calls `send` `total` times at `rate` per second,
// catching up every 2 ms on whatever the clock says is due (so a slow turn does not lower the rate).
/** Resolves once all `total` sends are done. */
export function sendAtRate(send: () => void, rate: number, total: number): Promise<void> {
  let sent = 0;
  const t0 = process.hrtime.bigint();
  return new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor((Number(process.hrtime.bigint() - t0) / 1e9) * rate));
      for (; sent < due; sent++) send();
      if (sent >= total) {
        clearInterval(tick);
        resolve();
      }
    }, 2);
  });
}
