// One jsonrpcc server: a TCP connection that is (re)opened without blocking the event loop, with
// exponential backoff (base doubling to max, equal jitter) limited by maxConnAttempts (-1 forever,
// 0 never after a failure, N consecutive failures; reset on each connect). Incoming bytes go through
// the shared netstring decoder; a bad netstring drops the connection (it cannot resync). Frames wait
// in the link's queue and go to the socket once per loop turn, a piece at a time
// (common/pieced-write.ts). A stalled server (bytes waiting for `stallTimeout` ms with no piece taken
// and nothing read) is dropped too (ERR_JSONRPC_SERVER_STALLED) and reconnected; TCP keep-alive
// (10 s) finds a vanished peer. With `tls` the connection is dialled over TLS (tls-dial.ts) and is
// usable from its secureConnect.
import type { Socket } from "node:net";
import type { ConnectionOptions } from "node:tls";
import type { Logger } from "pino";
import { formatHostPort } from "../../common/host-port.js";
import { atTurnEnd } from "../../common/turn-end.js";
import type { ErrorCode } from "../../errors.js";
import { NetstringDecoder } from "evsip-client/netstring";
import { SendQueue } from "../../common/send-queue.js";
import { endAndLinger } from "../../common/end-socket.js";
import { writeAll, writePieces } from "../../common/pieced-write.js";
import type { ServerSpec } from "./servers-param.js";
import { dial } from "./tls-dial.js";

/**
 * How long a stopping link gives its server to read what was written out at the stop: a graceful
 * stop ends the route that sent a call's last notification, and that frame is still queued.
 */
const STOP_LINGER_MS = 2000;

/** Connection settings shared by every server of a client. */
export interface LinkOptions {
  readonly maxMessageSize: number;
  readonly maxConnAttempts: number;
  readonly reconnectBase: number;
  readonly reconnectMax: number;
  readonly connectTimeout: number;
  /** Bytes waiting for the server (queued and held by Node) beyond which it is skipped as if disconnected. */
  readonly maxWriteBuffer: number;
  /** The answer timeout (ms). */
  readonly timeout: number;
  /**
   * The stall window (ms): bytes waiting that long with no piece taken by the kernel and nothing read
   * drop the connection. Separate from `timeout` so a request allowed 10 s is not lost to a server that
   * paused reading for 1 s.
   */
  readonly stallTimeout: number;
  readonly logger: Logger;
  /** Dial over TLS with these options (tls-dial.ts); undefined = plain TCP, as Kamailio. */
  readonly tls?: ConnectionOptions;
}

export interface LinkEvents {
  onFrame(link: ServerLink, payload: Buffer): void;
  onUp(link: ServerLink): void;
  /** The connection dropped (or failed to open); pending requests on it move to another server or fail. */
  onDown(link: ServerLink): void;
}

export type LinkState = "idle" | "connecting" | "connected" | "waiting" | "dead" | "stopped";

/** Counters of one server, plain fields for the metrics exporter. */
export interface LinkStats {
  sent: number;
  received: number;
  timeouts: number;
  /** Requests in flight when its connection dropped that no other server took: failed (ERR_JSONRPC_CONNECTION_LOST); not a stop's. */
  failedOnLoss: number;
  unknownIds: number;
  badResponses: Map<ErrorCode, number>;
  connects: number;
  reconnects: number;
  failures: number;
  pending: number;
  /** Connections dropped as stalled (ERR_JSONRPC_SERVER_STALLED). */
  stalls: number;
  /** Bytes lost with a connection: queued or held by Node when it went, or left unread at a stop. */
  lostBytes: number;
  /** Flushes to the socket: one per loop turn that had frames (and one per `drain` while a backlog goes out). */
  writes: number;
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
    failedOnLoss: 0,
    unknownIds: 0,
    badResponses: new Map(),
    connects: 0,
    reconnects: 0,
    failures: 0,
    pending: 0,
    stalls: 0,
    lostBytes: 0,
    writes: 0,
  };
  private socket: Socket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stallTimer: NodeJS.Timeout | undefined;
  /** Frames not yet handed to the socket: this turn's, and a backlog's beyond the piece Node holds. */
  private readonly queue = new SendQueue();
  private flushScheduled = false;
  /** When bytes started waiting (the stall timer was armed), and the last read. */
  private backlogSince = 0;
  /** What Node held for the socket when it was lost, read before Node discards its buffer (0 at 'close'). */
  private heldAtLoss = 0;
  private lastRead = 0;
  private attemptsLeft: number;
  private failStreak = 0;
  private readonly opts: LinkOptions;
  private readonly events: LinkEvents;

  constructor(spec: ServerSpec, opts: LinkOptions, events: LinkEvents) {
    this.spec = spec;
    this.address = formatHostPort(spec.host, spec.port);
    this.opts = opts;
    this.events = events;
    this.attemptsLeft = opts.maxConnAttempts;
  }

  get isUp(): boolean {
    const s = this.socket;
    // A socket the peer has ended or reset is closing: nothing sent there would be answered.
    return (
      this.state === "connected" &&
      s !== undefined &&
      !s.destroyed &&
      !s.writableEnded &&
      this.pendingBytes < this.opts.maxWriteBuffer
    );
  }

  /** Bytes waiting in the link's queue, not yet handed to the socket. */
  get queuedBytes(): number {
    return this.queue.bytes;
  }

  /** Bytes handed to the socket that its kernel has not taken yet (at most a piece and a frame). */
  get heldBytes(): number {
    return this.socket?.writableLength ?? 0;
  }

  /** Bytes waiting for the server: queued here and held by Node (the `bytesPending` stat). */
  get pendingBytes(): number {
    return this.queue.bytes + this.heldBytes;
  }

  /** Opens the connection (non-blocking: DNS and connect are asynchronous). */
  start(): void {
    if (this.state === "stopped" || this.state === "connecting" || this.state === "connected") return;
    this.state = "connecting";
    const { socket, ready } = dial(this.spec.host, this.spec.port, this.opts.tls);
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setTimeout(this.opts.connectTimeout);
    const decoder = new NetstringDecoder({
      maxMessageSize: this.opts.maxMessageSize,
      onFrame: (payload) => this.events.onFrame(this, payload),
    });
    socket.once(ready, () => {
      socket.setTimeout(0);
      socket.setKeepAlive(true, 10_000);
      this.state = "connected";
      this.stats.connects++;
      this.failStreak = 0;
      this.attemptsLeft = this.opts.maxConnAttempts;
      this.opts.logger.info({ server: this.address }, "jsonrpcc: connected");
      this.events.onUp(this);
    });
    socket.on("timeout", () => socket.destroy(new Error("connect timeout")));
    socket.on("drain", () => {
      // A piece was taken: progress. The next piece goes now (the stall timer rearms from here).
      this.clearStall();
      if (this.socket === socket) this.flush();
    });
    socket.on("data", (chunk: Buffer) => {
      this.lastRead = Date.now();
      const r = decoder.push(chunk);
      if (r.ok) return;
      this.countBad(r.code);
      this.opts.logger.warn(
        { server: this.address, code: r.code },
        `jsonrpcc: bad netstring from server, reconnecting: ${r.detail}`,
      );
      this.destroyNoting(socket);
    });
    socket.on("error", (err: Error & { code?: string }) => {
      this.noteLoss(socket);
      if (this.opts.tls && this.state === "connecting") {
        this.countBad("ERR_JSONRPC_TLS");
        this.opts.logger.warn(
          { server: this.address, code: "ERR_JSONRPC_TLS", detail: err.code ?? err.message },
          "jsonrpcc: TLS failed",
        );
      }
      this.opts.logger.debug({ server: this.address, err: err.message }, "jsonrpcc: socket error");
    });
    socket.once("close", () => {
      decoder.destroy();
      this.clearStall();
      // Requests in flight move or fail through onDown; what was still queued is named in the log line.
      const unsent = this.queue.bytes + this.heldAtLoss;
      this.heldAtLoss = 0;
      this.stats.lostBytes += unsent;
      if (this.socket === socket) {
        this.queue.clear();
        this.socket = undefined;
      }
      this.onClosed(unsent);
    });
  }

  /**
   * Queues one frame; false when the server is not usable now. The frames of one loop turn leave in
   * one corked write at the turn's end: a loopback TCP write costs about as much as handling a
   * request, so a burst of requests pays for one instead of one each.
   */
  write(frame: Buffer): boolean {
    if (!this.isUp) return false;
    this.queue.push(frame);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      atTurnEnd(this.flushAtTurnEnd);
    }
    this.stats.sent++;
    return true;
  }

  private readonly flushAtTurnEnd = (): void => {
    this.flushScheduled = false;
    this.flush();
  };

  /** Hands the socket what fits in a piece; arms the stall timer while bytes wait. */
  private flush(): void {
    const s = this.socket;
    // An ended socket (the server's FIN ends ours) takes no more: what is queued is lost with it,
    // and counted in the lost-connection warning.
    if (s === undefined || s.destroyed || s.writableEnded || this.queue.length === 0) return;
    // Node holds nothing: whatever it was handed has been taken, with or without a 'drain' (none is
    // owed for less than its high-water mark). That is progress, so a backlog starting now is judged
    // from now, not from a timer armed for bytes long gone.
    if (s.writableLength === 0) this.clearStall();
    if (writePieces(s, this.queue) > 0) this.stats.writes++;
    if (this.pendingBytes > 0 && this.stallTimer === undefined) {
      this.backlogSince = Date.now();
      this.armStall(s, this.opts.stallTimeout);
    }
  }

  countBad(code: ErrorCode): void {
    this.stats.badResponses.set(code, (this.stats.badResponses.get(code) ?? 0) + 1);
  }

  /**
   * Closes the connection for good. What is queued goes out first, ahead of the FIN: a graceful stop
   * comes right after the last call, whose notifications may still be queued. A server that has
   * not read it all after STOP_LINGER_MS is cut, and the bytes it left are logged and counted.
   */
  stop(): Promise<void> {
    const connected = this.state === "connected";
    this.state = "stopped";
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.clearStall();
    const s = this.socket;
    if (!s || s.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      s.once("close", () => resolve());
      if (!connected || s.writableEnded) {
        this.destroyNoting(s);
        return;
      }
      writeAll(s, this.queue);
      endAndLinger(s, STOP_LINGER_MS, undefined, (unsentBytes, by) => {
        if (by === "reset") return; // the socket's own error and close count that (noteLoss, onClosed)
        this.stats.lostBytes += unsentBytes;
        this.logStopLoss(unsentBytes);
      });
    });
  }

  private logStopLoss(unsentBytes: number): void {
    this.opts.logger.warn(
      { server: this.address, code: "ERR_JSONRPC_SERVER_STALLED", unsentBytes },
      "jsonrpcc: stopped before the server read everything",
    );
  }

  /** Reads what Node holds for `s` before it is discarded, for the lost-connection warning. */
  private noteLoss(s: Socket): void {
    if (this.socket === s) this.heldAtLoss = s.writableLength;
  }

  /** Every destroy of evsip's own goes through here, so what Node held is never lost uncounted. */
  private destroyNoting(s: Socket): void {
    this.noteLoss(s);
    s.destroy();
  }

  private armStall(s: Socket, ms: number): void {
    this.stallTimer = setTimeout(() => this.onStallTimer(s), ms);
    this.stallTimer.unref();
  }

  private clearStall(): void {
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
  }

  // Rule: bytes have waited for `stallTimeout` ms, the kernel took no piece of them ('drain') and
  // nothing was read from the server in that time → the server is stalled (stopped reading) or gone.
  private onStallTimer(s: Socket): void {
    this.stallTimer = undefined;
    if (this.socket !== s || s.destroyed || this.pendingBytes === 0) return;
    const quiet = Date.now() - Math.max(this.backlogSince, this.lastRead);
    if (quiet < this.opts.stallTimeout) {
      this.armStall(s, this.opts.stallTimeout - quiet);
      return;
    }
    this.stats.stalls++;
    this.opts.logger.warn(
      {
        server: this.address,
        code: "ERR_JSONRPC_SERVER_STALLED",
        unsent: this.pendingBytes,
        quietMs: quiet,
        pending: this.inFlight.size,
      },
      "jsonrpcc: server stalled (not reading), reconnecting",
    );
    this.destroyNoting(s);
  }

  /**
   * `unsentBytes`: what was still queued for the server when it went and what Node held for it (read
   * at the socket's error or before evsip destroyed it), lost with the connection.
   */
  private onClosed(unsentBytes: number): void {
    const stopped = this.state === "stopped";
    if (this.state === "connected") this.opts.logger.warn({ server: this.address, unsentBytes }, "jsonrpcc: connection lost");
    else if (stopped && unsentBytes > 0) this.logStopLoss(unsentBytes); // a second stop, or a reset in the linger
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
