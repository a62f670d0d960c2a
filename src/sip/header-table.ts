// The header index of one message: byte offsets found at parse time, six numbers per header line
// (name start/end, value start/end, line end after LF, folded flag). Values are decoded (latin1,
// byte-transparent) only when asked for, and obsolete line folding is undone then (RFC 3261 §7.3.1).
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

  constructor(buf: Buffer, idx: readonly number[]) {
    this.buf = buf;
    this.idx = idx;
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
    const s = this.buf.toString("latin1", this.at(i, VALUE_START), this.at(i, VALUE_END));
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
      if (key.isList) for (const part of splitList(v)) out.push(part);
      else out.push(v);
    }
    return out;
  }
}
