// Buffers as a UDP socket delivers them, for warm-ups. Node makes a datagram's Buffer on its C++
// side, with another hidden class than a Buffer made in JavaScript; code warmed on the one kind is
// deoptimised at the first Buffer of the other (src/sip/warm-up.ts). The only faithful way to get
// that kind is to receive it: the samples go through a socket of our own on the loopback address.
import { createSocket } from "node:dgram";
import { once } from "node:events";
import { within } from "../common/within.js";

/** Bounds the wait for our own datagrams: on loopback they come at once, or not at all. */
const LOOPBACK_WAIT_MS = 1000;

/**
 * `samples` sent to and received from a socket of our own on 127.0.0.1; resolves with what arrived
 * in that time, which is [] when no loopback socket can be had (the warm-up then does without).
 */
export async function receivedOverUdp(samples: readonly Buffer[]): Promise<Buffer[]> {
  const socket = createSocket("udp4");
  const got: Buffer[] = [];
  try {
    socket.on("error", () => undefined); // a loopback that cannot be bound: nothing to warm with
    socket.bind(0, "127.0.0.1");
    await once(socket, "listening");
    const { port } = socket.address();
    const all = new Promise<void>((resolve) => {
      socket.on("message", (m: Buffer) => {
        got.push(m);
        if (got.length === samples.length) resolve();
      });
    });
    for (const s of samples) socket.send(s, port, "127.0.0.1");
    await within(all, LOOPBACK_WAIT_MS);
  } catch {
    // no loopback socket: warm with Buffers made here only
  } finally {
    try {
      socket.close();
    } catch {
      // never bound: nothing to close
    }
  }
  return got;
}
