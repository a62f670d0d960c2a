// The load tool passes the ports of an app's peers (evapi bind address, JSON-RPC service, UAS) to
// the evsip child process in environment variables; an app file reads them when it loads.
import type { AnyAppDefinition } from "../../../src/app.js";

/** The app with its /metrics endpoint on EVSIP_LOAD_METRICS (host:port) when the tool set it (--evsip-metrics). */
export function withLoadMetrics<A extends AnyAppDefinition>(app: A): A {
  const bindAddr = process.env.EVSIP_LOAD_METRICS;
  return bindAddr === undefined || bindAddr === "" ? app : { ...app, metrics: { bindAddr } };
}

export function requiredEnv(name: string): string {
  const v = process.env[name];
  if (v === undefined || v === "") throw new Error(`${name} is not set (this app is started by bench/load.ts)`);
  return v;
}
