// Bounds of the TCP side on real loopback sockets: send() without connecting, separate inbound and
// outbound caps, the short idle timeout of outbound connections that never carried a message, a
// peer that never reads (closed as a slow peer), a peer that closes mid-message (counted), and the
// messages read ahead from a connection closed by a bad message or a stop, and our writes a reset
// left unsent (counted, not dropped unseen).
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect, createServer, type Server, type Socket } from "node:net";
import { procNetSockets } from "../../src/transport/proc-net.js";
import { sipRequest, sipResponse } from "../support/sip-samples.js";
import { startHandledLayer, startLayer, waitEvent } from "../support/transport-harness.js";

async function client(port: number): Promise<Socket> {
  const s = connect({ port, host: "127.0.0.1" });
  await waitEvent(s, "connect");
  return s;
}

async function peerServer(
  onSocket: (s: Socket) => void = () => undefined,
): Promise<{ server: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    onSocket(s);
  });
  server.listen(0, "127.0.0.1");
  await waitEvent(server, "listening");
  const a = server.address();
  return { server, port: typeof a === "object" && a !== null ? a.port : 0, sockets };
}

function closeServer(p: { server: Server; sockets: Socket[] }): void {
  for (const s of p.sockets) s.destroy();
  p.server.close();
}

/** Returns once no established connection is left on local `port` (read from /proc; bounded, 2 s). */
function resetTaken(port: number): void {
  const end = Date.now() + 2000;
  while (procNetSockets("tcp").some((r) => r.localPort === port && r.state === "01")) {
    if (Date.now() > end) throw new Error(`the reset did not reach our connection on ${port} within 2 s`);
  }
}

function tcpPort(h: { layer: { listeners(): readonly { proto: string; port: number }[] } }): number {
  return h.layer.listeners().find((l) => l.proto === "tcp")?.port ?? 0;
}

test("TCP: send(..., { connect: false }) uses a held connection and never opens one", async (t) => {
  const h = await startLayer(["tcp:127.0.0.1:0"]);
  const victim = await peerServer();
  const c = await client(tcpPort(h));
  t.after(async () => {
    c.destroy();
    closeServer(victim);
    await h.layer.stop();
  });
  const res = sipResponse(["SIP/2.0/TCP 127.0.0.1:5099;branch=z9hG4bK-1"]);
  assert.equal(h.layer.send(res, { proto: "tcp", addr: "127.0.0.1", port: victim.port }, { connect: false }), false);
  assert.equal(h.layer.stats.tcpOutbound, 0);
  assert.equal(h.layer.stats.tcpConnections, 1);
  assert.equal(h.layer.stats.sendErrors.get("ERR_TRANSPORT_NO_CONNECTION"), 1);
  assert.equal(h.layer.stats.sendFailures, 1);
  // the held inbound connection from that client is used
  const got = waitEvent(c, "data");
  assert.equal(h.layer.send(res, { proto: "tcp", addr: "127.0.0.1", port: c.localPort ?? 0 }, { connect: false }), true);
  const [data] = (await got) as [Buffer];
  assert.ok(data.toString("latin1").startsWith("SIP/2.0 200"));
});

test("TCP: outbound connections have their own cap and never take inbound slots", async (t) => {
  const h = await startLayer(["tcp:127.0.0.1:0"], { maxTcpConnections: 2, maxOutboundTcpConnections: 2 });
  const peers = [await peerServer(), await peerServer(), await peerServer()];
  const clients: Socket[] = [];
  t.after(async () => {
    for (const c of clients) c.destroy();
    for (const p of peers) closeServer(p);
    await h.layer.stop();
  });
  const req = sipRequest();
  for (const p of peers.slice(0, 2)) {
    const accepted = waitEvent(p.server, "connection");
    assert.equal(h.layer.send(req, { proto: "tcp", addr: "127.0.0.1", port: p.port }), true);
    await accepted;
  }
  assert.equal(h.layer.send(req, { proto: "tcp", addr: "127.0.0.1", port: peers[2]?.port ?? 0 }), false);
  assert.equal(h.layer.stats.tcpRejected, 1);
  assert.equal(h.layer.stats.sendErrors.get("ERR_TRANSPORT_NO_ROUTE"), 1);
  assert.equal(h.layer.stats.tcpOutboundConnections, 2);
  // both inbound slots are still free
  for (const id of ["in-1", "in-2"]) {
    const c = await client(tcpPort(h));
    clients.push(c);
    c.write(sipRequest({ callId: id }));
    assert.equal((await h.messages.next()).msg.callId, id);
  }
  assert.equal(h.layer.stats.tcpConnections, 4);
  assert.equal(h.layer.stats.tcpRejected, 1);
});

test("TCP: an outbound connection idles out after tcpOutboundIdleTimeout until its peer sends a message", async (t) => {
  // Bounds far above a loaded machine's stalls: the talker's message must be read before 400 ms.
  const h = await startLayer(["tcp:127.0.0.1:0"], { tcpOutboundIdleTimeout: 400, tcpIdleTimeout: 1200 });
  const silent = await peerServer();
  const talker = await peerServer((s) => s.write(sipRequest({ callId: "from-peer" })));
  t.after(async () => {
    closeServer(silent);
    closeServer(talker);
    await h.layer.stop();
  });
  assert.equal(h.layer.send(sipRequest(), { proto: "tcp", addr: "127.0.0.1", port: silent.port }), true);
  assert.equal(h.layer.send(sipRequest(), { proto: "tcp", addr: "127.0.0.1", port: talker.port }), true);
  const m = await h.messages.next();
  assert.equal(m.msg.callId, "from-peer");
  const idle = await h.withCode("ERR_TRANSPORT_IDLE_TIMEOUT", 2);
  assert.deepEqual(
    idle.map((l) => [l.outbound, l.idleMs]),
    [
      [true, 400],
      [true, 1200],
    ],
  );
  assert.equal(idle[1]?.connId, m.src.connId);
  assert.equal(h.layer.stats.idleClosed, 2);
});

test("TCP: a peer that never reads is closed once its queue would pass tcpMaxQueuedBytes", async (t) => {
  const max = 256 * 1024;
  const h = await startLayer(["tcp:127.0.0.1:0"], { tcpMaxQueuedBytes: max });
  const c = await client(tcpPort(h));
  t.after(async () => {
    c.destroy();
    await h.layer.stop();
  });
  c.pause(); // never reads
  c.write(sipRequest({ callId: "slow" }));
  const { src } = await h.messages.next();
  const chunk = Buffer.alloc(60 * 1024, 0x41);
  const dest = { proto: "tcp" as const, addr: src.remoteAddr, port: src.remotePort, connId: src.connId };
  let sent = 0;
  // each send in its own turn, as responses to separate requests would be (the kernel buffers fill first)
  while (h.layer.send(chunk, dest)) {
    sent++;
    assert.ok(sent < 20_000, "the queue never filled");
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  assert.equal(h.layer.stats.slowPeerClosed, 1);
  assert.equal(h.layer.stats.sendErrors.get("ERR_TRANSPORT_SLOW_PEER"), 1);
  assert.equal(h.layer.stats.sendFailures, 1);
  assert.equal(h.layer.send(chunk, dest), false, "the connection is gone");
  const closed = waitEvent(c, "close");
  c.resume();
  await closed;
  assert.equal(h.layer.stats.tcpConnections, 0);
});

test("TCP: a non-reading peer flooding CRLFCRLF pings is closed as a slow peer, the process unharmed", async (t) => {
  // The pong that overflows the queue closes the connection inside the framer's own loop (this
  // crashed the process with a TypeError before the framer advanced past the ping first).
  const h = await startLayer(["tcp:127.0.0.1:0"], { tcpMaxQueuedBytes: 4096 });
  const c = await client(tcpPort(h));
  t.after(async () => {
    c.destroy();
    await h.layer.stop();
  });
  c.pause(); // never reads our pongs
  c.on("error", () => undefined); // our side resets the connection while the peer still writes
  const closed = new Promise<void>((resolve) => c.once("close", () => resolve()));
  const pings = Buffer.from("\r\n\r\n".repeat(16 * 1024));
  const flood = async (): Promise<void> => {
    while (!c.destroyed && h.layer.stats.slowPeerClosed === 0) {
      if (!c.write(pings)) await new Promise<void>((resolve) => c.once("drain", resolve).once("close", resolve));
    }
  };
  await flood();
  c.resume();
  await closed;
  assert.equal(h.layer.stats.slowPeerClosed, 1);
  assert.equal(h.layer.stats.tcpConnections, 0);
});

test("TCP: a peer closing mid-message is counted in truncatedOnClose and logged at debug", async (t) => {
  const h = await startLayer(["tcp:127.0.0.1:0"]);
  t.after(() => h.layer.stop());
  const c = await client(tcpPort(h));
  const whole = sipRequest({ callId: "whole" });
  const cut = sipRequest({ callId: "cut", body: "x".repeat(100) });
  c.end(Buffer.concat([whole, cut.subarray(0, cut.length - 10)]));
  assert.equal((await h.messages.next()).msg.callId, "whole");
  const [line] = await h.withCode("ERR_TRANSPORT_TRUNCATED");
  assert.equal(line?.level, 20);
  assert.equal(line?.bytes, cut.length - 10);
  assert.equal(h.layer.stats.truncatedOnClose, 1);
  // a clean close between messages is not counted
  const c2 = await client(tcpPort(h));
  c2.end(sipRequest({ callId: "clean" }));
  assert.equal((await h.messages.next()).msg.callId, "clean");
  await waitEvent(c2, "close");
  const c3 = await client(tcpPort(h));
  c3.end(Buffer.from("OPTIONS sip:x SIP/2.0\r\n", "latin1"));
  const second = (await h.withCode("ERR_TRANSPORT_TRUNCATED", 2))[1];
  assert.equal(second?.bytes, 23, "the second count is c3's, not the clean close");
  assert.equal(h.layer.stats.truncatedOnClose, 2);
});

/** `n` requests with Call-IDs `${prefix}-0`…, to be written at once (one write, one read on loopback). */
function requests(prefix: string, n: number): Buffer[] {
  return Array.from({ length: n }, (_, i) => sipRequest({ callId: `${prefix}-${i}` }));
}

test("TCP: messages read ahead from a connection closed for a bad message are counted in tcpDiscarded", async (t) => {
  const h = await startLayer(["tcp:127.0.0.1:0"]);
  t.after(() => h.layer.stop());
  const c = await client(tcpPort(h));
  c.on("error", () => undefined);
  // More than one turn's budget before the bad message, so the ones after it wait in the inbox.
  const bad = Buffer.from("HELLO\r\nContent-Length: 0\r\n\r\n", "latin1");
  c.write(Buffer.concat([...requests("before", 40), bad, ...requests("after", 5)]));
  for (let i = 0; i < 40; i++) assert.equal((await h.messages.next()).msg.callId, `before-${i}`);
  assert.equal((await h.errors.next()).code, "ERR_SIP_BAD_START_LINE");
  await waitEvent(c, "close");
  assert.equal(h.messages.size, 0, "nothing after the bad message was handed on");
  assert.equal(h.layer.stats.tcpDiscarded, 5, "the five behind it are counted, not dropped unseen");
  assert.equal(h.layer.stats.unreadAtStop, 0);
});

test("TCP: a stop counts in unreadAtStop every message it leaves unhandled, read ahead ones included", async () => {
  const handled: string[] = [];
  let stopped: Promise<void> | undefined;
  const { layer, lines } = await startHandledLayer("tcp:127.0.0.1:0", (msg, layer) => {
    handled.push(msg.callId);
    // The first message begins the stop; the layer closes once this read has been handled.
    layer.closeIntake();
    queueMicrotask(() => {
      stopped = layer.stop();
    });
  });
  const c = await client(tcpPort({ layer }));
  c.on("error", () => undefined);
  const closed = waitEvent(c, "close");
  c.write(Buffer.concat(requests("m", 40)));
  await closed;
  await stopped;
  assert.deepEqual(handled, ["m-0"]);
  // 31 were handed to the stopping layer in the same turn, 8 still waited in the inbox at the close.
  assert.equal(layer.stats.unreadAtStop, 39, "every message read and not handled is counted");
  assert.equal(layer.stats.tcpDiscarded, 0, "a stop's are not a connection's loss");
  const line = lines.find((l) => l.msg === "SIP messages received while stopping were left unread");
  assert.equal(line?.unread, 39);
});

test("TCP: a peer that resets with our writes still queued is counted in tcpUnsentOnClose and logged", async (t) => {
  const h = await startLayer(["tcp:127.0.0.1:0"]);
  t.after(() => h.layer.stop());
  const c = await client(tcpPort(h));
  c.on("error", () => undefined);
  c.write(sipRequest({ callId: "reader-gone" }));
  const { src } = await h.messages.next();
  const dest = { proto: "tcp" as const, addr: src.remoteAddr, port: src.remotePort, connId: src.connId };
  c.resetAndDestroy(); // the peer's process is killed: its kernel answers with a reset
  // Our side's kernel has taken the reset once our connection leaves its table; Node sees it only at
  // its next poll. Waited for in this same turn, so the writes below meet a reset socket.
  resetTaken(tcpPort(h));
  for (let i = 0; i < 10; i++)
    assert.equal(h.layer.send(sipResponse([`SIP/2.0/TCP 127.0.0.1:5099;branch=z9hG4bK-${i}`]), dest), true);
  const [line] = await h.withCode("ERR_TRANSPORT_SEND_FAILED");
  assert.equal(line?.msg, "TCP connection failed with messages written to it not yet sent");
  assert.equal(typeof line?.queuedBytes, "number", "logged with the bytes Node still held");
  assert.equal(h.layer.stats.tcpUnsentOnClose, 1, "the loss is counted");
  assert.equal(h.layer.stats.sendErrors.get("ERR_TRANSPORT_SEND_FAILED"), 1);
});
