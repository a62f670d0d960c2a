// A plain net.Socket speaking netstrings, for tests that play the client side by hand (as Kamailio's
// jsonrpcc or evapi would): write frames or raw bytes, await decoded frames, await the close.
import { connect, type Socket } from "node:net";
import { encodeNetstring, NetstringDecoder } from "evsip-client/netstring";
import { AsyncQueue } from "./async-queue.js";

export class NetstringSocket {
  readonly socket: Socket;
  /** Frames received, as text. */
  readonly frames = new AsyncQueue<string>();
  /** Resolves when the peer closes (or the socket errors). */
  readonly closed: Promise<void>;
  decodeError: string | undefined;

  private constructor(socket: Socket) {
    this.socket = socket;
    const decoder = new NetstringDecoder({ maxMessageSize: 1 << 24, onFrame: (p) => this.frames.push(p.toString("utf8")) });
    socket.on("data", (c: Buffer) => {
      const r = decoder.push(c);
      if (!r.ok) this.decodeError = r.code;
    });
    this.closed = new Promise((resolve) => {
      socket.on("error", () => resolve());
      socket.once("close", () => resolve());
    });
  }

  static connect(port: number, host = "127.0.0.1"): Promise<NetstringSocket> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host });
      s.setNoDelay(true);
      s.once("error", reject);
      s.once("connect", () => {
        s.off("error", reject);
        resolve(new NetstringSocket(s));
      });
    });
  }

  /** Sends one netstring (object as JSON). */
  send(data: string | object): void {
    this.socket.write(encodeNetstring(typeof data === "string" ? data : JSON.stringify(data)));
  }

  /** Writes raw bytes. */
  writeRaw(bytes: string | Buffer): void {
    this.socket.write(bytes);
  }

  /** The next frame parsed as JSON. */
  async nextJson(timeoutMs?: number): Promise<unknown> {
    return JSON.parse(await this.frames.next(timeoutMs));
  }

  close(): void {
    this.socket.destroy();
  }
}
