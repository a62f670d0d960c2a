// The records of the dialog journal (dialog-store.ts), in the CRC-checked framing of
// src/common/crc-records.ts: an upsert's payload is the whole DialogRecord as JSON, a removal's the
// dialog's key. Decoding keeps the valid prefix and never throws, whatever the bytes.
import { decodeCrcRecords, encodeCrcRecord } from "../../common/crc-records.js";
import type { DialogRecord } from "./api-types.js";

export type StoreRecord =
  { readonly type: "upsert"; readonly dialog: DialogRecord } | { readonly type: "remove"; readonly key: string };

const TYPE = { upsert: 1, remove: 2 } as const;
/** A length above this is damage, not a record (a record is bounded by maxVarBytes, ≤ 1 MiB, plus headers). */
const MAX_RECORD = 64 * 1024 * 1024;

/** A dialog's key in the journal: unique among live dialogs (h_entry, h_id). */
export const dialogKey = (d: Pick<DialogRecord, "hEntry" | "hId">): string => `${d.hEntry}.${d.hId}`;

/** The bytes of one record. */
export function encodeRecord(r: StoreRecord): Buffer {
  const body = Buffer.from(r.type === "upsert" ? JSON.stringify(r.dialog) : r.key, "utf8");
  return encodeCrcRecord(TYPE[r.type], body.length, (out, at) => body.copy(out, at));
}

/** Decodes records from the start of `buf`: the valid prefix, and the offset where it ends. */
export function decodeRecords(buf: Buffer): { records: StoreRecord[]; end: number } {
  return decodeCrcRecords(buf, MAX_RECORD, parseRecord);
}

function parseRecord(type: number, payload: Buffer): StoreRecord | undefined {
  const body = payload.toString("utf8");
  if (type === TYPE.remove) return /^\d+\.\d+$/.test(body) ? { type: "remove", key: body } : undefined;
  if (type !== TYPE.upsert) return undefined;
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
