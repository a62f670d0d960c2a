// The syntax tree of a Kamailio cfg as src/cfg/parser.ts builds it. Every node keeps where it was
// written, so the compiler can refuse it by file, line and column.
import type { Where } from "./lexer.js";

export type Expr =
  | { readonly k: "str"; readonly v: string; readonly at: Where }
  | { readonly k: "int"; readonly v: number; readonly at: Where }
  /** A bare identifier used as a value: a route name, an xlog level written without quotes. */
  | { readonly k: "ident"; readonly v: string; readonly at: Where }
  | { readonly k: "pv"; readonly name: string; readonly at: Where }
  | { readonly k: "call"; readonly name: string; readonly args: readonly Expr[]; readonly at: Where }
  | { readonly k: "not" | "neg"; readonly e: Expr; readonly at: Where }
  | { readonly k: "bin"; readonly op: BinOp; readonly l: Expr; readonly r: Expr; readonly at: Where };

export type BinOp = "||" | "&&" | "==" | "!=" | "=~" | "<" | ">" | "<=" | ">=" | "+" | "-" | "*" | "/" | "mod";

export interface SwitchCase {
  /** undefined for `default:`. */
  readonly value: Expr | undefined;
  readonly body: readonly Stmt[];
}

export type Stmt =
  | { readonly k: "expr"; readonly e: Expr; readonly at: Where }
  | { readonly k: "assign"; readonly pv: string; readonly e: Expr; readonly at: Where }
  | { readonly k: "if"; readonly cond: Expr; readonly then: readonly Stmt[]; readonly else: readonly Stmt[]; readonly at: Where }
  | { readonly k: "switch"; readonly e: Expr; readonly cases: readonly SwitchCase[]; readonly at: Where }
  | { readonly k: "while"; readonly cond: Expr; readonly body: readonly Stmt[]; readonly at: Where }
  | { readonly k: "return"; readonly e: Expr | undefined; readonly at: Where }
  | { readonly k: "exit" | "drop" | "break"; readonly at: Where };

export type RouteBlockKind = "request" | "route" | "reply" | "failure" | "branch" | "event";

export interface RouteBlock {
  readonly kind: RouteBlockKind;
  /** The name in brackets; undefined for request_route and a plain onreply_route. */
  readonly name: string | undefined;
  readonly body: readonly Stmt[];
  readonly at: Where;
}

export interface ModParam {
  readonly module: string;
  readonly param: string;
  readonly value: string | number;
  readonly at: Where;
}

export interface GlobalParam {
  readonly name: string;
  /** The value as written on its line ("udp:127.0.0.1:5060", "yes"); a string's decoded value. */
  readonly value: string;
  readonly at: Where;
}

export interface CfgFile {
  readonly modules: ReadonlyArray<{ readonly name: string; readonly at: Where }>;
  readonly modparams: readonly ModParam[];
  readonly globals: readonly GlobalParam[];
  readonly routes: readonly RouteBlock[];
}
