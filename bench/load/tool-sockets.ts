// The load tool's UDP sockets on 127.0.0.1: the main thread's (they receive every answer and send
// ACKs and BYEs) and the sending thread's (they send the scheduled requests). Each is connected to
// the router, so a send skips the address lookup: the tool's CPU per request counts.
import { createSocket, type Socket } from "node:dgram";
import { once } from "node:events";

/** n sockets bound to ephemeral ports and connected to 127.0.0.1:port; SO_RCVBUF `rcvbuf` when given. */
export async function connectedSockets(n: number, port: number, rcvbuf?: number): Promise<Socket[]> {
  const out: Socket[] = [];
  for (let k = 0; k < n; k++) {
    const s = createSocket({ type: "udp4", recvBufferSize: rcvbuf });
    s.bind(0, "127.0.0.1");
    await once(s, "listening");
    s.connect(port, "127.0.0.1");
    await once(s, "connect");
    s.on("error", () => undefined); // a send error (ECONNREFUSED) shows as a lost request
    out.push(s);
  }
  return out;
}

/** Closes every socket; resolves when all are closed. */
export function closeSockets(socks: readonly Socket[]): Promise<void> {
  return Promise.all(socks.map((s) => new Promise<void>((r) => s.close(() => r())))).then(() => undefined);
}
