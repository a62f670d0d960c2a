// Netstring encoder: `<decimal length>:<bytes>,` with no leading zeros and no newline (docs/evapi.md
// "Wire", server → client). One allocation per frame; a frame is built once and the same Buffer is
// written to every recipient (pino's "serialise constant parts once").

const COLON = 0x3a;
const COMMA = 0x2c;

/**
 * Frames one payload as a netstring. Strings are encoded as UTF-8 and the length counts bytes.
 *
 * @example
 * encodeNetstring("hello").toString(); // "5:hello,"
 */
export function encodeNetstring(payload: Buffer | string): Buffer {
  if (typeof payload === "string") {
    const size = Buffer.byteLength(payload, "utf8");
    const prefix = String(size);
    const out = Buffer.allocUnsafe(prefix.length + size + 2);
    let o = out.write(prefix, 0, "latin1");
    out[o++] = COLON;
    o += out.write(payload, o, "utf8");
    out[o] = COMMA;
    return out;
  }
  const prefix = String(payload.length);
  const out = Buffer.allocUnsafe(prefix.length + payload.length + 2);
  let o = out.write(prefix, 0, "latin1");
  out[o++] = COLON;
  o += payload.copy(out, o);
  out[o] = COMMA;
  return out;
}

/**
 * The `<len>:` header alone, for writev-style sends of a large payload without copying it:
 * write the header, the payload, then {@link NETSTRING_TRAILER}.
 */
export function netstringHeader(payloadLength: number): Buffer {
  return Buffer.from(`${payloadLength}:`, "latin1");
}

/** The trailing `,` of every netstring, shared (never write into it). */
export const NETSTRING_TRAILER: Buffer = Buffer.from(",", "latin1");

/**
 * A message framed once for many recipients: `data` (a string sent as is, or an object serialised
 * once with JSON.stringify) becomes both the netstring frame and the raw bytes, computed lazily
 * and cached on this instance. Write `frame` (netstring mode) or `raw` (raw mode) to each client.
 *
 * @example
 * const m = new SharedFrame({ event: "invite", tindex: 1 });
 * for (const s of sockets) s.write(m.frame);
 */
export class SharedFrame {
  readonly text: string;
  private cachedFrame: Buffer | undefined = undefined;
  private cachedRaw: Buffer | undefined = undefined;

  constructor(data: string | object) {
    this.text = typeof data === "string" ? data : JSON.stringify(data);
  }

  /** The netstring-framed bytes (encoded from the text in one allocation unless `raw` was built first). */
  get frame(): Buffer {
    return (this.cachedFrame ??= encodeNetstring(this.cachedRaw ?? this.text));
  }

  /** The payload bytes alone (UTF-8). */
  get raw(): Buffer {
    return (this.cachedRaw ??= Buffer.from(this.text, "utf8"));
  }

  /** Payload length in bytes. */
  get byteLength(): number {
    return this.raw.length;
  }
}
