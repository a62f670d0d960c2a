// One bound UDP socket. Datagrams go to the owner as they come (one datagram is one SIP message,
// RFC 3261 §18.1.1); sends report their asynchronous failure to the owner instead of throwing.
// The socket type (udp4/udp6) follows the family of the host it binds.
import { InputBacklog, type QueueProbe } from "./input-backlog.js";
import { udpQueueReader } from "./proc-net.js";
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { lookup as dnsLookup } from "node:dns";
import { isIP } from "node:net";
import type { BoundListener } from "./types.js";

/** What a UdpEndpoint tells its owner. */
export interface UdpOwner {
  udpDatagram(ep: UdpEndpoint, buf: Buffer, rinfo: RemoteInfo): void;
  udpSendFailed(ep: UdpEndpoint, err: Error, addr: string, port: number): void;
  udpError(ep: UdpEndpoint, err: Error): void;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

/**
 * dgram resolves every destination through dns.lookup, which answers even an IP literal on the next
 * tick: each send then costs a deferred call and the allocations around it. Our destinations are
 * resolved before they reach the socket, so an IP literal is handed straight back and the datagram
 * leaves in the caller's own turn; a name still goes to dns.lookup.
 */
function literalLookup(host: string, family: unknown, cb: LookupCallback): void {
  const f = isIP(host);
  if (f !== 0) cb(null, host, f);
  else dnsLookup(host, family as number, cb);
}

/** A UDP listener; also the socket responses and forwarded requests leave from. */
export class UdpEndpoint {
  readonly socket: Socket;
  bound: BoundListener | undefined;
  /** Whether this socket keeps up with what arrives (admission control sheds on it). */
  readonly backlog = new InputBacklog({ probe: () => this.kernelQueue?.() });
  /** Reads this socket's row of /proc/net/udp; set once bound (the row is keyed by the bound address). */
  private kernelQueue: QueueProbe | undefined;
  private closed = false;
  /** SO_RCVBUF as the kernel set it once bound (Linux doubles what it grants, for its bookkeeping). */
  recvBufferBytes = 0;
  /**
   * One send callback for the endpoint, not a closure per datagram: dgram's error carries the
   * destination (`address`, `port`), so nothing per send needs capturing.
   */
  private readonly sent = (err: Error | null): void => {
    if (err === null) return;
    const e = err as Error & { address?: string; port?: number };
    this.owner.udpSendFailed(this, err, e.address ?? "", e.port ?? 0);
  };

  readonly host: string;
  readonly family: 4 | 6;
  private readonly port: number;
  private readonly owner: UdpOwner;

  constructor(host: string, port: number, family: 4 | 6, owner: UdpOwner, recvBufferSize?: number) {
    this.host = host;
    this.port = port;
    this.family = family;
    this.owner = owner;
    this.socket = createSocket({
      type: family === 6 ? "udp6" : "udp4",
      ipv6Only: family === 6,
      recvBufferSize,
      lookup: literalLookup,
    });
    this.socket.on("message", (buf, rinfo) => {
      this.backlog.read(buf.length);
      owner.udpDatagram(this, buf, rinfo);
    });
  }

  /** Binds; resolves with the address the OS gave. */
  bind(): Promise<BoundListener> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.socket.once("error", onError);
      this.socket.bind({ address: this.host, port: this.port, exclusive: true }, () => {
        this.socket.off("error", onError);
        this.socket.on("error", (err) => this.owner.udpError(this, err));
        const a = this.socket.address();
        this.bound = { proto: "udp", host: a.address, port: a.port, family: this.family };
        this.kernelQueue = udpQueueReader(this.family, a.address, a.port);
        this.recvBufferBytes = this.socket.getRecvBufferSize();
        resolve(this.bound);
      });
    });
  }

  /** Hands buf to the kernel; failures arrive later through udpSendFailed. */
  send(buf: Buffer, addr: string, port: number): boolean {
    if (this.closed || this.bound === undefined) return false;
    try {
      this.socket.send(buf, port, addr, this.sent);
      return true;
    } catch (err) {
      this.owner.udpSendFailed(this, err as Error, addr, port);
      return false;
    }
  }

  /** Closes the socket; resolves when closed. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve(); // never bound
      }
    });
  }
}
