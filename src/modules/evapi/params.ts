// evapi module params (README.md "Params"): Kamailio's bind_addr, workers, netstring_format,
// event_callback, max_clients keep their defaults; maxMessageSize, maxQueueBytes, slowClient,
// unicast, rawDelimiter and idleTimeout are evsip's named limits and policies, and the durable* params
// bound durable delivery (opt-in per client, README.md "Durable delivery"). Checked once at app load.
import type { RouteContext } from "../../core/context.js";
import { boolParam, customParam, intParam, oneOfParam, stringParam, type ParamSchema } from "../../core/params.js";
import { parseHostPort, type HostPortRules } from "../../common/host-port.js";
import { DEFAULT_MAX_MESSAGE_SIZE } from "evsip-client/netstring";
import { isConsumerName } from "./durable/control-message.js";
import { checkTokens, type EvapiTokenSpec } from "./auth/token-table.js";
import { checkTls, type EvapiTlsParams } from "./tls-credentials.js";
import { exposureProblem, isLoopbackHost } from "./bind-safety.js";

/** What a client that cannot keep up gets when its queue would pass maxQueueBytes. */
export type SlowClientPolicy = "close" | "drop";
/** Which tagged client a unicast picks. */
export type UnicastPolicy = "first" | "round-robin";
/** What becomes of a held call's event when every client it went to closes before answering. */
export type HeldOnClientLoss = "redeliver" | "wait";
/** Kamailio's event_callback: runs for an evapi event that has no event route. */
export type EvapiEventCallback = (eventName: string, ctx: RouteContext) => void | Promise<void>;

/** Kamailio's evapi port: bindAddr's port when it names none. */
export const DEFAULT_EVAPI_PORT = 8448;

/**
 * How bindAddr is read: Kamailio's bind_addr ("host", "host:port"; Kamailio splits at the first ':'
 * and cannot express IPv6) plus bracketed IPv6 ("[::1]:8448", "[::]"). Port 0 asks the OS for a free port.
 */
export const BIND_ADDR_RULES: HostPortRules = { defaultPort: DEFAULT_EVAPI_PORT };

/** Validated evapi params; the defaults are in EVAPI_PARAMS. */
export interface EvapiParams {
  /** `host`, `host:port` or `[v6]:port` (BIND_ADDR_RULES). */
  bindAddr: string;
  /** How many connections' message-received handlers may run at once (0 behaves as 1). */
  workers: number;
  /** Netstring framing both ways; false = raw bytes. */
  netstringFormat: boolean;
  /** Runs `(eventName, ctx)` for an evapi event that has no event route. */
  eventCallback: EvapiEventCallback | undefined;
  /** Client slots; a connection past the limit is accepted and closed at once. */
  maxClients: number;
  /** Largest incoming payload in bytes. */
  maxMessageSize: number;
  /** Per-client bytes queued while the socket cannot take more. */
  maxQueueBytes: number;
  /** "close" the slow client or "drop" the event for it. */
  slowClient: SlowClientPolicy;
  /**
   * ms a client may hold bytes the kernel does not take before it counts as not reading (stalled):
   * only then does `slowClient: "close"` close it, and drain() stops waiting for it.
   */
  slowClientGrace: number;
  /** "first" = lowest conidx (Kamailio), "round-robin" among matching clients. */
  unicast: UnicastPolicy;
  /**
   * A held call (async relay, request()) whose event every recipient closed without answering:
   * "redeliver" sends the event again to the clients that match now, or to the next one that
   * does; "wait" leaves the call to tm's frTimer, as Kamailio does (README.md "A client lost with
   * calls held").
   */
  heldOnClientLoss: HeldOnClientLoss;
  /**
   * An async relay or request() that finds no client suspends the call anyway and keeps its event
   * for the next client that matches (within frTimer), so a routing service's restart costs no
   * call; false (the default): it returns 0 / rejects ERR_EVAPI_NO_CLIENT at once. Needs
   * heldOnClientLoss "redeliver" (README.md "A client lost with calls held").
   */
  holdWithoutClient: boolean;
  /** Raw mode only: split incoming bytes on this delimiter (e.g. "\n" for NDJSON). */
  rawDelimiter: string | undefined;
  /** Close a client that sent nothing for this many ms (ERR_EVAPI_IDLE_TIMEOUT); 0 = never (Kamailio). */
  idleTimeout: number;
  /** Durable consumers known from the start, so events are retained for them before they first connect. */
  durableConsumers: readonly string[];
  /** Durable consumers at most (declared or subscribed); one more is refused (ERR_EVAPI_TOO_MANY_CONSUMERS). */
  durableMaxConsumers: number;
  /** Unacknowledged events retained per durable consumer; past it the oldest are dropped. */
  durableMaxEvents: number;
  /** Bytes of unacknowledged events retained per durable consumer; past it the oldest are dropped. */
  durableMaxBytes: number;
  /**
   * Directory of the durable journal: retained events survive a restart (and kill -9) of evsip.
   * Unset (the default): retention is in memory only.
   */
  durableDir: string | undefined;
  /** ms between fdatasync calls of the journal (group commit); 0 = never, the kernel writes back. */
  durableSyncInterval: number;
  /** Shared secrets a client must send first (README.md "Authentication"); empty = no auth, as Kamailio. */
  tokens: readonly EvapiTokenSpec[];
  /** ms a new connection has to authenticate (and finish TLS) before it is closed. */
  authTimeout: number;
  /** Connections not yet authenticated, at most; they take no maxClients slot. */
  maxUnauthenticated: number;
  /** TLS on the event socket (README.md "TLS"); unset = plain TCP, as Kamailio. */
  tls: EvapiTlsParams | undefined;
  /** Allows a non-loopback bindAddr without tokens or verified client certificates (README.md "Exposure"). */
  insecure: boolean;
}

/** Param schema with defaults (Kamailio's where Kamailio has the param). */
export const EVAPI_PARAMS: ParamSchema<EvapiParams> = {
  bindAddr: customParam(
    `127.0.0.1:${DEFAULT_EVAPI_PORT}`,
    (v) => {
      if (typeof v !== "string") return `must be a string "host:port", got ${JSON.stringify(v)}`;
      const r = parseHostPort(v, BIND_ADDR_RULES);
      return r.ok ? undefined : `must be "host", "host:port" or "[v6]:port", got ${JSON.stringify(v)}: ${r.detail}`;
    },
    'listen address, "host:port" or "[v6]:port"',
  ),
  workers: intParam(1, 0, 1024, "concurrent message-received handlers (per-connection order is kept)"),
  netstringFormat: boolParam(true, "netstring framing both ways"),
  eventCallback: customParam<EvapiEventCallback | undefined>(
    undefined,
    (v) => (typeof v === "function" ? undefined : `must be a function (eventName, ctx) => void`),
    "runs for an evapi event that has no event route",
  ),
  maxClients: intParam(8, 1, 65_536, "client slots"),
  maxMessageSize: intParam(DEFAULT_MAX_MESSAGE_SIZE, 1, 64 * 1024 * 1024, "largest incoming payload (bytes)"),
  maxQueueBytes: intParam(4 * 1024 * 1024, 1024, 1024 * 1024 * 1024, "per-client send queue (bytes)"),
  slowClient: oneOfParam<SlowClientPolicy>("close", ["close", "drop"], "policy when a client's queue is full"),
  slowClientGrace: intParam(2000, 1, 60_000, "ms without progress before a client with a full queue counts as not reading"),
  unicast: oneOfParam<UnicastPolicy>("first", ["first", "round-robin"], "unicast target choice"),
  heldOnClientLoss: oneOfParam<HeldOnClientLoss>(
    "redeliver",
    ["redeliver", "wait"],
    "a held call's event whose clients all closed unanswered: sent again, or left to frTimer",
  ),
  holdWithoutClient: boolParam(false, "an async relay or request() with no client holds the call for the next client"),
  rawDelimiter: stringParam<string | undefined>(undefined, "raw-mode message delimiter", /^[\s\S]{1,16}$/),
  idleTimeout: intParam(0, 0, 86_400_000, "close a client silent this long (ms); 0 = off"),
  durableConsumers: customParam<readonly string[]>(
    [],
    (v) =>
      Array.isArray(v) && v.every((n) => typeof n === "string" && isConsumerName(n))
        ? undefined
        : "must be an array of consumer names (1-63 visible ASCII characters)",
    "durable consumers whose events are retained from start-up",
  ),
  durableMaxConsumers: intParam(16, 1, 4096, "durable consumers at most"),
  durableMaxEvents: intParam(100_000, 1, 100_000_000, "unacknowledged events retained per durable consumer"),
  durableMaxBytes: intParam(
    64 * 1024 * 1024,
    1024,
    16 * 1024 * 1024 * 1024,
    "bytes of unacknowledged events retained per durable consumer",
  ),
  durableDir: stringParam<string | undefined>(undefined, "directory of the durable journal; unset = memory only", /^.+$/),
  durableSyncInterval: intParam(100, 0, 60_000, "ms between fdatasync of the durable journal; 0 = never"),
  tokens: customParam<readonly EvapiTokenSpec[]>([], checkTokens, "shared secrets a client sends first; empty = no auth"),
  authTimeout: intParam(5000, 10, 60_000, "ms a connection has to authenticate"),
  maxUnauthenticated: intParam(16, 1, 4096, "connections waiting to authenticate, at most"),
  tls: customParam<EvapiTlsParams | undefined>(undefined, checkTls, "TLS certificate, key, optional client verification"),
  insecure: boolParam(false, "allow a non-loopback bindAddr without authentication"),
};

/** Cross-param checks: returns [param, message] problems. */
export function validateEvapiParams(p: EvapiParams): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (p.durableConsumers.length > p.durableMaxConsumers) {
    out.push([
      "durableConsumers",
      `declares ${p.durableConsumers.length} consumers, more than durableMaxConsumers (${p.durableMaxConsumers})`,
    ]);
  }
  if (p.holdWithoutClient && p.heldOnClientLoss !== "redeliver") {
    out.push([
      "holdWithoutClient",
      'needs heldOnClientLoss: "redeliver" (the events it keeps are the ones that redeliver sends)',
    ]);
  }
  if (p.rawDelimiter !== undefined && p.netstringFormat) {
    out.push(["rawDelimiter", "applies to raw mode only: set netstringFormat: false"]);
  }
  const bind = parseHostPort(p.bindAddr, BIND_ADDR_RULES);
  const guarded = p.insecure || p.tokens.length > 0 || p.tls?.verifyClient === true;
  if (bind.ok && !guarded && !isLoopbackHost(bind.addr.host)) out.push(["bindAddr", exposureProblem(p.bindAddr)]);
  return out;
}
