// The kernel's socket tables (/proc/net/{udp,udp6,tcp,tcp6}) as rows: which ports are bound, in what
// state, and how many datagrams each UDP socket dropped. Reading them never disturbs the peer under
// test (no probe packet), which is why tests and the load tool ask the kernel instead.
import { readFileSync } from "node:fs";

export interface ProcNetSocket {
  readonly localPort: number;
  /** The kernel's state code: "0A" is LISTEN for TCP, "07" is a bound UDP socket. */
  readonly state: string;
  /** UDP only: datagrams dropped at this socket (receive buffer full). */
  readonly drops: number;
}

/** Every socket of `proto` on this machine, IPv4 and IPv6. */
export function procNetSockets(proto: "udp" | "tcp"): ProcNetSocket[] {
  const rows: ProcNetSocket[] = [];
  for (const file of [`/proc/net/${proto}`, `/proc/net/${proto}6`]) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      if (local === undefined) continue;
      const drops = proto === "udp" ? Number(cols.at(-1) ?? 0) : 0;
      rows.push({ localPort: parseInt(local.slice(local.lastIndexOf(":") + 1), 16), state: cols[3] ?? "", drops });
    }
  }
  return rows;
}
