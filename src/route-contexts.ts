// The context types users write routes against: the core route-kind interfaces plus the API of
// every built-in module (ctx.evapi, ctx.jsonrpc, ctx.htable) and of tm/rr. M is the type of the
// app's `modules`: a module it lists is present on ctx, one it does not list is undefined.
import type { BaseContext, MaxfwdApi, RrApi, SipContext, SlApi, TmApi } from "./core/context-types.js";
import type { AnyRouteModuleApis, ModuleParamsMap, RequestModuleApis } from "./builtin-modules.js";
import type { SipMessageLike } from "./sip/types.js";

/** request_route. */
export interface RequestContext<M = ModuleParamsMap> extends SipContext, RequestModuleApis<M> {
  readonly kind: "request" | "branch" | "failure";
  readonly sl: SlApi;
  readonly maxfwd: MaxfwdApi;
  readonly tm: TmApi;
  readonly rr: RrApi;
  /**
   * Adds header lines to the replies evsip sends for this request, stateless and stateful (textops
   * append_to_reply), never to what it relays. `text` is as for appendHeader; false when a line is
   * not a header. Lines the request route added before relaying also go on the replies its failure
   * and continue routes send.
   * @example ctx.appendToReply("Retry-After: 30"); ctx.sl.sendReply(503, "Busy");
   */
  appendToReply(text: string): boolean;
  /** Stateless forward (Kamailio `forward`) to target, else $du, else the Request-URI. */
  forward(target?: string): boolean;
}

/** onreply_route and tm.onReply routes: ctx.msg is the response. */
export interface ReplyContext<M = ModuleParamsMap> extends SipContext, AnyRouteModuleApis<M> {
  readonly kind: "reply";
}

/** route[NAME]: called from the request route, as a failure route, or by tm.continue. */
export type RouteContextFor<M = ModuleParamsMap> = RequestContext<M>;

/** event_route[...]: a faked message unless the event comes from SIP traffic. */
export interface EventContext<M = ModuleParamsMap> extends BaseContext, AnyRouteModuleApis<M> {
  readonly kind: "event";
  readonly msg: SipMessageLike;
  /**
   * What the event is about, as its module documents it (docs/events.md); for
   * core:receive-parse-error `{ code, detail }`.
   */
  readonly eventData: unknown;
  readonly tm: Pick<TmApi, "continue">;
}
