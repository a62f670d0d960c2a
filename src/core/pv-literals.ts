// Load-time check of the pseudo-variables an app writes in string literals, as Kamailio checks
// every `$name` when it parses its cfg. The routes' own source text (Function.prototype.toString)
// is scanned for `.pv("…")`, `.setPv("…"`, `.fmt("…")` and `.xlog(…"…")` with literal arguments;
// each is compiled against the registry, so a typo refuses the app before any call reaches it.
// Strings built at run time are checked when they are used (the call throws).
import { EvsipError } from "../errors.js";
import type { Formatter } from "./fmt.js";
import type { PvRegistry } from "./pv-registry.js";

/** One literal found in a route: a spec for pv/setPv, a template for fmt/xlog. */
export interface PvLiteral {
  readonly route: string;
  readonly call: "pv" | "setPv" | "fmt" | "xlog";
  readonly text: string;
}

// A JS string literal without interpolation: "…", '…' or `…` (no `${`).
const LITERAL = String.raw`"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|\x60(?:[^\x60\\$]|\\.|\$(?!\{))*\x60`;
const CALL = new RegExp(String.raw`\.(pv|setPv|fmt|xlog)\(\s*(${LITERAL})(?:\s*,\s*(${LITERAL}))?`, "g");

const ESCAPES: Readonly<Record<string, string>> = { n: "\n", r: "\r", t: "\t", b: "\b", f: "\f", v: "\v", "0": "\0" };

/** The value of a JS string literal (quotes included); undefined for escapes it does not know. */
function decodeLiteral(lit: string): string | undefined {
  let out = "";
  const body = lit.slice(1, -1);
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c !== "\\") {
      out += c;
      continue;
    }
    const e = body[++i] as string;
    if (e === "x" || e === "u") return undefined;
    out += ESCAPES[e] ?? e;
  }
  return out;
}

/** The literals in `fn`'s source that name pseudo-variables. */
export function pvLiteralsOf(route: string, fn: unknown): PvLiteral[] {
  if (typeof fn !== "function") return [];
  const src = Function.prototype.toString.call(fn);
  const out: PvLiteral[] = [];
  for (const m of src.matchAll(CALL)) {
    const call = m[1] as PvLiteral["call"];
    // xlog(level, text): the text is the second literal when there are two.
    const lit = call === "xlog" && m[3] !== undefined ? m[3] : m[2];
    const text = lit === undefined ? undefined : decodeLiteral(lit);
    if (text !== undefined) out.push({ route, call, text });
  }
  return out;
}

/** Every route function of an app, by the name a problem reports. */
export function appRoutes(app: {
  request?: unknown;
  reply?: unknown;
  routes?: Readonly<Record<string, unknown>>;
  events?: Readonly<Record<string, unknown>>;
}): Array<[string, unknown]> {
  return [
    ["request", app.request],
    ["reply", app.reply],
    ...Object.entries(app.routes ?? {}).map(([k, f]): [string, unknown] => [`routes.${k}`, f]),
    ...Object.entries(app.events ?? {}).map(([k, f]): [string, unknown] => [`events.${k}`, f]),
  ];
}

/** Compiles each literal; returns [route, code, message] for every one that is refused. */
export function checkPvLiterals<C>(
  literals: readonly PvLiteral[],
  pvs: PvRegistry<C>,
  fmt: Formatter<C>,
): Array<{ route: string; code: string; message: string }> {
  const problems: Array<{ route: string; code: string; message: string }> = [];
  for (const l of literals) {
    try {
      if (l.call === "pv" || l.call === "setPv") pvs.compile(l.text);
      else fmt.check(l.text);
    } catch (err) {
      if (!(err instanceof EvsipError)) throw err;
      problems.push({ route: l.route, code: err.code, message: `${l.call}(${JSON.stringify(l.text)}): ${err.message}` });
    }
  }
  return problems;
}
