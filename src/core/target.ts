// Where a request goes: a SIP URI ($du or the Request-URI) turned into protocol, host and port
// (RFC 3263 reduced to what a router on fixed addresses needs: transport param, default ports, an
// A/AAAA lookup for names; no NAPTR/SRV yet).
import { isIP } from "node:net";
import { lookup } from "node:dns/promises";
import { unbracket } from "../common/host-port.js";
import { namesHost, parseUri } from "../sip/index.js";
import type { Proto } from "../transport/listen-spec.js";
import { SIP_DEFAULT_PORT } from "../transport/reply-target.js";

export interface Target {
  readonly proto: Proto;
  /** Host without brackets. */
  readonly host: string;
  readonly port: number;
}

/** Parses "sip:host:port;transport=tcp" (or "udp:host:port" / "tcp:host:port") into a Target. */
export function uriToTarget(uri: string): Target | undefined {
  const short = /^(udp|tcp):(.+):(\d+)$/i.exec(uri);
  if (short) {
    return { proto: (short[1] as string).toLowerCase() as Proto, host: unbracket(short[2] as string), port: Number(short[3]) };
  }
  const u = parseUri(uri);
  // tel: and urn: name no host to send to: such a request needs a route or a destination set.
  if (!namesHost(u) || !u.host) return undefined;
  const transport = u.params.get("transport")?.toLowerCase();
  const proto: Proto = transport === "tcp" || transport === "tls" || u.scheme === "sips" ? "tcp" : "udp";
  const maddr = u.params.get("maddr");
  return { proto, host: unbracket(maddr ?? u.host), port: u.port ?? SIP_DEFAULT_PORT };
}

/** True when the host needs no DNS lookup. */
export function isAddress(host: string): boolean {
  return isIP(host) !== 0;
}

/** Resolves a name to one address (A or AAAA via the system resolver). */
export async function resolveHost(host: string): Promise<string> {
  const r = await lookup(host);
  return r.address;
}

/**
 * Calls `go` with t's address: at once for an IP literal (returning go's result), else after an
 * A/AAAA lookup, with `later` set (returning true at once; `failed` runs when the name does not
 * resolve).
 */
export function atAddress(t: Target, go: (addr: string, later: boolean) => boolean, failed: (err: unknown) => void): boolean {
  if (isAddress(t.host)) return go(t.host, false);
  void resolveHost(t.host).then((addr) => go(addr, true), failed);
  return true;
}
