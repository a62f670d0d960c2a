// One SIP-over-TCP connection, inbound or outbound: framing by Content-Length, idle timeout,
// CRLF pong to CRLFCRLF pings (RFC 5626 §3.5.1), and writes corked until the end of the loop turn
// so a burst of sends is one syscall. Its framed messages wait in an inbox for the owner's input
// pool (common/worker-pool.ts), which hands them on a few dozen per loop turn. The socket is read
// ahead of them up to INBOX_BYTES (and the owner's total bound), then not until half of that is
// handed on, so TCP pushes back on the sender: reading ahead is what lets evsip see how long a
// message waited for it (the sender's queue is out of sight). Sockets are half-open (allowHalfOpen): a peer that sends its last requests
// and closes its side still gets their answers, since our side ends only once they are handed on.
// A peer's reset (RST) cannot wait like that: what it sent last is answered into a closed socket.
// Writes before an outbound connect completes wait in the socket's own buffer, bounded by
// maxQueuedBytes: a write past it means the peer does not read, and closes the connection (slow
// peer). An outbound connection idles out after outboundIdleTimeout until it carries a message from
// the peer. Events go to the owning TransportLayer.
import type { Socket } from "node:net";
import type { Failure } from "../errors.js";
import { queued, type InboxOwner } from "../common/worker-pool.js";
import { monotonicMs } from "../common/monotonic.js";
import { dropTakenFront } from "../common/taken-front.js";
import { unsentAtError } from "../common/unsent-at-error.js";
import type { SipLimits } from "../sip/types.js";
import { normalizeHost } from "./listen-spec.js";
import { StreamFramer } from "./stream-framer.js";
import type { Source } from "./types.js";

const CRLF = Buffer.from("\r\n", "latin1");

/**
 * Bytes of framed messages a connection may hold before it is no longer read (it is read again once
 * under half): about 8,000 requests of 500 bytes, 170 ms or more of work for this router at its
 * uncapped ceiling over one connection (~48,000 messages/s), so that a queue past
 * admission.shedQueue (100 ms) is seen waiting here rather than hidden in the sender.
 */
export const INBOX_BYTES = 4 << 20;

/** What a TcpConnection tells its owner. */
export interface ConnectionOwner {
  /** A whole message, to be handed on (in order, within the loop turn's budget). */
  connFrame(conn: TcpConnection, buf: Buffer): void;
  /** True when the inboxes of all connections together hold as much as the owner allows. */
  inboxFull(): boolean;
  /** Drops the messages still waiting to be handed on (the connection is closed by us). */
  connDiscard(conn: TcpConnection): void;
  connFramingError(conn: TcpConnection, f: Failure, raw: Buffer): void;
  connPing(conn: TcpConnection): void;
  connIdle(conn: TcpConnection): void;
  connConnectFailed(conn: TcpConnection, err: Error): void;
  /** A write would pass maxQueuedBytes; the connection is destroyed right after. */
  connSlowPeer(conn: TcpConnection, queuedBytes: number): void;
  /** The peer closed with `bytes` of an unfinished message buffered (dropped). */
  connTruncated(conn: TcpConnection, bytes: number): void;
  /** The connection failed (a reset, a broken pipe) with writes it had accepted not yet sent. */
  connUnsent(conn: TcpConnection, err: Error, bytes: number): void;
  connClosed(conn: TcpConnection): void;
  /** Our own code threw while handling this connection's bytes; it is closed right after. */
  connInternalError(conn: TcpConnection, err: unknown): void;
}

/** Timing and size limits of a connection. */
export interface ConnectionLimits {
  readonly sipLimits: SipLimits;
  readonly idleTimeout: number;
  /** Idle timeout of an outbound connection until it carried a message from the peer. */
  readonly outboundIdleTimeout: number;
  readonly connectTimeout: number;
  readonly maxQueuedBytes: number;
}

/** What write() did: queued, refused because closed, or refused (and closing) for a slow peer. */
export type WriteResult = "ok" | "closed" | "slow";

/** A TCP connection held by a TransportLayer. */
export class TcpConnection implements InboxOwner<Buffer> {
  /** Framed messages not yet handed on, and the pool's flags (common/worker-pool.ts). */
  readonly inbox: Buffer[] = [];
  inboxHead = 0;
  running = false;
  waitingForWorker = false;
  inboxHigh = false;
  /** The peer closed its side (FIN) while messages waited: ours ends once they are handed on. */
  private peerEnded = false;
  /** Messages handed on that wait in the transport's queue of new work (new-work-queue.ts), not yet handled. */
  private held = 0;
  /** Closed by evsip with what it had read ahead dropped (destroy()): held messages are dropped too. */
  discarded = false;
  /** Bytes of the messages in the inbox. */
  inboxBytes = 0;
  /** When the inbox's messages were read, in order: flat pairs of [count, monotonic ms] per read chunk. */
  private readonly readRuns: number[] = [];
  private runHead = 0;
  private readAt = 0;
  /** Not read while the inbox is over its bound; read again once under half of it. */
  private pausedForInbox = false;
  /** Set by stopReading(): the pool's intake is closed for a stop. */
  private readingStopped = false;
  /** The TCP pool's wait window this connection last had a message handed on in, and its least wait there. */
  waitWindow = -1;
  leastWait = 0;
  /** Normalised remote address and port (the lookup key for sends to addr:port). */
  readonly remoteAddr: string;
  readonly remotePort: number;
  /** Set once connected (at once for inbound connections). */
  source: Source | undefined;
  connected: boolean;
  closed = false;
  /** Whether the peer sent a whole message (always true for inbound connections). */
  carriedInbound: boolean;
  private readonly framer: StreamFramer;
  private corked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    if (!this.closed) this.socket.uncork();
  };

  /** Positive, unique per TransportLayer. */
  readonly id: number;
  readonly socket: Socket;
  readonly outbound: boolean;
  private readonly owner: ConnectionOwner;
  private readonly limits: ConnectionLimits;

  constructor(
    id: number,
    socket: Socket,
    outbound: boolean,
    remote: { addr: string; port: number },
    owner: ConnectionOwner,
    limits: ConnectionLimits,
  ) {
    this.id = id;
    this.socket = socket;
    this.outbound = outbound;
    this.owner = owner;
    this.limits = limits;
    this.remoteAddr = normalizeHost(remote.addr);
    this.remotePort = remote.port;
    this.connected = !outbound;
    this.carriedInbound = !outbound;
    this.framer = new StreamFramer(limits.sipLimits, {
      onMessage: (buf) => {
        if (!this.carriedInbound) {
          this.carriedInbound = true;
          socket.setTimeout(limits.idleTimeout);
        }
        this.noteRead(buf.length); // before handing on: the pool may take it at once
        owner.connFrame(this, buf);
      },
      onPing: () => {
        owner.connPing(this);
        this.write(CRLF);
      },
    });
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("end", () => this.onEnd());
    socket.on("error", (err) => this.onError(err));
    socket.on("close", () => this.onClose());
    socket.on("timeout", () => this.onTimeout());
    if (outbound) {
      socket.setTimeout(limits.connectTimeout);
      socket.once("connect", () => this.onConnect());
    } else {
      this.source = this.makeSource();
      socket.setTimeout(limits.idleTimeout);
    }
  }

  /** Bytes accepted by write() but not yet handed to the kernel. */
  get queuedBytes(): number {
    return this.socket.writableLength;
  }

  /** The idle timeout in force now (ms). */
  get idleTimeout(): number {
    return this.carriedInbound ? this.limits.idleTimeout : this.limits.outboundIdleTimeout;
  }

  /**
   * Queues buf. "closed" when the connection is gone; "slow" when the queue would pass
   * maxQueuedBytes: the peer is not reading, so the connection is destroyed (its queue dropped).
   */
  write(buf: Buffer): WriteResult {
    if (this.closed || this.socket.destroyed || !this.socket.writable) return "closed";
    if (this.socket.writableLength + buf.length > this.limits.maxQueuedBytes) {
      this.owner.connSlowPeer(this, this.socket.writableLength);
      this.destroy();
      return "slow";
    }
    if (!this.corked && this.connected) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    this.socket.write(buf);
    return "ok";
  }

  /**
   * Closes at once, dropping unsent data, and the messages not yet handed on unless `keepReceived`
   * (a framing error: the whole messages before it are still handled, as they arrived first).
   */
  destroy(keepReceived = false): void {
    this.framer.reset();
    if (!keepReceived) {
      this.discarded = true;
      this.owner.connDiscard(this);
      this.inboxBytes = 0;
      this.readRuns.length = 0;
      this.runHead = 0;
    }
    this.socket.destroy();
  }

  /** A framed message joins the inbox: its bytes, and the read it came in. */
  private noteRead(bytes: number): void {
    this.inboxBytes += bytes;
    const n = this.readRuns.length;
    if (n > this.runHead && this.readRuns[n - 1] === this.readAt) (this.readRuns[n - 2] as number)++;
    else this.readRuns.push(1, this.readAt);
  }

  /** The next message is handed on: returns when it was read (monotonic ms). */
  takeOne(bytes: number): number {
    this.inboxBytes -= bytes;
    const at = this.readRuns[this.runHead + 1] ?? this.readAt;
    const left = (this.readRuns[this.runHead] ?? 1) - 1;
    if (left > 0) this.readRuns[this.runHead] = left;
    else if ((this.runHead += 2) >= this.readRuns.length) {
      this.readRuns.length = 0;
      this.runHead = 0;
    } else this.runHead = dropTakenFront(this.readRuns, this.runHead, 256); // pairs: the head stays even
    // Read again before the inbox empties: a refill of messages that waited nothing would read as
    // no queue for a window, while the sender's queue is still there.
    if (this.pausedForInbox && this.inboxBytes < INBOX_BYTES / 2 && !this.owner.inboxFull()) this.readAgain();
    return at;
  }

  /**
   * A stop has begun: read nothing more (what the peer sends stays with it, and the close that
   * follows tells it nothing more was taken). Reading never resumes.
   */
  stopReading(): void {
    this.readingStopped = true;
    this.socket.pause();
  }

  private readAgain(): void {
    if (!this.pausedForInbox || this.closed || this.readingStopped) return;
    this.pausedForInbox = false;
    this.socket.resume();
  }

  /**
   * The owner's input pool (high-water mark 1): told high while messages wait, low as it takes the
   * last one. Reading stops only past the inbox's bound (onData); an empty inbox reads again even
   * while the owner's total is full, or nothing would ever tell this connection to.
   */
  onInboxPressure(high: boolean): void {
    if (high) return;
    // Told as the pool takes the last message, before handing it on: end after its answer.
    if (this.peerEnded) process.nextTick(this.endOurSide);
    else this.readAgain();
  }

  private readonly endOurSide = (): void => {
    if (this.held === 0) this.socket.end(); // else release() ends it, after the last is handled
  };

  /** A message handed on waits in the transport's queue of new work: the connection is not done with it yet. */
  hold(): void {
    this.held++;
  }

  /** A held message was handled: after a peer's FIN, the last one ends our side. */
  release(): void {
    if (--this.held === 0 && this.peerEnded && queued(this) === 0 && !this.closed) this.socket.end();
  }

  /** The peer's FIN: our side ends now, or once the messages still waiting are handed on (and answered). */
  private onEnd(): void {
    if (queued(this) > 0 || this.held > 0) this.peerEnded = true;
    else this.socket.end();
  }

  private makeSource(): Source {
    const s = this.socket;
    return {
      proto: "tcp",
      remoteAddr: this.remoteAddr,
      remotePort: this.remotePort,
      localAddr: normalizeHost(s.localAddress ?? ""),
      localPort: s.localPort ?? 0,
      connId: this.id,
    };
  }

  private onConnect(): void {
    this.connected = true;
    this.source = this.makeSource();
    this.socket.setTimeout(this.idleTimeout);
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.readAt = monotonicMs();
    let f: ReturnType<StreamFramer["push"]>;
    try {
      f = this.framer.push(chunk);
    } catch (err) {
      // A bug of ours must cost this one connection, never the process (and every call on it).
      this.owner.connInternalError(this, err);
      this.destroy();
      return;
    }
    if (f !== undefined && !this.closed && !this.socket.destroyed) {
      this.owner.connFramingError(this, f, chunk);
      this.destroy(true);
      return;
    }
    if (!this.pausedForInbox && queued(this) > 0 && (this.inboxBytes > INBOX_BYTES || this.owner.inboxFull())) {
      this.pausedForInbox = true;
      this.socket.pause();
    }
  }

  private onTimeout(): void {
    if (!this.connected) {
      this.onError(new Error(`connect timeout after ${this.limits.connectTimeout} ms`));
      this.socket.destroy();
      return;
    }
    // Not idle: its messages wait for the input pool, or in the queue of new work (an overloaded router).
    if (queued(this) > 0 || this.held > 0) {
      this.socket.setTimeout(this.idleTimeout);
      return;
    }
    this.owner.connIdle(this);
    this.destroy();
  }

  private onError(err: NodeJS.ErrnoException): void {
    if (!this.connected) return this.owner.connConnectFailed(this, err);
    // An error on an established connection is followed by "close", which the owner sees; a loss of
    // our writes shows only on the error (common/unsent-at-error.ts).
    const unsent = unsentAtError(this.socket, err);
    if (unsent !== undefined) this.owner.connUnsent(this, err, unsent);
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    // destroy() resets the framer first, so bytes left here mean the peer closed mid-message
    if (this.framer.buffered > 0) this.owner.connTruncated(this, this.framer.buffered);
    this.framer.reset();
    this.owner.connClosed(this);
  }
}
