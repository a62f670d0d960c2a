// The modules evsip ships, by Kamailio name. The server finds a module here when the app lists it
// in `modules`; the types below give ctx.<module> and the params their shapes.
import type { AnyModuleDefinition } from "./core/module.js";
import { dialogModule, type DialogApi, type DialogParams } from "./modules/dialog/index.js";
import { evapiModule, type EvapiApi, type EvapiParams } from "./modules/evapi/index.js";
import { htableModule, type HtableApi, type HtableParamsConfig } from "./modules/htable/index.js";
import { jsonrpccModule, type JsonRpcApi, type JsonRpcParamsConfig } from "./modules/jsonrpcc/index.js";

/** Params of each built-in module, by module name. */
export interface ModuleParamsMap {
  [name: string]: unknown;
  evapi?: Partial<EvapiParams>;
  /** JSON-RPC client over netstrings (JSONRPCC.md); `servers` is required. */
  jsonrpcc?: Partial<JsonRpcParamsConfig> & { servers: string };
  /** Shared hash tables: `{ a: { size: 4 } }`, `"a=>size=4;autoexpire=60"`, or `{ htable: …, timerInterval }`. */
  htable?: (Partial<HtableParamsConfig> & Record<string, unknown>) | string | string[];
  /** Dialog tracking (Kamailio dialog): timeouts, keepalives, profiles. */
  dialog?: Partial<DialogParams>;
}

/** APIs the built-in modules add to the route context. */
export interface ModuleApis {
  readonly evapi: EvapiApi;
  readonly jsonrpc: JsonRpcApi;
  readonly htable: HtableApi;
  readonly dialog: DialogApi;
}

/** Every built-in module definition by name. */
export const BUILTIN_MODULES: Readonly<Record<string, AnyModuleDefinition>> = {
  evapi: evapiModule,
  jsonrpcc: jsonrpccModule,
  htable: htableModule,
  dialog: dialogModule,
};
