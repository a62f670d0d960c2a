// Stateless response forwarding over TCP (RFC 3261 §18.2.2) on a real Server: a UDP response whose
// second Via names a TCP address goes out only on a connection evsip already holds; a spoofed one
// naming any other address is dropped and counted, and never opens an outbound connection; one
// whose next Via names a transport evsip does not speak is dropped, counted and logged.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { connect, createServer, type Socket } from "node:net";
import { Server, serverInternals } from "../../src/server.js";
import { sipResponse } from "../support/sip-samples.js";
import { captureLogger, waitEvent, type CapturedLog } from "../support/transport-harness.js";

async function startServer(): Promise<{ server: Server; udp: number; tcp: number; log: CapturedLog }> {
  const log = captureLogger();
  const server = new Server({}, { listen: ["udp:127.0.0.1:0", "tcp:127.0.0.1:0"], logger: log.logger });
  await server.start();
  const ls = server.listeners();
  return { server, udp: ls.find((l) => l.proto === "udp")?.port ?? 0, tcp: ls.find((l) => l.proto === "tcp")?.port ?? 0, log };
}

test("forward: a spoofed UDP response naming a TCP address opens no connection", async (t) => {
  const s = await startServer();
  const victim = createServer((sock) => sock.destroy());
  victim.listen(0, "127.0.0.1");
  await waitEvent(victim, "listening");
  const vport = (victim.address() as { port: number }).port;
  const udp = createSocket("udp4");
  t.after(async () => {
    udp.close();
    victim.close();
    await s.server.stop();
  });
  const logged = s.log.withCode("ERR_TRANSPORT_NO_CONNECTION");
  const res = sipResponse([
    `SIP/2.0/UDP 127.0.0.1:${s.udp};branch=z9hG4bK-ours`,
    `SIP/2.0/TCP 127.0.0.1:${vport};branch=z9hG4bK-x`,
  ]);
  udp.send(res, s.udp, "127.0.0.1");
  await logged;
  const st = serverInternals(s.server).transport.stats;
  assert.equal(st.tcpOutbound, 0);
  assert.equal(st.tcpConnections, 0);
  assert.equal(st.sendErrors.get("ERR_TRANSPORT_NO_CONNECTION"), 1);
  assert.equal(serverInternals(s.server).engine.forwarder.stats.sendFailures, 1);
});

test("forward: a response goes out on the TCP connection the next Via names", async (t) => {
  const s = await startServer();
  const c: Socket = connect({ port: s.tcp, host: "127.0.0.1" });
  await waitEvent(c, "connect");
  const udp = createSocket("udp4");
  t.after(async () => {
    udp.close();
    c.destroy();
    await s.server.stop();
  });
  const got = waitEvent(c, "data");
  const res = sipResponse([
    `SIP/2.0/UDP 127.0.0.1:${s.udp};branch=z9hG4bK-ours`,
    `SIP/2.0/TCP 127.0.0.1:${c.localPort};branch=z9hG4bK-x`,
  ]);
  udp.send(res, s.udp, "127.0.0.1");
  const [data] = (await got) as [Buffer];
  const text = data.toString("latin1");
  assert.ok(text.startsWith("SIP/2.0 200"));
  assert.ok(!text.includes("z9hG4bK-ours"), "our Via is removed");
  assert.equal(serverInternals(s.server).transport.stats.tcpOutbound, 0);
});

test("forward: a response whose next Via names a transport evsip does not speak is dropped, counted and logged", async (t) => {
  const s = await startServer();
  const udp = createSocket("udp4");
  t.after(async () => {
    udp.close();
    await s.server.stop();
  });
  const logged = s.log.withCode("ERR_FORWARD_NO_TARGET");
  const res = sipResponse([`SIP/2.0/UDP 127.0.0.1:${s.udp};branch=z9hG4bK-ours`, "SIP/2.0/WS client.invalid;branch=z9hG4bK-x"]);
  udp.send(res, s.udp, "127.0.0.1");
  await logged;
  assert.equal(serverInternals(s.server).engine.forwarder.stats.noTarget, 1);
  assert.equal(serverInternals(s.server).transport.stats.tx, 0, "nothing was sent anywhere");
});
