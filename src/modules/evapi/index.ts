// The evapi module (Kamailio's evapi): an event socket external applications connect to, the
// evapi_* functions on ctx.evapi, `$evapi(...)`, and the three evapi event routes. See README.md.
import type { ModuleDefinition } from "../../core/module.js";
import type { EvapiApi } from "./api-types.js";
import { EVAPI_EVENTS } from "./event-data.js";
import { EvapiModule } from "./module-instance.js";
import { EVAPI_PARAMS, validateEvapiParams, type EvapiParams } from "./params.js";

/** The evapi module definition (registered in src/builtin-modules.ts). */
export const evapiModule: ModuleDefinition<EvapiParams, EvapiApi> = {
  name: "evapi",
  pvs: ["evapi"],
  ctxName: "evapi",
  params: EVAPI_PARAMS,
  validate: validateEvapiParams,
  events: EVAPI_EVENTS,
  create: (host, params) => new EvapiModule(host, params),
};

export { EvapiModule } from "./module-instance.js";
export type {
  EvapiAnyRouteApi,
  EvapiApi,
  EvapiData,
  EvapiAsyncData,
  EvapiRequestOptions,
  EvapiSendOptions,
} from "./api-types.js";
export type { Decision, DecisionAction } from "./decisions/decision.js";
export type { DecideOptions, DecisionResult } from "./decisions/decide.js";
export type { ApplyOptions } from "./decisions/apply-decision.js";
export type { EvapiClientInfo } from "./connection.js";
export type { EvapiParams, EvapiEventCallback, SlowClientPolicy, UnicastPolicy } from "./params.js";
