// Runs SIPp as a real peer: a UAC that resolves with SIPp's exit code when its calls are done, or a
// UAS started in the background and awaited once its port is bound. Scenarios live in
// test/fixtures/sipp/ (uac-<expectation>.xml, uas-<behaviour>.xml); built-in ones by name (-sn).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createSocket } from "node:dgram";
import { createServer } from "node:net";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { waitOwnSocket } from "./port-owner.js";
import { join, resolve } from "node:path";

export interface SippOptions {
  /** A file in test/fixtures/sipp/ ("uac-options-200.xml") or a built-in name ("uac", "uas"). */
  scenario: string;
  /** host:port to send to (UAC). */
  target?: string;
  /** "u1" (UDP), "t1" (TCP, one socket), "tn" (TCP, one per call). */
  transport?: "u1" | "un" | "t1" | "tn";
  /** Local port; a free one is picked when absent. */
  port?: number;
  /** Total calls (-m). */
  calls?: number;
  /** Calls per second (-r). */
  rate?: number;
  /** Concurrent calls limit (-l). */
  limit?: number;
  /** Global timeout in seconds (-timeout); SIPp exits non-zero when reached. */
  timeoutSec?: number;
  /** Request-URI user ([service], -s). */
  service?: string;
  /** Values for [key] substitutions (-key name value). */
  keys?: Record<string, string>;
  extraArgs?: string[];
  /** Keep SIPp's working folder (`dir`, where its -trace_* files are) after it exits; the caller removes it. */
  keepDir?: boolean;
}

export interface SippResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** SIPp's working folder; already removed unless `keepDir` was asked. */
  readonly dir: string;
}

export interface SippProcess {
  readonly port: number;
  readonly child: ChildProcess;
  readonly done: Promise<SippResult>;
  /**
   * Ends SIPp gracefully (SIGUSR1), and with SIGKILL if it has not exited `graceMs` later: SIPp
   * waits for its calls, timewait included, and a stuck call once kept it past two SIGUSR1s.
   */
  stop(graceMs?: number): Promise<SippResult>;
}

let available: boolean | undefined;

/** True when the sipp binary is installed (tests skip with a message otherwise). */
export function hasSipp(): boolean {
  available ??= spawnSync("sipp", ["-v"], { stdio: "ignore" }).error === undefined;
  return available;
}

export const SKIP_NO_SIPP = "sipp is not installed (apt-get install -y sip-tester; .ci/run does it)";

/** True when `port` can be bound on 127.0.0.1 for `proto` right now. */
async function canBind(port: number, proto: "udp" | "tcp"): Promise<boolean> {
  return new Promise<boolean>((res) => {
    if (proto === "tcp") {
      const srv = createServer();
      srv.once("error", () => res(false));
      srv.listen(port, "127.0.0.1", () => srv.close(() => res(true)));
    } else {
      const s = createSocket("udp4");
      s.once("error", () => res(false));
      s.bind(port, "127.0.0.1", () => s.close(() => res(true)));
    }
  });
}

/**
 * Ports the kernel never hands out by itself: the span just below its ephemeral range
 * (/proc/sys/net/ipv4/ip_local_port_range), undefined where that cannot be read or leaves no room.
 */
export function unassignedSpan(): [number, number] | undefined {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "latin1").trim().split(/\s+/)[0]);
    // Up to 12,000 ports (Linux's default range starts at 32,768), none below 10,000, where
    // services' well-known ports (5060, 8080, …) live.
    const from = Math.max(10_000, low - 12_000);
    return Number.isInteger(low) && low - from >= 1000 ? [from, low] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A port free on 127.0.0.1 for both UDP and TCP (SIPp binds both for its main socket). A router
 * started on it in a child process binds it a second later; a port from the kernel's ephemeral
 * range could meanwhile be handed to a socket bound to port 0 or a connect in a test running beside
 * (seen once in CI: another test's server answered SIP there). So it is drawn at random from below
 * that range, where only another freePort could land, and checked free for both; where the range
 * is unknown the kernel picks it.
 */
export async function freePort(_proto: "udp" | "tcp" = "udp"): Promise<number> {
  const span = unassignedSpan();
  for (let draws = 1; ; draws++) {
    // A span used up (a long-lived process, a busy host) falls back to the kernel's pick, which
    // awaits: the loop never spins without yielding.
    const port =
      span === undefined || draws > 100 ? await kernelPort() : span[0] + Math.floor(Math.random() * (span[1] - span[0]));
    // Never twice to this process, so that draws made together (its concurrent tests) differ; a
    // test file running beside, another process, can still draw the same one, rarely.
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if ((await canBind(port, "tcp")) && (await canBind(port, "udp"))) return port;
  }
}

/** Every port freePort has drawn in this process (a few hundred in a test file, at most). */
const handedOut = new Set<number>();

async function kernelPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function args(o: SippOptions, port: number): string[] {
  const a: string[] = [];
  if (o.scenario.endsWith(".xml")) a.push("-sf", resolve("test/fixtures/sipp", o.scenario));
  else a.push("-sn", o.scenario);
  a.push("-i", "127.0.0.1", "-p", String(port), "-t", o.transport ?? "u1", "-nostdin", "-trace_err");
  a.push("-m", String(o.calls ?? 1));
  if (o.rate !== undefined) a.push("-r", String(o.rate));
  if (o.limit !== undefined) a.push("-l", String(o.limit));
  a.push("-timeout", `${o.timeoutSec ?? 20}s`, "-timeout_error");
  if (o.service) a.push("-s", o.service);
  for (const [k, v] of Object.entries(o.keys ?? {})) a.push("-key", k, v);
  a.push(...(o.extraArgs ?? []));
  if (o.target) a.push(o.target);
  return a;
}

/** Starts SIPp; `done` resolves on exit. For a UAS, await `ready` before sending to it. */
export async function startSipp(o: SippOptions): Promise<SippProcess & { ready: Promise<void> }> {
  const proto = o.transport?.startsWith("t") ? "tcp" : "udp";
  const port = o.port ?? (await freePort(proto));
  const dir = mkdtempSync(join(tmpdir(), "evsip-sipp-"));
  const removeDir = (): void => {
    if (!o.keepDir) rmSync(dir, { recursive: true, force: true });
  };
  const child = spawn("sipp", args(o, port), { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => {
    stdout = (stdout + d.toString()).slice(-20_000);
  });
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-20_000);
  });
  const done = new Promise<SippResult>((res) => {
    child.once("exit", (code) => {
      removeDir(); // SIPp has exited, so nothing writes there any more
      res({ code, stdout, stderr, dir });
    });
    child.once("error", (err) => {
      removeDir(); // SIPp could not be started: no exit event will come
      res({ code: null, stdout, stderr: `${stderr}${err.message}`, dir });
    });
  });
  // SIPp's own socket, not another process's on the port (handed it first): that one fails fast.
  const ready =
    child.pid === undefined
      ? done.then((r) => Promise.reject(new Error(`sipp did not start: ${r.stderr}`)))
      : waitOwnSocket("sipp", child.pid, proto, port, done, () => stderr);
  ready.catch(() => undefined);
  return {
    port,
    child,
    done,
    ready,
    stop: (graceMs = 5000) => {
      if (child.exitCode !== null || child.signalCode !== null) return done;
      child.kill("SIGUSR1"); // SIPp: SIGUSR1 ends gracefully
      const deadline = setTimeout(() => child.kill("SIGKILL"), graceMs);
      return done.finally(() => clearTimeout(deadline));
    },
  };
}

/** Runs a SIPp UAC to completion. */
export async function runSipp(o: SippOptions): Promise<SippResult> {
  const p = await startSipp(o);
  return p.done;
}

/**
 * "Successful call" and "Failed call" from SIPp's output: the cumulative column of its last screen
 * (it may print several while it runs). NaN when the output has none.
 */
export function sippCallCounts(stdout: string): { successful: number; failed: number } {
  const count = (name: string): number => {
    const rows = [...stdout.matchAll(new RegExp(`${name}\\s*\\|\\s*\\d+\\s*\\|\\s*(\\d+)`, "g"))];
    return Number(rows.at(-1)?.[1] ?? Number.NaN);
  };
  return { successful: count("Successful call"), failed: count("Failed call") };
}
