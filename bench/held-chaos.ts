// A routing consumer killed with kill -9 while it holds calls, evsip against Kamailio 5.6 in the
// same run, with the same SIPp caller and the same consumer processes
// (test/fixtures/decision-consumer.ts, answering "allow" DELAY ms after each event). Every INVITE
// goes by async unicast to the first consumer tagged "route", which is killed once it has answered
// a third of the calls. Two scenarios:
// - "standby": a second consumer is connected all along and takes over;
// - "restart": it is the only one, and a new consumer process is started as soon as it is dead.
// Reported per router: SIPp's successful and failed calls, the calls still unanswered when SIPp
// stops (a held call left to fr_timer, 30 s, is one), and evsip's held-call counters. evsip runs
// with its defaults and with Kamailio's behaviour ("standby": heldOnClientLoss "redeliver" and
// "wait"; "restart": holdWithoutClient on and off).
// Run: npm run build && node dist/bench/held-chaos.js [calls=3000] [rate=300] [delay=100]
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { pino } from "pino";
import { defineApp } from "../src/app.js";
import { Server, serverInternals } from "../src/server.js";
import type { EvapiModule } from "../src/modules/evapi/index.js";
import { childLines } from "../test/support/child-lines.js";
import { kill9 } from "../test/support/kill9.js";
import { hasKamailio, startKamailio } from "../test/support/kamailio.js";
import { freePort, hasSipp, runSipp } from "../test/support/sipp.js";
import { benchFile } from "./support/sipp-macro.js";
import { appendResults, resultsHeader } from "./support/results.js";

const calls = Number(process.argv[2] ?? 3000);
const rate = Number(process.argv[3] ?? 300);
const delay = Number(process.argv[4] ?? 100);
const CONSUMER = fileURLToPath(new URL("../test/fixtures/decision-consumer.js", import.meta.url));
/** Time for the routers' connection-new routes to tag both consumers (no signal for it in Kamailio). */
const SETTLE_MS = 500;

function app(policy: "redeliver" | "wait", holdWithoutClient: boolean) {
  return defineApp({
    modules: { evapi: { bindAddr: "127.0.0.1:0", heldOnClientLoss: policy, holdWithoutClient } },
    request(ctx) {
      if (ctx.isMethod("ACK")) return;
      if (ctx.isMethod("BYE")) {
        ctx.sl.sendReply(200, "OK");
        return;
      }
      if (ctx.isMethod("INVITE")) {
        const n = ctx.evapi.asyncUnicast(
          (t) => ({ event: "route", tindex: t.index, tlabel: t.label, ci: ctx.pv("$ci") }),
          "route",
        );
        if (n === 0) ctx.tm.reply(503, "No Routing Service");
        return;
      }
      ctx.sl.sendReply(405, "Method Not Allowed");
    },
    routes: {
      RESUME(ctx) {
        ctx.tm.reply(200, "OK");
      },
    },
    events: {
      "evapi:connection-new"(ctx) {
        ctx.evapi.setTag("route");
      },
      "evapi:message-received"(ctx) {
        ctx.evapi.decide({ allow: "RESUME" });
      },
    },
  });
}

interface Router {
  readonly sipPort: number;
  readonly evapiPort: number;
  counters(): string;
  stop(): Promise<void>;
}

async function startEvsip(policy: "redeliver" | "wait", holdWithoutClient = false): Promise<Router> {
  const server = new Server(app(policy, holdWithoutClient), { listen: ["udp:127.0.0.1:0"], logger: pino({ level: "silent" }) });
  await server.start();
  const evapi = serverInternals(server).modules.get("evapi") as EvapiModule;
  return {
    sipPort: server.listeners()[0]?.port ?? 0,
    evapiPort: evapi.address().port,
    counters: () => {
      const s = evapi.stats();
      const n = (k: string): number => s[k] as number;
      return `held lost ${n("heldLost")}, parked ${n("heldParked")}, sent again ${n("heldRedelivered")}, still waiting ${n("heldLostPending")}`;
    },
    stop: () => server.stop(),
  };
}

async function startKam(): Promise<Router> {
  const [sipPort, evapiPort] = [await freePort("udp"), await freePort("tcp")];
  const k = await startKamailio(benchFile("kamailio/held.cfg"), sipPort, { EVAPI_ADDR: `"127.0.0.1:${evapiPort}"` }, 4);
  return { sipPort, evapiPort, counters: () => "–", stop: () => k.stop() };
}

function consumer(port: number, label: string) {
  const child = spawn(process.execPath, [CONSUMER, String(port), String(delay), label], { stdio: ["ignore", "pipe", "pipe"] });
  return { child, ...childLines(child) };
}

interface Row {
  readonly router: string;
  readonly successful: number;
  readonly failed: number;
  readonly unanswered: number;
  readonly counters: string;
}

/** SIPp's final count in its cumulative column. */
function sippCount(stdout: string, what: string): number {
  const m = new RegExp(`${what}\\s*\\|\\s*\\d+\\s*\\|\\s*(\\d+)`).exec(stdout);
  return m ? Number(m[1]) : Number.NaN;
}

async function run(name: string, restart: boolean, start: () => Promise<Router>): Promise<Row> {
  const r = await start();
  const a = consumer(r.evapiPort, "a");
  let b: ReturnType<typeof consumer> | undefined;
  try {
    await a.logged(/^connected a$/);
    if (!restart) {
      b = consumer(r.evapiPort, "b");
      await b.logged(/^connected b$/);
    }
    await sleep(SETTLE_MS);
    // SIPp stops 10 s after the last call is due: long enough for a redelivered call, far short of fr_timer.
    const sipp = runSipp({
      scenario: "uac",
      target: `127.0.0.1:${r.sipPort}`,
      calls,
      rate,
      timeoutSec: Math.ceil(calls / rate) + 10,
    });
    // A SIPp run that ends first (a failure) must not leave this waiting for ever.
    await Promise.race([
      a.logged(new RegExp(`^answered ${Math.floor(calls / 3)}$`)),
      sipp.then(() => Promise.reject(new Error("SIPp ended before the consumer answered a third of the calls"))),
    ]);
    await kill9(a.child);
    if (restart) b = consumer(r.evapiPort, "b"); // the restarted service: a new process, a new connection
    const res = await sipp;
    const successful = sippCount(res.stdout, "Successful call");
    const failed = sippCount(res.stdout, "Failed call");
    return { router: name, successful, failed, unanswered: calls - successful - failed, counters: r.counters() };
  } finally {
    await kill9(a.child);
    if (b) await kill9(b.child);
    await r.stop();
  }
}

if (!hasSipp()) throw new Error("SIPp is needed (apt-get install -y sip-tester)");
const header = resultsHeader(`node dist/bench/held-chaos.js ${calls} ${rate} ${delay}`);
const table = (title: string, rows: readonly Row[]): string =>
  [
    `| ${title} | successful | failed | unanswered when SIPp stopped | evsip's counters |`,
    "|---|---:|---:|---:|---|",
    ...rows.map((r) => `| ${r.router} | ${r.successful} | ${r.failed} | ${r.unanswered} | ${r.counters} |`),
  ].join("\n");
const kamailio = hasKamailio();
const standby = [
  await run('evsip, heldOnClientLoss "redeliver"', false, () => startEvsip("redeliver")),
  await run('evsip, heldOnClientLoss "wait"', false, () => startEvsip("wait")),
  ...(kamailio ? [await run("Kamailio 5.6, 4 children", false, startKam)] : []),
];
const restarted = [
  await run("evsip, holdWithoutClient", true, () => startEvsip("redeliver", true)),
  await run("evsip, defaults (no client: the app answers 503)", true, () => startEvsip("redeliver")),
  ...(kamailio ? [await run("Kamailio 5.6, 4 children", true, startKam)] : []),
];
const text = `${table("standby: a second consumer takes over", standby)}\n\n${table("restart: the only consumer, a new process started at once", restarted)}`;
console.log(text);
appendResults(
  `${header}A routing consumer killed with kill -9 holding calls: ${calls} SIPp calls at ${rate}/s, async unicast to the first consumer, answering after ${delay} ms, killed after ${Math.floor(calls / 3)} answers.\n\n${text}\n`,
);
