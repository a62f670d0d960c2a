// Framing of the event socket for the client SDK: netstrings (the default), raw with a delimiter
// (NDJSON), or raw where each TCP chunk is one message (as Kamailio's raw mode). Both directions,
// with the shared codec of src/netstring so client and server agree byte for byte.
import type { Failure } from "../errors.js";
import { encodeNetstring, LineSplitter, NetstringDecoder, type PushOk } from "../netstring/index.js";

/** How messages are framed on the socket. */
export type Framing = "netstring" | "raw";

/** The inbound side: push chunks, messages come out through the callback. */
export interface InboundFramer {
  push(chunk: Buffer): PushOk | Failure;
  readonly buffered: number;
  destroy(): void;
}

/** Options shared by the client and the JSON-RPC server. */
export interface FramingOptions {
  readonly framing: Framing;
  readonly rawDelimiter: string | undefined;
  readonly maxMessageSize: number;
}

const OK: PushOk = Object.freeze({ ok: true });

/** Builds the inbound framer for one connection. */
export function createInboundFramer(o: FramingOptions, onMessage: (payload: Buffer) => void): InboundFramer {
  if (o.framing === "netstring") {
    return new NetstringDecoder({ maxMessageSize: o.maxMessageSize, onFrame: onMessage });
  }
  if (o.rawDelimiter !== undefined && o.rawDelimiter !== "") {
    return new LineSplitter({ delimiter: o.rawDelimiter, maxMessageSize: o.maxMessageSize, onLine: onMessage });
  }
  let destroyed = false;
  return {
    buffered: 0,
    push(chunk) {
      if (destroyed) return { ok: false, code: "ERR_NETSTRING_DESTROYED", detail: "framer destroyed" };
      if (chunk.length > o.maxMessageSize) {
        destroyed = true;
        return {
          ok: false,
          code: "ERR_NETSTRING_TOO_LARGE",
          detail: `chunk of ${chunk.length} bytes exceeds ${o.maxMessageSize}`,
        };
      }
      if (chunk.length > 0) onMessage(chunk);
      return OK;
    },
    destroy() {
      destroyed = true;
    },
  };
}

/** Frames one outbound message (a string sent as is, or an object as JSON). */
export function frameOutbound(o: FramingOptions, data: string | object): Buffer {
  const text = typeof data === "string" ? data : JSON.stringify(data);
  if (o.framing === "netstring") return encodeNetstring(text);
  return Buffer.from(o.rawDelimiter === undefined ? text : text + o.rawDelimiter, "utf8");
}
