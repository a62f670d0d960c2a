// UDP listeners on real loopback sockets: delivery with the right Source, garbage dropped and
// counted while the next datagram still arrives, keep-alives ignored, sending from the listener, IPv6,
// and the kernel's drops at a full listener counted.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createSocket, type Socket } from "node:dgram";
import { readFileSync } from "node:fs";
import { sipRequest } from "../support/sip-samples.js";
import { hasIpv6Loopback, startLayer, startThrowingLayer, waitEvent } from "../support/transport-harness.js";
import type { Destination } from "../../src/transport/types.js";
import { waitFor } from "../support/wait-for.js";

async function peer(type: "udp4" | "udp6" = "udp4", host = "127.0.0.1"): Promise<Socket> {
  const s = createSocket(type);
  s.bind(0, host);
  await waitEvent(s, "listening");
  return s;
}

test("UDP: a datagram reaches onMessage with its Source", async (t) => {
  const h = await startLayer(["udp:127.0.0.1:0"]);
  const p = await peer();
  t.after(async () => {
    p.close();
    await h.layer.stop();
  });
  const l = h.layer.listeners()[0];
  assert.ok(l !== undefined && l.port > 0 && l.family === 4 && l.proto === "udp");
  p.send(sipRequest(), l.port, "127.0.0.1");
  const { msg, src } = await h.messages.next();
  assert.equal(msg.method, "OPTIONS");
  assert.deepEqual(src, {
    proto: "udp",
    remoteAddr: "127.0.0.1",
    remotePort: p.address().port,
    localAddr: "127.0.0.1",
    localPort: l.port,
    connId: 0,
  });
  assert.equal(h.layer.stats.udpRx, 1);
});

test("UDP: garbage is dropped and counted, the next good datagram is delivered", async (t) => {
  const h = await startLayer(["udp:127.0.0.1:0"]);
  const p = await peer();
  t.after(async () => {
    p.close();
    await h.layer.stop();
  });
  const port = h.layer.listeners()[0]?.port ?? 0;
  p.send(Buffer.from("\x00\x01garbage\r\n\r\n"), port, "127.0.0.1");
  const e = await h.errors.next();
  assert.equal(e.code, "ERR_SIP_NUL_BYTE");
  assert.equal(e.src.proto, "udp");
  p.send(Buffer.from("\r\n\r\n"), port, "127.0.0.1"); // keep-alive: neither message nor error
  p.send(sipRequest({ callId: "good" }), port, "127.0.0.1");
  const { msg } = await h.messages.next();
  assert.equal(msg.callId, "good");
  assert.equal(h.layer.stats.parseErrors.get("ERR_SIP_NUL_BYTE"), 1);
  assert.equal(h.layer.stats.keepAlives, 1);
  assert.equal(h.errors.size, 0);
  assert.ok(
    h.lines.some((l) => l.code === "ERR_SIP_NUL_BYTE"),
    "error logged with its code",
  );
});

test("UDP: send() leaves from the listener socket", async (t) => {
  const h = await startLayer(["udp:127.0.0.1:0"]);
  const p = await peer();
  t.after(async () => {
    p.close();
    await h.layer.stop();
  });
  const ok = h.layer.send(sipRequest({ callId: "out" }), { proto: "udp", addr: "127.0.0.1", port: p.address().port });
  assert.equal(ok, true);
  const [buf, rinfo] = (await waitEvent(p, "message")) as [Buffer, { port: number }];
  assert.match(buf.toString(), /Call-ID: out/);
  assert.equal(rinfo.port, h.layer.listeners()[0]?.port);
  assert.equal(h.layer.stats.tx, 1);
});

test("UDP: a listener named by host name binds, and a send to a name still resolves (IP literals skip the lookup)", async (t) => {
  const h = await startLayer(["udp:localhost:0"]);
  const p = await peer();
  t.after(async () => {
    p.close();
    await h.layer.stop();
  });
  const l = h.layer.listeners()[0];
  assert.ok(l !== undefined && l.port > 0);
  for (const addr of ["localhost", "127.0.0.1"]) {
    assert.equal(h.layer.send(sipRequest({ callId: addr }), { proto: "udp", addr, port: p.address().port }), true);
    const [buf] = (await waitEvent(p, "message")) as [Buffer];
    assert.match(buf.toString(), new RegExp(`Call-ID: ${addr.replace(/\./g, "\\.")}`));
  }
});

test("UDP: no listener of the destination family fails and counts", async (t) => {
  const h = await startLayer(["udp:127.0.0.1:0"]);
  t.after(() => h.layer.stop());
  assert.equal(h.layer.send(Buffer.from("x"), { proto: "udp", addr: "::1", port: 5060 }), false);
  assert.equal(h.layer.stats.sendFailures, 1);
});

test("UDP over IPv6 loopback", async (t) => {
  if (!(await hasIpv6Loopback())) {
    t.skip("IPv6 loopback (::1) unavailable on this machine");
    return;
  }
  const h = await startLayer(["udp:[::1]:0"]);
  const p = await peer("udp6", "::1");
  t.after(async () => {
    p.close();
    await h.layer.stop();
  });
  const l = h.layer.listeners()[0];
  assert.equal(l?.family, 6);
  p.send(sipRequest({ via: "SIP/2.0/UDP [::1]:5099;branch=z9hG4bK-6" }), l?.port ?? 0, "::1");
  const { src } = await h.messages.next();
  assert.equal(src.remoteAddr, "::1");
  assert.equal(src.localAddr, "::1");
  h.layer.send(Buffer.from("pong"), { proto: "udp", addr: src.remoteAddr, port: src.remotePort });
  const [buf] = (await waitEvent(p, "message")) as [Buffer];
  assert.equal(buf.toString(), "pong");
});

test("an onMessage that throws is logged and the layer carries on", async (t) => {
  const { layer, seen, lines } = await startThrowingLayer("udp:127.0.0.1:0");
  const p = await peer();
  t.after(async () => {
    p.close();
    await layer.stop();
  });
  const port = layer.listeners()[0]?.port ?? 0;
  p.send(sipRequest({ callId: "boom" }), port, "127.0.0.1");
  assert.equal(await seen.next(), "boom");
  p.send(sipRequest({ callId: "after" }), port, "127.0.0.1");
  assert.equal(await seen.next(), "after");
  assert.ok(
    lines.some((l) => l.code === "ERR_TRANSPORT_INTERNAL" && l.proto === "udp" && /handler bug/.test(JSON.stringify(l.err))),
    "logged with the error and its stack",
  );
  assert.equal(layer.stats.internalErrors, 1);
});

test("UDP: a receive buffer the kernel capped below udp.recvBufferSize is logged at start with its code and the fix", async (t) => {
  const rmemMax = Number(readFileSync("/proc/sys/net/core/rmem_max", "utf8"));
  const asked = 128 * 1024 * 1024;
  if (!(rmemMax < asked / 2)) return t.skip(`net.core.rmem_max is ${rmemMax}: nothing caps ${asked} bytes here`);
  const h = await startLayer(["udp:127.0.0.1:0"], { udpRecvBufferSize: asked });
  t.after(() => h.layer.stop());
  const line = h.lines.find((l) => l.code === "ERR_TRANSPORT_RECV_BUFFER_CAPPED");
  assert.ok(line !== undefined, "logged with its code");
  assert.equal(line.level, 40, "at warn");
  assert.equal(line.asked, asked);
  assert.equal(line.got, h.layer.stats.udpRecvBufferBytes);
  assert.ok(h.layer.stats.udpRecvBufferBytes <= 2 * rmemMax, "the kernel's cap, as read back");
  assert.equal(line.fix, `sysctl -w net.core.rmem_max=${asked}`);
});

test("UDP: a receive buffer the kernel granted is not warned about, and is what the stat reports", async (t) => {
  const asked = 64 * 1024; // under any rmem_max Linux ships with
  const h = await startLayer(["udp:127.0.0.1:0"], { udpRecvBufferSize: asked });
  t.after(() => h.layer.stop());
  assert.ok(h.layer.stats.udpRecvBufferBytes >= asked, `got ${h.layer.stats.udpRecvBufferBytes}`);
  assert.equal(h.lines.filter((l) => l.code === "ERR_TRANSPORT_RECV_BUFFER_CAPPED").length, 0);
});

test("UDP: on Linux, a buffer granted only in part (asked between rmem_max and twice it) is warned about too", async (t) => {
  if (process.platform !== "linux") return t.skip("Linux reports SO_RCVBUF doubled; elsewhere the plain comparison applies");
  const rmemMax = Number(readFileSync("/proc/sys/net/core/rmem_max", "utf8"));
  const asked = Math.floor(rmemMax * 1.5); // granted rmem_max, read back as 2 × rmem_max > asked
  const h = await startLayer(["udp:127.0.0.1:0"], { udpRecvBufferSize: asked });
  t.after(() => h.layer.stop());
  assert.equal(h.layer.stats.udpRecvBufferBytes, 2 * rmemMax);
  assert.equal(h.lines.filter((l) => l.code === "ERR_TRANSPORT_RECV_BUFFER_CAPPED").length, 1);
});

test("UDP: a send the kernel refuses is counted and reported with its destination", async (t) => {
  let reported: (dest: Destination) => void = () => undefined;
  const failed = new Promise<Destination>((resolve) => (reported = resolve));
  const h = await startLayer(["udp:127.0.0.1:0"], { onSendError: (_code, _detail, dest) => reported(dest) });
  t.after(() => h.layer.stop());
  // Past the largest UDP payload: the kernel answers EMSGSIZE, which dgram reports after send() returned.
  assert.equal(h.layer.send(Buffer.alloc(70_000), { proto: "udp", addr: "127.0.0.1", port: 5999 }), true);
  assert.deepEqual(await failed, { proto: "udp", addr: "127.0.0.1", port: 5999 });
  assert.equal(h.layer.stats.sendFailures, 1);
  const line = h.lines.find((l) => l.code === "ERR_TRANSPORT_SEND_FAILED");
  assert.equal(line?.remote, "127.0.0.1:5999");
});

test("UDP: on Linux, datagrams the kernel drops at a full listener are counted: every one sent is read or counted", async (t) => {
  if (process.platform !== "linux") return t.skip("the kernel's per-socket drop count is read from /proc/net/udp");
  const h = await startLayer(["udp:127.0.0.1:0"], { udpRecvBufferSize: 64 * 1024 });
  const p = await peer();
  t.after(async () => {
    p.close();
    await h.layer.stop();
  });
  const port = h.layer.listeners()[0]?.port ?? 0;
  const sent = 1000;
  // All go out before the layer's next read (each send leaves on the next tick, ahead of any I/O),
  // far more than 64 KB holds: the kernel drops the rest.
  for (let i = 0; i < sent; i++) p.send("\r\n\r\n", port, "127.0.0.1");
  await waitFor(() => h.layer.stats.keepAlives + h.layer.udpKernelDrops() >= sent, 5000);
  assert.ok(h.layer.udpKernelDrops() > 0, "the kernel dropped some");
  assert.equal(h.layer.stats.keepAlives + h.layer.udpKernelDrops(), sent, "none unaccounted for");
});
