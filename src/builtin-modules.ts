// The modules evsip ships, by Kamailio name. The server finds a module here when the app lists it
// in `modules`; the types below give ctx.<module> and the params their shapes.
import type { AnyModuleDefinition } from "./core/module.js";
import { dialogModule, type DialogApi, type DialogParams } from "./modules/dialog/index.js";
import { evapiModule, type EvapiAnyRouteApi, type EvapiApi, type EvapiParams } from "./modules/evapi/index.js";
import { htableModule, type HtableApi, type HtableParamsConfig } from "./modules/htable/index.js";
import { jsonrpccModule, type JsonRpcAnyRouteApi, type JsonRpcApi, type JsonRpcParamsConfig } from "./modules/jsonrpcc/index.js";

/** Params of each built-in module, by module name. */
export interface ModuleParamsMap {
  [name: string]: unknown;
  evapi?: Partial<EvapiParams>;
  /** JSON-RPC client over netstrings (docs/jsonrpcc.md); `servers` is required. */
  jsonrpcc?: Partial<JsonRpcParamsConfig> & { servers: string };
  /** Shared hash tables: `{ a: { size: 4 } }`, `"a=>size=4;autoexpire=60"`, or `{ htable: …, timerInterval }`. */
  htable?: (Partial<HtableParamsConfig> & Record<string, unknown>) | string | string[];
  /** Dialog tracking (Kamailio dialog): timeouts, keepalives, profiles. */
  dialog?: Partial<DialogParams>;
}

/**
 * What ctx.<module> is for an app whose `modules` has type M: `Api` when M lists `name`, `undefined`
 * when it does not (the server adds only the listed modules to the context), and `Api | undefined`
 * when M cannot tell (an optional key, or a map typed as plain ModuleParamsMap).
 */
export type LoadedApi<M, Name extends string, Api> = string extends keyof M
  ? Api | undefined
  : Name extends keyof M
    ? Partial<Pick<M, Name>> extends Pick<M, Name>
      ? Api | undefined
      : Api
    : undefined;

/** APIs the built-in modules add to request routes (request, failure, branch and named routes). */
export interface RequestModuleApis<M = ModuleParamsMap> {
  readonly evapi: LoadedApi<M, "evapi", EvapiApi>;
  readonly jsonrpc: LoadedApi<M, "jsonrpcc", JsonRpcApi>;
  readonly htable: LoadedApi<M, "htable", HtableApi>;
  readonly dialog: LoadedApi<M, "dialog", DialogApi>;
}

/**
 * APIs the built-in modules add to reply and event routes: without the functions that suspend or
 * hold the request's transaction, which throw there.
 */
export interface AnyRouteModuleApis<M = ModuleParamsMap> {
  readonly evapi: LoadedApi<M, "evapi", EvapiAnyRouteApi>;
  readonly jsonrpc: LoadedApi<M, "jsonrpcc", JsonRpcAnyRouteApi>;
  readonly htable: LoadedApi<M, "htable", HtableApi>;
  readonly dialog: LoadedApi<M, "dialog", DialogApi>;
}

/** Every built-in module definition by name. */
export const BUILTIN_MODULES: Readonly<Record<string, AnyModuleDefinition>> = {
  evapi: evapiModule,
  jsonrpcc: jsonrpccModule,
  htable: htableModule,
  dialog: dialogModule,
};
