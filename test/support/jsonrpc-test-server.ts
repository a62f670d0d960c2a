// A real netstring JSON-RPC server for the jsonrpcc tests, scripted per request: answer, answer with
// an error, late, never, in two TCP writes, garbage, close mid-request; it can stop and restart on
// the same port. Requests and connections are counted and emitted, so tests wait on events.
import { createServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer, type TlsOptions } from "node:tls";
import { EventEmitter, once } from "node:events";
import { encodeNetstring, NetstringDecoder } from "evsip-client/netstring";

/** One received request (or notification when id is undefined). */
export interface ReceivedRequest {
  readonly id: number | undefined;
  readonly method: string;
  readonly params: unknown;
  /** The JSON text as received. */
  readonly raw: string;
}

/** What a script can do with the connection a request came on. */
export interface ScriptedReply {
  /** Sends {"jsonrpc":"2.0","id":id,"result":value}. */
  result(value: unknown): void;
  /** Sends {"jsonrpc":"2.0","id":id,"error":error}. */
  error(error: unknown): void;
  /** Writes raw bytes. */
  write(bytes: Buffer | string): void;
  /** Writes a frame as two TCP writes split at `at` (default the middle), one loop turn apart. */
  writeSplit(frame: Buffer, at?: number): void;
  /** Destroys the connection. */
  close(): void;
  readonly socket: Socket;
}

export type Script = (req: ReceivedRequest, reply: ScriptedReply) => void;

/** Answers every request with { echo: method, params }. */
export const echoScript: Script = (req, reply) => reply.result({ echo: req.method, params: req.params });

export class JsonRpcTestServer extends EventEmitter {
  script: Script = echoScript;
  readonly received: ReceivedRequest[] = [];
  connections = 0;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;
  readonly host: string;

  /** Serve over TLS with these options (a test of jsonrpcc's `tls`). */
  private readonly tls: TlsOptions | undefined;

  constructor(host = "127.0.0.1", tls?: TlsOptions) {
    super();
    this.host = host;
    this.tls = tls;
  }

  /** Starts listening (on `port`, or the previous port after a stop, or a free one). */
  async listen(port = this.port): Promise<this> {
    const server = this.tls ? createTlsServer(this.tls, (s) => this.onConnection(s)) : createServer((s) => this.onConnection(s));
    this.server = server;
    server.listen(port, this.host);
    await once(server, "listening");
    this.port = (server.address() as { port: number }).port;
    return this;
  }

  /** Closes the listener and every connection. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Stops then listens again on the same port. */
  async restart(): Promise<void> {
    await this.stop();
    await this.listen(this.port);
  }

  /** Resolves when `n` requests in total have been received. */
  async waitForRequests(n: number, signal?: AbortSignal): Promise<void> {
    while (this.received.length < n) await once(this, "request", { signal });
  }

  private onConnection(socket: Socket): void {
    this.sockets.add(socket);
    this.connections++;
    socket.setNoDelay(true);
    const decoder = new NetstringDecoder({
      maxMessageSize: 1 << 24,
      onFrame: (payload) => this.onFrame(socket, payload),
    });
    socket.on("data", (chunk: Buffer) => {
      if (!decoder.push(chunk).ok) socket.destroy();
    });
    socket.on("error", () => socket.destroy());
    socket.once("close", () => this.sockets.delete(socket));
    this.emit("connection", socket);
  }

  private onFrame(socket: Socket, payload: Buffer): void {
    const raw = payload.toString("utf8");
    const msg = JSON.parse(raw) as { id?: number; method: string; params: unknown };
    const req: ReceivedRequest = { id: msg.id, method: msg.method, params: msg.params, raw };
    this.received.push(req);
    const send = (obj: unknown) => {
      if (!socket.destroyed) socket.write(encodeNetstring(JSON.stringify(obj)));
    };
    const reply: ScriptedReply = {
      socket,
      result: (value) => send({ jsonrpc: "2.0", id: req.id, result: value }),
      error: (error) => send({ jsonrpc: "2.0", id: req.id, error }),
      write: (bytes) => {
        if (!socket.destroyed) socket.write(bytes);
      },
      writeSplit: (frame, at = frame.length >> 1) => {
        socket.write(frame.subarray(0, at), () => setImmediate(() => socket.destroyed || socket.write(frame.subarray(at))));
      },
      close: () => socket.destroy(),
    };
    if (req.id !== undefined) this.script(req, reply);
    this.emit("request", req);
  }
}

/** Starts a server with `script` (default echo). */
export async function startTestServer(script?: Script, host?: string, tls?: TlsOptions): Promise<JsonRpcTestServer> {
  const s = new JsonRpcTestServer(host, tls);
  if (script) s.script = script;
  return s.listen();
}
