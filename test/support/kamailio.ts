// Runs a real Kamailio (macro-bench peer, interop tests): `kamailio -f <cfg> -DD -E` in the foreground
// (the creator process stays our child, only its workers fork), listening on one loopback UDP port of
// our choosing (never 5060, so a packaged system service cannot collide), ready once it answers a probe
// (OPTIONS with Max-Forwards: 0 → 483 from the cfg), stopped with SIGTERM and awaited.
import { spawn, spawnSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { once } from "node:events";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inCgroup } from "./in-cgroup.js";
import { processTree, treeCpuSeconds } from "./process-tree.js";
import { assertHoldsPort, clashInLog, exitedAtStart, waitOwnSocket } from "./port-owner.js";

export const KAMAILIO_BIN = process.env.KAMAILIO ?? "/usr/sbin/kamailio";
export const KAMAILIO_MODULES = process.env.KAMAILIO_MODULES ?? "/usr/lib/x86_64-linux-gnu/kamailio/modules";

/** True when the kamailio binary runs (`-v`). */
export function hasKamailio(): boolean {
  const r = spawnSync(KAMAILIO_BIN, ["-v"], { stdio: "ignore" });
  return r.error === undefined && r.status === 0;
}

/**
 * Why Kamailio tests must be skipped (no binary, or one of `modules` missing from KAMAILIO_MODULES),
 * as a message for node:test's `skip`; false when everything is there.
 */
export function kamailioSkipReason(modules: readonly string[] = []): string | false {
  if (!hasKamailio())
    return `kamailio is not installed at ${KAMAILIO_BIN} (apt-get install -y kamailio kamailio-extra-modules kamailio-json-modules; .ci/run does it)`;
  const missing = modules.filter((m) => !existsSync(join(KAMAILIO_MODULES, `${m}.so`)));
  if (missing.length > 0)
    return `kamailio modules missing in ${KAMAILIO_MODULES}: ${missing.join(", ")} (kamailio-extra-modules, kamailio-json-modules)`;
  return false;
}

export interface KamailioProcess {
  readonly port: number;
  /** The creator process (its workers are its children). */
  readonly pid: number;
  /** The last 64 KB of Kamailio's stderr log (for assertion messages). */
  log(): string;
  /** Settles when the creator process exits (Kamailio stops when a child of its fails to start). */
  readonly exited: Promise<unknown>;
  /** CPU seconds (user + system) used so far by the creator process and its workers. */
  cpuSeconds(): number;
  /** SIGTERM (SIGKILL after 5 s), then resolves when the creator process exited (it stops its workers first) and its working directory is removed. */
  stop(): Promise<void>;
}

function probe(port: number, viaPort: number, n: number): Buffer {
  return Buffer.from(
    `OPTIONS sip:probe@127.0.0.1:${port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${viaPort};branch=z9hG4bKprobe${n}\r\n` +
      `Max-Forwards: 0\r\nFrom: <sip:probe@127.0.0.1>;tag=p${n}\r\nTo: <sip:probe@127.0.0.1>\r\n` +
      `Call-ID: kamailio-probe-${n}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`,
  );
}

/** Resolves once something answers SIP on udp 127.0.0.1:port; retries the probe every 200 ms, up to `ms`. */
export async function waitSipReady(port: number, ms = 10_000, stop?: AbortSignal): Promise<void> {
  const sock = createSocket("udp4");
  sock.bind(0, "127.0.0.1");
  await once(sock, "listening");
  // `stop`: the caller no longer waits (its router exited); probing on would only disturb the port.
  const signal = stop === undefined ? AbortSignal.timeout(ms) : AbortSignal.any([AbortSignal.timeout(ms), stop]);
  let n = 0;
  const send = (): void => {
    sock.send(probe(port, sock.address().port, ++n), port, "127.0.0.1");
  };
  send();
  const retry = setInterval(send, 200);
  try {
    await once(sock, "message", { signal });
  } finally {
    clearInterval(retry);
    sock.close();
  }
}

/**
 * Resolves once the router `who` (process `pid`) answers SIP on udp 127.0.0.1:port from its own
 * socket; rejects when it exits first (`exited`; PortTakenError when `log()` says its port was in
 * use), when its log shows a port clash while it still runs, or when the answer came from another
 * process's socket (PortTakenError).
 */
export async function waitOwnSipReady(
  who: string,
  pid: number,
  port: number,
  exited: Promise<unknown>,
  log: () => string,
  ms = 10_000,
): Promise<void> {
  const watching = new AbortController();
  try {
    await Promise.race([
      waitSipReady(port, ms, watching.signal),
      exited.then(() => {
        throw exitedAtStart(who, port, log());
      }),
      clashInLog(who, port, log, watching.signal),
    ]);
  } finally {
    watching.abort();
  }
  assertHoldsPort(pid, "udp", port, who);
}

/** How a Kamailio is started beyond its cfg, port and defines. */
export interface KamailioOptions {
  /** Worker processes per listener (`-n`); default 1. */
  readonly children?: number;
  /** Shared memory in MB (`-m`); default 512. */
  readonly shmMb?: number;
  /** More sockets (`tcp:127.0.0.1:<port>`, with a cfg that enables TCP). */
  readonly listen?: readonly string[];
  /**
   * The TCP port its evapi listens on (the cfg is told by a define): the start waits until Kamailio
   * itself listens there, which its evapi process does after the SIP port answers, and fails with
   * PortTakenError when another process does.
   */
  readonly evapiPort?: number;
}

/**
 * Starts Kamailio with `cfg` on udp:127.0.0.1:port; `defines` become `-A NAME=value` (a string value
 * keeps its quotes: `{ UAS_URI: '"sip:127.0.0.1:5080"' }`).
 */
export async function startKamailio(
  cfg: string,
  port: number,
  defines: Record<string, string> = {},
  o: KamailioOptions = {},
): Promise<KamailioProcess> {
  const { children = 1, shmMb = 512, listen = [] } = o;
  const dir = mkdtempSync(join(tmpdir(), "evsip-kamailio-"));
  const args = ["-f", cfg, "-DD", "-E", "-n", String(children), "-l", `udp:127.0.0.1:${port}`, "-w", dir, "-m", String(shmMb)];
  for (const l of listen) args.push("-l", l);
  args.push("-L", KAMAILIO_MODULES);
  for (const [k, v] of Object.entries(defines)) args.push("-A", `${k}=${v}`);
  const [cmd, argv] = inCgroup(KAMAILIO_BIN, args);
  const child = spawn(cmd, argv, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr?.on("data", (d: Buffer) => {
    log = (log + d.toString()).slice(-65536);
  });
  const exited = once(child, "exit");
  // The working folder goes with the process, however it ends (stopped, died at start, never
  // spawned); registered first, so it is gone by the time stop() resolves.
  const removeDir = (): void => rmSync(dir, { recursive: true, force: true });
  void exited.then(removeDir, removeDir);
  // A Kamailio whose child failed its start can hang in its shutdown, deaf to SIGTERM (seen with its
  // evapi port taken): its creator and workers are killed outright.
  const killAll = (): void => {
    if (child.pid === undefined) return; // never started (and pid 0 would mean our own group)
    for (const p of processTree(child.pid)) {
      try {
        process.kill(p, "SIGKILL");
      } catch {
        // gone already
      }
    }
  };
  try {
    await waitOwnSipReady("kamailio", child.pid ?? 0, port, exited, () => log);
    if (o.evapiPort !== undefined) await waitOwnSocket("kamailio", child.pid ?? 0, "tcp", o.evapiPort, exited, () => log);
  } catch (err) {
    if (child.exitCode === null && child.signalCode === null) killAll();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    port,
    pid: child.pid ?? 0,
    log: () => log,
    exited,
    cpuSeconds: () => (child.pid === undefined ? 0 : treeCpuSeconds(child.pid)),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        // Bounded: a creator that has not exited 5 s after SIGTERM is killed, with its workers.
        const guard = setTimeout(killAll, 5000);
        await exited;
        clearTimeout(guard);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
