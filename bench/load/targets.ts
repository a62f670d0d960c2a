// Starts the router under test for one load scenario, with its peers: evsip as a child process
// (`node bin/evsip.js run <app>`, so its CPU and memory are its own and not the tool's) or Kamailio
// 5.6 with the project's bench config and N children. Peers are child processes too (bench-peer.ts):
// counting evapi clients (relay), an answering evapi client (async), a JSON-RPC service (rpc); the
// proxy scenario's UAS is the tool's own socket, given by port.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { closeSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../../test/support/sipp.js";
import { startKamailio, waitOwnSipReady } from "../../test/support/kamailio.js";
import { inCgroup } from "../../test/support/in-cgroup.js";
import { retryWhenPortTaken } from "../../test/support/port-owner.js";
import { benchFile } from "../support/sipp-macro.js";
import { startPeer, waitEvapiReady, waitRpcConnected, type Peer } from "../support/peer-process.js";
import { memoryKb } from "./proc-usage.js";
import { treeCpuSeconds } from "../../test/support/process-tree.js";
import { readShm, type ShmUse } from "./kamailio-shm.js";
import { readCallWorkers } from "./kamailio-procs.js";

export type Scenario = "relay" | "async" | "rpc" | "proxy";
export type RouterName = "evsip" | "kamailio";

export interface TargetOptions {
  /** Evapi clients of the relay scenario. */
  readonly clients: number;
  /** The UAS of the proxy scenario (udp 127.0.0.1). */
  readonly uasPort: number;
  readonly kamailioChildren: number;
  /** Extra node options for the evsip process (e.g. --max-semi-space-size=16). */
  readonly evsipNodeArgs: readonly string[];
  /** Serve evsip's /metrics on a free port (Target.metricsPort). */
  readonly evsipMetrics: boolean;
  /** evsip writes its GC pauses here when it exits (scripts/gc-log.mjs). */
  readonly evsipGcLog?: string;
  /** The router listens on TCP as well, on the same port (SIPp over TCP). */
  readonly sipTcp?: boolean;
  /**
   * proxy: an edge router of the same kind, never capped, takes the calls on the router's port and
   * relays them to the router measured; "plain" turns off evsip's RFC 7339 (tm.overloadControl).
   */
  readonly edge?: "oc" | "plain";
  /** evsip's tm.overloadControl (an edge's with --edge oc; the default, false, otherwise). */
  readonly tmOverloadControl?: boolean;
}

export interface Target {
  readonly router: RouterName;
  /** The router's process (Kamailio's main one). */
  readonly pid: number;
  /** Where the tool sends: the router's port, or with --edge the edge's. */
  readonly sipPort: number;
  /** The SIP port of the router measured (its socket's drops are the router's): sipPort unless --edge. */
  readonly measuredPort: number;
  /** --edge: the edge router's CPU seconds so far (process tree). */
  readonly edgeCpuSeconds?: () => number;
  cpuSeconds(): number;
  /** The part of cpuSeconds() spent in user mode. */
  userCpuSeconds(): number;
  memoryKb(): number;
  /** evsip's /metrics port with --evsip-metrics. */
  readonly metricsPort: number | undefined;
  /** Kamailio's shared memory (core.shmmem); undefined for evsip. */
  shm(): ShmUse | undefined;
  /** Kamailio's processes that do a call's work (core.psx); undefined for evsip. */
  callWorkers(): number[] | undefined;
  /** The evapi/JSON-RPC peer, when the scenario has one. */
  readonly peer: Peer | undefined;
  stop(): Promise<void>;
}

interface Router {
  readonly pid: number;
  readonly metricsPort?: number;
  shm(): ShmUse | undefined;
  callWorkers(): number[] | undefined;
  stop(): Promise<void>;
}

/** Runs `node bin/evsip.js run <app> --listen udp:127.0.0.1:<port>` with `env`; ready once it answers SIP. */
async function startEvsip(
  app: string,
  port: number,
  env: Record<string, string>,
  nodeArgs: readonly string[],
  tcp: boolean,
): Promise<Router> {
  // EVSIP_LOAD_BIN: another checkout's bin/evsip.js, for a before/after run against the same peers.
  const bin = process.env.EVSIP_LOAD_BIN ?? fileURLToPath(new URL("../../../bin/evsip.js", import.meta.url));
  const appFile = fileURLToPath(new URL(`./apps/${app}.js`, import.meta.url));
  // EVSIP_LOAD_LOG: a file the router's log (info and up: overload spells and their ends, clients) is appended to.
  const logTo = process.env.EVSIP_LOAD_LOG;
  const level = logTo === undefined ? "warn" : "info";
  const args = [...nodeArgs, bin, "run", appFile, "--listen", `udp:127.0.0.1:${port}`, "--log-level", level];
  if (tcp) args.push("--listen", `tcp:127.0.0.1:${port}`);
  const [cmd, argv] = inCgroup(process.execPath, args);
  const stdout = logTo === undefined ? "ignore" : openSync(logTo, "a");
  const child = spawn(cmd, argv, { env: { ...process.env, ...env }, stdio: ["ignore", stdout, "pipe"] });
  if (typeof stdout === "number") closeSync(stdout); // the child has its own
  let log = "";
  child.stderr?.on("data", (d: Buffer) => {
    log = (log + d.toString()).slice(-16_384);
  });
  const exited = once(child, "exit");
  exited.catch(() => undefined);
  try {
    await waitOwnSipReady("evsip", child.pid ?? 0, port, exited, () => log, 20_000);
  } catch (e) {
    child.kill("SIGKILL");
    throw e;
  }
  return {
    pid: child.pid ?? 0,
    shm: () => undefined,
    callWorkers: () => undefined,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const guard = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(guard);
    },
  };
}

/** The evsip app file (dist/bench/load/apps/) and the config of a scenario. */
const APPS: Record<Scenario, "evapi" | "rpc" | "proxy"> = { relay: "evapi", async: "evapi", rpc: "rpc", proxy: "proxy" };

async function startEvsipFor(app: "evapi" | "rpc" | "proxy", port: number, peerAddr: string, o: TargetOptions): Promise<Router> {
  const env: Record<string, string> =
    app === "evapi"
      ? { EVSIP_LOAD_EVAPI: peerAddr }
      : app === "rpc"
        ? { EVSIP_LOAD_RPC: peerAddr }
        : { EVSIP_LOAD_UAS: `sip:${peerAddr}` };
  if (o.tmOverloadControl === true) env.EVSIP_LOAD_TM_OC = "1";
  const metricsPort = o.evsipMetrics ? await freePort() : undefined;
  if (metricsPort !== undefined) env.EVSIP_LOAD_METRICS = `127.0.0.1:${metricsPort}`;
  const nodeArgs = [...o.evsipNodeArgs];
  if (o.evsipGcLog !== undefined) {
    env.EVSIP_GC_LOG = o.evsipGcLog;
    nodeArgs.push("--import", fileURLToPath(new URL("../../../scripts/gc-log.mjs", import.meta.url)));
  }
  return { ...(await startEvsip(app, port, env, nodeArgs, o.sipTcp === true)), metricsPort };
}

/** Kamailio with the scenario's bench config, N children and a ctl socket for core.shmmem. */
async function startKamailioFor(
  app: "evapi" | "rpc" | "proxy",
  port: number,
  peerAddr: string,
  o: TargetOptions,
): Promise<Router> {
  const defines: Record<string, string> =
    app === "evapi"
      ? { EVAPI_ADDR: `"${peerAddr}"` }
      : app === "rpc"
        ? { JSONRPC_SERVERS: `"${peerAddr},1"` }
        : { UAS_URI: `"sip:${peerAddr}"` };
  const cfg = { evapi: "evapi.cfg", rpc: "jsonrpc.cfg", proxy: "relay.cfg" }[app];
  const dir = mkdtempSync(join(tmpdir(), "evsip-load-ctl-"));
  const ctl = join(dir, "ctl.sock");
  const stopped = async (k?: { stop(): Promise<void> }): Promise<void> => {
    await k?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  defines.CTL_SOCK = `"unix:${ctl}"`;
  if (o.sipTcp === true) defines.WITH_TCP = "1";
  const listen = o.sipTcp === true ? [`tcp:127.0.0.1:${port}`] : [];
  // The evapi app's peer address is its evapi listener, which Kamailio binds after SIP answers.
  const evapiPort = app === "evapi" ? Number(peerAddr.slice(peerAddr.lastIndexOf(":") + 1)) : undefined;
  const k = await startKamailio(benchFile(`kamailio/${cfg}`), port, defines, {
    children: o.kamailioChildren,
    listen,
    evapiPort,
  }).catch(async (e: unknown) => {
    await stopped();
    throw e;
  });
  return {
    pid: k.pid,
    shm: () => readShm(ctl),
    callWorkers: () => readCallWorkers(ctl),
    stop: () => stopped(k),
  };
}

/** Runs `start` with no CPU cgroup for the processes it spawns (bench/cap-cpu.sh caps the router measured only). */
async function uncapped<T>(start: () => Promise<T>): Promise<T> {
  const procs = process.env.EVSIP_CGROUP_PROCS;
  delete process.env.EVSIP_CGROUP_PROCS;
  try {
    return await start();
  } finally {
    if (procs !== undefined) process.env.EVSIP_CGROUP_PROCS = procs;
  }
}

function startRouter(router: RouterName, scenario: Scenario, port: number, peerAddr: string, o: TargetOptions): Promise<Router> {
  return (router === "evsip" ? startEvsipFor : startKamailioFor)(APPS[scenario], port, peerAddr, o);
}

/**
 * Starts `router` for `scenario` with its peer, and waits until the peer is connected. The ports are
 * free when picked, but a test running beside may be handed one before the router binds it: then
 * the start is tried again on new ports (three tries at most).
 */
export function startTarget(router: RouterName, scenario: Scenario, o: TargetOptions): Promise<Target> {
  return retryWhenPortTaken(() => startTargetOnce(router, scenario, o), 3);
}

async function startTargetOnce(router: RouterName, scenario: Scenario, o: TargetOptions): Promise<Target> {
  const sipPort = await freePort();
  let peer: Peer | undefined;
  let r: Router | undefined;
  let edgeOf: { pid: number; measuredPort: number } | undefined;
  try {
    if (scenario === "rpc") {
      peer = await startPeer("jsonrpc");
      r = await startRouter(router, scenario, sipPort, `127.0.0.1:${peer.port}`, o);
      await waitRpcConnected(peer);
    } else if (scenario === "proxy" && o.edge !== undefined) {
      const corePort = await freePort();
      const core = (r = await startRouter(router, scenario, corePort, `127.0.0.1:${o.uasPort}`, o));
      const edgeOpts: TargetOptions = { ...o, evsipMetrics: false, evsipGcLog: undefined, tmOverloadControl: o.edge === "oc" };
      // r is the core already: the catch below stops it if the edge fails to start.
      const edge = await uncapped(() => startRouter(router, scenario, sipPort, `127.0.0.1:${corePort}`, edgeOpts));
      r = { ...core, stop: () => edge.stop().then(() => core.stop()) };
      edgeOf = { pid: edge.pid, measuredPort: corePort };
    } else if (scenario === "proxy") {
      r = await startRouter(router, scenario, sipPort, `127.0.0.1:${o.uasPort}`, o);
    } else {
      const evapiPort = await freePort();
      // Ready once the router holds its evapi port (evsip binds it before SIP, Kamailio after, and
      // startKamailio waits for it); one taken meanwhile is tried again (PortTakenError).
      r = await startRouter(router, scenario, sipPort, `127.0.0.1:${evapiPort}`, o);
      peer = scenario === "relay" ? await startPeer("count", [evapiPort, o.clients]) : await startPeer("answer", [evapiPort]);
      await waitEvapiReady(sipPort, peer);
    }
  } catch (e) {
    await peer?.stop();
    await r?.stop();
    throw e;
  }
  const started = r;
  return {
    router,
    pid: started.pid,
    sipPort,
    measuredPort: edgeOf?.measuredPort ?? sipPort,
    ...(edgeOf === undefined ? {} : { edgeCpuSeconds: () => treeCpuSeconds(edgeOf.pid) }),
    peer,
    cpuSeconds: () => treeCpuSeconds(started.pid),
    userCpuSeconds: () => treeCpuSeconds(started.pid, true),
    memoryKb: () => memoryKb(started.pid),
    shm: () => started.shm(),
    callWorkers: () => started.callWorkers(),
    metricsPort: started.metricsPort,
    stop: async () => {
      await peer?.stop();
      await started.stop();
    },
  };
}
