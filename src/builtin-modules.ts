// The modules evsip ships, by Kamailio name. The server finds a module here when the app lists it
// in `modules`; the types below give ctx.<module> and the params their shapes.
import type { AnyModuleDefinition } from "./core/module.js";
import { evapiModule, type EvapiApi, type EvapiParams } from "./modules/evapi/index.js";

/** Params of each built-in module, by module name. */
export interface ModuleParamsMap {
  [name: string]: Record<string, unknown> | undefined;
  evapi?: Partial<EvapiParams>;
}

/** APIs the built-in modules add to the route context. */
export interface ModuleApis {
  evapi: EvapiApi;
}

/** Every built-in module definition by name. */
export const BUILTIN_MODULES: Readonly<Record<string, AnyModuleDefinition>> = {
  evapi: evapiModule,
};
