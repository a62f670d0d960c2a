// Listen specs ("udp:127.0.0.1:5060", "tcp:[::1]:5060") and the canonical form of an address.
// Hosts are kept without brackets everywhere inside evsip; brackets only appear on the wire
// (RFC 3261 §25.1 IPv6reference) and in specs, where formatHostPort/parseListen add or strip them.
import { isIP, SocketAddress } from "node:net";
import { formatHostPort, parseHostPort, unbracket } from "../common/host-port.js";
import { ConfigError } from "../errors.js";

/** A transport protocol evsip listens on. */
export type Proto = "udp" | "tcp";

/** One socket to bind: protocol, host (IP literal or name, never bracketed) and port (0 = any). */
export interface ListenSpec {
  readonly proto: Proto;
  readonly host: string;
  readonly port: number;
}

function bad(s: string, why: string): ConfigError {
  return new ConfigError("ERR_TRANSPORT_BAD_LISTEN", `bad listen spec ${JSON.stringify(s)}: ${why}`);
}

/**
 * Parses `proto:host:port`. proto is `udp` or `tcp` (case-insensitive); host:port as parseHostPort
 * reads it (an IPv6 host is bracketed), with the port required, 0..65535 (0 lets the OS pick one).
 * @throws ConfigError ERR_TRANSPORT_BAD_LISTEN
 * @example parseListen("tcp:[::1]:5060") // { proto: "tcp", host: "::1", port: 5060 }
 */
export function parseListen(s: string): ListenSpec {
  if (typeof s !== "string") throw bad(String(s), "not a string");
  const m = /^([A-Za-z]+):(.+)$/.exec(s.trim());
  if (m === null) throw bad(s, "expected proto:host:port, IPv6 hosts in brackets");
  const proto = (m[1] ?? "").toLowerCase();
  if (proto !== "udp" && proto !== "tcp") throw bad(s, `unsupported protocol ${m[1]}`);
  const r = parseHostPort(m[2] ?? "");
  if (!r.ok) throw bad(s, r.detail);
  return { proto, ...r.addr };
}

/** A spec back as text (`tcp:[::1]:5060`). */
export function formatListen(spec: ListenSpec): string {
  return `${spec.proto}:${formatHostPort(spec.host, spec.port)}`;
}

/**
 * The canonical text of an address for lookups: brackets stripped, lower-cased, IPv4-mapped IPv6
 * (`::ffff:1.2.3.4`, what a dual-stack socket reports) reduced to the IPv4 address, IPv6 compressed.
 */
export function normalizeHost(host: string): string {
  let h = unbracket(host).toLowerCase();
  if (h.startsWith("::ffff:") && isIP(h.slice(7)) === 4) h = h.slice(7);
  const family = isIP(h);
  if (family === 6 && h !== "::1") h = new SocketAddress({ address: h, family: "ipv6" }).address;
  else if (family === 0 && h.endsWith(".")) h = h.slice(0, -1);
  return h;
}
