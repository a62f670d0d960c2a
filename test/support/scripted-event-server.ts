// A scripted netstring event server: the evsip/Kamailio side of the event socket, for client SDK
// tests. It can send events, garbage and oversize frames, close mid-frame, stop (so connections are
// refused) and restart on the same port, and stop reading (for backpressure). Frames the client
// sends are decoded with the real codec and queued for the test to await.
import { createServer, type Server, type Socket } from "node:net";
import { encodeNetstring, NetstringDecoder } from "../../src/netstring/index.js";
import { AsyncQueue } from "./async-queue.js";

/** A frame received from a client. */
export interface ReceivedFrame {
  text: string;
  socket: Socket;
}

export class ScriptedEventServer {
  readonly host: string;
  port = 0;
  readonly connections = new Set<Socket>();
  /** Every accepted connection, in order. */
  readonly accepted = new AsyncQueue<Socket>();
  /** Every frame received from any client, in order. */
  readonly frames = new AsyncQueue<ReceivedFrame>();
  /** Decoder failures on received data (the connection is then destroyed). */
  readonly decodeErrors: string[] = [];
  /** Accepted connections count since start. */
  acceptedCount = 0;
  /** When true, new and existing connections are not read (the client's send buffer fills up). */
  private paused = false;
  private server: Server | undefined;

  private constructor(host: string) {
    this.host = host;
  }

  /** Starts listening on `port` (0 = any free port). */
  static async start(options: { host?: string; port?: number } = {}): Promise<ScriptedEventServer> {
    const s = new ScriptedEventServer(options.host ?? "127.0.0.1");
    await s.listen(options.port ?? 0);
    return s;
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
    this.connections.add(socket);
    this.acceptedCount++;
    socket.setNoDelay(true);
    const decoder = new NetstringDecoder({
      maxMessageSize: 1 << 20,
      onFrame: (p) => this.frames.push({ text: p.toString("utf8"), socket }),
    });
    socket.on("data", (chunk: Buffer) => {
      const r = decoder.push(chunk);
      if (!r.ok) {
        this.decodeErrors.push(r.code);
        socket.destroy();
      }
    });
    socket.on("error", () => socket.destroy());
    socket.once("close", () => this.connections.delete(socket));
    if (this.paused) socket.pause();
    this.accepted.push(socket);
  }

  /** Sends one event (object as JSON, string as is) as a netstring to every client. */
  send(data: string | object): void {
    const frame = encodeNetstring(typeof data === "string" ? data : JSON.stringify(data));
    for (const s of this.connections) s.write(frame);
  }

  /** Writes raw bytes to every client. */
  sendRaw(bytes: string | Buffer): void {
    for (const s of this.connections) s.write(bytes);
  }

  /** Sends bytes that are not a netstring. */
  sendGarbage(): void {
    this.sendRaw("GET / HTTP/1.1\r\n\r\n");
  }

  /** Sends the header of a frame of `length` bytes and a little of its payload. */
  sendOversize(length: number): void {
    this.sendRaw(`${length}:` + "x".repeat(100));
  }

  /** Writes half a frame, then closes every connection. */
  closeMidFrame(): void {
    for (const s of this.connections) s.end('20:{"event":"cut');
  }

  /** Destroys every connection; the server keeps listening. */
  dropClients(): void {
    for (const s of this.connections) s.destroy();
  }

  /** Stops reading from clients (current and future) until resume(). */
  pauseReading(): void {
    this.paused = true;
    for (const s of this.connections) s.pause();
  }

  resume(): void {
    this.paused = false;
    for (const s of this.connections) s.resume();
  }

  /** Stops listening and drops every client: connects are refused until restart(). */
  async stop(): Promise<void> {
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
}
