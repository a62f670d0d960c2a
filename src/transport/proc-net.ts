// The kernel's socket tables (/proc/net/{udp,udp6,tcp,tcp6}, Linux) as rows. A user-space process
// cannot ask a UDP socket how much is waiting in it or whether it overflowed; these tables can, and
// reading them sends nothing to anyone. Admission control reads a listener's row while the listener
// is falling behind; the tests and the load tool read them to watch ports and drops.
import { readFileSync } from "node:fs";
import { isIPv4 } from "node:net";

export interface ProcNetSocket {
  readonly family: 4 | 6;
  /** The local address as the table writes it: hex, each 32-bit word in host (little-endian) order. */
  readonly localHex: string;
  readonly localPort: number;
  /** The peer's port; 0 for a listening or unconnected socket. */
  readonly remotePort: number;
  /** The kernel's state code: "0A" is LISTEN for TCP, "07" is a bound UDP socket. */
  readonly state: string;
  /** Bytes waiting to be read, as the kernel accounts them (each datagram with its buffer overhead). */
  readonly rxQueue: number;
  /** UDP only: datagrams dropped at this socket (receive buffer full). */
  readonly drops: number;
  /** The socket's inode: a process holds the socket when one of its fds links to `socket:[inode]`. */
  readonly inode: string;
}

function parseLine(line: string, proto: "udp" | "tcp", family: 4 | 6): ProcNetSocket | undefined {
  const cols = line.trim().split(/\s+/);
  const local = cols[1];
  const remote = cols[2] ?? "";
  const queues = cols[4];
  if (local === undefined || queues === undefined) return undefined;
  const colon = local.lastIndexOf(":");
  return {
    family,
    localHex: local.slice(0, colon),
    localPort: parseInt(local.slice(colon + 1), 16),
    remotePort: parseInt(remote.slice(remote.lastIndexOf(":") + 1), 16) || 0,
    state: cols[3] ?? "",
    rxQueue: parseInt(queues.slice(queues.indexOf(":") + 1), 16),
    drops: proto === "udp" ? Number(cols.at(-1) ?? 0) : 0,
    inode: cols[9] ?? "",
  };
}

function table(proto: "udp" | "tcp", family: 4 | 6): string | undefined {
  try {
    return readFileSync(`/proc/net/${proto}${family === 6 ? "6" : ""}`, "latin1");
  } catch {
    return undefined;
  }
}

/** Every socket of `proto` on this machine, IPv4 then IPv6; empty where /proc/net is not there. */
export function procNetSockets(proto: "udp" | "tcp", families: readonly (4 | 6)[] = [4, 6]): ProcNetSocket[] {
  const rows: ProcNetSocket[] = [];
  for (const family of families) {
    for (const line of (table(proto, family) ?? "").split("\n").slice(1)) {
      const row = parseLine(line, proto, family);
      if (row !== undefined) rows.push(row);
    }
  }
  return rows;
}

/** `address` as /proc/net writes it: each 32-bit word of the address in little-endian byte order. */
export function procNetHex(address: string): string {
  const bytes: number[] = [];
  if (isIPv4(address)) bytes.push(...address.split(".").map(Number));
  else {
    // Expand "::" and an embedded IPv4 tail, then take 16 bytes.
    let a = address.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
    const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(a);
    if (v4?.[1] !== undefined) {
      const o = v4[1].split(".").map(Number);
      a =
        a.slice(0, -v4[1].length) +
        `${(((o[0] ?? 0) << 8) | (o[1] ?? 0)).toString(16)}:${(((o[2] ?? 0) << 8) | (o[3] ?? 0)).toString(16)}`;
    }
    const [head = "", tail] = a.split("::");
    const h = head === "" ? [] : head.split(":");
    const t = tail === undefined || tail === "" ? [] : tail.split(":");
    const groups = [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t];
    for (const g of groups) bytes.push(parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff);
  }
  let hex = "";
  for (let w = 0; w < bytes.length; w += 4) {
    for (let i = 3; i >= 0; i--) hex += (bytes[w + i] ?? 0).toString(16).padStart(2, "0");
  }
  return hex.toUpperCase();
}

/**
 * A reader of what the kernel holds for the UDP socket bound to `address`:`port` (undefined when
 * the row is not there). The row's key is worked out once; a read parses only the line that
 * carries it: on a host with thousands of sockets (an RTP relay beside the router) the read itself
 * is the cost, and the caller spaces its reads by what they take.
 */
export function udpQueueReader(
  family: 4 | 6,
  address: string,
  port: number,
): () => { rxQueue: number; drops: number } | undefined {
  const key = `: ${procNetHex(address)}:${port.toString(16).toUpperCase().padStart(4, "0")} `;
  return () => {
    const text = table("udp", family);
    const at = text === undefined ? -1 : text.indexOf(key);
    if (text === undefined || at < 0) return undefined;
    const row = parseLine(text.slice(text.lastIndexOf("\n", at) + 1, text.indexOf("\n", at)), "udp", family);
    return row === undefined ? undefined : { rxQueue: row.rxQueue, drops: row.drops };
  };
}
