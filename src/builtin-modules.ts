// The modules evsip ships, by Kamailio name. The server finds a module here when the app lists it
// in `modules`; the types below give ctx.<module> and the params their shapes.
import type { AnyModuleDefinition } from "./core/module.js";

/** Params of each built-in module, by module name. */
export interface ModuleParamsMap {
  [name: string]: Record<string, unknown> | undefined;
}

/** APIs the built-in modules add to the route context. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ModuleApis {}

/** Every built-in module definition by name. */
export const BUILTIN_MODULES: Readonly<Record<string, AnyModuleDefinition>> = {};
