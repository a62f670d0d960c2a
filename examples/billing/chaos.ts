// The billing example under chaos (issue "Dialogs", part 5): SIPp places calls of random length
// through the router (app.ts, built) to SIPp callees; some callers hang up, some callees hang up, and some
// calls never get a BYE (the router's dialog timeout ends them and sends BYEs to both sides). While
// they run, the billing consumer (billing.ts, durable mode) is killed with SIGKILL twice and the
// router once, each restarted at once on the same state. At the end every call SIPp saw answered
// must be in the ledger exactly once, with the duration SIPp saw.
//
// Run from the repository root after `npm run build`:
//   node dist/examples/billing/chaos.js [calls=1000] [rate=20] [least outage in ms=0] [graceful]
// ("graceful": the router is stopped with SIGTERM, its drain included in the outage, instead of kill -9)
// test/e2e/billing-chaos.test.ts runs it with 100 calls; bench/billing-chaos.ts records a full run.
import { spawn, type ChildProcess } from "node:child_process";
import { createSocket } from "node:dgram";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { CallRecord } from "./billing.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const SCENARIOS = join(ROOT, "examples/billing/sipp");

export interface ChaosOptions {
  /** Calls placed in all (40 % hung up by the caller, 40 % by the callee, 20 % never). */
  readonly calls: number;
  /** New calls per second. */
  readonly rate: number;
  /** The router's dialog timeout (s): the length of the calls that get no BYE. */
  readonly callTimeout?: number;
  /**
   * The least time (ms) the router stays down after its kill -9 or SIGTERM (default 0: restarted at once). A
   * long outage lets a BYE's retransmissions reach the router only after the dialog timeout.
   */
  readonly minOutageMs?: number;
  /**
   * Restart the router gracefully (SIGTERM: new calls refused, calls in flight finished, then
   * nothing more read) instead of kill -9, the new router started once the old one has exited.
   */
  readonly graceful?: boolean;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

/** One call SIPp saw answered, with what the ledger says of it. */
export interface CheckedCall {
  readonly ci: string;
  readonly kind: "caller-bye" | "callee-bye" | "no-bye";
  /** Seconds between the 200 and the end of the call, as SIPp's caller saw them. */
  readonly sippSeconds: number | undefined;
  /** Ledger lines for this call (1 is right). */
  readonly billed: number;
  readonly billedSeconds: number | undefined;
  readonly reason: string | undefined;
  /**
   * The call ended, by the caller's clock, while the router was down (with a second of margin): its
   * BYE got through on a retransmission, or the timeout ended it first. Or the callee's BYE reached
   * the router just before its kill and the caller heard of it from a retransmission after the
   * restart.
   */
  readonly endedInOutage: boolean;
  /**
   * The call's BYE was first sent while the router was down, and none of its retransmissions could
   * reach the router before the call's dialog timeout: the timeout ending it is right.
   */
  readonly timeoutExcused: boolean;
}

export interface ChaosReport {
  readonly calls: number;
  /** SIPp's own counts, callers and callees together. */
  readonly sipp: {
    readonly successful: number;
    readonly failed: number;
    readonly exitCodes: readonly (number | null)[];
    /** SIPp's error entries (-trace_err), a line each and a few per caller or callee; its aborts on a 503 are in refused503. */
    readonly errors: readonly string[];
    /** Calls SIPp's callees counted as failed (a refused call never reaches its callee: 0 when nothing was lost). */
    readonly calleesFailed: number;
    /** Calls the callers aborted on a 503 (their error files): refused out loud, by overload or by the app. */
    readonly refused503: number;
  };
  /**
   * What the routers logged of their overload spells (`ERR_OVERLOAD`): spells begun, and the new
   * requests they refused with 503 + Retry-After, summed from the lines that end a spell. For the
   * report only, as it counts neither way exactly: a refused INVITE's retransmission is refused and
   * counted again, and a spell cut short by a kill -9 or still open at the end logs no end line.
   */
  readonly overload: { readonly spells: number; readonly refused: number };
  readonly answered: number;
  readonly ledgerLines: number;
  readonly missing: readonly string[];
  readonly billedTwice: readonly string[];
  /** Ledger lines for calls SIPp never saw answered. */
  readonly unknown: readonly string[];
  /**
   * Calls billed outside their bound: within 1 s of SIPp's duration, or, for a call that ended while
   * the router was down, no more than the call timeout or the router's return, whichever is later
   * (its BYE got through late on a retransmission, or not before the timeout ended the call), and
   * no less than SIPp's duration, less the outage for a call the router's timeout ended just before
   * its kill (its BYEs re-sent after the restart), or less the time the callee's BYE waited for the
   * restarted router when the old one billed it but was killed before relaying it, with 1 s of margin.
   */
  readonly misbilled: readonly string[];
  /** Largest |billed − SIPp| in seconds, for calls that ended while the router was up, and for those that did not. */
  readonly worstDelta: number;
  readonly worstDeltaOutage: number;
  /** The router's outage after its kill -9 or SIGTERM, in ms (a SIGTERM's includes the drain). */
  readonly outageMs: number;
  readonly faults: readonly string[];
  readonly checked: readonly CheckedCall[];
}

/** A child process whose output lines can be awaited. */
class Proc {
  readonly child: ChildProcess;
  readonly exited: Promise<unknown>;
  private readonly lines: string[] = [];
  private readonly waiters: Array<{ re: RegExp; resolve: (l: string) => void }> = [];

  constructor(cmd: string, args: string[], env: NodeJS.ProcessEnv, onLine?: (l: string) => void) {
    this.child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    this.exited = once(this.child, "exit");
    for (const s of [this.child.stdout, this.child.stderr]) {
      createInterface({ input: s as NodeJS.ReadableStream }).on("line", (l) => {
        this.lines.push(l);
        onLine?.(l);
        for (const w of this.waiters.filter((x) => x.re.test(l))) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(l);
        }
      });
    }
  }

  /** The first line matching `re`, already seen or to come; rejects if the process exits first. */
  line(re: RegExp): Promise<string> {
    const seen = this.lines.find((l) => re.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    return Promise.race([
      new Promise<string>((resolve) => this.waiters.push({ re, resolve })),
      this.exited.then(() => {
        throw new Error(`exited before printing ${String(re)}:\n${this.lines.slice(-20).join("\n")}`);
      }),
    ]);
  }

  get output(): string {
    return this.lines.join("\n");
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    await this.exited;
  }
}

/** A port the kernel picked, free for UDP and TCP on 127.0.0.1 when checked. */
async function freePort(): Promise<number> {
  for (;;) {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const port = (srv.address() as { port: number }).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const udp = createSocket("udp4");
    const ok = await new Promise<boolean>((r) => {
      udp.once("error", () => r(false));
      udp.bind(port, "127.0.0.1", () => r(true));
    });
    await new Promise<void>((r) => (ok ? udp.close(() => r()) : r()));
    if (ok) return port;
  }
}

/** Waits until every condition of scripts/wait-port.mjs holds ("udp:127.0.0.1:5060", …). */
async function waitPorts(...conds: string[]): Promise<void> {
  const p = spawn(process.execPath, ["scripts/wait-port.mjs", ...conds], { cwd: ROOT, stdio: "ignore" });
  const [code] = (await once(p, "exit")) as [number | null];
  if (code !== 0) throw new Error(`not up: ${conds.join(" ")}`);
}

interface Leg {
  readonly kind: CheckedCall["kind"];
  readonly calls: number;
  readonly uac: string;
  readonly uas: string;
}

/** Runs the chaos scenario and returns what it found; leaves nothing behind. */
export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const log = o.log ?? (() => undefined);
  const callTimeout = o.callTimeout ?? 5;
  const dir = mkdtempSync(join(tmpdir(), "evsip-chaos-"));
  const procs: Proc[] = [];
  try {
    const legs = planLegs(o.calls);
    const [sipPort, evPort, ...uasPorts] = await Promise.all([freePort(), freePort(), ...legs.map(() => freePort())]);
    const routerEnv = {
      BILLING_STATE_DIR: join(dir, "router"),
      EVAPI_BIND_ADDR: `127.0.0.1:${evPort}`,
      BILLING_CALL_TIMEOUT: String(callTimeout),
    };
    // The built app, as a production router runs it: loading app.ts through tsx adds 0.3–0.7 s to
    // each start, so to the outage after the router's kill -9 (docs/load.md).
    const routerArgs = ["bin/evsip.js", "run", "dist/examples/billing/app.js", "--listen", `udp:127.0.0.1:${sipPort}`];
    const overload = { spells: 0, refused: 0 };
    const startRouter = async (): Promise<Proc> => {
      const r = new Proc(process.execPath, routerArgs, routerEnv, (l) => countOverload(l, overload));
      procs.push(r);
      await r.line(/listening on udp/);
      return r;
    };
    let billed = 0;
    const progress: Array<{ at: number; resolve: () => void }> = [];
    const onConsumerLine = (l: string): void => {
      if (!/^billing: .* \(.+\)$/.test(l)) return;
      billed++;
      for (const p of progress.filter((x) => billed >= x.at)) {
        progress.splice(progress.indexOf(p), 1);
        p.resolve();
      }
    };
    const billedAtLeast = (n: number): Promise<void> =>
      billed >= n ? Promise.resolve() : new Promise((resolve) => progress.push({ at: n, resolve }));
    const startConsumer = async (): Promise<Proc> => {
      const c = new Proc(
        process.execPath,
        ["dist/examples/billing/billing.js", String(evPort), join(dir, "billing")],
        {},
        onConsumerLine,
      );
      procs.push(c);
      await c.line(/billing subscribed/);
      return c;
    };

    let router = await startRouter();
    let consumer = await startConsumer();
    const errFile = (name: string): string[] => ["-trace_err", "-error_file", join(dir, `${name}.errors`)];
    // The calls take calls/rate seconds to place and up to the call timeout to end; the held-down
    // outage and two minutes more cover the restarts and a slow machine (a run with calls refused ends then, not later).
    const sippTimeout = Math.ceil(o.calls / o.rate) + callTimeout + Math.ceil((o.minOutageMs ?? 0) / 1000) + 120;
    const calleesStarted = Date.now();
    const uas = legs.map((leg, i) =>
      sipp(leg.uas, uasPorts[i] as number, leg.calls, sippTimeout, [
        "-trace_logs",
        "-log_file",
        join(dir, `${leg.kind}-callee.log`),
        ...errFile(`${leg.kind}-callee`),
      ]),
    );
    procs.push(...uas);
    await waitPorts(...uasPorts.map((p) => `udp:127.0.0.1:${p}`));
    const started = Date.now();
    const uac = legs.map((leg, i) =>
      sipp(leg.uac, 0, leg.calls, sippTimeout, [
        "-r",
        String(Math.max(0.1, (o.rate * leg.calls) / o.calls)),
        "-key",
        "callee",
        `127.0.0.1:${uasPorts[i]}`,
        "-s",
        leg.kind,
        "-trace_logs",
        "-log_file",
        join(dir, `${leg.kind}.log`),
        ...errFile(`${leg.kind}-caller`),
        `127.0.0.1:${sipPort}`,
      ]),
    );
    procs.push(...uac);

    // Faults, each when billing has reached a share of the calls, so they fall inside the run.
    const faults: string[] = [];
    let outage = { from: 0, to: 0 };
    const killConsumer = async (): Promise<void> => {
      await consumer.kill("SIGKILL");
      faults.push(`billing consumer kill -9 after ${billed} calls billed`);
      consumer = await startConsumer();
    };
    // A fault waits for its share of the calls billed. When every caller is done and the ledger is
    // still short of it 10 s later (most calls refused, say), the run fails with that reason instead
    // of waiting for a count that cannot come.
    const callersDone = Promise.all(uac.map((p) => p.exited));
    const billedShare = async (share: number): Promise<void> => {
      const n = Math.ceil(Math.round(o.calls * 0.95) * share);
      const done = new AbortController(); // the grace timer goes with the wait, however it ends
      const short = callersDone
        .then(() => delay(10_000, undefined, { signal: done.signal }))
        .then(
          () => billed < n,
          () => false,
        );
      try {
        if (!(await Promise.race([billedAtLeast(n).then(() => false), short]))) return;
      } finally {
        done.abort();
      }
      const codes = uac.map((p) => p.child.exitCode).join(",");
      throw new Error(
        `the callers ended (exit codes ${codes}) with ${billed} calls billed, short of the ${n} a fault waits for\n` +
          sippErrors(sippErrorFiles(dir, legs)).join("\n"),
      );
    };
    await billedShare(0.15);
    await killConsumer();
    await billedShare(0.35);
    outage = { from: Date.now(), to: 0 };
    await router.kill(o.graceful ? "SIGTERM" : "SIGKILL");
    faults.push(`router ${o.graceful ? "SIGTERM (graceful stop)" : "kill -9"} after ${billed} calls billed`);
    const holdDown = (o.minOutageMs ?? 0) - (Date.now() - outage.from);
    if (holdDown > 0) await delay(holdDown);
    router = await startRouter();
    outage.to = Date.now();
    log(`router down for ${outage.to - outage.from} ms`);
    await billedShare(0.6);
    await killConsumer();
    log(faults.join("; "));

    const codes = await Promise.all([...uac, ...uas].map(async (p) => ((await p.exited) as [number | null])[0]));
    log(`SIPp done after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const answered = readSippLogs(dir, legs, started, calleesStarted);
    // Every event is on its way or retained for the consumer: wait for the ledger to catch up.
    await Promise.race([billedAtLeast(answered.size), new Promise((r) => setTimeout(r, (callTimeout + 10) * 1000).unref())]);
    await router.kill("SIGTERM");
    await consumer.kill("SIGTERM");
    const ledger = readFileSync(join(dir, "billing", "ledger.jsonl"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as CallRecord);
    const callerStats = uac.map((p) => sippCounts(p.output));
    const calleeStats = uas.map((p) => sippCounts(p.output));
    const stats = [...callerStats, ...calleeStats];
    const errorFiles = sippErrorFiles(dir, legs);
    return check(o.calls, callTimeout, answered, ledger, outage, faults, overload, {
      successful: stats.reduce((n, s) => n + s.successful, 0),
      failed: stats.reduce((n, s) => n + s.failed, 0),
      exitCodes: codes,
      errors: sippErrors(errorFiles),
      calleesFailed: calleeStats.reduce((n, s) => n + s.failed, 0),
      refused503: callersSaw503(legs.map((l) => errorFiles.get(`${l.kind}-caller`) ?? "")),
    });
  } finally {
    await Promise.all(procs.map((p) => p.kill("SIGKILL")));
    rmSync(dir, { recursive: true, force: true });
  }
}

function planLegs(calls: number): Leg[] {
  const callerBye = Math.round(calls * 0.4);
  const calleeBye = Math.round(calls * 0.4);
  return [
    { kind: "caller-bye", calls: callerBye, uac: "uac-hangup.xml", uas: "uas-answer.xml" },
    { kind: "callee-bye", calls: calleeBye, uac: "uac-await-bye.xml", uas: "uas-hangup.xml" },
    { kind: "no-bye", calls: calls - callerBye - calleeBye, uac: "uac-await-bye.xml", uas: "uas-answer.xml" },
  ];
}

/**
 * SIPp on a scenario of examples/billing/sipp (port 0: SIPp picks one), stopped after `timeoutS`
 * whatever it still waits for: a callee whose calls the router refused waits for INVITEs that never come.
 */
function sipp(scenario: string, port: number, calls: number, timeoutS: number, extra: string[]): Proc {
  const args = ["-sf", join(SCENARIOS, scenario), "-i", "127.0.0.1", "-t", "u1", "-nostdin", "-m", String(calls)];
  if (port > 0) args.push("-p", String(port));
  // -l: no cap on calls at once (SIPp's default one throttles the rate when calls are long).
  args.push("-l", String(calls), "-timeout", `${timeoutS}s`, "-timeout_error", ...extra);
  return new Proc("sipp", args, {});
}

/** SIPp's -trace_err entries each begin with a date and a time, the message they quote after. */
const SIPP_ERROR_ENTRY = /(?=\d{4}-\d{2}-\d{2}\t\d{2}:\d{2}:\d{2}\.\d+\t)/;
const SIPP_ERRORS_SHOWN = 5;

/** SIPp's error file (-trace_err) split into its entries, each with the message it quotes. */
function sippErrorFile(text: string): string[] {
  return text.split(SIPP_ERROR_ENTRY).filter((e) => /^\d{4}-/.test(e));
}

/**
 * A call SIPp aborted on a 503 to its INVITE: a refusal, which the report counts apart. A 503 to
 * any other request (a BYE, say) is an error like the rest.
 */
function isRefusal(entry: string): boolean {
  return entry.includes("received 'SIP/2.0 503 ") && /^CSeq:\s*\d+\s+INVITE\s*$/im.test(entry);
}

/**
 * SIPp's error file as one line per entry (the quoted message cut off), leaving out the refusals:
 * a run with refusals would otherwise fill the report, and bench/RESULTS.md, with the same 503
 * quoted a thousand times.
 */
export function sippErrorEntries(text: string): string[] {
  return sippErrorFile(text)
    .filter((e) => !isRefusal(e))
    .map((e) => (e.split("\n")[0] ?? "").trim());
}

/** Each party's SIPp error file (-trace_err), read once: "<leg>-caller" / "<leg>-callee" → its text ("" when none). */
function sippErrorFiles(dir: string, legs: Leg[]): Map<string, string> {
  const names = legs.flatMap((l) => [`${l.kind}-caller`, `${l.kind}-callee`]);
  return new Map(names.map((name) => [name, fileText(join(dir, `${name}.errors`))]));
}

/** The first few entries of each SIPp error file, and how many more. */
function sippErrors(errorFiles: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [name, text] of errorFiles) {
    const entries = sippErrorEntries(text);
    for (const e of entries.slice(0, SIPP_ERRORS_SHOWN)) out.push(`${name}: ${e.slice(0, 300)}`);
    if (entries.length > SIPP_ERRORS_SHOWN) out.push(`${name}: and ${entries.length - SIPP_ERRORS_SHOWN} more`);
  }
  return out;
}

/**
 * Adds a router log line's overload spell to `into`: a line with code ERR_OVERLOAD that begins a
 * spell (it names the rule that fired) or ends one (it says how many calls the spell refused).
 */
export function countOverload(line: string, into: { spells: number; refused: number }): void {
  if (!line.includes('"ERR_OVERLOAD"')) return;
  let rec: { rule?: unknown; refused?: unknown };
  try {
    rec = JSON.parse(line) as typeof rec;
  } catch {
    return;
  }
  if (typeof rec.rule === "string") into.spells++;
  if (typeof rec.refused === "number") into.refused += rec.refused;
}

/**
 * Calls the callers aborted on a 503 to their INVITE (isRefusal). A 503 that SIPp could not map to
 * a call (the answer to a retransmission of an INVITE already refused) is filed otherwise and not
 * counted.
 */
export function callersSaw503(errorFiles: readonly string[]): number {
  // Calls, not entries: the report weighs this against SIPp's failed calls, and one call's abort
  // is not to be counted twice if SIPp logs it twice. (One run at 49b15fa counted 2,887 refusals
  // against 2,597 failed calls; its files were gone, so whether entries repeated is not known.)
  const calls = new Set<string>();
  for (const text of errorFiles) {
    for (const e of sippErrorFile(text).filter(isRefusal)) calls.add(/Call-Id '([^']*)'/.exec(e)?.[1] ?? e);
  }
  return calls.size;
}

/** "Successful call" and "Failed call", cumulative column, of SIPp's last screen. */
function sippCounts(out: string): { successful: number; failed: number } {
  const count = (name: string): number => {
    const rows = [...out.matchAll(new RegExp(`${name}\\s*\\|\\s*\\d+\\s*\\|\\s*(\\d+)`, "g"))];
    return Number(rows.at(-1)?.[1] ?? 0);
  };
  return { successful: count("Successful call"), failed: count("Failed call") };
}

interface SippCall {
  readonly kind: CheckedCall["kind"];
  /** Wall clock of the answer, approximately (SIPp's clock starts with the process). */
  readonly answeredAt: number;
  /** Wall clock of the end, approximately; the same offset, so endedAt − answeredAt is SIPp's own. */
  endedAt: number | undefined;
  /** Wall clock of the callee's BYE, when the callee hung up (its own log). */
  calleeByeAt: number | undefined;
}

/** A SIPp log's (or error file's) text, "" when nothing was logged (SIPp writes the file on the first line). */
function fileText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

/** A SIPp log's lines. */
function logLines(file: string): string[] {
  return fileText(file).split("\n");
}

/** The callers' logs (answered, ended) and the callees' (hung up), by Call-ID. */
function readSippLogs(dir: string, legs: Leg[], started: number, calleesStarted: number): Map<string, SippCall> {
  const calls = new Map<string, SippCall>();
  for (const leg of legs) {
    for (const line of logLines(join(dir, `${leg.kind}.log`))) {
      const m = /^(answered|ended) (\S+) (\d+)$/.exec(line);
      if (!m) continue;
      const [, what, ci, tick] = m as unknown as [string, string, string, string];
      const c = calls.get(ci);
      if (what === "answered" && !c)
        calls.set(ci, {
          kind: leg.kind,
          answeredAt: started + Number(tick),
          endedAt: undefined,
          calleeByeAt: undefined,
        });
      if (what === "ended" && c && c.endedAt === undefined) c.endedAt = started + Number(tick);
    }
  }
  // The callees' clocks start before the callers' (they are up first).
  for (const leg of legs) {
    for (const line of logLines(join(dir, `${leg.kind}-callee.log`))) {
      const m = /^hangup (\S+) (\d+)$/.exec(line);
      const c = m ? calls.get(m[1] as string) : undefined;
      if (c && c.calleeByeAt === undefined) c.calleeByeAt = calleesStarted + Number(m?.[2]);
    }
  }
  return calls;
}

/**
 * SIPp's clocks and the wall clock differ by its start-up, and the router's "listening" is not to
 * the ms. Two margins for it: a wide one where a call near the outage only gets the looser billing
 * bound (endedInOutage), a narrow one where it excuses a timeout (timeoutExcused).
 */
const OUTAGE_EDGE_MS = 1000;
const CLOCK_MARGIN_MS = 500;
/** When a non-INVITE request first sent at 0 is sent again (RFC 3261 §17.1.2.2: T1 = 500 ms doubling to T2 = 4 s). */
const RETRANSMITS_MS = [0, 500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500];

/** The first time a BYE first sent at `sentAt` reached a running router (Infinity: never within Timer F). */
function byeReachesRouter(sentAt: number, outage: { from: number; to: number }): number {
  const from = outage.from - CLOCK_MARGIN_MS;
  const to = outage.to + CLOCK_MARGIN_MS;
  for (const t of RETRANSMITS_MS) if (sentAt + t < from || sentAt + t > to) return sentAt + t;
  return Number.POSITIVE_INFINITY;
}

/** How late (ms) the caller may hear of a callee's BYE first sent just before the router's kill (0: not such a call). */
function relayedLate(c: SippCall, outage: { from: number; to: number }): number {
  if (c.kind !== "callee-bye" || c.calleeByeAt === undefined || c.calleeByeAt > outage.from + CLOCK_MARGIN_MS) return 0;
  const late = byeReachesRouter(c.calleeByeAt, outage) - c.calleeByeAt;
  return Number.isFinite(late) ? late : 0;
}

function check(
  calls: number,
  callTimeout: number,
  answered: Map<string, SippCall>,
  ledger: CallRecord[],
  outage: { from: number; to: number },
  faults: string[],
  overload: ChaosReport["overload"],
  sippStats: ChaosReport["sipp"],
): ChaosReport {
  const byCi = new Map<string, CallRecord[]>();
  for (const r of ledger) byCi.set(r.ci, [...(byCi.get(r.ci) ?? []), r]);
  const checked: CheckedCall[] = [];
  let worstDelta = 0;
  let worstDeltaOutage = 0;
  const misbilled: string[] = [];
  for (const [ci, c] of answered) {
    const recs = byCi.get(ci) ?? [];
    const sippSeconds = c.endedAt === undefined ? undefined : (c.endedAt - c.answeredAt) / 1000;
    // The caller heard of the end while the router was down, or from a BYE held up by the outage.
    // (Only a held-up BYE extends the window: any other call that ended after the outage keeps the
    // 1 s bound, however late its callee hung up.)
    const relayLateMs = relayedLate(c, outage);
    const heldUpTo = relayLateMs > 0 && c.calleeByeAt !== undefined ? c.calleeByeAt + relayLateMs : 0;
    const heardBy = Math.max(outage.to, heldUpTo) + OUTAGE_EDGE_MS;
    const endedInOutage = c.endedAt !== undefined && c.endedAt >= outage.from - OUTAGE_EDGE_MS && c.endedAt <= heardBy;
    const byeAt = c.kind === "caller-bye" ? c.endedAt : c.kind === "callee-bye" ? c.calleeByeAt : undefined;
    const timeoutExcused =
      byeAt !== undefined && byeReachesRouter(byeAt, outage) > c.answeredAt + callTimeout * 1000 - CLOCK_MARGIN_MS;
    const billedSeconds = recs[0]?.seconds;
    if (sippSeconds !== undefined && billedSeconds !== undefined) {
      const d = Math.abs(billedSeconds - sippSeconds);
      if (endedInOutage) worstDeltaOutage = Math.max(worstDeltaOutage, d);
      else worstDelta = Math.max(worstDelta, d);
      // A timeout due while the router was down ends the call when it is back, so it bills to then.
      // And a call the router ended itself just before its kill (a timeout, billed then) may have
      // its BYEs re-sent only after the restart: SIPp then sees the end up to the outage later than
      // the bill. A call SIPp's caller hung up is never billed short: its BYE only reaches the router
      // later. A callee's BYE the router took just before its kill: the call-end and the dialog's
      // end are on disk before the BYE is relayed (write-ahead), so a kill in between bills the call
      // when the callee hung up, while the caller hears of it from the BYE's retransmission through
      // the restarted router: up to the outage and one retransmission interval later.
      const backAfter = (outage.to - c.answeredAt) / 1000;
      const lateBye = recs[0]?.reason === "timeout" ? (outage.to - outage.from) / 1000 : relayLateMs / 1000;
      const ok = endedInOutage
        ? billedSeconds >= sippSeconds - lateBye - 1 && billedSeconds <= Math.max(sippSeconds, callTimeout, backAfter) + 1
        : d <= 1;
      if (!ok) misbilled.push(`${ci} billed ${billedSeconds.toFixed(3)} s, SIPp ${sippSeconds.toFixed(3)} s`);
    }
    const reason = recs[0]?.reason;
    checked.push({ ci, kind: c.kind, sippSeconds, billed: recs.length, billedSeconds, reason, endedInOutage, timeoutExcused });
  }
  return {
    calls,
    sipp: sippStats,
    answered: answered.size,
    ledgerLines: ledger.length,
    missing: checked.filter((c) => c.billed === 0).map((c) => c.ci),
    billedTwice: checked.filter((c) => c.billed > 1).map((c) => c.ci),
    misbilled,
    unknown: [...byCi.keys()].filter((ci) => !answered.has(ci)),
    worstDelta,
    worstDeltaOutage,
    outageMs: outage.to - outage.from,
    faults,
    overload,
    checked,
  };
}

/**
 * The run's verdict: every answered call billed once and within its bound, and every other call
 * refused out loud: each call SIPp counted as failed is one its caller aborted on a 503, no callee
 * failed (a refused call never reaches one), and answered and refused add up to the calls placed.
 * The router's own log of its refusals is shown, not checked (see ChaosReport.overload).
 */
export function lostNothing(r: ChaosReport): boolean {
  const billedRight = r.missing.length + r.billedTwice.length + r.unknown.length + r.misbilled.length === 0;
  const refused = r.sipp.refused503;
  return billedRight && r.answered + refused === r.calls && r.sipp.failed === refused && r.sipp.calleesFailed === 0;
}

/** The report as a few lines for a terminal. */
export function formatReport(r: ChaosReport): string {
  const byReason = new Map<string, number>();
  for (const c of r.checked)
    byReason.set(`${c.kind}/${c.reason ?? "-"}`, (byReason.get(`${c.kind}/${c.reason ?? "-"}`) ?? 0) + 1);
  return [
    `calls placed ${r.calls}; SIPp: ${r.sipp.successful} successful, ${r.sipp.failed} failed (exit codes ${r.sipp.exitCodes.join(",")})`,
    `answered (SIPp) ${r.answered}; ledger lines ${r.ledgerLines}; missing ${r.missing.length}; billed twice ${r.billedTwice.length}; unknown ${r.unknown.length}`,
    `worst |billed - SIPp| ${r.worstDelta.toFixed(3)} s; for calls ending in the router's ${r.outageMs} ms outage ${r.worstDeltaOutage.toFixed(3)} s; outside their bound ${r.misbilled.length}`,
    ...r.misbilled.slice(0, 10),
    `by leg/reason: ${[...byReason].map(([k, n]) => `${k} ${n}`).join(", ")}`,
    `faults: ${r.faults.join("; ")}`,
    `refused: the callers saw ${r.sipp.refused503} calls refused with a 503; the router logged ${r.overload.spells} overload spells (ERR_OVERLOAD) refusing ${r.overload.refused} requests with 503 + Retry-After`,
    ...r.sipp.errors,
  ].join("\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const calls = Number(process.argv[2] ?? 1000);
  const rate = Number(process.argv[3] ?? 20);
  const minOutageMs = Number(process.argv[4] ?? 0);
  if (!(minOutageMs >= 0)) throw new Error(`least outage: a number of ms expected, got "${process.argv[4]}"`);
  const graceful = process.argv[5] === "graceful";
  const report = await runChaos({ calls, rate, minOutageMs, graceful, log: (l) => console.log(l) });
  console.log(formatReport(report));
  process.exitCode = lostNothing(report) ? 0 : 1;
}
