// RateLimitedLog: at most N lines per code per interval, suppressed counts reported on the next
// window and on flush(); codes are limited independently. A fake clock is injected, no timers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RateLimitedLog } from "../../src/transport/rate-limited-log.js";
import { captureLogger } from "../support/transport-harness.js";

test("at most N lines per code per interval, then a suppressed count", () => {
  const { logger, lines } = captureLogger();
  let now = 1000;
  const log = new RateLimitedLog(logger, { lines: 2, intervalMs: 100, now: () => now });
  const written = [1, 2, 3, 4, 5].map(() => log.warn("ERR_SIP_BAD_VIA", "bad via"));
  assert.deepEqual(written, [true, true, false, false, false]);
  assert.equal(log.warn("ERR_SIP_EMPTY", "empty"), true, "another code has its own budget");
  assert.equal(lines.length, 3);
  now += 100;
  assert.equal(log.warn("ERR_SIP_BAD_VIA", "bad via", { remote: "x" }), true);
  const summary = lines.find((l) => l.suppressed !== undefined);
  assert.deepEqual([summary?.code, summary?.suppressed], ["ERR_SIP_BAD_VIA", 3]);
  assert.equal(lines.at(-1)?.remote, "x");
  assert.equal(lines.at(-1)?.code, "ERR_SIP_BAD_VIA");
  assert.equal(log.suppressedTotal, 3);
});

test("flush() reports pending suppressed counts once", () => {
  const { logger, lines } = captureLogger();
  const log = new RateLimitedLog(logger, { lines: 1, intervalMs: 60_000 });
  log.warn("ERR_TRANSPORT_SEND_FAILED", "a");
  log.warn("ERR_TRANSPORT_SEND_FAILED", "a");
  log.flush();
  log.flush();
  assert.deepEqual(
    lines.map((l) => l.suppressed),
    [undefined, 1],
  );
});
