// The evapi module's counters reach /metrics and /status through the generic module exporter,
// including connected clients by tag (evsip_evapi_connected{tag}) and closes by reason, with a real
// TCP client.
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { once } from "node:events";
import { pino } from "pino";
import { Server, serverInternals } from "../../src/server.js";
import { defineApp } from "../../src/app.js";
import type { EvapiModule } from "../../src/modules/evapi/index.js";
import { httpGet } from "../support/http-get.js";

test("connected evapi clients are exported by tag, and drop out when they leave", async () => {
  let tagged!: () => void;
  const isTagged = new Promise<void>((r) => (tagged = r));
  let closed!: () => void;
  const isClosed = new Promise<void>((r) => (closed = r));
  const server = new Server(
    defineApp({
      listen: ["udp:127.0.0.1:0"],
      metrics: { bindAddr: "127.0.0.1:0" },
      modules: { evapi: { bindAddr: "127.0.0.1:0" } },
      events: {
        "evapi:connection-new"(ctx) {
          ctx.evapi.setTag("billing");
          tagged();
        },
        "evapi:connection-closed"() {
          closed();
        },
      },
    }),
    { logger: pino({ level: "silent" }) },
  );
  await server.start();
  try {
    const port = (serverInternals(server).modules.get("evapi") as EvapiModule).address().port;
    const metricsPort = server.metricsAddress()?.port ?? 0;
    const sock = connect(port, "127.0.0.1");
    await once(sock, "connect");
    await isTagged;
    const text = (await httpGet("127.0.0.1", metricsPort, "/metrics")).body;
    assert.match(text, /^evsip_evapi_connected\{tag="billing"\} 1$/m);
    assert.match(text, /^evsip_evapi_clients_connected 1$/m);
    sock.destroy();
    await isClosed;
    const after = (await httpGet("127.0.0.1", metricsPort, "/metrics")).body;
    assert.doesNotMatch(after, /^evsip_evapi_connected\{tag="billing"\}/m);
    assert.match(after, /^evsip_evapi_clients_connected 0$/m);
    // The first close was a word ("peer"), not a code: the label is still reason, the label every
    // close gets, so a dashboard's query does not depend on what happened first since the start.
    assert.match(after, /^evsip_evapi_closes_total\{reason="peer"\} 1$/m);
  } finally {
    await server.stop();
  }
});
