// EvapiClient: the external application's end of the event socket (EVAPI.md). Connects over TCP
// (IPv4/IPv6), decodes strictly with the shared bounded codec, emits messages as text or parsed
// JSON, sends with backpressure (write() result + drain()), reconnects with jittered exponential
// backoff, and turns every peer fault into a coded event: it never throws from a socket handler.
import { connect as netConnect, type Socket } from "node:net";
import { EventEmitter } from "node:events";
import type { Logger } from "pino";
import type { EvapiClientEvents, EvapiClientOptions } from "./client-options.js";
import type { ErrorCode } from "../errors.js";
import { DEFAULT_MAX_MESSAGE_SIZE } from "../netstring/index.js";
import { ClientError, failureToError } from "./client-error.js";
import type { AnswerOptions } from "./answer.js";
import { createInboundFramer, frameOutbound, type FramingOptions } from "./framing.js";
import { backoffDelay, resolveReconnect, type ReconnectPolicy } from "./backoff.js";
import { createAnswerListener, DEFAULT_ANSWER_FIELDS } from "./answer.js";

interface Waiter {
  resolve(): void;
  reject(e: ClientError): void;
}

/**
 * A client of the evsip (or Kamailio) event API.
 *
 * @example
 * const client = new EvapiClient({ port: 8448 });
 * client.answer(async (ev) => ({ action: "allow" })); // tindex/tlabel copied from ev
 * await client.connect();
 */
export class EvapiClient extends EventEmitter<EvapiClientEvents> {
  readonly host: string;
  readonly port: number;
  readonly stats = { rx: 0, tx: 0, txBytes: 0, connects: 0, reconnectAttempts: 0, parseErrors: 0, errors: new Map<ErrorCode, number>() };

  private readonly framing: FramingOptions;
  private readonly policy: ReconnectPolicy;
  private readonly connectTimeout: number;
  private readonly logger: Logger | undefined;
  private socket: Socket | undefined = undefined;
  private isUp = false;
  private started = false;
  private closed = false;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined = undefined;
  private corked = false;
  private connectWaiters: Waiter[] = [];
  private drainWaiters: Waiter[] = [];

  constructor(options: EvapiClientOptions) {
    super();
    this.host = options.host ?? "127.0.0.1";
    this.port = options.port;
    this.framing = {
      framing: options.framing ?? "netstring",
      rawDelimiter: options.rawDelimiter,
      maxMessageSize: options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE,
    };
    this.policy = resolveReconnect(options.reconnect);
    this.connectTimeout = options.connectTimeout ?? 10000;
    this.logger = options.logger;
  }

  /** True while a connection is established. */
  get connected(): boolean {
    return this.isUp;
  }

  /** Bytes queued in the client that the socket has not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.socket?.writableLength ?? 0;
  }

  /** Starts connecting; resolves on the first connection, rejects if the client gives up or is closed. */
  connect(): Promise<void> {
    if (this.closed) return Promise.reject(new ClientError("ERR_CLIENT_CLOSED", "client is closed"));
    if (this.isUp) return Promise.resolve();
    const p = new Promise<void>((resolve, reject) => this.connectWaiters.push({ resolve, reject }));
    if (!this.started) {
      this.started = true;
      this.open();
    }
    return p;
  }

  /**
   * Sends one message: a string as is, an object as JSON. Returns false when the socket buffer is
   * full (the message is still queued): `await client.drain()` before sending more.
   * @throws ClientError ERR_CLIENT_NOT_CONNECTED when there is no connection.
   */
  send(data: string | object): boolean {
    const s = this.socket;
    if (!this.isUp || s === undefined) throw new ClientError("ERR_CLIENT_NOT_CONNECTED", "not connected");
    const buf = frameOutbound(this.framing, data);
    this.stats.tx++;
    this.stats.txBytes += buf.length;
    if (!this.corked) {
      // Batch every send of this loop turn into one write.
      this.corked = true;
      s.cork();
      process.nextTick(() => {
        this.corked = false;
        s.uncork();
      });
    }
    return s.write(buf);
  }

  /** Resolves when the socket can take more data; rejects if the connection goes away first. */
  drain(): Promise<void> {
    const s = this.socket;
    if (!this.isUp || s === undefined) return Promise.reject(new ClientError("ERR_CLIENT_NOT_CONNECTED", "not connected"));
    if (!s.writableNeedDrain) return Promise.resolve();
    return new Promise<void>((resolve, reject) => this.drainWaiters.push({ resolve, reject }));
  }

  /**
   * Answers events: `handler(event)` (sync or async) returns the reply object, a string sent as is,
   * or undefined for no reply. The event's `tindex`/`tlabel` (or `fields`) are copied into an object
   * reply. Handler errors become `error` events (ERR_CLIENT_HANDLER_THREW). Returns an unsubscribe.
   */
  answer(handler: (event: unknown) => unknown, options: AnswerOptions = {}): () => void {
    const listener = createAnswerListener(handler, options.fields ?? DEFAULT_ANSWER_FIELDS, {
      send: (reply) => this.send(reply),
      fail: (e) => this.handlerFailed(e),
    });
    this.on("event", listener);
    return () => {
      this.off("event", listener);
    };
  }

  /** Closes for good: no reconnect. Resolves once the socket is closed and `close` was emitted. */
  async close(): Promise<void> {
    if (this.closed && this.socket === undefined) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    const s = this.socket;
    if (s === undefined) {
      this.finish(new ClientError("ERR_CLIENT_CLOSED", "client closed"));
      return;
    }
    const done = new Promise<void>((resolve) => this.once("close", () => resolve()));
    if (this.isUp) {
      s.end();
      s.setTimeout(1000, () => s.destroy());
    } else s.destroy();
    return done;
  }

  private open(): void {
    const s = netConnect({ host: this.host, port: this.port });
    this.socket = s;
    s.setNoDelay(true);
    s.setTimeout(this.connectTimeout);
    let reason: ClientError | undefined;
    let wasUp = false;
    const framer = createInboundFramer(this.framing, (p) => this.deliver(p));
    s.on("timeout", () => {
      reason ??= new ClientError(wasUp ? "ERR_CLIENT_NOT_CONNECTED" : "ERR_CLIENT_CONNECT_FAILED", "timeout");
      s.destroy();
    });
    s.once("connect", () => {
      s.setTimeout(0);
      wasUp = true;
      this.isUp = true;
      this.attempt = 0;
      this.stats.connects++;
      this.emit("connected", { host: this.host, port: this.port, localPort: s.localPort ?? 0 });
      this.settle(this.connectWaiters, undefined);
      this.connectWaiters = [];
    });
    s.on("data", (chunk: Buffer) => {
      const r = framer.push(chunk);
      if (r.ok) return;
      reason = failureToError(r);
      this.reportError(reason);
      s.destroy();
    });
    s.on("drain", () => {
      const ws = this.drainWaiters;
      this.drainWaiters = [];
      this.settle(ws, undefined);
    });
    s.on("error", (e) => {
      const code = wasUp ? "ERR_CLIENT_NOT_CONNECTED" : "ERR_CLIENT_CONNECT_FAILED";
      reason ??= new ClientError(code, `${wasUp ? "connection lost" : "connect failed"}: ${e.message}`, { cause: e });
    });
    s.once("close", () => {
      framer.destroy();
      this.socket = undefined;
      this.isUp = false;
      const ws = this.drainWaiters;
      this.drainWaiters = [];
      this.settle(ws, new ClientError("ERR_CLIENT_NOT_CONNECTED", "connection closed"));
      const willReconnect = !this.closed && this.attempt < this.policy.maxAttempts;
      if (wasUp) this.emit("disconnected", { reason, willReconnect });
      if (willReconnect) this.scheduleReconnect(reason);
      else if (this.closed || this.policy.maxAttempts === 0) this.finish(reason ?? new ClientError("ERR_CLIENT_CLOSED", "client closed"));
      else this.giveUp(reason);
    });
  }

  private scheduleReconnect(reason: ClientError | undefined): void {
    this.attempt++;
    this.stats.reconnectAttempts++;
    const delay = backoffDelay(this.policy, this.attempt);
    this.emit("reconnecting", { attempt: this.attempt, delay, reason });
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.closed) this.open();
    }, delay);
  }

  private giveUp(reason: ClientError | undefined): void {
    const e = new ClientError("ERR_CLIENT_CONNECT_FAILED", `gave up after ${this.attempt} reconnect attempts`, { cause: reason });
    this.reportError(e);
    this.closed = true;
    this.finish(e);
  }

  private finish(e: ClientError): void {
    this.closed = true;
    const ws = this.connectWaiters;
    this.connectWaiters = [];
    this.settle(ws, e);
    this.emit("close");
  }

  private deliver(payload: Buffer): void {
    this.stats.rx++;
    const wantsEvent = this.listenerCount("event") > 0;
    if (!wantsEvent && this.listenerCount("message") === 0) return;
    const text = payload.toString("utf8");
    this.emit("message", text);
    if (!wantsEvent) return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      this.stats.parseErrors++;
      this.count("ERR_CLIENT_BAD_JSON");
      this.emit("parseError", new ClientError("ERR_CLIENT_BAD_JSON", `message is not JSON: ${(e as Error).message}`), text);
      return;
    }
    this.emit("event", value);
  }

  private handlerFailed(e: unknown): void {
    const err = e instanceof ClientError ? e : new ClientError("ERR_CLIENT_HANDLER_THREW", `answer handler failed: ${String(e)}`, { cause: e });
    this.reportError(err);
  }

  private reportError(e: ClientError): void {
    this.count(e.code);
    if (this.listenerCount("error") > 0) this.emit("error", e);
    else this.logger?.warn({ code: e.code, host: this.host, port: this.port }, e.message);
  }

  private count(code: ErrorCode): void {
    this.stats.errors.set(code, (this.stats.errors.get(code) ?? 0) + 1);
  }

  private settle(ws: Waiter[], e: ClientError | undefined): void {
    for (const w of ws) {
      if (e === undefined) w.resolve();
      else w.reject(e);
    }
  }
}
