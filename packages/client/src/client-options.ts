// Options and events of EvapiClient, kept apart so the class file holds behaviour only.
// Defaults follow docs/evapi.md (netstring framing, maxMessageSize 65536).
import type { ClientLogger } from "./logger.js";
import type { ClientError } from "./client-error.js";
import type { Framing } from "./framing.js";
import type { ReconnectOptions } from "./backoff.js";
import type { DurableOptions, LostRange, SubscribedInfo } from "./durable-session.js";
import type { ConnectionOptions } from "node:tls";
import type { AuthenticatedInfo } from "./auth-handshake.js";

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
  readonly logger?: ClientLogger;
  /**
   * Opt in to evsip's durable delivery as this consumer: a handshake first on every connection,
   * events unwrapped and deduplicated by id, acknowledged once handled (see `consume()`), resumed
   * after a reconnect from the last id saved in `store`. Not for Kamailio, which has no such mode.
   */
  readonly durable?: DurableOptions;
  /**
   * evsip only: the events this client wants, as exact names (`"call.start"`) and prefix patterns
   * (`"dialog:*"`, at least 2 characters before the `*`). Sent first on every connection; evsip then
   * sends this client only the named events one of them selects. Without it, every event arrives
   * (as with Kamailio). A refused set is an `error` (ERR_CLIENT_REFUSED) with evsip's code.
   */
  readonly events?: readonly string[];
  /**
   * evsip only: this client watches and never answers (a monitor, `evsip tap`). It still receives
   * the events it selects, but async relays and request()s do not count it as a client that could
   * answer, so with only listeners connected they fail fast instead of waiting for a timeout.
   */
  readonly listenOnly?: boolean;
  /**
   * evsip's auth: the shared secret sent as the first message on every connection, before the
   * durable handshake and anything the application sends. `connected` and `connect()` then wait
   * for evsip's answer; a wrong token ends the client (ERR_CLIENT_REFUSED), no reconnect.
   */
  readonly token?: string;
  /** With `token`: the tag the connection asks for (the token must allow it). */
  readonly tag?: string;
  /**
   * Connect over TLS: `true` for Node's defaults (the host name checked against the system CAs), or
   * node:tls options (`ca`, `cert`/`key` for a client certificate, `servername`).
   */
  readonly tls?: boolean | ConnectionOptions;
}

/** Events of EvapiClient, as listener argument tuples. */
export interface EvapiClientEvents {
  connected: [info: { host: string; port: number; localPort: number }];
  disconnected: [info: { reason: ClientError | undefined; willReconnect: boolean }];
  reconnecting: [info: { attempt: number; delay: number; reason: ClientError | undefined }];
  /** The client is finished: close() was called or reconnecting gave up. */
  close: [];
  message: [text: string];
  /** With `token`: evsip accepted it on this connection (before `connected`). */
  authenticated: [info: AuthenticatedInfo];
  /** Durable mode: evsip accepted the handshake on this connection. */
  subscribed: [info: SubscribedInfo];
  /** Durable mode: ids evsip can no longer deliver (also an ERR_CLIENT_EVENTS_LOST `error`). */
  lost: [range: LostRange];
  event: [value: unknown];
  /** evsip accepted the `events` subscription on this connection. */
  subscribedEvents: [names: readonly string[]];
  parseError: [error: ClientError, text: string];
  /**
   * Coded faults (ERR_NETSTRING_*, ERR_CLIENT_*), including exceptions thrown by other listeners
   * (ERR_CLIENT_HANDLER_THREW). Emitted only when listened to; otherwise logged.
   */
  error: [error: ClientError];
}
