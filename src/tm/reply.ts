// Everything that sends upstream or cancels downstream on behalf of a server transaction: local
// replies (t_reply), forwarded responses with our Via removed (RFC 3261 §16.7 step 3), the best
// final response of failed branches (§16.7 step 6) and CANCEL of pending branches (§9.1, §16.10).
import type { SipMessageLike } from "../sip/types.js";
import { buildResponse } from "../sip/index.js";
import { relayedWithoutForeignFeedback } from "../sip/overload-via.js";
import { ClientTransaction } from "./client-transaction.js";
import { countError, type TmContext } from "./context.js";
import type { ServerTransaction } from "./server-transaction.js";
import { endSuspension } from "./suspend.js";
import { ackKey } from "./match-key.js";

/** Extra content of a locally generated response. */
export interface ReplyOptions {
  /** To tag for a request without one; default: the transaction's own tag (none on a 100). */
  readonly toTag?: string;
  /** Header lines (`Name: value`) added to the response. */
  readonly headers?: readonly string[];
  readonly body?: Buffer | string;
}

/** t_reply: builds a response from the request and sends it statefully. */
/** The 100 Trying of an INVITE that has had no response yet, with the route's append_to_reply lines. */
export function sendTrying(ctx: TmContext, st: ServerTransaction): void {
  if (!st.isInvite || st.lastStatus !== 0) return;
  replyLocal(ctx, st, 100, ctx.opts.trying100Reason, st.keptReplyLines && { headers: st.keptReplyLines });
}

export function replyLocal(ctx: TmContext, st: ServerTransaction, status: number, reason: string, opts?: ReplyOptions): boolean {
  const late2xx = st.isInvite && status >= 200 && status < 300;
  if (st.isTerminated || (st.isFinal && !late2xx) || status < 100 || status > 699) {
    countError(ctx, "ERR_TM_ALREADY_REPLIED");
    ctx.logger.debug({ status, state: st.state, index: st.index, label: st.label }, "tm: reply refused");
    return false;
  }
  const req = st.msg;
  const toTag = opts?.toTag ?? (status === 100 || req.to.tag !== undefined ? undefined : st.toTag);
  // A 1xx or 2xx carries the request's Record-Route (RFC 3261 §12.1.1), as Kamailio's t_reply does.
  const buf = buildResponse(req, status, reason, { toTag, headers: opts?.headers, body: opts?.body, copyRecordRoute: true });
  // Read before send(): a final response releases the parsed request.
  const awaitAck = late2xx ? ackKey(req.callId, req.cseq.seq, req.from.tag, toTag ?? req.to.tag) : undefined;
  const sent = st.send(status, buf);
  if (awaitAck !== undefined) st.awaitAck(awaitAck, true);
  if (status >= 200) afterFinal(ctx, st);
  return sent;
}

/** Forwards a response received on a branch, with `verdictBuf` (from onReply) or our Via removed. */
export function forwardResponse(
  ctx: TmContext,
  st: ServerTransaction,
  res: SipMessageLike,
  verdictBuf: Buffer | undefined,
): boolean {
  const built = verdictBuf ?? res.rewrite({ removeTopVia: true });
  const buf = relayedWithoutForeignFeedback(built);
  const sent = st.send(res.status, buf);
  if (st.isInvite && res.status >= 200 && res.status < 300) {
    // Its end-to-end ACK passes through us (record-routed) and shortens the wait; see acked().
    st.awaitAck(ackKey(res.callId, res.cseq.seq, res.from.tag, res.to.tag), false);
  }
  if (res.status >= 200) afterFinal(ctx, st);
  return sent;
}

/** A final went upstream: the suspension (if any) ends and pending branches are cancelled. */
export function afterFinal(ctx: TmContext, st: ServerTransaction): void {
  if (st.suspension !== undefined) endSuspension(ctx, st);
  for (const b of st.branches) if (b.isPending) requestCancel(ctx, b);
}

/**
 * Marks a pending INVITE branch for cancelling; the CANCEL goes at once when the branch has a
 * provisional, else when one arrives (RFC 3261 §9.1; Kamailio cancel_b_method 1).
 */
export function requestCancel(ctx: TmContext, ct: ClientTransaction): void {
  if (!ct.isInvite || ct.cancelSent) return;
  ct.cancelRequested = true;
  if (ct.state === "proceeding") sendCancel(ctx, ct);
}

/** Sends a CANCEL for `ct` as its own client transaction (same branch, method CANCEL). */
export function sendCancel(ctx: TmContext, ct: ClientTransaction): void {
  if (ct.cancelSent) return;
  ct.cancelSent = true;
  const buf = ct.buildCancel();
  if (buf === undefined) {
    ctx.logger.warn({ branch: ct.branchId }, "tm: cannot build CANCEL for branch");
    return;
  }
  const c = new ClientTransaction(ctx, ct.st, "cancel", ct.branchId, "CANCEL", ct.dest, buf);
  if (!c.start()) countError(ctx, "ERR_TRANSPORT_SEND_FAILED");
}

/**
 * No branch is pending and nothing final went upstream: send the best final response of the
 * failed branches (6xx first, else the lowest class), plus `extra` (a local failure such as a
 * suspension 408). A cancelled INVITE gets 487 instead of a local 408.
 */
export function sendBest(ctx: TmContext, st: ServerTransaction, extra?: { status: number; reason: string }): void {
  if (st.isFinal || st.isTerminated) return;
  let best: ClientTransaction | undefined;
  let bestStatus = extra?.status ?? 0;
  for (const b of st.branches) {
    if (b.lastStatus < 300) continue;
    if (bestStatus === 0 || better(b.lastStatus, bestStatus)) {
      best = b;
      bestStatus = b.lastStatus;
    }
  }
  const lines = st.keptReplyLines && { headers: st.keptReplyLines };
  if (best?.response !== undefined) {
    if (best.response.status !== 503 || !ctx.opts.remap503) forwardResponse(ctx, st, best.response, best.forwardBuf);
    else {
      // A server's 503 means that server cannot serve; passed on, it would tell the caller this
      // router cannot either (RFC 3261 §16.7 step 6, §21.5.4). Kamailio's reason, not the server's text.
      ctx.stats.remapped503++;
      replyLocal(ctx, st, 500, "Service Unavailable", lines);
    }
    return;
  }
  if (st.isCancelled) replyLocal(ctx, st, 487, "Request Terminated", lines);
  else if (bestStatus === 0) replyLocal(ctx, st, 500, "Server Error", lines);
  else replyLocal(ctx, st, bestStatus, best === undefined ? (extra?.reason ?? "Request Timeout") : best.localReason, lines);
}

function better(a: number, b: number): boolean {
  const ca = Math.floor(a / 100);
  const cb = Math.floor(b / 100);
  if (ca === 6 || cb === 6) return ca === 6 && cb !== 6;
  return ca < cb;
}
