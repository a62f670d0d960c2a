// Translates a parsed Kamailio cfg into the route functions of an AppDefinition. Each statement and
// expression becomes one closure, built once at load: at run time the engine calls these as it
// calls a TypeScript app's routes, and a request walks prebuilt closures, never the tree. Every
// name is checked here (functions and their modules, arities, route names, pseudo-variables and
// the templates in string literals), so a cfg evsip cannot run is refused at load, by file:line:col.
import { CfgError, EvsipError } from "../errors.js";
import type { Formatter } from "../core/fmt.js";
import type { PvRegistry } from "../core/pv-registry.js";
import type { RouteContext } from "../core/context.js";
import type { CfgFile, Expr, RouteBlock, Stmt } from "./ast.js";
import type { Where } from "./lexer.js";
import type { ArgKind, CfgCtx, CompiledArgs, Evaluator, FunctionSpec } from "./function-spec.js";
import { CORE_FUNCTIONS } from "./functions-core.js";
import { MODULE_FUNCTIONS } from "./functions-modules.js";
import { checkRouteKinds } from "./route-kinds.js";
import { compare, equals, plus, toInt, toStr, truthy } from "./values.js";
import { isFlag, MAX_FLAG } from "../core/msg-flags.js";

/** What a statement tells the block around it: go on, `break`, or `return`. */
const NEXT = 0;
const BREAK = 1;
const RETURN = 2;
type Exec = (ctx: CfgCtx) => number;
/** A route as the app holds it: one context class runs every route kind (see entry below). */
type Route = (ctx: unknown) => void;

/** The event routes evsip fires (docs/events.md), by the module that fires them. */
const EVENTS = new Map([
  ["core:worker-one-init", "core"],
  ["core:receive-parse-error", "core"],
  ["evapi:connection-new", "evapi"],
  ["evapi:connection-closed", "evapi"],
  ["evapi:message-received", "evapi"],
  ["dialog:start", "dialog"],
  ["dialog:end", "dialog"],
  ["dialog:failed", "dialog"],
  ["htable:mod-init", "htable"],
]);

/** A string that is one pseudo-variable reference without transformations or nested ones. */
const LONE_PV = /^\$[A-Za-z_][A-Za-z0-9_]*(\([^()$]*\))?$/;

/** Kamailio's max_while_loops default: a while that runs longer is stopped. */
export const DEFAULT_MAX_WHILE_LOOPS = 100;

/** The value of the last `return` (routes run to completion one at a time, so one slot is enough). */
let returned = 1;
/**
 * The result of the last statement run, Kamailio's "ret" of an action: a call's value, 1 for an
 * assignment and for an if, while or switch that ran nothing, 0 for break. A route that ends
 * without `return` gives route(X) this value, as Kamailio's run_actions does.
 */
let last = 1;

export interface CompiledRoutes {
  request?: Route;
  reply?: Route;
  routes: Record<string, Route>;
  events: Record<string, Route>;
}

export interface CompileOptions {
  readonly file: string;
  /** Kamailio module names the cfg loads ("tm", "evapi"). */
  readonly loaded: ReadonlySet<string>;
  readonly pvs: PvRegistry<RouteContext>;
  readonly fmt: Formatter<RouteContext>;
  readonly maxWhileLoops: number;
}

const FUNCTIONS: Readonly<Record<string, FunctionSpec>> = { ...CORE_FUNCTIONS, ...MODULE_FUNCTIONS };

function unsupported(at: Where, message: string): CfgError {
  return new CfgError("ERR_CFG_UNSUPPORTED", at, message);
}

function syntax(at: Where, message: string): CfgError {
  return new CfgError("ERR_CFG_SYNTAX", at, message);
}

class Compiler {
  /** route[X] bodies by name, filled before any body compiles so calls may precede definitions. */
  private readonly subroutes = new Map<string, { run: Exec }>();
  private readonly kinds = new Map<string, RouteBlock["kind"]>();

  private readonly o: CompileOptions;

  constructor(o: CompileOptions) {
    this.o = o;
  }

  compile(cfg: CfgFile): CompiledRoutes {
    const out: CompiledRoutes = { routes: {}, events: {} };
    const blocks: Array<[RouteBlock, (run: Exec) => void]> = [];
    for (const b of cfg.routes) blocks.push([b, this.declare(b, out)]);
    for (const [b, define] of blocks) define(seq(b.body.map((s) => this.stmt(s))));
    return out;
  }

  /** Registers a route block's name; returns where its compiled body goes. */
  private declare(b: RouteBlock, out: CompiledRoutes): (run: Exec) => void {
    // One context class runs every route kind; a function a route kind lacks fails that run
    // (logged and counted as a throwing route is), as the TypeScript types would have refused it.
    const entry =
      (run: Exec): Route =>
      (ctx) =>
        void run(ctx as CfgCtx);
    if (b.kind === "branch") throw unsupported(b.at, "branch_route is not supported by evsip");
    if ((b.kind === "request" || b.kind === "route") && b.name === undefined) {
      if (out.request) throw syntax(b.at, "a second request_route");
      return (run) => (out.request = entry(run));
    }
    if (b.kind === "reply" && b.name === undefined) {
      if (out.reply) throw syntax(b.at, "a second onreply_route");
      return (run) => (out.reply = entry(run));
    }
    const name = b.name as string;
    if (b.kind === "event") {
      if (out.events[name]) throw syntax(b.at, `a second event_route[${name}]`);
      this.checkEvent(name, b.at);
      return (run) => (out.events[name] = entry(run));
    }
    if (b.kind === "request") throw syntax(b.at, "request_route takes no name");
    const seen = this.kinds.get(name);
    // evsip has one namespace for route[], onreply_route[] and failure_route[] names.
    if (seen)
      throw unsupported(
        b.at,
        `route name ${name} is used twice (evsip has one namespace for route, onreply_route and failure_route)`,
      );
    this.kinds.set(name, b.kind);
    const holder = { run: (() => NEXT) as Exec };
    if (b.kind === "route") this.subroutes.set(name, holder);
    return (run) => {
      holder.run = run;
      out.routes[name] = entry(run);
    };
  }

  /** An event route evsip never fires would never run: refused, naming the events it has. */
  private checkEvent(name: string, at: Where): void {
    const module = EVENTS.get(name) ?? (name.startsWith("htable:expired:") ? "htable" : undefined);
    if (module === undefined) {
      throw unsupported(
        at,
        `event_route[${name}] is not an event evsip fires (docs/events.md: ${[...EVENTS.keys()].join(", ")}, htable:expired:<table>)`,
      );
    }
    if (module !== "core" && !this.o.loaded.has(module))
      throw unsupported(at, `event_route[${name}] needs loadmodule "${module}.so"`);
  }

  private stmt(s: Stmt): Exec {
    switch (s.k) {
      case "expr": {
        const f = this.expr(s.e);
        return (ctx) => {
          last = toInt(f(ctx));
          return NEXT;
        };
      }
      case "assign": {
        const name = this.pvName(s.pv, s.at);
        const f = this.expr(s.e);
        return (ctx) => {
          ctx.setPv(name, f(ctx));
          last = 1;
          return NEXT;
        };
      }
      case "if": {
        const cond = this.cond(s.cond);
        const then = seq(s.then.map((x) => this.stmt(x)));
        const otherwise = seq(s.else.map((x) => this.stmt(x)));
        return (ctx) => {
          const c = cond(ctx);
          last = 1;
          return c ? then(ctx) : otherwise(ctx);
        };
      }
      case "while": {
        const cond = this.cond(s.cond);
        const body = seq(s.body.map((x) => this.stmt(x)));
        const max = this.o.maxWhileLoops;
        const where = `${s.at.file}:${s.at.line}:${s.at.col}`;
        return (ctx) => {
          last = 1;
          for (let i = 0; cond(ctx); i++) {
            // Kamailio's bound: the condition still true after max_while_loops rounds stops the
            // loop with an error, and the while's value is -1; the route goes on after it.
            if (i >= max) {
              ctx.log.error(
                { code: "ERR_CFG_RUNAWAY_WHILE", where, max },
                `cfg: runaway while at ${where}, more than ${max} loops`,
              );
              last = -1;
              return NEXT;
            }
            const r = body(ctx);
            if (r === BREAK) break;
            if (r === RETURN) return r;
          }
          return NEXT;
        };
      }
      case "switch":
        return this.switchStmt(s);
      case "return": {
        const f = s.e ? this.expr(s.e) : undefined;
        return (ctx) => {
          returned = f ? toInt(f(ctx)) : 1;
          return RETURN;
        };
      }
      case "exit":
        return (ctx) => ctx.exit();
      case "drop":
        return (ctx) => ctx.drop();
      case "break":
        return () => {
          last = 0;
          return BREAK;
        };
    }
  }

  /** Cases fall through to the next until a `break`, as in Kamailio (and C). */
  private switchStmt(s: Extract<Stmt, { k: "switch" }>): Exec {
    const subject = this.expr(s.e);
    const values = s.cases.map((c) => (c.value ? this.expr(c.value) : undefined));
    const bodies = s.cases.map((c) => seq(c.body.map((x) => this.stmt(x))));
    const fallback = values.findIndex((v) => v === undefined);
    return (ctx) => {
      const v = subject(ctx);
      last = 1;
      let start = values.findIndex((c) => c !== undefined && equals(v, c(ctx)));
      if (start < 0) start = fallback;
      if (start < 0) return NEXT;
      for (let i = start; i < bodies.length; i++) {
        const r = (bodies[i] as Exec)(ctx);
        if (r === BREAK) return NEXT;
        if (r === RETURN) return r;
      }
      return NEXT;
    };
  }

  /** An expression as a condition: comparisons and calls skip the PvValue round trip. */
  private cond(e: Expr): (ctx: CfgCtx) => boolean {
    if (e.k === "not") {
      const f = this.cond(e.e);
      return (ctx) => !f(ctx);
    }
    if (e.k === "bin" && (e.op === "&&" || e.op === "||")) {
      const l = this.cond(e.l);
      const r = this.cond(e.r);
      return e.op === "&&" ? (ctx) => l(ctx) && r(ctx) : (ctx) => l(ctx) || r(ctx);
    }
    if (e.k === "bin") {
      const test = this.comparison(e);
      if (test) return test;
    }
    if (e.k === "call" || e.k === "ident") {
      const f = this.call(e.k === "call" ? e : this.bareCall(e));
      return (ctx) => f(ctx) > 0;
    }
    const f = this.expr(e);
    return (ctx) => truthy(f(ctx));
  }

  private comparison(e: Extract<Expr, { k: "bin" }>): ((ctx: CfgCtx) => boolean) | undefined {
    const l = this.expr(e.l);
    if (e.op === "=~") {
      const match = this.regex(e.r);
      return (ctx) => match(ctx, toStr(l(ctx)));
    }
    this.checkConstantTypes(e);
    const r = this.expr(e.r);
    switch (e.op) {
      case "==":
        return (ctx) => equals(l(ctx), r(ctx));
      case "!=":
        return (ctx) => !equals(l(ctx), r(ctx));
      case "<":
        return (ctx) => compare(l(ctx), r(ctx)) < 0;
      case ">":
        return (ctx) => compare(l(ctx), r(ctx)) > 0;
      case "<=":
        return (ctx) => compare(l(ctx), r(ctx)) <= 0;
      case ">=":
        return (ctx) => compare(l(ctx), r(ctx)) >= 0;
      default:
        return undefined;
    }
  }

  /** `=~`: POSIX extended, case-insensitive as Kamailio's; a literal pattern is compiled at load. */
  private regex(e: Expr): (ctx: CfgCtx, s: string) => boolean {
    if (e.k === "str" && !e.v.includes("$")) {
      let re: RegExp;
      try {
        re = new RegExp(e.v, "i");
      } catch (err) {
        throw syntax(e.at, `bad regular expression ${JSON.stringify(e.v)}: ${(err as Error).message}`);
      }
      return (_ctx, s) => re.test(s);
    }
    const f = this.expr(e);
    const cache = new Map<string, RegExp | undefined>();
    return (ctx, s) => {
      const src = toStr(f(ctx));
      let re = cache.get(src);
      if (!cache.has(src)) {
        try {
          re = new RegExp(src, "i");
        } catch {
          re = undefined; // a pattern that does not compile matches nothing, as a failed regcomp
        }
        if (cache.size < 64) cache.set(src, re);
      }
      return re !== undefined && re.test(s);
    };
  }

  private expr(e: Expr): Evaluator {
    switch (e.k) {
      case "int": {
        const v = e.v;
        return () => v;
      }
      case "str": {
        const v = e.v;
        if (!v.includes("$")) return () => v;
        this.template(v, e.at);
        // "$var(x)", "$evapi(msg)": the usual function argument, one pseudo-variable and no
        // transformation, is read directly; it prints as ctx.fmt would (null as "<null>").
        if (LONE_PV.test(v)) {
          return (ctx) => {
            const x = ctx.pv(v);
            return x === null ? "<null>" : String(x);
          };
        }
        return (ctx) => ctx.fmt(v);
      }
      case "ident":
        return this.call(this.bareCall(e));
      case "pv": {
        if (e.name === "$null") return () => null;
        const name = this.pvName(e.name === "$?" ? "$rc" : e.name, e.at);
        // An unset $var is the integer 0 in Kamailio's expressions (it is never $null there).
        if (name.startsWith("$var(")) return (ctx) => ctx.pv(name) ?? 0;
        return (ctx) => ctx.pv(name);
      }
      case "call":
        return this.call(e);
      case "not": {
        const f = this.cond(e.e);
        return (ctx) => (f(ctx) ? 0 : 1);
      }
      case "neg": {
        const f = this.expr(e.e);
        return (ctx) => -toInt(f(ctx));
      }
      case "bin":
        return this.binary(e);
    }
  }

  /**
   * Kamailio refuses at load a string constant where an integer is needed: on the right of an
   * integer constant, and on either side of `<`, `>`, `<=`, `>=` and `-`, `*`, `/`, `mod`.
   */
  private checkConstantTypes(e: Extract<Expr, { k: "bin" }>): void {
    const intOnly = !["==", "!=", "+"].includes(e.op);
    const bad = (e.l.k === "int" && e.r.k === "str") || (intOnly && (e.l.k === "str" || e.r.k === "str"));
    if (bad) throw syntax(e.at, `type mismatch: a string where ${e.op} needs an integer`);
  }

  private binary(e: Extract<Expr, { k: "bin" }>): Evaluator {
    if (!["+", "-", "*", "/", "mod"].includes(e.op)) {
      const c = this.cond(e);
      return (ctx) => (c(ctx) ? 1 : 0);
    }
    this.checkConstantTypes(e);
    const l = this.expr(e.l);
    const r = this.expr(e.r);
    switch (e.op) {
      case "+":
        return (ctx) => plus(l(ctx), r(ctx));
      case "-":
        return (ctx) => toInt(l(ctx)) - toInt(r(ctx));
      case "*":
        return (ctx) => toInt(l(ctx)) * toInt(r(ctx));
      default: {
        // Integer division and remainder; by zero gives 0 and the route goes on (Kamailio logs it).
        const div = e.op === "/";
        return (ctx) => {
          const b = toInt(r(ctx));
          if (b === 0) return 0;
          const a = toInt(l(ctx));
          return div ? Math.trunc(a / b) : a % b;
        };
      }
    }
  }

  /** A bare name used as a value is a function called without parentheses, or a define that is missing. */
  private bareCall(e: Extract<Expr, { k: "ident" }>): Extract<Expr, { k: "call" }> {
    if (!FUNCTIONS[e.v])
      throw syntax(e.at, `${e.v} is neither a defined name (#!define, or -A ${e.v}=… on the command line) nor a function`);
    return { k: "call", name: e.v, args: [], at: e.at };
  }

  private call(e: Extract<Expr, { k: "call" }>): (ctx: CfgCtx) => number {
    if (e.name === "route") return this.routeCall(e);
    const spec = FUNCTIONS[e.name];
    if (!spec) throw unsupported(e.at, `function ${e.name}() is not in evsip's subset of Kamailio (docs/kamailio-cfg.md)`);
    if (spec.module !== "core" && !this.o.loaded.has(spec.module)) {
      throw unsupported(e.at, `function ${e.name}() needs loadmodule "${spec.module}.so"`);
    }
    const min = spec.min ?? spec.args.length;
    if (e.args.length < min || e.args.length > spec.args.length) {
      const n = min === spec.args.length ? `${min}` : `${min} to ${spec.args.length}`;
      throw syntax(e.at, `${e.name}() takes ${n} argument(s), got ${e.args.length}`);
    }
    const fn = spec.build(this.args(e, spec.args));
    // A module function's result is $rc; core actions (setflag, forward…) leave it, as in Kamailio.
    if (spec.module === "core") return fn;
    return (ctx) => (ctx.retcode = fn(ctx));
  }

  private routeCall(e: Extract<Expr, { k: "call" }>): (ctx: CfgCtx) => number {
    const [arg] = e.args;
    if (e.args.length !== 1 || !arg || (arg.k !== "ident" && arg.k !== "str" && arg.k !== "int")) {
      throw syntax(e.at, "route() takes one route name");
    }
    const name = String(arg.v);
    const target = this.subroutes.get(name);
    if (!target) throw syntax(e.at, `route(${name}): no route[${name}] in the cfg`);
    return (ctx) => {
      last = 1;
      const r = target.run(ctx);
      const value = r === RETURN ? returned : last;
      ctx.retcode = value;
      // `return 0` from a route ends the script, as `exit` does.
      if (r === RETURN && value === 0) ctx.exit();
      return value;
    };
  }

  private args(e: Extract<Expr, { k: "call" }>, kinds: readonly ArgKind[]): CompiledArgs {
    const literal = (i: number): string => {
      const a = e.args[i];
      if (a && (a.k === "str" || a.k === "ident" || a.k === "int")) return String(a.v);
      throw syntax(a?.at ?? e.at, `argument ${i + 1} of ${e.name}() must be written as a literal`);
    };
    const compiled: CompiledArgs = {
      count: e.args.length,
      str: (i) => {
        const f = this.expr(e.args[i] as Expr);
        return (ctx) => toStr(f(ctx));
      },
      int: (i) => {
        const a = e.args[i] as Expr;
        if (a.k === "str" && /^-?[0-9]+$/.test(a.v)) {
          const v = Number(a.v);
          return () => v;
        }
        const f = this.expr(a);
        return (ctx) => toInt(f(ctx));
      },
      name: literal,
      constant: (i) => {
        const a = e.args[i];
        return a && (a.k === "str" || a.k === "int") && !String(a.v).includes("$") ? String(a.v) : undefined;
      },
      template: (i) => {
        const text = literal(i);
        this.template(text, (e.args[i] as Expr).at);
        return text;
      },
      pv: (i) => this.pvName(literal(i), (e.args[i] as Expr).at),
      flag: (i, pvAllowed) => {
        const a = e.args[i] as Expr;
        const n = a.k === "int" ? a.v : a.k === "str" && /^[0-9]+$/.test(a.v) ? Number(a.v) : undefined;
        if (n !== undefined && isFlag(n)) return () => n;
        if (n !== undefined || !pvAllowed || a.k !== "pv")
          throw syntax(
            a.at,
            `${e.name}(): a flag is an integer from 0 to ${MAX_FLAG}${pvAllowed ? " or a pseudo-variable" : ""}`,
          );
        return compiled.int(i);
      },
      refuse: (i, message) => {
        throw unsupported((e.args[i] as Expr).at, `${e.name}(): ${message}`);
      },
    };
    kinds.forEach((kind, i) => {
      if (i >= e.args.length) return;
      if (kind === "pv") compiled.pv(i);
      if (kind === "route") this.checkRouteName(e.name, literal(i), (e.args[i] as Expr).at);
    });
    return compiled;
  }

  /** t_on_reply names an onreply_route, t_on_failure a failure_route, the rest a route. */
  private checkRouteName(fn: string, name: string, at: Where): void {
    const want = fn === "t_on_reply" ? "reply" : fn === "t_on_failure" ? "failure" : "route";
    const block = { reply: "onreply_route", failure: "failure_route", route: "route" }[want];
    if (this.kinds.get(name) !== want) throw syntax(at, `${fn}(): no ${block}[${name}] in the cfg`);
  }

  private pvName(name: string, at: Where): string {
    this.checked(at, () => this.o.pvs.compile(name));
    return name;
  }

  private template(text: string, at: Where): void {
    this.checked(at, () => this.o.fmt.check(text));
  }

  /** Runs a registry check; its coded error becomes a CfgError at `at`. */
  private checked(at: Where, fn: () => unknown): void {
    try {
      fn();
    } catch (err) {
      if (err instanceof EvsipError) throw new CfgError(err.code, at, err.message);
      throw err;
    }
  }
}

/** A block: one closure that runs its statements until one breaks or returns. */
function seq(list: readonly Exec[]): Exec {
  if (list.length === 0) return () => NEXT;
  if (list.length === 1) return list[0] as Exec;
  return (ctx) => {
    for (let i = 0; i < list.length; i++) {
      const r = (list[i] as Exec)(ctx);
      if (r !== NEXT) return r;
    }
    return NEXT;
  };
}

/** The route functions of `cfg`; throws CfgError for anything evsip cannot run. */
export function compileRoutes(cfg: CfgFile, o: CompileOptions): CompiledRoutes {
  const routes = new Compiler(o).compile(cfg);
  checkRouteKinds(cfg, FUNCTIONS);
  return routes;
}
