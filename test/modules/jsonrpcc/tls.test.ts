// jsonrpcc dialing its servers over TLS (docs/jsonrpcc.md "TLS"): a request answered through TLS with
// the server's certificate checked against the `caFile`, a client certificate for a server that
// wants one, and a server whose certificate does not chain to the CA: never used, ERR_JSONRPC_TLS
// counted, requests fail as with no server. Fixtures: test/fixtures/tls.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { loadDialOptions } from "../../../src/modules/jsonrpcc/tls-dial.js";
import { makeClient, waitUp } from "../../support/jsonrpc-client-harness.js";
import { startTestServer } from "../../support/jsonrpc-test-server.js";
import { pem } from "../../support/tls-fixtures.js";

const SERVER = { cert: readFileSync(pem("server-cert")), key: readFileSync(pem("server-key")) };

function call(client: ReturnType<typeof makeClient>, method: string): Promise<unknown> {
  return new Promise((done) => client.request(method, [], 1000, done));
}

test("jsonrpcc tls: requests are answered over TLS, with a client certificate when the server asks for one", async () => {
  const server = await startTestServer(undefined, "127.0.0.1", {
    ...SERVER,
    ca: readFileSync(pem("ca-cert")),
    requestCert: true,
    rejectUnauthorized: true,
  });
  const client = makeClient(`localhost:${server.port},1`, {
    tls: loadDialOptions({ caFile: pem("ca-cert"), certFile: pem("client-cert"), keyFile: pem("client-key") }),
  });
  try {
    await waitUp(client);
    const out = await call(client, "ping");
    assert.deepEqual(out, { kind: "result", value: { echo: "ping", params: [] } });
  } finally {
    await client.stop();
    await server.stop();
  }
});

test("jsonrpcc tls: a server certificate from another CA is refused (ERR_JSONRPC_TLS) and the server is never used", async () => {
  const server = await startTestServer(undefined, "127.0.0.1", SERVER);
  const client = makeClient(`127.0.0.1:${server.port},1`, {
    tls: loadDialOptions({ caFile: pem("rogue-client-cert"), servername: "localhost" }),
  });
  try {
    const link = client.links[0];
    assert.ok(link);
    const deadline = Date.now() + 5000;
    while ((link.stats.badResponses.get("ERR_JSONRPC_TLS") ?? 0) < 2 && Date.now() < deadline) {
      await new Promise((r) => setImmediate(r)); // a failed connect emits no client event; reconnects are 10-50 ms apart
    }
    assert.ok((link.stats.badResponses.get("ERR_JSONRPC_TLS") ?? 0) >= 2, "each attempt refused and counted");
    assert.equal(server.received.length, 0);
    assert.notEqual(link.state, "connected");
  } finally {
    await client.stop();
    await server.stop();
  }
});
