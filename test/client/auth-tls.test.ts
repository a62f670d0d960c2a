// EvapiClient with evsip's auth and TLS against a real evapi module (README.md "Authentication",
// "TLS"): token + TLS + durable handshake in order on one connection; a wrong token ends the client
// with ERR_CLIENT_REFUSED and no reconnect; a client that never authenticates sees no event; a
// client certificate for verifyClient. Fixtures: test/fixtures/tls.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { EvapiClient, type ClientError } from "../../src/client/index.js";
import type { EvapiParams } from "../../src/modules/evapi/params.js";
import { withEvapi } from "../support/evapi-harness.js";
import { nextEvent } from "../support/async-queue.js";
import { CA, pem, SERVER_TLS as TLS } from "../support/tls-fixtures.js";

const TOKEN = "client-token-0123456789ab";
const OPS_TOKEN = "client-ops-token-0123456789";
const TOKENS: EvapiParams["tokens"] = [
  { token: TOKEN, name: "billing", tags: ["billing"], consumers: ["billing"] },
  { token: OPS_TOKEN, name: "ops", tags: ["ops", "ops-backup"] },
];

test("client auth+tls: token over TLS, then the durable handshake, then events; connect() resolves once authenticated", async () => {
  await withEvapi({ tls: TLS, tokens: TOKENS }, async (h) => {
    const client = new EvapiClient({
      host: "localhost",
      port: h.port,
      tls: { ca: CA },
      token: TOKEN,
      durable: { consumer: "billing" },
      reconnect: false,
    });
    const authed = nextEvent(client, "authenticated");
    const subscribed = nextEvent(client, "subscribed");
    await client.connect();
    assert.deepEqual(await authed, [{ name: "billing", tag: "billing" }]);
    await subscribed;
    const got = nextEvent(client, "event");
    assert.equal(h.ctx("event").evapi.relay({ event: "call-start" }), 1);
    assert.deepEqual(await got, [{ event: "call-start" }]);
    await client.close();
  });
});

test("client auth: the tag option asks for one of the token's tags; one it does not allow ends the client", async () => {
  await withEvapi({ tokens: TOKENS }, async (h) => {
    const client = new EvapiClient({ port: h.port, token: OPS_TOKEN, tag: "ops-backup", reconnect: false });
    const authed = nextEvent(client, "authenticated");
    await client.connect();
    assert.deepEqual(await authed, [{ name: "ops", tag: "ops-backup" }]);
    assert.equal(h.ctx("event").evapi.multicast({ to: "backup" }, "ops-backup"), 1);
    await client.close();
    const wrong = new EvapiClient({
      port: h.port,
      token: OPS_TOKEN,
      tag: "billing",
      reconnect: { initialDelay: 5, maxDelay: 10 },
    });
    wrong.on("error", () => undefined);
    await assert.rejects(
      wrong.connect(),
      (e: ClientError) => e.code === "ERR_CLIENT_REFUSED" && /ERR_EVAPI_NOT_ALLOWED/.test(e.message),
    );
    assert.equal(wrong.stats.reconnectAttempts, 0);
  });
});

test("client auth: a wrong token ends the client with ERR_CLIENT_REFUSED, no reconnect; it never saw an event", async () => {
  await withEvapi({ tokens: TOKENS }, async (h) => {
    const client = new EvapiClient({
      port: h.port,
      token: "wrong-token-0123456789",
      reconnect: { initialDelay: 5, maxDelay: 10 },
    });
    const errors: ClientError[] = [];
    client.on("error", (e) => errors.push(e));
    let events = 0;
    client.on("message", () => events++);
    await assert.rejects(
      client.connect(),
      (e: ClientError) => e.code === "ERR_CLIENT_REFUSED" && /ERR_EVAPI_AUTH_FAILED/.test(e.message),
    );
    assert.equal(client.stats.reconnectAttempts, 0);
    assert.equal(events, 0);
    assert.equal(errors[0]?.code, "ERR_CLIENT_REFUSED");
    assert.equal(h.mod.service.stats.errors.get("ERR_EVAPI_AUTH_FAILED"), 1);
  });
});

test("client tls: a client certificate for verifyClient; without one the connection is refused", async () => {
  await withEvapi({ tls: { ...TLS, caFile: pem("ca-cert"), verifyClient: true } }, async (h) => {
    const client = new EvapiClient({
      host: "127.0.0.1",
      port: h.port,
      tls: { ca: CA, servername: "localhost", cert: readFileSync(pem("client-cert")), key: readFileSync(pem("client-key")) },
      reconnect: false,
    });
    await client.connect();
    await h.connections.wait(1);
    await client.close();
    const bare = new EvapiClient({ host: "127.0.0.1", port: h.port, tls: { ca: CA, servername: "localhost" }, reconnect: false });
    bare.on("error", () => undefined);
    await bare.connect().catch(() => undefined); // TLS 1.3: the refusal may come just after the handshake
    if (bare.connected) await nextEvent(bare, "disconnected");
    await bare.close();
    assert.equal(h.mod.service.stats.errors.get("ERR_EVAPI_TLS_CLIENT_CERT"), 1);
    assert.equal(h.connections.items.length, 1);
  });
});
