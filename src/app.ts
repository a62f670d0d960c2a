// defineApp: the user's routing script as a typed object (Kamailio's cfg: request_route,
// onreply_route, route[NAME], event_route[group:event], module params). defineApp only checks
// and returns its argument; Server does the work, so `evsip check` can load an app without running it.
import type { RequestContext, ReplyContext, RouteContextFor, EventContext } from "./route-contexts.js";
import type { ModuleParamsMap } from "./builtin-modules.js";
import type { AdmissionParams, LockParams, SipParams, TcpParams, TmParams, UdpParams } from "./params.js";

/** Server-wide params (all optional; defaults in params.ts). */
export interface ServerParams {
  /** SIP listeners: "udp:127.0.0.1:5060", "tcp:[::1]:5060". */
  listen?: readonly string[];
  /** Log level of the pino logger (default "info"). */
  logLevel?: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** SIP parser limits (defaults in params.ts SIP_SCHEMA). */
  sip?: Partial<SipParams>;
  /** UDP transport: receive buffer per listener (bytes). */
  udp?: Partial<UdpParams>;
  /** TCP transport limits (maxConnections is inbound; outbound ones have maxOutboundConnections). */
  tcp?: Partial<TcpParams>;
  /** Transaction timers and limits, in milliseconds (Kamailio tm params). */
  tm?: Partial<TmParams>;
  /**
   * Admission of new work: new initial requests get 503 with Retry-After (`retryAfter`, s) while a
   * graceful stop (SIGTERM) drains — calls in flight get `drainTimeout` (ms) to finish — and while a
   * UDP listener is overloaded: its queue takes more than `shedQueue` ms to read, the kernel drops
   * datagrams, or it has been falling behind for `shedAfter` ms (0 = never shed). For `startGrace` ms
   * after the listeners open, the queue's bound is `shedQueueAtStart` (never below `shedQueue`), so a
   * restarted router reads the retransmissions it meets rather than refusing them. docs/load.md.
   */
  admission?: Partial<AdmissionParams>;
  /**
   * ctx.lock's bounds: a route waits at most `waitTimeout` ms for a lock (0 = for ever) and at most
   * `maxWaiters` route runs wait for one name; past either, ctx.lock rejects (ERR_LOCK_TIMEOUT,
   * ERR_LOCK_BUSY). docs/architecture.md, "Concurrency and state".
   */
  locks?: Partial<LockParams>;
  /** Prometheus metrics and JSON status endpoint. */
  metrics?: { bindAddr?: string };
}

/**
 * The app: params, modules and routes. M is the type of `modules`, which decides what the route
 * contexts carry: `ctx.evapi` is there when `modules.evapi` is given, and undefined otherwise.
 */
export interface AppDefinition<M extends ModuleParamsMap = ModuleParamsMap> extends ServerParams {
  /** Module params by module name; a module runs only when listed here. */
  modules?: M;
  /** request_route: every new request (retransmissions never reach it). */
  request?(ctx: RequestContext<M>): void | Promise<void>;
  /** onreply_route: every response before it is forwarded; ctx.drop() stops it. */
  reply?(ctx: ReplyContext<M>): void | Promise<void>;
  /** route[NAME]: for ctx.route(), tm.continue, tm.onFailure / onReply, jsonrpc return routes. */
  routes?: Record<string, (ctx: RouteContextFor<M>) => void | Promise<void>>;
  /** event_route[group:event]; names are validated at load. */
  events?: Record<string, (ctx: EventContext<M>) => void | Promise<void>>;
}

/**
 * An app whatever its modules: what the server and the CLI take. (AppDefinition<M> is not
 * assignable to AppDefinition<ModuleParamsMap>, whose routes must accept a ctx without modules.)
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyAppDefinition = AppDefinition<any>;

/**
 * Declares an evsip app; the module's default export. The type of `modules` is inferred, so the
 * routes' ctx has exactly the modules the app loads.
 * @example
 * export default defineApp({
 *   listen: ["udp:127.0.0.1:5060"],
 *   request(ctx) {
 *     if (ctx.isMethod("OPTIONS")) ctx.sl.sendReply(200, "OK");
 *   },
 * });
 */
// `{}` when the app lists no modules: every ctx.<module> is then undefined.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export function defineApp<M extends ModuleParamsMap = {}>(app: AppDefinition<M>): AppDefinition<M> {
  return app;
}
