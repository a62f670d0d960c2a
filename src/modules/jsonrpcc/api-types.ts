// The shape of ctx.jsonrpc (Kamailio jsonrpc_notification / jsonrpc_request, plus an awaitable
// call) and of the module's params, apart from the implementation so route-context types stay light.
import type { JsonRpcTlsParams } from "./tls-dial.js";
import type { JsonRpcParams } from "./wire.js";

export type { JsonRpcParams };

/** Params of the jsonrpcc module (src/modules/jsonrpcc/README.md "Params"); defaults and ranges are in `jsonrpccModule.params`. */
export interface JsonRpcParamsConfig {
  /** "host:port,priority host:port,priority" — required. `[v6]:port` accepted. */
  servers: string;
  /** Dial the servers over TLS (tls-dial.ts); unset = plain TCP, as Kamailio. */
  tls: JsonRpcTlsParams | undefined;
  /** Answer timeout in ms (Kamailio: fixed 500); overridable per call. */
  timeout: number;
  /** Consecutive failed connects before a server is given up; -1 forever, 0 never retry. */
  maxConnAttempts: number;
  /** Largest incoming frame in bytes. */
  maxMessageSize: number;
  /** Requests in flight before new ones fail with "failure". */
  maxPending: number;
  /** First reconnect delay in ms, doubling up to reconnectMax, with jitter. */
  reconnectBase: number;
  /** Longest reconnect delay in ms. */
  reconnectMax: number;
  /** TCP connect timeout in ms. */
  connectTimeout: number;
  /** Bytes queued in the socket to one server beyond which it is skipped as if disconnected. */
  maxWriteBuffer: number;
  /**
   * Bytes waiting this long (ms) with no drain and nothing read drop the connection
   * as stalled (ERR_JSONRPC_SERVER_STALLED); its requests go to another server (retryOnLoss) or
   * fail at once, and it reconnects.
   */
  stallTimeout: number;
  /**
   * A request in flight on a connection that drops (a server killed, restarted, stalled) goes to
   * another connected server by the usual choice, within its timeout; false: it fails at once
   * (ERR_JSONRPC_CONNECTION_LOST). Kamailio waits for the timeout.
   */
  retryOnLoss: boolean;
}

/** Options of one awaitable call. */
export interface JsonRpcCallOptions {
  /** Answer timeout in ms; default the module's `timeout`. */
  timeout?: number;
  /**
   * Whether this request goes to another server if its connection drops before the answer;
   * default the module's `retryOnLoss`. False for a method that must not run twice.
   */
  retryOnLoss?: boolean;
}

/** ctx.jsonrpc in every route kind. */
export interface JsonRpcAnyRouteApi {
  /**
   * jsonrpc_notification: sends `{"jsonrpc":"2.0","method":…,"params":…}` to one server.
   * A string `params` is parsed leniently like json-c (single quotes work; unparsable → null).
   * @returns false when no server is connected.
   * @example ctx.jsonrpc.notification("update_user", "{'id': 1234, 'name': 'Petros'}");
   */
  notification(method: string, params?: JsonRpcParams): boolean;
  /**
   * Awaitable request: in a route with a transaction it holds the transaction while waiting (so
   * retransmissions are absorbed); resolves with the `result` value (null included). Rejects with
   * JsonRpcError: ERR_JSONRPC_TIMEOUT, ERR_JSONRPC_NO_SERVER / ERR_JSONRPC_MAX_PENDING /
   * ERR_JSONRPC_CONNECTION_LOST, or ERR_JSONRPC_REMOTE with the server's `error` member as `remote`.
   * @example const route = await ctx.jsonrpc.call("route", { ruri: ctx.pv("$ru") }, { timeout: 300 });
   */
  call<T = unknown>(method: string, params?: JsonRpcParams, opts?: JsonRpcCallOptions): Promise<T>;
}

/**
 * ctx.jsonrpc in request routes: adds request(), which suspends the request's transaction as
 * Kamailio's REQUEST_ROUTE-only jsonrpc_request does (an event route has none: it throws
 * ERR_TM_NO_TRANSACTION there), so reply and event contexts do not offer it.
 */
export interface JsonRpcApi extends JsonRpcAnyRouteApi {
  /**
   * jsonrpc_request: suspends the transaction (creating it), sends the request and ends the script
   * like `exit`. On the answer, `resultVar` (`$var(x)`, `$shv(x)`, or a plain name meaning `$var`) is
   * set and `returnRoute` runs through tm.continue; on a JSON-RPC error (the `error` member),
   * "timeout" or "failure" (not sendable / connection lost) `errorRoute` runs instead.
   * @returns false (and the script goes on) only when the transaction could not be suspended.
   * @example ctx.jsonrpc.request("get_user", "{'id': 1234}", "RESPONSE", "ERROR", "$var(result)");
   */
  request(
    method: string,
    params: JsonRpcParams,
    returnRoute: string,
    errorRoute: string,
    resultVar: string,
    opts?: JsonRpcCallOptions,
  ): boolean;
}
