// The records of the durable journal (journal-log.ts), in the CRC-checked framing of
// src/common/crc-records.ts: a segment header (JSON), or an event/ack/drop with its 6-byte id.
// Decoding keeps the valid prefix and never throws, whatever the bytes.
import { decodeCrcRecords, encodeCrcRecord } from "../../../common/crc-records.js";

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

/** Ids are stored in 6 bytes: far beyond any stream (2^48). */
const ID_BYTES = 6;
/** A length above this is damage, not a record (a frame is bounded by maxQueueBytes, ≤ 1 GiB). */
const MAX_RECORD = 1024 * 1024 * 1024 + 16;

/** The bytes of one record. */
export function encodeRecord(r: JournalRecord): Buffer {
  const body =
    r.type === REC.header ? Buffer.from(JSON.stringify(r.header), "utf8") : r.type === REC.event ? r.frame : Buffer.alloc(0);
  const idLen = r.type === REC.header ? 0 : ID_BYTES;
  return encodeCrcRecord(r.type, idLen + body.length, (out, at) => {
    if (r.type !== REC.header) out.writeUIntLE(r.id, at, ID_BYTES);
    body.copy(out, at + idLen);
  });
}

/** Decodes records from the start of `buf`: the valid prefix, and the offset where it ends. */
export function decodeRecords(buf: Buffer): { records: JournalRecord[]; end: number } {
  return decodeCrcRecords(buf, MAX_RECORD, parseRecord);
}

function parseRecord(type: number, payload: Buffer): JournalRecord | undefined {
  if (type === REC.header) {
    const h = parseHeader(payload);
    return h ? { type, header: h } : undefined;
  }
  if ((type !== REC.event && type !== REC.ack && type !== REC.drop) || payload.length < ID_BYTES) return undefined;
  const id = payload.readUIntLE(0, ID_BYTES);
  if (id < 1) return undefined;
  if (type === REC.event) return { type, id, frame: Buffer.from(payload.subarray(ID_BYTES)) };
  return payload.length === ID_BYTES ? { type, id } : undefined;
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
