// What tm does with a response on a branch and with its timers: state first (stop retransmitting,
// ACK a ≥ 300, CANCEL when wanted), then in order per transaction the onReply hook and forwarding
// upstream (RFC 3261 §16.7), and the failure route when the last pending branch fails (§16.7 step 6).
import { TransactionError } from "../errors.js";
import type { SipMessageLike } from "../sip/types.js";
import type { ClientTransaction } from "./client-transaction.js";
import { hookFailed, type TmContext } from "./context.js";
import { responseKey } from "./match-key.js";
import { forwardResponse, replyLocal, requestCancel, sendBest, sendCancel } from "./reply.js";
import type { ServerTransaction } from "./server-transaction.js";
import { endSuspension } from "./suspend.js";
import type { ReplyVerdict, TmFailure, TmSource } from "./types.js";

type Work = () => void | Promise<void>;

function isPromise<T>(v: unknown): v is Promise<T> {
  return typeof (v as { then?: unknown } | null | undefined)?.then === "function";
}

/** Runs `work` now, or after the hook work already queued on `st`, keeping responses in order. */
export function runSerial(ctx: TmContext, st: ServerTransaction, work: Work): void {
  const fail = (e: unknown): void => {
    hookFailed(ctx, e, "queued hook", st);
  };
  if (st.queue === undefined) {
    let r: void | Promise<void>;
    try {
      r = work();
    } catch (e) {
      fail(e);
      return;
    }
    if (!isPromise(r)) return;
    const p: Promise<void> = r.catch(fail);
    st.queue = p;
    void p.then(() => {
      if (st.queue === p) st.queue = undefined;
    });
    return;
  }
  const p: Promise<void> = st.queue.then(work).catch(fail);
  st.queue = p;
  void p.then(() => {
    if (st.queue === p) st.queue = undefined;
  });
}

/** See TransactionLayer.handleResponse. */
export function handleResponse(ctx: TmContext, res: SipMessageLike, src?: TmSource): "absorbed" | "unmatched" {
  const key = responseKey(res);
  const ct = key === undefined ? undefined : ctx.table.findClient(key);
  if (ct === undefined) {
    // A late copy of an ended branch's final is absorbed, except an INVITE 2xx: that may be another
    // fork's answer or a re-send after a lost ACK, and every 2xx goes upstream (RFC 6026), here
    // statelessly as core forwards any unmatched response.
    const invite2xx = res.status >= 200 && res.status < 300 && res.cseq.method === "INVITE";
    if (key !== undefined && !invite2xx && ctx.table.isClientTombstone(key)) return "absorbed";
    ctx.stats.responsesUnmatched++;
    return "unmatched";
  }
  // Our Via is on top: a server in overload says there how much less it wants (RFC 7339).
  ctx.downstream?.note(ct.dest, res.topVia);
  const status = res.status;
  const st = ct.st;
  if (ct.kind === "cancel" || st === undefined) {
    if (status < 200) ct.provisional(status);
    else if (ct.final(res) && ct.kind === "local") settleLocal(ctx, ct, status, res);
    return "absorbed";
  }
  if (status < 200) {
    ct.provisional(status);
    if (ct.cancelRequested) sendCancel(ctx, ct);
  } else if (!ct.final(res) && !(ct.isInvite && status < 300)) {
    return "absorbed"; // retransmitted final: ACK re-sent by ct.final; 2xx retransmissions still go up
  }
  runSerial(ctx, st, () => onReply(ctx, st, ct, res, src));
  return "absorbed";
}

/** A local request's outcome goes to its callback, once; a callback that throws is logged. */
function settleLocal(ctx: TmContext, ct: ClientTransaction, status: number, res: SipMessageLike | undefined): void {
  const done = ct.onLocalFinal;
  ct.onLocalFinal = undefined;
  try {
    done?.(status, res);
  } catch (e) {
    hookFailed(ctx, e, "local request callback");
  }
}

function onReply(
  ctx: TmContext,
  st: ServerTransaction,
  ct: ClientTransaction,
  res: SipMessageLike,
  src: TmSource | undefined,
): void | Promise<void> {
  const callbacks = ctx.callbacks;
  if (callbacks.onReply === undefined) return afterReply(ctx, st, ct, res, undefined);
  let v: ReplyVerdict | Promise<ReplyVerdict>;
  try {
    v = callbacks.onReply(st, ct, res, src);
  } catch (e) {
    hookFailed(ctx, e, "onReply hook", st);
    v = undefined;
  }
  if (!isPromise<ReplyVerdict>(v)) return afterReply(ctx, st, ct, res, v);
  return v.then(
    (r) => afterReply(ctx, st, ct, res, r),
    (e: unknown) => {
      hookFailed(ctx, e, "onReply hook", st);
      return afterReply(ctx, st, ct, res, undefined);
    },
  );
}

function afterReply(
  ctx: TmContext,
  st: ServerTransaction,
  ct: ClientTransaction,
  res: SipMessageLike,
  verdict: ReplyVerdict,
): void | Promise<void> {
  const status = res.status;
  const buf = Buffer.isBuffer(verdict) ? verdict : undefined;
  if (status === 100) return; // hop by hop (RFC 3261 §16.7 step 5)
  if (status < 200) {
    if (verdict !== "drop" && !st.isFinal) forwardResponse(ctx, st, res, buf);
    return;
  }
  if (status < 300) {
    forwardResponse(ctx, st, res, buf);
    return;
  }
  ct.forwardBuf = buf;
  if (st.hasPending) return;
  return runFailure(ctx, st, { cause: "reply", status, reason: res.reason, branch: ct, response: res });
}

/**
 * The failure route: the hook may relay, reply or suspend; when it leaves neither a final reply
 * nor a pending branch, the best final response goes upstream.
 */
export function runFailure(ctx: TmContext, st: ServerTransaction, f: TmFailure): void | Promise<void> {
  if (st.isFinal || st.isTerminated || st.hasPending) return;
  const callbacks = ctx.callbacks;
  const extra = f.branch === undefined ? { status: f.status, reason: f.reason } : undefined;
  if (callbacks.onFailure === undefined) return sendBest(ctx, st, extra);
  st.inFailure = true;
  const after = (): void => {
    st.inFailure = false;
    if (st.isFinal || st.isTerminated || st.hasPending) return;
    sendBest(ctx, st, extra);
  };
  let r: void | Promise<void>;
  try {
    r = callbacks.onFailure(st, f);
  } catch (e) {
    hookFailed(ctx, e, "onFailure hook", st);
    return after();
  }
  if (!isPromise(r)) return after();
  return r.then(after, (e: unknown) => {
    hookFailed(ctx, e, "onFailure hook", st);
    after();
  });
}

/** Timer B/F, fr_timer or fr_inv_timer fired on a pending branch: local 408, CANCEL if it rang. */
export function onBranchTimeout(ctx: TmContext, ct: ClientTransaction): void {
  if (ct.kind === "cancel") {
    ct.terminate();
    return;
  }
  const rang = ct.state === "proceeding";
  ctx.stats.timeouts++;
  ct.timeout();
  if (ct.isInvite && rang) sendCancel(ctx, ct);
  const st = ct.st;
  if (st === undefined) {
    settleLocal(ctx, ct, 408, undefined);
    return;
  }
  runSerial(ctx, st, () => {
    if (st.hasPending) return;
    return runFailure(ctx, st, { cause: "timeout", status: 408, reason: "Request Timeout", branch: ct, response: undefined });
  });
}

/** The suspension (Kamailio's blind branch) ran past its limit: local 408 and the failure route. */
export function onSuspendTimeout(ctx: TmContext, st: ServerTransaction): void {
  ctx.stats.timeouts++;
  endSuspension(ctx, st, new TransactionError("ERR_TM_TIMEOUT", "tm: suspended transaction timed out"));
  runSerial(ctx, st, () =>
    runFailure(ctx, st, {
      cause: "suspend-timeout",
      status: 408,
      reason: "Request Timeout",
      branch: undefined,
      response: undefined,
    }),
  );
}

/** max_inv_lifetime / max_noninv_lifetime: a transaction with no final reply gets 408, branches are cancelled. */
export function onLifetimeExpired(ctx: TmContext, st: ServerTransaction): void {
  if (st.isFinal || st.isTerminated) return;
  ctx.stats.timeouts++;
  endSuspension(ctx, st, new TransactionError("ERR_TM_TIMEOUT", "tm: transaction lifetime expired"));
  for (const b of st.branches) if (b.isPending) requestCancel(ctx, b);
  if (!replyLocal(ctx, st, 408, "Request Timeout")) st.terminate();
}
