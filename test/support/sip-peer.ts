// A scripted SIP peer on a real UDP socket (127.0.0.1, port 0) for tests: sends text messages
// and awaits the ones it receives, in order, with a timeout. Acts as UAC or UAS against tm, core
// or the whole server. Never sleeps: expect() resolves on arrival or rejects on its deadline.
import { createSocket, type Socket } from "node:dgram";
import { once } from "node:events";
import { buildResponse, parseMessage } from "../../src/sip/index.js";
import type { SipMessageLike } from "../../src/sip/types.js";

export interface Received {
  readonly msg: SipMessageLike;
  readonly from: { readonly address: string; readonly port: number };
}

export type Pred = (msg: SipMessageLike) => boolean;

/** Joins lines with CRLF and ends the header with an empty line; `body` gets a Content-Length. */
export function sipText(lines: readonly string[], body = ""): string {
  const head = lines.filter((l) => !/^content-length\s*:/i.test(l));
  head.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return `${head.join("\r\n")}\r\n\r\n${body}`;
}

/** Matches a response by status (and CSeq method when given). */
export function isResponse(status: number, method?: string): Pred {
  return (m) => !m.isRequest && m.status === status && (method === undefined || m.cseq.method === method);
}

/** Matches the final response (≥ 200) of the request with this Call-ID. */
export function isFinal(callId: string): Pred {
  return (m) => !m.isRequest && m.status >= 200 && m.callId === callId;
}

/** Matches a request by method. */
export function isRequest(method: string): Pred {
  return (m) => m.isRequest && m.method === method;
}

export class SipPeer {
  readonly socket: Socket;
  /** Every message received, in order (consumed or not). */
  readonly received: Received[] = [];
  private readonly inbox: Received[] = [];
  private waiters: { pred: Pred; resolve: (r: Received) => void }[] = [];
  private seq = 0;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on("message", (buf, rinfo) => {
      const r = parseMessage(buf);
      if (!r.ok) return;
      const rec: Received = { msg: r.msg, from: { address: rinfo.address, port: rinfo.port } };
      this.received.push(rec);
      const i = this.waiters.findIndex((w) => w.pred(rec.msg));
      if (i >= 0) {
        const w = this.waiters[i];
        this.waiters.splice(i, 1);
        w?.resolve(rec);
      } else this.inbox.push(rec);
    });
  }

  /** A peer on `host` (another loopback address, 127.0.0.2, is another source to the router). */
  static async open(host = "127.0.0.1"): Promise<SipPeer> {
    const s = createSocket("udp4");
    s.bind(0, host);
    await once(s, "listening");
    return new SipPeer(s);
  }

  /**
   * A callee that answers each request `which` accepts (every one but ACK by default) 200 with
   * `toTag`, passing the response's bytes through `edit` first (a test's own header changes).
   */
  static async answering(
    toTag: string,
    edit: (res: Buffer) => Buffer = (res) => res,
    which: Pred = (m) => m.method !== "ACK",
  ): Promise<SipPeer> {
    const peer = await SipPeer.open();
    peer.socket.on("message", (buf, rinfo) => {
      const m = parseMessage(buf);
      if (m.ok && m.msg.isRequest && which(m.msg))
        peer.socket.send(edit(buildResponse(m.msg, 200, "OK", { toTag })), rinfo.port, rinfo.address);
    });
    return peer;
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** "127.0.0.1:port" (its own address) for Via/Contact lines. */
  get hostport(): string {
    return `${this.socket.address().address}:${this.port}`;
  }

  /** A fresh branch parameter value (RFC 3261 magic cookie). */
  branch(): string {
    return `z9hG4bKpeer${this.port}x${++this.seq}`;
  }

  send(text: string | Buffer, port: number, host = "127.0.0.1"): void {
    this.socket.send(typeof text === "string" ? Buffer.from(text) : text, port, host);
  }

  /** The first received message matching `pred` not consumed yet; waits up to `timeoutMs`. */
  expect(pred: Pred, timeoutMs = 3000): Promise<Received> {
    const i = this.inbox.findIndex((r) => pred(r.msg));
    if (i >= 0) {
      const r = this.inbox[i] as Received;
      this.inbox.splice(i, 1);
      return Promise.resolve(r);
    }
    return new Promise<Received>((resolve, reject) => {
      const w = {
        pred,
        resolve: (r: Received) => {
          clearTimeout(t);
          resolve(r);
        },
      };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`SipPeer ${this.port}: nothing matching within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** How many received messages (consumed or not) match `pred`. */
  count(pred: Pred): number {
    return this.received.filter((r) => pred(r.msg)).length;
  }

  close(): void {
    this.socket.close();
  }
}
