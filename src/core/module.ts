// The module contract (Kamailio's module exports table, as a plain object): a name, params with
// defaults and validation, the event routes it may fire, init/stop, and the API it adds to the route
// context. The core knows modules only through this shape; adding a module touches no core file.
import type { Logger } from "pino";
import type { ParamSchema } from "./params.js";
import type { ErrorCode } from "../errors.js";
import type { PvClass } from "./pv-registry.js";
import type { RouteContext } from "./context.js";
import type { Engine } from "./engine.js";
import type { TransactionApi } from "./transaction-user.js";

/** What the server hands a module at creation. */
export interface ModuleHost {
  readonly logger: Logger;
  /** The engine: transactions, routes, events. */
  readonly engine: Engine;
  /** Stateful processing (Kamailio's load_tm_api): suspend, continue, hold, observe. */
  readonly tm: TransactionApi;
  /** Adds a pseudo-variable class (`$evapi(...)`, `$sht(...)`). */
  registerPv(name: string, cls: PvClass<RouteContext>): void;
}

/** A running module instance. */
export interface ModuleInstance<Api> {
  /** Runs once after all modules are created and before the listeners open. */
  init?(): void | Promise<void>;
  /** Runs once the SIP listeners are open, before core:worker-one-init (work that sends, e.g. restored timers). */
  started?(): void;
  /** The object placed at ctx[ctxName] for a route run; called at most once per context. */
  api(ctx: RouteContext): Api;
  /** Closes sockets and clears timers. */
  stop?(): void | Promise<void>;
  /** Counters for the metrics exporter: plain numbers, or Maps of label → number. */
  stats?(): Record<string, number | ReadonlyMap<string, number>>;
}

/** A module definition: see src/modules/<name>/ for the built-in ones. */
export interface ModuleDefinition<P, Api> {
  /** Kamailio's module name (`evapi`, `jsonrpcc`, `htable`). */
  readonly name: string;
  /** Property name on the route context (`ctx.evapi`, `ctx.jsonrpc`). */
  readonly ctxName: string;
  readonly params: ParamSchema<P>;
  /**
   * Rewrites the app's value into the params shape before validation, for short forms (htable's
   * `{ a: { size: 4 } }`, a bare servers string). Optional.
   */
  normalize?(given: unknown): unknown;
  /**
   * Extra validation across params (e.g. parse a servers string); returns problems as [param,
   * message], with the code of the problem third when it has one of its own.
   */
  validate?(params: P): Array<[string, string, ErrorCode?]>;
  /** Event routes this module may fire, for the documented list and app-load warnings. */
  readonly events?: readonly string[];
  /** Pseudo-variable classes its create() registers (`sht`, `evapi`), for load-time name checks. */
  readonly pvs?: readonly string[];
  create(host: ModuleHost, params: P): ModuleInstance<Api>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyModuleDefinition = ModuleDefinition<any, any>;
