// The jsonrpcc `servers` param: "host1:port1,prio1 host2:port2,prio2" exactly as Kamailio's doc and
// seed show (kamailio-behaviour.md §8.2), plus `[v6]:port` which Kamailio cannot do. Entries are
// separated by whitespace; the priority is a non-zero integer and higher numbers are tried first.
import type { ErrorCode } from "../../errors.js";

/** One server of the `servers` param. */
export interface ServerSpec {
  readonly host: string;
  readonly port: number;
  readonly priority: number;
}

/** A priority group: servers of equal priority, used round robin. */
export interface ServerGroup {
  readonly priority: number;
  readonly servers: readonly ServerSpec[];
}

const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/;
const ENTRY = /^(\[[0-9A-Fa-f:.]+\]|[^:\s,[\]]+):(\d{1,5}),(-?\d+)$/;

/**
 * Parses the `servers` string. Never throws: a bad entry gives `{ ok: false }` naming it.
 *
 * @example
 * parseServers("localhost:9999,2 10.10.0.1:9999,2 backup.server:9999,1");
 */
export function parseServers(text: string): { ok: true; servers: ServerSpec[] } | { ok: false; code: ErrorCode; detail: string } {
  const entries = text
    .trim()
    .split(/\s+/)
    .filter((e) => e !== "");
  if (entries.length === 0) return { ok: false, code: "ERR_JSONRPC_BAD_SERVERS", detail: "no server given" };
  const servers: ServerSpec[] = [];
  for (const entry of entries) {
    const m = ENTRY.exec(entry);
    if (!m) return bad(entry, "expected host:port,priority");
    const rawHost = m[1] as string;
    const host = rawHost.startsWith("[") ? rawHost.slice(1, -1) : rawHost;
    if (!rawHost.startsWith("[") && !HOSTNAME.test(host)) return bad(entry, "invalid host name");
    if (rawHost.startsWith("[") && !host.includes(":")) return bad(entry, "brackets hold an IPv6 address");
    const port = Number(m[2]);
    if (port < 1 || port > 65535) return bad(entry, "port must be 1..65535");
    const priority = Number(m[3]);
    if (priority === 0 || !Number.isSafeInteger(priority)) return bad(entry, "priority must be a non-zero integer");
    servers.push({ host, port, priority });
  }
  return { ok: true, servers };
}

function bad(entry: string, why: string): { ok: false; code: ErrorCode; detail: string } {
  return { ok: false, code: "ERR_JSONRPC_BAD_SERVERS", detail: `${JSON.stringify(entry)}: ${why}` };
}

/** Groups servers by priority, higher number first; order inside a group is the param's order. */
export function groupServers(servers: readonly ServerSpec[]): ServerGroup[] {
  const byPrio = new Map<number, ServerSpec[]>();
  for (const s of servers) {
    const g = byPrio.get(s.priority);
    if (g) g.push(s);
    else byPrio.set(s.priority, [s]);
  }
  return [...byPrio.entries()].sort((a, b) => b[0] - a[0]).map(([priority, list]) => ({ priority, servers: list }));
}

/** "host:port", with brackets around an IPv6 host. */
export function serverAddress(s: { host: string; port: number }): string {
  return s.host.includes(":") ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`;
}
