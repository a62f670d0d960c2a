// The JSON of GET /status: what an operator (or a health check) asks first. Version, uptime, bound
// SIP listeners, transaction counts and every module's stats (Maps as plain objects), built from the
// same live stats the Prometheus metrics read.
import type { BoundListener } from "../transport/types.js";
import type { MetricsSource, StatValue } from "./source.js";

/** The body of GET /status. */
export interface StatusReport {
  readonly name: "evsip";
  readonly version: string;
  readonly node: string;
  readonly pid: number;
  readonly startedAt: string;
  readonly uptimeSeconds: number;
  readonly listeners: readonly BoundListener[];
  readonly transactions: {
    readonly server: number;
    readonly client: number;
    readonly suspended: number;
    readonly created: number;
  };
  readonly sip: { readonly requests: number; readonly responses: number; readonly received: number; readonly sent: number };
  readonly modules: Record<string, Record<string, number | Record<string, number>>>;
}

function plain(stats: Record<string, StatValue>): Record<string, number | Record<string, number>> {
  const out: Record<string, number | Record<string, number>> = {};
  for (const [k, v] of Object.entries(stats)) {
    if (typeof v === "number") out[k] = v;
    else if (v instanceof Map) out[k] = Object.fromEntries(v);
  }
  return out;
}

/** Builds the /status report; `modules` is this request's snapshot of each module's stats(). */
export function buildStatus(
  source: MetricsSource,
  version: string,
  startedAt: Date,
  modules: ReadonlyMap<string, Record<string, StatValue>>,
): StatusReport {
  const tm = source.engine.tu.stats;
  const t = source.transport.stats;
  const mods: StatusReport["modules"] = {};
  for (const [name, stats] of modules) mods[name] = plain(stats);
  return {
    name: "evsip",
    version,
    node: process.version,
    pid: process.pid,
    startedAt: startedAt.toISOString(),
    uptimeSeconds: Math.round((Date.now() - startedAt.getTime()) / 10) / 100,
    listeners: source.transport.listeners().map((l) => ({ proto: l.proto, host: l.host, port: l.port, family: l.family })),
    transactions: {
      server: tm.serverTransactions,
      client: tm.clientTransactions,
      suspended: tm.suspended,
      created: tm.created,
    },
    sip: {
      requests: source.engine.stats.requests,
      responses: source.engine.stats.responses,
      received: t.udpRx + t.tcpRx,
      sent: t.tx,
    },
    modules: mods,
  };
}
