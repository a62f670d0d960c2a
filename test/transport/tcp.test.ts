// TCP listeners and connections on real loopback sockets: framing of coalesced and split
// messages, CRLF pong, garbage closing only its connection, maxTcpConnections, idle timeout,
// replies on the same connection, outbound connections, IPv6, a batch of messages per loop turn,
// answers to a peer that closed its side, no idle close while messages wait, the read-ahead bounds
// (per connection and over all of them), and a peer that resets while its messages wait.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { connect, createServer, type Server, type Socket } from "node:net";
import { pino, type Logger } from "pino";
import { BATCH } from "../../src/common/worker-pool.js";
import { parseMessage } from "../../src/sip/index.js";
import { parseListen } from "../../src/transport/listen-spec.js";
import { INBOX_BYTES } from "../../src/transport/tcp-connection.js";
import { INBOX_TOTAL_BYTES } from "../../src/transport/tcp-pool.js";
import { TransportLayer } from "../../src/transport/transport-layer.js";
import { sipRequest, sipResponse } from "../support/sip-samples.js";
import { freePort } from "../support/sipp.js";
import {
  captureLogger,
  hasIpv6Loopback,
  Inbox,
  startLayer,
  startThrowingLayer,
  waitEvent,
} from "../support/transport-harness.js";

async function client(port: number, host = "127.0.0.1"): Promise<Socket> {
  const s = connect({ port, host });
  await waitEvent(s, "connect");
  return s;
}

function tcpPort(h: { layer: { listeners(): readonly { proto: string; port: number }[] } }): number {
  return h.layer.listeners().find((l) => l.proto === "tcp")?.port ?? 0;
}

/** A TCP-only layer handing each message to `onMessage`, and one client connected to it; both closed after the test. */
async function busyLayer(
  t: TestContext,
  onMessage: () => void,
  extra: { logger?: Logger; tcpIdleTimeout?: number } = {},
): Promise<{ layer: TransportLayer; c: Socket }> {
  const layer = new TransportLayer(
    {
      listen: [parseListen("tcp:127.0.0.1:0")],
      logger: extra.logger ?? pino({ level: "silent" }),
      parse: parseMessage,
      ...(extra.tcpIdleTimeout !== undefined ? { tcpIdleTimeout: extra.tcpIdleTimeout } : {}),
    },
    onMessage,
    () => assert.fail("no message is malformed"),
  );
  await layer.start();
  const c = await client(tcpPort({ layer }));
  t.after(async () => {
    c.destroy();
    await layer.stop();
  });
  return { layer, c };
}

/**
 * A busy layer (above) that notes the most bytes its TCP inboxes held as each message is handed on;
 * `done` resolves with that peak once `n` messages were.
 */
async function watchedInbox(t: TestContext, n: number): Promise<{ layer: TransportLayer; c: Socket; done: Promise<number> }> {
  let handled = 0;
  let peak = 0;
  let finished!: (peak: number) => void;
  const done = new Promise<number>((resolve) => (finished = resolve));
  const { layer, c } = await busyLayer(t, () => {
    peak = Math.max(peak, layer.stats.tcpInboxBytes);
    if (++handled === n) finished(peak);
  });
  return { layer, c, done };
}

test("TCP: coalesced and split messages are framed, with one Source per connection", async (t) => {
  const h = await startLayer(["tcp:127.0.0.1:0"]);
  const c = await client(tcpPort(h));
  t.after(async () => {
    c.destroy();
    await h.layer.stop();
  });
  const m1 = sipRequest({ callId: "c1", body: "one" });
  const m2 = sipRequest({ callId: "c2" });
  const m3 = sipRequest({ callId: "c3", body: "three".repeat(50) });
  const half = Math.floor(m3.length / 2);
  c.write(Buffer.concat([m1, m2, m3.subarray(0, half)]));
  const a = await h.messages.next();
  const b = await h.messages.next();
  c.write(m3.subarray(half));
  const d = await h.messages.next();
  assert.deepEqual([a.msg.callId, b.msg.callId, d.msg.callId], ["c1", "c2", "c3"]);
  assert.deepEqual(d.msg.buf, m3);
  assert.ok(a.src.connId > 0);
  assert.equal(a.src, d.src);
  assert.equal(a.src.proto, "tcp");
  assert.equal(a.src.remotePort, c.localPort);
  assert.equal(a.src.localPort, tcpPort(h));
  assert.equal(h.layer.stats.tcpRx, 3);
  assert.equal(h.layer.stats.tcpConnections, 1);
});

test("TCP: a CRLFCRLF ping is answered with CRLF", async (t) => {
  const h = await startLayer(["tcp:127.0.0.1:0"]);
  const c = await client(tcpPort(h));
  t.after(async () => {
    c.destroy();
    await h.layer.stop();
  });
  c.write("\r\n\r\n");
  const [data] = (await waitEvent(c, "data")) as [Buffer];
  assert.equal(data.toString(), "\r\n");
});

test("TCP: garbage closes that connection only", async (t) => {
  const h = await startLayer(["tcp:127.0.0.1:0"]);
  const good = await client(tcpPort(h));
  const bad = await client(tcpPort(h));
  const bad2 = await client(tcpPort(h));
  t.after(async () => {
    good.destroy();
    await h.layer.stop();
  });
  const closed = waitEvent(bad, "close");
  bad.write("HELLO there\r\nNo-Length: 1\r\n\r\n"); // framing error: no Content-Length
  await closed;
  const e = await h.errors.next();
  assert.equal(e.code, "ERR_SIP_MISSING_HEADER");
  assert.equal(e.src.proto, "tcp");
  const closed2 = waitEvent(bad2, "close");
  bad2.write("HELLO there\r\nContent-Length: 0\r\n\r\n"); // framed, but the parser refuses it
  await closed2;
  assert.equal((await h.errors.next()).code, "ERR_SIP_BAD_START_LINE");
  good.write(sipRequest({ callId: "still-here" }));
  assert.equal((await h.messages.next()).msg.callId, "still-here");
  assert.equal(h.layer.stats.parseErrors.get("ERR_SIP_MISSING_HEADER"), 1);
  assert.equal(h.layer.stats.tcpConnections, 1);
});

test("TCP: a handler that throws costs that message only, logged with a code and counted; the connection goes on", async (t) => {
  const { layer, seen, lines } = await startThrowingLayer("tcp:127.0.0.1:0");
  const c = await client(tcpPort({ layer }));
  t.after(async () => {
    c.destroy();
    await layer.stop();
  });
  c.write(Buffer.concat([sipRequest({ callId: "boom" }), sipRequest({ callId: "still-here" })]));
  assert.equal(await seen.next(), "boom");
  assert.equal(await seen.next(), "still-here", "the next message on the same connection is handled");
  assert.ok(lines.some((l) => l.code === "ERR_TRANSPORT_INTERNAL" && l.proto === "tcp"));
  assert.equal(layer.stats.internalErrors, 1);
  assert.equal(layer.stats.tcpConnections, 1, "the connection is still open");
});

test("TCP: past maxTcpConnections a new connection is closed at once and counted", async (t) => {
  const h = await startLayer(["tcp:127.0.0.1:0"], { maxTcpConnections: 2 });
  const c1 = await client(tcpPort(h));
  const c2 = await client(tcpPort(h));
  t.after(async () => {
    c1.destroy();
    c2.destroy();
    await h.layer.stop();
  });
  c1.write(sipRequest({ callId: "1" }));
  c2.write(sipRequest({ callId: "2" }));
  await h.messages.next();
  await h.messages.next();
  const c3 = connect({ port: tcpPort(h), host: "127.0.0.1" });
  c3.on("error", () => undefined);
  const local = new Promise<number>((resolve) => c3.once("connect", () => resolve(c3.localPort ?? 0)));
  await waitEvent(c3, "close");
  assert.equal(h.layer.stats.tcpRejected, 1);
  assert.equal(h.layer.stats.tcpConnections, 2);
  // The refused peer is named (it was ":0": read after the socket was destroyed).
  const refused = h.lines.find((l) => l.code === "ERR_TRANSPORT_MAX_CONNECTIONS");
  assert.equal(refused?.remote, `127.0.0.1:${await local}`);
});

test("TCP: a connection stalled mid-header is closed on idle timeout", async (t) => {
  const h = await startLayer(["tcp:127.0.0.1:0"], { tcpIdleTimeout: 150 });
  const c = await client(tcpPort(h));
  t.after(() => h.layer.stop());
  c.write("OPTIONS sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/TCP 127.0");
  await waitEvent(c, "close");
  assert.equal(h.layer.stats.idleClosed, 1); // counted before the socket is destroyed
});

test("TCP: replyDestination is the same connection, and send() uses it", async (t) => {
  const h = await startLayer(["tcp:127.0.0.1:0"]);
  const c = await client(tcpPort(h));
  t.after(async () => {
    c.destroy();
    await h.layer.stop();
  });
  c.write(sipRequest({ via: "SIP/2.0/TCP client.example.com:5070;branch=z9hG4bK-t" }));
  const { msg, src } = await h.messages.next();
  const dest = h.layer.replyDestination(msg, src);
  assert.deepEqual(dest, { proto: "tcp", addr: "127.0.0.1", port: 5070, connId: src.connId });
  const reply = sipResponse(["SIP/2.0/TCP client.example.com:5070;branch=z9hG4bK-t"]);
  assert.equal(h.layer.send(reply, dest), true);
  const [data] = (await waitEvent(c, "data")) as [Buffer];
  assert.deepEqual(data, reply);
});

/** A started layer and a plain TCP server for its outbound connections (each accepted socket queued); both closed after the test. */
async function layerAndPeerServer(
  t: TestContext,
  specs: readonly string[],
): Promise<{ h: Awaited<ReturnType<typeof startLayer>>; accepted: Inbox<Socket>; port: number }> {
  const h = await startLayer(specs);
  const accepted = new Inbox<Socket>();
  const server: Server = createServer((s) => accepted.push(s));
  server.listen(0, "127.0.0.1");
  await waitEvent(server, "listening");
  t.after(async () => {
    await h.layer.stop();
    server.close();
  });
  return { h, accepted, port: (server.address() as { port: number }).port };
}

test("TCP: send() opens an outbound connection, reuses it, and receives on it", async (t) => {
  const { h, accepted, port } = await layerAndPeerServer(t, ["tcp:127.0.0.1:0", "udp:127.0.0.1:0"]);
  const req = sipRequest({ callId: "out-1", via: "SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK-o" });
  assert.equal(h.layer.send(req, { proto: "tcp", addr: "127.0.0.1", port }), true); // queued before connect
  assert.equal(h.layer.send(req, { proto: "tcp", addr: "127.0.0.1", port }), true);
  const s = await accepted.next();
  let got = Buffer.alloc(0);
  while (got.length < 2 * req.length) got = Buffer.concat([got, ((await waitEvent(s, "data")) as [Buffer])[0]]);
  assert.deepEqual(got, Buffer.concat([req, req]));
  assert.equal(h.layer.stats.tcpOutbound, 1);
  const res = sipResponse([`SIP/2.0/TCP 127.0.0.1;received=127.0.0.1;rport=${port}`]);
  s.write(res);
  const { msg, src } = await h.messages.next();
  assert.equal(msg.status, 200);
  assert.equal(src.remotePort, port);
  assert.ok(src.connId > 0);
  // a response whose top Via names this peer goes back over the held outbound connection
  assert.deepEqual(h.layer.responseDestination(msg), { proto: "tcp", addr: "127.0.0.1", port, connId: src.connId });
  assert.equal(accepted.size, 0);
  s.destroy();
});

test("TCP: a failed outbound connect is counted and reported", async (t) => {
  const closedPort = await freePort(); // below the ephemeral range: no connect or port-0 bind is handed it
  const failures = new Inbox<{ code: string; port: number }>();
  const h = await startLayer(["tcp:127.0.0.1:0"], {
    onSendError: (code, _detail, dest) => failures.push({ code, port: dest.port }),
  });
  t.after(() => h.layer.stop());
  assert.equal(h.layer.send(sipRequest(), { proto: "tcp", addr: "127.0.0.1", port: closedPort }), true);
  assert.deepEqual(await failures.next(), { code: "ERR_TRANSPORT_SEND_FAILED", port: closedPort });
  assert.equal(h.layer.stats.sendFailures, 1);
});

test("TCP over IPv6 loopback", async (t) => {
  if (!(await hasIpv6Loopback())) {
    t.skip("IPv6 loopback (::1) unavailable on this machine");
    return;
  }
  const h = await startLayer(["tcp:[::1]:0"]);
  const c = await client(tcpPort(h), "::1");
  t.after(async () => {
    c.destroy();
    await h.layer.stop();
  });
  assert.equal(h.layer.listeners()[0]?.family, 6);
  c.write(sipRequest());
  const { src } = await h.messages.next();
  assert.equal(src.remoteAddr, "::1");
  assert.equal(h.layer.send(Buffer.from("hi"), { proto: "tcp", addr: "::1", port: c.localPort ?? 0 }), true);
  const [data] = (await waitEvent(c, "data")) as [Buffer];
  assert.equal(data.toString(), "hi");
});

test("stop() closes listeners and open connections", async () => {
  const h = await startLayer(["tcp:127.0.0.1:0", "udp:127.0.0.1:0"]);
  const c = await client(tcpPort(h));
  c.write(sipRequest());
  await h.messages.next();
  const closed = waitEvent(c, "close");
  await h.layer.stop();
  await closed;
  assert.equal(h.layer.stats.tcpConnections, 0);
  assert.equal(h.layer.send(Buffer.from("x"), { proto: "udp", addr: "127.0.0.1", port: 9 }), false);
});

test("TCP: a read chunk of many messages is handed on a batch per loop turn, in order; a datagram sent meanwhile is read between batches", async (t) => {
  const n = 5 * BATCH;
  const order: string[] = [];
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const udp = createSocket("udp4");
  let udpPort = 0;
  const layer = new TransportLayer(
    { listen: ["tcp:127.0.0.1:0", "udp:127.0.0.1:0"].map(parseListen), logger: pino({ level: "silent" }), parse: parseMessage },
    (msg, src) => {
      order.push(`${src.proto}:${msg.callId}`);
      // Sent while the chunk is being handed on: without the per-turn budget it waits behind all of it.
      if (msg.callId === "t0") udp.send(sipRequest({ callId: "u" }), udpPort, "127.0.0.1");
      if (order.length === n + 1) finished();
    },
    () => assert.fail("no message is malformed"),
  );
  await layer.start();
  udpPort = layer.listeners().find((l) => l.proto === "udp")?.port ?? 0;
  const c = await client(tcpPort({ layer }));
  t.after(async () => {
    c.destroy();
    udp.close();
    await layer.stop();
  });
  // One write, well under a 64 KiB read: the router reads it as one chunk.
  c.write(Buffer.concat(Array.from({ length: n }, (_, i) => sipRequest({ callId: `t${i}` }))));
  await done;
  assert.deepEqual(
    order.filter((o) => o.startsWith("tcp:")),
    Array.from({ length: n }, (_, i) => `tcp:t${i}`),
  );
  const at = order.indexOf("udp:u");
  assert.ok(at > 0 && at <= 2 * BATCH, `the datagram was handed on after ${at} of the ${n} TCP messages`);
});

test("TCP: a connection is read ahead of its waiting messages up to INBOX_BYTES, then not until they are handed on", async (t) => {
  const msg = sipRequest({});
  const n = Math.ceil((1.5 * INBOX_BYTES) / msg.length); // one and a half bounds, in one write
  const { layer, c, done } = await watchedInbox(t, n);
  c.write(Buffer.concat(Array.from({ length: n }, () => msg)));
  const peak = await done;
  assert.ok(peak > INBOX_BYTES / 2, `read ahead of the messages handed on (peak ${peak} bytes)`);
  assert.ok(peak <= INBOX_BYTES + 64 * 1024, `no more than the bound and one read chunk (peak ${peak} bytes)`);
  assert.equal(layer.stats.tcpInboxBytes, 0, "nothing left counted once all were handed on");
});

test("TCP: all connections together are read ahead up to INBOX_TOTAL_BYTES, each one read chunk past it at most", async (t) => {
  // Ten connections of 5 MiB each: each alone would hold at most INBOX_BYTES plus a chunk, but ten
  // together would hold 40 MiB and more without the total's bound.
  const conns = 10;
  const perConn = 5 << 20;
  const msg = sipRequest({ method: "MESSAGE", body: "x".repeat(4000) });
  const each = Math.ceil(perConn / msg.length);
  const n = conns * each;
  assert.ok(conns * INBOX_BYTES > INBOX_TOTAL_BYTES, "the connections' own bounds alone would not hold the total");
  const { layer, c, done } = await watchedInbox(t, n);
  const clients = [c];
  for (let i = 1; i < conns; i++) clients.push(await client(tcpPort({ layer })));
  t.after(() => clients.forEach((s) => s.destroy()));
  const burst = Buffer.concat(Array.from({ length: each }, () => msg));
  for (const s of clients) s.write(burst);
  const peak = await done;
  assert.ok(peak > INBOX_TOTAL_BYTES / 2, `read ahead over all connections (peak ${peak} bytes)`);
  assert.ok(
    peak <= INBOX_TOTAL_BYTES + conns * 64 * 1024,
    `no more than the total's bound and one read chunk per connection (peak ${peak} bytes)`,
  );
  assert.equal(layer.stats.tcpInboxBytes, 0, "nothing left counted once all were handed on");
});

test("TCP: a peer that resets its connection while messages wait: what was read ahead is still handed on, and counted out", async (t) => {
  const msg = sipRequest({});
  const n = Math.ceil((1.5 * INBOX_BYTES) / msg.length);
  let handled = 0;
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const { layer, c } = await busyLayer(t, () => {
    // At the first message the router has read at least one chunk ahead: the peer resets then. Once
    // the router has seen the reset nothing more is read, and the last message empties the inbox.
    if (++handled === 1) c.resetAndDestroy();
    else if (layer.stats.tcpConnections === 0 && layer.stats.tcpInboxBytes === 0) finished();
  });
  c.on("error", () => undefined); // our own reset
  c.write(Buffer.concat(Array.from({ length: n }, () => msg)));
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the inbox did not drain: ${handled} handed on`)), 10_000);
  });
  await Promise.race([done, late]).finally(() => clearTimeout(timer));
  assert.ok(handled > 1, `messages read before the reset were handed on (${handled})`);
  assert.ok(handled < n, "not those the reset cut off");
  assert.equal(layer.stats.tcpInboxBytes, 0);
});

/**
 * A peer sends 5 × BATCH requests and its FIN at once, to a layer whose route takes `routeMs` a
 * request; resolves with the answers it got before our side ended, and the layer's stats.
 */
async function answersBeforeOurFin(t: TestContext, routeMs: number): Promise<{ answers: number; newWorkWaited: number }> {
  const via = "SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK-h";
  const layer: TransportLayer = new TransportLayer(
    { listen: [parseListen("tcp:127.0.0.1:0")], logger: pino({ level: "silent" }), parse: parseMessage },
    (msg, src) => {
      const until = performance.now() + routeMs;
      while (performance.now() < until);
      layer.send(sipResponse([via]), layer.replyDestination(msg, src));
    },
    () => assert.fail("no message is malformed"),
  );
  await layer.start();
  t.after(() => layer.stop());
  const c = connect({ port: tcpPort({ layer }), host: "127.0.0.1", allowHalfOpen: true });
  await waitEvent(c, "connect");
  let got = "";
  c.on("data", (d: Buffer) => (got += d.toString("latin1")));
  // Every request, then our FIN: the router reads both before it has handed on all the requests.
  c.end(Buffer.concat(Array.from({ length: 5 * BATCH }, (_, i) => sipRequest({ via, callId: `fin-${i}` }))));
  await waitEvent(c, "end");
  return { answers: got.split("SIP/2.0 200 OK").length - 1, newWorkWaited: layer.stats.newWorkWaited };
}

test("TCP: a peer that sends many requests and closes its side at once still gets an answer to each", async (t) => {
  assert.equal((await answersBeforeOurFin(t, 0)).answers, 5 * BATCH);
});

test("TCP: a peer that closes its side while its new requests wait behind a busy router's input still gets an answer to each", async (t) => {
  // 80 ms for them all: behind long enough for new work to be set aside.
  const { answers, newWorkWaited } = await answersBeforeOurFin(t, 0.5);
  assert.equal(answers, 5 * BATCH);
  assert.ok(newWorkWaited > 0, "some waited as new work: the end waited for them too");
});

test("TCP: new requests waiting behind the input when evsip closes their connection (a slow peer) are dropped with it, not handled", async (t) => {
  const n = 20 * BATCH;
  let handled = 0;
  let closedAt = 0;
  const layer: TransportLayer = new TransportLayer(
    { listen: [parseListen("tcp:127.0.0.1:0")], logger: pino({ level: "silent" }), parse: parseMessage, tcpMaxQueuedBytes: 1000 },
    (msg, src) => {
      const until = performance.now() + 0.5;
      while (performance.now() < until);
      handled++;
      // Once later messages wait as new work, an answer past tcpMaxQueuedBytes: evsip takes the peer
      // for one that does not read, and closes it.
      if (closedAt === 0 && layer.newWorkWaiting() > 0) {
        closedAt = handled;
        layer.send(sipRequest({ body: "x".repeat(2000) }), layer.replyDestination(msg, src));
      }
    },
    () => assert.fail("no message is malformed"),
  );
  await layer.start();
  t.after(() => layer.stop());
  const c = connect({ port: tcpPort({ layer }), host: "127.0.0.1" });
  c.on("error", () => undefined); // the close may come as a reset
  await waitEvent(c, "connect");
  c.write(Buffer.concat(Array.from({ length: n }, (_, i) => sipRequest({ callId: `sp-${i}` }))));
  await waitEvent(c, "close");
  await layer.whenNewWorkHandled();
  assert.ok(closedAt > 0, "some waited as new work when the connection was closed");
  assert.equal(handled, closedAt, "nothing handled once its connection was closed");
  assert.equal(handled + layer.stats.tcpDiscarded, n, "the rest counted as discarded, waiting ones included");
});

test("TCP: a connection whose messages wait for a busy router is not closed as idle", async (t) => {
  const n = 5 * BATCH;
  let handled = 0;
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const log = captureLogger();
  const { layer, c } = await busyLayer(
    t,
    () => {
      // A router this busy hands on 32 messages per loop turn in 128 ms: longer than the idle timeout.
      const until = performance.now() + 4;
      while (performance.now() < until);
      if (++handled === n) finished();
    },
    { logger: log.logger, tcpIdleTimeout: 100 },
  );
  const closed = waitEvent(c, "close", 10_000);
  closed.catch(() => undefined);
  c.write(Buffer.concat(Array.from({ length: n }, (_, i) => sipRequest({ callId: `t${i}` }))));
  await Promise.race([done, closed]); // closed: the router took the connection for idle
  assert.equal(handled, n);
  assert.equal(layer.stats.idleClosed, 0);
  assert.ok(layer.stats.newWorkWaited > 0, "some waited as new work, behind the input: not idle either");
});

test("TCP: once intake is closed for a stop, a connection a send opens is not read either", async (t) => {
  const { h, accepted, port } = await layerAndPeerServer(t, ["tcp:127.0.0.1:0"]);
  h.layer.closeIntake();
  const req = sipRequest({ callId: "out-stop", via: "SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK-os" });
  assert.equal(h.layer.send(req, { proto: "tcp", addr: "127.0.0.1", port }), true, "sending still works");
  const s = await accepted.next();
  let got = Buffer.alloc(0);
  while (got.length < req.length) got = Buffer.concat([got, ((await waitEvent(s, "data")) as [Buffer])[0]]);
  assert.deepEqual(got, req);
  // The pool is private; its connection's socket is what says whether it is read.
  const pool = (h.layer as unknown as { tcp: { find(a: string, p: number): { socket: Socket } | undefined } }).tcp;
  assert.equal(pool.find("127.0.0.1", port)?.socket.isPaused(), true, "paused from the start");
  s.destroy();
});
