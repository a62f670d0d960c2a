// createJsonRpcServer: a JSON-RPC 2.0 server over netstrings, one netstring per message both ways,
// as Kamailio's jsonrpcc (and evsip's) speaks (docs/jsonrpcc.md "Wire"). The service behind
// `jsonrpc_request` in ten lines. Bad framing closes that connection with a logged, counted code;
// a method that throws becomes a JSON-RPC error object; the process never sees an exception; what
// one peer can make the server hold is bounded (jsonrpc-connection.ts), and so is the peer count.
import { createServer, type Socket } from "node:net";
import type { ClientLogger } from "./logger.js";
import type { JsonRpcMethods } from "./jsonrpc-dispatch.js";
import { countFault, serveConnection, type ConnectionContext, type JsonRpcServerStats } from "./jsonrpc-connection.js";

/** Options of {@link createJsonRpcServer}. */
export interface JsonRpcServerOptions {
  readonly methods: JsonRpcMethods;
  /** Bind address. Default "127.0.0.1"; "::1" or "::" for IPv6. */
  readonly host?: string;
  /** Port; 0 (default) picks a free one, see `listen()`'s result. */
  readonly port?: number;
  /** Largest incoming message in bytes. Default 1 MiB (as jsonrpcc's `maxMessageSize`). */
  readonly maxMessageSize?: number;
  /** Method calls one connection may have running at once; reading pauses at the limit. Default 64. */
  readonly maxInFlight?: number;
  /**
   * Bytes of responses a connection may have queued unsent; a response that would pass it closes
   * the connection (ERR_CLIENT_SLOW_PEER, logged, counted). Default 8 MiB.
   */
  readonly maxQueueBytes?: number;
  /** Connections at once; more are accepted and closed at once (ERR_CLIENT_MAX_CONNECTIONS). Default 256. */
  readonly maxConnections?: number;
  /** Milliseconds without traffic (and no call running) after which a connection is closed; 0 = never (default). */
  readonly idleTimeout?: number;
  readonly logger?: ClientLogger;
}

/** A running (or ready) JSON-RPC server. */
export interface JsonRpcServer {
  listen(): Promise<{ host: string; port: number }>;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
  /** The bound address once listening. */
  readonly address: { host: string; port: number } | undefined;
  readonly stats: JsonRpcServerStats;
}

/**
 * Creates a JSON-RPC 2.0 server over netstrings.
 *
 * @example
 * const server = createJsonRpcServer({
 *   port: 9999,
 *   methods: { async lookup(params) { return { route: "gw1" }; } },
 * });
 * await server.listen();
 */
export function createJsonRpcServer(options: JsonRpcServerOptions): JsonRpcServer {
  const sockets = new Set<Socket>();
  const stats: JsonRpcServerStats = {
    requests: 0,
    responses: 0,
    connections: 0,
    rejectedConnections: 0,
    slowPeers: 0,
    idleTimeouts: 0,
    socketErrors: 0,
    errors: new Map(),
  };
  const ctx: ConnectionContext = {
    methods: options.methods,
    maxMessageSize: options.maxMessageSize ?? 1024 * 1024,
    maxInFlight: Math.max(1, options.maxInFlight ?? 64),
    maxQueueBytes: options.maxQueueBytes ?? 8 * 1024 * 1024,
    idleTimeout: options.idleTimeout ?? 0,
    logger: options.logger,
    stats,
  };
  const maxConnections = options.maxConnections ?? 256;
  let address: { host: string; port: number } | undefined;

  const server = createServer((socket) => {
    if (sockets.size >= maxConnections) {
      stats.rejectedConnections++;
      countFault(ctx, socket, "ERR_CLIENT_MAX_CONNECTIONS", `${sockets.size} connections, limit ${maxConnections}`);
      socket.on("error", () => undefined);
      socket.destroy();
      return;
    }
    sockets.add(socket);
    stats.connections++;
    socket.setNoDelay(true);
    socket.once("close", () => sockets.delete(socket));
    serveConnection(socket, ctx);
  });

  return {
    get address() {
      return address;
    },
    stats,
    listen() {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
          server.off("error", reject);
          const a = server.address();
          address = typeof a === "object" && a !== null ? { host: a.address, port: a.port } : undefined;
          resolve(address ?? { host: options.host ?? "127.0.0.1", port: options.port ?? 0 });
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        if (!server.listening) {
          resolve();
          return;
        }
        server.close(() => resolve());
      });
    },
  };
}
