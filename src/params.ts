// Server-level param schemas and whole-app validation, shared by Server.start and `evsip check`:
// every problem is reported with its param name, all at once.
import { parseHostPort, type HostPort } from "./common/host-port.js";
import { ConfigError, EvsipError } from "./errors.js";
import type { AnyAppDefinition } from "./app.js";
import { BUILTIN_MODULES } from "./builtin-modules.js";
import { checkAppPvs } from "./app-pv-check.js";
import { intParam, validateParams, type ParamProblem, type ParamSchema } from "./core/params.js";
import { isEventRouteName } from "./core/event-route-name.js";
import { TM_SCHEMA, type TmParams } from "./tu/index.js";
import { ADMISSION_SCHEMA, type AdmissionParams } from "./core/admission.js";
import { LOCK_SCHEMA, type LockParams } from "./core/locks.js";

export { TM_SCHEMA, type TmParams, ADMISSION_SCHEMA, type AdmissionParams, LOCK_SCHEMA, type LockParams };
import { parseListen } from "./transport/listen-spec.js";
import { TRANSPORT_DEFAULTS } from "./transport/types.js";
import { DEFAULT_SIP_LIMITS } from "./sip/types.js";

export interface SipParams {
  maxMessageSize: number;
  maxHeaders: number;
  maxLineLength: number;
  /** Rounds of SIP parsing and reply building on sample messages before the listeners open. */
  warmUp: number;
  /** Calls carried through a throwaway server on loopback before the listeners open (tm, sl, evapi paths). */
  warmUpCalls: number;
}

export const SIP_SCHEMA: ParamSchema<SipParams> = {
  maxMessageSize: intParam(DEFAULT_SIP_LIMITS.maxMessageSize, 512, 16 * 1024 * 1024),
  maxHeaders: intParam(DEFAULT_SIP_LIMITS.maxHeaders, 8, 100_000),
  maxLineLength: intParam(DEFAULT_SIP_LIMITS.maxLineLength, 128, 1024 * 1024),
  // 500, not more: the call warm-up below parses every message of its calls too, so these rounds
  // only need to teach the parser both kinds of Buffer (a datagram's, a stream's); 3,000 took
  // 0.2 s of every start, a restart under load included, for no gain at a cold start (docs/load.md).
  warmUp: intParam(500, 0, 1_000_000, "rounds of SIP parsing and reply building run before the listeners open; 0 = none"),
  warmUpCalls: intParam(
    3000,
    0,
    20_000, // the warm-up gives up after 5 s
    "calls carried through a throwaway server on loopback before the listeners open (tm, sl and evapi paths); 0 = none",
  ),
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
  idleTimeout: intParam(TRANSPORT_DEFAULTS.tcpIdleTimeout, 100, 86_400_000),
  maxConnections: intParam(TRANSPORT_DEFAULTS.maxTcpConnections, 1, 1_000_000),
  connectTimeout: intParam(TRANSPORT_DEFAULTS.tcpConnectTimeout, 10, 600_000),
  maxOutboundConnections: intParam(
    TRANSPORT_DEFAULTS.maxOutboundTcpConnections,
    1,
    1_000_000,
    "outbound TCP connections, counted apart from inbound ones",
  ),
  outboundIdleTimeout: intParam(
    TRANSPORT_DEFAULTS.tcpOutboundIdleTimeout,
    100,
    86_400_000,
    "idle timeout of an outbound connection until the peer sent a message",
  ),
  maxQueuedBytes: intParam(
    TRANSPORT_DEFAULTS.tcpMaxQueuedBytes,
    4096,
    1024 * 1024 * 1024,
    "bytes queued on one connection before it is closed as a slow peer",
  ),
};

export interface UdpParams {
  recvBufferSize: number;
}

export const UDP_SCHEMA: ParamSchema<UdpParams> = {
  recvBufferSize: intParam(
    TRANSPORT_DEFAULTS.udpRecvBufferSize,
    4096,
    256 * 1024 * 1024,
    "SO_RCVBUF of UDP listeners (capped by net.core.rmem_max)",
  ),
};

export interface ValidatedApp {
  listen: string[];
  tm: TmParams;
  admission: AdmissionParams;
  locks: LockParams;
  sip: SipParams;
  tcp: TcpParams;
  udp: UdpParams;
  modules: Map<string, Record<string, unknown>>;
  /** The metrics endpoint's address; absent when `metrics` is not set. */
  metrics?: { bind: HostPort };
  problems: ParamProblem[];
}

export const DEFAULT_METRICS_BIND = "127.0.0.1:9090";

/** `metrics: { bindAddr }` → the address to bind, or problems; undefined when metrics are off. */
function validateMetrics(given: unknown, problems: ParamProblem[]): { bind: HostPort } | undefined {
  if (given === undefined) return undefined;
  if (given === null || typeof given !== "object" || Array.isArray(given)) {
    problems.push({ param: "metrics", message: 'must be an object like { bindAddr: "127.0.0.1:9090" }' });
    return undefined;
  }
  for (const k of Object.keys(given)) {
    if (k !== "bindAddr") problems.push({ param: `metrics.${k}`, message: "unknown param (known: bindAddr)" });
  }
  const text = (given as { bindAddr?: unknown }).bindAddr ?? DEFAULT_METRICS_BIND;
  if (typeof text !== "string") {
    problems.push({ param: "metrics.bindAddr", message: `must be a string "host:port", got ${JSON.stringify(text)}` });
    return undefined;
  }
  const r = parseHostPort(text.trim());
  if (!r.ok) {
    problems.push({
      param: "metrics.bindAddr",
      message: `must be "host:port" (IPv6 hosts in brackets), got ${JSON.stringify(text)}: ${r.detail}`,
    });
    return undefined;
  }
  return { bind: r.addr };
}

export const DEFAULT_LISTEN = ["udp:127.0.0.1:5060", "tcp:127.0.0.1:5060"];

/**
 * Every key an app may have. A .ts app loads through tsx, which does not type-check, so a
 * misspelt key (`admision`, `metric`) would otherwise be ignored without a word. Typed as a record
 * of the definition's keys, so a key added to AppDefinition must be added here.
 */
const APP_KEYS: Record<keyof AnyAppDefinition, true> = {
  listen: true,
  logLevel: true,
  sip: true,
  udp: true,
  tcp: true,
  tm: true,
  admission: true,
  locks: true,
  metrics: true,
  modules: true,
  request: true,
  reply: true,
  routes: true,
  events: true,
};

/** pino's levels, the values of logLevel and of `evsip run --log-level`. */
export const LOG_LEVELS: readonly string[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/** Unknown top-level keys and a logLevel pino does not have. */
function checkAppKeys(app: AnyAppDefinition, problems: ParamProblem[]): void {
  for (const k of Object.keys(app)) {
    if (!Object.hasOwn(APP_KEYS, k)) {
      problems.push({ param: k, message: `unknown app key (known: ${Object.keys(APP_KEYS).join(", ")})` });
    }
  }
  const level = logLevelProblem("logLevel", app.logLevel);
  if (level) problems.push(level);
}

/** A log level pino does not have (the app's `logLevel`, or the embedding code's ServerOptions.logLevel). */
export function logLevelProblem(param: string, level: unknown): ParamProblem | undefined {
  if (level === undefined || (typeof level === "string" && LOG_LEVELS.includes(level))) return undefined;
  return { param, message: `must be one of ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(level)}` };
}

/** Checks every param of the app; `problems` is empty when it may run. */
export function validateApp(app: AnyAppDefinition, listenOverride?: readonly string[]): ValidatedApp {
  const problems: ParamProblem[] = [];
  checkAppKeys(app, problems);
  const listen = [...(listenOverride && listenOverride.length > 0 ? listenOverride : (app.listen ?? DEFAULT_LISTEN))];
  for (const l of listen) {
    try {
      parseListen(l);
    } catch (e) {
      problems.push({
        param: "listen",
        message: e instanceof Error ? e.message : String(e),
        ...(e instanceof EvsipError && { code: e.code }),
      });
    }
  }
  const tm = validateParams("tm", TM_SCHEMA, app.tm);
  const admission = validateParams("admission", ADMISSION_SCHEMA, app.admission);
  const locks = validateParams("locks", LOCK_SCHEMA, app.locks);
  const sip = validateParams("sip", SIP_SCHEMA, app.sip);
  const tcp = validateParams("tcp", TCP_SCHEMA, app.tcp);
  const udp = validateParams("udp", UDP_SCHEMA, app.udp);
  problems.push(...tm.problems, ...admission.problems, ...locks.problems, ...sip.problems, ...tcp.problems, ...udp.problems);
  for (const name of Object.keys(app.events ?? {})) {
    if (!isEventRouteName(name)) {
      problems.push({ param: `events.${name}`, message: "is not a valid group:event name", code: "ERR_EVENT_ROUTE_NAME" });
    }
  }
  problems.push(...checkAppPvs(app));
  const metrics = validateMetrics(app.metrics, problems);
  const modules = new Map<string, Record<string, unknown>>();
  for (const [name, given] of Object.entries(app.modules ?? {})) {
    const def = BUILTIN_MODULES[name];
    if (!def) {
      const known = Object.keys(BUILTIN_MODULES).join(", ") || "none";
      problems.push({ param: `modules.${name}`, message: `unknown module (known: ${known})`, code: "ERR_CONFIG_UNKNOWN_MODULE" });
      continue;
    }
    const r = validateParams(`modules.${name}`, def.params, def.normalize ? def.normalize(given) : given);
    problems.push(...r.problems);
    if (r.problems.length === 0 && def.validate) {
      for (const [param, message, code] of def.validate(r.params)) {
        problems.push({ param: `modules.${name}.${param}`, message, ...(code && { code }) });
      }
    }
    modules.set(name, r.params as Record<string, unknown>);
  }
  return {
    listen,
    tm: tm.params,
    admission: admission.params,
    locks: locks.params,
    sip: sip.params,
    tcp: tcp.params,
    udp: udp.params,
    modules,
    ...(metrics && { metrics }),
    problems,
  };
}

/**
 * Throws ConfigError listing the problems, if any, with the code of the first problem that has a
 * more specific one (ERR_EVENT_ROUTE_NAME, ERR_CONFIG_UNKNOWN_MODULE, ERR_TRANSPORT_BAD_LISTEN,
 * ERR_JSONRPC_BAD_SERVERS, ERR_HTABLE_BAD_SPEC), else ERR_CONFIG_INVALID.
 */
export function assertValid(v: ValidatedApp): void {
  if (v.problems.length === 0) return;
  const err = new ConfigError(
    v.problems.find((p) => p.code !== undefined)?.code ?? "ERR_CONFIG_INVALID",
    `invalid app:\n${v.problems.map((p) => `  ${p.param}: ${p.message}`).join("\n")}`,
  );
  throw Object.assign(err, { problems: v.problems });
}
