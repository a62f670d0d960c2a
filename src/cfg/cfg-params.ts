// loadmodule, modparam and global parameters of a Kamailio cfg, mapped to evsip's params. A module
// evsip has as a module (evapi, jsonrpcc, htable, dialog) takes its Kamailio params by their
// Kamailio names (bind_addr → bindAddr); the modules whose functions evsip builds in (tm, sl, rr…)
// load with no effect. Anything else is refused by name and line. Global parameters that do not
// apply to one Node process (children, memlog…) are ignored with a note saying why.
import { CfgError } from "../errors.js";
import { BUILTIN_MODULES } from "../builtin-modules.js";
import { TM_SCHEMA } from "../params.js";
import type { CfgFile } from "./ast.js";
import type { Where } from "./lexer.js";
import { DEFAULT_MAX_WHILE_LOOPS } from "./compile.js";

/** Kamailio modules whose cfg functions evsip builds in: loadmodule is accepted, no module runs. */
const BUILT_IN = new Set([
  "tm",
  "tmx",
  "sl",
  "rr",
  "maxfwd",
  "pv",
  "textops",
  "siputils",
  "xlog",
  "jansson",
  "json",
  "cfgutils",
  "kex",
  "corex",
]);

/** tm's modparams with evsip counterparts (milliseconds both sides). */
const TM_PARAMS: Readonly<Record<string, string>> = {
  fr_timer: "frTimer",
  fr_inv_timer: "frInvTimer",
  max_inv_lifetime: "maxInviteLifetime",
  max_noninv_lifetime: "maxNonInviteLifetime",
};

/** Global parameters that mean nothing for one Node process, with the reason the note gives. */
const IGNORED_GLOBALS: Readonly<Record<string, string>> = {
  children: "one Node process serves every listener",
  tcp_children: "one Node process serves every listener",
  async_workers: "one Node process serves every listener",
  fork: "evsip runs in the foreground under its service manager",
  log_stderror: "evsip logs to stdout (pino)",
  log_facility: "evsip logs to stdout (pino)",
  log_prefix: "evsip logs JSON lines with their own fields",
  log_name: "evsip logs to stdout (pino)",
  memdbg: "no shared memory pool",
  memlog: "no shared memory pool",
  mlock_pages: "no shared memory pool",
  shm_force_alloc: "no shared memory pool",
  pv_buffer_size: "strings have no fixed buffer",
  auto_aliases: "evsip matches its own addresses by listener",
  dns: "names are resolved by Node at use",
  rev_dns: "names are resolved by Node at use",
  use_dns_cache: "names are resolved by Node at use",
  dns_try_ipv6: "names are resolved by Node at use",
  server_signature: "not configurable in evsip",
  sip_warning: "not configurable in evsip",
  mhomed: "replies leave by the listener that received the request",
};

export interface CfgParams {
  listen: string[] | undefined;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | undefined;
  tm: Record<string, number | string | boolean>;
  modules: Record<string, Record<string, unknown>>;
  /** Kamailio module names loaded, for the compiler's function checks. */
  loaded: Set<string>;
  maxWhileLoops: number;
  notes: string[];
}

function unsupported(at: Where, message: string): CfgError {
  return new CfgError("ERR_CFG_UNSUPPORTED", at, message);
}

/** "/usr/lib/kamailio/modules/tm.so" → "tm". */
function moduleName(path: string): string {
  return (path.split("/").at(-1) ?? path).replace(/\.so$/, "");
}

const camel = (s: string): string => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

const YES = new Set(["yes", "true", "on", "enable", "1"]);

/** Kamailio's debug level (L_ERR -1 … L_DBG 3) as a pino level. */
function logLevelOf(debug: number): CfgParams["logLevel"] {
  if (debug >= 3) return "debug";
  if (debug >= 1) return "info";
  if (debug === 0) return "warn";
  return debug === -1 ? "error" : "fatal";
}

/** Maps the cfg's modules and parameters; throws CfgError (ERR_CFG_UNSUPPORTED) for what evsip lacks. */
export function mapCfgParams(cfg: CfgFile): CfgParams {
  const p: CfgParams = {
    listen: undefined,
    logLevel: undefined,
    tm: {},
    modules: {},
    loaded: new Set(),
    maxWhileLoops: DEFAULT_MAX_WHILE_LOOPS,
    notes: [],
  };
  for (const m of cfg.modules) {
    const name = moduleName(m.name);
    if (BUILTIN_MODULES[name]) p.modules[name] ??= {};
    else if (!BUILT_IN.has(name))
      throw unsupported(m.at, `module ${name} is not in evsip's subset of Kamailio (docs/kamailio-cfg.md)`);
    p.loaded.add(name);
  }
  for (const mp of cfg.modparams) modparam(p, mp.module, mp.param, mp.value, mp.at);
  globals(p, cfg);
  return p;
}

/**
 * Kamailio's switch for the automatic 100 Trying. On (its default) is evsip's behaviour, with the
 * 100 held back for tm.trying100Delay; off has no counterpart, since RFC 3261 §17.2.1 makes the 100
 * a must once an answer takes over 200 ms.
 */
function autoInv100(p: CfgParams, value: string | number, at: Where): void {
  // Kamailio takes any non-zero number as on.
  if (Number(value) === 0 || Number.isNaN(Number(value))) {
    throw unsupported(
      at,
      `tm parameter auto_inv_100 = ${value}: evsip always sends the 100 Trying of an INVITE still unanswered after tm.trying100Delay (docs/tm.md)`,
    );
  }
  p.notes.push(
    `${at.file}:${at.line}: auto_inv_100 = ${value}: the 100 Trying waits tm.trying100Delay (${TM_SCHEMA.trying100Delay.default} ms) for another response`,
  );
}

function modparam(p: CfgParams, module: string, param: string, value: string | number, at: Where): void {
  const name = moduleName(module);
  if (!p.loaded.has(name)) throw unsupported(at, `modparam for module ${name}, which the cfg does not load`);
  if (name === "tm") {
    if (param === "auto_inv_100") return autoInv100(p, value, at);
    if (param === "remap_503_500") {
      // An int in Kamailio: any non-zero number is on, and anything else stops its start.
      if (Number.isNaN(Number(value)) || String(value).trim() === "")
        throw unsupported(at, `tm parameter remap_503_500 = ${JSON.stringify(value)}: a number (0 off, else on)`);
      p.tm.remap503 = Number(value) !== 0;
      return;
    }
    if (param === "auto_inv_100_reason") {
      checkValue(TM_SCHEMA.trying100Reason.check(String(value)), name, param, at);
      p.tm.trying100Reason = String(value);
      return;
    }
    const key = TM_PARAMS[param];
    if (!key)
      throw unsupported(
        at,
        `tm parameter ${param} has no evsip counterpart (known: ${[...Object.keys(TM_PARAMS), "auto_inv_100", "auto_inv_100_reason", "remap_503_500"].join(", ")})`,
      );
    const v = typeof value === "number" ? value : Number(value);
    checkValue(TM_SCHEMA[key as keyof typeof TM_SCHEMA].check(v), name, param, at);
    p.tm[key] = v;
    return;
  }
  const def = BUILTIN_MODULES[name];
  if (!def) throw unsupported(at, `module ${name} takes no parameters in evsip (its functions are built in)`);
  const params = p.modules[name] as Record<string, unknown>;
  // htable's "htable" param repeats, one table each.
  if (name === "htable" && param === "htable") {
    params.htable = [...((params.htable as string[] | undefined) ?? []), String(value)];
    return;
  }
  const key = camel(param);
  const spec = (def.params as Record<string, { default: unknown; check(v: unknown): string | undefined } | undefined>)[key];
  if (!spec) throw unsupported(at, `${name} parameter ${param} has no evsip counterpart`);
  const v = typeof spec.default === "boolean" ? (typeof value === "number" ? value !== 0 : YES.has(value)) : value;
  checkValue(spec.check(v), name, param, at);
  params[key] = v;
}

/** A param value evsip's schema refuses is refused here, where the line is still known. */
function checkValue(problem: string | undefined, module: string, param: string, at: Where): void {
  if (problem !== undefined) throw new CfgError("ERR_CONFIG_INVALID", at, `modparam("${module}", "${param}"): ${problem}`);
}

function globals(p: CfgParams, cfg: CfgFile): void {
  const byName = new Map(cfg.globals.map((g) => [g.name, g]));
  const tcp = !YES.has(byName.get("disable_tcp")?.value ?? "no");
  const port = byName.get("port")?.value ?? "5060";
  for (const g of cfg.globals) {
    const why = IGNORED_GLOBALS[g.name];
    if (why) {
      p.notes.push(`${g.at.file}:${g.at.line}: ${g.name} ignored (${why})`);
      continue;
    }
    switch (g.name) {
      case "listen":
        (p.listen ??= []).push(...listenEntries(g.value, tcp, port, g.at));
        break;
      case "debug":
        p.logLevel = logLevelOf(parseInt(g.value, 10) || 0);
        break;
      case "max_while_loops":
        p.maxWhileLoops = Math.max(1, parseInt(g.value, 10) || DEFAULT_MAX_WHILE_LOOPS);
        break;
      case "disable_tcp":
      case "port":
        break;
      default:
        throw unsupported(g.at, `global parameter ${g.name} has no evsip counterpart (docs/kamailio-cfg.md)`);
    }
  }
}

/** `udp:1.2.3.4:5060`, `1.2.3.4` (every enabled protocol, the default port), `tcp:[::1]:5070`. */
function listenEntries(value: string, tcp: boolean, port: string, at: Where): string[] {
  const m = /^(?:(udp|tcp):)?(\[[0-9a-fA-F:.]+\]|[^:\s[\]]+)(?::([0-9]+))?$/.exec(value.trim());
  if (!m) throw unsupported(at, `listen=${value}: evsip takes [udp|tcp:]host[:port] (no advertise, tls, ws or sctp)`);
  const protos = m[1] ? [m[1]] : tcp ? ["udp", "tcp"] : ["udp"];
  return protos.map((proto) => `${proto}:${m[2]}:${m[3] ?? port}`);
}
