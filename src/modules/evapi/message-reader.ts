// Turns a client's byte stream into messages, per EVAPI.md "Wire": netstring frames (the shared
// src/netstring decoder), raw mode with one message per chunk Node delivers (as Kamailio: one
// message per recv), or raw mode split on `rawDelimiter` (NDJSON).
import type { Failure } from "../../errors.js";
import { LineSplitter, NetstringDecoder, type PushOk } from "../../netstring/index.js";

/** A push reader: complete messages go to the callback given at creation. */
export interface MessageReader {
  push(chunk: Buffer): PushOk | Failure;
  destroy(): void;
  /** True when a message is partly received (a close now loses it). */
  readonly partial: boolean;
}

export interface ReaderOptions {
  readonly netstringFormat: boolean;
  readonly rawDelimiter: string | undefined;
  readonly maxMessageSize: number;
  readonly onMessage: (payload: Buffer) => void;
  readonly onEmpty: () => void;
}

const OK: PushOk = Object.freeze({ ok: true });

/** Creates the reader for a new client. */
export function createReader(o: ReaderOptions): MessageReader {
  if (o.netstringFormat) {
    const d = new NetstringDecoder({ maxMessageSize: o.maxMessageSize, onFrame: o.onMessage, onEmpty: o.onEmpty });
    return {
      push: (chunk) => d.push(chunk),
      destroy: () => d.destroy(),
      get partial() {
        return !d.idle;
      },
    };
  }
  if (o.rawDelimiter !== undefined) {
    const s = new LineSplitter({
      delimiter: o.rawDelimiter,
      maxMessageSize: o.maxMessageSize,
      onLine: o.onMessage,
      onEmpty: o.onEmpty,
    });
    return {
      push: (chunk) => s.push(chunk),
      destroy: () => s.destroy(),
      get partial() {
        return s.buffered > 0;
      },
    };
  }
  let destroyed = false;
  return {
    push(chunk) {
      if (destroyed) return { ok: false, code: "ERR_NETSTRING_DESTROYED", detail: "reader destroyed" };
      // Raw mode is one message per read, as Kamailio; a read larger than the limit is refused.
      if (chunk.length > o.maxMessageSize) {
        destroyed = true;
        return {
          ok: false,
          code: "ERR_NETSTRING_TOO_LARGE",
          detail: `read of ${chunk.length} bytes exceeds ${o.maxMessageSize}`,
        };
      }
      o.onMessage(chunk);
      return OK;
    },
    destroy() {
      destroyed = true;
    },
    partial: false,
  };
}
