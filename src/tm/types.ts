// Shapes of the transaction layer: the transport it needs (structurally a subset of
// src/transport's TransportLayer, so tests can drive tm over plain UDP sockets), its options
// (RFC 3261 §17 timer values and Kamailio tm params, all in ms) and the callbacks core implements.
import { withDefaults } from "../common/with-defaults.js";
import type { SipMessageLike } from "../sip/types.js";
import type { ClientTransaction } from "./client-transaction.js";
import type { ServerTransaction } from "./server-transaction.js";

export type TmProto = "udp" | "tcp";

/** Where a message came from; structurally src/transport's Source. */
export interface TmSource {
  readonly proto: TmProto;
  readonly remoteAddr: string;
  readonly remotePort: number;
  readonly localAddr: string;
  readonly localPort: number;
  /** TCP connection id; 0 for UDP. */
  readonly connId: number;
}

/** Where a message goes; structurally src/transport's Destination. */
export interface TmDestination {
  readonly proto: TmProto;
  readonly addr: string;
  readonly port: number;
  readonly connId?: number;
}

/** The part of TransportLayer tm uses. */
export interface TmTransport {
  /** Sends bytes; false when it could not be handed to a socket. */
  send(buf: Buffer, dest: TmDestination): boolean;
  /** Where responses to `req` received from `src` go (RFC 3261 §18.2.2, RFC 3581). */
  replyDestination(req: SipMessageLike, src: TmSource): TmDestination;
}

/**
 * Options of a TransactionLayer; every time is in milliseconds. Each default is in TM_DEFAULTS,
 * which the `tm` server params use too.
 */
export interface TmOptions {
  /** RTT estimate, RFC 3261 T1. */
  t1?: number;
  /** Longest retransmit interval for non-INVITE requests and INVITE responses, T2. */
  t2?: number;
  /** Longest time a message stays in the network, T4. */
  t4?: number;
  /** Kamailio fr_timer: no final (INVITE: no provisional either) response on a branch; also the suspension limit. */
  frTimer?: number;
  /** Kamailio fr_inv_timer: no final response on an INVITE branch after a provisional. */
  frInvTimer?: number;
  /** Kamailio max_inv_lifetime, counted from creation. */
  maxInviteLifetime?: number;
  /** Kamailio max_noninv_lifetime, counted from creation. */
  maxNonInviteLifetime?: number;
  /** Server transactions without a final response yet; create() refuses beyond it (caller answers 503). */
  maxTransactions?: number;
  /**
   * Reason phrase of the automatic 100 for INVITE (Kamailio auto_inv_100_reason). Default "Trying";
   * the app param takes 1 to 128 characters of printable ASCII or HTAB.
   */
  trying100Reason?: string;
  /**
   * How long the automatic 100 Trying of a relayed or suspended INVITE waits for another response
   * to go upstream first; 0 sends it at once (a suspended INVITE's at the end of the turn). Default
   * 100; the app param takes 0..150, the layer itself any number ≥ 0. RFC 3261 §17.2.1 asks for a
   * 100 only when the answer may take over 200 ms, and the caller retransmits after T1 (500 ms)
   * without one.
   */
  trying100Delay?: number;
  /**
   * RFC 7339 overload control towards the servers tm relays to: `;oc;oc-algo="loss"` in evsip's Via
   * of every relayed request, and the share of new requests a server asks to be held back failed at
   * once with a local 503 (downstream-overload.ts). Default false: the feedback is read from a Via
   * that every hop beyond the next one echoes, so turn it on only towards next hops that strip
   * feedback they did not write from the responses they relay (evsip does).
   */
  overloadControl?: boolean;
  /**
   * With overloadControl: the next hops it applies to, as IP addresses with or without a port
   * (`192.0.2.10`, `192.0.2.10:5070`, `[2001:db8::1]:5070`); empty (the default) for every next
   * hop. Requests to the others carry no `oc` and their feedback is ignored, so an edge can use it
   * towards evsip cores while it relays other calls through hops that pass Vias through unchanged.
   */
  overloadControlPeers?: readonly string[];
  /**
   * A server's 503 that is the best final response of a relayed request goes upstream as a
   * `500 Service Unavailable` built here (nothing of the 503, its Retry-After included, is passed
   * on), as RFC 3261 §16.7 step 6 asks: a 503
   * says the router that sends it cannot serve any request, and a caller honouring its Retry-After
   * would stop sending to a router that is not overloaded. Kamailio's `remap_503_500`, on by
   * default there too. A 503 evsip answers itself (t_reply, a held-back branch) is not changed.
   * Default true.
   */
  remap503?: boolean;
}

export type ResolvedTmOptions = Required<TmOptions>;

/** The defaults of TmOptions: RFC 3261's timers and Kamailio tm's defaults. */
export const TM_DEFAULTS: ResolvedTmOptions = Object.freeze({
  t1: 500,
  t2: 4000,
  t4: 5000,
  frTimer: 30_000,
  frInvTimer: 120_000,
  maxInviteLifetime: 180_000,
  maxNonInviteLifetime: 32_000,
  maxTransactions: 100_000,
  trying100Reason: "Trying",
  trying100Delay: 100,
  overloadControl: false,
  overloadControlPeers: [],
  remap503: true,
});

export function resolveTmOptions(o: TmOptions): ResolvedTmOptions {
  return withDefaults(TM_DEFAULTS, o);
}

/**
 * What onReply decides for a response: undefined (or "forward") forwards it upstream with our
 * top Via removed; "drop" discards a provisional (ignored for final responses); a Buffer is sent
 * (or kept as the branch's answer) instead of the default rewrite.
 */
export type ReplyVerdict = void | "forward" | "drop" | Buffer;

/** Why a failure route runs: a branch answered ≥ 300, a branch timed out, a suspension timed out. */
export interface TmFailure {
  /**
   * "overload": the branch was held back, not sent, because its server asked for less new work
   * (RFC 7339); its status is a local 503.
   */
  readonly cause: "reply" | "timeout" | "suspend-timeout" | "overload";
  /** Final status of the failure (408 for timeouts). */
  readonly status: number;
  readonly reason: string;
  /** The branch that failed; undefined for a suspension timeout. */
  readonly branch: ClientTransaction | undefined;
  /** The response received; undefined for local 408s. */
  readonly response: SipMessageLike | undefined;
}

/**
 * Callbacks into the routing engine. Each may be sync or return a promise; tm handles the
 * responses of one server transaction in order, queueing while a hook's promise is pending.
 * A hook that throws (or rejects) is logged; tm then behaves as if it returned undefined.
 */
export interface TmCallbacks {
  /** Every response received on a branch (onreply_route), before tm acts on it. */
  onReply?(
    st: ServerTransaction,
    branch: ClientTransaction,
    res: SipMessageLike,
    src?: TmSource,
  ): ReplyVerdict | Promise<ReplyVerdict>;
  /**
   * The last pending branch failed, or a suspension timed out (failure_route). The hook may
   * relay() again (serial forking), reply(), or suspend(); if afterwards the transaction has
   * neither a final reply nor a pending branch, tm sends the best final response upstream.
   */
  onFailure?(st: ServerTransaction, failure: TmFailure): void | Promise<void>;
  /** A CANCEL matched this INVITE transaction; tm has answered it 200 and is cancelling branches. */
  onCancel?(st: ServerTransaction, cancel: SipMessageLike): void;
  /** A response went upstream on st (local or relayed, retransmissions excluded). Synchronous. */
  onSent?(st: ServerTransaction, status: number): void;
  /** st left the transaction table. Synchronous. */
  onEnded?(st: ServerTransaction): void;
}
