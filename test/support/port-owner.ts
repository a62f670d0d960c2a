// Whether a given process holds the UDP socket bound to a port. A test picks a free port, then
// starts a router on it; between the two, another test running beside it can be handed the same
// port by the kernel. A SIP answer on the port then proves nothing: it may come from the other
// test's server while our router exits with the port in use. The kernel's socket table names the
// socket's inode and /proc/<pid>/fd names the sockets a process holds, so the two together say
// whose socket answered.
import { existsSync, readdirSync, readlinkSync } from "node:fs";
import { procNetSockets, type ProcNetSocket } from "../../src/transport/proc-net.js";
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

/** The kernel's rows for `port`: UDP sockets bound to it, or TCP sockets listening on it. */
function portRows(proto: "udp" | "tcp", port: number): ProcNetSocket[] {
  return procNetSockets(proto).filter((s) => s.localPort === port && (proto === "udp" || s.state === "0A"));
}

/**
 * True when `pid` (or a child of it: Kamailio's workers) holds a UDP socket bound to `port`, or a
 * TCP socket listening on it; false when another process does, or nobody. Where it cannot tell (no
 * /proc, or fds it may not read) it answers true.
 */
export function holdsPort(pid: number, proto: "udp" | "tcp", port: number): boolean {
  return holdsAny(pid, portRows(proto, port));
}

/**
 * True when `pid` (or a child) has a TCP connection established to `port` on this machine: a
 * router's JSON-RPC client connected to its service. Where it cannot tell, true.
 */
export function connectedTo(pid: number, port: number): boolean {
  return holdsAny(
    pid,
    procNetSockets("tcp").filter((s) => s.remotePort === port && s.state === "01"),
  );
}

function holdsAny(pid: number, rows: readonly ProcNetSocket[]): boolean {
  if (!existsSync("/proc/net")) return true;
  if (rows.length === 0) return false;
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
}

/** Throws PortTakenError unless `pid` holds `port`: what answered there was somebody else. */
export function assertHoldsPort(pid: number, proto: "udp" | "tcp", port: number, who: string): void {
  if (!holdsPort(pid, proto, port))
    throw new PortTakenError(`${proto} port ${port}: answered, but ${who} (pid ${pid}) does not hold it`);
}

// A start that failed on a port in use, as evsip ("cannot listen on 127.0.0.1:5060: EADDRINUSE")
// and Kamailio ("bind(...) on 127.0.0.1: Address already in use", evapi's "cannot bind to local
// address and port [127.0.0.1:8448]") say it.
const IN_USE = /EADDRINUSE|Address already in use|cannot bind/i;

/**
 * The error for a router that exited at start: PortTakenError when its log says an address was in
 * use and another process now holds `port` (its SIP port, UDP) or a port the failing line names
 * (evapi's, TCP); a plain Error otherwise, so that a start that fails for another reason is not
 * retried. Kamailio does not name its SIP port in its line, so that one is always checked.
 */
export function exitedAtStart(who: string, port: number, log: string): Error {
  const lines = log.split("\n").filter((l) => IN_USE.test(l));
  const named = lines.flatMap((l) => [...l.matchAll(/(?:\d{1,3}(?:\.\d{1,3}){3}|\]):(\d{1,5})\b/g)].map((m) => Number(m[1])));
  const held = (p: number): boolean => portRows("udp", p).length > 0 || portRows("tcp", p).length > 0;
  const message = `${who} exited at start:\n${log}`;
  return lines.length > 0 && [port, ...named].some(held) ? new PortTakenError(`a port in use: ${message}`) : new Error(message);
}

/**
 * Resolves once `pid` (or a child) listens on TCP `port`: a router's evapi port, which Kamailio binds
 * in a child of its own after its SIP port answers. Rejects with PortTakenError when another process
 * listens there, and with exitedAtStart's error when the router exits first.
 */
export async function waitOwnListener(
  who: string,
  pid: number,
  port: number,
  exited: Promise<unknown>,
  log: () => string,
  ms = 10_000,
): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  if (!existsSync("/proc/net")) return; // cannot tell: the peer's connect will
  const end = Date.now() + ms;
  for (;;) {
    if (portRows("tcp", port).length > 0) return assertHoldsPort(pid, "tcp", port, who);
    if (gone) throw exitedAtStart(who, port, log());
    if (Date.now() > end) throw new Error(`${who} (pid ${pid}) did not listen on tcp port ${port} within ${ms} ms`);
    // Polled: a listener appearing in another process has no event to wait for.
    await new Promise<void>((r) => setTimeout(r, 10));
  }
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
