// The shape of ctx.evapi (Kamailio's evapi_* functions and $evapi(...)), kept apart from the
// implementation so route-context types need not pull in the socket code.
import type { TransactionId } from "../../core/transaction-user.js";
import type { EvapiClientInfo } from "./connection.js";
import type { DecideOptions, DecisionResult } from "./decisions/decide.js";
import type { ApplyOptions } from "./decisions/apply-decision.js";
import type { Decision } from "./decisions/decision.js";

/** Event data: a string (sent as is) or an object (JSON.stringify'd once for every recipient). */
export type EvapiData = string | object;

/** Data of an async relay: as EvapiData, or built from the suspended transaction's id. */
export type EvapiAsyncData = EvapiData | ((t: TransactionId) => EvapiData);

/**
 * Options of relay, multicast, unicast and their async variants.
 */
export interface EvapiSendOptions {
  /**
   * The event's name, for clients that subscribed to events (`{"evsip":"events"}`): they receive it
   * only when one of their patterns selects it. Default: the `event` field of object data; string
   * data and data built by a function have no name unless given here. Clients that never
   * subscribed receive every event, named or not. 1-64 visible ASCII characters, no `*`.
   */
  readonly event?: string;
}

/** Options of {@link EvapiApi.request}. */
export interface EvapiRequestOptions extends EvapiSendOptions {
  /** Send to one client with this tag (per the `unicast` policy) instead of every client. */
  readonly tag?: string;
  /** Milliseconds to wait for the reply (capped by tm's frTimer). */
  readonly timeout?: number;
  /** Field carrying the transaction index, in the event and in the reply. Default "tindex". */
  readonly indexField?: string;
  /** Field carrying the transaction label, in the event and in the reply. Default "tlabel". */
  readonly labelField?: string;
}

/** ctx.evapi in every route kind (Kamailio's ANY_ROUTE functions). */
export interface EvapiAnyRouteApi {
  /** `$evapi(conidx)`: the event's client slot; -1 outside evapi event routes. */
  readonly conidx: number;
  /** `$evapi(srcaddr)`: the client's IP address; "" outside evapi event routes. */
  readonly srcaddr: string;
  /** `$evapi(srcport)`: the client's TCP port; 0 outside evapi event routes. */
  readonly srcport: number;
  /** `$evapi(msg)`: the received message in evapi:message-received; "" elsewhere. */
  readonly msg: string;
  /**
   * evapi_relay: sends to every connected client; returns how many it was queued to.
   * @example ctx.evapi.relay({ event: "call-start", ci: ctx.pv("$ci") })
   */
  relay(data: EvapiData, opts?: EvapiSendOptions): number;
  /** evapi_multicast: every client tagged exactly `tag` (case-sensitive). */
  multicast(data: EvapiData, tag: string, opts?: EvapiSendOptions): number;
  /** evapi_unicast: one client tagged `tag` (lowest conidx, or round-robin per the `unicast` param). */
  unicast(data: EvapiData, tag: string, opts?: EvapiSendOptions): number;
  /**
   * Applies a decision message (README "Decisions": allow, reject, drop or redirect, plus headers,
   * $var and $dlg_var) to the suspended transaction its tindex/tlabel name, in one call: the
   * transaction is continued with the decision. Default message: the received one (`msg`). A
   * refused decision (ERR_EVAPI_BAD_DECISION, ERR_EVAPI_UNKNOWN_TRANSACTION,
   * ERR_EVAPI_DECIDE_FORBIDDEN) is returned, counted, and answered to the client with a coded notice.
   * @example
   * events: { "evapi:message-received"(ctx) { ctx.evapi.decide({ allow: "ALLOW" }); } }
   */
  decide(opts?: DecideOptions): DecisionResult;
  /**
   * Producer backpressure: resolves at once while every client has room (at most half of
   * maxQueueBytes pending), else once every client that is reading is back under that mark. A
   * client that takes nothing for `slowClientGrace` ms (2 s by default) is not waited for, so one
   * that stops reading holds the producer for at most that long. Await it between the events of a
   * burst so that fast clients lose nothing.
   * @example for (const row of rows) { ctx.evapi.relay(row); await ctx.evapi.drain(); }
   */
  drain(): Promise<void>;
  /** evapi_close: closes the event's connection, or client `conidx`; no connection-closed route runs. */
  close(conidx?: number): boolean;
  /** evapi_set_tag (evapi event routes): at most 63 bytes; "" untags. False when refused. */
  setTag(name: string): boolean;
  /** Snapshot of the connected clients. */
  clients(): EvapiClientInfo[];
}

/**
 * ctx.evapi in request routes: adds the functions that suspend or hold the request's transaction
 * (elsewhere they throw ERR_EVAPI_NOT_REQUEST_ROUTE, so reply and event contexts do not offer them).
 */
export interface EvapiApi extends EvapiAnyRouteApi {
  /**
   * evapi_async_relay (request routes): suspends the transaction, then builds and sends the event.
   * With no client connected nothing is suspended and 0 is returned, so the route can answer at once;
   * the same when every client subscribed to events and none selects this one's name.
   * @example
   * if (ctx.evapi.asyncRelay((t) => ({ event: "auth", tindex: t.index, tlabel: t.label })) === 0) ctx.sl.sendReply(503, "No Auth Service");
   * ctx.exit();
   */
  asyncRelay(data: EvapiAsyncData, opts?: EvapiSendOptions): number;
  /** evapi_async_multicast (request routes). */
  asyncMulticast(data: EvapiAsyncData, tag: string, opts?: EvapiSendOptions): number;
  /** evapi_async_unicast (request routes). */
  asyncUnicast(data: EvapiAsyncData, tag: string, opts?: EvapiSendOptions): number;
  /**
   * Sends an event carrying the transaction's index and label and resolves with the parsed reply that
   * echoes them (request routes). The transaction is held meanwhile, so retransmissions are absorbed.
   * Rejects with EvapiError ERR_EVAPI_NO_CLIENT or ERR_EVAPI_TIMEOUT, or TransactionError ERR_TM_CANCELLED.
   * @example
   * const r = await ctx.evapi.request<{ allow: boolean }>({ event: "auth", from: ctx.pv("$fU") }, { timeout: 2000 });
   * if (r.allow) ctx.tm.relay(); else ctx.tm.reply(403, "Forbidden");
   */
  request<T = Record<string, unknown>>(data: object | ((t: TransactionId) => EvapiData), opts?: EvapiRequestOptions): Promise<T>;
  /**
   * Applies a decision (as decide() does, without tindex/tlabel) to this request's own transaction:
   * for the reply of `await ctx.evapi.request()`. A refused one is returned with its code.
   * @example
   * ctx.evapi.applyDecision(await ctx.evapi.request<Decision>({ event: "auth", from: ctx.pv("$fU") }));
   */
  applyDecision(decision: Decision, opts?: ApplyOptions): DecisionResult;
}
