// How a Kamailio cfg function is described to the compiler: the module that exports it, its
// argument forms, and a builder that turns the compiled arguments into one closure over the route
// context. The closure returns Kamailio's int result (> 0 true, < 0 false).
import type { PvValue } from "../core/pv-registry.js";
import type { RequestContext } from "../route-contexts.js";
import type { RouteContext } from "../core/context.js";

/**
 * The route context a compiled cfg closure runs on (one class at run time for every route kind),
 * with the $rc slot the cfg language has and a TypeScript app does not need.
 */
export type CfgCtx = RequestContext & Pick<RouteContext, "retcode">;

/**
 * An argument form:
 * - `s`: a string; pseudo-variables inside a literal are expanded (ctx.fmt), a `$pv` is read;
 * - `i`: an integer, written as 483 or "483" or held by a pseudo-variable;
 * - `pv`: the name of a pseudo-variable to write ("$var(x)"), a literal checked at load;
 * - `route`: a route name, a literal checked at load against the cfg's routes.
 */
export type ArgKind = "s" | "i" | "pv" | "route";

export interface CompiledArgs {
  str(i: number): (ctx: CfgCtx) => string;
  int(i: number): (ctx: CfgCtx) => number;
  /** A literal argument's text (pv and route forms, xlog's level and format). */
  name(i: number): string;
  /** The argument's value when it is a literal with no pseudo-variable in it, else undefined. */
  constant(i: number): string | undefined;
  /** A literal format string (xlog's), its pseudo-variables checked at load. */
  template(i: number): string;
  /** A literal argument that must name a pseudo-variable (checked at load). */
  pv(i: number): string;
  /**
   * A flag number: a literal (or a #!define'd name) checked at load to be 0..31, or, when the
   * function takes it so, a pseudo-variable read at run time.
   */
  flag(i: number, pvAllowed: boolean): (ctx: CfgCtx) => number;
  /** Refuses the argument at load (ERR_CFG_UNSUPPORTED at its position). */
  refuse(i: number, message: string): never;
  readonly count: number;
}

export interface FunctionSpec {
  /** The Kamailio module that exports it ("core" needs no loadmodule). */
  readonly module: string;
  /** Argument forms; the first `min` are required (default: all). */
  readonly args: readonly ArgKind[];
  readonly min?: number;
  /**
   * Kamailio's route-type mask of the function (route-types.ts): the blocks it may be used in;
   * absent means any block.
   */
  readonly routes?: number;
  readonly build: (a: CompiledArgs) => (ctx: CfgCtx) => number;
}

export type Evaluator = (ctx: CfgCtx) => PvValue;
