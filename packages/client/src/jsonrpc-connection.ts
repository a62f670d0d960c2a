// One connection of createJsonRpcServer, with everything a single peer can make the server hold
// bounded: at most `maxInFlight` method calls at once (reads paused at the limit, frames already
// decoded wait in a queue no larger than one read), reads paused while responses wait for 'drain',
// a response queue capped at `maxQueueBytes` (over it: ERR_CLIENT_SLOW_PEER, closed) and an idle timeout.
import type { Socket } from "node:net";
import type { ClientLogger } from "./logger.js";
import type { ErrorCode } from "./errors.js";
import { encodeNetstring, NetstringDecoder } from "./netstring/index.js";
import { dispatchJsonRpc, type JsonRpcMethods } from "./jsonrpc-dispatch.js";

/** Counters of a JSON-RPC server, shared by its connections. */
export interface JsonRpcServerStats {
  requests: number;
  responses: number;
  /** Connections accepted and served. */
  connections: number;
  /** Connections accepted past `maxConnections` and closed at once. */
  rejectedConnections: number;
  /** Connections closed because their peer did not read responses (ERR_CLIENT_SLOW_PEER). */
  slowPeers: number;
  /** Connections closed after `idleTimeout` without traffic and nothing in flight. */
  idleTimeouts: number;
  /** Socket errors (ECONNRESET, EPIPE, …), each logged. */
  socketErrors: number;
  errors: Map<ErrorCode, number>;
}

/** The resolved limits and shared state one connection needs. */
export interface ConnectionContext {
  readonly methods: JsonRpcMethods;
  readonly maxMessageSize: number;
  readonly maxInFlight: number;
  readonly maxQueueBytes: number;
  readonly idleTimeout: number;
  readonly logger: ClientLogger | undefined;
  readonly stats: JsonRpcServerStats;
}

/** Counts a coded fault and logs it with the peer's address. */
export function countFault(ctx: ConnectionContext, socket: Socket, code: ErrorCode, detail: string): void {
  ctx.stats.errors.set(code, (ctx.stats.errors.get(code) ?? 0) + 1);
  ctx.logger?.warn({ code, peer: `${socket.remoteAddress}:${socket.remotePort}` }, detail);
}

/** Serves JSON-RPC on one accepted socket until it closes. */
export function serveConnection(socket: Socket, ctx: ConnectionContext): void {
  const pending: Buffer[] = [];
  let inFlight = 0;
  let paused = false;

  // Reads flow only while a new frame could start at once and responses are not backed up.
  const updateReading = (): void => {
    const hold = inFlight >= ctx.maxInFlight || pending.length > 0 || socket.writableNeedDrain;
    if (hold === paused || socket.destroyed) return;
    paused = hold;
    if (hold) socket.pause();
    else socket.resume();
  };

  const respond = (text: string | undefined): void => {
    inFlight--;
    if (socket.destroyed || !socket.writable) return;
    if (text !== undefined) {
      const frame = encodeNetstring(text);
      const queued = socket.writableLength;
      if (queued > 0 && queued + frame.length > ctx.maxQueueBytes) {
        ctx.stats.slowPeers++;
        countFault(ctx, socket, "ERR_CLIENT_SLOW_PEER", `peer does not read: ${queued} bytes queued, limit ${ctx.maxQueueBytes}`);
        socket.destroy();
        return;
      }
      ctx.stats.responses++;
      socket.write(frame); // one write per response: jsonrpcc expects one netstring per read
    }
    pump();
  };

  const start = (payload: Buffer): void => {
    inFlight++;
    ctx.stats.requests++;
    void dispatchJsonRpc(ctx.methods, payload.toString("utf8")).then(respond);
  };

  // Starts queued frames while there is room and the write side keeps up.
  const pump = (): void => {
    while (pending.length > 0 && inFlight < ctx.maxInFlight && !socket.writableNeedDrain) start(pending.shift() as Buffer);
    updateReading();
  };

  const decoder = new NetstringDecoder({
    maxMessageSize: ctx.maxMessageSize,
    onFrame: (payload) => {
      if (pending.length === 0 && inFlight < ctx.maxInFlight && !socket.writableNeedDrain) start(payload);
      else pending.push(Buffer.from(payload)); // a copy: a view would pin the whole read chunk
    },
  });

  socket.on("data", (chunk: Buffer) => {
    const r = decoder.push(chunk);
    if (r.ok) {
      updateReading();
      return;
    }
    countFault(ctx, socket, r.code, r.detail);
    socket.destroy();
  });
  socket.on("drain", pump);
  if (ctx.idleTimeout > 0) {
    socket.setTimeout(ctx.idleTimeout, () => {
      if (inFlight > 0 && !socket.writableNeedDrain) return; // a slow method is not an idle peer
      ctx.stats.idleTimeouts++;
      ctx.logger?.debug({ peer: `${socket.remoteAddress}:${socket.remotePort}` }, "idle connection closed");
      socket.destroy();
    });
  }
  socket.on("error", (e) => {
    ctx.stats.socketErrors++;
    ctx.logger?.warn({ err: e.message, peer: `${socket.remoteAddress}:${socket.remotePort}` }, "json-rpc socket error");
    socket.destroy();
  });
  socket.once("close", () => {
    pending.length = 0;
    decoder.destroy();
  });
}
