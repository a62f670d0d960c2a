// The SIP transport layer (RFC 3261 §18): UDP and TCP listeners, parse-and-dispatch of what they
// receive, sending over the right socket, and where replies go. A malformed datagram is dropped; a
// malformed stream closes its connection; both are counted by code and logged rate-limited.
// The parser is injected (opts.parse), so this layer depends only on the shapes of src/sip/.
import type { RemoteInfo } from "node:dgram";
import { isIP } from "node:net";
import type { ErrorCode, Failure } from "../errors.js";
import { DEFAULT_SIP_LIMITS, type SipLimits, type SipMessageLike, type SipUri, type Via } from "../sip/types.js";
import { namesHost } from "../sip/uri.js";
import { formatHostPort } from "../common/host-port.js";
import { formatListen, type Proto } from "./listen-spec.js";
import { LocalAddresses, resolveListenHost } from "./local-addresses.js";
import { RateLimitedLog } from "../common/rate-limited-log.js";
import { withDefaults } from "../common/with-defaults.js";
import { replyDestination, responseTarget, viaTarget } from "./reply-target.js";
import type { TcpConnection } from "./tcp-connection.js";
import { TcpPool, type TcpSink } from "./tcp-pool.js";
import {
  TRANSPORT_DEFAULTS,
  type BoundListener,
  type Destination,
  type MessageHandler,
  type ParseErrorHandler,
  type ParseFn,
  type SendOptions,
  type Source,
  type TransportOptions,
  type TransportStats,
} from "./types.js";
import { UdpEndpoint, type UdpOwner } from "./udp-endpoint.js";
import { KEEPING_UP, type BacklogState, type InputBacklog } from "./input-backlog.js";
import { OverloadFeedback } from "./overload-feedback.js";
import { NewWorkQueue } from "./new-work-queue.js";

/**
 * UDP and TCP listeners for SIP, over IPv4 and IPv6.
 * @example
 * const t = new TransportLayer({ listen: [parseListen("udp:127.0.0.1:0")], logger, parse: parseMessage },
 *   (msg, src) => router.handle(msg, src));
 * await t.start();
 * t.send(reply, t.replyDestination(req, src));
 */
export class TransportLayer implements UdpOwner, TcpSink {
  readonly stats: TransportStats = {
    udpRx: 0,
    tcpRx: 0,
    rxBytes: 0,
    tx: 0,
    txBytes: 0,
    parseErrors: new Map<ErrorCode, number>(),
    tcpConnections: 0,
    tcpInboxBytes: 0,
    tcpOutboundConnections: 0,
    tcpAccepted: 0,
    tcpOutbound: 0,
    tcpRejected: 0,
    idleClosed: 0,
    sendFailures: 0,
    sendErrors: new Map<ErrorCode, number>(),
    slowPeerClosed: 0,
    truncatedOnClose: 0,
    tcpUnsentOnClose: 0,
    internalErrors: 0,
    keepAlives: 0,
    unreadAtStop: 0,
    tcpDiscarded: 0,
    udpRecvBufferBytes: 0,
    overloadFeedbackSent: 0,
    newWorkWaited: 0,
    newWorkOverflowed: 0,
  };
  /** The rate-limited log of this layer (upper layers may share it). */
  readonly log: RateLimitedLog;
  /** The parser limits in force (sip.* params). */
  readonly limits: SipLimits;
  private readonly udpRecvBufferSize: number;
  private readonly setAsideQueue: number;
  private readonly parse: ParseFn;
  private readonly udp: UdpEndpoint[] = [];
  private readonly tcp: TcpPool;
  private readonly bound: BoundListener[] = [];
  private readonly local: LocalAddresses;
  /** "closing": a stop has begun; sending still works, nothing received is handed up (closeIntake). */
  private state: "new" | "started" | "closing" | "stopped" = "new";
  private readonly sendHooks: Array<() => void> = [];
  /** RFC 7339 feedback to the clients that ask for it; undefined when turned off. */
  private readonly feedback: OverloadFeedback | undefined;
  /** New work waits here while input falls behind: calls in progress go first (new-work-queue.ts). */
  private readonly newWork = new NewWorkQueue((msg, src, conn) => this.handWaited(msg, src, conn), this.stats, {
    inputBehind: () => this.inputBehind(),
  });

  private readonly opts: TransportOptions;
  private readonly onMessage: MessageHandler;
  private readonly onParseError: ParseErrorHandler | undefined;

  constructor(opts: TransportOptions, onMessage: MessageHandler, onParseError?: ParseErrorHandler) {
    this.opts = opts;
    this.onMessage = onMessage;
    this.onParseError = onParseError;
    this.limits = opts.sipLimits ?? DEFAULT_SIP_LIMITS;
    this.parse = opts.parse;
    this.log = new RateLimitedLog(opts.logger, { lines: opts.logLimit?.lines, intervalMs: opts.logLimit?.intervalMs });
    const o = withDefaults(TRANSPORT_DEFAULTS, opts);
    this.udpRecvBufferSize = o.udpRecvBufferSize;
    this.setAsideQueue = o.setAsideQueue;
    this.tcp = new TcpPool(
      {
        sipLimits: this.limits,
        idleTimeout: o.tcpIdleTimeout,
        outboundIdleTimeout: o.tcpOutboundIdleTimeout,
        connectTimeout: o.tcpConnectTimeout,
        maxQueuedBytes: o.tcpMaxQueuedBytes,
        maxConnections: o.maxTcpConnections,
        maxOutbound: o.maxOutboundTcpConnections,
      },
      this,
      this.stats,
      this.log,
    );
    this.local = new LocalAddresses(opts.aliases ?? []);
    this.feedback = this.overloadFeedback(opts);
    this.tcp.backlog.observer = this.feedback;
    // The feedback sees the whole wait, as admission does: the input's queue and the time set aside.
    const feedback = this.feedback;
    if (feedback !== undefined)
      this.newWork.observer = { queueSeen: (ms, dropped) => feedback.queueSeen(ms + this.readBacklog().queueMs, dropped) };
  }

  private overloadFeedback(opts: TransportOptions): OverloadFeedback | undefined {
    const f = opts.overloadFeedback;
    if (f === undefined || f.queueMs <= 0) return undefined;
    return new OverloadFeedback({
      ...f,
      onChange: (reduction, active) =>
        opts.logger.info(
          { reduction, validityMs: f.validityMs },
          active
            ? "overload feedback: asking the clients that support RFC 7339 for less new work"
            : "overload feedback over: the clients that support RFC 7339 send all their new work again",
        ),
    });
  }

  /** The reduction (%) of new work asked of the clients that support RFC 7339 now; 0 when none. */
  overloadReduction(): number {
    return this.feedback?.reduction() ?? 0;
  }

  /** Binds every listener (port 0 lets the OS choose; see listeners()). Rejects if one fails. */
  async start(): Promise<void> {
    if (this.state !== "new") throw new Error("TransportLayer.start() called twice");
    this.state = "started";
    try {
      for (const spec of this.opts.listen) {
        const { host, family } = await resolveListenHost(spec.host);
        if (spec.proto === "udp") {
          const ep = new UdpEndpoint(host, spec.port, family, this, this.udpRecvBufferSize);
          ep.backlog.observer = this.feedback;
          this.udp.push(ep);
          this.bound.push(await ep.bind());
          this.checkRecvBuffer(ep);
        } else {
          this.bound.push(await this.tcp.listen(host, spec.port, family));
        }
      }
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.local.setListeners(this.bound);
    this.opts.logger.info({ listeners: this.bound.map((b) => formatListen(b)) }, "SIP transport listening");
  }

  /**
   * The kernel caps SO_RCVBUF at net.core.rmem_max without an error (212,992 bytes by default on
   * Linux, a twentieth of evsip's default). That queue is what absorbs a burst while the loop is
   * busy, so a capped one drops INVITEs and BYEs sooner: said once, loudly, at start.
   */
  private checkRecvBuffer(ep: UdpEndpoint): void {
    const got = ep.recvBufferBytes;
    const s = this.stats;
    s.udpRecvBufferBytes = s.udpRecvBufferBytes === 0 ? got : Math.min(s.udpRecvBufferBytes, got);
    const asked = this.udpRecvBufferSize;
    // Linux grants min(asked, rmem_max) and reports it doubled (its bookkeeping's share).
    if (got >= (process.platform === "linux" ? 2 * asked : asked)) return;
    this.log.warn("ERR_TRANSPORT_RECV_BUFFER_CAPPED", "UDP receive buffer capped by the kernel: bursts are dropped sooner", {
      listen: formatListen(ep.bound as BoundListener),
      asked,
      got,
      fix: `sysctl -w net.core.rmem_max=${asked}`,
    });
  }

  /**
   * Adds a hook called before any message leaves (write-ahead). A store that batches its writes
   * per task, such as the dialog journal, writes them here first: a kill -9 between a send and the
   * end of the task then never loses a change a peer has already been told of. A hook must be
   * cheap when it has nothing to write, and must not throw.
   */
  beforeSend(hook: () => void): void {
    this.sendHooks.push(hook);
  }

  /** The addresses actually bound, in the order of opts.listen. */
  listeners(): readonly BoundListener[] {
    return this.bound;
  }

  /**
   * Sends one whole message. UDP leaves from the listener of the destination's family. TCP uses
   * connection `connId` when open, else any held connection to addr:port, else a new outbound one
   * (unless `opts.connect` is false). Returns false when nothing was queued (no listener, no
   * connection, table full, slow peer: that connection is closed); every failure, asynchronous ones
   * included, is counted in stats.sendFailures and stats.sendErrors by code, and logged rate-limited.
   * While overload feedback is given, a response whose client asked for it (RFC 7339) carries it.
   */
  send(buf: Buffer, dest: Destination, opts?: SendOptions): boolean {
    if (this.sendHooks.length > 0) for (const h of this.sendHooks) h();
    if (this.feedback?.active === true) {
      const stamped = this.feedback.stamp(buf);
      if (stamped !== buf) this.stats.overloadFeedbackSent++;
      buf = stamped;
    }
    if (this.state !== "started" && this.state !== "closing")
      return this.sendFailed("ERR_TRANSPORT_SEND_FAILED", "transport not started", dest);
    if (dest.proto === "udp") {
      const ep = this.udpFor(dest.addr);
      if (ep === undefined) return this.sendFailed("ERR_TRANSPORT_NO_ROUTE", "no UDP listener of that family", dest);
      if (!ep.send(buf, dest.addr, dest.port)) return false;
    } else {
      let conn = dest.connId !== undefined && dest.connId > 0 ? this.tcp.get(dest.connId) : undefined;
      conn ??= this.tcp.find(dest.addr, dest.port);
      if (conn === undefined && opts?.connect === false) {
        return this.sendFailed("ERR_TRANSPORT_NO_CONNECTION", "no open TCP connection and connecting not allowed", dest);
      }
      conn ??= this.tcp.connect(dest.addr, dest.port);
      if (conn === undefined) return this.sendFailed("ERR_TRANSPORT_NO_ROUTE", "no TCP connection available", dest);
      const w = conn.write(buf);
      if (w === "slow") return this.sendFailed("ERR_TRANSPORT_SLOW_PEER", "TCP peer does not read: connection closed", dest);
      if (w === "closed") return this.sendFailed("ERR_TRANSPORT_SEND_FAILED", "TCP connection closed", dest);
    }
    this.stats.tx++;
    this.stats.txBytes += buf.length;
    return true;
  }

  /** Where the response to a request goes (RFC 3261 §18.2.2, RFC 3581); see reply-target.ts. */
  replyDestination(req: SipMessageLike, src: Source): Destination {
    return replyDestination(req, src);
  }

  /** Where a proxy forwards a response after removing its own Via; undefined if no usable Via. */
  responseDestination(res: SipMessageLike): Destination | undefined {
    const t = responseTarget(res);
    return t === undefined ? undefined : this.withConnection(t);
  }

  /** Where a response goes by `via` (the Via below ours): what responseDestination gives, without a re-parse. */
  viaDestination(via: Via): Destination | undefined {
    const t = viaTarget(via);
    return t === undefined ? undefined : this.withConnection(t);
  }

  private withConnection(t: Destination): Destination {
    if (t.proto === "udp") return t;
    const conn = this.tcp.find(t.addr, t.port);
    return conn === undefined ? t : { ...t, connId: conn.id };
  }

  /** The host and port to advertise (Via, Record-Route) for a protocol, preferring `family`. */
  localAddress(proto: Proto, family?: 4 | 6): { host: string; port: number } | undefined {
    return this.local.advertised(proto, family);
  }

  /** Whether host:port (port absent = 5060) is one of our listeners, or an alias of ours. */
  isLocal(host: string, port: number | undefined): boolean {
    return this.local.isLocal(host, port);
  }

  /** Whether a Route or Record-Route URI names us: only a sip: or sips: one can (a urn:'s "host" is no address). */
  isLocalUri(uri: SipUri): boolean {
    return namesHost(uri) && this.local.isLocal(uri.host, uri.port);
  }

  /**
   * A stop's first step: from now on nothing received is handed up, requests or responses, and
   * sending still works. The modules stop next and may take seconds to hand their peers what is
   * queued; a request routed meanwhile would find them gone (a BYE's billing event lost while the
   * BYE itself is answered). Left unread, a UDP request is retransmitted by its sender to the
   * router that replaces this one. TCP is not read at all: a TCP sender never retransmits, so the
   * connection's close (and new connections refused) is what tells it to go elsewhere.
   */
  closeIntake(): void {
    if (this.state !== "started") return;
    this.state = "closing";
    this.tcp.closeIntake();
    this.stats.unreadAtStop += this.newWork.discard((w) => w.conn?.release());
  }

  /** Closes every listener and connection; resolves when all are closed. Idempotent. */
  async stop(): Promise<void> {
    if (this.state === "stopped") return;
    this.state = "stopped";
    await Promise.all([...this.udp.map((ep) => ep.close()), this.tcp.close()]);
    const unread = this.stats.unreadAtStop;
    if (unread > 0) this.opts.logger.info({ unread }, "SIP messages received while stopping were left unread");
    this.log.flush();
  }

  /** Datagrams the kernel dropped at the UDP listeners since they opened (Linux; 0 elsewhere): see InputBacklog.kernelDrops. */
  udpKernelDrops(): number {
    let n = 0;
    for (const ep of this.udp) n += ep.backlog.kernelDrops();
    return n;
  }

  // ---- receive path ----

  /**
   * The worst of the UDP listeners and the TCP input (longest time behind, longest queue, any
   * dropping), with the new work waiting in evsip: its wait adds to the input's queue.
   */
  inputBacklog(): BacklogState {
    const input = this.readBacklog();
    const waiting = this.newWork.state();
    if (waiting === KEEPING_UP) return input;
    return {
      behindMs: Math.max(input.behindMs, waiting.behindMs),
      queuedBytes: input.queuedBytes,
      queueMs: input.queueMs + waiting.queueMs,
      dropping: input.dropping,
    };
  }

  /** Whether a UDP listener or TCP input read a full batch at the last turn's end: more is waiting. */
  private inputBehind(): boolean {
    if (this.tcp.backlog.behind) return true;
    for (const ep of this.udp) if (ep.backlog.behind) return true;
    return false;
  }

  /** Resolves once the new work waiting in evsip now has been handled (new-work-queue.ts): a graceful stop answers it first. */
  whenNewWorkHandled(): Promise<void> {
    return this.newWork.whenHandled();
  }

  /** Whether new work read from `input` is set aside now: it falls behind with a queue of setAsideQueue ms or more (0: never). */
  private setAside(input: InputBacklog): boolean {
    return this.setAsideQueue > 0 && input.queueEstimateMs >= this.setAsideQueue;
  }

  /** New work waiting in evsip, to be handled behind the calls in progress (new-work-queue.ts). */
  newWorkWaiting(): number {
    return this.newWork.length;
  }

  /** The sockets' side of inputBacklog(): the worst of the UDP listeners and the TCP input. */
  private readBacklog(): BacklogState {
    let worst = this.tcp.backlog.state();
    for (const ep of this.udp) {
      const s = ep.backlog.state();
      if (s === KEEPING_UP) continue; // the common case: no allocation per request asked
      worst =
        worst === KEEPING_UP
          ? s
          : {
              behindMs: Math.max(worst.behindMs, s.behindMs),
              queuedBytes: Math.max(worst.queuedBytes, s.queuedBytes),
              queueMs: Math.max(worst.queueMs, s.queueMs),
              dropping: worst.dropping || s.dropping,
            };
    }
    return worst;
  }

  udpDatagram(ep: UdpEndpoint, buf: Buffer, rinfo: RemoteInfo): void {
    this.stats.rxBytes += buf.length;
    if (isKeepAlive(buf)) {
      this.stats.keepAlives++;
      return;
    }
    if (this.state !== "started") return void this.stats.unreadAtStop++;
    this.stats.udpRx++;
    const b = ep.bound as BoundListener;
    const src: Source = {
      proto: "udp",
      remoteAddr: rinfo.address,
      remotePort: rinfo.port,
      localAddr: b.host,
      localPort: b.port,
      connId: 0,
    };
    const msg = this.parsed(buf, src);
    if (msg !== undefined && !this.newWork.offer(msg, src, this.setAside(ep.backlog))) this.handUp(msg, src);
  }

  tcpMessage(conn: TcpConnection, buf: Buffer): void {
    this.stats.rxBytes += buf.length;
    if (this.state !== "started") return void this.stats.unreadAtStop++;
    this.stats.tcpRx++;
    const src = conn.source as Source;
    const msg = this.parsed(buf, src);
    if (msg === undefined) conn.destroy();
    else if (this.newWork.offer(msg, src, this.setAside(this.tcp.backlog), conn)) conn.hold();
    else this.handUp(msg, src);
  }

  tcpFramingError(conn: TcpConnection, f: Failure, raw: Buffer): void {
    this.peerError(f.code, f.detail, conn.source as Source, raw);
  }

  /** The message parsed; undefined when it was rejected (counted and logged; a TCP connection is then closed). */
  private parsed(buf: Buffer, src: Source): SipMessageLike | undefined {
    let r;
    try {
      r = this.parse(buf, this.limits, src.proto === "tcp" ? STREAM : undefined);
    } catch (err) {
      r = { ok: false as const, code: "ERR_SIP_BAD_START_LINE" as const, detail: `parser threw: ${String(err)}` };
    }
    if (r.ok) return r.msg;
    this.peerError(r.code, r.detail, src, buf);
    return undefined;
  }

  /**
   * A message that waited in the queue of new work: handed up, and its TCP connection told. Not
   * when evsip closed that connection meanwhile (a slow peer, a bad message): what it had read
   * ahead is discarded then, as from its inbox.
   */
  private handWaited(msg: SipMessageLike, src: Source, conn: TcpConnection | undefined): void {
    if (conn?.discarded === true) this.stats.tcpDiscarded++;
    else this.handUp(msg, src);
    conn?.release();
  }

  /** Hands a parsed message up, unless a stop closed the intake while it waited (new-work-queue.ts). */
  private handUp(msg: SipMessageLike, src: Source): void {
    if (this.state !== "started") return void this.stats.unreadAtStop++;
    try {
      this.onMessage(msg, src);
    } catch (err) {
      // The engine catches route errors itself, so this is a bug of ours. It costs this message only:
      // the message was framed and parsed, so a TCP stream is intact, and closing a trunk would cost
      // every call on it (and the answers still corked for it). Rate-limited, as a bug hit by every
      // message would otherwise log thousands of stacks a second.
      this.internalError("internal error handling a message, dropped", {
        proto: src.proto,
        remote: formatHostPort(src.remoteAddr, src.remotePort),
        err,
      });
    }
  }

  /**
   * A bug of evsip's own on the receive path or an async path of the engine above it: counted in
   * internalErrors and logged rate-limited (per `key`: one place's flood does not hide another's).
   */
  internalError(what: string, fields: Record<string, unknown>, key?: string): void {
    this.stats.internalErrors++;
    this.log.log("error", "ERR_TRANSPORT_INTERNAL", what, fields, key);
  }

  private peerError(code: ErrorCode, detail: string, src: Source, raw: Buffer): void {
    this.stats.parseErrors.set(code, (this.stats.parseErrors.get(code) ?? 0) + 1);
    this.log.warn(code, src.proto === "udp" ? "malformed datagram dropped" : "malformed stream: connection closed", {
      detail,
      proto: src.proto,
      remote: formatHostPort(src.remoteAddr, src.remotePort),
      connId: src.connId,
    });
    if (this.onParseError === undefined) return;
    try {
      this.onParseError(code, detail, src, raw);
    } catch (err) {
      this.opts.logger.error({ err }, "onParseError threw");
    }
  }

  // ---- send path ----

  private udpFor(addr: string): UdpEndpoint | undefined {
    const family = isIP(addr);
    for (const ep of this.udp) if (family === 0 || ep.family === family) return ep;
    return undefined;
  }

  private countSendFailure(code: ErrorCode): void {
    this.stats.sendFailures++;
    this.stats.sendErrors.set(code, (this.stats.sendErrors.get(code) ?? 0) + 1);
  }

  private sendFailed(code: ErrorCode, why: string, dest: Destination): false {
    this.countSendFailure(code);
    if (code === "ERR_TRANSPORT_SLOW_PEER") return false; // the pool logged the close with this code
    this.log.warn(code, `send failed: ${why}`, {
      proto: dest.proto,
      remote: formatHostPort(dest.addr, dest.port),
      connId: dest.connId,
    });
    return false;
  }

  udpSendFailed(_ep: UdpEndpoint, err: Error, addr: string, port: number): void {
    this.asyncSendFailed("UDP send failed", err, { proto: "udp", addr, port });
  }

  tcpConnectFailed(conn: TcpConnection, err: Error): void {
    const dest: Destination = { proto: "tcp", addr: conn.remoteAddr, port: conn.remotePort, connId: conn.id };
    this.asyncSendFailed("outbound TCP connection failed", err, dest, conn.queuedBytes);
  }

  tcpUnsent(conn: TcpConnection, err: Error, bytes: number): void {
    this.stats.tcpUnsentOnClose++;
    const dest: Destination = { proto: "tcp", addr: conn.remoteAddr, port: conn.remotePort, connId: conn.id };
    this.asyncSendFailed("TCP connection failed with messages written to it not yet sent", err, dest, bytes);
  }

  private asyncSendFailed(what: string, err: Error, dest: Destination, queuedBytes?: number): void {
    this.countSendFailure("ERR_TRANSPORT_SEND_FAILED");
    const detail = `${what}: ${err.message}`;
    this.log.warn("ERR_TRANSPORT_SEND_FAILED", what, {
      proto: dest.proto,
      remote: formatHostPort(dest.addr, dest.port),
      connId: dest.connId,
      err: err.message,
      queuedBytes,
    });
    if (this.opts.onSendError === undefined) return;
    try {
      this.opts.onSendError("ERR_TRANSPORT_SEND_FAILED", detail, dest);
    } catch (e) {
      this.opts.logger.error({ err: e }, "onSendError threw");
    }
  }

  udpError(ep: UdpEndpoint, err: Error): void {
    this.log.warn("ERR_TRANSPORT_SEND_FAILED", "UDP socket error", { local: ep.host, err: err.message });
  }
}

const STREAM = Object.freeze({ stream: true });

/** A datagram of CR/LF only: a keep-alive, ignored without counting an error (RFC 5626 §4.4.1 spirit). */
function isKeepAlive(buf: Buffer): boolean {
  if (buf.length > 4) return false;
  for (const b of buf) if (b !== 13 && b !== 10) return false;
  return true;
}
