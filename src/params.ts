// Server-level param schemas and whole-app validation, shared by Server.start and `evsip check`:
// every problem is reported with its param name, all at once.
import { ConfigError, EvsipError } from "./errors.js";
import type { AppDefinition } from "./app.js";
import { BUILTIN_MODULES } from "./builtin-modules.js";
import { intParam, validateParams, type ParamProblem, type ParamSchema } from "./core/params.js";
import { isEventRouteName } from "./core/event-route-name.js";
import { TM_SCHEMA, type TmParams } from "./tu/index.js";

export { TM_SCHEMA, type TmParams };
import { parseListen } from "./transport/listen-spec.js";
import { parseBindAddr, type BindAddr } from "./metrics/bind-addr.js";

export interface SipParams {
  maxMessageSize: number;
  maxHeaders: number;
  maxLineLength: number;
}

export const SIP_SCHEMA: ParamSchema<SipParams> = {
  maxMessageSize: intParam(65_535, 512, 16 * 1024 * 1024),
  maxHeaders: intParam(256, 8, 100_000),
  maxLineLength: intParam(8192, 128, 1024 * 1024),
};

export interface TcpParams {
  idleTimeout: number;
  maxConnections: number;
  connectTimeout: number;
  maxOutboundConnections: number;
  outboundIdleTimeout: number;
  maxQueuedBytes: number;
}

export const TCP_SCHEMA: ParamSchema<TcpParams> = {
  idleTimeout: intParam(600_000, 100, 86_400_000),
  maxConnections: intParam(2048, 1, 1_000_000),
  connectTimeout: intParam(10_000, 10, 600_000),
  maxOutboundConnections: intParam(512, 1, 1_000_000, "outbound TCP connections, counted apart from inbound ones"),
  outboundIdleTimeout: intParam(60_000, 100, 86_400_000, "idle timeout of an outbound connection until the peer sent a message"),
  maxQueuedBytes: intParam(
    4 * 1024 * 1024,
    4096,
    1024 * 1024 * 1024,
    "bytes queued on one connection before it is closed as a slow peer",
  ),
};

export interface UdpParams {
  recvBufferSize: number;
}

export const UDP_SCHEMA: ParamSchema<UdpParams> = {
  recvBufferSize: intParam(4 * 1024 * 1024, 4096, 256 * 1024 * 1024, "SO_RCVBUF of UDP listeners (capped by net.core.rmem_max)"),
};

export interface ValidatedApp {
  listen: string[];
  tm: TmParams;
  sip: SipParams;
  tcp: TcpParams;
  udp: UdpParams;
  modules: Map<string, Record<string, unknown>>;
  /** The metrics endpoint's address; absent when `metrics` is not set. */
  metrics?: { bind: BindAddr };
  problems: ParamProblem[];
}

export const DEFAULT_METRICS_BIND = "127.0.0.1:9090";

/** `metrics: { bindAddr }` → the address to bind, or problems; undefined when metrics are off. */
function validateMetrics(given: unknown, problems: ParamProblem[]): { bind: BindAddr } | undefined {
  if (given === undefined) return undefined;
  if (given === null || typeof given !== "object" || Array.isArray(given)) {
    problems.push({ param: "metrics", message: 'must be an object like { bindAddr: "127.0.0.1:9090" }' });
    return undefined;
  }
  for (const k of Object.keys(given)) {
    if (k !== "bindAddr") problems.push({ param: `metrics.${k}`, message: "unknown param (known: bindAddr)" });
  }
  const r = parseBindAddr((given as { bindAddr?: unknown }).bindAddr ?? DEFAULT_METRICS_BIND);
  if (typeof r === "string") {
    problems.push({ param: "metrics.bindAddr", message: r });
    return undefined;
  }
  return { bind: r };
}

export const DEFAULT_LISTEN = ["udp:127.0.0.1:5060", "tcp:127.0.0.1:5060"];

/** Checks every param of the app; `problems` is empty when it may run. */
export function validateApp(app: AppDefinition, listenOverride?: readonly string[]): ValidatedApp {
  const problems: ParamProblem[] = [];
  const listen = [...(listenOverride && listenOverride.length > 0 ? listenOverride : (app.listen ?? DEFAULT_LISTEN))];
  for (const l of listen) {
    try {
      parseListen(l);
    } catch (e) {
      problems.push({ param: "listen", message: e instanceof Error ? e.message : String(e) });
    }
  }
  const tm = validateParams("tm", TM_SCHEMA, app.tm);
  const sip = validateParams("sip", SIP_SCHEMA, app.sip);
  const tcp = validateParams("tcp", TCP_SCHEMA, app.tcp);
  const udp = validateParams("udp", UDP_SCHEMA, app.udp);
  problems.push(...tm.problems, ...sip.problems, ...tcp.problems, ...udp.problems);
  for (const name of Object.keys(app.events ?? {})) {
    if (!isEventRouteName(name)) problems.push({ param: `events.${name}`, message: "is not a valid group:event name" });
  }
  const metrics = validateMetrics(app.metrics, problems);
  const modules = new Map<string, Record<string, unknown>>();
  for (const [name, given] of Object.entries(app.modules ?? {})) {
    const def = BUILTIN_MODULES[name];
    if (!def) {
      problems.push({
        param: `modules.${name}`,
        message: `unknown module (known: ${Object.keys(BUILTIN_MODULES).join(", ") || "none"})`,
      });
      continue;
    }
    const r = validateParams(`modules.${name}`, def.params, def.normalize ? def.normalize(given) : given);
    problems.push(...r.problems);
    if (r.problems.length === 0 && def.validate) {
      for (const [param, message] of def.validate(r.params)) problems.push({ param: `modules.${name}.${param}`, message });
    }
    modules.set(name, r.params as Record<string, unknown>);
  }
  return {
    listen,
    tm: tm.params,
    sip: sip.params,
    tcp: tcp.params,
    udp: udp.params,
    modules,
    ...(metrics && { metrics }),
    problems,
  };
}

/** Throws ConfigError listing the problems, if any. */
export function assertValid(v: ValidatedApp): void {
  if (v.problems.length === 0) return;
  const err = new ConfigError(
    "ERR_CONFIG_INVALID",
    `invalid app:\n${v.problems.map((p) => `  ${p.param}: ${p.message}`).join("\n")}`,
  );
  throw Object.assign(err, { problems: v.problems });
}

export { EvsipError };
