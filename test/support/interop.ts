// Runs one interop round against a router (a real Kamailio with test/fixtures/kamailio/interop.cfg, or
// evsip with its twin test/fixtures/apps/interop-app.ts): a SIPp UAS, the example JSON-RPC routing
// service, the example auth service and billing app (unchanged, from examples/), then the same SIPp
// scenarios in order. Returns what SIPp and the applications saw, for comparison between routers.
import { resolve } from "node:path";
import { once } from "node:events";
import { EvapiClient } from "../../src/client/index.js";
import { startSipp, runSipp, freePort, type SippResult } from "./sipp.js";
import { startKamailio } from "./kamailio.js";
import { retryWhenPortTaken } from "./port-owner.js";
import { startRouter } from "./router.js";
import type { EvapiModule } from "../../src/modules/evapi/index.js";
import { interopApp } from "../fixtures/apps/interop-app.js";
import { loadCfgFile } from "../../src/cfg/load-cfg.js";
import { startRoutingService } from "../../examples/jsonrpc-routing/service.js";
import { startAuthService } from "../../examples/async-auth/auth-service.js";
import { startBilling, type CallRecord } from "../../examples/billing/billing.js";

/** evsip-cfg: evsip running test/fixtures/kamailio/interop.cfg itself (src/cfg), not the twin app. */
export type RouterKind = "kamailio" | "evsip" | "evsip-cfg";

/** One SIPp UAC run: the scenario file (its expected final status is in its name), the called user. */
export interface InteropScenario {
  readonly name: string;
  readonly scenario: string;
  readonly user: string;
}

/** allowed → 200 (whole call), blocked → 403, routed → 200 (whole call), unknown route → 404. */
export const SCENARIOS: readonly InteropScenario[] = [
  { name: "evapi async: allowed call", scenario: "uac-call-rr.xml", user: "alice" },
  { name: "evapi async: premium number rejected", scenario: "uac-invite-403.xml", user: "900123" },
  { name: "jsonrpc_request: routed call", scenario: "uac-call-rr.xml", user: "+4420123" },
  { name: "jsonrpc_request: no route", scenario: "uac-invite-404.xml", user: "+999" },
];

export interface InteropOutcome {
  /** SIPp exit code per scenario name (0 = the expected final status and dialog flow). */
  readonly sipp: Record<string, number | null>;
  readonly uasExit: number | null;
  /** The auth service's decisions (callee → allow). */
  readonly decisions: Record<string, boolean>;
  /** The shape of the first auth event: field → typeof (wire compatibility of tindex/tlabel). */
  readonly authEventShape: Record<string, string>;
  readonly billed: CallRecord[];
  readonly jsonrpcRequests: number;
  /** A 32760-byte payload (Kamailio evapi's largest) sent by the SDK was received and acknowledged. */
  readonly largestFrameAcked: boolean;
  readonly failures: string[];
  readonly log: () => string;
}

const CFG = resolve("test/fixtures/kamailio/interop.cfg");
const quiet = (): void => undefined;

/** Polls `cond` every 5 ms, bounded by `ms`: for state another process changes, or one no event announces. */
export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise<void>((r) => setTimeout(r, 5));
  }
}

/** Rejects after `ms` unless `p` settles first. */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`timed out after ${ms} ms: ${what}`)), ms)));
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

interface RunningPeer {
  readonly sipTarget: string;
  readonly evapiPort: number;
  log(): string;
  stop(): Promise<void>;
}

async function startPeer(kind: RouterKind, uasUri: string, jsonrpcServers: string): Promise<RunningPeer> {
  if (kind === "kamailio") {
    // Fresh ports on each try: another test can be handed the SIP or evapi port before Kamailio binds
    // it (startKamailio then fails with PortTakenError).
    const { k, evapiPort } = await retryWhenPortTaken(async () => {
      const evapiPort = await freePort();
      const defines = {
        UAS_URI: JSON.stringify(uasUri),
        EVAPI_BIND: JSON.stringify(`127.0.0.1:${evapiPort}`),
        JSONRPC_SERVERS: JSON.stringify(jsonrpcServers),
      };
      return { k: await startKamailio(CFG, await freePort(), defines, { shmMb: 64, evapiPort }), evapiPort };
    }, 3);
    return { sipTarget: `127.0.0.1:${k.port}`, evapiPort, log: () => k.log(), stop: () => k.stop() };
  }
  const app =
    kind === "evsip-cfg"
      ? loadCfgFile(
          CFG,
          new Map([
            ["UAS_URI", JSON.stringify(uasUri)],
            ["EVAPI_BIND", '"127.0.0.1:0"'],
            ["JSONRPC_SERVERS", JSON.stringify(jsonrpcServers)],
          ]),
        ).app
      : interopApp({ uasUri, evapiBind: "127.0.0.1:0", jsonrpcServers });
  const r = await startRouter(app, ["udp:127.0.0.1:0"]);
  const evapiPort = (r.internals.modules.get("evapi") as EvapiModule).address().port;
  return { sipTarget: r.target("udp"), evapiPort, log: () => "", stop: () => r.stop() };
}

/** Kamailio's evapi delivers payloads up to 32760 bytes (32767-byte read window, 5 length digits). */
export const KAMAILIO_EVAPI_MAX_PAYLOAD = 32760;

/** Sends a subscribe padded to exactly the largest payload Kamailio accepts; true when acknowledged. */
async function largestFrame(port: number): Promise<boolean> {
  const c = new EvapiClient({ port, reconnect: false });
  try {
    await c.connect();
    const base = JSON.stringify({ subscribe: "big", pad: "" });
    const acked = new Promise<boolean>((res) => c.on("event", (e) => (e as { tag?: string }).tag === "big" && res(true)));
    c.send(JSON.stringify({ subscribe: "big", pad: "x".repeat(KAMAILIO_EVAPI_MAX_PAYLOAD - base.length) }));
    return await within(acked, 3000, "ack of the largest frame");
  } finally {
    const closed = once(c, "close");
    await c.close();
    await closed;
  }
}

/** Runs every scenario of {@link SCENARIOS} against `kind`; everything is stopped before it returns. */
export async function runInterop(kind: RouterKind): Promise<InteropOutcome> {
  const calls = SCENARIOS.filter((s) => s.scenario === "uac-call-rr.xml").length;
  const stops: Array<() => Promise<unknown>> = [];
  const failures: string[] = [];
  let peer: RunningPeer | undefined;
  try {
    const uas = await startSipp({ scenario: "uas-answer-rr.xml", calls, timeoutSec: 25 });
    stops.push(() => uas.stop());
    await uas.ready;
    const uasUri = `sip:127.0.0.1:${uas.port}`;
    const svc = await startRoutingService({ "+44": uasUri }, 0);
    stops.push(() => svc.server.close());
    const p = await startPeer(kind, uasUri, `127.0.0.1:${svc.port},1`);
    peer = p;
    stops.push(() => p.stop());
    await until(() => svc.server.stats.connections >= 1, 5000, "the router's jsonrpc connection");

    const auth = await within(startAuthService({ port: p.evapiPort, log: quiet }), 5000, "auth service connect");
    stops.push(() => auth.close());
    let authEventShape: Record<string, string> = {};
    auth.client.on("event", (ev) => {
      const e = ev as Record<string, unknown>;
      if (e.event === "auth" && Object.keys(authEventShape).length === 0) {
        authEventShape = Object.fromEntries(Object.entries(e).map(([k, v]) => [k, typeof v]));
      }
    });
    const billed: CallRecord[] = [];
    const billing = await within(
      startBilling({ port: p.evapiPort, log: quiet, onCall: (rec) => billed.push(rec) }),
      5000,
      "billing connect",
    );
    stops.push(() => billing.close());
    await within(
      Promise.all([auth.subscribed, billing.subscribed]),
      5000,
      "subscriptions acknowledged (evapi_set_tag + evapi_unicast)",
    );

    const largestFrameAcked = await largestFrame(p.evapiPort);

    const sipp: Record<string, number | null> = {};
    for (const s of SCENARIOS) {
      const r: SippResult = await runSipp({ scenario: s.scenario, target: p.sipTarget, service: s.user, timeoutSec: 10 });
      sipp[s.name] = r.code;
      if (r.code !== 0) failures.push(`${s.name}: sipp exit ${r.code}\n${r.stderr || r.stdout.slice(-2000)}`);
    }
    await until(() => billed.length >= calls, 3000, "call-end events billed").catch((e: Error) => failures.push(e.message));
    const u = await within(uas.done, 5000, "UAS exit").catch(() => uas.stop());
    const decisions = Object.fromEntries(auth.decisions.map((d) => [/sips?:([^@;>]+)@/.exec(d.to)?.[1] ?? d.to, d.allow]));
    return {
      sipp,
      uasExit: u.code,
      decisions,
      authEventShape,
      billed,
      jsonrpcRequests: svc.server.stats.requests,
      largestFrameAcked,
      failures,
      log: () => p.log(),
    };
  } catch (e) {
    // Setup failed: say why with the router's own log (Kamailio's stderr).
    throw new Error(`${kind}: ${(e as Error).message}\n${peer?.log().slice(-6000) ?? ""}`, { cause: e });
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
}
