// Record-routing and loose routing (RFC 3261 §16.6 step 4, §16.4, §16.12; RFC 5658 double
// Record-Route when a request changes transport), so in-dialog requests of a call come back through
// evsip. State is per script run: recordRoute() marks the context, forward/relay add the lines.
// The lines are Kamailio's rr module's with its defaults (append_fromtag, enable_double_rr):
// `<sip:host:port[;transport=tcp][;r2=on];lr;ftag=<From tag>>`, r2=on on both entries of a double
// Record-Route, so is_direction works the same whichever of the two routers recorded the route.
import { formatHostPort } from "../common/host-port.js";
import type { Rewrite } from "../sip/types.js";
import type { RouteContext } from "./context.js";
import type { Engine } from "./engine.js";
import type { RrApi } from "./context-types.js";
import type { Target } from "./target.js";

export interface RrState {
  record: boolean;
  /** Route edits decided by looseRoute(). */
  routes: Pick<Rewrite, "remove" | "append" | "removeTopRoute"> | undefined;
  /** The ftag of the Route entry of ours looseRoute() consumed (Kamailio's routed params). */
  ftag?: string | undefined;
}

const states = new WeakMap<RouteContext, RrState>();

function state(ctx: RouteContext): RrState {
  let s = states.get(ctx);
  if (!s) states.set(ctx, (s = { record: false, routes: undefined }));
  return s;
}

/** The record/loose-route state of ctx, to keep with its transaction for later branches. */
export function rrStateOf(ctx: RouteContext): RrState | undefined {
  return states.get(ctx);
}

/** Gives ctx (a failure or t_continue route) the rr state its transaction was relayed with. */
export function inheritRrState(ctx: RouteContext, s: RrState | undefined): void {
  if (s) states.set(ctx, { record: s.record, routes: s.routes, ftag: s.ftag });
}

/** The Route edits looseRoute() decided for this context (spread into rewrite()). */
export function routeRewrite(ctx: RouteContext): Pick<Rewrite, "remove" | "append" | "removeTopRoute"> {
  return states.get(ctx)?.routes ?? {};
}

/** `sip:host:port[;transport=tcp]` of a socket, or of the first listener of proto and family. */
function rrAddress(engine: Engine, proto: "udp" | "tcp", family: 4 | 6): string | undefined {
  const local = engine.transport.localAddress(proto, family) ?? engine.transport.localAddress(proto);
  return local ? socketUri(local.host, local.port, proto) : undefined;
}

function socketUri(host: string, port: number, proto: "udp" | "tcp"): string {
  return `sip:${formatHostPort(host, port)}${proto === "tcp" ? ";transport=tcp" : ""}`;
}

/** One Record-Route value as Kamailio's rr writes it. */
function rrValue(uri: string, double: boolean, ftag: string | undefined): string {
  return `<${uri}${double ? ";r2=on" : ""};lr${ftag ? `;ftag=${ftag}` : ""}>`;
}

/** Record-Route lines for a request leaving towards `t` (two when the transport changes). */
export function recordRouteLines(engine: Engine, ctx: RouteContext, t: Target): string[] {
  if (!states.get(ctx)?.record) return [];
  const inFamily = ctx.src.localAddr.includes(":") ? 6 : 4;
  const outFamily = t.host.includes(":") ? 6 : 4;
  // The inbound entry names the socket the request arrived on (several listeners of one protocol
  // must each be reachable again), unless that socket is a wildcard.
  const wildcard = ctx.src.localAddr === "0.0.0.0" || ctx.src.localAddr === "::" || ctx.src.localPort === 0;
  const inUri = wildcard
    ? rrAddress(engine, ctx.src.proto, inFamily)
    : socketUri(ctx.src.localAddr, ctx.src.localPort, ctx.src.proto);
  const outUri = rrAddress(engine, t.proto, outFamily);
  if (!inUri) return [];
  const ftag = ctx.msg.from.tag;
  if (!outUri || outUri === inUri) return [`Record-Route: ${rrValue(inUri, false, ftag)}`];
  return [`Record-Route: ${rrValue(outUri, true, ftag)}`, `Record-Route: ${rrValue(inUri, true, ftag)}`];
}

export function createRrApi(engine: Engine, ctx: RouteContext): RrApi {
  return {
    recordRoute() {
      state(ctx).record = true;
      return true;
    },
    looseRoute() {
      const routes = ctx.msg.routes;
      if (routes.length === 0) return false;
      let ours = 0;
      while (ours < routes.length) {
        const u = routes[ours]?.uri;
        if (!u || !engine.transport.isLocalUri(u)) break; // unbrackets and defaults 5060
        ours++;
      }
      const rest = routes.slice(ours);
      if (ours === 0) {
        // Top Route is not us: send there, Route set untouched (pre-loaded route).
        ctx.dstUri = routes[0]?.uri.raw;
        return true;
      }
      const s = state(ctx);
      s.routes = ours === 1 ? { removeTopRoute: true } : { remove: ["Route"], append: rest.map((r) => `Route: ${r.raw}`) };
      s.ftag = routes[ours - 1]?.uri.params.get("ftag") ?? undefined;
      const next = rest[0];
      if (next) ctx.dstUri = next.uri.raw;
      return true;
    },
    isDirection(dir) {
      // Kamailio: downstream unless the routed ftag and the From tag are both there and differ.
      const ftag = states.get(ctx)?.ftag;
      const tag = ctx.msg.from.tag;
      const upstream = ftag !== undefined && ftag !== "" && tag !== undefined && tag !== "" && ftag !== tag;
      return dir === (upstream ? "upstream" : "downstream");
    },
  };
}
