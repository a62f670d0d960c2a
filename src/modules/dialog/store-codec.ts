// The record format of the dialog journal (dialog-store.ts): [u32 LE crc32 of what follows]
// [u32 LE length of type+body][u8 type][body]. An upsert's body is the whole DialogRecord as JSON, a
// removal's the dialog's key. The CRC covers the length too, so a torn write at the tail or a
// flipped byte anywhere ends decoding at the last intact record: the decoder returns the valid
// prefix and where it ends, and never throws, whatever the bytes.
import { crc32 } from "node:zlib";
import type { DialogRecord } from "./api-types.js";

export type StoreRecord =
  { readonly type: "upsert"; readonly dialog: DialogRecord } | { readonly type: "remove"; readonly key: string };

const TYPE = { upsert: 1, remove: 2 } as const;
const HEAD = 9;
/** A length above this is damage, not a record (a record is bounded by maxVarBytes, ≤ 1 MiB, plus headers). */
const MAX_RECORD = 64 * 1024 * 1024;

/** A dialog's key in the journal: unique among live dialogs (h_entry, h_id). */
export const dialogKey = (d: Pick<DialogRecord, "hEntry" | "hId">): string => `${d.hEntry}.${d.hId}`;

/** The bytes of one record. */
export function encodeRecord(r: StoreRecord): Buffer {
  const body = Buffer.from(r.type === "upsert" ? JSON.stringify(r.dialog) : r.key, "utf8");
  const out = Buffer.allocUnsafe(HEAD + body.length);
  out.writeUInt32LE(1 + body.length, 4);
  out[8] = TYPE[r.type];
  body.copy(out, HEAD);
  out.writeUInt32LE(crc32(out.subarray(4)), 0);
  return out;
}

/** Decodes records from the start of `buf`: the valid prefix, and the offset where it ends. */
export function decodeRecords(buf: Buffer): { records: StoreRecord[]; end: number } {
  const records: StoreRecord[] = [];
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

function parseRecord(data: Buffer): StoreRecord | undefined {
  const body = data.subarray(1).toString("utf8");
  if (data[0] === TYPE.remove) return /^\d+\.\d+$/.test(body) ? { type: "remove", key: body } : undefined;
  if (data[0] !== TYPE.upsert) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    return undefined;
  }
  return isDialogRecord(v) ? { type: "upsert", dialog: v } : undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isSide = (v: unknown): boolean =>
  isObject(v) && typeof v.contact === "string" && typeof v.cseq === "number" && Array.isArray(v.routeSet);

/** Enough of a DialogRecord's shape that restoring it cannot throw. */
function isDialogRecord(v: unknown): v is DialogRecord {
  if (!isObject(v)) return false;
  const ints = [v.hEntry, v.hId, v.state];
  const strings = [v.callId, v.fromTag, v.toTag];
  return (
    ints.every((n) => Number.isSafeInteger(n) && (n as number) >= 0) &&
    [v.expiresAt, v.nextKaAt, v.timeout].every((n) => typeof n === "number" && Number.isFinite(n)) &&
    strings.every((s) => typeof s === "string") &&
    isSide(v.caller) &&
    isSide(v.callee) &&
    isObject(v.vars) &&
    Array.isArray(v.profiles) &&
    v.profiles.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === "string" && typeof p[1] === "string")
  );
}
