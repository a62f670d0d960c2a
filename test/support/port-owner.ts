// Whether a given process holds the UDP socket bound to a port. A test picks a free port, then
// starts a router on it; between the two, another test running beside it can be handed the same
// port by the kernel. A SIP answer on the port then proves nothing: it may come from the other
// test's server while our router exits with the port in use. The kernel's socket table names the
// socket's inode and /proc/<pid>/fd names the sockets a process holds, so the two together say
// whose socket answered.
import { existsSync, readdirSync, readlinkSync } from "node:fs";
import { procNetSockets } from "../../src/transport/proc-net.js";
import { processTree } from "./process-tree.js";

/** The inodes of the sockets `pid` holds; undefined when its fds cannot be read (not ours to read). */
function socketInodes(pid: number): Set<string> | undefined {
  const out = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ENOENT" ? out : undefined; // gone: it holds nothing
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

/**
 * True when `pid` (or a child of it: Kamailio's workers) holds a UDP socket bound to `port`; false
 * when another process does, or nobody. Where it cannot tell (no /proc, or fds it may not read) it
 * answers true.
 */
export function holdsUdpPort(pid: number, port: number): boolean {
  const rows = procNetSockets("udp").filter((s) => s.localPort === port);
  if (rows.length === 0) return !existsSync("/proc/net");
  const held = new Set<string>();
  for (const p of processTree(pid)) {
    const inodes = socketInodes(p);
    if (inodes === undefined) return true;
    for (const i of inodes) held.add(i);
  }
  return rows.some((r) => held.has(r.inode));
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

/**
 * The error for a router that exited at start: PortTakenError when its log says an address was in
 * use and another process holds `port` now (Kamailio does not name the port in its line), so that a
 * clash on another of its ports (evapi, a ctl socket) is not taken for this one.
 */
export function exitedAtStart(who: string, port: number, log: string): Error {
  const inUse = /EADDRINUSE|Address already in use/i.test(log) && procNetSockets("udp").some((s) => s.localPort === port);
  return inUse ? new PortTakenError(port, `${who} exited at start:\n${log}`) : new Error(`${who} exited at start:\n${log}`);
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
