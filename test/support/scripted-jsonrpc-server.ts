// A real netstring JSON-RPC 2.0 server for the jsonrpcc tests (JSONRPCC.md "What must be tested"):
// on command, per method or globally, it answers, answers with an error, answers late, never
// answers, answers in two TCP writes, sends garbage, closes mid-request, or writes raw bytes; it can
// stop and restart on the same port. It counts requests and lets tests await their arrival.
// Timers exist only inside this peer (late answers, the gap between split writes), never in tests.
import { createServer, type Server, type Socket } from "node:net";
import { encodeNetstring, NetstringDecoder } from "../../src/netstring/index.js";
import { AsyncQueue } from "./async-queue.js";

/** A request as received. `id` is undefined for notifications. */
export interface ReceivedRequest {
  id: unknown;
  method: string;
  params: unknown;
  /** The frame as text. */
  raw: string;
  socket: Socket;
  /** Index of the accepting connection since start (0-based). */
  connection: number;
}

/** The result of a request: a fixed value or computed from the request. Default: echo `params`. */
type ResultSpec = unknown;

/** What the server does with a request. */
export type Behaviour =
  | { kind: "answer"; result?: ResultSpec }
  | { kind: "error"; error?: { code: number; message: string; data?: unknown } }
  | { kind: "late"; delay: number; result?: ResultSpec }
  | { kind: "never" }
  | { kind: "split"; splitAt?: number; gap?: number; result?: ResultSpec }
  | { kind: "garbage"; bytes?: string }
  /** Close the connection on receipt; with `afterBytes`, first write that much of the answer frame. */
  | { kind: "close"; afterBytes?: number }
  | { kind: "raw"; write: (req: ReceivedRequest) => string | Buffer };

export class ScriptedJsonRpcServer {
  readonly host: string;
  port = 0;
  /** Every request in arrival order (notifications included). */
  readonly requests: ReceivedRequest[] = [];
  /** The same requests as an awaitable queue. */
  readonly arrivals = new AsyncQueue<ReceivedRequest>();
  readonly connections = new Set<Socket>();
  accepted = 0;
  /** Frames that were not JSON or not a request object. */
  badFrames = 0;
  private readonly behaviours = new Map<string, Behaviour>();
  private readonly waiters: { method: string | undefined; n: number; resolve(): void }[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private server: Server | undefined;

  private constructor(host: string) {
    this.host = host;
  }

  /** Starts listening (port 0 = any free port). The default behaviour is `answer` (echo params). */
  static async start(options: { host?: string; port?: number } = {}): Promise<ScriptedJsonRpcServer> {
    const s = new ScriptedJsonRpcServer(options.host ?? "127.0.0.1");
    await s.listen(options.port ?? 0);
    return s;
  }

  /** Sets the behaviour for `method`, or for every method without its own when `method` is "*". */
  behave(method: string, behaviour: Behaviour): this {
    this.behaviours.set(method, behaviour);
    return this;
  }

  /** Requests received for `method` (all when omitted). */
  count(method?: string): number {
    return method === undefined ? this.requests.length : this.requests.filter((r) => r.method === method).length;
  }

  /** Resolves once `n` requests (for `method`, or any) have arrived in total — at once if they already have. */
  waitForRequests(n: number, method?: string): Promise<void> {
    if (this.count(method) >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ method, n, resolve }));
  }

  /** Destroys every connection; the server keeps listening. */
  dropClients(): void {
    for (const s of this.connections) s.destroy();
  }

  /** Stops listening and drops clients (connects are refused), cancelling pending late answers. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const server = this.server;
    this.server = undefined;
    this.dropClients();
    if (server?.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Listens again on the same port. */
  async restart(): Promise<void> {
    if (this.server) await this.stop();
    await this.listen(this.port);
  }

  private listen(port: number): Promise<void> {
    const server = createServer((socket) => this.onConnection(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, this.host, () => {
        server.off("error", reject);
        const a = server.address();
        if (typeof a === "object" && a !== null) this.port = a.port;
        resolve();
      });
    });
  }

  private onConnection(socket: Socket): void {
    const connection = this.accepted++;
    this.connections.add(socket);
    socket.setNoDelay(true);
    const decoder = new NetstringDecoder({ maxMessageSize: 1 << 24, onFrame: (p) => this.onFrame(p.toString("utf8"), socket, connection) });
    socket.on("data", (c: Buffer) => {
      if (!decoder.push(c).ok) socket.destroy();
    });
    socket.on("error", () => socket.destroy());
    socket.once("close", () => this.connections.delete(socket));
  }

  private onFrame(raw: string, socket: Socket, connection: number): void {
    let msg: unknown;
    try {
      msg = JSON.parse(raw);
    } catch {
      this.badFrames++;
      return;
    }
    if (msg === null || typeof msg !== "object" || typeof (msg as { method?: unknown }).method !== "string") {
      this.badFrames++;
      return;
    }
    const m = msg as { id?: unknown; method: string; params?: unknown };
    const req: ReceivedRequest = { id: m.id, method: m.method, params: m.params, raw, socket, connection };
    this.requests.push(req);
    this.arrivals.push(req);
    for (const w of this.waiters.filter((x) => this.count(x.method) >= x.n)) {
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve();
    }
    this.act(req, this.behaviours.get(req.method) ?? this.behaviours.get("*") ?? { kind: "answer" });
  }

  private act(req: ReceivedRequest, b: Behaviour): void {
    const s = req.socket;
    const isNotification = req.id === undefined;
    switch (b.kind) {
      case "never":
        return;
      case "close":
        if (b.afterBytes !== undefined) s.end(this.frame(this.result(req, undefined)).subarray(0, b.afterBytes));
        else s.destroy();
        return;
      case "garbage":
        s.write(b.bytes ?? "garbage!");
        return;
      case "raw":
        s.write(b.write(req));
        return;
      case "error":
        if (!isNotification) s.write(this.frame({ jsonrpc: "2.0", error: b.error ?? { code: -32000, message: "scripted error" }, id: req.id }));
        return;
      case "answer":
        if (!isNotification) s.write(this.frame(this.result(req, b.result)));
        return;
      case "late":
        if (!isNotification) this.later(b.delay, () => s.write(this.frame(this.result(req, b.result))));
        return;
      case "split": {
        if (isNotification) return;
        const f = this.frame(this.result(req, b.result));
        const at = Math.max(1, Math.min(f.length - 1, b.splitAt ?? Math.floor(f.length / 2)));
        s.write(f.subarray(0, at));
        this.later(b.gap ?? 20, () => s.write(f.subarray(at)));
        return;
      }
    }
  }

  private result(req: ReceivedRequest, spec: ResultSpec): object {
    const result = typeof spec === "function" ? (spec as (r: ReceivedRequest) => unknown)(req) : spec === undefined ? req.params : spec;
    return { jsonrpc: "2.0", result: result === undefined ? null : result, id: req.id };
  }

  private frame(obj: object): Buffer {
    return encodeNetstring(JSON.stringify(obj));
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }
}
