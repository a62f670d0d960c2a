// The TCP side of a TransportLayer: listening servers and the table of open connections (inbound
// and outbound), looked up by id and by remote addr:port so a response or a forwarded request reuses
// a connection we already hold (RFC 3261 §18.2.2, §18.1.1). Inbound and outbound connections have
// separate caps (maxConnections, maxOutbound), so outbound ones can never take inbound slots: an extra
// inbound connection is accepted and destroyed at once, an extra outbound one is not opened.
// Framed messages go up through one input pool (common/worker-pool.ts): in order per connection,
// at most BATCH per loop turn over all connections. A read chunk of a hundred INVITEs from a trunk
// would otherwise be handled in one stretch while responses and in-dialog requests wait unread on
// the other sockets; a connection is read ahead of its waiting messages only up to a bound, then
// not until they drain (TCP pushes back).
// Whether that input keeps up is measured as a UDP socket's is (input-backlog.ts): turns that hand
// on a full BATCH mark it as falling behind, and how long messages waited since they were read (a
// connection is read ahead of them, up to a bound) says how long the queue is; admission control
// sheds new work on it as on a UDP listener's.
import { connect, createServer, type Server, type Socket } from "node:net";
import type { Failure } from "../errors.js";
import { formatHostPort } from "../common/host-port.js";
import { normalizeHost } from "./listen-spec.js";
import type { RateLimitedLog } from "../common/rate-limited-log.js";
import { BATCH, WorkerPool } from "../common/worker-pool.js";
import { InputBacklog } from "./input-backlog.js";
import { monotonicMs } from "../common/monotonic.js";
import { TcpConnection, type ConnectionLimits, type ConnectionOwner } from "./tcp-connection.js";
import type { BoundListener, TransportStats } from "./types.js";

/** What the pool hands up: framed messages and framing failures of a connection. */
export interface TcpSink {
  tcpMessage(conn: TcpConnection, buf: Buffer): void;
  tcpFramingError(conn: TcpConnection, f: Failure, raw: Buffer): void;
  tcpConnectFailed(conn: TcpConnection, err: Error): void;
  /** An established connection failed with `bytes` written to it not yet sent (0: only the write in flight). */
  tcpUnsent(conn: TcpConnection, err: Error, bytes: number): void;
}

/** Connection limits plus the caps of the table: inbound (maxConnections) and outbound (maxOutbound). */
export type PoolLimits = ConnectionLimits & { readonly maxConnections: number; readonly maxOutbound: number };

/**
 * All connections' inboxes together: past this, a connection is not read further (the memory bound;
 * each connection may still add the read chunk that crossed it, ≤ 64 KiB).
 */
export const INBOX_TOTAL_BYTES = 32 << 20;

/** Listening servers plus every open TCP connection, by id and by remote address. */
export class TcpPool implements ConnectionOwner {
  /** Whether the input of every connection keeps up (admission control sheds on it). */
  readonly backlog = new InputBacklog({ readsPerTurn: BATCH, queueWait: () => this.closeWaitWindow() });
  /** The wait window (while behind): its number, and the connections with a message handed on in it. */
  private waitWindow = 0;
  private waitConns: TcpConnection[] = [];
  private readonly servers: Server[] = [];
  private readonly byId = new Map<number, TcpConnection>();
  private readonly byAddr = new Map<string, TcpConnection[]>();
  private nextId = 1;
  private outboundOpen = 0;
  /** Set by closeIntake(): connections opened from then on are not read either. */
  private intakeClosed = false;
  /** Set by close(): messages still waiting from connections the peer had closed are not handed on. */
  private stopped = false;

  private readonly limits: PoolLimits;
  private readonly sink: TcpSink;
  private readonly stats: TransportStats;
  private readonly log: RateLimitedLog;
  /** Every connection's framed messages, handed to the sink in order within the turn's budget. */
  private readonly inputs: WorkerPool<Buffer, TcpConnection>;

  constructor(limits: PoolLimits, sink: TcpSink, stats: TransportStats, log: RateLimitedLog) {
    this.limits = limits;
    this.sink = sink;
    this.stats = stats;
    this.log = log;
    // Handing a message on is synchronous: no cap on how many connections do it at once. A bug of
    // ours while handling one costs its connection, never the process (and every call on it).
    this.inputs = new WorkerPool<Buffer, TcpConnection>(
      Number.POSITIVE_INFINITY,
      (conn, buf) => {
        this.stats.tcpInboxBytes -= buf.length;
        const readAt = conn.takeOne(buf.length);
        if (this.stopped) return void this.stats.unreadAtStop++;
        this.noteWait(conn, readAt);
        this.backlog.read(buf.length);
        this.sink.tcpMessage(conn, buf);
      },
      (err, conn) => {
        this.connInternalError(conn, err);
        conn.destroy();
      },
      1,
    );
  }

  /** Starts a listening server; resolves with its bound address. */
  listen(host: string, port: number, family: 4 | 6): Promise<BoundListener> {
    // Half-open: a peer's FIN does not end our side before its last messages are answered (tcp-connection.ts).
    const server = createServer({ noDelay: true, allowHalfOpen: true }, (socket) => this.accept(socket));
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host, port, exclusive: true, ipv6Only: family === 6 }, () => {
        server.off("error", reject);
        server.on("error", (err) => this.log.warn("ERR_TRANSPORT_SEND_FAILED", "TCP server error", { err: err.message }));
        const a = server.address();
        if (a === null || typeof a === "string") return reject(new Error("TCP server has no address"));
        resolve({ proto: "tcp", host: a.address, port: a.port, family });
      });
    });
  }

  /** The open connection with this id. */
  get(id: number): TcpConnection | undefined {
    const c = this.byId.get(id);
    return c === undefined || c.closed ? undefined : c;
  }

  /** An open (or connecting) connection to addr:port, the newest first. */
  find(addr: string, port: number): TcpConnection | undefined {
    const list = this.byAddr.get(formatHostPort(normalizeHost(addr), port));
    if (list === undefined) return undefined;
    for (let i = list.length - 1; i >= 0; i--) {
      const c = list[i] as TcpConnection;
      if (!c.closed) return c;
    }
    return undefined;
  }

  /** Opens an outbound connection; undefined when the table is full. */
  connect(addr: string, port: number): TcpConnection | undefined {
    if (this.outboundOpen >= this.limits.maxOutbound) {
      this.stats.tcpRejected++;
      this.log.warn("ERR_TRANSPORT_MAX_CONNECTIONS", "outbound TCP connection refused: maxOutboundTcpConnections open", {
        remote: formatHostPort(addr, port),
        max: this.limits.maxOutbound,
      });
      return undefined;
    }
    const socket = connect({ host: addr, port, noDelay: true, allowHalfOpen: true });
    const conn = new TcpConnection(this.nextId++, socket, true, { addr, port }, this, this.limits);
    this.stats.tcpOutbound++;
    this.add(conn);
    return conn;
  }

  /**
   * A stop's first step: no new connection is accepted (a caller trying to connect is refused and
   * can go elsewhere), and the open ones are read no more; sending on them still works.
   */
  closeIntake(): void {
    this.intakeClosed = true;
    for (const s of this.servers) s.close(); // open connections stay
    for (const c of this.byId.values()) c.stopReading();
  }

  /** Destroys every connection and closes every server; resolves when all are closed. */
  async close(): Promise<void> {
    this.stopped = true;
    const waits: Promise<unknown>[] = [];
    for (const s of this.servers) waits.push(new Promise<void>((resolve) => s.close(() => resolve())));
    for (const c of this.byId.values()) {
      if (!c.closed) waits.push(new Promise<void>((resolve) => c.socket.once("close", () => resolve())));
      c.destroy(); // and what it had received but not handed on: the layer is stopping
    }
    await Promise.all(waits);
  }

  private accept(socket: Socket): void {
    if (this.byId.size - this.outboundOpen >= this.limits.maxConnections) {
      this.stats.tcpRejected++;
      // Read before destroy(): a destroyed socket no longer knows its peer (the log said ":0").
      const remote = formatHostPort(normalizeHost(socket.remoteAddress ?? ""), socket.remotePort ?? 0);
      socket.on("error", () => undefined);
      socket.destroy();
      this.log.warn("ERR_TRANSPORT_MAX_CONNECTIONS", "inbound TCP connection refused: too many connections", {
        remote,
        max: this.limits.maxConnections,
      });
      return;
    }
    if (socket.remoteAddress === undefined) {
      socket.destroy(); // already gone
      return;
    }
    const conn = new TcpConnection(
      this.nextId++,
      socket,
      false,
      { addr: socket.remoteAddress, port: socket.remotePort ?? 0 },
      this,
      this.limits,
    );
    this.stats.tcpAccepted++;
    this.add(conn);
  }

  private add(conn: TcpConnection): void {
    // A send during a stop may still open a connection; it is read no more than the others.
    if (this.intakeClosed) conn.stopReading();
    this.byId.set(conn.id, conn);
    const key = formatHostPort(conn.remoteAddr, conn.remotePort);
    const list = this.byAddr.get(key);
    if (list === undefined) this.byAddr.set(key, [conn]);
    else list.push(conn);
    if (conn.outbound) this.outboundOpen++;
    this.stats.tcpConnections = this.byId.size;
    this.stats.tcpOutboundConnections = this.outboundOpen;
  }

  connFrame(conn: TcpConnection, buf: Buffer): void {
    this.stats.tcpInboxBytes += buf.length;
    this.inputs.enqueue(conn, buf);
  }

  /**
   * Keeps each connection's least wait of the window, while the input is behind (bounded by the
   * window; keeping up, the clock is not read).
   */
  private noteWait(conn: TcpConnection, readAt: number): void {
    if (!this.backlog.behind) {
      if (this.waitConns.length > 0) this.closeWaitWindow();
      return;
    }
    const waited = monotonicMs() - readAt;
    if (conn.waitWindow !== this.waitWindow) {
      conn.waitWindow = this.waitWindow;
      conn.leastWait = waited;
      this.waitConns.push(conn);
    } else if (waited < conn.leastWait) conn.leastWait = waited;
  }

  /**
   * The window's wait: the greatest of the connections' least waits. The pool serves connections in
   * turn, so a quiet connection's messages wait little however long a trunk's queue is; the least
   * over all would hide it. Starts the next window.
   */
  private closeWaitWindow(): number {
    let wait = this.waitConns.length === 0 ? Number.POSITIVE_INFINITY : 0;
    for (const c of this.waitConns) wait = Math.max(wait, c.leastWait);
    this.waitConns = [];
    this.waitWindow++;
    return wait;
  }

  inboxFull(): boolean {
    return this.stats.tcpInboxBytes > INBOX_TOTAL_BYTES;
  }

  /** What a closing connection had read ahead is counted, never dropped unseen: a stop's, or this connection's loss. */
  connDiscard(conn: TcpConnection): void {
    this.stats.tcpInboxBytes -= conn.inboxBytes;
    const n = this.inputs.discard(conn);
    if (this.intakeClosed || this.stopped) this.stats.unreadAtStop += n;
    else this.stats.tcpDiscarded += n;
  }

  connFramingError(conn: TcpConnection, f: Failure, raw: Buffer): void {
    this.sink.tcpFramingError(conn, f, raw);
  }

  connInternalError(conn: TcpConnection, err: unknown): void {
    this.stats.internalErrors++;
    this.log.log("error", "ERR_TRANSPORT_INTERNAL", "tcp: internal error handling a connection, closed", {
      connId: conn.id,
      err: String(err),
    });
  }

  connPing(_conn: TcpConnection): void {
    this.stats.keepAlives++;
  }

  connIdle(conn: TcpConnection): void {
    this.stats.idleClosed++;
    this.log.log("info", "ERR_TRANSPORT_IDLE_TIMEOUT", "idle TCP connection closed", {
      connId: conn.id,
      remote: formatHostPort(conn.remoteAddr, conn.remotePort),
      outbound: conn.outbound,
      idleMs: conn.idleTimeout,
    });
  }

  connSlowPeer(conn: TcpConnection, queuedBytes: number): void {
    this.stats.slowPeerClosed++;
    this.log.warn("ERR_TRANSPORT_SLOW_PEER", "TCP peer does not read: connection closed", {
      connId: conn.id,
      remote: formatHostPort(conn.remoteAddr, conn.remotePort),
      queuedBytes,
      max: this.limits.maxQueuedBytes,
    });
  }

  connTruncated(conn: TcpConnection, bytes: number): void {
    this.stats.truncatedOnClose++;
    this.log.log("debug", "ERR_TRANSPORT_TRUNCATED", "TCP peer closed mid-message: partial message dropped", {
      connId: conn.id,
      remote: formatHostPort(conn.remoteAddr, conn.remotePort),
      bytes,
    });
  }

  connUnsent(conn: TcpConnection, err: Error, bytes: number): void {
    this.sink.tcpUnsent(conn, err, bytes);
  }

  connConnectFailed(conn: TcpConnection, err: Error): void {
    this.sink.tcpConnectFailed(conn, err);
  }

  connClosed(conn: TcpConnection): void {
    if (!this.byId.delete(conn.id)) return;
    if (conn.outbound) this.outboundOpen--;
    const key = formatHostPort(conn.remoteAddr, conn.remotePort);
    const list = this.byAddr.get(key);
    if (list !== undefined) {
      const i = list.indexOf(conn);
      if (i !== -1) list.splice(i, 1);
      if (list.length === 0) this.byAddr.delete(key);
    }
    this.stats.tcpConnections = this.byId.size;
    this.stats.tcpOutboundConnections = this.outboundOpen;
  }
}
