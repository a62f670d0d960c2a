// The metrics endpoint facing bad HTTP on real sockets: a malformed URL and an unparsable request get
// 400 (counted by code, logged rate-limited, no error-level line), and connections past
// maxConnections are closed at once and counted, and a client too slow to send its request gets 408.
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { Writable } from "node:stream";
import { pino } from "pino";
import { MetricsEndpoint } from "../../src/metrics/index.js";
import { Server, serverInternals } from "../../src/server.js";
import { ConfigError } from "../../src/errors.js";
import { httpGet, sample } from "../support/http-get.js";
import { waitEvent } from "../support/transport-harness.js";

async function start(
  maxConnections?: number,
  requestTimeout?: number,
): Promise<{ ep: MetricsEndpoint; server: Server; port: number; lines: Record<string, unknown>[] }> {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString("utf8").split("\n")) if (l !== "") lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  const logger = pino({ level: "debug" }, stream);
  const server = new Server({}, { listen: ["udp:127.0.0.1:0"], logger: pino({ level: "silent" }) });
  const ep = new MetricsEndpoint(serverInternals(server), {
    bind: { host: "127.0.0.1", port: 0 },
    logger,
    processMetrics: false,
    maxConnections,
    requestTimeout,
  });
  const { port } = await ep.start();
  return { ep, server, port, lines };
}

/** Sends raw bytes on a fresh connection; resolves with everything received until the server closes. */
async function raw(port: number, text: string): Promise<string> {
  const s = connect({ port, host: "127.0.0.1" });
  let got = "";
  s.setEncoding("latin1");
  s.on("data", (d: string) => (got += d));
  s.write(text);
  await waitEvent(s, "close");
  return got;
}

test("metrics: a malformed URL or request is a 400, counted and logged with a code", async (t) => {
  const { ep, port, lines } = await start();
  t.after(() => ep.stop());
  const a = await raw(port, "GET http://[zz/ HTTP/1.1\r\nHost: x\r\n\r\n");
  assert.match(a, /^HTTP\/1\.1 400 /);
  const b = await raw(port, "NOT HTTP AT ALL\r\n\r\n");
  assert.match(b, /^HTTP\/1\.1 400 /);
  assert.equal(ep.stats.errors.get("ERR_METRICS_BAD_REQUEST"), 2);
  assert.equal(lines.filter((l) => l.code === "ERR_METRICS_BAD_REQUEST").length, 2);
  assert.equal(lines.filter((l) => (l.level as number) >= 50).length, 0, "no error-level line");
  const m = await httpGet("127.0.0.1", port, "/metrics");
  assert.equal(m.status, 200);
  assert.equal(sample(m.body, 'evsip_metrics_http_errors_total{reason="ERR_METRICS_BAD_REQUEST"}'), 2);
});

test("metrics: connections past maxConnections are closed at once and counted", async (t) => {
  const { ep, port } = await start(2);
  const held: Socket[] = [];
  t.after(async () => {
    for (const s of held) s.destroy();
    await ep.stop();
  });
  for (let i = 0; i < 2; i++) {
    const s = connect({ port, host: "127.0.0.1" });
    held.push(s);
    await waitEvent(s, "connect");
  }
  // the two held sockets are open on the server once it answers a request on one of them
  const s0 = held[0] as Socket;
  s0.write("GET /status HTTP/1.1\r\nHost: x\r\n\r\n");
  await waitEvent(s0, "data");
  const extra = connect({ port, host: "127.0.0.1" });
  held.push(extra);
  await waitEvent(extra, "close");
  assert.equal(ep.stats.dropped, 1);
  const s1 = held[1] as Socket;
  s1.write("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  let body = "";
  s1.setEncoding("latin1");
  s1.on("data", (d: string) => (body += d));
  await waitEvent(s1, "close");
  assert.equal(sample(body, "evsip_metrics_http_dropped_total"), 1);
});

test("metrics: a requestTimeout of 0 (node:http's 'never') is refused, not taken", () => {
  const server = new Server({}, { listen: ["udp:127.0.0.1:0"], logger: pino({ level: "silent" }) });
  assert.throws(
    () =>
      new MetricsEndpoint(serverInternals(server), {
        bind: { host: "127.0.0.1", port: 0 },
        logger: pino({ level: "silent" }),
        requestTimeout: 0,
      }),
    (err: unknown) => err instanceof ConfigError && err.code === "ERR_CONFIG_INVALID",
  );
});

test("metrics: a client that does not finish its request in time gets 408, counted and logged with a code", async (t) => {
  const { ep, port, lines } = await start(undefined, 300);
  t.after(() => ep.stop());
  // Half a request line and then nothing: the slot is taken back, not held.
  const slow = await raw(port, "GET /metr");
  assert.match(slow, /^HTTP\/1\.1 408 /);
  assert.equal(ep.stats.timeouts, 1);
  assert.equal(lines.filter((l) => l.code === "ERR_METRICS_REQUEST_TIMEOUT").length, 1);
  const m = await httpGet("127.0.0.1", port, "/metrics");
  assert.equal(m.status, 200);
  assert.equal(sample(m.body, "evsip_metrics_http_timeouts_total"), 1);
});
