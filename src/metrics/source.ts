// What the metrics exporter reads from a running server: the live stats objects of each layer and
// each module's stats(). A structural interface, so src/metrics never imports src/server.ts (the
// server imports this folder); the server builds one from its private layers.
import type { Engine } from "../core/engine.js";
import type { ModuleInstance } from "../core/module.js";
import type { BacklogState } from "../transport/input-backlog.js";
import type { BoundListener, TransportStats } from "../transport/types.js";

/** The parts of a Server the exporter reads; never written to. */
export interface MetricsSource {
  readonly transport: {
    readonly stats: TransportStats;
    listeners(): readonly BoundListener[];
    /** The worst of the UDP listeners and the TCP input: what admission control sheds on. */
    inputBacklog(): BacklogState;
    udpKernelDrops(): number;
    overloadReduction(): number;
    /** New work waiting in evsip behind the calls in progress. */
    newWorkWaiting(): number;
  };
  readonly engine: Pick<Engine, "stats" | "sl" | "forwarder" | "tu" | "admission" | "locks">;
  /** Running modules by name; `stats()` is optional on each. */
  readonly modules: ReadonlyMap<string, Pick<ModuleInstance<unknown>, "stats">>;
}

/** A value a stats object may hold: a number, or label → number. */
export type StatValue = number | ReadonlyMap<string, number>;

/** One module's stats, or an empty object when it has none (or its stats() threw). */
export function moduleStats(m: Pick<ModuleInstance<unknown>, "stats">): Record<string, StatValue> {
  if (m.stats === undefined) return {};
  try {
    return m.stats();
  } catch {
    return {};
  }
}

/** camelCase → snake_case for metric names (`clientsConnected` → `clients_connected`). */
export function snakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/[^A-Za-z0-9_]/g, "_")
    .toLowerCase();
}
