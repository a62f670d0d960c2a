// The event surface of EvapiClient: counters, coded error reporting, and delivery of received
// messages to user listeners. Every emit made from a socket handler goes through safeEmit(), so a
// throwing listener becomes ERR_CLIENT_HANDLER_THREW (error event + counter), never an exception
// out of a socket callback (which would crash the process).
import { EventEmitter } from "node:events";
import type { ClientLogger } from "./logger.js";
import type { ErrorCode } from "./errors.js";
import type { EvapiClientEvents } from "./client-options.js";
import { ClientError } from "./client-error.js";

/** Counters of an EvapiClient (plain fields, read by metrics exporters). */
export interface EvapiClientStats {
  rx: number;
  tx: number;
  txBytes: number;
  connects: number;
  reconnectAttempts: number;
  parseErrors: number;
  /** Listener or answer-handler exceptions caught (also in `errors` as ERR_CLIENT_HANDLER_THREW). */
  listenerErrors: number;
  /** Times reading was paused for backpressure (unsent bytes or busy answer handlers). */
  readPauses: number;
  errors: Map<ErrorCode, number>;
}

/** Base of EvapiClient: see the file header. */
export class ClientEmitter extends EventEmitter<EvapiClientEvents> {
  readonly stats: EvapiClientStats = {
    rx: 0,
    tx: 0,
    txBytes: 0,
    connects: 0,
    reconnectAttempts: 0,
    parseErrors: 0,
    listenerErrors: 0,
    readPauses: 0,
    errors: new Map(),
  };

  readonly host: string;
  readonly port: number;
  protected readonly logger: ClientLogger | undefined;

  constructor(host: string, port: number, logger: ClientLogger | undefined) {
    super();
    this.host = host;
    this.port = port;
    this.logger = logger;
  }

  /** Emits to user listeners; an exception from one becomes a coded error, not a crash. */
  protected safeEmit<K extends keyof EvapiClientEvents>(name: K, ...args: EvapiClientEvents[K]): void {
    try {
      (this.emit as (n: K, ...a: EvapiClientEvents[K]) => boolean)(name, ...args);
    } catch (e) {
      this.listenerThrew(`a "${String(name)}" listener threw: ${String(e)}`, e);
    }
  }

  /** Reports an exception of user code (listener or answer handler) as ERR_CLIENT_HANDLER_THREW. */
  protected listenerThrew(message: string, cause: unknown): void {
    this.stats.listenerErrors++;
    this.reportError(new ClientError("ERR_CLIENT_HANDLER_THREW", message, { cause }));
  }

  /** Hands one received message to `message` and `event` listeners. */
  protected deliver(payload: Buffer): void {
    this.stats.rx++;
    if (this.listenerCount("event") === 0 && this.listenerCount("message") === 0) return;
    this.deliverText(payload.toString("utf8"));
  }

  /** Hands a value already parsed (a durable event's payload) to `message` and `event` listeners. */
  protected deliverValue(value: unknown): void {
    if (this.listenerCount("message") > 0) this.safeEmit("message", JSON.stringify(value));
    this.safeEmit("event", value);
  }

  /** Emits `message`, then parses for `event` listeners (a parse failure is a coded parseError). */
  protected deliverText(text: string): void {
    const wantsEvent = this.listenerCount("event") > 0;
    this.safeEmit("message", text);
    if (!wantsEvent) return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      this.stats.parseErrors++;
      this.count("ERR_CLIENT_BAD_JSON");
      this.safeEmit("parseError", new ClientError("ERR_CLIENT_BAD_JSON", `message is not JSON: ${(e as Error).message}`), text);
      return;
    }
    this.safeEmit("event", value);
  }

  /** Counts `e` and emits it as `error` when listened to, else logs it. */
  protected reportError(e: ClientError, counted = false): void {
    if (!counted) this.count(e.code);
    if (this.listenerCount("error") === 0) {
      this.logger?.warn({ code: e.code, host: this.host, port: this.port }, e.message);
      return;
    }
    try {
      this.emit("error", e);
    } catch (thrown) {
      // An error listener that throws has nowhere left to report to: log it, keep running.
      this.stats.listenerErrors++;
      this.count("ERR_CLIENT_HANDLER_THREW");
      this.logger?.error({ code: "ERR_CLIENT_HANDLER_THREW", err: String(thrown) }, "an error listener threw");
    }
  }

  protected count(code: ErrorCode): void {
    this.stats.errors.set(code, (this.stats.errors.get(code) ?? 0) + 1);
  }
}
