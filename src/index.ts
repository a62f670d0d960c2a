// The one public entry of evsip (package.json "exports" hides the rest).
export * from "./errors.js";
export type * from "./sip/types.js";
export { defineApp } from "./app.js";
export type { AnyAppDefinition, AppDefinition, ServerParams } from "./app.js";
export type { RequestContext, ReplyContext, EventContext, RouteContextFor } from "./route-contexts.js";
export type { SlApi, MaxfwdApi, RrApi, TmApi, XlogLevel, RouteKind } from "./core/context-types.js";
export type { TransactionId } from "./core/transaction-user.js";
export type { PvValue } from "./core/pv-registry.js";
// The built-in modules' context APIs and params, for code that names them outside defineApp.
export type { ModuleParamsMap, RequestModuleApis, AnyRouteModuleApis, LoadedApi } from "./builtin-modules.js";
export type {
  EvapiApi,
  EvapiAnyRouteApi,
  EvapiData,
  EvapiAsyncData,
  EvapiRequestOptions,
  EvapiSendOptions,
  Decision,
  DecisionAction,
  DecideOptions,
  DecisionResult,
  ApplyOptions,
  EvapiClientInfo,
  EvapiParams,
  EvapiEventCallback,
  SlowClientPolicy,
  UnicastPolicy,
} from "./modules/evapi/index.js";
export type {
  JsonRpcApi,
  JsonRpcAnyRouteApi,
  JsonRpcCallOptions,
  JsonRpcParams,
  JsonRpcParamsConfig,
} from "./modules/jsonrpcc/index.js";
export type { HtableApi, HtableExpired, HtValue, HtableParamsConfig, TablesParam } from "./modules/htable/index.js";
export type {
  ByeSide,
  DialogApi,
  DialogEndReason,
  DialogEventInfo,
  DialogParams,
  DialogRecord,
  DialogSide,
  DialogStateNumber,
} from "./modules/dialog/index.js";
export { Server, startServer } from "./server.js";
export type { ServerOptions, DrainReport } from "./server.js";
