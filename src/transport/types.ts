// Shapes shared by the transport layer and the layers above it: where a message came from (Source),
// where one goes (Destination) and the options of a TransportLayer. The parser is injected
// (`parse`), which keeps this layer testable and lets the server pick the parser and its limits.
import type { Logger } from "pino";
import type { ErrorCode } from "../errors.js";
import type { ParseResult, SipLimits, SipMessageLike } from "../sip/types.js";
import type { ListenSpec, Proto } from "./listen-spec.js";

export type { ListenSpec, Proto } from "./listen-spec.js";

/** Where a received message came from. One object per TCP connection, one per UDP datagram. */
export interface Source {
  readonly proto: Proto;
  readonly remoteAddr: string;
  readonly remotePort: number;
  /** Address of the local socket (the listener's bound host; a wildcard stays a wildcard). */
  readonly localAddr: string;
  readonly localPort: number;
  /** The TCP connection id (positive, unique per TransportLayer); 0 for UDP. */
  readonly connId: number;
}

/** Where to send: for TCP, connId (when still open) wins over addr:port. addr is never bracketed. */
export interface Destination {
  readonly proto: Proto;
  readonly addr: string;
  readonly port: number;
  readonly connId?: number;
}

/** A bound listener, as the OS reports it. */
export interface BoundListener {
  readonly proto: Proto;
  readonly host: string;
  readonly port: number;
  readonly family: 4 | 6;
}

/**
 * Injected SIP parser: `parseMessage` from src/sip/index.ts in production. `opts.stream` is true for
 * messages framed from a TCP stream (Content-Length mandatory, RFC 3261 §18.3).
 */
export type ParseFn = (buf: Buffer, limits: SipLimits, opts?: { readonly stream?: boolean }) => ParseResult;

/** Called for each message that parsed. Must not throw (a throw is caught, logged and dropped). */
export type MessageHandler = (msg: SipMessageLike, src: Source) => void;

/** Called for each message the framer or parser rejected, after it was counted and logged. */
export type ParseErrorHandler = (code: ErrorCode, detail: string, src: Source, raw: Buffer) => void;

/**
 * Options of a TransportLayer; every number is a named server param (`tcp.*`, `udp.*`, `sip.*`).
 * The defaults are TRANSPORT_DEFAULTS, DEFAULT_SIP_LIMITS and RateLimitedLog's; the params use them too.
 */
export interface TransportOptions {
  listen: readonly ListenSpec[];
  /** Parser limits; also bound the TCP framer. Default DEFAULT_SIP_LIMITS. */
  sipLimits?: SipLimits;
  /** Idle TCP connections are closed after this many ms without traffic. */
  tcpIdleTimeout?: number;
  /** Most inbound TCP connections held at once; past it new ones are refused. */
  maxTcpConnections?: number;
  /**
   * Most outbound TCP connections held at once, counted apart from inbound ones so they can never
   * take an inbound slot; past it no new one is opened.
   */
  maxOutboundTcpConnections?: number;
  /**
   * Idle timeout (ms) of an outbound TCP connection until the peer sent a whole message on it;
   * then tcpIdleTimeout applies.
   */
  tcpOutboundIdleTimeout?: number;
  /** Outbound TCP connect timeout in ms. */
  tcpConnectTimeout?: number;
  /**
   * SO_RCVBUF of UDP listeners in bytes (the kernel caps it at net.core.rmem_max). A burst of
   * datagrams while the event loop is busy waits here instead of being dropped.
   */
  udpRecvBufferSize?: number;
  /** Most bytes queued on one TCP connection; a write past it closes the connection (slow peer). */
  tcpMaxQueuedBytes?: number;
  /**
   * Once SIP input (a UDP listener, or TCP's input) falls behind with a queue this long (ms; a UDP
   * listener's kernel queue, Linux), new requests wait in evsip and responses and in-dialog
   * requests go first (new-work-queue.ts); 0 = never.
   */
  setAsideQueue?: number;
  /**
   * RFC 7339 overload control: responses to clients whose Via carries `oc` ask them for less new
   * work while SIP input falls behind with a queue longer than `queueMs` (overload-feedback.ts).
   * Absent, or `queueMs` 0: no feedback.
   */
  overloadFeedback?: { readonly queueMs: number; readonly validityMs: number };
  /** Host names that are also "us" for isLocal() (Kamailio `alias=`). */
  aliases?: readonly string[];
  /** Rate-limited logging of peer errors: at most this many lines per code per interval. Default RateLimitedLog's. */
  logLimit?: { readonly lines: number; readonly intervalMs: number };
  logger: Logger;
  parse: ParseFn;
  /**
   * Called when a send fails after send() returned true (UDP socket error, outbound TCP connect
   * failure or timeout), after it was counted and logged. The server sets none: tm does not act on
   * it, so a branch whose connect failed ends by its own timer (a local 408), not at once as the
   * transport error of RFC 3261 §8.1.3.1.
   */
  onSendError?: SendErrorHandler;
}

type TransportLimit =
  | "tcpIdleTimeout"
  | "maxTcpConnections"
  | "maxOutboundTcpConnections"
  | "tcpOutboundIdleTimeout"
  | "tcpConnectTimeout"
  | "udpRecvBufferSize"
  | "tcpMaxQueuedBytes"
  | "setAsideQueue";

/** The defaults of TransportOptions' limits (the `tcp.*` and `udp.*` server params use them). */
export const TRANSPORT_DEFAULTS: Readonly<Required<Pick<TransportOptions, TransportLimit>>> = Object.freeze({
  tcpIdleTimeout: 600_000,
  maxTcpConnections: 2048,
  maxOutboundTcpConnections: 512,
  tcpOutboundIdleTimeout: 60_000,
  tcpConnectTimeout: 10_000,
  udpRecvBufferSize: 4 * 1024 * 1024,
  tcpMaxQueuedBytes: 4 * 1024 * 1024,
  // Setting work aside costs the batching of a turn: near its ceiling a router capped to a quarter
  // of a core that set aside after 10 ms of full turns answered async calls at a p99 of 43–55 ms
  // against 7–8 ms, refusing some (bench/RESULTS.md, 2026-11-30). Only a queue that BYEs would wait
  // behind for long is worth it; a GC pause's few full turns never are.
  setAsideQueue: 20,
});

/** Options of one send(). */
export interface SendOptions {
  /**
   * TCP only: open a new outbound connection when none is held to the destination (default true).
   * False for stateless response forwarding, so a spoofed Via cannot make us connect anywhere.
   */
  readonly connect?: boolean;
}

/** An asynchronous send failure: the code, a reason, and where the send was going. */
export type SendErrorHandler = (code: ErrorCode, detail: string, dest: Destination) => void;

/** Counters of a TransportLayer, read by the metrics exporter. Plain fields, updated in place. */
export interface TransportStats {
  /** Datagrams received on UDP listeners (keep-alives excluded). */
  udpRx: number;
  /** Whole SIP messages framed on TCP connections. */
  tcpRx: number;
  /** Bytes received on every socket. */
  rxBytes: number;
  /** Messages handed to a socket by send(). */
  tx: number;
  txBytes: number;
  /** Peer input rejected by the framer or the parser, by code. */
  parseErrors: Map<ErrorCode, number>;
  /** TCP connections open now (inbound + outbound). */
  tcpConnections: number;
  /** Outbound TCP connections open now (capped by maxOutboundTcpConnections). */
  tcpOutboundConnections: number;
  /** Bytes of framed TCP messages read ahead and waiting to be handed on, over all connections. */
  tcpInboxBytes: number;
  tcpAccepted: number;
  tcpOutbound: number;
  /** Connections refused because maxTcpConnections inbound (or maxOutboundTcpConnections outbound) were open. */
  tcpRejected: number;
  /** Connections closed for idleness. */
  idleClosed: number;
  /** Sends that failed (no listener, no connection, slow peer, connect or socket error). */
  sendFailures: number;
  /** The same failures by code (ERR_TRANSPORT_NO_ROUTE, _NO_CONNECTION, _SLOW_PEER, _SEND_FAILED). */
  sendErrors: Map<ErrorCode, number>;
  /** TCP connections closed because a write would pass tcpMaxQueuedBytes (the peer does not read). */
  slowPeerClosed: number;
  /** TCP connections the peer closed with part of a message buffered (that part is dropped). */
  truncatedOnClose: number;
  /** TCP connections that failed (a reset, a broken pipe) with bytes written to them not yet sent: those messages are lost. */
  tcpUnsentOnClose: number;
  /** evsip's own code threw (a bug; never the process): a message dropped (its handler), a TCP connection closed (its framing), or an async path of the engine. */
  internalErrors: number;
  /** CRLF keep-alives seen (UDP datagrams of CR/LF only, TCP CRLFCRLF pings). */
  keepAlives: number;
  /**
   * Messages that reached the layer after a stop began (closeIntake), including ones already queued
   * or read ahead from a TCP connection, not handed up: a UDP sender retransmits them to the next
   * router, a TCP sender sees its connection close.
   */
  unreadAtStop: number;
  /**
   * Messages read ahead from a TCP connection that was then closed before they were handed on (after
   * a message it sent was rejected, a peer that did not read, a bug of ours): its peer sees the
   * close, and the count says how many of its messages went unanswered.
   */
  tcpDiscarded: number;
  /** The smallest receive buffer the kernel gave a UDP listener (SO_RCVBUF as read back; 0 without one). */
  udpRecvBufferBytes: number;
  /** Responses that carried RFC 7339 overload feedback to a client that asked for it. */
  overloadFeedbackSent: number;
  /**
   * Requests that may start something (no To tag) and waited in evsip while input fell behind, so
   * that responses and requests within a dialog went first (new-work-queue.ts).
   */
  newWorkWaited: number;
  /** New work handled as it was read because that queue was full (MAX_WAITING). */
  newWorkOverflowed: number;
}
