// The seam between the routing engine and stateful processing. RFC 3261 §17 calls the layer above
// the transactions the *transaction user*: it decides what a request means, runs the routes, and
// keeps the script's state per transaction. core declares what it needs from one here; src/tu/
// implements it on top of src/tm/. The engine receives its transaction user at construction, and
// modules reach it typed through ModuleHost.tm (Kamailio's load_tm_api), never by casting ctx.
import type { SipMessageLike } from "../sip/types.js";
import type { HoldOptions, ServerTransaction, SuspensionWatcher, TmStats } from "../tm/index.js";
import type { Source } from "../transport/types.js";
import type { RouteContext } from "./context.js";
import type { RouteFn } from "./engine.js";

export type { SuspensionWatcher };

/** Transaction identifiers ($T(id_index), $T(id_label)). */
export interface TransactionId {
  readonly index: number;
  readonly label: number;
}

/**
 * What a module may observe of every transaction (Kamailio's tm callbacks), for state that lives
 * beside the transactions, such as dialogs. Each callback runs synchronously and must not throw;
 * one that does is logged and the others still run.
 */
export interface TransactionObserver {
  /** A new request (not a retransmission) about to run the request route. */
  request?(ctx: RouteContext): void;
  /** A response received on a branch of `st`, before the reply routes run. */
  response?(st: ServerTransaction, res: SipMessageLike): void;
  /**
   * A valid response that matched no transaction, before the reply route and the stateless
   * forwarding by Via: after a restart, the callee's retransmitted 2xx of an INVITE whose
   * transaction died with the old process.
   */
  strayResponse?(res: SipMessageLike): void;
  /** A response sent upstream on `st`, local or relayed (its bytes are st.lastResponse). */
  sent?(st: ServerTransaction, status: number): void;
  /** `st` left the transaction table. */
  ended?(st: ServerTransaction): void;
}

/**
 * A request the router sends on its own within a dialog it tracks (Kamailio's t_request_within):
 * a BYE or an OPTIONS keepalive towards one side. The caller picks the side's values; the
 * transaction user adds our Via, Max-Forwards and Content-Length, drops the Route entries up to
 * the last one that points at this router, and sends to the next Route (loose routing) or
 * else the Request-URI.
 */
export interface InDialogRequest {
  readonly method: "BYE" | "OPTIONS";
  /** The remote target: the other side's Contact value as received; its URI is the Request-URI. */
  readonly remoteTarget: string;
  /**
   * The route set towards that side, as the other side's UA holds it (RFC 3261 §12.1): the 2xx's
   * Record-Route values reversed towards the callee, in received order towards the caller.
   */
  readonly routeSet: readonly string[];
  readonly callId: string;
  /** From and To values with their tags, as seen from the sender. */
  readonly from: string;
  readonly to: string;
  readonly cseq: number;
}

/** The outcome of an InDialogRequest: the final status (408 on timeout, 0 when it could not be sent). */
export interface InDialogOutcome {
  readonly status: number;
  readonly reason: string;
}

/**
 * Stateful processing as modules see it (Kamailio's tm API), on the context of a route run.
 * Every function that takes `ctx` creates the transaction when it needs one.
 */
export interface TransactionApi {
  /** t_newtran: false when the limit refused it (503 sent). */
  newTran(ctx: RouteContext): boolean;
  /** t_reply: a stateful reply. */
  reply(ctx: RouteContext, code: number, reason: string): boolean;
  /** t_relay: a stateful forward to `target`, else $du, else the Request-URI. */
  relay(ctx: RouteContext, target?: string): boolean;
  /** t_on_reply: arms a named route for the responses of ctx's transaction. */
  onReply(ctx: RouteContext, route: string): void;
  /** t_on_failure: arms a named route for a negative outcome of ctx's transaction. */
  onFailure(ctx: RouteContext, route: string): void;
  /**
   * t_suspend: undefined when the transaction is cancelled, answered, or refused (503 sent).
   * `watcher` is told when the suspension ends, however it ends.
   */
  suspend(ctx: RouteContext, watcher?: SuspensionWatcher): TransactionId | undefined;
  /** Ends a plain suspension of ctx's transaction without answering; false when none. */
  unsuspend(ctx: RouteContext): boolean;
  /**
   * t_continue: runs `route` (a named route of the app, or a route function) on the suspended
   * transaction (index/label as numbers or decimal text); `setup` prepares the route's context
   * first (a result variable, say). False for an unknown route or an unknown, finished or not
   * suspended transaction.
   */
  continue(index: number | string, label: number | string, route: string | RouteFn, setup?: (ctx: RouteContext) => void): boolean;
  /** Quietly forgets ctx's transaction when it has no final reply and nothing pending (no response is sent). */
  release(ctx: RouteContext): void;
  /** Holds ctx's transaction while `promise` settles (see TmApi.hold); `watcher` as for suspend(). */
  hold<T>(ctx: RouteContext, promise: Promise<T>, opts?: HoldOptions): Promise<T>;
  /**
   * True while a hold() waits on ctx's transaction. Right after hold(), it says whether the hold
   * took: false when the transaction was cancelled, answered or could not be created, so that a
   * module sends nothing for a call that can no longer use the answer.
   */
  held(ctx: RouteContext): boolean;
  /** t_is_canceled: true once a CANCEL matched ctx's transaction (false when it has none). */
  isCancelled(ctx: RouteContext): boolean;
  /** The identifiers of ctx's transaction, if it has one. */
  id(ctx: RouteContext): TransactionId | undefined;
  /** Adds an observer of every transaction from now on. */
  observe(observer: TransactionObserver): void;
  /**
   * t_request_within: sends `req` in its own client transaction; `done` runs once with the
   * outcome. False (and `done` never runs) when no target or listener fits; a name target that
   * fails to resolve, or a send the transport refuses, ends with status 0.
   */
  requestWithin(req: InDialogRequest, done: (outcome: InDialogOutcome) => void): boolean;
}

/** What the engine asks of its transaction user for every message and route run. */
export interface TransactionUser extends TransactionApi {
  /** First stop for a valid request: "absorbed" when tm handled it (a retransmission, say). */
  receiveRequest(msg: SipMessageLike, src: Source): "absorbed" | "new";
  /** First stop for a valid response: "absorbed" when it matched a branch. */
  receiveResponse(msg: SipMessageLike, src: Source): "absorbed" | "unmatched";
  /** A new request's route is about to run (observers see it first). */
  beginRequest(ctx: RouteContext): void;
  /** Gives ctx a transaction (skipped at the limit) so retransmissions are absorbed while a route awaits. */
  adopt(ctx: RouteContext): void;
  /** A route failed: answers ctx's transaction with 500; false when ctx has none. */
  failRoute(ctx: RouteContext): boolean;
  /** Replies statefully when ctx has a transaction; undefined when it has none. */
  replyIfStateful(ctx: RouteContext, code: number, reason: string): boolean | undefined;
  /** Server transactions still without a final response. */
  readonly unfinished: number;
  /** Resolves when no server transaction is waiting for a final response. */
  whenIdle(): Promise<void>;
  /** Answers every transaction still without a final (a graceful stop ran out of time); how many. */
  answerUnfinished(status: number, reason: string, headers: readonly string[]): number;
  /** Counters of the transaction layer. */
  readonly stats: TmStats;
  /** Clears every timer and forgets every transaction. */
  stop(): void;
}
