// Options and events of EvapiClient, kept apart so the class file holds behaviour only.
// Defaults follow EVAPI.md (netstring framing, maxMessageSize 65536).
import type { Logger } from "pino";
import type { ClientError } from "./client-error.js";
import type { Framing } from "./framing.js";
import type { ReconnectOptions } from "./backoff.js";

/** Options of EvapiClient. */
export interface EvapiClientOptions {
  /** Server host, IPv4 or IPv6 literal or name. Default "127.0.0.1". */
  readonly host?: string;
  readonly port: number;
  /** "netstring" (default, evsip/Kamailio `netstringFormat: true`) or "raw". */
  readonly framing?: Framing;
  /** Raw mode only: message delimiter (e.g. "\n"); without it each TCP chunk is one message. */
  readonly rawDelimiter?: string;
  /** Largest incoming message in bytes. Default 65536. */
  readonly maxMessageSize?: number;
  /** Reconnect policy; `false` disables reconnecting. Default: on, 100 ms doubling to 30 s. */
  readonly reconnect?: ReconnectOptions | boolean;
  /** Milliseconds a connect attempt may take. Default 10000. */
  readonly connectTimeout?: number;
  /**
   * Unsent bytes the client may hold for a peer that does not read; a send() past it throws
   * ERR_CLIENT_SLOW_PEER (an answer() reply drops the connection instead). Default 8 MiB.
   */
  readonly maxBufferedBytes?: number;
  readonly logger?: Logger;
}

/** Events of EvapiClient, as listener argument tuples. */
export interface EvapiClientEvents {
  connected: [info: { host: string; port: number; localPort: number }];
  disconnected: [info: { reason: ClientError | undefined; willReconnect: boolean }];
  reconnecting: [info: { attempt: number; delay: number; reason: ClientError | undefined }];
  /** The client is finished: close() was called or reconnecting gave up. */
  close: [];
  message: [text: string];
  event: [value: unknown];
  parseError: [error: ClientError, text: string];
  /**
   * Coded faults (ERR_NETSTRING_*, ERR_CLIENT_*), including exceptions thrown by other listeners
   * (ERR_CLIENT_HANDLER_THREW). Emitted only when listened to; otherwise logged.
   */
  error: [error: ClientError];
}
