// The metrics endpoint end to end: a Server with metrics on port 0, real SIP over UDP from a dgram
// socket, /metrics read with node:http before and after; /status JSON; 404 and 405; module stats.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createSocket, type Socket } from "node:dgram";
import { once } from "node:events";
import { pino } from "pino";
import { Server, serverInternals } from "../../src/server.js";
import { defineApp } from "../../src/app.js";
import { httpGet, sample } from "../support/http-get.js";

const OPTIONS = (port: number, n: number): Buffer =>
  Buffer.from(
    `OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKmetrics${n}\r\n` +
      `Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=m${n}\r\nTo: <sip:127.0.0.1>\r\n` +
      `Call-ID: metrics-${n}@127.0.0.1\r\nCSeq: ${n} OPTIONS\r\nContent-Length: 0\r\n\r\n`,
  );

async function startServer(): Promise<{
  server: Server;
  sipPort: number;
  get: (path: string, method?: string) => ReturnType<typeof httpGet>;
}> {
  const server = new Server(
    defineApp({
      metrics: { bindAddr: "127.0.0.1:0" },
      request(ctx) {
        if (ctx.isMethod("OPTIONS")) ctx.sl.sendReply(200, "OK");
      },
    }),
    { listen: ["udp:127.0.0.1:0"], logger: pino({ level: "silent" }) },
  );
  await server.start();
  const addr = server.metricsAddress();
  assert.ok(addr, "metricsAddress() is set after start");
  assert.notEqual(addr.port, 0);
  const sipPort = server.listeners()[0]?.port ?? 0;
  return { server, sipPort, get: (path, method) => httpGet(addr.host, addr.port, path, method) };
}

async function udpClient(): Promise<Socket> {
  const s = createSocket("udp4");
  s.bind(0, "127.0.0.1");
  await once(s, "listening");
  return s;
}

test("counters move with real SIP traffic; garbage is counted by reason", async () => {
  const { server, sipPort, get } = await startServer();
  const sock = await udpClient();
  try {
    const before = await get("/metrics");
    assert.equal(before.status, 200);
    assert.match(before.contentType, /^text\/plain/);
    assert.equal(sample(before.body, 'evsip_transport_received_total{proto="udp"}'), 0);
    assert.equal(sample(before.body, "evsip_sl_replies_total"), 0);
    assert.match(before.body, /# TYPE evsip_tm_server_transactions gauge/);
    assert.match(before.body, /# TYPE evsip_sip_errors_total counter/);
    assert.match(before.body, /process_cpu_user_seconds_total/);

    const myPort = sock.address().port;
    // garbage first: datagrams from one socket are handled in order, so once the last 200 is back
    // the parse error has been counted (no polling, no sleep)
    const garbage = Buffer.from("this is not SIP at all\r\n\r\n");
    sock.send(garbage, sipPort, "127.0.0.1");
    for (let n = 1; n <= 3; n++) {
      sock.send(OPTIONS(myPort, n), sipPort, "127.0.0.1");
      const [reply] = (await once(sock, "message", { signal: AbortSignal.timeout(5000) })) as [Buffer];
      assert.match(reply.toString(), /^SIP\/2\.0 200 OK\r\n/);
    }
    const after = await get("/metrics");
    assert.equal(sample(after.body, 'evsip_transport_received_total{proto="udp"}'), 4);
    assert.equal(sample(after.body, "evsip_core_requests_total"), 3);
    assert.equal(sample(after.body, "evsip_sl_replies_total"), 3);
    assert.equal(sample(after.body, "evsip_transport_sent_total"), 3);
    assert.equal(sample(after.body, 'evsip_sip_errors_total{reason="ERR_SIP_BAD_START_LINE"}'), 1);
    assert.ok((sample(after.body, "evsip_transport_received_bytes_total") ?? 0) > garbage.length);
  } finally {
    sock.close();
    await server.stop();
  }
});

test("/status is JSON with version, uptime, listeners, transactions and modules", async () => {
  const { server, sipPort, get } = await startServer();
  try {
    const r = await get("/status");
    assert.equal(r.status, 200);
    assert.match(r.contentType, /^application\/json/);
    const s = JSON.parse(r.body) as Record<string, unknown>;
    assert.equal(s.name, "evsip");
    assert.match(String(s.version), /^\d+\.\d+\.\d+/);
    assert.equal(typeof s.uptimeSeconds, "number");
    assert.ok(Number.isFinite(Date.parse(String(s.startedAt))));
    assert.deepEqual(s.listeners, [{ proto: "udp", host: "127.0.0.1", port: sipPort, family: 4 }]);
    assert.deepEqual(s.transactions, { server: 0, client: 0, suspended: 0, created: 0 });
    assert.deepEqual(
      s.modules,
      { sl: {}, maxfwd: {}, rr: {}, tm: {}, json: {}, jansson: {} },
      "the core modules, which keep their counters in the layer metrics",
    );
  } finally {
    await server.stop();
  }
});

test("other paths are 404, other methods 405; stop closes the port", async () => {
  const { server, get } = await startServer();
  const addr = server.metricsAddress();
  assert.ok(addr);
  try {
    assert.equal((await get("/")).status, 404);
    assert.equal((await get("/metrics/x")).status, 404);
    assert.equal((await get("/metrics", "POST")).status, 405);
    const head = await get("/metrics", "HEAD");
    assert.equal(head.status, 200);
    assert.equal(head.body, "");
    assert.equal((await get("/metrics?x=1")).status, 200);
  } finally {
    await server.stop();
  }
  assert.equal(server.metricsAddress(), undefined);
  await assert.rejects(httpGet(addr.host, addr.port, "/metrics"), /ECONNREFUSED/);
});

test("module stats are exported generically as evsip_<module>_<name>", async () => {
  const { server, get } = await startServer();
  const counts = { eventsSent: 0, errors: new Map<string, number>(), links: new Map<string, number>() };
  serverInternals(server).modules.set("fakemod", {
    api: () => ({}),
    stats: () => ({
      eventsSent: counts.eventsSent,
      clientsConnected: 2,
      errors: counts.errors,
      pending: counts.links,
      broken: Number.NaN,
    }),
  });
  serverInternals(server).modules.set("throwing", {
    api: () => ({}),
    stats: () => {
      throw new Error("boom");
    },
  });
  try {
    let m = (await get("/metrics")).body;
    assert.equal(sample(m, "evsip_fakemod_events_sent_total"), 0);
    assert.equal(sample(m, "evsip_fakemod_clients_connected"), 2);
    assert.match(m, /# TYPE evsip_fakemod_clients_connected gauge/);
    assert.doesNotMatch(m, /evsip_fakemod_errors_total\{/, "an empty Map has no series yet");
    counts.eventsSent = 7;
    counts.errors.set("ERR_EVAPI_QUEUE_FULL", 3);
    counts.links.set("127.0.0.1:9999", 4);
    m = (await get("/metrics")).body;
    assert.equal(sample(m, "evsip_fakemod_events_sent_total"), 7);
    assert.equal(sample(m, 'evsip_fakemod_errors_total{reason="ERR_EVAPI_QUEUE_FULL"}'), 3);
    assert.equal(sample(m, 'evsip_fakemod_pending{key="127.0.0.1:9999"}'), 4);
    const s = JSON.parse((await get("/status")).body) as { modules: Record<string, unknown> };
    assert.deepEqual(s.modules.fakemod, {
      eventsSent: 7,
      clientsConnected: 2,
      errors: { ERR_EVAPI_QUEUE_FULL: 3 },
      pending: { "127.0.0.1:9999": 4 },
      broken: null,
    });
    assert.deepEqual(s.modules.throwing, {});
  } finally {
    await server.stop();
  }
});

test("two servers keep separate registries", async () => {
  const a = await startServer();
  const b = await startServer();
  try {
    const sock = await udpClient();
    sock.send(OPTIONS(sock.address().port, 1), a.sipPort, "127.0.0.1");
    await once(sock, "message", { signal: AbortSignal.timeout(5000) });
    sock.close();
    assert.equal(sample((await a.get("/metrics")).body, "evsip_sl_replies_total"), 1);
    assert.equal(sample((await b.get("/metrics")).body, "evsip_sl_replies_total"), 0);
  } finally {
    await a.server.stop();
    await b.server.stop();
  }
});
