// Refuses at load a function used in a route block whose type its Kamailio module does not allow
// (sl_send_reply in a failure_route, t_relay in an onreply_route), as Kamailio's parser does, and
// also when the block reaches it through route(X): Kamailio checks a route[X] body as a request
// route only, so there such a call would load and then misbehave; evsip follows the calls instead.
import { CfgError } from "../errors.js";
import type { CfgFile, Expr, RouteBlock, Stmt } from "./ast.js";
import type { FunctionSpec } from "./function-spec.js";
import type { Where } from "./lexer.js";
import { allowedIn, ANY_ROUTE, describeMask, routeTypeOf } from "./route-types.js";

interface Walk {
  readonly type: number;
  readonly block: string;
  /** The route(X) calls that led here, for the message. */
  readonly via: readonly string[];
  /** route[X] bodies already walked for this block. */
  readonly seen: Set<string>;
}

function blockName(b: RouteBlock): string {
  const kw = {
    request: "request_route",
    route: "route",
    reply: "onreply_route",
    failure: "failure_route",
    branch: "branch_route",
    event: "event_route",
  }[b.kind];
  return b.name === undefined ? kw : `${kw}[${b.name}]`;
}

function where(at: Where): string {
  return `${at.file}:${at.line}:${at.col}`;
}

class RouteKindCheck {
  private readonly subroutes = new Map<string, RouteBlock>();
  private readonly functions: Readonly<Record<string, FunctionSpec>>;

  constructor(cfg: CfgFile, functions: Readonly<Record<string, FunctionSpec>>) {
    this.functions = functions;
    for (const b of cfg.routes) if (b.kind === "route" && b.name !== undefined) this.subroutes.set(b.name, b);
  }

  block(b: RouteBlock): void {
    this.stmts(b.body, { type: routeTypeOf(b), block: blockName(b), via: [], seen: new Set() });
  }

  private stmts(list: readonly Stmt[], w: Walk): void {
    for (const s of list) this.stmt(s, w);
  }

  private stmt(s: Stmt, w: Walk): void {
    switch (s.k) {
      case "expr":
      case "assign":
        return this.expr(s.e, w);
      case "if":
        this.expr(s.cond, w);
        this.stmts(s.then, w);
        return this.stmts(s.else, w);
      case "while":
        this.expr(s.cond, w);
        return this.stmts(s.body, w);
      case "switch":
        this.expr(s.e, w);
        for (const c of s.cases) {
          if (c.value) this.expr(c.value, w);
          this.stmts(c.body, w);
        }
        return;
      case "return":
        if (s.e) this.expr(s.e, w);
        return;
      default:
        return;
    }
  }

  private expr(e: Expr, w: Walk): void {
    switch (e.k) {
      case "call":
        if (e.name === "route") return this.route(e, w);
        this.check(e.name, e.at, w);
        // A bare name as an argument is a route or level name, never a call.
        for (const a of e.args) if (a.k !== "ident") this.expr(a, w);
        return;
      case "ident":
        if (this.functions[e.v]) this.check(e.v, e.at, w);
        return;
      case "not":
      case "neg":
        return this.expr(e.e, w);
      case "bin":
        this.expr(e.l, w);
        return this.expr(e.r, w);
      default:
        return;
    }
  }

  private route(e: Extract<Expr, { k: "call" }>, w: Walk): void {
    const arg = e.args[0];
    const name = arg && (arg.k === "ident" || arg.k === "str" || arg.k === "int") ? String(arg.v) : undefined;
    const target = name === undefined ? undefined : this.subroutes.get(name);
    if (!target || !name || w.seen.has(name)) return;
    w.seen.add(name);
    this.stmts(target.body, { ...w, via: [...w.via, `route(${name}) at ${where(e.at)}`] });
  }

  private check(name: string, at: Where, w: Walk): void {
    const mask = this.functions[name]?.routes ?? ANY_ROUTE;
    if (allowedIn(mask, w.type)) return;
    const via = w.via.length > 0 ? `, reached through ${w.via.join(", ")}` : "";
    throw new CfgError(
      "ERR_CFG_ROUTE_TYPE",
      at,
      `function ${name}() cannot be used in ${w.block}${via}: Kamailio allows it in ${describeMask(mask)} only`,
    );
  }
}

/** Throws CfgError ERR_CFG_ROUTE_TYPE for the first call a route block may not make. */
export function checkRouteKinds(cfg: CfgFile, functions: Readonly<Record<string, FunctionSpec>>): void {
  const check = new RouteKindCheck(cfg, functions);
  for (const b of cfg.routes) check.block(b);
}
