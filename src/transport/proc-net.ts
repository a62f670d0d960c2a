// The kernel's socket tables (/proc/net/{udp,udp6,tcp,tcp6}, Linux) as rows. A user-space process
// cannot ask a UDP socket how much is waiting in it or whether it overflowed; these tables can, and
// reading them sends nothing to anyone. Admission control reads a listener's row while the listener
// is falling behind; the tests and the load tool read them to watch ports and drops.
import { readFileSync } from "node:fs";

export interface ProcNetSocket {
  readonly family: 4 | 6;
  readonly localPort: number;
  /** The kernel's state code: "0A" is LISTEN for TCP, "07" is a bound UDP socket. */
  readonly state: string;
  /** Bytes waiting to be read, as the kernel accounts them (each datagram with its buffer overhead). */
  readonly rxQueue: number;
  /** UDP only: datagrams dropped at this socket (receive buffer full). */
  readonly drops: number;
}

function parse(text: string, proto: "udp" | "tcp", family: 4 | 6, rows: ProcNetSocket[]): void {
  for (const line of text.split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    const local = cols[1];
    const queues = cols[4];
    if (local === undefined || queues === undefined) continue;
    rows.push({
      family,
      localPort: parseInt(local.slice(local.lastIndexOf(":") + 1), 16),
      state: cols[3] ?? "",
      rxQueue: parseInt(queues.slice(queues.indexOf(":") + 1), 16),
      drops: proto === "udp" ? Number(cols.at(-1) ?? 0) : 0,
    });
  }
}

/** Every socket of `proto` on this machine, IPv4 then IPv6; empty where /proc/net is not there. */
export function procNetSockets(proto: "udp" | "tcp", families: readonly (4 | 6)[] = [4, 6]): ProcNetSocket[] {
  const rows: ProcNetSocket[] = [];
  for (const family of families) {
    let text: string;
    try {
      text = readFileSync(`/proc/net/${proto}${family === 6 ? "6" : ""}`, "latin1");
    } catch {
      continue;
    }
    parse(text, proto, family, rows);
  }
  return rows;
}

/** What the kernel holds for the UDP socket bound to `port` (the largest, if several share it). */
export function udpSocketQueue(family: 4 | 6, port: number): { rxQueue: number; drops: number } | undefined {
  let found: { rxQueue: number; drops: number } | undefined;
  for (const s of procNetSockets("udp", [family])) {
    if (s.localPort !== port) continue;
    if (found === undefined || s.rxQueue > found.rxQueue) found = { rxQueue: s.rxQueue, drops: s.drops };
  }
  return found;
}
