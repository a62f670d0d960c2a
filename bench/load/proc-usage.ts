// What the load tool reads from /proc about the router under test and about its own sockets: the
// memory a process tree holds, and the drop counters of UDP sockets (datagrams the kernel
// discarded, receive buffer full). Its CPU time: test/support/process-tree.ts.
import { readFileSync } from "node:fs";
import { procNetSockets } from "../../src/transport/proc-net.js";
import { processTree } from "../../test/support/process-tree.js";

function statusKb(pid: number, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m === null ? 0 : Number(m[1]);
  } catch {
    return 0;
  }
}

function pssKb(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"));
    return m === null ? statusKb(pid, "VmRSS") : Number(m[1]);
  } catch {
    return statusKb(pid, "VmRSS");
  }
}

/**
 * Memory the router holds, kB: VmRSS for a single process (evsip); for a tree (Kamailio) the sum
 * of each process's PSS, so that shared memory touched by several workers counts once.
 */
export function memoryKb(pid: number): number {
  const tree = processTree(pid);
  if (tree.length === 1) return statusKb(pid, "VmRSS");
  return tree.reduce((sum, p) => sum + pssKb(p), 0);
}

/** Sum of the kernel's drop counters of the UDP sockets bound to `ports` on this machine. */
export function udpDrops(ports: readonly number[]): number {
  const want = new Set(ports);
  let drops = 0;
  for (const s of procNetSockets("udp")) if (want.has(s.localPort)) drops += s.drops;
  return drops;
}
