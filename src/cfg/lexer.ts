// The Kamailio cfg lexer, with the preprocessor folded in: `#!define`, `#!ifdef`/`#!ifndef`/
// `#!else`/`#!endif` are read line by line as the text is cut into tokens, and a defined name met
// as an identifier is replaced by the tokens of its value (as Kamailio substitutes ids, never text
// inside strings). Every token keeps its line and column, so every later error can name them.
// `include_file "f"` and `import_file "f"` (with or without `#!`) lex the named file in place, its
// tokens naming that file, so every later error points into it.
// Anything that is not cfg text ends in a CfgError, never another exception.
import { readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { CfgError } from "../errors.js";

export type TokenKind = "ident" | "string" | "int" | "pv" | "punct" | "eof";

export interface Token {
  readonly kind: TokenKind;
  /** The source text (for a string, the decoded value; for a pv, the pseudo-variable as written). */
  readonly text: string;
  readonly line: number;
  readonly col: number;
  /** True when the token came from a define's value: it has no gap before it in the source. */
  readonly expanded?: boolean;
  /** The file it was read from, when that is an included file (else the top file). */
  readonly file?: string;
}

export interface Where {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

/** Longest first: a two-character operator wins over its first character. */
const PUNCT = ["==", "!=", "=~", "<=", ">=", "&&", "||", "{", "}", "(", ")", "[", "]", ";", ",", ":", "=", "<", ">", "!"];
const PUNCT_MORE = ["+", "-", "*", "/", ".", "|", "&", "@"];
const IDENT_START = /[A-Za-z_]/;
const IDENT = /[A-Za-z0-9_]/;
const STRING_ESCAPES: Readonly<Record<string, string>> = { n: "\n", r: "\r", t: "\t", '"': '"', "'": "'", "\\": "\\" };
/** Directives Kamailio has that evsip refuses rather than misread. */
const REFUSED_DIRECTIVES = new Set(["subst", "substdef", "substdefs", "redefine", "defenv", "defexp"]);
/** Kamailio's MAX_INCLUDE_DEPTH: includes nested in one another below the top file. */
const MAX_INCLUDE_DEPTH = 10;
/** Far above any real cfg; a device or a huge file named by mistake is refused instead of read. */
const MAX_INCLUDE_BYTES = 4 * 1024 * 1024;
const IGNORED_DIRECTIVES = new Set(["KAMAILIO", "SER", "OPENSER", "ALL", "MAXCOMPAT"]);
/** A define whose value names itself would expand for ever. */
const MAX_EXPANSION_DEPTH = 16;

/** A syntax error at `w`. */
export function syntaxError(w: Where, message: string): CfgError {
  return new CfgError("ERR_CFG_SYNTAX", w, message);
}

/** A path's stat, or undefined when there is nothing to open there (missing, a file in the path…). */
function statOrUndefined(path: string): ReturnType<typeof statSync> {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

class Lexer {
  private i = 0;
  private line = 1;
  private lineStart = 0;
  /** One entry per open #!ifdef: whether its branch is taken, whether any enclosing one is skipped. */
  private readonly conds: Array<{ active: boolean; parentActive: boolean; where: Where; sawElse: boolean }> = [];
  readonly out: Token[] = [];

  private readonly src: string;
  private readonly file: string;
  private readonly defines: Map<string, string>;
  private readonly depth: number;
  private readonly preprocess: boolean;
  /** The files being lexed, outermost first (absolute paths), to refuse an include loop. */
  private readonly includes: readonly string[];
  /** Set on every token when this is an included file. */
  private readonly fileTag: string | undefined;
  /** What the preprocessor skipped on purpose (a missing import_file), shared by nested lexers. */
  private readonly notes: string[];

  constructor(
    src: string,
    file: string,
    defines: Map<string, string>,
    depth: number,
    preprocess: boolean,
    includes: readonly string[] = [resolve(file)],
    notes: string[] = [],
  ) {
    this.src = src;
    this.file = file;
    this.defines = defines;
    this.depth = depth;
    this.preprocess = preprocess;
    this.includes = includes;
    this.fileTag = includes.length > 1 ? file : undefined;
    this.notes = notes;
  }

  private where(): Where {
    return { file: this.file, line: this.line, col: this.i - this.lineStart + 1 };
  }

  private get active(): boolean {
    const top = this.conds.at(-1);
    return top === undefined || (top.active && top.parentActive);
  }

  run(): Token[] {
    const s = this.src;
    while (this.i < s.length) {
      const c = s[this.i] as string;
      if (c === "\n") {
        this.newline();
        continue;
      }
      if (c === " " || c === "\t" || c === "\r") {
        this.i++;
        continue;
      }
      if (this.preprocess && c === "#" && s[this.i + 1] === "!") {
        this.directive();
        continue;
      }
      if (c === "#" || (c === "/" && s[this.i + 1] === "/")) {
        this.skipToEol();
        continue;
      }
      if (c === "/" && s[this.i + 1] === "*") {
        this.blockComment();
        continue;
      }
      if (!this.active) {
        this.skipToEol();
        continue;
      }
      this.token(c);
    }
    const open = this.conds.at(-1);
    if (open) throw syntaxError(open.where, "#!ifdef/#!ifndef without #!endif");
    this.out.push({ kind: "eof", text: "", ...this.pos() });
    return this.out;
  }

  private pos(): { line: number; col: number; file?: string } {
    const p = { line: this.line, col: this.i - this.lineStart + 1 };
    return this.fileTag === undefined ? p : { ...p, file: this.fileTag };
  }

  private newline(): void {
    this.i++;
    this.line++;
    this.lineStart = this.i;
  }

  private skipToEol(): void {
    const nl = this.src.indexOf("\n", this.i);
    this.i = nl < 0 ? this.src.length : nl;
  }

  private blockComment(): void {
    const w = this.where();
    this.i += 2;
    for (;;) {
      if (this.i >= this.src.length) throw syntaxError(w, "/* comment without */");
      if (this.src[this.i] === "\n") this.newline();
      else if (this.src.startsWith("*/", this.i)) {
        this.i += 2;
        return;
      } else this.i++;
    }
  }

  private directive(): void {
    const w = this.where();
    const nl = this.src.indexOf("\n", this.i);
    const text = this.src.slice(this.i + 2, nl < 0 ? this.src.length : nl).trim();
    this.i = nl < 0 ? this.src.length : nl;
    const m = /^([A-Za-z_]+)\s*(.*)$/s.exec(text);
    const name = m?.[1] ?? "";
    const rest = (m?.[2] ?? "").trim();
    if (name === "ifdef" || name === "ifndef") {
      const id = this.directiveName(w, name, rest);
      const defined = this.defines.has(id);
      this.conds.push({ active: name === "ifdef" ? defined : !defined, parentActive: this.active, where: w, sawElse: false });
      return;
    }
    if (name === "else" || name === "endif") {
      const top = this.conds.at(-1);
      if (!top) throw syntaxError(w, `#!${name} without #!ifdef`);
      if (name === "endif") this.conds.pop();
      else if (top.sawElse) throw syntaxError(w, "a second #!else in one #!ifdef");
      else {
        top.active = !top.active;
        top.sawElse = true;
      }
      return;
    }
    if (!this.active || IGNORED_DIRECTIVES.has(name)) return;
    if (name === "include_file" || name === "import_file") {
      this.include(name, w, rest);
      return;
    }
    // #!trydef defines a name unless it is defined, which is what #!define does here already.
    if (name === "define" || name === "trydef") {
      const dm = /^([A-Za-z_][A-Za-z0-9_]*)(?:\s+(.*))?$/s.exec(rest);
      if (!dm) throw syntaxError(w, "#!define needs a name");
      // An existing define (from -A on the command line) wins, as Kamailio's does.
      if (!this.defines.has(dm[1] as string)) this.defines.set(dm[1] as string, (dm[2] ?? "").trim());
      return;
    }
    if (name === "undef") {
      this.defines.delete(this.directiveName(w, name, rest));
      return;
    }
    if (REFUSED_DIRECTIVES.has(name)) throw new CfgError("ERR_CFG_UNSUPPORTED", w, `#!${name} is not supported by evsip`);
    throw syntaxError(w, `unknown directive #!${name}`);
  }

  private directiveName(w: Where, directive: string, rest: string): string {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(rest)) throw syntaxError(w, `#!${directive} needs one name`);
    return rest;
  }

  private token(c: string): void {
    const p = this.pos();
    const s = this.src;
    if (c === '"' || c === "'") {
      this.out.push({ kind: "string", text: c === '"' ? this.joinedString() : this.string(c), ...p });
      return;
    }
    if (c === "$") {
      this.out.push({ kind: "pv", text: this.pv(), ...p });
      return;
    }
    if (c >= "0" && c <= "9") {
      const start = this.i;
      while (this.i < s.length && IDENT.test(s[this.i] as string)) this.i++;
      const text = s.slice(start, this.i);
      if (!/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(text)) throw syntaxError({ file: this.file, ...p }, `bad number "${text}"`);
      this.out.push({ kind: "int", text, ...p });
      return;
    }
    if (IDENT_START.test(c)) {
      const start = this.i;
      while (this.i < s.length && IDENT.test(s[this.i] as string)) this.i++;
      const text = s.slice(start, this.i);
      if (this.preprocess && (text === "include_file" || text === "import_file")) {
        this.include(text, { file: this.file, ...p }, this.restOfLine());
        return;
      }
      const value = this.defines.get(text);
      if (value === undefined) this.out.push({ kind: "ident", text, ...p });
      else this.expand(text, value, p);
      return;
    }
    const op = PUNCT.find((x) => s.startsWith(x, this.i)) ?? PUNCT_MORE.find((x) => s.startsWith(x, this.i));
    if (!op) throw syntaxError(this.where(), `unexpected character ${JSON.stringify(c)}`);
    this.i += op.length;
    this.out.push({ kind: "punct", text: op, ...p });
  }

  /** The rest of the current line (an include's file name), consumed. */
  private restOfLine(): string {
    const nl = this.src.indexOf("\n", this.i);
    const end = nl < 0 ? this.src.length : nl;
    const rest = this.src.slice(this.i, end);
    this.i = end;
    return rest.trim();
  }

  /**
   * include_file / import_file: the quoted name is opened as given, else next to the including
   * file (Kamailio's order); its tokens join this file's. A missing import_file is no error.
   */
  private include(kind: string, w: Where, rest: string): void {
    const err = (message: string): CfgError => new CfgError("ERR_CFG_INCLUDE", w, message);
    const m = /^"((?:[^"\\]|\\.)+)"$/.exec(rest.split(/[ \t\r]/)[0] ?? "");
    if (!m) throw err(`${kind} needs a file name in double quotes`);
    const name = (m[1] as string).replace(/\\(.)/g, (_s, c: string) => ({ t: "\t", n: "\n", r: "\r" })[c] ?? c);
    const tried = isAbsolute(name) ? [name] : [name, join(dirname(this.file), name)];
    let found: { path: string; text: string } | undefined;
    for (const path of tried) {
      const st = statOrUndefined(path);
      if (!st) continue; // the next place, as Kamailio tries it
      if (!st.isFile() || st.size > MAX_INCLUDE_BYTES)
        throw err(`${kind} "${name}": ${path} is not a regular file of at most ${MAX_INCLUDE_BYTES} bytes`);
      try {
        found = { path, text: readFileSync(path, "utf8") };
      } catch (e) {
        throw err(`${kind} "${name}": cannot read ${path}: ${(e as Error).message}`);
      }
      break;
    }
    if (!found) {
      if (kind === "import_file") {
        this.notes.push(`${w.file}:${w.line}: import_file "${name}" not found (tried ${tried.join(", ")}), skipped`);
        return;
      }
      throw err(`cannot read included file "${name}" (tried ${tried.join(", ")})`);
    }
    const abs = resolve(found.path);
    if (this.includes.includes(abs)) throw err(`include loop: ${[...this.includes, abs].join(" → ")}`);
    if (this.includes.length > MAX_INCLUDE_DEPTH) throw err(`includes nested deeper than ${MAX_INCLUDE_DEPTH}`);
    const tokens = new Lexer(found.text, found.path, this.defines, 0, true, [...this.includes, abs], this.notes).run();
    for (const t of tokens) if (t.kind !== "eof") this.out.push(t);
  }

  /** A define's value, lexed as cfg text, at the position of the name it replaces. */
  private expand(name: string, value: string, p: { line: number; col: number }): void {
    const w = { ...p, file: this.file };
    if (this.depth >= MAX_EXPANSION_DEPTH) throw syntaxError(w, `define ${name} expands into itself`);
    let tokens: Token[];
    try {
      tokens = new Lexer(value, this.file, this.defines, this.depth + 1, false).run();
    } catch (err) {
      if (err instanceof CfgError) throw syntaxError(w, `in the value of define ${name}: ${err.message.replace(/^[^ ]* /, "")}`);
      throw err;
    }
    for (const t of tokens) if (t.kind !== "eof") this.out.push({ kind: t.kind, text: t.text, ...p, expanded: true });
  }

  /**
   * A double-quoted string and every one that follows it across blanks and line breaks only, joined:
   * Kamailio's lexer does so (its stock cfg writes `modparam("acc", "log_extra", "a;" "b")`). A
   * comment between two strings ends the joining, as in Kamailio; single-quoted strings never join.
   */
  private joinedString(): string {
    const s = this.src;
    let text = this.string('"');
    for (let j = this.i; j < s.length;) {
      const d = s[j];
      if (d === " " || d === "\t" || d === "\r" || d === "\b" || d === "\n") {
        j++;
        continue;
      }
      if (d !== '"') break;
      while (this.i < j) {
        if (s[this.i] === "\n") this.newline();
        else this.i++;
      }
      text += this.string('"');
      j = this.i;
    }
    return text;
  }

  private string(q: string): string {
    const w = this.where();
    const s = this.src;
    let out = "";
    this.i++;
    for (;;) {
      if (this.i >= s.length) throw syntaxError(w, "string without its closing quote");
      const c = s[this.i] as string;
      if (c === q) {
        this.i++;
        return out;
      }
      if (c === "\n") {
        // Kamailio strings may span lines; the newline is part of the value.
        out += c;
        this.newline();
        continue;
      }
      if (c === "\\" && this.i + 1 < s.length) {
        const e = s[this.i + 1] as string;
        // An escape Kamailio does not decode keeps its backslash ("^\+" stays a regex escape).
        out += STRING_ESCAPES[e] ?? `\\${e}`;
        this.i += 2;
        if (e === "\n") {
          this.line++;
          this.lineStart = this.i;
        }
        continue;
      }
      out += c;
      this.i++;
    }
  }

  /** `$name`, `$name(...)`, `$name(...)[i]`, `$(...)`: parentheses balanced, text kept as written. */
  private pv(): string {
    const w = this.where();
    const s = this.src;
    const start = this.i++;
    // `$?` is Kamailio's other spelling of $rc.
    if (s[this.i] === "?") return s.slice(start, ++this.i);
    if (s[this.i] !== "(") {
      if (!IDENT_START.test(s[this.i] ?? "")) throw syntaxError(w, "$ without a pseudo-variable name");
      while (this.i < s.length && IDENT.test(s[this.i] as string)) this.i++;
    }
    if (s[this.i] === "(") this.balanced(w, "(", ")");
    if (s[this.i] === "[") this.balanced(w, "[", "]");
    return s.slice(start, this.i);
  }

  private balanced(w: Where, open: string, close: string): void {
    const s = this.src;
    let depth = 0;
    for (;;) {
      const c = s[this.i];
      if (c === undefined || c === "\n") throw syntaxError(w, `pseudo-variable without its closing ${close}`);
      this.i++;
      if (c === open) depth++;
      else if (c === close && --depth === 0) return;
    }
  }
}

/**
 * Cuts `src` into tokens after preprocessing. `defines` holds the names defined so far (the
 * command line's -A ones) and receives the file's #!define's; `notes` receives what was skipped.
 */
export function lex(src: string, file: string, defines: Map<string, string>, notes?: string[]): Token[] {
  return new Lexer(src, file, defines, 0, true, [resolve(file)], notes).run();
}
