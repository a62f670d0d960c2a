// What every part of the transaction layer shares: the transport, logger, resolved options, callbacks,
// counters and tables, plus the layer's reactions to timers, so transaction objects can fire them
// without importing the layer (one TmContext per TransactionLayer; no module-level state).
import type { Logger } from "pino";
import type { ErrorCode } from "../errors.js";
import type { RateLimitedLog } from "../common/rate-limited-log.js";
import type { ClientTransaction } from "./client-transaction.js";
import type { ServerTransaction } from "./server-transaction.js";
import type { TransactionTable } from "./transaction-table.js";
import type { TryingQueue } from "./trying.js";
import type { DownstreamOverload } from "./downstream-overload.js";
import type { ResolvedTmOptions, TmCallbacks, TmTransport } from "./types.js";

/** Counters of a TransactionLayer, read by the metrics exporter. Plain fields, updated in place. */
export interface TmStats {
  /** Server transactions alive now (including CANCEL transactions). */
  serverTransactions: number;
  /** Client transactions alive now (branches and our CANCELs). */
  clientTransactions: number;
  /** Transactions suspended now (suspend() or hold()). */
  suspended: number;
  /** Server transactions created since start. */
  created: number;
  /** Requests that matched an existing server transaction (never routed again). */
  retransmissionsAbsorbed: number;
  /** Requests and responses tm re-sent on Timers A, E and G, or on a retransmitted request. */
  retransmissionsSent: number;
  /** create() refusals past maxTransactions. */
  limitRejected: number;
  /** Local 408s: branch timeouts and suspension timeouts. */
  timeouts: number;
  /** INVITE transactions cancelled by a CANCEL. */
  cancelled: number;
  /** Requests evsip sent on its own (TransactionLayer.request: a dialog's BYE or OPTIONS). */
  localRequests: number;
  /** Responses that matched no client transaction. */
  responsesUnmatched: number;
  /** New requests held back from a server that asked for less (RFC 7339), each answered by a local 503. */
  heldBack: number;
  /** A server's 503 that was the best final, sent upstream as a 500 instead (remap503, RFC 3261 §16.7 step 6). */
  remapped503: number;
  /** Servers relayed to that ask for less new work now (RFC 7339; a lapse is seen within a second). */
  downstreamReducing: number;
  /** Refused operations and hook failures, by code. */
  errors: Map<ErrorCode, number>;
}

export function newTmStats(): TmStats {
  return {
    serverTransactions: 0,
    clientTransactions: 0,
    suspended: 0,
    created: 0,
    retransmissionsAbsorbed: 0,
    retransmissionsSent: 0,
    limitRejected: 0,
    timeouts: 0,
    cancelled: 0,
    localRequests: 0,
    responsesUnmatched: 0,
    heldBack: 0,
    remapped503: 0,
    downstreamReducing: 0,
    errors: new Map(),
  };
}

export interface TmContext {
  readonly transport: TmTransport;
  readonly logger: Logger;
  /** For failures a flood could repeat per message (a hook's bug, a peer gone): lines per code and kind, bounded. */
  readonly log: RateLimitedLog;
  readonly opts: ResolvedTmOptions;
  readonly callbacks: TmCallbacks;
  readonly stats: TmStats;
  readonly table: TransactionTable;
  /** When each automatic 100 Trying leaves (trying.ts). */
  readonly trying: TryingQueue;
  /** The feedback of the servers tm relays to (RFC 7339); undefined when overloadControl is off. */
  readonly downstream: DownstreamOverload | undefined;
  /** A branch got no final response in time (Timer B/F, fr_timer, fr_inv_timer). */
  onBranchTimeout(ct: ClientTransaction): void;
  /** A suspension ran past its limit (frTimer or a hold() timeout). */
  onSuspendTimeout(st: ServerTransaction): void;
  /** maxInviteLifetime / maxNonInviteLifetime elapsed since creation. */
  onLifetimeExpired(st: ServerTransaction): void;
}

/** Counts a refused operation or a hook failure under its code. */
export function countError(ctx: TmContext, code: ErrorCode): void {
  ctx.stats.errors.set(code, (ctx.stats.errors.get(code) ?? 0) + 1);
}

/**
 * A hook of the transaction user (its reply, failure or cancel route runs, a local request's
 * callback) threw or rejected: a bug of ours, as route errors are handled in the routes. Counted and
 * logged with its code; the transaction goes on as if the hook had not run.
 */
export function hookFailed(ctx: TmContext, err: unknown, hook: string, st?: { index: number; label: number }): void {
  countError(ctx, "ERR_TM_OBSERVER_THREW");
  // A bug hit by every message would otherwise log a stack per message: the budget is per hook.
  ctx.log.log("error", "ERR_TM_OBSERVER_THREW", `tm: ${hook} failed`, { err, hook, index: st?.index, label: st?.label }, hook);
}

/** A timer that never keeps the process alive (the sockets do). */
export function timer(ms: number, fn: () => void): NodeJS.Timeout {
  const t = setTimeout(fn, ms);
  t.unref();
  return t;
}
