// The kernel's view of a UDP socket, read from /proc/net/udp{,6}: bytes waiting in a socket that
// has not read them yet, datagrams it dropped, found by its own address and port. Linux only.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createSocket, type Socket, type SocketType } from "node:dgram";
import { existsSync } from "node:fs";
import { procNetHex, udpQueueReader } from "../../src/transport/proc-net.js";

const LINUX = { skip: !existsSync("/proc/net/udp") };

const bound = (s: Socket, host: string): Promise<number> =>
  new Promise((resolve, reject) => {
    s.once("error", reject);
    s.bind(0, host, () => resolve(s.address().port));
  });

// An IP literal answered at once: dgram's default lookup would defer the sends to the next tick.
const sender = (type: SocketType): Socket =>
  createSocket({ type, lookup: (host, _family, cb) => cb(null, host, type === "udp6" ? 6 : 4) });

/** Sends n datagrams in this turn, then polls the kernel (no yield, so rx cannot read) until `done`. */
function sendAndWatch(
  tx: Socket,
  rx: { family: 4 | 6; host: string; port: number },
  n: number,
  size: number,
  done: (q: { rxQueue: number; drops: number }) => boolean,
) {
  const payload = Buffer.alloc(size, 0x41);
  for (let i = 0; i < n; i++) tx.send(payload, rx.port, rx.host);
  const until = Date.now() + 5000;
  const read = udpQueueReader(rx.family, rx.host, rx.port);
  let q = read();
  while ((q === undefined || !done(q)) && Date.now() < until) q = read();
  return q;
}

test("procNetHex writes addresses as the kernel's tables do", () => {
  assert.equal(procNetHex("127.0.0.1"), "0100007F");
  assert.equal(procNetHex("0.0.0.0"), "00000000");
  assert.equal(procNetHex("::1"), "00000000000000000000000001000000");
  assert.equal(procNetHex("::ffff:127.0.0.1"), "0000000000000000FFFF00000100007F");
  assert.equal(procNetHex("[fe80::1]"), "000080FE000000000000000001000000");
});

test("udpQueueReader sees datagrams an IPv4 socket has not read yet", LINUX, async () => {
  const rx = createSocket("udp4");
  const tx = sender("udp4");
  try {
    const port = await bound(rx, "127.0.0.1");
    await bound(tx, "127.0.0.1");
    assert.deepEqual(udpQueueReader(4, "127.0.0.1", port)(), { rxQueue: 0, drops: 0 });
    const q = sendAndWatch(tx, { family: 4, host: "127.0.0.1", port }, 20, 500, (x) => x.rxQueue >= 20 * 500);
    assert.ok((q?.rxQueue ?? 0) >= 20 * 500, `queued ${q?.rxQueue} bytes`);
    assert.equal(udpQueueReader(4, "127.0.0.2", port)(), undefined, "another address, same port: not this socket");
  } finally {
    rx.close();
    tx.close();
  }
});

test("udpQueueReader counts what a full socket drops", LINUX, async () => {
  const rx = createSocket({ type: "udp4", recvBufferSize: 4096 });
  const tx = sender("udp4");
  try {
    const port = await bound(rx, "127.0.0.1");
    await bound(tx, "127.0.0.1");
    const q = sendAndWatch(tx, { family: 4, host: "127.0.0.1", port }, 200, 1000, (x) => x.drops > 0);
    assert.ok((q?.drops ?? 0) > 0, `drops ${q?.drops}`);
  } finally {
    rx.close();
    tx.close();
  }
});

test("udpQueueReader reads IPv6 sockets from /proc/net/udp6", { skip: !existsSync("/proc/net/udp6") }, async (t) => {
  const rx = createSocket({ type: "udp6", ipv6Only: true });
  const tx = sender("udp6");
  try {
    const port = await bound(rx, "::1").catch(() => undefined);
    if (port === undefined) return t.skip("no IPv6 loopback");
    await bound(tx, "::1");
    const q = sendAndWatch(tx, { family: 6, host: "::1", port }, 5, 500, (x) => x.rxQueue >= 5 * 500);
    assert.ok((q?.rxQueue ?? 0) >= 5 * 500, `queued ${q?.rxQueue} bytes`);
  } finally {
    rx.close();
    tx.close();
  }
});
