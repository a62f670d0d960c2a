// Streaming netstring decoder (`<len>:<payload>,`), shaped like websockets/ws's receiver: a push
// decoder with no I/O, limits fixed in the constructor, a list of payload chunks plus an offset
// instead of Buffer.concat per read, and one error after which all input is refused.
// Wire rules: docs/evapi.md "Wire" (whitespace before a frame skipped, leading zeros accepted, `0:,`
// ignored but counted, reassembly across any split); the length is checked before any payload byte is kept.
import type { ErrorCode, Failure } from "../errors.js";

/** Options of {@link NetstringDecoder}. */
export interface NetstringDecoderOptions {
  /** Largest payload accepted, in bytes. Default DEFAULT_MAX_MESSAGE_SIZE. */
  readonly maxMessageSize?: number;
  /** Called once per non-empty frame, in order. The Buffer may share memory with the pushed chunk. */
  readonly onFrame: (payload: Buffer) => void;
  /** Called for each empty frame `0:,` (which is otherwise ignored). */
  readonly onEmpty?: () => void;
}

/** The success result of {@link NetstringDecoder.push}. */
export interface PushOk {
  readonly ok: true;
}

/** Counters of one decoder; plain fields for a metrics exporter. */
export interface NetstringDecoderStats {
  frames: number;
  empty: number;
  payloadBytes: number;
  readonly errors: Map<ErrorCode, number>;
}

/** Default largest payload (evapi's `maxMessageSize`, docs/evapi.md). */
export const DEFAULT_MAX_MESSAGE_SIZE = 65536;
/** At most this many length digits (leading zeros included). */
export const MAX_LENGTH_DIGITS = 9;

const OK: PushOk = Object.freeze({ ok: true });
const COLON = 0x3a;
const COMMA = 0x2c;
const ZERO = 0x30;
const NINE = 0x39;

// Parser states, as plain numbers (no enums).
const S_START = 0; // skipping whitespace before a frame
const S_LENGTH = 1; // reading length digits, at least one seen
const S_PAYLOAD = 2; // collecting `remaining` payload bytes
const S_COMMA = 3; // expecting the trailing comma

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0d || b === 0x0a;
}

/**
 * Push decoder for netstrings. Feed it socket chunks with {@link push}; it calls `onFrame` for each
 * complete frame. Peer garbage never throws: `push` returns a {@link Failure} with an
 * `ERR_NETSTRING_*` code once, and every later push is refused with `ERR_NETSTRING_DESTROYED`.
 * An exception thrown by `onFrame` propagates out of `push`; the decoder stays consistent but the
 * rest of that chunk is not parsed, so callers should treat it as fatal for the connection.
 *
 * @example
 * const d = new NetstringDecoder({ onFrame: (p) => console.log(p.toString()) });
 * d.push(Buffer.from("5:hel")); d.push(Buffer.from("lo,")); // logs "hello"
 */
export class NetstringDecoder {
  readonly maxMessageSize: number;
  readonly stats: NetstringDecoderStats = { frames: 0, empty: 0, payloadBytes: 0, errors: new Map() };
  /** The failure that stopped this decoder, if any. */
  error: Failure | undefined = undefined;

  private readonly onFrame: (payload: Buffer) => void;
  private readonly onEmpty: (() => void) | undefined;
  private state = S_START;
  private length = 0;
  private digits = 0;
  private remaining = 0;
  private parts: Buffer[] = [];
  private partBytes = 0;
  private destroyed = false;
  // The complete payload waiting for its comma.
  private held: Buffer | undefined = undefined;

  constructor(options: NetstringDecoderOptions) {
    this.maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    this.onFrame = options.onFrame;
    this.onEmpty = options.onEmpty;
  }

  /** Payload bytes held for the frame in progress (never more than `maxMessageSize`). */
  get buffered(): number {
    return this.partBytes + (this.held?.length ?? 0);
  }

  /** True when no frame is in progress (only whitespace since the last frame). */
  get idle(): boolean {
    return this.state === S_START;
  }

  /** Stops the decoder and drops what it holds; later pushes are refused. */
  destroy(): void {
    this.destroyed = true;
    this.parts = [];
    this.partBytes = 0;
    this.held = undefined;
  }

  /** Feeds one chunk. Frames complete in it are delivered before this returns. */
  push(chunk: Uint8Array): PushOk | Failure {
    if (this.destroyed) {
      return { ok: false, code: "ERR_NETSTRING_DESTROYED", detail: "decoder stopped after an earlier error or destroy()" };
    }
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      const state = this.state;
      if (state === S_PAYLOAD) {
        const take = Math.min(this.remaining, n - i);
        if (take === this.remaining && this.partBytes === 0) {
          // Whole payload inside this chunk: deliver a view, no copy.
          const payload = toBuffer(chunk).subarray(i, i + take);
          i += take;
          this.remaining = 0;
          this.state = S_COMMA;
          this.held = payload;
        } else {
          this.parts.push(toBuffer(chunk).subarray(i, i + take));
          this.partBytes += take;
          this.remaining -= take;
          i += take;
          if (this.remaining > 0) return OK;
          this.held = Buffer.concat(this.parts, this.partBytes);
          this.parts = [];
          this.partBytes = 0;
          this.state = S_COMMA;
        }
        continue;
      }
      const b = chunk[i] as number;
      i++;
      if (state === S_START) {
        if (b >= ZERO && b <= NINE) {
          this.length = b - ZERO;
          this.digits = 1;
          this.state = S_LENGTH;
        } else if (!isSpace(b)) {
          return this.fail("ERR_NETSTRING_BAD_LENGTH", `byte 0x${b.toString(16)} where a length digit is due`);
        }
      } else if (state === S_LENGTH) {
        if (b >= ZERO && b <= NINE) {
          if (++this.digits > MAX_LENGTH_DIGITS) {
            return this.fail("ERR_NETSTRING_LENGTH_TOO_LONG", `more than ${MAX_LENGTH_DIGITS} length digits`);
          }
          this.length = this.length * 10 + (b - ZERO);
        } else if (b === COLON) {
          if (this.length > this.maxMessageSize) {
            return this.fail("ERR_NETSTRING_TOO_LARGE", `payload of ${this.length} bytes exceeds ${this.maxMessageSize}`);
          }
          this.remaining = this.length;
          this.state = this.length === 0 ? S_COMMA : S_PAYLOAD;
        } else {
          return this.fail("ERR_NETSTRING_NO_COLON", `byte 0x${b.toString(16)} after the length digits`);
        }
      } else {
        // S_COMMA
        if (b !== COMMA) return this.fail("ERR_NETSTRING_NO_COMMA", `byte 0x${b.toString(16)} after the payload`);
        this.state = S_START;
        const payload = this.held;
        this.held = undefined;
        if (payload === undefined) {
          this.stats.empty++;
          this.onEmpty?.();
        } else {
          this.stats.frames++;
          this.stats.payloadBytes += payload.length;
          this.onFrame(payload);
        }
        if (this.destroyed) return OK; // the callback stopped us (e.g. closed the connection)
      }
    }
    return OK;
  }

  private fail(code: ErrorCode, detail: string): Failure {
    this.stats.errors.set(code, (this.stats.errors.get(code) ?? 0) + 1);
    this.error = { ok: false, code, detail };
    this.destroy();
    return this.error;
  }
}

function toBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
}
