// The load tool's UAS, on its own UDP socket: answers every INVITE, BYE and other request at once
// with 200 (Via, Record-Route, From, Call-ID, CSeq copied; a To tag made of the Call-ID, so a
// retransmitted INVITE gets the same answer). Like any UAS (RFC 3261 §13.3.1.4) it re-sends an
// INVITE's 200 until the ACK comes: a proxy absorbs the caller's re-sent INVITE once it has relayed
// a 2xx (RFC 6026), so a 200 lost at a busy caller's socket is otherwise a lost call that no router
// could save, and the run would charge the router with it. The answer goes where
// the top Via says (RFC 3261 §18.2.2): the source with rport, else the sent-by port. In the proxy
// scenario that is the router either way; it matters where a test points the tool at the UAS
// directly, whose requests leave from the sending thread's socket but want their answers elsewhere. It stands in for the
// callee of the stateful proxy scenario; its CPU is the tool's, not the router's.
import { createSocket, type Socket } from "node:dgram";
import { once } from "node:events";
import { findParam, H, HeaderLines, isWs, RPORT, TAG } from "./sip-wire.js";

const COPIED: ReadonlySet<H> = new Set([H.Via, H.From, H.CallId, H.CSeq, H.RecordRoute]);
const STATUS_LINE = Buffer.from("SIP/2.0 200 OK\r\n", "latin1");
const CRLF = Buffer.from("\r\n", "latin1");
const TAG_PREFIX = Buffer.from(";tag=u", "latin1");
/** The To tag is at most this many of the Call-ID's token characters. */
const TAG_MAX = 32;

function startsWith(buf: Buffer, text: string): boolean {
  if (buf.length < text.length) return false;
  for (let i = 0; i < text.length; i++) if (buf[i] !== text.charCodeAt(i)) return false;
  return true;
}

/** A Call-ID character kept in the To tag. */
function isTagChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a) || c === 0x2e || c === 0x5f || c === 0x2d;
}

/** True when buf[s, e) has a `;tag=` (a tag without `=` is none: the answer then adds one). */
function hasTagParam(buf: Buffer, s: number, e: number): boolean {
  for (let at = findParam(buf, s, e, TAG); at >= 0; at = findParam(buf, at, e, TAG)) if (buf[at] === 0x3d) return true;
  return false;
}

/**
 * The 200 answering request `req` (undefined for an ACK or a response), its header lines copied
 * as bytes (the UAS runs on the tool's receiving thread, see HeaderLines); `tail` is the Contact
 * and Content-Length lines and the blank line, the same for every answer.
 */
export function answer200(req: Buffer, tail: Buffer): Buffer | undefined {
  if (startsWith(req, "SIP/2.0") || startsWith(req, "ACK ")) return undefined;
  const l = new HeaderLines(req);
  // Offsets of the copied lines, [start, end) pairs in message order; the To line last.
  const copied: number[] = [];
  let to = -1;
  let toEnd = -1;
  let hasTag = false;
  let callId = -1;
  let callIdEnd = -1;
  let length = STATUS_LINE.length + tail.length;
  while (l.next()) {
    if (COPIED.has(l.h)) {
      copied.push(l.lineStart, l.lineEnd);
      length += l.lineEnd - l.lineStart + 2;
    }
    if (l.h === H.CallId) {
      callId = l.valueStart;
      callIdEnd = l.valueEnd;
    }
    if (l.h === H.To) {
      to = l.lineStart;
      toEnd = l.lineEnd;
      hasTag = hasTagParam(req, l.valueStart, l.valueEnd);
    }
  }
  // Room for the longest tag; the answer is cut to what was written.
  if (to >= 0) length += toEnd - to + 2 + (hasTag ? 0 : TAG_PREFIX.length + TAG_MAX);
  const out = Buffer.allocUnsafe(length);
  let at = STATUS_LINE.copy(out, 0);
  for (let k = 0; k < copied.length; k += 2) {
    at += req.copy(out, at, copied[k], copied[k + 1]);
    at += CRLF.copy(out, at);
  }
  if (to >= 0) {
    at += req.copy(out, at, to, toEnd);
    if (!hasTag) {
      at += TAG_PREFIX.copy(out, at);
      let n = 0;
      for (let i = callId; i >= 0 && i < callIdEnd && n < TAG_MAX; i++) {
        const c = req[i] ?? 0;
        if (isTagChar(c)) {
          out[at++] = c;
          n++;
        }
      }
    }
    at += CRLF.copy(out, at);
  }
  at += tail.copy(out, at);
  return out.subarray(0, at);
}

/**
 * The port an answer goes to: the source port if the message's top Via asks for rport, else its
 * sent-by port (5060 when it has none); the source port when there is no Via to read.
 */
export function replyPort(msg: Buffer, sourcePort: number): number {
  const l = new HeaderLines(msg);
  while (l.next()) {
    if (l.h !== H.Via) continue;
    const buf = l.buf;
    const end = l.firstElementEnd();
    // sent-protocol, whitespace, then host[:port]
    let i = l.valueStart;
    while (i < end && !isWs(buf[i])) i++;
    while (i < end && isWs(buf[i])) i++;
    if (buf[i] === 0x5b) while (i < end && buf[i] !== 0x5d) i++;
    while (i < end && buf[i] !== 0x3a && buf[i] !== 0x3b && !isWs(buf[i])) i++;
    let port = 5060;
    if (buf[i] === 0x3a) {
      let p = 0;
      const ds = ++i;
      for (; i < end && (buf[i] ?? 0) >= 0x30 && (buf[i] ?? 0) <= 0x39 && i - ds < 6; i++) p = p * 10 + (buf[i] ?? 0) - 0x30;
      // No digits is no port (5060); one out of range cannot be answered there: the source then.
      if (i > ds) port = p >= 1 && p <= 65535 ? p : sourcePort;
    }
    return findParam(buf, i, end, RPORT) >= 0 ? sourcePort : port;
  }
  return sourcePort;
}

/** RFC 3261's T1 and T2 (ms): a 200 is re-sent at T1, then at doubling intervals up to T2. */
const T1 = 500;
const T2 = 4000;
/** How often the re-sends fall due are looked for (ms): a re-send is at most this late. */
const SWEEP_MS = 50;

/** The Call-ID of `msg` (latin1), or undefined when it has none. */
function callIdOf(msg: Buffer): string | undefined {
  const l = new HeaderLines(msg);
  while (l.next()) if (l.h === H.CallId) return msg.toString("latin1", l.valueStart, l.valueEnd);
  return undefined;
}

/** An INVITE's 200 not yet ACKed: re-sent at `due`, given up at `until` (64·T1 after the first). */
interface Unacked {
  readonly res: Buffer;
  readonly port: number;
  readonly address: string;
  due: number;
  interval: number;
  readonly until: number;
}

export interface Uas {
  readonly port: number;
  /** Requests answered so far (each re-sent INVITE once more; the 200s re-sent for want of an ACK not). */
  answered(): number;
  /** INVITE 200s re-sent because no ACK had come. */
  resent(): number;
  /** INVITE 200s still waiting for their ACK. */
  unacked(): number;
  /** INVITE 200s given up on: no ACK within 64·T1, or the call's BYE came first (its ACK was lost). */
  gaveUp(): number;
  /** Stops re-sending every 200 waiting now (a router's run is over, or its warm-up): counts stay. */
  forget(): void;
  close(): Promise<void>;
}

/** Binds the UAS on 127.0.0.1 (ephemeral port) with a receive buffer of `rcvbuf` bytes. */
export async function startUas(rcvbuf: number): Promise<Uas> {
  const sock: Socket = createSocket({ type: "udp4", recvBufferSize: rcvbuf });
  sock.bind(0, "127.0.0.1");
  await once(sock, "listening");
  const port = sock.address().port;
  let n = 0;
  let resent = 0;
  let gaveUp = 0;
  // By Call-ID: the tool's and SIPp's calls each have their own, and neither re-INVITEs.
  const unacked = new Map<string, Unacked>();
  // Calls whose 200 was ACKed or whose BYE came, for 64·T1 (Map order is arrival order, so the
  // oldest are pruned from the front): a copy of the INVITE a proxy re-sends late is answered but
  // does not start the re-sending again, with no ACK left to stop it.
  const ended = new Map<string, number>();
  const end = (id: string, now: number, acked: boolean): void => {
    if (unacked.delete(id) && !acked) gaveUp++;
    ended.delete(id); // to the back: the front stays the oldest
    ended.set(id, now + 64 * T1);
  };
  const tail = Buffer.from(`Contact: <sip:uas@127.0.0.1:${port}>\r\nContent-Length: 0\r\n\r\n`, "latin1");
  sock.on("message", (msg, rinfo) => {
    const now = performance.now();
    if (startsWith(msg, "ACK ")) {
      const id = callIdOf(msg);
      if (id !== undefined) end(id, now, true);
      return;
    }
    const res = answer200(msg, tail);
    if (res === undefined) return;
    n++;
    const to = replyPort(msg, rinfo.port);
    sock.send(res, to, rinfo.address);
    const invite = startsWith(msg, "INVITE ");
    if (!invite && !startsWith(msg, "BYE ")) return;
    const id = callIdOf(msg);
    if (id === undefined) return;
    if (!invite) end(id, now, false);
    // A re-sent INVITE keeps the schedule its first copy started. The 200 is copied: `res` is a
    // slice of a pooled slab, which it would hold for up to 32 s.
    else if (!unacked.has(id) && !ended.has(id))
      unacked.set(id, {
        res: Buffer.from(res),
        port: to,
        address: rinfo.address,
        due: now + T1,
        interval: T1,
        until: now + 64 * T1,
      });
  });
  const sweep = setInterval(() => {
    const now = performance.now();
    for (const [id, until] of ended) {
      if (now < until) break;
      ended.delete(id);
    }
    for (const [id, u] of unacked) {
      if (now >= u.until) {
        unacked.delete(id);
        gaveUp++;
      } else if (now >= u.due) {
        resent++;
        sock.send(u.res, u.port, u.address);
        u.interval = Math.min(2 * u.interval, T2);
        u.due = now + u.interval;
      }
    }
  }, SWEEP_MS);
  sweep.unref();
  return {
    port,
    answered: () => n,
    resent: () => resent,
    unacked: () => unacked.size,
    gaveUp: () => gaveUp,
    forget: () => unacked.clear(),
    close: () => {
      clearInterval(sweep);
      return new Promise<void>((r) => sock.close(() => r()));
    },
  };
}
