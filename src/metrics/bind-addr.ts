// The metrics endpoint's `bindAddr` ("127.0.0.1:9090", "[::1]:9090", "localhost:0"): parsed once at
// app load by src/params.ts, so a bad value is a ConfigError with its param name, never a late bind error.
import { isIP } from "node:net";

/** A host (IPv6 without brackets) and a port (0 lets the OS pick one). */
export interface BindAddr {
  readonly host: string;
  readonly port: number;
}

const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*$/;

/**
 * Parses `host:port`; an IPv6 host is bracketed.
 * @returns the address, or an error message naming what is wrong
 * @example parseBindAddr("[::1]:9090") // { host: "::1", port: 9090 }
 */
export function parseBindAddr(s: unknown): BindAddr | string {
  if (typeof s !== "string") return `must be a string "host:port", got ${JSON.stringify(s)}`;
  const m = /^(\[[^\]]*\]|[^:[\]]+):([0-9]{1,5})$/.exec(s.trim());
  if (m === null) return `must be "host:port" (IPv6 hosts in brackets), got ${JSON.stringify(s)}`;
  let host = m[1] ?? "";
  if (host.startsWith("[")) {
    host = host.slice(1, -1);
    if (isIP(host) !== 6) return `bracketed host is not an IPv6 address: ${JSON.stringify(s)}`;
  } else if (isIP(host) === 0 && !HOSTNAME.test(host)) {
    return `host is neither an IP address nor a host name: ${JSON.stringify(s)}`;
  }
  const port = Number(m[2]);
  if (port > 65535) return `port out of range: ${JSON.stringify(s)}`;
  return { host, port };
}
