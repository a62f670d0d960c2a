// EvapiClient: the external application's end of the event socket (docs/evapi.md). Connects over TCP
// (IPv4/IPv6), decodes strictly with the shared bounded codec, emits messages as text or parsed
// JSON, sends with backpressure (write() result + drain(), unsent bytes capped by
// maxBufferedBytes; reads are not paused for our own writes, which could deadlock a peer that
// blocks writing to us), reconnects with jittered exponential backoff, and turns every peer fault
// into a coded event: it never throws from a socket handler.
import { connect as netConnect, isIP, type Socket } from "node:net";
import { connect as tlsConnect, type ConnectionOptions } from "node:tls";
import type { EvapiClientOptions } from "./client-options.js";
import { DEFAULT_MAX_MESSAGE_SIZE } from "./netstring/index.js";
import { ClientError, failureToError } from "./client-error.js";
import { ClientEmitter } from "./client-emitter.js";
import type { AnswerOptions } from "./answer.js";
import { createInboundFramer, frameOutbound, type FramingOptions } from "./framing.js";
import { backoffDelay, resolveReconnect, type ReconnectPolicy } from "./backoff.js";
import { createAnswerListener, DEFAULT_ANSWER_FIELDS } from "./answer.js";
import { DurableSession, type ConsumeHandler, type DurableStats } from "./durable-session.js";
import { eventsMessage, LISTEN_MESSAGE, readControlReply } from "./control-replies.js";
import { echoCorrelation } from "./answer.js";
import type { Decision } from "./decision.js";
import { authMessage, isFinalRefusal, readAuthReply } from "./auth-handshake.js";

/** Default of `maxBufferedBytes`: unsent bytes past which send() throws ERR_CLIENT_SLOW_PEER. */
export const DEFAULT_MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

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
export class EvapiClient extends ClientEmitter {
  private readonly framing: FramingOptions;
  private readonly policy: ReconnectPolicy;
  private readonly connectTimeout: number;
  private readonly maxBufferedBytes: number;
  private socket: Socket | undefined = undefined;
  /** Why the current connection ended, when we know (a coded fault we detected). */
  private reason: ClientError | undefined = undefined;
  private readPaused = false;
  /** answer() listeners at their concurrency cap: reading stays paused while any is. */
  private answerHolds = 0;
  private isUp = false;
  private started = false;
  private closed = false;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined = undefined;
  private corked = false;
  private connectWaiters: Waiter[] = [];
  private drainWaiters: Waiter[] = [];
  private readonly session: DurableSession | undefined;
  /** The event subscription sent on every connection (undefined: none, every event arrives). */
  private events: readonly string[] | undefined;
  /** True once the client opted in to something evsip answers with control replies. */
  private readsControl = false;
  private readonly listenOnly: boolean;
  private readonly auth: { readonly token: string; readonly tag: string | undefined } | undefined;
  private readonly tls: ConnectionOptions | undefined;
  /** Set while this connection waits for evsip's answer to its auth message. */
  private onAuthReply: ((text: string) => void) | undefined = undefined;

  constructor(options: EvapiClientOptions) {
    super(options.host ?? "127.0.0.1", options.port, options.logger);
    this.framing = {
      framing: options.framing ?? "netstring",
      rawDelimiter: options.rawDelimiter,
      maxMessageSize: options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE,
    };
    this.policy = resolveReconnect(options.reconnect);
    this.connectTimeout = options.connectTimeout ?? 10000;
    this.maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.session = options.durable ? this.durableSession(options) : undefined;
    this.events = options.events;
    this.listenOnly = options.listenOnly === true;
    this.readsControl = options.events !== undefined || this.listenOnly;
    this.auth = options.token === undefined ? undefined : { token: options.token, tag: options.tag };
    this.tls = options.tls === true ? {} : options.tls === false ? undefined : options.tls;
  }

  /**
   * evsip only: replaces the event subscription (exact names and `prefix*` patterns), now when
   * connected and on every later connection. `subscribedEvents` follows when evsip accepts it.
   */
  subscribeEvents(names: readonly string[]): void {
    this.events = [...names];
    this.readsControl = true;
    if (this.isUp) this.send(eventsMessage(this.events));
  }

  /** Counters of durable mode; undefined without the `durable` option. */
  get durableStats(): DurableStats | undefined {
    return this.session?.stats;
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
      if (this.session)
        this.session.load().then(
          () => this.open(),
          (e: ClientError) => this.finish(e),
        );
      else this.open();
    }
    return p;
  }

  /**
   * Durable mode: runs `handler(event, { id })` for each event, one at a time in id order, and
   * acknowledges the event once the handler resolved (with `ack: "auto"`). A handler that throws
   * is reported (ERR_CLIENT_HANDLER_THREW) and the connection is dropped, so that the event and
   * those after it are delivered again: catch inside the handler to skip an event instead.
   * Returns an unsubscribe.
   * @throws ClientError ERR_CONFIG_INVALID without the `durable` option.
   * @example
   * const client = new EvapiClient({ port: 8448, durable: { consumer: "billing", store } });
   * client.consume(async (ev) => { await ledger.insert(ev); });
   * await client.connect();
   */
  consume(handler: ConsumeHandler): () => void {
    const s = this.session;
    if (!s) throw new ClientError("ERR_CONFIG_INVALID", "consume() needs the durable option");
    s.setHandler(handler);
    return () => s.setHandler(undefined);
  }

  /**
   * Durable mode with `ack: "manual"`: marks every event up to `id` handled; it is saved to the
   * store, then acknowledged to evsip (cumulative). Ids at or below the last one are ignored.
   */
  ack(id: number): void {
    this.session?.ack(id);
  }

  /**
   * Sends one message: a string as is, an object as JSON. Returns false when the socket buffer is
   * full (the message is still queued): `await client.drain()` before sending more. Reading goes
   * on meanwhile (see updateReading); unsent bytes are capped by `maxBufferedBytes`.
   * @throws ClientError ERR_CLIENT_NOT_CONNECTED when there is no connection.
   * @throws ClientError ERR_CLIENT_SLOW_PEER when the message would take the unsent bytes past
   *   `maxBufferedBytes` (nothing is queued; counted).
   */
  send(data: string | object): boolean {
    const s = this.socket;
    if (!this.isUp || s === undefined || s.destroyed) throw new ClientError("ERR_CLIENT_NOT_CONNECTED", "not connected");
    const buf = frameOutbound(this.framing, data);
    const queued = s.writableLength;
    if (queued > 0 && queued + buf.length > this.maxBufferedBytes) {
      this.count("ERR_CLIENT_SLOW_PEER");
      throw new ClientError("ERR_CLIENT_SLOW_PEER", `peer does not read: ${queued} bytes unsent, limit ${this.maxBufferedBytes}`);
    }
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
    const ok = s.write(buf);
    if (!ok) this.updateReading();
    return ok;
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
   * reply. Handler errors become `error` events (ERR_CLIENT_HANDLER_THREW). At most
   * `options.maxConcurrent` (64) async handlers run at once: the client stops reading meanwhile. A
   * reply that would pass `maxBufferedBytes` drops the connection (ERR_CLIENT_SLOW_PEER `error`
   * event, reconnect per policy). Returns an unsubscribe.
   */
  answer(handler: (event: unknown) => unknown, options: AnswerOptions = {}): () => void {
    this.readsControl = true; // a refused decision comes back as a coded notice
    const a = createAnswerListener(
      handler,
      options.fields ?? DEFAULT_ANSWER_FIELDS,
      {
        send: (reply) => this.sendReply(reply),
        fail: (e) => this.handlerFailed(e),
        hold: () => {
          this.answerHolds++;
          this.updateReading();
        },
        release: () => {
          this.answerHolds--;
          this.updateReading();
        },
      },
      options.maxConcurrent,
    );
    this.on("event", a.listener);
    return () => {
      this.off("event", a.listener);
      a.dispose();
    };
  }

  /**
   * evsip only: sends a decision about the suspended call `event` announced (its tindex/tlabel, or
   * `fields`, are copied). A decision evsip refuses (unknown transaction, bad, not allowed) comes
   * back as an `error` with ERR_CLIENT_REFUSED and evsip's code. Returns send()'s result.
   * @example client.on("event", (ev) => client.decide(ev, decision.reject(486, "Busy Here")));
   */
  decide(event: unknown, d: Decision, fields: readonly string[] = DEFAULT_ANSWER_FIELDS): boolean {
    this.readsControl = true;
    return this.send(echoCorrelation(event, d, fields) as object);
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
    const tls = this.tls;
    const s = tls
      ? tlsConnect({ servername: isIP(this.host) === 0 ? this.host : undefined, ...tls, host: this.host, port: this.port })
      : netConnect({ host: this.host, port: this.port });
    this.socket = s;
    s.setNoDelay(true);
    s.setTimeout(this.connectTimeout);
    this.reason = undefined;
    this.readPaused = false;
    let wasUp = false;
    const framer = createInboundFramer(this.framing, (p) => this.deliver(p));
    s.on("timeout", () => {
      this.reason ??= new ClientError(wasUp ? "ERR_CLIENT_NOT_CONNECTED" : "ERR_CLIENT_CONNECT_FAILED", "timeout");
      s.destroy();
    });
    const up = (): void => {
      s.setTimeout(0);
      wasUp = true;
      this.isUp = true;
      this.attempt = 0;
      this.stats.connects++;
      this.updateReading(); // answer handlers may still be at their cap from the last connection
      if (this.listenOnly) this.send(LISTEN_MESSAGE);
      if (this.events !== undefined) this.send(eventsMessage(this.events));
      this.session?.onConnect(); // the handshake goes first, before anything the application sends
      this.safeEmit("connected", { host: this.host, port: this.port, localPort: s.localPort ?? 0 });
      this.settle(this.connectWaiters, undefined);
      this.connectWaiters = [];
    };
    s.once(tls ? "secureConnect" : "connect", () => {
      if (this.auth) this.authenticate(s, this.auth, up);
      else up();
    });
    s.on("data", (chunk: Buffer) => {
      const r = framer.push(chunk);
      if (r.ok) return;
      this.reason = failureToError(r);
      this.reportError(this.reason);
      s.destroy();
    });
    s.on("drain", () => {
      this.updateReading();
      const ws = this.drainWaiters;
      this.drainWaiters = [];
      this.settle(ws, undefined);
    });
    s.on("error", (e) => {
      const code = wasUp ? "ERR_CLIENT_NOT_CONNECTED" : "ERR_CLIENT_CONNECT_FAILED";
      this.reason ??= new ClientError(code, `${wasUp ? "connection lost" : "connect failed"}: ${e.message}`, { cause: e });
    });
    s.once("close", () => {
      this.onAuthReply = undefined;
      framer.destroy();
      this.socket = undefined;
      this.isUp = false;
      this.session?.onDisconnect();
      const ws = this.drainWaiters;
      this.drainWaiters = [];
      this.settle(ws, new ClientError("ERR_CLIENT_NOT_CONNECTED", "connection closed"));
      const reason = this.reason;
      const willReconnect = !this.closed && this.attempt < this.policy.maxAttempts;
      if (wasUp) this.safeEmit("disconnected", { reason, willReconnect });
      if (willReconnect) this.scheduleReconnect(reason);
      else if (this.closed || this.policy.maxAttempts === 0)
        this.finish(reason ?? new ClientError("ERR_CLIENT_CLOSED", "client closed"));
      else this.giveUp(reason);
    });
  }

  private scheduleReconnect(reason: ClientError | undefined): void {
    this.attempt++;
    this.stats.reconnectAttempts++;
    const delay = backoffDelay(this.policy, this.attempt);
    this.safeEmit("reconnecting", { attempt: this.attempt, delay, reason });
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
    this.safeEmit("close");
  }

  /**
   * Pauses reading while an answer() listener is at its cap. Never because of our own unsent bytes:
   * a peer such as Kamailio's evapi dispatcher blocks writing events to us while it does not read
   * our replies, so pausing there would deadlock both sides; maxBufferedBytes bounds those bytes.
   */
  private updateReading(): void {
    const s = this.socket;
    if (s === undefined || !this.isUp || s.destroyed) return;
    const hold = this.answerHolds > 0;
    if (hold === this.readPaused) return;
    this.readPaused = hold;
    if (hold) {
      this.stats.readPauses++;
      s.pause();
    } else s.resume();
  }

  /** send() for answer() replies: a peer too slow to take them loses the connection. */
  private sendReply(reply: string | object): void {
    try {
      this.send(reply);
    } catch (e) {
      const s = this.socket;
      if (!(e instanceof ClientError) || e.code !== "ERR_CLIENT_SLOW_PEER" || s === undefined) throw e;
      if (s.destroyed) return;
      this.reason = e;
      this.reportError(e, true);
      s.destroy();
    }
  }

  /** Sends the auth message first; `up` runs on evsip's answer (the connect timeout still runs until then). */
  private authenticate(s: Socket, auth: { token: string; tag: string | undefined }, up: () => void): void {
    s.write(frameOutbound(this.framing, authMessage(auth.token, auth.tag)));
    this.onAuthReply = (text) => {
      const r = readAuthReply(text);
      if (r === undefined) return; // not an answer: ignored, as evsip sends nothing else first
      this.onAuthReply = undefined;
      if (r.ok) {
        this.safeEmit("authenticated", { name: r.name, tag: r.tag });
        return up();
      }
      this.reason = new ClientError("ERR_CLIENT_REFUSED", `evsip refused the auth: ${r.code}: ${r.detail}`);
      this.reportError(this.reason);
      if (isFinalRefusal(r.code)) this.closed = true; // the same token would be refused again
      s.destroy();
    };
  }

  protected override deliver(payload: Buffer): void {
    if (this.onAuthReply) return this.onAuthReply(payload.toString("utf8"));
    if (this.session?.receive(payload)) this.stats.rx++;
    else if (this.readsControl && this.controlReply(payload)) this.stats.rx++;
    else super.deliver(payload);
  }

  /** Handles evsip's reply to a subscription or a decision; false when `payload` is an event. */
  private controlReply(payload: Buffer): boolean {
    const r = readControlReply(payload);
    if (r === undefined) return false;
    if (r.type === "events-ok") this.safeEmit("subscribedEvents", r.names);
    else if (r.type === "listening")
      return true; // the listener declaration was taken
    else this.reportError(new ClientError("ERR_CLIENT_REFUSED", `evsip refused: ${r.code}: ${r.detail}`, { cause: r.fields }));
    return true;
  }

  private durableSession(options: EvapiClientOptions): DurableSession {
    return new DurableSession(options.durable as NonNullable<EvapiClientOptions["durable"]>, {
      send: (text) => {
        const s = this.socket;
        // A connection already being torn down takes nothing; the next handshake carries the position.
        if (!this.isUp || s === undefined || s.destroyed) return;
        try {
          this.send(text);
        } catch (e) {
          // ERR_CLIENT_SLOW_PEER: the ack is not sent; a later one (cumulative) or the resume covers it.
          if (e instanceof ClientError) this.reportError(e, true);
          else throw e;
        }
      },
      emitEvent: (_id, value) => ("json" in value ? this.deliverValue(value.json) : this.deliverText(value.text)),
      subscribed: (info) => this.safeEmit("subscribed", info),
      lost: (range) => {
        this.safeEmit("lost", range);
        this.reportError(
          new ClientError("ERR_CLIENT_EVENTS_LOST", `evsip lost events ${range.from}..${range.to} (${range.count})`),
        );
      },
      refused: (code, detail) => this.reportError(new ClientError("ERR_CLIENT_REFUSED", `evsip refused: ${code}: ${detail}`)),
      fail: (e) => this.reportError(e),
      redeliver: (e) => {
        this.reportError(e);
        this.reason = e;
        this.socket?.destroy();
      },
    });
  }

  private handlerFailed(e: unknown): void {
    if (e instanceof ClientError) this.reportError(e);
    else this.listenerThrew(`answer handler failed: ${String(e)}`, e);
  }

  private settle(ws: Waiter[], e: ClientError | undefined): void {
    for (const w of ws) {
      if (e === undefined) w.resolve();
      else w.reject(e);
    }
  }
}
