// defineApp: the user's routing script as a typed object (Kamailio's cfg: request_route,
// onreply_route, route[NAME], event_route[group:event], module params). defineApp only checks
// and returns its argument; Server does the work, so `evsip check` can load an app without running it.
import type { RequestContext, ReplyContext, RouteContextFor, EventContext } from "./route-contexts.js";
import type { ModuleParamsMap } from "./builtin-modules.js";
import type { AdmissionParams, SipParams, TcpParams, TmParams, UdpParams } from "./params.js";

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
   * UDP listener has been falling behind for `shedAfter` ms (overload; 0 = never shed).
   */
  admission?: Partial<AdmissionParams>;
  /** Prometheus metrics and JSON status endpoint. */
  metrics?: { bindAddr?: string };
}

/** The app: params, modules and routes. */
export interface AppDefinition extends ServerParams {
  /** Module params by module name; a module runs only when listed here. */
  modules?: ModuleParamsMap;
  /** request_route: every new request (retransmissions never reach it). */
  request?(ctx: RequestContext): void | Promise<void>;
  /** onreply_route: every response before it is forwarded; ctx.drop() stops it. */
  reply?(ctx: ReplyContext): void | Promise<void>;
  /** route[NAME]: for ctx.route(), tm.continue, tm.onFailure / onReply, jsonrpc return routes. */
  routes?: Record<string, (ctx: RouteContextFor) => void | Promise<void>>;
  /** event_route[group:event]; names are validated at load. */
  events?: Record<string, (ctx: EventContext) => void | Promise<void>>;
}

/**
 * Declares an evsip app; the module's default export.
 * @example
 * export default defineApp({
 *   listen: ["udp:127.0.0.1:5060"],
 *   request(ctx) {
 *     if (ctx.isMethod("OPTIONS")) ctx.sl.sendReply(200, "OK");
 *   },
 * });
 */
export function defineApp<A extends AppDefinition>(app: A): A {
  return app;
}
