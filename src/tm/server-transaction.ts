// One server transaction (RFC 3261 §17.2, RFC 6026): the request, its identifiers, the last
// response sent upstream and the timers that retransmit it (G) and end the transaction
// (H, I, J, L and the Kamailio max lifetime). Everything that goes upstream goes through send().
import type { SipMessageLike } from "../sip/types.js";
import { parseMessage, SipMessage } from "../sip/index.js";
import type { ClientTransaction } from "./client-transaction.js";
import { timer, type TmContext } from "./context.js";
import { TransactionError } from "../errors.js";
import { endSuspension, type Suspension } from "./suspend.js";
import type { TmDestination, TmSource } from "./types.js";

/**
 * trying/proceeding: no final response yet; completed: INVITE ≥ 300 sent, waiting for the ACK
 * (or non-INVITE final sent, Timer J); confirmed: ACK received (Timer I); accepted: INVITE 2xx
 * sent (RFC 6026 Timer L); terminated: removed from the tables.
 */
export type ServerState = "trying" | "proceeding" | "completed" | "confirmed" | "accepted" | "terminated";

/** What makes a local To-tag (sip/ids.ts IdGenerator). */
export interface TagSource {
  generateTag(): string;
}

export class ServerTransaction {
  /** Lets `create()`'s result be narrowed with `if (!r.ok)`. */
  readonly ok = true;
  readonly method: string;
  readonly isInvite: boolean;
  readonly replyDest: TmDestination;
  state: ServerState;
  /** Last response sent upstream (re-sent on retransmissions). */
  lastResponse: Buffer | undefined;
  lastStatus = 0;
  /**
   * Lines the route had appended to our own replies (append_to_reply) when it first relayed or
   * suspended: the 100 Trying carries them, and so do the finals tm makes itself once the branches
   * are done (a server's 503 as a 500, a 487, a 408), as Kamailio's saved request carries its reply lumps.
   */
  keptReplyLines: readonly string[] | undefined;
  /** @internal an automatic 100 Trying is scheduled and no response has gone upstream yet (trying.ts). */
  tryingPending = false;
  /** A CANCEL matched this INVITE before a final response. */
  isCancelled = false;
  /** Branches relayed, in order (serial forking appends). */
  readonly branches: ClientTransaction[] = [];
  /** Free slot for the routing engine (armed routes, flags). tm never reads it. */
  userData: unknown;
  /** @internal the current suspension (suspend()/hold()). */
  suspension: Suspension | undefined;
  /** @internal a CANCEL ended a suspension; the next continue() returns this transaction once. */
  cancelledWhileSuspended = false;
  /** @internal tail of the queue of hook work for this transaction (responses in order). */
  queue: Promise<void> | undefined;
  /** @internal a failure route is running. */
  inFailure = false;
  /** Relays waiting for a DNS answer: they count as pending branches. */
  pendingLookups = 0;
  /**
   * @internal branches held back (RFC 7339) whose failure has not run yet: pending until it does, so
   * that nothing answers in between (a failure route that relays again, a continue route's end).
   */
  heldBackPending = 0;
  /** @internal set while our own 2xx is re-sent until its ACK (the awaiting-ACK table key). */
  ackKey: string | undefined;
  /** @internal prefix of the Via branch of our branches (`<base>.<n>`). */
  branchBase: string | undefined;
  private toTagValue: string | undefined;
  private retransTimer: NodeJS.Timeout | undefined;
  private retransInterval = 0;
  private endTimer: NodeJS.Timeout | undefined;
  private lifeTimer: NodeJS.Timeout | undefined;

  private readonly ctx: TmContext;
  /** The parsed request; dropped once a final is sent (see msg). */
  private request: SipMessageLike | undefined;
  /** Its bytes, kept to parse it again if msg is read after the final response. */
  private readonly requestBytes: Buffer;
  /** The request's own To tag, kept when `request` is dropped. */
  private requestToTag: string | undefined;
  readonly src: TmSource;
  /** $T(id_index): 0..65535. */
  readonly index: number;
  /** $T(id_label): per-bucket counter value. */
  readonly label: number;
  /** @internal match key (undefined when the request could not be keyed). */
  readonly key: string | undefined;
  /** The key's hash (TransactionTable.keyId), what the table remembers it by once this transaction ends (0 without a key). */
  private readonly keyId: number;
  /**
   * Where a local To-tag comes from: the layer's IdGenerator, an object whose method is the same
   * function in every server (a closure per layer missed at the first real call after the start's
   * warm-up server had trained this code, and deoptimised it).
   */
  private readonly ids: TagSource;

  constructor(
    ctx: TmContext,
    msg: SipMessageLike,
    src: TmSource,
    index: number,
    label: number,
    key: string | undefined,
    keyId: number,
    ids: TagSource,
  ) {
    this.ctx = ctx;
    this.request = msg;
    this.requestBytes = msg.buf;
    this.src = src;
    this.index = index;
    this.label = label;
    this.key = key;
    this.keyId = keyId;
    this.ids = ids;
    this.method = msg.method;
    this.isInvite = msg.method === "INVITE";
    this.state = this.isInvite ? "proceeding" : "trying";
    this.replyDest = ctx.transport.replyDestination(msg, src);
    const life = this.isInvite ? ctx.opts.maxInviteLifetime : ctx.opts.maxNonInviteLifetime;
    this.lifeTimer = timer(life, () => {
      this.lifeTimer = undefined;
      ctx.onLifetimeExpired(this);
    });
  }

  /**
   * The request that created the transaction. After the final response the parsed message is
   * dropped (a transaction then lives ~32 s for retransmissions only); reading msg later parses
   * the same bytes again, so the value is equal but not the same object.
   */
  get msg(): SipMessageLike {
    if (this.request !== undefined) return this.request;
    const buf = this.requestBytes;
    const r = parseMessage(buf, { maxMessageSize: buf.length + 1, maxHeaders: 100000, maxLineLength: buf.length + 1 });
    if (!r.ok) throw new TransactionError("ERR_TM_NOT_FOUND", `tm: request of ended transaction unreadable: ${r.detail}`);
    return r.msg;
  }

  /** A final response (≥ 200) was sent upstream. */
  get isFinal(): boolean {
    return this.lastStatus >= 200;
  }

  get isSuspended(): boolean {
    return this.suspension !== undefined;
  }

  /** Suspended by a hold() whose promise has not settled yet. */
  get isHeld(): boolean {
    return this.suspension?.settle !== undefined;
  }

  get isTerminated(): boolean {
    return this.state === "terminated";
  }

  /** Received over a reliable transport (no retransmission timers). */
  get isReliable(): boolean {
    return this.src.proto !== "udp";
  }

  /** Our To tag for locally generated responses: the request's own, else one made once. */
  get toTag(): string {
    const own = this.request === undefined ? this.requestToTag : this.request.to.tag;
    if (own !== undefined) return own;
    this.toTagValue ??= this.ids.generateTag();
    return this.toTagValue;
  }

  /** A branch still waits for its final response, or the transaction is suspended. */
  get hasPending(): boolean {
    if (this.suspension !== undefined || this.pendingLookups > 0 || this.heldBackPending > 0) return true;
    for (const b of this.branches) if (b.isPending) return true;
    return false;
  }

  /**
   * Sends a response upstream and moves the state machine. Refuses (false) a non-2xx after a
   * final response, and anything once terminated; an INVITE 2xx after a final is still sent
   * (RFC 3261 §16.7 step 10).
   */
  send(status: number, buf: Buffer): boolean {
    if (this.state === "terminated") return false;
    if (this.isFinal && !(this.isInvite && status >= 200 && status < 300)) return false;
    if (status >= 200 && !this.isFinal) this.ctx.table.finished();
    const sent = this.ctx.transport.send(buf, this.replyDest);
    this.lastResponse = buf;
    this.lastStatus = status;
    this.tryingPending = false; // any response does what the 100 was for
    // Before the state moves: a final over TCP may end the transaction at once (onEnded after this).
    this.ctx.callbacks.onSent?.(this, status);
    if (status < 200) {
      if (this.state === "trying") this.state = "proceeding";
      return sent;
    }
    this.clearTimers(true); // the lifetime timer has nothing left to do (onLifetimeExpired)
    this.releaseParsed();
    const o = this.ctx.opts;
    if (!this.isInvite) {
      this.state = "completed";
      if (!this.isReliable && this.key !== undefined && !this.hasPending) {
        // Timer J absorbs retransmissions: only the final's bytes and destination are kept for
        // it (TransactionTable.rememberAnswer), and the transaction itself ends now.
        this.ctx.table.rememberAnswer(this.keyId, buf, this.replyDest, 64 * o.t1);
        this.endIn(0);
      } else this.endIn(this.isReliable ? 0 : 64 * o.t1); // Timer J
    } else if (status < 300) {
      this.state = "accepted";
      this.endIn(64 * o.t1); // RFC 6026 Timer L
    } else {
      this.state = "completed";
      if (!this.isReliable) this.armTimerG(o.t1);
      this.endIn(64 * o.t1); // Timer H
    }
    return sent;
  }

  /** A retransmitted request: re-send the last response, if any. */
  retransmit(): void {
    if (this.lastResponse === undefined || this.state === "terminated") return;
    this.ctx.transport.send(this.lastResponse, this.replyDest);
    this.ctx.stats.retransmissionsSent++;
  }

  /** The ACK for a ≥ 300 final arrived: stop Timer G, wait Timer I, then end. */
  confirm(): void {
    if (this.state !== "completed" || !this.isInvite) return;
    this.state = "confirmed";
    this.clearTimers(false);
    this.endIn(this.isReliable ? 0 : this.ctx.opts.t4); // Timer I
  }

  /**
   * A 2xx to this INVITE went upstream; `key` (ackKey) will match its end-to-end ACK. Our own 2xx
   * (t_reply, `resend`) is re-sent at T1, doubling up to T2, until that ACK arrives (RFC 3261
   * §13.3.1.4), whatever the transport: a UAC that had a 100 no longer re-sends its INVITE, so a
   * lost 2xx would otherwise lose the call. A relayed 2xx is the UAS's to re-send.
   */
  awaitAck(key: string, resend: boolean): void {
    if (this.state !== "accepted" || this.ackKey !== undefined) return;
    this.ackKey = key;
    this.ctx.table.awaitAck(this, key);
    if (resend) this.arm2xxRetransmission(this.ctx.opts.t1);
  }

  /**
   * The ACK of our 2xx arrived: the re-sending stops, and the caller will not re-send its INVITE
   * any more, so instead of Timer L (64·T1) the transaction ends now, leaving a tombstone of its
   * key for T4 (none over TCP) for what is still in flight. Our branches' Timer M shortens to T4.
   */
  acked(): void {
    this.ackKey = undefined;
    if (this.retransTimer !== undefined) clearTimeout(this.retransTimer);
    this.retransTimer = undefined;
    // Another branch still pending may yet answer 2xx (it crossed our CANCEL), and every 2xx must
    // go upstream (RFC 3261 §16.7 step 10): then Timer L keeps the transaction, as before.
    if (this.branches.some((b) => b.isPending)) return;
    for (const b of this.branches) b.ackedEndToEnd();
    if (this.state !== "accepted") return;
    // What is left to do is absorbing an INVITE retransmission still in flight: a tombstone of the
    // match key (tens of bytes, swept in bulk) does that for T4, and the transaction itself goes
    // now, before the garbage collector promotes it (held ~2.4 KB for 5 s, measured, otherwise).
    if (!this.isReliable && this.key !== undefined) this.ctx.table.tombstone(this.keyId, this.ctx.opts.t4);
    this.terminate();
  }

  /** Removes the transaction from the tables and clears every timer. Idempotent. */
  terminate(): void {
    if (this.state === "terminated") return;
    this.state = "terminated";
    this.clearTimers(true);
    // The error (and its stack capture) only when a suspension is there to receive it.
    if (this.suspension !== undefined)
      endSuspension(this.ctx, this, new TransactionError("ERR_TM_NOT_FOUND", "tm: transaction ended"));
    this.ctx.table.removeServer(this);
    this.ctx.callbacks.onEnded?.(this);
  }

  /**
   * After the final: only the match key, identifiers, last response and replyDest are needed.
   * Drops the parsed request (its bytes stay, see msg) and what finished branches hold.
   */
  private releaseParsed(): void {
    const req = this.request;
    if (req instanceof SipMessage) {
      try {
        this.requestToTag = req.to.tag;
        this.request = undefined;
      } catch {
        // A To that does not decode: keep the message as it is.
      }
    }
    for (const b of this.branches) if (!b.isPending) b.releaseParsed();
  }

  private armTimerG(interval: number): void {
    this.retransInterval = interval;
    this.retransTimer = timer(interval, () => {
      if (this.state !== "completed" || this.lastResponse === undefined) return;
      this.ctx.transport.send(this.lastResponse, this.replyDest);
      this.ctx.stats.retransmissionsSent++;
      this.armTimerG(Math.min(2 * this.retransInterval, this.ctx.opts.t2));
    });
  }

  private arm2xxRetransmission(interval: number): void {
    this.retransInterval = interval;
    this.retransTimer = timer(interval, () => {
      if (this.state !== "accepted" || this.ackKey === undefined || this.lastResponse === undefined) return;
      this.ctx.transport.send(this.lastResponse, this.replyDest);
      this.ctx.stats.retransmissionsSent++;
      this.arm2xxRetransmission(Math.min(2 * this.retransInterval, this.ctx.opts.t2));
    });
  }

  private endIn(ms: number): void {
    if (this.endTimer !== undefined) clearTimeout(this.endTimer);
    this.endTimer = undefined;
    if (ms <= 0) {
      this.terminate();
      return;
    }
    this.endTimer = timer(ms, () => {
      this.endTimer = undefined;
      this.terminate();
    });
  }

  private clearTimers(all: boolean): void {
    if (this.retransTimer !== undefined) clearTimeout(this.retransTimer);
    if (this.endTimer !== undefined) clearTimeout(this.endTimer);
    this.retransTimer = this.endTimer = undefined;
    if (all && this.lifeTimer !== undefined) {
      clearTimeout(this.lifeTimer);
      this.lifeTimer = undefined;
    }
  }
}
