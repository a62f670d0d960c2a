// A routing consumer killed with kill -9 while it holds calls, evsip against Kamailio 5.6 in the
// same run, with the same SIPp caller and the same consumer processes
// (test/fixtures/decision-consumer.ts, answering "allow" DELAY ms after each event). Every INVITE
// goes by async unicast to the first consumer tagged "route", which is killed once it has answered
// a third of the calls. Two scenarios:
// - "standby": a second consumer is connected all along and takes over;
// - "restart": it is the only one, and a new consumer process is started as soon as it is dead.
// - "jsonrpc": the same with jsonrpc_request to two JSON-RPC services
//   (test/fixtures/rpc-service.ts, answering after DELAY ms); the one that has answered a third of
//   the calls first is killed (bench/kamailio/jsonrpc.cfg for Kamailio, whose jsonrpcc keeps to one
//   server).
// Reported per router: SIPp's successful and failed calls, the calls still unanswered when SIPp
// stops (a held call left to fr_timer, 30 s, is one), and evsip's counters. evsip runs with its
// defaults and with Kamailio's behaviour ("standby": heldOnClientLoss "redeliver" and "wait";
// "restart": holdWithoutClient on and off; "jsonrpc": retryOnLoss on and off).
// Run: npm run build && node dist/bench/held-chaos.js [calls=3000] [rate=300] [delay=100]
import { pino } from "pino";
import { defineApp } from "../src/app.js";
import { Server, serverInternals } from "../src/server.js";
import type { EvapiModule } from "../src/modules/evapi/index.js";
import type { JsonRpcModuleInstance } from "../src/modules/jsonrpcc/index.js";
import { waitFor } from "../test/support/wait-for.js";
import { kill9 } from "../test/support/kill9.js";
import { startDecisionConsumer, startRpcService } from "../test/support/peer-processes.js";
import { hasKamailio, startKamailio } from "../test/support/kamailio.js";
import { connectedTo, retryWhenPortTaken } from "../test/support/port-owner.js";
import { freePort, hasSipp, runSipp, sippCallCounts } from "../test/support/sipp.js";
import { benchFile } from "./support/sipp-macro.js";
import { appendResults, resultsHeader } from "./support/results.js";

const calls = Number(process.argv[2] ?? 3000);
const rate = Number(process.argv[3] ?? 300);
const delay = Number(process.argv[4] ?? 100);
/**
 * Kamailio is settled once its connection-new route has tagged the consumers (held.cfg logs each),
 * or once its jsonrpcc holds a connection to each service (the kernel's table); evsip is asked.
 */
const SETTLE_MS = 5000;

/** How many consumers Kamailio's held.cfg has tagged, from its log. */
function taggedByKamailio(log: string): number {
  return log.split("evapi consumer tagged route").length - 1;
}

/** The ACK (absorbed) and the BYE (200) of SIPp's calls: true when `ctx` was one of them. */
function answeredInDialog(ctx: {
  isMethod(m: string): boolean;
  readonly sl: { sendReply(code: number, reason: string): unknown };
}): boolean {
  if (ctx.isMethod("ACK")) return true;
  if (!ctx.isMethod("BYE")) return false;
  ctx.sl.sendReply(200, "OK");
  return true;
}

function app(policy: "redeliver" | "wait", holdWithoutClient: boolean) {
  return defineApp({
    modules: { evapi: { bindAddr: "127.0.0.1:0", heldOnClientLoss: policy, holdWithoutClient } },
    request(ctx) {
      if (answeredInDialog(ctx)) return;
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
  /** Resolves once `peers` consumers are tagged (evapi), or its services connected (jsonrpc). */
  settled(peers: number): Promise<void>;
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
    settled: (peers) => waitFor(() => [...evapi.service.table.all()].filter((c) => c.tag === "route").length >= peers, SETTLE_MS),
    counters: () => {
      const s = evapi.stats();
      const n = (k: string): number => s[k] as number;
      return `held lost ${n("heldLost")}, parked ${n("heldParked")}, sent again ${n("heldRedelivered")}, still waiting ${n("heldLostPending")}`;
    },
    stop: () => server.stop(),
  };
}

/** Kamailio with held.cfg, on fresh ports again when another process took one. */
function startKam(): Promise<Router> {
  return retryWhenPortTaken(async () => {
    const [sipPort, evapiPort] = [await freePort("udp"), await freePort("tcp")];
    const defines = { EVAPI_ADDR: `"127.0.0.1:${evapiPort}"` };
    const k = await startKamailio(benchFile("kamailio/held.cfg"), sipPort, defines, { children: 4, evapiPort });
    return {
      sipPort,
      evapiPort,
      settled: (peers) =>
        waitFor(() => taggedByKamailio(k.log()) >= peers, SETTLE_MS, {
          every: 20,
          what: `Kamailio's tags on ${peers} consumers`,
        }),
      counters: () => "–",
      stop: () => k.stop(),
    };
  }, 3);
}

interface Row {
  readonly router: string;
  readonly successful: number;
  readonly failed: number;
  readonly unanswered: number;
  readonly counters: string;
}

/** SIPp's calls; it stops 10 s after the last is due: long enough for a call sent again, far short of fr_timer. */
function placeCalls(sipPort: number): ReturnType<typeof runSipp> {
  return runSipp({ scenario: "uac", target: `127.0.0.1:${sipPort}`, calls, rate, timeoutSec: Math.ceil(calls / rate) + 10 });
}

/** A router's row from SIPp's final screen. */
function rowOf(router: string, stdout: string, r: Router): Row {
  const { successful, failed } = sippCallCounts(stdout);
  return { router, successful, failed, unanswered: calls - successful - failed, counters: r.counters() };
}

async function run(name: string, restart: boolean, start: () => Promise<Router>): Promise<Row> {
  const r = await start();
  const a = startDecisionConsumer(r.evapiPort, delay, "a");
  let b: ReturnType<typeof startDecisionConsumer> | undefined;
  try {
    await a.logged(/^connected a$/);
    if (!restart) {
      b = startDecisionConsumer(r.evapiPort, delay, "b");
      await b.logged(/^connected b$/);
    }
    await r.settled(restart ? 1 : 2);
    const sipp = placeCalls(r.sipPort);
    // A SIPp run that ends first (a failure) must not leave this waiting for ever.
    await Promise.race([
      a.logged(new RegExp(`^answered ${Math.floor(calls / 3)}$`)),
      sipp.then(() => Promise.reject(new Error("SIPp ended before the consumer answered a third of the calls"))),
    ]);
    await kill9(a.child);
    if (restart) b = startDecisionConsumer(r.evapiPort, delay, "b"); // the restarted service: a new process, a new connection
    const res = await sipp;
    return rowOf(name, res.stdout, r);
  } finally {
    await kill9(a.child);
    if (b) await kill9(b.child);
    await r.stop();
  }
}

/** Routes each INVITE by jsonrpc_request, as bench/kamailio/jsonrpc.cfg (timeout 500 ms, Kamailio's). */
function rpcApp(servers: string, retryOnLoss: boolean) {
  return defineApp({
    modules: { jsonrpcc: { servers, retryOnLoss } },
    request(ctx) {
      if (answeredInDialog(ctx)) return;
      if (ctx.isMethod("INVITE")) {
        ctx.jsonrpc.request("route", { user: ctx.pv("$rU") }, "RET", "ERR", "$var(r)");
        return;
      }
      ctx.sl.sendReply(405, "Method Not Allowed");
    },
    routes: {
      RET(ctx) {
        ctx.tm.reply(200, "OK");
      },
      ERR(ctx) {
        ctx.tm.reply(503, "Service Unavailable");
      },
    },
  });
}

async function startRpcEvsip(servers: string, retryOnLoss: boolean): Promise<Router> {
  const server = new Server(rpcApp(servers, retryOnLoss), { listen: ["udp:127.0.0.1:0"], logger: pino({ level: "silent" }) });
  await server.start();
  const mod = serverInternals(server).modules.get("jsonrpcc") as JsonRpcModuleInstance;
  return {
    sipPort: server.listeners()[0]?.port ?? 0,
    evapiPort: 0,
    settled: () => waitFor(() => mod.client.links.every((l) => l.isUp), SETTLE_MS),
    counters: () => `requests sent to the other service ${mod.client.stats.retriedOnLoss}`,
    stop: () => server.stop(),
  };
}

async function startRpcKamailio(servers: string): Promise<Router> {
  const k = await retryWhenPortTaken(
    async () =>
      startKamailio(
        benchFile("kamailio/jsonrpc.cfg"),
        await freePort("udp"),
        { JSONRPC_SERVERS: `"${servers}"` },
        { children: 4 },
      ),
    3,
  );
  const sipPort = k.port;
  const ports = [...servers.matchAll(/:(\d+),/g)].map((m) => Number(m[1]));
  return {
    sipPort,
    evapiPort: 0,
    settled: () =>
      waitFor(() => ports.every((p) => connectedTo(k.pid, p)), SETTLE_MS, {
        every: 20,
        what: `Kamailio's jsonrpcc connected to ${ports.join(" and ")}`,
      }),
    counters: () => "–",
    stop: () => k.stop(),
  };
}

async function runRpc(name: string, start: (servers: string) => Promise<Router>): Promise<Row> {
  const a = await startRpcService(delay, "a");
  const b = await startRpcService(delay, "b");
  let r: Router | undefined;
  try {
    r = await start(`127.0.0.1:${a.port},1 127.0.0.1:${b.port},1`);
    await r.settled(2); // the router connects to both
    const sipp = placeCalls(r.sipPort);
    // The service that answered a third of the calls first is the one killed.
    const third = new RegExp(`^answered ${Math.floor(calls / 3)}$`);
    const victim = await Promise.race([
      a.logged(third).then(
        () => a,
        () => undefined,
      ),
      b.logged(third).then(
        () => b,
        () => undefined,
      ),
      sipp.then(() => undefined),
    ]);
    if (victim === undefined) throw new Error("SIPp ended before a service answered a third of the calls");
    await kill9(victim.child);
    const res = await sipp;
    return rowOf(name, res.stdout, r);
  } finally {
    await kill9(a.child);
    await kill9(b.child);
    await r?.stop();
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
const rpc = [
  await runRpc("evsip, retryOnLoss (default)", (servers) => startRpcEvsip(servers, true)),
  await runRpc("evsip, retryOnLoss false", (servers) => startRpcEvsip(servers, false)),
  ...(kamailio ? [await runRpc("Kamailio 5.6, 4 children", startRpcKamailio)] : []),
];
const text = [
  table("standby: a second consumer takes over", standby),
  table("restart: the only consumer, a new process started at once", restarted),
  table("jsonrpc: one of two JSON-RPC services killed", rpc),
].join("\n\n");
console.log(text);
appendResults(
  `${header}A routing consumer killed with kill -9 holding calls: ${calls} SIPp calls at ${rate}/s, async unicast to the first consumer, answering after ${delay} ms, killed after ${Math.floor(calls / 3)} answers.\n\n${text}\n`,
);
