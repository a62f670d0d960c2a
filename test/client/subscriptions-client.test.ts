// evsip/client's `events` option against the real evapi module: the subscription goes first on
// every connection (a reconnect included), only the selected events arrive, evsip's acceptance is
// the `subscribedEvents` event, and a refused set is a coded `error` while the client keeps going.
import { test } from "node:test";
import assert from "node:assert/strict";
import { EvapiClient, type ClientError } from "../../src/client/index.js";
import { startEvapi } from "../support/evapi-harness.js";
import { nextEvent } from "../support/async-queue.js";

const fast = { initialDelay: 5, maxDelay: 20 };

test("client events: only selected events arrive, on the first connection and after a reconnect", async () => {
  const h = await startEvapi({});
  const client = new EvapiClient({ port: h.port, events: ["call.*"], reconnect: fast });
  try {
    const got: unknown[] = [];
    client.on("event", (e) => got.push(e));
    const ok = nextEvent(client, "subscribedEvents");
    await client.connect();
    assert.deepEqual((await ok)[0], ["call.*"]);
    const ev = h.ctx("event").evapi;
    assert.equal(ev.relay({ event: "dialog:start" }), 0);
    assert.equal(ev.relay({ event: "call.start", n: 1 }), 1);
    const first = nextEvent(client, "event");
    assert.deepEqual((await first)[0], { event: "call.start", n: 1 });
    // The router drops the connection: the client reconnects and subscribes again before anything else.
    const again = nextEvent(client, "subscribedEvents");
    ev.close(0);
    await again;
    assert.equal(ev.relay({ event: "dialog:start" }), 0);
    const second = nextEvent(client, "event");
    assert.equal(ev.relay({ event: "call.end", n: 2 }), 1);
    assert.deepEqual((await second)[0], { event: "call.end", n: 2 });
    assert.deepEqual(got, [
      { event: "call.start", n: 1 },
      { event: "call.end", n: 2 },
    ]);
  } finally {
    await client.close();
    await h.stop();
  }
});

test("client events: a refused set is ERR_CLIENT_REFUSED with evsip's code, and the connection stays", async () => {
  const h = await startEvapi({});
  const client = new EvapiClient({ port: h.port, events: ["*"], reconnect: false });
  try {
    const err = nextEvent(client, "error");
    await client.connect();
    const [e] = (await err) as [ClientError];
    assert.equal(e.code, "ERR_CLIENT_REFUSED");
    assert.match(e.message, /ERR_EVAPI_PATTERN_TOO_BROAD/);
    const ok = nextEvent(client, "subscribedEvents");
    client.subscribeEvents(["call.start"]);
    await ok;
    assert.equal(client.connected, true);
    assert.equal(h.ctx("event").evapi.relay({ event: "call.start" }), 1);
  } finally {
    await client.close();
    await h.stop();
  }
});
