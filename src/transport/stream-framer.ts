// Push decoder that cuts a SIP byte stream (TCP) into whole messages by Content-Length (RFC 3261
// §18.3, where the header is mandatory on streams). A chunk list plus offsets, never a
// Buffer.concat per chunk; headers scanned once, bounded by maxLineLength and maxMessageSize so a
// stream that never ends its headers cannot grow memory. CRLF keep-alives between messages are
// skipped, and a CRLFCRLF ping is reported so the connection can answer CRLF (RFC 5626 §3.5.1).
import type { Failure } from "../errors.js";
import type { SipLimits } from "../sip/types.js";
import { findContentLength } from "./content-length.js";

/** What a StreamFramer reports besides failures. */
export interface FramerHandlers {
  /** A whole message: header section plus exactly Content-Length body bytes. */
  onMessage(buf: Buffer): void;
  /** A CRLFCRLF keep-alive ping between messages; answer it with CRLF. */
  onPing(): void;
}

const CR = 13;
const LF = 10;
const S_IDLE = 0;
const S_HEADERS = 1;
const S_BODY = 2;

/**
 * Content-Length framing of a SIP stream. Push chunks; whole messages come out through handlers.
 * After the first failure the framer releases its buffers and returns that failure for every push.
 * @example
 * const f = new StreamFramer(DEFAULT_SIP_LIMITS, { onMessage: (m) => deliver(m), onPing: () => sock.write("\r\n") });
 * const failure = f.push(chunk); if (failure) sock.destroy();
 */
export class StreamFramer {
  private chunks: Buffer[] = [];
  /** Index of the first live chunk, and bytes of it already consumed. */
  private head = 0;
  private offset = 0;
  private bufferedBytes = 0;
  private state = S_IDLE;
  /** Header scan cursor and progress, so bytes are scanned once across pushes. */
  private scanChunk = 0;
  private scanPos = 0;
  private headerLen = 0;
  private lineLen = 0;
  private prevByte = LF;
  /** Whole length of the message being completed (S_BODY). */
  private need = 0;
  /** Keep-alive matcher: how much of CR LF CR LF was seen between messages. */
  private pingState = 0;
  private failure: Failure | undefined;

  private readonly limits: SipLimits;
  private readonly handlers: FramerHandlers;

  constructor(limits: SipLimits, handlers: FramerHandlers) {
    this.limits = limits;
    this.handlers = handlers;
  }

  /** Bytes held for the message in progress (always ≤ maxMessageSize after a successful push). */
  get buffered(): number {
    return this.bufferedBytes;
  }

  /** Feeds bytes; returns a Failure (and refuses later input) when the stream is malformed. */
  push(chunk: Buffer): Failure | undefined {
    if (this.failure !== undefined) return this.failure;
    if (chunk.length === 0) return undefined;
    this.chunks.push(chunk);
    this.bufferedBytes += chunk.length;
    for (;;) {
      if (this.state === S_IDLE) {
        if (!this.skipKeepAlives()) return undefined;
        this.state = S_HEADERS;
        this.scanChunk = this.head;
        this.scanPos = this.offset;
        this.headerLen = 0;
        this.lineLen = 0;
        this.prevByte = LF;
      }
      if (this.state === S_HEADERS) {
        const r = this.scanHeaders();
        if (r === false) return undefined;
        if (r !== true) return this.fail(r);
        const cl = findContentLength(this.peek(this.headerLen), this.limits.maxMessageSize - this.headerLen);
        if (!cl.ok) return this.fail(cl);
        this.need = this.headerLen + cl.value;
        this.state = S_BODY;
      }
      if (this.bufferedBytes < this.need) return undefined;
      const msg = this.take(this.need);
      this.state = S_IDLE;
      this.need = 0;
      this.handlers.onMessage(msg);
      if (this.failure !== undefined) return this.failure; // reset() from the handler
    }
  }

  /** Drops buffered bytes and refuses further input (the connection is closing). */
  reset(): void {
    this.fail({ ok: false, code: "ERR_SIP_EMPTY", detail: "framer closed" });
  }

  private fail(f: Failure): Failure {
    const failure: Failure = { ok: false, code: f.code, detail: f.detail };
    this.failure = failure;
    this.chunks = [];
    this.head = 0;
    this.offset = 0;
    this.bufferedBytes = 0;
    return failure;
  }

  /** Consumes CR/LF bytes before a message; false when the buffer ran out first. */
  private skipKeepAlives(): boolean {
    while (this.bufferedBytes > 0) {
      const c = this.chunks[this.head] as Buffer;
      const b = c[this.offset] as number;
      if (b !== CR && b !== LF) {
        this.pingState = 0;
        return true;
      }
      let ping = false;
      if (b === CR) this.pingState = this.pingState === 2 ? 3 : 1;
      else if (this.pingState === 1) this.pingState = 2;
      else if (this.pingState === 3) {
        this.pingState = 0;
        ping = true;
      } else this.pingState = 0;
      this.advance(1);
      // The handler may close the connection (a pong to a peer that does not read): it resets us.
      if (ping) this.handlers.onPing();
      if (this.failure !== undefined) return false;
    }
    return false;
  }

  /** Scans for the empty line ending the headers: true when found, false for more input, or a Failure. */
  private scanHeaders(): boolean | Failure {
    const maxLine = this.limits.maxLineLength + 1; // + the CR before LF
    const maxHeaders = this.limits.maxMessageSize;
    while (this.scanChunk < this.chunks.length) {
      const c = this.chunks[this.scanChunk] as Buffer;
      while (this.scanPos < c.length) {
        const lf = c.indexOf(LF, this.scanPos);
        const end = lf === -1 ? c.length : lf;
        const n = end - this.scanPos;
        if (n > 0) this.prevByte = c[end - 1] as number;
        this.lineLen += n;
        this.headerLen += n;
        if (this.lineLen > maxLine) {
          return { ok: false, code: "ERR_SIP_LINE_TOO_LONG", detail: `header line over ${this.limits.maxLineLength} bytes` };
        }
        if (this.headerLen > maxHeaders) {
          return { ok: false, code: "ERR_SIP_TOO_LARGE", detail: `header section over ${maxHeaders} bytes` };
        }
        if (lf === -1) {
          this.scanPos = c.length;
          break;
        }
        this.headerLen++;
        this.scanPos = lf + 1;
        const isEmptyLine = this.lineLen === 1 && this.prevByte === CR;
        this.lineLen = 0;
        this.prevByte = LF;
        if (isEmptyLine) return true;
      }
      this.scanChunk++;
      this.scanPos = 0;
    }
    return false;
  }

  /** The next n buffered bytes without consuming them: a view when they sit in one chunk. */
  private peek(n: number): Buffer {
    const first = this.chunks[this.head] as Buffer;
    if (first.length - this.offset >= n) return first.subarray(this.offset, this.offset + n);
    const out = Buffer.allocUnsafe(n);
    let copied = 0;
    let i = this.head;
    let from = this.offset;
    while (copied < n) {
      const c = this.chunks[i++] as Buffer;
      copied += c.copy(out, copied, from, Math.min(c.length, from + n - copied));
      from = 0;
    }
    return out;
  }

  private take(n: number): Buffer {
    const out = n === 0 ? Buffer.alloc(0) : this.peek(n);
    this.advance(n);
    return out;
  }

  /** Consumes n bytes, dropping exhausted chunks (an index, not shift(): byte-by-byte input stays linear). */
  private advance(n: number): void {
    this.bufferedBytes -= n;
    while (n > 0) {
      const c = this.chunks[this.head] as Buffer;
      const left = c.length - this.offset;
      if (n < left) {
        this.offset += n;
        return;
      }
      n -= left;
      this.head++;
      this.offset = 0;
    }
    if (this.head === this.chunks.length) {
      this.chunks.length = 0;
      this.head = 0;
    } else if (this.head >= 64 && this.state !== S_HEADERS) {
      this.chunks.splice(0, this.head);
      this.head = 0;
    }
  }
}
