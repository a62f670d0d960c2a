// The open-loop load tool (issue 10): drives evsip (a child process) and Kamailio 5.6 (N children)
// one after the other with the same traffic, prints one table with both and their ratios, and
// appends it to bench/RESULTS.md. See bench/README.md. Examples:
//   npm run build && node dist/bench/load.js --scenario async --rate 2000 --duration 10
//   node dist/bench/load.js --scenario proxy --steps 1000:8000:1000 --step-duration 8
//   node dist/bench/load.js --scenario async --rate 5000 --duration 5 --cold --driver sipp
import { hasKamailio } from "../test/support/kamailio.js";
import { hasSipp } from "../test/support/sipp.js";
import { parseLoadArgs, type LoadArgs } from "./load/args.js";
import { memoryTable, repeatTable, runTable, stepsTable, type RouterRun } from "./load/report.js";
import { Schedule } from "./load/schedule.js";
import { runSippOn, sippTable, warmUpPhase, type SippRouterRun } from "./load/sipp-driver.js";
import { startTarget, type RouterName, type Target } from "./load/targets.js";
import { runUac, type Flow } from "./load/uac.js";
import { startUas, type Uas } from "./load/uas.js";
import { udpDrops } from "./load/proc-usage.js";
import { scrape, vitals } from "./load/evsip-metrics.js";
import { appendResults, resultsHeader } from "./support/results.js";
import { evsipGcLogPath, startTrace, writeRunTrace } from "./load/trace.js";

const FLOWS: Record<LoadArgs["scenario"], Flow> = { relay: "options", async: "invite-local", rpc: "invite-local", proxy: "call" };
let runs = 0;
const runId = (): string => `L${Date.now().toString(36)}r${++runs}`;

async function eventsSoFar(t: Target): Promise<number> {
  const s = await t.peer?.stats();
  return s === undefined ? 0 : s.counts.reduce((a, b) => a + b, 0);
}

type UacBase = Omit<Parameters<typeof runUac>[1], "runId">;

/** Unless cold: warm-up traffic at --warmup-rate (default min(rate, 2000)/s), answers awaited, results dropped. */
async function warmUp(a: LoadArgs, uac: UacBase): Promise<void> {
  if (a.warmup <= 0) return;
  await runUac(new Schedule([{ rate: a.warmupRate, seconds: a.warmup }]), { ...uac, runId: runId() });
}

/** The measured schedule, with the router's memory sampled every --mem-every seconds meanwhile. */
async function sampled(
  t: Target,
  a: LoadArgs,
  uac: UacBase,
): Promise<{ result: Awaited<ReturnType<typeof runUac>>; memSamples: number[] }> {
  const memSamples: number[] = [];
  const sampler = a.memEvery > 0 ? setInterval(() => memSamples.push(t.memoryKb()), a.memEvery * 1000) : undefined;
  try {
    return { result: await runUac(new Schedule(a.segments), { ...uac, runId: runId() }), memSamples };
  } finally {
    clearInterval(sampler);
  }
}

/** Warm-up (unless cold), then the measured schedule with CPU, memory, drops and events read around it. */
async function measure(t: Target, a: LoadArgs): Promise<RouterRun> {
  const uac: UacBase = {
    port: t.sipPort,
    flow: FLOWS[a.scenario],
    sockets: a.sockets,
    rcvbuf: a.rcvbuf,
    deadlineMs: a.deadlineMs,
    pacer: a.pacer,
    oc: a.oc,
  };
  // evsip's first scrape is the first run of its endpoint's code: before the warm-up, so that what
  // it leaves behind is not at the start of the measured run (docs/load.md).
  if (t.metricsPort !== undefined) await scrape(t.metricsPort);
  await warmUp(a, uac);
  const events0 = a.scenario === "relay" ? await eventsSoFar(t) : 0;
  const scraped = t.metricsPort === undefined ? undefined : await scrape(t.metricsPort);
  const memBeforeKb = t.memoryKb();
  const drops0 = udpDrops([t.measuredPort]);
  const edgeDrops0 = t.edgeCpuSeconds === undefined ? 0 : udpDrops([t.sipPort]);
  const edgeCpu0 = t.edgeCpuSeconds?.() ?? 0;
  const tool0 = process.cpuUsage();
  const cpu0 = t.cpuSeconds();
  const user0 = t.userCpuSeconds();
  const { result, memSamples } = await sampled(t, a, uac);
  const cpuSeconds = t.cpuSeconds() - cpu0;
  const userCpuSeconds = t.userCpuSeconds() - user0;
  const tool = process.cpuUsage(tool0);
  const routerDrops = udpDrops([t.measuredPort]) - drops0;
  const edge =
    t.edgeCpuSeconds === undefined
      ? undefined
      : { cpuSeconds: t.edgeCpuSeconds() - edgeCpu0, drops: udpDrops([t.sipPort]) - edgeDrops0 };
  const memAfterKb = t.memoryKb();
  const shm = t.shm();
  const evsip = scraped === undefined || t.metricsPort === undefined ? undefined : vitals(scraped, await scrape(t.metricsPort));
  const events = a.scenario === "relay" ? (await eventsSoFar(t)) - events0 : undefined;
  if (a.traceDir !== undefined) writeRunTrace(a.traceDir, `${t.router}-${t.pid}`, t.router, t.pid, result, t.callWorkers());
  return {
    router: t.router,
    uac: result,
    cpuSeconds,
    userCpuSeconds,
    toolCpuSeconds: (tool.user + tool.system) / 1e6,
    routerDrops,
    memBeforeKb,
    memAfterKb,
    memSamples,
    ...(shm === undefined ? {} : { shm }),
    ...(evsip === undefined ? {} : { evsip }),
    ...(events === undefined ? {} : { events }),
    ...(edge === undefined ? {} : { edge }),
  };
}

async function onRouter<T>(router: RouterName, a: LoadArgs, uas: Uas | undefined, fn: (t: Target) => Promise<T>): Promise<T> {
  const t = await startTarget(router, a.scenario, {
    clients: a.clients,
    uasPort: uas?.port ?? 0,
    kamailioChildren: a.children,
    evsipNodeArgs: a.evsipNodeArgs,
    evsipMetrics: a.evsipMetrics,
    sipTcp: a.sippTransport === "t1",
    ...(a.edge === undefined ? {} : { edge: a.edge }),
    ...(a.traceDir === undefined ? {} : { evsipGcLog: evsipGcLogPath(a.traceDir) }),
  });
  try {
    return await fn(t);
  } finally {
    await t.stop();
  }
}

function describe(a: LoadArgs): string {
  const seg = a.segments[0];
  const load = a.steps
    ? `steps ${a.segments.map((s) => s.rate).join(", ")} calls/s, ${seg?.seconds} s each`
    : `${seg?.rate} calls/s for ${seg?.seconds} s`;
  const kam = a.routers.includes("kamailio") ? `; Kamailio -n ${a.children}` : "";
  const sippWarm = warmUpPhase(seg?.rate ?? 1, a.sippWarmup);
  const warm = a.cold
    ? "cold start (no warm-up traffic)"
    : a.driver === "sipp"
      ? `warm-up ${sippWarm.calls} calls at ${sippWarm.rate}/s`
      : `warm-up ${a.warmup} s at ${a.warmupRate}/s`;
  const how =
    a.driver === "sipp"
      ? a.sippTransport === "t1"
        ? "SIPp over one TCP connection"
        : "SIPp (default buffers)"
      : `load tool, ${a.pacer} pacer, ${a.sockets} socket(s), deadline ${a.deadlineMs} ms${a.oc ? ", an RFC 7339 client (--oc)" : ""}`;
  const edge =
    a.edge === undefined
      ? ""
      : `; through an uncapped edge router of the same kind (evsip's ${a.edge === "oc" ? "with" : "without"} RFC 7339 towards the router measured)`;
  return `Load: scenario **${a.scenario}**, ${load}, ${warm}, ${how}${kam}${edge}.\n\n`;
}

/** One run: every router in turn, the table of what they did, and the runs (none with SIPp). */
async function runOnce(a: LoadArgs): Promise<{ table: string; runs: RouterRun[] }> {
  const uas = a.scenario === "proxy" ? await startUas(a.rcvbuf) : undefined;
  let table: string;
  const out: RouterRun[] = [];
  try {
    if (a.driver === "sipp") {
      const seg = a.segments[0] ?? { rate: 1, seconds: 1 };
      const sipp: SippRouterRun[] = [];
      for (const r of a.routers)
        sipp.push(
          await onRouter(r, a, uas, (t) =>
            runSippOn(
              t,
              a.scenario,
              seg.rate,
              seg.seconds,
              a.cold ? undefined : warmUpPhase(seg.rate, a.sippWarmup),
              a.sippTransport,
              uas,
            ),
          ),
        );
      table = sippTable(sipp);
    } else {
      for (const r of a.routers) {
        out.push(await onRouter(r, a, uas, (t) => measure(t, a)));
        console.error(`${r}: done`);
      }
      table = a.steps ? `${stepsTable(out)}\n${runTable(out, a.lateUs)}` : runTable(out, a.lateUs);
      if (a.memEvery > 0) table += `\n${memoryTable(out, a.memEvery)}`;
    }
  } finally {
    await uas?.close();
  }
  return { table, runs: out };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const a = parseLoadArgs(argv);
  if (a.routers.includes("kamailio") && !hasKamailio()) throw new Error("kamailio is not installed (use --target evsip)");
  if (a.driver === "sipp" && !hasSipp()) throw new Error("sipp is not installed");
  const quoted = argv.map((x) => (/\s/.test(x) ? `'${x}'` : x)).join(" ");
  const header = (): string => resultsHeader(`node dist/bench/load.js ${quoted}`);
  const all: RouterRun[][] = [];
  if (a.traceDir !== undefined) await startTrace(a.traceDir);
  for (let k = 1; k <= a.repeat; k++) {
    const { table, runs } = await runOnce(a);
    if (runs.length > 0) all.push(runs);
    const which = a.repeat > 1 ? `Run ${k} of ${a.repeat}. ` : "";
    const section = `${header()}${which}${describe(a)}${table}`;
    console.log(section);
    if (a.append) appendResults(section);
  }
  if (all.length > 1 && !a.steps) {
    const section = `${header()}All ${all.length} runs. ${describe(a)}${repeatTable(all, a.lateUs)}`;
    console.log(section);
    if (a.append) appendResults(section);
  }
}

await main();
