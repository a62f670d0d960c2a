// One client transaction (RFC 3261 §17.1, RFC 6026): a branch we relayed, a CANCEL we sent, or a
// request evsip itself sends within a dialog (a "local" one: no server transaction, its outcome goes
// to a callback instead of upstream).
// Over UDP the request is retransmitted on Timer A (INVITE) / E (non-INVITE); the branch times
// out on min(64·T1, fr_timer) before any response and on fr_inv_timer after an INVITE provisional.
import type { SipMessageLike } from "../sip/types.js";
import { buildAckForNon2xx, buildCancel, parseMessage } from "../sip/index.js";
import { timer, type TmContext } from "./context.js";
import { clientKey } from "./match-key.js";
import type { ServerTransaction } from "./server-transaction.js";
import type { TmDestination } from "./types.js";

/**
 * calling: request sent, no response; proceeding: a provisional arrived; completed: a final
 * ≥ 300 (INVITE, ACK sent, Timer D) or a local timeout; accepted: INVITE 2xx (RFC 6026 Timer M,
 * until the ACK goes through); terminated: removed from the table. A non-INVITE final and the ACK
 * of an accepted INVITE end the transaction at once, a tombstone standing in for Timer K / M.
 */
export type ClientState = "calling" | "proceeding" | "completed" | "accepted" | "terminated";

export class ClientTransaction {
  /** Lets `relay()`'s result be narrowed with `if (!r.ok)`. */
  readonly ok = true;
  readonly isInvite: boolean;
  /** @internal table key: branch + method. */
  readonly key: string;
  state: ClientState = "calling";
  /** Highest status received (408 after a local timeout). */
  lastStatus = 0;
  /** The final response received (undefined for a local timeout, and once the server transaction has sent its final). */
  response: SipMessageLike | undefined;
  /** Bytes to send upstream for `response` when it is chosen (onReply may replace them). */
  forwardBuf: Buffer | undefined;
  /** The branch ended by timeout with a local 408. */
  isLocalTimeout = false;
  /** The branch was never sent: its server asked for less new work (RFC 7339), and it failed with a local 503. */
  isHeldBack = false;
  /** The reason phrase of this branch's local final (a timeout's 408, a held-back branch's 503). */
  localReason = "Request Timeout";
  /** A CANCEL is wanted: sent at once after a provisional, else when one arrives (RFC 3261 §9.1). */
  cancelRequested = false;
  cancelSent = false;
  private ackBuf: Buffer | undefined;
  private parsed: SipMessageLike | undefined;
  private retransTimer: NodeJS.Timeout | undefined;
  private retransInterval = 0;
  private frTimer: NodeJS.Timeout | undefined;
  private endTimer: NodeJS.Timeout | undefined;

  private readonly ctx: TmContext;
  /** The server transaction this branch serves; undefined for a local request. */
  readonly st: ServerTransaction | undefined;
  /** "branch": a relayed request; "cancel": a CANCEL tm sent for a branch; "local": our own request. */
  readonly kind: "branch" | "cancel" | "local";
  /** A local request's outcome: its final response, or 408 without one on timeout. Called once. */
  onLocalFinal: ((status: number, res: SipMessageLike | undefined) => void) | undefined;
  /** Via branch parameter of the request we sent. */
  readonly branchId: string;
  readonly method: string;
  readonly dest: TmDestination;
  /** The exact bytes sent downstream. */
  readonly requestBuf: Buffer;

  constructor(
    ctx: TmContext,
    st: ServerTransaction | undefined,
    kind: "branch" | "cancel" | "local",
    branchId: string,
    method: string,
    dest: TmDestination,
    requestBuf: Buffer,
  ) {
    this.ctx = ctx;
    this.st = st;
    this.kind = kind;
    this.branchId = branchId;
    this.method = method;
    this.dest = dest;
    this.requestBuf = requestBuf;
    this.isInvite = method === "INVITE";
    this.key = clientKey(branchId, method);
  }

  /** Waiting for a final response (a relayed branch only). */
  get isPending(): boolean {
    return this.kind !== "cancel" && (this.state === "calling" || this.state === "proceeding");
  }

  get isReliable(): boolean {
    return this.dest.proto !== "udp";
  }

  /**
   * Marks the branch held back instead of sent: completed at once with a local 503, nothing
   * registered, no timer. A CANCEL has nothing to cancel, and no ACK is owed.
   */
  holdBack(): void {
    this.isHeldBack = true;
    this.lastStatus = 503;
    this.localReason = "Service Unavailable";
    this.state = "completed";
  }

  /** Registers and sends; false (and nothing registered) when the transport refused. */
  start(): boolean {
    if (!this.ctx.transport.send(this.requestBuf, this.dest)) return false;
    this.ctx.table.addClient(this);
    const o = this.ctx.opts;
    if (!this.isReliable) this.armRetransmit(o.t1);
    this.armFr(Math.min(64 * o.t1, o.frTimer));
    return true;
  }

  /** A 1xx arrived: stop INVITE retransmissions, restart fr_inv_timer; non-INVITE goes to T2. */
  provisional(status: number): void {
    if (status > this.lastStatus) this.lastStatus = status;
    if (this.state !== "calling" && this.state !== "proceeding") return;
    this.state = "proceeding";
    if (this.isInvite) {
      this.clearRetransmit();
      this.armFr(this.ctx.opts.frInvTimer);
    } else if (this.retransTimer !== undefined && this.retransInterval < this.ctx.opts.t2) {
      this.clearRetransmit();
      if (!this.isReliable) this.armRetransmit(this.ctx.opts.t2);
    }
  }

  /**
   * A final response arrived. Returns false for a retransmission of one already handled (its ACK
   * is re-sent for an INVITE ≥ 300). An INVITE ≥ 300 is ACKed hop by hop (RFC 3261 §17.1.1.3).
   */
  final(res: SipMessageLike): boolean {
    const status = res.status;
    const o = this.ctx.opts;
    if (this.isInvite && status < 300) {
      if (this.state === "accepted") return false;
      this.settle(status, res);
      this.state = "accepted";
      this.endIn(64 * o.t1); // RFC 6026 Timer M
      return true;
    }
    if (this.state === "completed" || this.state === "accepted" || this.state === "terminated") {
      if (this.isInvite && status >= 300) this.sendAck(res);
      return false;
    }
    this.settle(status, res);
    this.state = "completed";
    if (this.isInvite) {
      this.sendAck(res);
      this.endIn(this.isReliable ? 0 : 64 * o.t1); // Timer D
    } else {
      this.endAbsorbing(); // Timer K
    }
    if (this.st?.isFinal === true) this.releaseParsed(); // a late final: nothing will read it
    return true;
  }

  /**
   * The server transaction's final went upstream and this branch is finished: drop the parsed
   * response and the parsed request (the ACK for a ≥ 300 is already built; CANCEL is never needed).
   */
  releaseParsed(): void {
    this.response = undefined;
    this.parsed = undefined;
  }

  /**
   * The end-to-end ACK of this branch's 2xx went through: the UAS stops re-sending its 2xx once
   * that ACK arrives, so Timer M only has to cover the ACK's flight (T4; 0 over TCP).
   */
  ackedEndToEnd(): void {
    if (this.state === "accepted") this.endAbsorbing();
  }

  /**
   * Ends the transaction now, leaving a tombstone of its key that absorbs a late copy of its final
   * for T4 (nothing over TCP): that is all the wait is for, and the transaction would keep its
   * server transaction and both messages alive for it. An INVITE 2xx is never absorbed: one that
   * comes after the ACK (another fork's, or a re-send after a lost ACK) goes upstream statelessly.
   */
  private endAbsorbing(): void {
    if (!this.isReliable) this.ctx.table.tombstoneClient(this.key, this.ctx.opts.t4);
    this.terminate();
  }

  /** No final in time: local 408. The ct stays 64·T1 (INVITE) so a late final is still ACKed. */
  timeout(): void {
    this.clearRetransmit();
    this.frTimer = undefined;
    this.isLocalTimeout = true;
    this.lastStatus = 408;
    this.state = "completed";
    this.endIn(this.isInvite ? 64 * this.ctx.opts.t1 : this.isReliable ? 0 : this.ctx.opts.t4);
  }

  /** The request as sent, parsed on first need (to build CANCEL and ACK). */
  sentRequest(): SipMessageLike | undefined {
    if (this.parsed !== undefined) return this.parsed;
    const r = parseMessage(this.requestBuf, {
      maxMessageSize: this.requestBuf.length + 1,
      maxHeaders: 100000,
      maxLineLength: this.requestBuf.length + 1,
    });
    if (r.ok) this.parsed = r.msg;
    return this.parsed;
  }

  /** Builds the CANCEL for this INVITE branch (RFC 3261 §9.1), or undefined if it cannot. */
  buildCancel(): Buffer | undefined {
    const req = this.sentRequest();
    return req === undefined ? undefined : buildCancel(req);
  }

  terminate(): void {
    if (this.state === "terminated") return;
    this.state = "terminated";
    this.clearRetransmit();
    this.clearFr();
    if (this.endTimer !== undefined) clearTimeout(this.endTimer);
    this.endTimer = undefined;
    this.ctx.table.removeClient(this);
  }

  private settle(status: number, res: SipMessageLike): void {
    this.lastStatus = status;
    this.response = res;
    this.clearRetransmit();
    this.clearFr();
  }

  private sendAck(res: SipMessageLike): void {
    if (this.ackBuf === undefined) {
      const req = this.sentRequest();
      if (req === undefined) return;
      this.ackBuf = buildAckForNon2xx(req, res);
    }
    this.ctx.transport.send(this.ackBuf, this.dest);
  }

  private armRetransmit(interval: number): void {
    this.retransInterval = interval;
    this.retransTimer = timer(interval, () => {
      this.retransTimer = undefined;
      if (this.state !== "calling" && this.state !== "proceeding") return;
      this.ctx.transport.send(this.requestBuf, this.dest);
      this.ctx.stats.retransmissionsSent++;
      // Timer A doubles without bound; Timer E caps at T2 (RFC 3261 §17.1.1.2, §17.1.2.2).
      const next = 2 * this.retransInterval;
      this.armRetransmit(this.isInvite ? next : Math.min(next, this.ctx.opts.t2));
    });
  }

  private armFr(ms: number): void {
    this.clearFr();
    this.frTimer = timer(ms, () => {
      this.frTimer = undefined;
      if (this.isPending || this.kind === "cancel") this.ctx.onBranchTimeout(this);
    });
  }

  private clearRetransmit(): void {
    if (this.retransTimer !== undefined) clearTimeout(this.retransTimer);
    this.retransTimer = undefined;
  }

  private clearFr(): void {
    if (this.frTimer !== undefined) clearTimeout(this.frTimer);
    this.frTimer = undefined;
  }

  private endIn(ms: number): void {
    if (this.endTimer !== undefined) clearTimeout(this.endTimer);
    if (ms <= 0) {
      this.terminate();
      return;
    }
    this.endTimer = timer(ms, () => {
      this.endTimer = undefined;
      this.terminate();
    });
  }
}
