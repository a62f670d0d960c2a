// The clock for durations and expiry: monotonic, in milliseconds with a fraction. A wall clock
// can step (NTP, an operator), which would keep entries too long or end waits early; a whole-ms
// clock reads a 0.5 ms duration as 0.

/** Milliseconds on the monotonic clock (performance.now()), with a fraction. */
export const monotonicMs = (): number => performance.now();
