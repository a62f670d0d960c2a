// The live dialogs, found by Call-ID and tags in either direction (RFC 3261 §12: a dialog is
// Call-ID + local tag + remote tag). Keyed by Call-ID and the caller's From-tag, the one pair known
// from the INVITE on; the To-tag is checked on lookup. `h_entry`/`h_id` follow Kamailio: the bucket
// of the Call-ID in a 4096-entry table and a counter within it.
import { fnv1a } from "../../common/fnv1a.js";
import type { DialogRecord } from "./api-types.js";

const HASH_SIZE = 4096;

/** Who sent a request within a dialog. */
export type Direction = "caller" | "callee";

/** What a message tells about its dialog. */
export interface DialogIds {
  readonly callId: string;
  readonly fromTag: string | undefined;
  readonly toTag: string | undefined;
}

function key(callId: string, tag: string): string {
  return `${callId}\u0000${tag}`;
}

export class DialogTable {
  private readonly byKey = new Map<string, DialogRecord>();
  private readonly lastId = new Map<number, number>();

  get size(): number {
    return this.byKey.size;
  }

  values(): IterableIterator<DialogRecord> {
    return this.byKey.values();
  }

  /** The next (h_entry, h_id) for a Call-ID. */
  nextIds(callId: string): { hEntry: number; hId: number } {
    const hEntry = fnv1a(callId) & (HASH_SIZE - 1);
    const hId = (this.lastId.get(hEntry) ?? 0) + 1;
    this.lastId.set(hEntry, hId);
    return { hEntry, hId };
  }

  /** Keeps nextIds above an id in use (a restored dialog's). */
  reserve(hEntry: number, hId: number): void {
    if ((this.lastId.get(hEntry) ?? 0) < hId) this.lastId.set(hEntry, hId);
  }

  add(d: DialogRecord): void {
    this.byKey.set(key(d.callId, d.fromTag), d);
  }

  remove(d: DialogRecord): void {
    const k = key(d.callId, d.fromTag);
    if (this.byKey.get(k) === d) this.byKey.delete(k);
  }

  /** The dialog an initial INVITE (or a response to it) belongs to: Call-ID and From-tag. */
  byCaller(callId: string, fromTag: string | undefined): DialogRecord | undefined {
    return fromTag === undefined ? undefined : this.byKey.get(key(callId, fromTag));
  }

  /** The dialog of a request within a dialog, and who sent it; undefined when no dialog matches. */
  within(ids: DialogIds): { dialog: DialogRecord; from: Direction } | undefined {
    const { callId, fromTag, toTag } = ids;
    if (fromTag === undefined || toTag === undefined) return undefined;
    const a = this.byKey.get(key(callId, fromTag));
    if (a && a.toTag === toTag) return { dialog: a, from: "caller" };
    const b = this.byKey.get(key(callId, toTag));
    if (b && b.toTag === fromTag) return { dialog: b, from: "callee" };
    return undefined;
  }
}
