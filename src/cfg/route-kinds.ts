// Refuses at load a function used in a route block whose type its Kamailio module does not allow
// (sl_send_reply in a failure_route, t_relay in an onreply_route), as Kamailio's parser does. A
// route[X] body is checked as a request route, wherever it is called from, as Kamailio checks it:
// following route(X) from a failure or reply route refused stock configs Kamailio loads (its
// failure route reaches route[RELAY], which answers with sl_send_reply when t_relay fails).
import { CfgError } from "../errors.js";
import type { CfgFile, Expr, RouteBlock, Stmt } from "./ast.js";
import type { FunctionSpec } from "./function-spec.js";
import type { Where } from "./lexer.js";
import { allowedIn, ANY_ROUTE, describeMask, routeTypeOf } from "./route-types.js";

interface Walk {
  readonly type: number;
  readonly block: string;
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

class RouteKindCheck {
  private readonly functions: Readonly<Record<string, FunctionSpec>>;

  constructor(functions: Readonly<Record<string, FunctionSpec>>) {
    this.functions = functions;
  }

  block(b: RouteBlock): void {
    this.stmts(b.body, { type: routeTypeOf(b), block: blockName(b) });
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
        if (e.name === "route") return; // route[X] is checked as its own block
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

  private check(name: string, at: Where, w: Walk): void {
    const mask = this.functions[name]?.routes ?? ANY_ROUTE;
    if (allowedIn(mask, w.type)) return;
    throw new CfgError(
      "ERR_CFG_ROUTE_TYPE",
      at,
      `function ${name}() cannot be used in ${w.block}: Kamailio allows it in ${describeMask(mask)} only`,
    );
  }
}

/** Throws CfgError ERR_CFG_ROUTE_TYPE for the first call a route block may not make. */
export function checkRouteKinds(cfg: CfgFile, functions: Readonly<Record<string, FunctionSpec>>): void {
  const check = new RouteKindCheck(functions);
  for (const b of cfg.routes) check.block(b);
}
