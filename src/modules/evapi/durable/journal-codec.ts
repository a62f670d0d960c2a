// The record format of the durable journal (journal-log.ts): [u32 LE crc32 of what follows]
// [u32 LE length of type+body][u8 type][body]. The CRC covers the length too, so a torn
// write at the tail or a flipped byte anywhere ends decoding at the last intact record: the decoder
// returns the valid prefix and where it ends, and never throws, whatever the bytes.
import { crc32 } from "node:zlib";

/** Record types. A header opens every segment with the log's state at that moment. */
export const REC = { header: 1, event: 2, ack: 3, drop: 4 } as const;

/** The state a segment header carries (JSON), enough to recover a log whose older segments are gone. */
export interface SegmentHeader {
  readonly v: 1;
  readonly consumer: string;
  /** Frames in this journal are netstrings (else raw payloads). */
  readonly netstring: boolean;
  readonly lastId: number;
  readonly acked: number;
  /** Every id ≤ this is released (acked or dropped). */
  readonly released: number;
}

export type JournalRecord =
  | { readonly type: typeof REC.header; readonly header: SegmentHeader }
  | { readonly type: typeof REC.event; readonly id: number; readonly frame: Buffer }
  | { readonly type: typeof REC.ack | typeof REC.drop; readonly id: number };

const HEAD = 9;
/** Ids are stored in 6 bytes: far beyond any stream (2^48). */
const ID_BYTES = 6;
/** A length above this is damage, not a record (a frame is bounded by maxQueueBytes, ≤ 1 GiB). */
const MAX_RECORD = 1024 * 1024 * 1024 + 16;

/** The bytes of one record. */
export function encodeRecord(r: JournalRecord): Buffer {
  const body =
    r.type === REC.header ? Buffer.from(JSON.stringify(r.header), "utf8") : r.type === REC.event ? r.frame : Buffer.alloc(0);
  const idLen = r.type === REC.header ? 0 : ID_BYTES;
  const out = Buffer.allocUnsafe(HEAD + idLen + body.length);
  out.writeUInt32LE(1 + idLen + body.length, 4);
  out[8] = r.type;
  if (r.type !== REC.header) out.writeUIntLE(r.id, HEAD, ID_BYTES);
  body.copy(out, HEAD + idLen);
  out.writeUInt32LE(crc32(out.subarray(4)), 0);
  return out;
}

/** Decodes records from the start of `buf`: the valid prefix, and the offset where it ends. */
export function decodeRecords(buf: Buffer): { records: JournalRecord[]; end: number } {
  const records: JournalRecord[] = [];
  let off = 0;
  for (;;) {
    if (buf.length - off < HEAD) break;
    const len = buf.readUInt32LE(off + 4);
    if (len < 1 || len > MAX_RECORD || buf.length - off - 8 < len) break;
    if (crc32(buf.subarray(off + 4, off + 8 + len)) !== buf.readUInt32LE(off)) break;
    const r = parseRecord(buf.subarray(off + 8, off + 8 + len));
    if (!r) break;
    records.push(r);
    off += 8 + len;
  }
  return { records, end: off };
}

function parseRecord(data: Buffer): JournalRecord | undefined {
  const type = data[0];
  if (type === REC.header) {
    const h = parseHeader(data.subarray(1));
    return h ? { type, header: h } : undefined;
  }
  if ((type !== REC.event && type !== REC.ack && type !== REC.drop) || data.length < 1 + ID_BYTES) return undefined;
  const id = data.readUIntLE(1, ID_BYTES);
  if (id < 1) return undefined;
  if (type === REC.event) return { type, id, frame: Buffer.from(data.subarray(1 + ID_BYTES)) };
  return data.length === 1 + ID_BYTES ? { type, id } : undefined;
}

function parseHeader(body: Buffer): SegmentHeader | undefined {
  let h: unknown;
  try {
    h = JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
  const o = h as Record<string, unknown>;
  const ids = [o.lastId, o.acked, o.released];
  if (typeof h !== "object" || h === null || o.v !== 1 || typeof o.consumer !== "string" || typeof o.netstring !== "boolean")
    return undefined;
  if (!ids.every((n) => Number.isSafeInteger(n) && (n as number) >= 0)) return undefined;
  return o as unknown as SegmentHeader;
}
