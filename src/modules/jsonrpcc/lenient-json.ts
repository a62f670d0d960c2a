// Lenient JSON for jsonrpcc `params` strings, as Kamailio's json-c `json_tokener_parse` reads them
// (docs/jsonrpcc.md): single-quoted strings and keys work (the seed's "{'id': 1234}"),
// /* */ and // comments are skipped, and anything after the first value is ignored. Unparsable or
// empty input gives null. Strict JSON goes through JSON.parse first (the fast, common case).

const MAX_DEPTH = 64;

class Reader {
  i = 0;
  depth = 0;
  readonly s: string;
  constructor(s: string) {
    this.s = s;
  }

  skip(): void {
    const s = this.s;
    for (;;) {
      const c = s.charCodeAt(this.i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.i++;
      else if (c === 0x2f && s[this.i + 1] === "*") {
        const end = s.indexOf("*/", this.i + 2);
        this.i = end < 0 ? s.length : end + 2;
      } else if (c === 0x2f && s[this.i + 1] === "/") {
        const end = s.indexOf("\n", this.i + 2);
        this.i = end < 0 ? s.length : end + 1;
      } else return;
    }
  }

  value(): unknown {
    this.skip();
    const c = this.s[this.i];
    if (c === "{") return this.object();
    if (c === "[") return this.array();
    if (c === '"' || c === "'") return this.string(c);
    for (const [word, v] of WORDS) {
      if (this.s.startsWith(word, this.i)) {
        this.i += word.length;
        return v;
      }
    }
    const m = NUMBER.exec(this.s.slice(this.i, this.i + 400));
    if (!m) throw FAIL;
    this.i += m[0].length;
    return Number(m[0]);
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) throw FAIL;
    this.i++;
  }

  private object(): Record<string, unknown> {
    this.enter();
    const out: Record<string, unknown> = {};
    this.skip();
    if (this.s[this.i] === "}") return this.leave(out);
    for (;;) {
      this.skip();
      const q = this.s[this.i];
      if (q !== '"' && q !== "'") throw FAIL;
      const key = this.string(q);
      this.skip();
      if (this.s[this.i++] !== ":") throw FAIL;
      Object.defineProperty(out, key, { value: this.value(), enumerable: true, writable: true, configurable: true });
      this.skip();
      const sep = this.s[this.i++];
      if (sep === "}") return this.leave(out, false);
      if (sep !== ",") throw FAIL;
    }
  }

  private array(): unknown[] {
    this.enter();
    const out: unknown[] = [];
    this.skip();
    if (this.s[this.i] === "]") return this.leave(out);
    for (;;) {
      out.push(this.value());
      this.skip();
      const sep = this.s[this.i++];
      if (sep === "]") return this.leave(out, false);
      if (sep !== ",") throw FAIL;
    }
  }

  private leave<T>(v: T, consume = true): T {
    if (consume) this.i++;
    this.depth--;
    return v;
  }

  private string(quote: string): string {
    let out = "";
    let i = this.i + 1;
    const s = this.s;
    for (;;) {
      if (i >= s.length) throw FAIL;
      const c = s[i] as string;
      if (c === quote) break;
      if (c !== "\\") {
        out += c;
        i++;
        continue;
      }
      const e = s[i + 1];
      if (e === "u") {
        const hex = s.slice(i + 2, i + 6);
        if (!/^[0-9A-Fa-f]{4}$/.test(hex)) throw FAIL;
        out += String.fromCharCode(parseInt(hex, 16));
        i += 6;
        continue;
      }
      const mapped = e === undefined ? undefined : ESCAPES[e];
      if (mapped === undefined) throw FAIL;
      out += mapped;
      i += 2;
    }
    this.i = i + 1;
    return out;
  }
}

const FAIL = new Error("lenient-json: unparsable");
const WORDS: ReadonlyArray<[string, unknown]> = [
  ["true", true],
  ["false", false],
  ["null", null],
  ["NaN", null],
];
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/;
const ESCAPES: Record<string, string> = {
  '"': '"',
  "'": "'",
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

/**
 * Parses `text` leniently (json-c style). Returns null for empty or unparsable input.
 *
 * @example
 * parseLenientJson("{'id': 1234, 'name': 'Petros'}"); // { id: 1234, name: "Petros" }
 */
export function parseLenientJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // fall through to the lenient reader
  }
  try {
    const r = new Reader(text);
    return r.value();
  } catch {
    return null;
  }
}
