// Whether a given process holds a port (a UDP socket bound to it, a TCP listener) or a connection to
// one. A test picks a free port, then starts a router on it; between the two, another test running
// beside it can be handed the same port by the kernel. A SIP answer on the port then proves nothing:
// it may come from the other test's server while our router exits with the port in use. The
// kernel's socket tables name each socket's inode and /proc/<pid>/fd names the sockets a process
// holds, so the two together say whose socket it is.
import { existsSync, readdirSync, readlinkSync } from "node:fs";
import { procNetSockets, type ProcNetSocket } from "../../src/transport/proc-net.js";
import { processTree } from "./process-tree.js";
import { waitFor } from "./wait-for.js";

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
 * True when `pid` (or a child) has a TCP connection established to port `port` (of any address): a
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
 * True when `log` says an address was in use and some process now holds (a UDP socket, a TCP
 * listener) `port` or a port the failing lines name (evsip's and Kamailio evapi's lines name it).
 * Kamailio's UDP bind error does not name its port, so once the router is `gone`, `port` (the one
 * the caller knows it wanted) is checked too, and another process holding it is a clash whatever
 * the log says: its last lines may not have been read when its exit is seen.
 */
function portClash(port: number, log: string, gone: boolean): boolean {
  const held = (p: number): boolean => portRows("udp", p).length > 0 || portRows("tcp", p).length > 0;
  if (gone && held(port)) return true;
  const lines = log.split("\n").filter((l) => IN_USE.test(l));
  if (lines.length === 0) return false;
  const named = lines.flatMap((l) => [...l.matchAll(/(?:\d{1,3}(?:\.\d{1,3}){3}|\]):(\d{1,5})\b/g)].map((m) => Number(m[1])));
  // A router still running may hold `port` itself: then only the ports its lines name count.
  return (gone ? [port, ...named] : named).some(held);
}

/**
 * The error for a router that exited at start: PortTakenError on a port clash (portClash), a plain
 * Error otherwise, so that a start that fails for another reason is not retried.
 */
export function exitedAtStart(who: string, port: number, log: string): Error {
  const message = `${who} exited at start:\n${log}`;
  return portClash(port, log, true) ? new PortTakenError(`a port in use: ${message}`) : new Error(message);
}

/**
 * Rejects with PortTakenError once `log()` shows a port clash (portClash) while the router is still
 * running: a Kamailio whose evapi process failed to bind can hang in its shutdown, neither answering
 * nor exiting. Checked every 20 ms until `signal` aborts; then it never settles.
 */
export async function clashInLog(who: string, port: number, log: () => string, signal: AbortSignal): Promise<never> {
  await waitFor(() => signal.aborted || portClash(port, log(), false), Number.POSITIVE_INFINITY, { every: 20 });
  if (!signal.aborted) throw new PortTakenError(`a port in use: ${who} failed at start:\n${log()}`);
  return new Promise<never>(() => undefined);
}

/**
 * Resolves once `pid` (or a child) holds `port`: a UDP socket bound to it, or a TCP listener. For a
 * router's evapi port, which Kamailio binds in a child after its SIP port answers, and for SIPp's
 * port. Rejects with PortTakenError when another process holds it, and with exitedAtStart's error
 * when `pid` exits first (`exited` settles).
 */
export async function waitOwnSocket(
  who: string,
  pid: number,
  proto: "udp" | "tcp",
  port: number,
  exited: Promise<unknown>,
  log: () => string,
  ms = 10_000,
): Promise<void> {
  if (!existsSync("/proc/net")) return; // cannot tell: what uses the port will
  let gone = false;
  const mark = (): void => {
    gone = true;
  };
  exited.then(mark, mark);
  // Polled: a socket appearing in another process has no event to wait for.
  const what = `${who} (pid ${pid}) on ${proto} port ${port}`;
  await waitFor(() => gone || portRows(proto, port).length > 0, ms, { every: 10, what });
  if (holdsPort(pid, proto, port)) return;
  // Gone, or going: an exit not yet reported, or its socket seen and closed since (a process that
  // has exited keeps /proc/<pid> until it is reaped), is not a clash.
  if (gone || !existsSync(`/proc/${pid}`) || portRows(proto, port).length === 0) throw exitedAtStart(who, port, log());
  throw new PortTakenError(`${proto} port ${port}: held by another process, not by ${what}`);
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
