// Test harness for the netstring codec: chunking strategies (one chunk, byte by byte, arbitrary
// cut points) and a collector that runs a decoder over chunks and records frames, empties and the
// first failure code. Not a test file itself.
import { NetstringDecoder } from "evsip-client/netstring";

/** Splits a buffer into the chunks a test pushes. */
export type Splitter = (buf: Buffer) => Buffer[];

/** The two chunkings every codec case runs with. */
export const splitters: Record<"one chunk" | "byte by byte", Splitter> = {
  "one chunk": (buf) => [buf],
  "byte by byte": (buf) => Array.from({ length: buf.length }, (_, i) => buf.subarray(i, i + 1)),
};

/** Cuts `buf` at the given (sorted or not, possibly out-of-range) offsets. */
export function cutAt(buf: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => Math.max(0, Math.min(buf.length, c))))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    out.push(buf.subarray(from, p));
    from = p;
  }
  out.push(buf.subarray(from));
  return out;
}

/** What a decoder produced over a list of chunks. */
export interface DecodeResult {
  frames: string[];
  empty: number;
  code: string | undefined;
  maxBuffered: number;
  decoder: NetstringDecoder;
}

/** Pushes every chunk (stopping at the first failure) and collects the result. */
export function decodeAll(chunks: readonly Uint8Array[], maxMessageSize?: number): DecodeResult {
  const frames: string[] = [];
  let empty = 0;
  const decoder = new NetstringDecoder({
    ...(maxMessageSize === undefined ? {} : { maxMessageSize }),
    onFrame: (p) => frames.push(p.toString("utf8")),
    onEmpty: () => empty++,
  });
  let code: string | undefined;
  let maxBuffered = 0;
  for (const c of chunks) {
    const r = decoder.push(c);
    maxBuffered = Math.max(maxBuffered, decoder.buffered);
    if (!r.ok) {
      code = r.code;
      break;
    }
  }
  return { frames, empty, code, maxBuffered, decoder };
}
