// Reads one consumer's journal directory back at start-up (disk-retention.ts): every segment in
// order, each up to its last intact record (journal-codec.ts), merged monotonically (the highest
// id, ack point and release point seen win), so a segment that was rewritten or cut short never
// moves a log backwards. Damage is returned, not thrown: the caller logs and counts it.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { encodeNetstring } from "evsip-client/netstring";
import { lostText } from "./control-message.js";
import { decodeRecords, REC } from "./journal-codec.js";

/** Segment files are `<seq>.seg`, seq zero-padded so names sort in order. */
export const segmentName = (seq: number): string => `${String(seq).padStart(10, "0")}.seg`;
const SEGMENT = /^(\d{10})\.seg$/;

/** A consumer's log as recovered: ids released+1..lastId are in `frames`, in order (a lost notice for a missing one). */
export interface RecoveredLog {
  readonly lastId: number;
  readonly acked: number;
  readonly released: number;
  readonly frames: Buffer[];
  /** Every segment file found, damaged ones included, oldest first. */
  readonly seqs: number[];
  /** What could not be read, one line each. */
  readonly damage: string[];
}

export function readConsumerDir(dir: string, name: string, netstring: boolean): RecoveredLog {
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch (e) {
    const damage = [`the consumer's directory cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`];
    return { lastId: 0, acked: 0, released: 0, frames: [], seqs: [], damage };
  }
  const seqs = files
    .map((f) => SEGMENT.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  const damage: string[] = [];
  const events = new Map<number, Buffer>();
  let lastId = 0;
  let acked = 0;
  let released = 0;
  for (const seq of seqs) {
    const file = segmentName(seq);
    let buf: Buffer;
    try {
      buf = readFileSync(join(dir, file));
    } catch (e) {
      damage.push(`${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
      continue;
    }
    const { records, end } = decodeRecords(buf);
    if (end < buf.length)
      damage.push(`${file}: ${buf.length - end} bytes from offset ${end} are cut short or fail their checksum`);
    let framing: boolean | undefined;
    for (const r of records) {
      if (r.type === REC.header) {
        if (r.header.consumer !== name) {
          damage.push(`${file}: header names consumer ${JSON.stringify(r.header.consumer)}`);
          break;
        }
        framing = r.header.netstring;
        lastId = Math.max(lastId, r.header.lastId);
        acked = Math.max(acked, r.header.acked);
        released = Math.max(released, r.header.released);
      } else if (framing === undefined) {
        damage.push(`${file}: records before the segment header`);
        break;
      } else if (r.type === REC.event) {
        if (r.id > released) events.set(r.id, framing === netstring ? r.frame : reframe(r.frame, netstring));
        lastId = Math.max(lastId, r.id);
      } else {
        if (r.type === REC.ack) acked = Math.max(acked, r.id);
        released = Math.max(released, r.id);
      }
    }
  }
  // Ids are never reused: an id whose event is missing (damage) is replayed as a lost notice.
  const frames: Buffer[] = [];
  let hole = 0;
  for (let id = released + 1; id <= lastId + 1; id++) {
    const f = events.get(id);
    if (f === undefined && id <= lastId) {
      frames.push(lostFrame(id, netstring));
      hole ||= id;
    } else if (hole) {
      damage.push(`events ${hole}..${id - 1} are missing: replayed as lost`);
      hole = 0;
    }
    if (f) frames.push(f);
  }
  return { lastId, acked: Math.min(acked, lastId), released, frames, seqs, damage };
}

function lostFrame(id: number, netstring: boolean): Buffer {
  const text = lostText({ from: id, to: id, count: 1 });
  return netstring ? encodeNetstring(text) : Buffer.from(text, "utf8");
}

/** A frame written under the other framing (netstringFormat changed between runs). */
function reframe(frame: Buffer, toNetstring: boolean): Buffer {
  if (toNetstring) return encodeNetstring(frame);
  return frame.subarray(frame.indexOf(0x3a) + 1, frame.length - 1);
}
