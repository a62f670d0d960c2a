// RateLimitedLog: at most N lines per code per interval, the suppressed count carried by the next
// line of that code or reported by flush(); codes (or the keys that split one) are limited
// independently. A fake clock is injected, no timers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RateLimitedLog } from "../../src/common/rate-limited-log.js";
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
  assert.equal(log.warn("ERR_SIP_BAD_VIA", "bad via"), true);
  assert.deepEqual(
    lines.map((l) => [l.code, l.suppressed, l.remote]),
    [
      ["ERR_SIP_BAD_VIA", undefined, undefined],
      ["ERR_SIP_BAD_VIA", undefined, undefined],
      ["ERR_SIP_EMPTY", undefined, undefined],
      ["ERR_SIP_BAD_VIA", 3, "x"],
      ["ERR_SIP_BAD_VIA", undefined, undefined],
    ],
  );
  assert.equal(log.suppressedTotal, 3);
});

test("one line per code per interval: the first line after it carries the suppressed count", () => {
  const { logger, lines } = captureLogger();
  let now = 0;
  const w = new RateLimitedLog(logger, { lines: 1, intervalMs: 10_000, now: () => now });
  assert.equal(w.warn("ERR_JSONRPC_NO_SERVER", "a"), true);
  for (let i = 0; i < 7; i++) assert.equal(w.warn("ERR_JSONRPC_NO_SERVER", "a"), false);
  assert.equal(w.warn("ERR_JSONRPC_MAX_PENDING", "b"), true, "codes are limited separately");
  now = 9_999;
  assert.equal(w.warn("ERR_JSONRPC_NO_SERVER", "a"), false);
  now = 10_000;
  assert.equal(w.warn("ERR_JSONRPC_NO_SERVER", "a"), true);
  assert.deepEqual(
    lines.map((l) => [l.code, l.suppressed]),
    [
      ["ERR_JSONRPC_NO_SERVER", undefined],
      ["ERR_JSONRPC_MAX_PENDING", undefined],
      ["ERR_JSONRPC_NO_SERVER", 8],
    ],
  );
});

test("flush() reports pending suppressed counts once; a flushed count is not carried again", () => {
  const { logger, lines } = captureLogger();
  let now = 0;
  const log = new RateLimitedLog(logger, { lines: 1, intervalMs: 60_000, now: () => now });
  log.warn("ERR_TRANSPORT_SEND_FAILED", "a");
  log.warn("ERR_TRANSPORT_SEND_FAILED", "a");
  log.flush();
  log.flush();
  now = 60_000;
  log.warn("ERR_TRANSPORT_SEND_FAILED", "a");
  assert.deepEqual(
    lines.map((l) => [l.msg, l.suppressed]),
    [
      ["a", undefined],
      ["1 similar lines suppressed", 1],
      ["a", undefined],
    ],
  );
});

test("a key splits one code's budget; flush reports each key's count under its code", () => {
  const { logger, lines } = captureLogger();
  const log = new RateLimitedLog(logger, { lines: 1, intervalMs: 1000, now: () => 0 });
  assert.equal(log.log("error", "ERR_ROUTE_THREW", "a", {}, "request ERR_LOCK_BUSY"), true);
  assert.equal(log.log("error", "ERR_ROUTE_THREW", "a", {}, "request ERR_LOCK_BUSY"), false);
  assert.equal(log.log("error", "ERR_ROUTE_THREW", "b", {}, "request other"), true, "another key has its own budget");
  assert.equal(log.log("error", "ERR_ROUTE_THREW", "b", {}, "request other"), false);
  log.flush();
  assert.deepEqual(
    lines.filter((l) => l.suppressed !== undefined).map((l) => [l.code, l.suppressed]),
    [
      ["ERR_ROUTE_THREW", 1],
      ["ERR_ROUTE_THREW", 1],
    ],
  );
});

test("a line below the logger's level is not written and costs no budget; the next written line still carries the count", () => {
  const { logger, lines } = captureLogger();
  logger.level = "warn";
  const log = new RateLimitedLog(logger, { lines: 1, intervalMs: 10_000, now: () => 0 });
  assert.equal(log.warn("ERR_OVERLOAD", "began"), true);
  assert.equal(log.warn("ERR_OVERLOAD", "began"), false, "over budget: suppressed");
  assert.equal(log.log("info", "ERR_OVERLOAD", "over"), false, "below the level: not written");
  assert.equal(log.suppressedTotal, 1, "and not counted as suppressed");
  log.flush();
  assert.deepEqual(
    lines.map((l) => [l.msg, l.suppressed]),
    [
      ["began", undefined],
      ["1 similar lines suppressed", 1],
    ],
  );
});
