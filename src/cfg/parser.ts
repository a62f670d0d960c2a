// The Kamailio cfg parser: tokens (lexer.ts) to the tree of ast.ts. Recursive descent, with a
// nesting limit so hostile input ends in a CfgError instead of a stack overflow. The grammar is
// the subset docs/kamailio-cfg.md lists; anything else is a syntax error naming file:line:col.
import { CfgError } from "../errors.js";
import type { BinOp, CfgFile, Expr, GlobalParam, ModParam, RouteBlock, RouteBlockKind, Stmt, SwitchCase } from "./ast.js";
import { lex, syntaxError, type Token, type Where } from "./lexer.js";

/** Deeper nesting than any real cfg; the bound keeps recursion far from Node's stack limit. */
const MAX_DEPTH = 100;

const ROUTE_KEYWORDS: Readonly<Record<string, RouteBlockKind>> = {
  request_route: "request",
  route: "route",
  onreply_route: "reply",
  failure_route: "failure",
  branch_route: "branch",
  event_route: "event",
};
/** Kamailio routes evsip has no counterpart for: refused by name rather than misread. */
const REFUSED_ROUTES = new Set(["reply_route", "onsend_route", "error_route", "local_route", "branch_failure_route"]);

/** Binary operators by precedence level, loosest first. */
const LEVELS: ReadonlyArray<readonly BinOp[]> = [
  ["||"],
  ["&&"],
  ["==", "!=", "=~", "<", ">", "<=", ">="],
  ["+", "-"],
  // Kamailio writes the remainder as `mod`; it has no `%`.
  ["*", "/", "mod"],
];

class Parser {
  private p = 0;
  private depth = 0;
  private readonly modules: Array<{ name: string; at: Where }> = [];
  private readonly modparams: ModParam[] = [];
  private readonly globals: GlobalParam[] = [];
  private readonly routes: RouteBlock[] = [];

  private readonly t: readonly Token[];
  private readonly file: string;

  constructor(t: readonly Token[], file: string) {
    this.t = t;
    this.file = file;
  }

  private get cur(): Token {
    return this.t[this.p] as Token;
  }

  private at(tok: Token = this.cur): Where {
    return { file: tok.file ?? this.file, line: tok.line, col: tok.col };
  }

  private next(): Token {
    const tok = this.cur;
    if (tok.kind !== "eof") this.p++;
    return tok;
  }

  private is(text: string, kind: Token["kind"] = "punct"): boolean {
    return this.cur.kind === kind && this.cur.text === text;
  }

  private expect(text: string): Token {
    if (!this.is(text)) throw syntaxError(this.at(), `expected "${text}", found ${describe(this.cur)}`);
    return this.next();
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) throw syntaxError(this.at(), `nesting deeper than ${MAX_DEPTH}`);
  }

  file_(): CfgFile {
    while (this.cur.kind !== "eof") this.topLevel();
    return { modules: this.modules, modparams: this.modparams, globals: this.globals, routes: this.routes };
  }

  private topLevel(): void {
    const tok = this.cur;
    if (tok.kind !== "ident")
      throw syntaxError(this.at(), `expected a route, loadmodule, modparam or parameter, found ${describe(tok)}`);
    if (tok.text === "loadmodule") {
      this.next();
      const name = this.next();
      if (name.kind !== "string") throw syntaxError(this.at(name), "loadmodule needs a quoted module name");
      this.modules.push({ name: name.text, at: this.at(tok) });
      if (this.is(";")) this.next();
      return;
    }
    if (tok.text === "modparam") return this.modparam();
    const kind = ROUTE_KEYWORDS[tok.text];
    if (kind) return this.route(kind);
    if (REFUSED_ROUTES.has(tok.text))
      throw new CfgError("ERR_CFG_UNSUPPORTED", this.at(), `${tok.text} is not supported by evsip`);
    if ((tok.text === "flags" || tok.text === "avpflags") && this.t[this.p + 1]?.kind === "ident")
      throw new CfgError(
        "ERR_CFG_UNSUPPORTED",
        this.at(),
        `${tok.text} declarations are not supported by evsip: write #!define NAME n`,
      );
    this.global();
  }

  private modparam(): void {
    const at = this.at();
    this.next();
    this.expect("(");
    const module = this.next();
    this.expect(",");
    const param = this.next();
    this.expect(",");
    const neg = this.is("-") ? this.next() : undefined;
    const value = this.next();
    this.expect(")");
    if (this.is(";")) this.next();
    if (module.kind !== "string" || param.kind !== "string")
      throw syntaxError(at, "modparam needs a quoted module and param name");
    if (value.kind === "int")
      this.modparams.push({ module: module.text, param: param.text, value: (neg ? -1 : 1) * Number(value.text), at });
    else if (value.kind === "string" && !neg)
      this.modparams.push({ module: module.text, param: param.text, value: value.text, at });
    else if (value.kind === "ident") {
      throw syntaxError(
        this.at(value),
        `${value.text} is not a defined name (#!define it, or -A ${value.text}=… on the command line)`,
      );
    } else throw syntaxError(this.at(value), `modparam value must be a string or an integer, found ${describe(value)}`);
  }

  /** `name = value`: the value is every token left on the line, as written. */
  private global(): void {
    const name = this.next();
    const at = this.at(name);
    this.expect("=");
    const first = this.cur;
    if (first.kind === "eof" || first.line !== name.line) throw syntaxError(at, `${name.text}= needs a value`);
    if (first.kind === "string") {
      this.next();
      this.globals.push({ name: name.text, value: first.text, at });
      return;
    }
    let value = "";
    let end = -1;
    while (this.cur.kind !== "eof" && this.cur.line === name.line && !this.is(";")) {
      const t = this.next();
      // Tokens written apart stay apart ("udp:1.2.3.4:5060 advertise …").
      value += (end >= 0 && t.col > end && !t.expanded ? " " : "") + t.text;
      end = t.col + t.text.length;
    }
    if (this.is(";")) this.next();
    this.globals.push({ name: name.text, value, at });
  }

  private route(kind: RouteBlockKind): void {
    const at = this.at();
    this.next();
    let name: string | undefined;
    if (this.is("[")) {
      this.next();
      name = "";
      // Names are written bare (RELAY), quoted, or with ':' and '-' (evapi:message-received).
      while (!this.is("]")) {
        if (this.cur.kind === "eof" || this.is("{")) throw syntaxError(this.at(), "route name without its closing ]");
        name += this.next().text;
      }
      this.next();
      if (name === "") throw syntaxError(at, "empty route name");
    }
    this.routes.push({ kind, name, body: this.block(), at });
  }

  private block(): Stmt[] {
    this.expect("{");
    this.enter();
    const body: Stmt[] = [];
    while (!this.is("}")) {
      if (this.cur.kind === "eof") throw syntaxError(this.at(), "block without its closing }");
      if (this.is(";")) {
        this.next();
        continue;
      }
      body.push(this.stmt());
    }
    this.next();
    this.depth--;
    return body;
  }

  /** A block, or one statement where Kamailio allows it (`if (x) t_relay();`). */
  private body(): Stmt[] {
    return this.is("{") ? this.block() : [this.stmt()];
  }

  private stmt(): Stmt {
    const tok = this.cur;
    const at = this.at();
    if (tok.kind === "pv") {
      this.next();
      this.expect("=");
      const e = this.expr();
      this.end();
      return { k: "assign", pv: tok.text, e, at };
    }
    if (tok.kind !== "ident") throw syntaxError(at, `expected a statement, found ${describe(tok)}`);
    switch (tok.text) {
      case "if":
        return this.ifStmt();
      case "while": {
        this.next();
        const cond = this.paren();
        return { k: "while", cond, body: this.body(), at };
      }
      case "switch":
        return this.switchStmt();
      case "return": {
        this.next();
        const e = this.is(";") ? undefined : this.expr();
        this.end();
        return { k: "return", e, at };
      }
      case "exit":
      case "drop":
      case "break":
        this.next();
        // Kamailio accepts `exit;` and `drop();`.
        if (this.is("(")) {
          this.next();
          this.expect(")");
        }
        this.end();
        return { k: tok.text, at };
    }
    const e = this.primary();
    this.end();
    if (e.k !== "call" && e.k !== "ident") throw syntaxError(at, `expected a statement, found ${describe(tok)}`);
    return { k: "expr", e: e.k === "ident" ? { k: "call", name: e.v, args: [], at } : e, at };
  }

  private end(): void {
    this.expect(";");
  }

  private ifStmt(): Stmt {
    const at = this.at();
    this.next();
    const cond = this.paren();
    this.enter();
    const then = this.body();
    let otherwise: Stmt[] = [];
    if (this.is("else", "ident")) {
      this.next();
      otherwise = this.body();
    }
    this.depth--;
    return { k: "if", cond, then, else: otherwise, at };
  }

  private switchStmt(): Stmt {
    const at = this.at();
    this.next();
    const e = this.paren();
    this.expect("{");
    this.enter();
    const cases: SwitchCase[] = [];
    while (!this.is("}")) {
      let value: Expr | undefined;
      if (this.is("case", "ident")) {
        this.next();
        value = this.unary();
      } else if (this.is("default", "ident")) this.next();
      else throw syntaxError(this.at(), `expected case or default, found ${describe(this.cur)}`);
      this.expect(":");
      const body: Stmt[] = [];
      while (!this.is("case", "ident") && !this.is("default", "ident") && !this.is("}")) {
        if (this.cur.kind === "eof") throw syntaxError(this.at(), "switch without its closing }");
        if (this.is(";")) this.next();
        else body.push(this.stmt());
      }
      cases.push({ value, body });
    }
    this.next();
    this.depth--;
    return { k: "switch", e, cases, at };
  }

  private paren(): Expr {
    this.expect("(");
    const e = this.expr();
    this.expect(")");
    return e;
  }

  private expr(level = 0): Expr {
    const ops = LEVELS[level];
    if (!ops) return this.unary();
    this.enter();
    let l = this.expr(level + 1);
    while ((this.cur.kind === "punct" || this.is("mod", "ident")) && (ops as readonly string[]).includes(this.cur.text)) {
      const at = this.at();
      const op = this.next().text as BinOp;
      l = { k: "bin", op, l, r: this.expr(level + 1), at };
    }
    this.depth--;
    return l;
  }

  private unary(): Expr {
    const at = this.at();
    if (this.is("!") || this.is("-")) {
      const op = this.next().text;
      this.enter();
      const e = this.unary();
      this.depth--;
      return { k: op === "!" ? "not" : "neg", e, at };
    }
    return this.primary();
  }

  private primary(): Expr {
    const tok = this.cur;
    const at = this.at();
    switch (tok.kind) {
      case "string":
        this.next();
        return { k: "str", v: tok.text, at };
      case "int":
        this.next();
        return { k: "int", v: Number(tok.text), at };
      case "pv":
        this.next();
        return { k: "pv", name: tok.text, at };
      case "ident":
        this.next();
        if (!this.is("(")) return { k: "ident", v: tok.text, at };
        return { k: "call", name: tok.text, args: this.args(), at };
      case "punct":
        if (tok.text === "(") {
          this.enter();
          const e = this.paren();
          this.depth--;
          return e;
        }
    }
    throw syntaxError(at, `expected a value, found ${describe(tok)}`);
  }

  private args(): Expr[] {
    this.expect("(");
    const args: Expr[] = [];
    if (this.is(")")) {
      this.next();
      return args;
    }
    for (;;) {
      args.push(this.expr());
      if (this.is(")")) {
        this.next();
        return args;
      }
      this.expect(",");
    }
  }
}

function describe(t: Token): string {
  if (t.kind === "eof") return "the end of the file";
  if (t.kind === "string") return `the string ${JSON.stringify(t.text.length > 40 ? `${t.text.slice(0, 40)}…` : t.text)}`;
  return `"${t.text.length > 40 ? `${t.text.slice(0, 40)}…` : t.text}"`;
}

/**
 * Parses a Kamailio cfg. `defines` are the command line's (-A NAME=value) and gain the file's own;
 * `notes` receives what the preprocessor skipped on purpose.
 * Throws CfgError (ERR_CFG_SYNTAX, ERR_CFG_UNSUPPORTED) and nothing else.
 */
export function parseCfg(src: string, file: string, defines: Map<string, string> = new Map(), notes?: string[]): CfgFile {
  return new Parser(lex(src, file, defines, notes), file).file_();
}
