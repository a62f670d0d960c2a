// The route context as users see it, one interface per route kind, so a function that makes no
// sense in a route kind is absent from its type (misuse fails at compile time). One class
// (RouteContext) implements them all at run time.
import type { Logger } from "pino";
import type { SipMessageLike } from "../sip/types.js";
import type { Source } from "../transport/types.js";
import type { PvValue } from "./pv-registry.js";
import type { TransactionId } from "./transaction-user.js";

export type RouteKind = "request" | "reply" | "failure" | "branch" | "event";

/** xlog levels, Kamailio spelling. */
export type XlogLevel = "L_ALERT" | "L_BUG" | "L_CRIT" | "L_ERR" | "L_WARN" | "L_NOTICE" | "L_INFO" | "L_DBG";

/** Kamailio's json module: top-level fields of a JSON object text. */
export interface JsonApi {
  /**
   * json_get_field: sets `dst` (a pseudo-variable spec) to the field as JSON text, so a string comes
   * back quoted (`"abc"`); false when the text is not a JSON object or has no such field.
   * @example ctx.json.getField(ctx.evapi.msg, "action", "$var(action)")
   */
  getField(json: string, field: string, dst: string): boolean;
  /** json_get_string: as getField, a string without its quotes. */
  getString(json: string, field: string, dst: string): boolean;
}

/** Kamailio's jansson module: paths like "a.b[1].c". */
export interface JanssonApi {
  /**
   * jansson_get: sets `dst` to the value at `path` (strings bare, integers as numbers, booleans 1/0,
   * objects and arrays as compact JSON, JSON null as null); false when the path does not resolve.
   * @example ctx.jansson.get("tm_trans.tm_index", ctx.evapi.msg, "$var(t_index)")
   */
  get(path: string, json: string, dst: string): boolean;
  /**
   * jansson_set: puts a value of `type` (string|str, integer|int, real, true, false, null,
   * object|obj, array) at `path` in the JSON held by `dst` ("{}" when it holds none), creating the
   * objects on the way, and writes the result back to `dst`; false when it cannot.
   */
  set(type: string, path: string, value: string, dst: string): boolean;
  /** jansson_append: as set, appending to the array (or merging into the object) at `path`. */
  append(type: string, path: string, value: string, dst: string): boolean;
}

/** What every route kind has. */
export interface BaseContext {
  /** Kamailio's json module functions. */
  readonly json: JsonApi;
  /** Kamailio's jansson module functions. */
  readonly jansson: JanssonApi;
  readonly kind: RouteKind;
  /** The server's pino logger. */
  readonly log: Logger;
  /**
   * Reads a pseudo-variable by its Kamailio spelling.
   * @example ctx.pv("$fU") // caller user
   */
  pv(name: string): PvValue;
  /**
   * Writes a writable pseudo-variable (`$ru $rU $rd $rp $du $var(x) $shv(x)` and module ones).
   * @example ctx.setPv("$du", "sip:10.0.0.2:5060")
   */
  setPv(name: string, value: PvValue): void;
  /**
   * Expands a Kamailio-style format string.
   * @example ctx.fmt("call from $fU to $rU")
   */
  fmt(template: string): string;
  /** Logs a formatted line (Kamailio xlog): `xlog(text)` or `xlog(level: XlogLevel, text)`; L_INFO by default. */
  xlog(levelOrText: string, text?: string): void;
  /** Runs a named route (`route(NAME)`); returns its promise when it is async. */
  route(name: string): void | Promise<void>;
  /**
   * Ends the whole script (Kamailio `exit`), from any depth: it unwinds by throwing a sentinel the
   * route runner catches. In the top-level route itself, `return` ends the script the same way and is
   * cheaper: V8 never optimises a function that only ever leaves by throwing (docs/load.md).
   */
  exit(): never;
  /** Ends the whole script and, in a reply route, drops the reply (Kamailio `drop`). */
  drop(): never;
  /**
   * Holds the named lock across `await` (cfgutils `lock`).
   * @throws LockError ERR_LOCK_BUSY when `locks.maxWaiters` runs already wait for the name,
   *   ERR_LOCK_TIMEOUT when it was not released within `locks.waitTimeout` ms.
   */
  lock(name: string): Promise<void>;
  /**
   * Releases the named lock (cfgutils `unlock`), whichever run took it. After this run's own lock
   * of the name was refused, the next unlock of it is a no-op: the run never held it.
   */
  unlock(name: string): void;
  /** Runs fn under the named lock, releasing it even on throw. */
  withLock<T>(name: string, fn: () => T | Promise<T>): Promise<T>;
}

/** Routes that have a SIP message. */
export interface SipContext extends BaseContext {
  /** The SIP message: the request in request/failure/branch routes, the response in reply routes. */
  readonly msg: SipMessageLike;
  /** Where the message came from. */
  readonly src: Source;
  /** True when the To header has a tag (an in-dialog request). */
  hasToTag(): boolean;
  /** True when the method is one of `methods` (case-sensitive, as SIP). */
  isMethod(...methods: string[]): boolean;
  /**
   * Appends header lines to the message this route passes on (Kamailio textops append_hf): the
   * request a request, failure or continue route relays or forwards, the reply a reply route lets
   * through. Never to a reply evsip sends itself (that is {@link RequestContext.appendToReply}).
   * `text` is `"Name: value"`, several lines joined by CRLF allowed, a last CRLF optional; false
   * (nothing added) when a line is not a header. Lines the request route added before relaying
   * also go on the branches its failure and continue routes relay.
   * @example ctx.appendHeader("X-Account: 42")
   */
  appendHeader(text: string): boolean;
  /**
   * Removes every line of header `name` from the message this route passes on (textops
   * remove_hf; compact forms match); returns how many lines the message had (0: none). Lines
   * appended by the route stay.
   */
  removeHeader(name: string): number;
  /**
   * Sets message flag `n` (0..31; Kamailio setflag, `$mf`); false when n is out of range. Once the
   * request has a transaction the flags travel with it: what the request route set when it
   * relayed (or created or suspended the transaction) is what the transaction's failure, armed
   * reply (tm.onReply) and continue routes see, and what those set, the next of them sees. The
   * global reply route starts with none, as Kamailio's core onreply_route.
   * @example ctx.setFlag(1); ctx.tm.onFailure("MISSED"); ctx.tm.relay();
   */
  setFlag(n: number): boolean;
  /** Clears message flag `n` (Kamailio resetflag); false when n is out of range. */
  resetFlag(n: number): boolean;
  /** Whether message flag `n` is set (Kamailio isflagset). */
  isFlagSet(n: number): boolean;
  /**
   * Sets branch flag `n` (0..31; Kamailio setbflag for branch 0, `$bf`). evsip keeps one set of
   * branch flags per transaction, shared as the message flags are.
   */
  setBranchFlag(n: number): boolean;
  /** Clears branch flag `n` (Kamailio resetbflag). */
  resetBranchFlag(n: number): boolean;
  /** Whether branch flag `n` is set (Kamailio isbflagset). */
  isBranchFlagSet(n: number): boolean;
}

/** Stateless reply (sl module). */
export interface SlApi {
  /**
   * Sends a reply statelessly; a To-tag is added, and the ACK to a non-2xx reply is absorbed.
   * @example ctx.sl.sendReply(404, "Not Found")
   */
  sendReply(code: number, reason: string): boolean;
}

/** maxfwd module. */
export interface MaxfwdApi {
  /**
   * Kamailio mf_process_maxfwd_header: adds Max-Forwards: limit when absent, returns false when the
   * value is 0 (the script answers 483), true otherwise.
   */
  process(limit?: number): boolean;
}

/** ctx.rr: record-routing and loose routing (Kamailio rr module). */
export interface RrApi {
  /** record_route: adds a Record-Route (two when bridging UDP and TCP) to what relay/forward sends. */
  recordRoute(): boolean;
  /** loose_route: true when the request had a Route set naming us; the next hop is set. */
  looseRoute(): boolean;
  /**
   * is_direction: after looseRoute(), whether the request flows from the caller ("downstream":
   * the From tag is the one recorded as `ftag` in our Record-Route) or from the callee
   * ("upstream"). Without an ftag, downstream, as Kamailio.
   */
  isDirection(dir: "downstream" | "upstream"): boolean;
}

/** ctx.tm: stateful processing. */
export interface TmApi {
  /** t_newtran: creates the server transaction; false when the limit refused it (503 sent). */
  newTran(): boolean;
  /** t_reply: stateful reply (creates the transaction if needed). */
  reply(code: number, reason: string): boolean;
  /** t_relay: stateful forward to `target`, else $du, else the Request-URI. */
  relay(target?: string): boolean;
  /** t_on_reply: named route run for each response of this transaction's branches. */
  onReply(route: string): void;
  /** t_on_failure: named route run when a branch ends with a negative final response or times out. */
  onFailure(route: string): void;
  /** t_suspend: holds the transaction; undefined when it was cancelled or already answered. */
  suspend(): TransactionId | undefined;
  /**
   * Ends a suspension started by suspend() without answering (for an event that could not be
   * sent after all); the route then replies or relays itself. False when nothing was suspended.
   */
  unsuspend(): boolean;
  /**
   * t_continue: resumes a suspended transaction in route `route`; false for unknown, finished or
   * not suspended transactions and unknown routes. Accepts numbers or decimal strings. The route
   * runs before this returns and shares this route's `$var` values both ways, as in Kamailio
   * (docs/kamailio-differences.md#var-lifetime).
   */
  continue(index: number | string, label: number | string, route: string): boolean;
  /**
   * Holds the transaction while `promise` settles (creating it if needed, so retransmissions are
   * absorbed); rejects with TransactionError ERR_TM_TIMEOUT after min(timeout, frTimer) or
   * ERR_TM_CANCELLED on CANCEL.
   */
  hold<T>(promise: Promise<T>, opts?: { timeout?: number }): Promise<T>;
  /** The current transaction's identifiers, if there is one. */
  id(): TransactionId | undefined;
  /**
   * t_is_canceled: true once the caller has cancelled this transaction. A failure route runs for
   * a cancelled call too (its branch answered 487): check this before trying another destination.
   * @example if (ctx.tm.isCancelled()) return; // failure route: the caller gave up
   */
  isCancelled(): boolean;
}
