// The header index of one message: byte offsets found at parse time, six numbers per header line
// (name start/end, value start/end, line end after LF, folded flag). The head is decoded (latin1,
// byte-transparent) once, on the first value asked for, and each value is a slice of that text:
// decoding value by value cost a call into the runtime each (~70 ns, a dozen per message), a slice
// is a few pointers. Obsolete line folding is undone when a folded value is read (RFC 3261 §7.3.1).
import { type HeaderKey, nameMatches } from "./header-names.js";
import { splitList } from "./params.js";

/** Numbers stored per header line in HeaderTable.idx. */
export const STRIDE = 6;
export const NAME_START = 0;
export const NAME_END = 1;
export const VALUE_START = 2;
export const VALUE_END = 3;
export const LINE_END = 4;
export const FOLDED = 5;

/** Byte offsets of every header line of a message, with lazy decoding of names and values. */
export class HeaderTable {
  readonly buf: Buffer;
  /** Flat offsets, STRIDE numbers per header line. */
  readonly idx: readonly number[];
  /** Where the head ends in buf (the body's first byte): the text decoded covers buf[0, headEnd). */
  private readonly headEnd: number;
  private _text: string | undefined;

  constructor(buf: Buffer, idx: readonly number[], headEnd: number) {
    this.buf = buf;
    this.idx = idx;
    this.headEnd = headEnd;
  }

  /**
   * The head as latin1 text, indexed as buf is. Slices of it keep it alive: a string kept long
   * after its message (a dialog's Call-ID, say) holds this head's few hundred bytes with it.
   */
  get text(): string {
    return (this._text ??= this.buf.toString("latin1", 0, this.headEnd));
  }

  /** Number of header lines. */
  get count(): number {
    return this.idx.length / STRIDE;
  }

  /** Offset of field f of header line i. */
  at(i: number, f: number): number {
    return this.idx[i * STRIDE + f] ?? 0;
  }

  /** Index of the first header line named by key, from line `from`; -1 when none. */
  find(key: HeaderKey, from = 0): number {
    const idx = this.idx;
    for (let i = from * STRIDE; i < idx.length; i += STRIDE) {
      if (nameMatches(this.buf, idx[i] ?? 0, idx[i + 1] ?? 0, key)) return i / STRIDE;
    }
    return -1;
  }

  /** The value of line i, unfolded and trimmed. */
  valueAt(i: number): string {
    const s = this.text.slice(this.at(i, VALUE_START), this.at(i, VALUE_END));
    return this.at(i, FOLDED) === 1 ? s.replace(/[ \t]*\r?\n[ \t]*/g, " ").trim() : s;
  }

  /** First value of the header named by key (whole line), or undefined. */
  first(key: HeaderKey): string | undefined {
    const i = this.find(key);
    return i < 0 ? undefined : this.valueAt(i);
  }

  /** Every value of the header named by key; comma lists split for list headers. */
  values(key: HeaderKey): string[] {
    const out: string[] = [];
    for (let i = this.find(key); i >= 0; i = this.find(key, i + 1)) {
      const v = this.valueAt(i);
      // A value is already trimmed; with no comma it is one element (the common Via or Route line),
      // and an empty one none, as splitList has it.
      if (!key.isList) out.push(v);
      else if (v.includes(",")) for (const part of splitList(v)) out.push(part);
      else if (v.length > 0) out.push(v);
    }
    return out;
  }
}
