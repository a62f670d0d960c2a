// `evsip check` and app load refuse a route that names an unknown pseudo-variable or
// transformation in a string literal (src/core/pv-literals.ts). The names come from a registry
// built like the engine's (core, $T, and each listed module's declared classes), without starting
// anything: module classes are stand-ins that only have to exist.
import type { AnyAppDefinition } from "./app.js";
import { BUILTIN_MODULES } from "./builtin-modules.js";
import type { RouteContext } from "./core/context.js";
import { registerCorePvs } from "./core/core-pvs.js";
import { Formatter } from "./core/fmt.js";
import type { ParamProblem } from "./core/params.js";
import { appRoutes, checkPvLiterals, pvLiteralsOf } from "./core/pv-literals.js";
import { PvRegistry } from "./core/pv-registry.js";
import type { ErrorCode } from "./errors.js";
import { registerTPv } from "./tu/t-pv.js";

/**
 * A registry and formatter that know every name an app loading `modules` can use, for checks at
 * load (compile a name or template: it throws what the engine would). Nothing runs.
 */
export function pvCheckRegistry(modules: readonly string[]): { pvs: PvRegistry<RouteContext>; fmt: Formatter<RouteContext> } {
  const pvs = new PvRegistry<RouteContext>();
  const fmt = new Formatter(pvs);
  registerCorePvs(pvs, new Map());
  registerTPv(pvs);
  for (const name of modules) {
    for (const pv of BUILTIN_MODULES[name]?.pvs ?? []) pvs.register(pv, { get: () => null, set: () => undefined });
  }
  return { pvs, fmt };
}

/** Problems for every literal pseudo-variable the app's routes name that evsip would refuse. */
export function checkAppPvs(app: AnyAppDefinition): ParamProblem[] {
  const { pvs, fmt } = pvCheckRegistry(Object.keys(app.modules ?? {}));
  const literals = appRoutes(app).flatMap(([route, fn]) => pvLiteralsOf(route, fn));
  return checkPvLiterals(literals, pvs, fmt).map((p) => ({ param: p.route, message: p.message, code: p.code as ErrorCode }));
}
