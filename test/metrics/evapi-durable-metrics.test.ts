// Durable delivery in /metrics: what a consumer has not acknowledged (per consumer, events and
// bytes), the events the retention bound dropped (a counter and the ERR_EVAPI_RETENTION_FULL
// reason), with the real Server; the events come from a route run by a plain client's connection.
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { once } from "node:events";
import { pino } from "pino";
import { Server } from "../../src/server.js";
import { defineApp } from "../../src/app.js";
import { httpGet } from "../support/http-get.js";
import { freePort } from "../support/sipp.js";

test("durable consumers: pending events and bytes per consumer, retention drops counted with their code", async () => {
  let relayed!: () => void;
  const done = new Promise<void>((r) => (relayed = r));
  const evapiPort = await freePort("tcp");
  const server = new Server(
    defineApp({
      listen: ["udp:127.0.0.1:0"],
      metrics: { bindAddr: "127.0.0.1:0" },
      modules: { evapi: { bindAddr: `127.0.0.1:${evapiPort}`, durableConsumers: ["billing"], durableMaxEvents: 2 } },
      events: {
        "evapi:connection-new"(ctx) {
          for (let n = 1; n <= 3; n++) ctx.evapi.relay({ n });
          relayed();
        },
      },
    }),
    { logger: pino({ level: "silent" }) },
  );
  await server.start();
  const sock = connect(evapiPort, "127.0.0.1");
  try {
    await once(sock, "connect");
    await done;
    const text = (await httpGet("127.0.0.1", server.metricsAddress()?.port ?? 0, "/metrics")).body;
    assert.match(text, /^evsip_evapi_pending\{consumer="billing"\} 2$/m);
    assert.match(text, /^evsip_evapi_bytes_pending\{consumer="billing"\} \d+$/m);
    assert.match(text, /^evsip_evapi_consumers_connected 0$/m);
    assert.match(text, /^evsip_evapi_retention_dropped_total 1$/m);
    assert.match(text, /^evsip_evapi_errors_total\{reason="ERR_EVAPI_RETENTION_FULL"\} 1$/m);
  } finally {
    sock.destroy();
    await server.stop();
  }
});
