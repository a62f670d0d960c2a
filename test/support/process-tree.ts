// A process and its direct children, and their CPU time, from /proc (Linux). One level is enough:
// Kamailio's creator forks every worker itself, and evsip is one process.
import { readdirSync, readFileSync } from "node:fs";

/** [ppid, utime + stime, utime] in clock ticks of a process from /proc/<pid>/stat, or undefined. */
function procStat(pid: number | string): [number, number, number] | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = s.slice(s.lastIndexOf(")") + 2).split(" "); // fields from 3 (state) on
    return [Number(f[1]), Number(f[11]) + Number(f[12]), Number(f[11])];
  } catch {
    return undefined; // the process ended between readdir and read
  }
}

/** The pid and its direct children; just the pid where /proc is not there. */
export function processTree(pid: number): number[] {
  const out = [pid];
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return out;
  }
  for (const d of entries) if (/^[0-9]+$/.test(d) && procStat(d)?.[0] === pid) out.push(Number(d));
  return out;
}

/**
 * CPU seconds of `pid` and its direct children (Kamailio's workers), at 100 ticks/s (Linux USER_HZ);
 * `user`: user mode only (the program's own work, without the system calls it made).
 */
export function treeCpuSeconds(pid: number, user = false): number {
  const field = user ? 2 : 1;
  let ticks = 0;
  for (const p of processTree(pid)) ticks += procStat(p)?.[field] ?? 0;
  return ticks / 100;
}
