// Records on disk that a crash cannot turn into wrong data: [u32 LE crc32 of what follows]
// [u32 LE length of type+payload][u8 type][payload]. The CRC covers the length too, so a torn write
// at the tail or a flipped byte anywhere ends decoding at the last intact record. The journals of
// durable evapi events and of dialogs both use it.
import { crc32 } from "node:zlib";

const HEAD = 9;

/** One record of `type` whose payload (`payloadLength` bytes) `writePayload` writes at `at`. */
export function encodeCrcRecord(type: number, payloadLength: number, writePayload: (out: Buffer, at: number) => void): Buffer {
  const out = Buffer.allocUnsafe(HEAD + payloadLength);
  out.writeUInt32LE(1 + payloadLength, 4);
  out[8] = type;
  writePayload(out, HEAD);
  out.writeUInt32LE(crc32(out.subarray(4)), 0);
  return out;
}

/**
 * Decodes records from the start of `buf` while each is intact (length within `maxLength`, CRC
 * right) and `parse` accepts it: the valid prefix, and the offset where it ends. Never throws.
 */
export function decodeCrcRecords<T>(
  buf: Buffer,
  maxLength: number,
  parse: (type: number, payload: Buffer) => T | undefined,
): { records: T[]; end: number } {
  const records: T[] = [];
  let off = 0;
  for (;;) {
    if (buf.length - off < HEAD) break;
    const len = buf.readUInt32LE(off + 4);
    if (len < 1 || len > maxLength || buf.length - off - 8 < len) break;
    if (crc32(buf.subarray(off + 4, off + 8 + len)) !== buf.readUInt32LE(off)) break;
    const r = parse(buf[off + 8] as number, buf.subarray(off + 9, off + 8 + len));
    if (r === undefined) break;
    records.push(r);
    off += 8 + len;
  }
  return { records, end: off };
}
