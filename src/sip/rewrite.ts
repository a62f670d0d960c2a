// rewrite(): the forwarding edits of a proxy (RFC 3261 §16.6: Request-URI, Max-Forwards, Via,
// Route; §16.12 loose routing) applied by slicing the ORIGINAL bytes. Untouched runs of header
// lines are copied as one range; the message is never re-stringified. Header text is written as
// latin1 (byte-transparent with what the getters return); a string body is written as UTF-8.
import type { Rewrite } from "./types.js";
import type { SipMessage } from "./message.js";
import { type HeaderKey, KEYS, makeHeaderKey, nameMatches } from "./header-names.js";
import { LINE_END, NAME_END, NAME_START, VALUE_END, VALUE_START } from "./header-table.js";
import { firstListComma } from "./params.js";

/** Collects output pieces; adjacent ranges of the source merge into one copy. */
class Pieces {
  private readonly src: Buffer;
  private readonly items: (string | number)[] = [];
  private runStart = -1;
  private runEnd = -1;
  private size = 0;

  constructor(src: Buffer) {
    this.src = src;
  }

  range(s: number, e: number): void {
    if (e <= s) return;
    if (s === this.runEnd) {
      this.runEnd = e;
      return;
    }
    this.flush();
    this.runStart = s;
    this.runEnd = e;
  }

  text(t: string): void {
    this.flush();
    this.items.push(t);
    this.size += t.length;
  }

  private flush(): void {
    if (this.runStart < 0) return;
    this.items.push(this.runStart, this.runEnd);
    this.size += this.runEnd - this.runStart;
    this.runStart = this.runEnd = -1;
  }

  finish(body: Buffer): Buffer {
    this.flush();
    const out = Buffer.allocUnsafe(this.size + body.length);
    let o = 0;
    const items = this.items;
    for (let k = 0; k < items.length; k++) {
      const it = items[k];
      if (typeof it === "string") o += out.write(it, o, "latin1");
      else {
        const e = items[++k] as number;
        o += this.src.copy(out, o, it ?? 0, e);
      }
    }
    body.copy(out, o);
    return out;
  }
}

function skipLws(buf: Buffer, i: number, end: number): number {
  while (i < end) {
    const c = buf[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a) break;
    i++;
  }
  return i;
}

/** Emits header line i without its first comma-list value (or drops the line if it has one value). */
function dropFirstValue(p: Pieces, msg: SipMessage, i: number): void {
  const t = msg.headers;
  const vs = t.at(i, VALUE_START);
  const comma = firstListComma(msg.buf, vs, t.at(i, VALUE_END));
  if (comma < 0) return;
  p.range(t.at(i, NAME_START), vs);
  p.range(skipLws(msg.buf, comma + 1, t.at(i, VALUE_END)), t.at(i, LINE_END));
}

/** Applies edits to msg's original bytes; see Rewrite. The result re-parses. */
export function applyRewrite(msg: SipMessage, edits: Rewrite): Buffer {
  const buf = msg.buf;
  const t = msg.headers;
  const p = new Pieces(buf);
  if (edits.requestUri !== undefined && msg.isRequest) {
    p.range(msg.lineStart, msg.uriStart);
    p.text(edits.requestUri);
    p.range(msg.uriEnd, msg.headerStart);
  } else {
    p.range(msg.lineStart, msg.headerStart);
  }
  if (edits.prepend !== undefined) for (const line of edits.prepend) p.text(`${line}\r\n`);
  const removed: HeaderKey[] | undefined = edits.remove?.map(makeHeaderKey);
  const body = edits.body === undefined ? undefined : typeof edits.body === "string" ? Buffer.from(edits.body) : edits.body;
  let viaDone = edits.removeTopVia !== true;
  let routeDone = edits.removeTopRoute !== true;
  let mfSeen = false;
  let clKept = false;
  const n = t.count;
  for (let i = 0; i < n; i++) {
    const ns = t.at(i, NAME_START);
    const ne = t.at(i, NAME_END);
    if (removed !== undefined && removed.some((k) => nameMatches(buf, ns, ne, k))) continue;
    if (!viaDone && nameMatches(buf, ns, ne, KEYS.via)) {
      viaDone = true;
      dropFirstValue(p, msg, i);
      continue;
    }
    if (!routeDone && nameMatches(buf, ns, ne, KEYS.route)) {
      routeDone = true;
      dropFirstValue(p, msg, i);
      continue;
    }
    if (edits.maxForwards !== undefined && nameMatches(buf, ns, ne, KEYS.maxForwards)) {
      if (mfSeen) continue;
      mfSeen = true;
      p.range(ns, t.at(i, VALUE_START));
      p.text(String(edits.maxForwards));
      p.range(t.at(i, VALUE_END), t.at(i, LINE_END));
      continue;
    }
    if (nameMatches(buf, ns, ne, KEYS.contentLength)) {
      if (body !== undefined || clKept) continue;
      clKept = true;
    }
    p.range(ns, t.at(i, LINE_END));
  }
  if (edits.maxForwards !== undefined && !mfSeen) p.text(`Max-Forwards: ${edits.maxForwards}\r\n`);
  if (edits.append !== undefined) for (const line of edits.append) p.text(`${line}\r\n`);
  const outBody = body ?? msg.body;
  if (!clKept) p.text(`Content-Length: ${outBody.length}\r\n`);
  p.text("\r\n");
  return p.finish(outBody);
}
