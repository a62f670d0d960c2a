// createJsonRpcServer: a JSON-RPC 2.0 server over netstrings, one netstring per message both ways,
// as Kamailio's jsonrpcc (and evsip's) speaks (JSONRPCC.md "Wire"). The service behind
// `jsonrpc_request` in ten lines. Bad framing closes that connection with a logged, counted code;
// a method that throws becomes a JSON-RPC error object; the process never sees an exception.
import { createServer, type Socket } from "node:net";
import type { Logger } from "pino";
import type { ErrorCode } from "../errors.js";
import { encodeNetstring, NetstringDecoder } from "../netstring/index.js";
import { dispatchJsonRpc, type JsonRpcMethods } from "./jsonrpc-dispatch.js";

/** Options of {@link createJsonRpcServer}. */
export interface JsonRpcServerOptions {
  readonly methods: JsonRpcMethods;
  /** Bind address. Default "127.0.0.1"; "::1" or "::" for IPv6. */
  readonly host?: string;
  /** Port; 0 (default) picks a free one, see `listen()`'s result. */
  readonly port?: number;
  /** Largest incoming message in bytes. Default 1 MiB (as jsonrpcc's `maxMessageSize`). */
  readonly maxMessageSize?: number;
  readonly logger?: Logger;
}

/** A running (or ready) JSON-RPC server. */
export interface JsonRpcServer {
  listen(): Promise<{ host: string; port: number }>;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
  /** The bound address once listening. */
  readonly address: { host: string; port: number } | undefined;
  readonly stats: { requests: number; responses: number; connections: number; errors: Map<ErrorCode, number> };
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
  const maxMessageSize = options.maxMessageSize ?? 1024 * 1024;
  const sockets = new Set<Socket>();
  const stats = { requests: 0, responses: 0, connections: 0, errors: new Map<ErrorCode, number>() };
  let address: { host: string; port: number } | undefined;

  const server = createServer((socket) => {
    sockets.add(socket);
    stats.connections++;
    socket.setNoDelay(true);
    const decoder = new NetstringDecoder({
      maxMessageSize,
      onFrame: (payload) => {
        stats.requests++;
        void dispatchJsonRpc(options.methods, payload.toString("utf8")).then((text) => {
          if (text === undefined || socket.destroyed || !socket.writable) return;
          stats.responses++;
          socket.write(encodeNetstring(text));
        });
      },
    });
    socket.on("data", (chunk: Buffer) => {
      const r = decoder.push(chunk);
      if (r.ok) return;
      stats.errors.set(r.code, (stats.errors.get(r.code) ?? 0) + 1);
      options.logger?.warn({ code: r.code, peer: `${socket.remoteAddress}:${socket.remotePort}` }, r.detail);
      socket.destroy();
    });
    socket.on("error", () => socket.destroy());
    socket.once("close", () => {
      sockets.delete(socket);
      decoder.destroy();
    });
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
