// Whether a given process holds the UDP socket bound to a port. A test picks a free port, then
// starts a router on it; between the two, another test running beside it can be handed the same
// port by the kernel. A SIP answer on the port then proves nothing: it may come from the other
// test's server while our router exits with the port in use. The kernel's socket table names the
// socket's inode and /proc/<pid>/fd names the sockets a process holds, so the two together say
// whose socket answered.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { procNetSockets } from "../../src/transport/proc-net.js";

function socketInodes(pid: number): Set<string> {
  const out = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return out; // gone, or not ours to read
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m?.[1] !== undefined) out.add(m[1]);
    } catch {
      // closed while we read the directory
    }
  }
  return out;
}

/** `pid` and its children: Kamailio's main process forks the workers that hold the sockets too. */
function processAndChildren(pid: number): number[] {
  const pids = [pid];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const kids = readFileSync(`/proc/${pid}/task/${task}/children`, "latin1").trim();
      if (kids !== "") pids.push(...kids.split(/\s+/).map(Number));
    }
  } catch {
    // gone: its own fds are gone too
  }
  return pids;
}

/**
 * True when `pid` (or a child of it) holds a UDP socket bound to `port`; false when another process
 * does, or nobody. Linux only; elsewhere (no /proc) it answers true, as it cannot tell.
 */
export function holdsUdpPort(pid: number, port: number): boolean {
  const rows = procNetSockets("udp").filter((s) => s.localPort === port);
  if (rows.length === 0) return readdirSafe("/proc/net") === undefined;
  const held = new Set(processAndChildren(pid).flatMap((p) => [...socketInodes(p)]));
  return rows.some((r) => held.has(r.inode));
}

function readdirSafe(dir: string): string[] | undefined {
  try {
    return readdirSync(dir);
  } catch {
    return undefined;
  }
}

/** A router started on a port that another process holds (or took first): the caller may pick another. */
export class PortTakenError extends Error {
  readonly code = "ERR_TEST_PORT_TAKEN";
  readonly port: number;
  constructor(port: number, detail: string) {
    super(`udp port ${port}: ${detail}`);
    this.port = port;
  }
}

/** Throws PortTakenError unless `pid` holds udp `port`: what answered SIP there was somebody else. */
export function assertHoldsUdpPort(pid: number, port: number, who: string): void {
  if (!holdsUdpPort(pid, port)) throw new PortTakenError(port, `answered SIP, but ${who} (pid ${pid}) does not hold it`);
}

/** The error for a router that exited at start: PortTakenError when its log says the port was in use. */
export function exitedAtStart(who: string, port: number, log: string): Error {
  if (/EADDRINUSE|address already in use|in use/i.test(log)) return new PortTakenError(port, `${who} exited at start:\n${log}`);
  return new Error(`${who} exited at start:\n${log}`);
}

/** Calls `start` (which picks its own free ports) until it does not fail with PortTakenError, `tries` times at most. */
export async function retryWhenPortTaken<T>(start: () => Promise<T>, tries: number): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await start();
    } catch (e) {
      if (!(e instanceof PortTakenError) || n >= tries) throw e;
    }
  }
}
