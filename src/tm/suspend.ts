// Kamailio t_suspend / t_continue (docs/tm.md) and the awaitable hold() built on the
// same suspension: a timer of min(timeout, fr_timer) standing for Kamailio's "blind UAC" branch,
// continue() lookups by (index, label) that refuse unknown, finished and not-suspended ones.
import { TransactionError } from "../errors.js";
import { countError, timer, type TmContext } from "./context.js";
import type { ServerTransaction } from "./server-transaction.js";
import { parseIdent, TM_TABLE_SIZE } from "./transaction-id.js";

/**
 * Told when a suspension ends, however it ends (continued, answered, timed out, cancelled, or the
 * transaction gone): a module that keeps something per suspended transaction, such as the event
 * it waits on, lets go of it then. One object per module, not a closure per suspension.
 */
export interface SuspensionWatcher {
  suspensionEnded(index: number, label: number): void;
}

/** hold()'s options: the caller's own `timeout` (ms), and who is told when the hold ends. */
export interface HoldOptions {
  timeout?: number;
  watcher?: SuspensionWatcher;
}

/** A live suspension of one server transaction. */
export class Suspension {
  /** Set by hold(): settles the awaiting route. */
  settle: ((err: Error | undefined) => void) | undefined;
  /** Set by suspend()'s caller: told when this suspension ends. */
  watcher: SuspensionWatcher | undefined;
  private handle: NodeJS.Timeout | undefined;

  constructor(ms: number, onTimeout: () => void) {
    this.handle = timer(ms, () => {
      this.handle = undefined;
      onTimeout();
    });
  }

  /** Stops the timer and settles a hold() with `err` (or lets it resolve later when undefined). */
  end(err?: Error): void {
    if (this.handle !== undefined) clearTimeout(this.handle);
    this.handle = undefined;
    if (err !== undefined && this.settle !== undefined) {
      const s = this.settle;
      this.settle = undefined;
      s(err);
    }
  }
}

/** Ends st's suspension (if any), settling a pending hold() with `err`. */
export function endSuspension(ctx: TmContext, st: ServerTransaction, err?: Error): void {
  const s = st.suspension;
  if (s === undefined) return;
  st.suspension = undefined;
  ctx.stats.suspended--;
  s.end(err);
  s.watcher?.suspensionEnded(st.index, st.label);
}

/** t_suspend. undefined when the transaction is gone, cancelled or finally replied. */
export function suspend(
  ctx: TmContext,
  st: ServerTransaction,
  timeoutMs?: number,
  onTimeout?: () => void,
  watcher?: SuspensionWatcher,
): { index: number; label: number } | undefined {
  if (st.isTerminated || st.isCancelled || st.isFinal) {
    countError(ctx, st.isCancelled ? "ERR_TM_CANCELLED" : "ERR_TM_ALREADY_REPLIED");
    return undefined;
  }
  if (st.suspension !== undefined) endSuspension(ctx, st);
  ctx.trying.schedule(st, false);
  const ms = Math.min(timeoutMs ?? ctx.opts.frTimer, ctx.opts.frTimer);
  st.suspension = new Suspension(ms, onTimeout ?? (() => ctx.onSuspendTimeout(st)));
  st.suspension.watcher = watcher;
  ctx.stats.suspended++;
  return { index: st.index, label: st.label };
}

/** A transaction Kamailio would have on its wait timer: t_continue treats it as not found. */
function isFinished(st: ServerTransaction): boolean {
  const s = st.state;
  return s === "terminated" || s === "confirmed" || s === "accepted" || (!st.isInvite && s === "completed");
}

/** t_continue lookup. See TransactionLayer.continue. */
export function continueTx(ctx: TmContext, index: number | string, label: number | string): ServerTransaction | false {
  const i = parseIdent(index, TM_TABLE_SIZE - 1);
  const l = parseIdent(label, 0xffffffff);
  const st = i === undefined || l === undefined ? undefined : ctx.table.findByIdent(i, l);
  if (st === undefined || isFinished(st)) {
    countError(ctx, "ERR_TM_NOT_FOUND");
    ctx.logger.warn({ index, label }, "tm: continue: active transaction not found");
    return false;
  }
  if (st.cancelledWhileSuspended) {
    st.cancelledWhileSuspended = false;
    return st;
  }
  const s = st.suspension;
  if (s === undefined || s.settle !== undefined) {
    countError(ctx, "ERR_TM_NOT_SUSPENDED");
    ctx.logger.warn(
      { index, label, held: s !== undefined },
      s === undefined ? "tm: continue: transaction is not suspended" : "tm: continue: transaction is held by an awaiting route",
    );
    return false;
  }
  endSuspension(ctx, st);
  return st;
}

/** See TransactionLayer.hold. */
export function hold<T>(ctx: TmContext, st: ServerTransaction, promise: Promise<T>, opts: HoldOptions): Promise<T> {
  // The caller's own timeout (shorter than fr_timer) only rejects the await: the route keeps the
  // transaction and answers it itself. fr_timer keeps Kamailio's 408 + failure route.
  const own = opts.timeout !== undefined && opts.timeout < ctx.opts.frTimer;
  const ids = suspend(
    ctx,
    st,
    opts.timeout,
    own
      ? () => {
          ctx.stats.timeouts++;
          endSuspension(ctx, st, new TransactionError("ERR_TM_TIMEOUT", `tm: no answer within ${opts.timeout} ms`));
        }
      : undefined,
    opts.watcher,
  );
  const s = st.suspension;
  if (ids === undefined || s === undefined) {
    const code = st.isCancelled ? "ERR_TM_CANCELLED" : st.isTerminated ? "ERR_TM_NOT_FOUND" : "ERR_TM_ALREADY_REPLIED";
    promise.catch(() => undefined); // the caller's promise is abandoned; never let it reject unhandled
    return Promise.reject(new TransactionError(code, `tm: cannot hold transaction (${code})`));
  }
  return new Promise<T>((resolve, reject) => {
    let done = false;
    s.settle = (err) => {
      if (done) return;
      done = true;
      if (err !== undefined) reject(err);
    };
    promise.then(
      (v) => {
        if (done) return;
        done = true;
        s.settle = undefined;
        if (st.suspension === s) endSuspension(ctx, st);
        resolve(v);
      },
      (e: unknown) => {
        if (done) return;
        done = true;
        s.settle = undefined;
        if (st.suspension === s) endSuspension(ctx, st);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
