// The kernel's view of a UDP socket, read from /proc/net/udp: bytes waiting in a socket that has
// not read them yet, and nothing for a port no socket holds. Linux only (skipped elsewhere).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createSocket, type Socket } from "node:dgram";
import { existsSync } from "node:fs";
import { udpSocketQueue } from "../../src/transport/proc-net.js";

const bound = (s: Socket): Promise<number> => new Promise((resolve) => s.bind(0, "127.0.0.1", () => resolve(s.address().port)));

test("udpSocketQueue sees datagrams the socket has not read yet", { skip: !existsSync("/proc/net/udp") }, async () => {
  const rx = createSocket("udp4");
  // An IP literal answered at once: dgram's default lookup would defer the sends to the next tick.
  const tx = createSocket({ type: "udp4", lookup: (host, _family, cb) => cb(null, host, 4) });
  try {
    const port = await bound(rx);
    await bound(tx);
    const before = udpSocketQueue(4, port);
    assert.deepEqual(before, { rxQueue: 0, drops: 0 });
    const payload = Buffer.alloc(500, 0x41);
    for (let i = 0; i < 20; i++) tx.send(payload, port, "127.0.0.1");
    // rx cannot read while this turn runs: poll the kernel (no yield) until all 20 are queued.
    const until = Date.now() + 5000;
    let q = udpSocketQueue(4, port);
    while ((q?.rxQueue ?? 0) < 20 * payload.length && Date.now() < until) q = udpSocketQueue(4, port);
    assert.ok((q?.rxQueue ?? 0) >= 20 * payload.length, `queued ${q?.rxQueue} bytes`);
    assert.equal(udpSocketQueue(6, port), undefined, "not an IPv6 socket");
  } finally {
    rx.close();
    tx.close();
  }
});
