// What "us" means for a TransportLayer: the bound listeners, the interface addresses behind a
// wildcard bind, and configured aliases (Kamailio `alias=`). Answers isLocal() for loose routing
// and loop detection (RFC 3261 §16.4) and picks the host:port to advertise in Via / Record-Route.
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { networkInterfaces } from "node:os";
import { normalizeHost, type Proto } from "./listen-spec.js";
import { SIP_DEFAULT_PORT } from "./reply-target.js";
import type { BoundListener } from "./types.js";

/** The address and family to bind for a listen host (an IP literal as is, a name resolved once). */
export async function resolveListenHost(host: string): Promise<{ host: string; family: 4 | 6 }> {
  const f = isIP(host);
  if (f === 4 || f === 6) return { host, family: f };
  const r = await lookup(host);
  return { host: r.address, family: r.family === 6 ? 6 : 4 };
}

function isWildcard(host: string): boolean {
  return host === "0.0.0.0" || host === "::";
}

/** Local addresses and names; a snapshot taken when the listeners are bound. */
export class LocalAddresses {
  private listeners: readonly BoundListener[] = [];
  private readonly aliases: Set<string>;
  private readonly interfaces = new Set<string>();
  /** First non-internal interface address per family, then loopback: what a wildcard advertises. */
  private readonly preferred = new Map<4 | 6, string>();

  constructor(aliases: readonly string[]) {
    this.aliases = new Set(aliases.map((a) => normalizeHost(a)));
  }

  /** Records the bound listeners and snapshots the interface addresses. */
  setListeners(bound: readonly BoundListener[]): void {
    this.listeners = bound;
    const internal = new Map<4 | 6, string>();
    for (const list of Object.values(networkInterfaces())) {
      for (const a of list ?? []) {
        if (a.family === "IPv6" && a.scopeid !== undefined && a.scopeid !== 0) continue; // link-local
        const addr = normalizeHost(a.address);
        this.interfaces.add(addr);
        const fam = a.family === "IPv6" ? 6 : 4;
        if (a.internal) {
          if (!internal.has(fam)) internal.set(fam, addr);
        } else if (!this.preferred.has(fam)) this.preferred.set(fam, addr);
      }
    }
    for (const [fam, addr] of internal) if (!this.preferred.has(fam)) this.preferred.set(fam, addr);
  }

  /** Host and port to advertise for `proto`, a listener of `family` first. */
  advertised(proto: Proto, family?: 4 | 6): { host: string; port: number } | undefined {
    const l =
      this.listeners.find((b) => b.proto === proto && (family === undefined || b.family === family)) ??
      this.listeners.find((b) => b.proto === proto);
    if (l === undefined) return undefined;
    if (!isWildcard(l.host)) return { host: l.host, port: l.port };
    const host = this.preferred.get(l.family) ?? (l.family === 6 ? "::1" : "127.0.0.1");
    return { host, port: l.port };
  }

  /** Whether host:port is ours; an absent port means 5060 (RFC 3261 §19.1.2). */
  isLocal(host: string, port: number | undefined): boolean {
    const h = normalizeHost(host);
    const p = port ?? SIP_DEFAULT_PORT;
    for (const l of this.listeners) {
      if (l.port !== p) continue;
      if (l.host === h || this.aliases.has(h)) return true;
      if (isWildcard(l.host) && this.interfaces.has(h) && (isIP(h) === l.family || l.host === "::")) return true;
    }
    return false;
  }
}
