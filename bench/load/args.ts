// The load tool's command line (see bench/README.md for what each option means and the defaults).
import type { RouterName, Scenario } from "./targets.js";
import type { Segment } from "./schedule.js";
import type { Pacer } from "./uac.js";

export interface LoadArgs {
  readonly scenario: Scenario;
  /** One segment for a plain run; one per step in steps mode. */
  readonly segments: Segment[];
  readonly steps: boolean;
  readonly routers: RouterName[];
  readonly driver: "tool" | "sipp";
  /** SIPp's transport with --driver sipp: u1 (UDP, one socket) or t1 (one TCP connection). */
  readonly sippTransport: SippTransport;
  readonly cold: boolean;
  /** Warm-up seconds before the measured run (0 with --cold), at warmupRate. */
  readonly warmup: number;
  /**
   * Warm-up calls/s: --warmup-rate, else min(first rate, 2000). Warming at the measured rate runs
   * the code paths that only a faster rate takes before the measurement starts (docs/load.md).
   */
  readonly warmupRate: number;
  /** SIPp's warm-up when --warmup or --warmup-rate is given (else its own: sipp-driver.ts). */
  readonly sippWarmup: { readonly seconds: number; readonly rate: number } | undefined;
  readonly sockets: number;
  readonly rcvbuf: number;
  readonly deadlineMs: number;
  readonly clients: number;
  readonly children: number;
  readonly lateUs: number;
  /** Seconds between samples of the router's memory during the measured run (0: none). */
  readonly memEvery: number;
  readonly pacer: Pacer;
  /** Act as an RFC 7339 client (oc-client.ts): ask for overload feedback and hold back what it asks. */
  readonly oc: boolean;
  /**
   * --edge (proxy only, the tool or SIPp): an uncapped edge router of the same kind in front of the router under test,
   * the tool's calls going through both; "oc": evsip's edge uses RFC 7339 towards it
   * (tm.overloadControl true), "plain": it does not (the default; Kamailio's edge is always plain).
   */
  readonly edge: "oc" | "plain" | undefined;
  readonly evsipNodeArgs: string[];
  readonly evsipMetrics: boolean;
  /** Where each run's per-request times and the GC pauses of evsip and the tool are written (bench/tail-causes.sh). */
  readonly traceDir: string | undefined;
  readonly append: boolean;
  /** How many times the whole run (every router) is repeated, each run its own table. */
  readonly repeat: number;
}

/** The SIPp transports the SIPp-driven run offers (SIPp's -t). */
export type SippTransport = "u1" | "t1";

const SCENARIOS: readonly Scenario[] = ["relay", "async", "rpc", "proxy"];
const PACERS: readonly Pacer[] = ["thread", "timer"];
/** The default warm-up's highest rate: warm-up traffic at a steps run's top rate would be overload. */
const WARMUP_MAX_RATE = 2000;

function num(name: string, v: string | undefined, min: number): number {
  const n = Number(v);
  if (v === undefined || !Number.isFinite(n) || n < min)
    throw new Error(`${name} wants a number ≥ ${min}, got ${v ?? "nothing"}`);
  return n;
}

/** `from:to:step` → the rates from..to by step (inclusive). */
export function stepRates(spec: string): number[] {
  const [a, b, c] = spec.split(":").map(Number);
  if (a === undefined || b === undefined || c === undefined || !(a > 0) || !(b >= a) || !(c > 0)) {
    throw new Error(`--steps wants from:to:step (e.g. 1000:8000:1000), got ${spec}`);
  }
  const out: number[] = [];
  for (let r = a; r <= b; r += c) out.push(r);
  return out;
}

export function parseLoadArgs(argv: readonly string[]): LoadArgs {
  const opt = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? "";
    if (!a.startsWith("--")) throw new Error(`unexpected argument ${a}`);
    if (["--cold", "--no-append", "--evsip-metrics", "--oc"].includes(a)) flags.add(a);
    else opt.set(a, argv[++i] ?? "");
  }
  const known = [
    "--scenario",
    "--rate",
    "--duration",
    "--steps",
    "--step-duration",
    "--target",
    "--driver",
    "--sipp-transport",
    "--warmup",
    "--warmup-rate",
    "--sockets",
  ];
  known.push(
    "--rcvbuf",
    "--deadline",
    "--clients",
    "--children",
    "--late-us",
    "--evsip-node-args",
    "--mem-every",
    "--repeat",
    "--pacer",
    "--trace-dir",
    "--edge",
  );
  for (const k of opt.keys()) if (!known.includes(k)) throw new Error(`unknown option ${k}`);
  const scenario = (opt.get("--scenario") ?? "async") as Scenario;
  if (!SCENARIOS.includes(scenario)) throw new Error(`--scenario is one of ${SCENARIOS.join(", ")}`);
  const target = opt.get("--target") ?? "both";
  if (!["evsip", "kamailio", "both"].includes(target)) throw new Error("--target is evsip, kamailio or both");
  const driver = opt.get("--driver") ?? "tool";
  if (driver !== "tool" && driver !== "sipp") throw new Error("--driver is tool or sipp");
  const pacer = opt.get("--pacer") ?? "thread";
  if (!PACERS.includes(pacer as Pacer)) throw new Error(`--pacer is one of ${PACERS.join(", ")}`);
  const steps = opt.get("--steps");
  const segments =
    steps === undefined
      ? [
          {
            rate: num("--rate", opt.get("--rate") ?? "2000", 1),
            seconds: num("--duration", opt.get("--duration") ?? "10", 0.001),
          },
        ]
      : stepRates(steps).map((rate) => ({ rate, seconds: num("--step-duration", opt.get("--step-duration") ?? "8", 0.001) }));
  if (steps !== undefined && driver === "sipp") throw new Error("--steps runs with the tool only (--driver tool)");
  const sippTransport = opt.get("--sipp-transport") ?? "u1";
  if (sippTransport !== "u1" && sippTransport !== "t1") throw new Error("--sipp-transport is u1 or t1");
  if (sippTransport === "t1" && driver !== "sipp") throw new Error("--sipp-transport t1 runs with SIPp (--driver sipp)");
  const cold = flags.has("--cold");
  const edge = opt.get("--edge");
  if (edge !== undefined && edge !== "oc" && edge !== "plain") throw new Error("--edge is oc or plain");
  if (edge !== undefined && scenario !== "proxy") throw new Error("--edge runs the proxy scenario");
  return {
    scenario,
    segments,
    steps: steps !== undefined,
    routers: target === "both" ? ["evsip", "kamailio"] : [target as RouterName],
    driver,
    sippTransport,
    cold,
    warmup: cold ? 0 : num("--warmup", opt.get("--warmup") ?? "3", 0),
    sippWarmup:
      cold || (!opt.has("--warmup") && !opt.has("--warmup-rate"))
        ? undefined
        : {
            seconds: num("--warmup", opt.get("--warmup") ?? "2", 0),
            rate: num("--warmup-rate", opt.get("--warmup-rate") ?? String(Math.min(1000, segments[0]?.rate ?? 1000)), 1),
          },
    warmupRate: num(
      "--warmup-rate",
      opt.get("--warmup-rate") ?? String(Math.min(WARMUP_MAX_RATE, segments[0]?.rate ?? WARMUP_MAX_RATE)),
      1,
    ),
    sockets: num("--sockets", opt.get("--sockets") ?? "1", 1),
    rcvbuf: num("--rcvbuf", opt.get("--rcvbuf") ?? String(4 * 1024 * 1024), 4096),
    deadlineMs: num("--deadline", opt.get("--deadline") ?? "5000", 1),
    clients: num("--clients", opt.get("--clients") ?? "1", 1),
    children: num("--children", opt.get("--children") ?? "4", 1),
    lateUs: num("--late-us", opt.get("--late-us") ?? "2000", 0),
    memEvery: num("--mem-every", opt.get("--mem-every") ?? "0", 0),
    pacer: pacer as Pacer,
    oc: flags.has("--oc"),
    edge,
    evsipNodeArgs: (opt.get("--evsip-node-args") ?? "").split(/\s+/).filter((s) => s !== ""),
    append: !flags.has("--no-append"),
    repeat: num("--repeat", opt.get("--repeat") ?? "1", 1),
    evsipMetrics: flags.has("--evsip-metrics"),
    traceDir: opt.get("--trace-dir"),
  };
}
