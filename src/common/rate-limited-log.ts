// Logging of errors that a flood (of bad peers, or of requests while a server is down) must not turn
// into a log flood: at most `lines` lines per code per interval; the next line written for a code
// carries `suppressed`, how many of its lines were dropped since. No timers: windows roll lazily on
// the next call, and flush() reports counts that no later line carried. One limiter for every layer:
// the transport, the metrics endpoint, core (through the transport's) and jsonrpcc.
import type { Logger } from "pino";
import type { ErrorCode } from "../errors.js";
import { withDefaults } from "./with-defaults.js";

/** Log levels a RateLimitedLog writes at. */
export type RateLimitedLevel = "warn" | "info" | "error" | "debug";

interface Window {
  /** The code its lines carry. */
  readonly code: ErrorCode;
  start: number;
  lines: number;
  /** Dropped since the last line written for this code. */
  suppressed: number;
}

/** Options of a RateLimitedLog; `lines` and `intervalMs` default to RATE_LIMIT_DEFAULTS. */
export interface RateLimitedLogOptions {
  /** Most lines per code per interval. */
  readonly lines?: number;
  /** Interval length in ms. */
  readonly intervalMs?: number;
  /** Clock, for tests. Default Date.now. */
  readonly now?: () => number;
}

/** Ten lines per code per ten seconds: a flood shows, and costs a few lines. */
const RATE_LIMIT_DEFAULTS: Readonly<{ lines: number; intervalMs: number }> = Object.freeze({ lines: 10, intervalMs: 10_000 });

/**
 * A per-code rate limiter in front of a pino logger.
 * @example
 * const log = new RateLimitedLog(logger, { lines: 5, intervalMs: 1000 });
 * log.warn("ERR_SIP_BAD_VIA", "dropped datagram", { remote: "1.2.3.4:5060" });
 */
export class RateLimitedLog {
  /** Lines dropped so far, over all codes. */
  suppressedTotal = 0;
  private readonly windows = new Map<string, Window>();
  private readonly maxLines: number;
  private readonly intervalMs: number;
  private readonly now: () => number;

  private readonly logger: Logger;

  constructor(logger: Logger, opts: RateLimitedLogOptions = {}) {
    this.logger = logger;
    const o = withDefaults(RATE_LIMIT_DEFAULTS, opts);
    this.maxLines = o.lines;
    this.intervalMs = o.intervalMs;
    this.now = opts.now ?? Date.now;
  }

  /** Logs at warn level, unless this code already used its lines in the current interval. */
  warn(code: ErrorCode, msg: string, fields?: Record<string, unknown>): boolean {
    return this.log("warn", code, msg, fields);
  }

  /**
   * Logs at `level`; returns whether the line was written. `key` splits one code's budget (say, by
   * route and cause); it must come from a bounded set, as each key keeps a window.
   */
  log(level: RateLimitedLevel, code: ErrorCode, msg: string, fields?: Record<string, unknown>, key: string = code): boolean {
    // A line the logger's level leaves out is not written: it must not spend the budget of lines
    // that are, nor take away the suppressed count the next written line carries.
    if (!this.logger.isLevelEnabled(level)) return false;
    const t = this.now();
    let w = this.windows.get(key);
    if (w === undefined) {
      w = { code, start: t, lines: 0, suppressed: 0 };
      this.windows.set(key, w);
    } else if (t - w.start >= this.intervalMs) {
      w.start = t;
      w.lines = 0;
    }
    if (w.lines >= this.maxLines) {
      w.suppressed++;
      this.suppressedTotal++;
      return false;
    }
    w.lines++;
    const suppressed = w.suppressed;
    w.suppressed = 0;
    this.logger[level](suppressed > 0 ? { ...fields, code, suppressed } : { ...fields, code }, msg);
    return true;
  }

  /** Reports every suppressed count no line carried yet, one warn line per key, under its code (call on shutdown). */
  flush(): void {
    for (const w of this.windows.values()) {
      if (w.suppressed === 0) continue;
      this.logger.warn({ code: w.code, suppressed: w.suppressed }, `${w.suppressed} similar lines suppressed`);
      w.suppressed = 0;
    }
  }
}
