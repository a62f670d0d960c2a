// Raw-mode splitter for `rawDelimiter` (docs/evapi.md "Wire": e.g. "\n" makes raw mode NDJSON).
// Same shape as the netstring decoder: push chunks, messages come out through a callback, a partial
// message is kept as a chunk list and joined once, and a message longer than maxMessageSize fails
// with ERR_NETSTRING_TOO_LARGE as soon as it is known to be too long, so memory stays bounded.
import type { ErrorCode, Failure } from "../errors.js";
import { DEFAULT_MAX_MESSAGE_SIZE, type PushOk } from "./decoder.js";

/** Options of {@link LineSplitter}. */
export interface LineSplitterOptions {
  /** The delimiter, e.g. "\n" or "\r\n". Must not be empty. */
  readonly delimiter: string | Buffer;
  /** Largest message (without its delimiter), in bytes. Default DEFAULT_MAX_MESSAGE_SIZE. */
  readonly maxMessageSize?: number;
  /** Called once per non-empty message, in order, without the delimiter. */
  readonly onLine: (line: Buffer) => void;
  /** Called for each empty message (two delimiters in a row), which is otherwise ignored. */
  readonly onEmpty?: () => void;
}

const OK: PushOk = Object.freeze({ ok: true });

/**
 * Splits a byte stream on a delimiter. A multi-byte delimiter split across chunks is found.
 *
 * @example
 * const s = new LineSplitter({ delimiter: "\n", onLine: (l) => handle(JSON.parse(l.toString())) });
 * socket.on("data", (c) => { const r = s.push(c); if (!r.ok) socket.destroy(); });
 */
export class LineSplitter {
  readonly maxMessageSize: number;
  readonly delimiter: Buffer;
  readonly stats = { lines: 0, empty: 0, payloadBytes: 0, errors: new Map<ErrorCode, number>() };
  error: Failure | undefined = undefined;

  private readonly onLine: (line: Buffer) => void;
  private readonly onEmpty: (() => void) | undefined;
  private parts: Buffer[] = [];
  private partBytes = 0;
  private destroyed = false;

  constructor(options: LineSplitterOptions) {
    this.delimiter = Buffer.isBuffer(options.delimiter) ? options.delimiter : Buffer.from(options.delimiter, "utf8");
    if (this.delimiter.length === 0) throw new RangeError("LineSplitter delimiter must not be empty");
    this.maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    this.onLine = options.onLine;
    this.onEmpty = options.onEmpty;
  }

  /** Bytes held for the message in progress (at most maxMessageSize + delimiter length - 1). */
  get buffered(): number {
    return this.partBytes;
  }

  /** Stops the splitter and drops what it holds; later pushes are refused. */
  destroy(): void {
    this.destroyed = true;
    this.parts = [];
    this.partBytes = 0;
  }

  /** Feeds one chunk; complete messages in it are delivered before this returns. */
  push(chunk: Buffer): PushOk | Failure {
    if (this.destroyed) {
      return { ok: false, code: "ERR_NETSTRING_DESTROYED", detail: "splitter stopped after an earlier error or destroy()" };
    }
    const dl = this.delimiter.length;
    let start = 0;
    if (this.partBytes > 0 && dl > 1) {
      // The delimiter may straddle the held bytes and this chunk.
      const tail = this.heldTail(dl - 1);
      const probe = Buffer.concat([tail, chunk.subarray(0, dl - 1)]);
      const at = probe.indexOf(this.delimiter);
      if (at !== -1 && at < tail.length) {
        const line = Buffer.concat(this.parts, this.partBytes).subarray(0, this.partBytes - tail.length + at);
        this.parts = [];
        this.partBytes = 0;
        if (!this.deliver(line)) return this.error ?? OK;
        start = at + dl - tail.length;
      }
    }
    while (start <= chunk.length) {
      const at = chunk.indexOf(this.delimiter, start);
      if (at === -1) break;
      let line = chunk.subarray(start, at);
      if (this.partBytes > 0) {
        this.parts.push(line);
        line = Buffer.concat(this.parts, this.partBytes + line.length);
        this.parts = [];
        this.partBytes = 0;
      }
      start = at + dl;
      if (!this.deliver(line)) return this.error ?? OK;
    }
    const rest = chunk.length - start;
    if (rest > 0) {
      // Bytes that may still be the start of a delimiter are allowed past the limit.
      if (this.partBytes + rest > this.maxMessageSize + dl - 1) {
        return this.fail("ERR_NETSTRING_TOO_LARGE", `message longer than ${this.maxMessageSize} bytes without delimiter`);
      }
      this.parts.push(chunk.subarray(start));
      this.partBytes += rest;
    }
    return OK;
  }

  // The last `k` held bytes (fewer if less is held), without joining everything held.
  private heldTail(k: number): Buffer {
    const out: Buffer[] = [];
    let need = Math.min(k, this.partBytes);
    for (let j = this.parts.length - 1; j >= 0 && need > 0; j--) {
      const p = this.parts[j] as Buffer;
      const piece = p.length <= need ? p : p.subarray(p.length - need);
      out.unshift(piece);
      need -= piece.length;
    }
    return out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out);
  }

  // Returns false when the splitter must stop (oversize or destroyed by the callback).
  private deliver(line: Buffer): boolean {
    if (line.length > this.maxMessageSize) {
      this.fail("ERR_NETSTRING_TOO_LARGE", `message of ${line.length} bytes exceeds ${this.maxMessageSize}`);
      return false;
    }
    if (line.length === 0) {
      this.stats.empty++;
      this.onEmpty?.();
    } else {
      this.stats.lines++;
      this.stats.payloadBytes += line.length;
      this.onLine(line);
    }
    return !this.destroyed;
  }

  private fail(code: ErrorCode, detail: string): Failure {
    this.stats.errors.set(code, (this.stats.errors.get(code) ?? 0) + 1);
    this.error = { ok: false, code, detail };
    this.destroy();
    return this.error;
  }
}
