// One jsonrpcc server: a TCP connection that is (re)opened without blocking the event loop, with
// exponential backoff (base doubling to max, equal jitter) limited by maxConnAttempts (-1 forever,
// 0 never after a failure, N consecutive failures; reset on each connect). Incoming bytes go through
// the shared netstring decoder; a bad netstring drops the connection (it cannot resync).
import { connect, type Socket } from "node:net";
import type { Logger } from "pino";
import type { ErrorCode } from "../../errors.js";
import { NetstringDecoder } from "../../netstring/index.js";
import { serverAddress, type ServerSpec } from "./servers-param.js";

/** Connection settings shared by every server of a client. */
export interface LinkOptions {
  readonly maxMessageSize: number;
  readonly maxConnAttempts: number;
  readonly reconnectBase: number;
  readonly reconnectMax: number;
  readonly connectTimeout: number;
  /** Bytes queued in the socket beyond which the server is skipped as if disconnected. */
  readonly maxWriteBuffer: number;
  readonly logger: Logger;
}

export interface LinkEvents {
  onFrame(link: ServerLink, payload: Buffer): void;
  onUp(link: ServerLink): void;
  /** The connection dropped (or failed to open); pending requests on it must fail. */
  onDown(link: ServerLink): void;
}

export type LinkState = "idle" | "connecting" | "connected" | "waiting" | "dead" | "stopped";

/** Counters of one server, plain fields for the metrics exporter. */
export interface LinkStats {
  sent: number;
  received: number;
  timeouts: number;
  unknownIds: number;
  badResponses: Map<ErrorCode, number>;
  connects: number;
  reconnects: number;
  failures: number;
  pending: number;
}

export class ServerLink {
  readonly address: string;
  readonly spec: ServerSpec;
  state: LinkState = "idle";
  /** Ids of the requests in flight on this connection. */
  readonly inFlight = new Set<number>();
  readonly stats: LinkStats = {
    sent: 0,
    received: 0,
    timeouts: 0,
    unknownIds: 0,
    badResponses: new Map(),
    connects: 0,
    reconnects: 0,
    failures: 0,
    pending: 0,
  };
  private socket: Socket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private attemptsLeft: number;
  private failStreak = 0;
  private readonly opts: LinkOptions;
  private readonly events: LinkEvents;

  constructor(spec: ServerSpec, opts: LinkOptions, events: LinkEvents) {
    this.spec = spec;
    this.address = serverAddress(spec);
    this.opts = opts;
    this.events = events;
    this.attemptsLeft = opts.maxConnAttempts;
  }

  get isUp(): boolean {
    return this.state === "connected" && this.socket !== undefined && this.socket.writableLength < this.opts.maxWriteBuffer;
  }

  /** Opens the connection (non-blocking: DNS and connect are asynchronous). */
  start(): void {
    if (this.state === "stopped" || this.state === "connecting" || this.state === "connected") return;
    this.state = "connecting";
    const socket = connect({ host: this.spec.host, port: this.spec.port });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setTimeout(this.opts.connectTimeout);
    const decoder = new NetstringDecoder({
      maxMessageSize: this.opts.maxMessageSize,
      onFrame: (payload) => this.events.onFrame(this, payload),
    });
    socket.once("connect", () => {
      socket.setTimeout(0);
      this.state = "connected";
      this.stats.connects++;
      this.failStreak = 0;
      this.attemptsLeft = this.opts.maxConnAttempts;
      this.opts.logger.info({ server: this.address }, "jsonrpcc: connected");
      this.events.onUp(this);
    });
    socket.on("timeout", () => socket.destroy(new Error("connect timeout")));
    socket.on("data", (chunk: Buffer) => {
      const r = decoder.push(chunk);
      if (r.ok) return;
      this.countBad(r.code);
      this.opts.logger.warn({ server: this.address, code: r.code }, `jsonrpcc: bad netstring from server, reconnecting: ${r.detail}`);
      socket.destroy();
    });
    socket.on("error", (err) => {
      this.opts.logger.debug({ server: this.address, err: err.message }, "jsonrpcc: socket error");
    });
    socket.once("close", () => {
      decoder.destroy();
      if (this.socket === socket) this.socket = undefined;
      this.onClosed();
    });
  }

  /** Writes one frame; false when the server is not usable now. */
  write(frame: Buffer): boolean {
    if (!this.isUp) return false;
    (this.socket as Socket).write(frame);
    this.stats.sent++;
    return true;
  }

  countBad(code: ErrorCode): void {
    this.stats.badResponses.set(code, (this.stats.badResponses.get(code) ?? 0) + 1);
  }

  /** Closes the connection for good. */
  stop(): Promise<void> {
    this.state = "stopped";
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const s = this.socket;
    if (!s || s.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      s.once("close", () => resolve());
      s.destroy();
    });
  }

  private onClosed(): void {
    const stopped = this.state === "stopped";
    if (this.state === "connected") this.opts.logger.warn({ server: this.address }, "jsonrpcc: connection lost");
    this.stats.failures++;
    const giveUp = !stopped && this.opts.maxConnAttempts !== -1 && this.attemptsLeft-- <= 0;
    if (!stopped) this.state = giveUp ? "dead" : "waiting";
    this.events.onDown(this);
    if (stopped) return;
    if (giveUp) {
      this.opts.logger.error({ server: this.address }, "jsonrpcc: max reconnect attempts reached, server disabled");
      return;
    }
    const exp = Math.min(this.opts.reconnectMax, this.opts.reconnectBase * 2 ** Math.min(this.failStreak, 30));
    this.failStreak++;
    const delay = Math.round(exp / 2 + Math.random() * (exp / 2));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.state !== "waiting") return;
      this.stats.reconnects++;
      this.start();
    }, delay);
    this.timer.unref();
  }
}
