// The safe default (README.md "Exposure"): an evapi socket bound beyond loopback without tokens (or
// verified client certificates) is refused at load with a message that says what to do, unless the
// app sets insecure: true. Loopback in every spelling stays as it was.
import { test } from "node:test";
import assert from "node:assert/strict";
import { validateApp } from "../../../src/params.js";
import { defineApp } from "../../../src/app.js";
import { Server } from "../../../src/server.js";
import { ConfigError } from "../../../src/errors.js";
import { isLoopbackHost } from "../../../src/modules/evapi/bind-safety.js";

const TOKEN = { token: "a-long-enough-secret-123" };
const problemsOf = (evapi: object): string[] =>
  validateApp(defineApp({ modules: { evapi } })).problems.map((p) => `${p.param}: ${p.message}`);

test("exposure: loopback binds load as before, in every spelling", () => {
  for (const bindAddr of ["127.0.0.1:8448", "127.9.9.9", "localhost:1", "[::1]:8448", "[::ffff:127.0.0.1]:1"]) {
    assert.deepEqual(problemsOf({ bindAddr }), [], bindAddr);
  }
});

test("exposure: a wildcard, a LAN address or a host name without auth is refused at load, naming the fixes", () => {
  for (const bindAddr of ["0.0.0.0:8448", "[::]:8448", "10.1.2.3", "[2001:db8::1]:1", "evapi.example.com:8448", "128.0.0.1"]) {
    const problems = problemsOf({ bindAddr });
    assert.equal(problems.length, 1, bindAddr);
    assert.match(
      problems[0] ?? "",
      /^modules\.evapi\.bindAddr: .*reachable from other hosts.*set tokens.*insecure: true/,
      bindAddr,
    );
  }
});

test("exposure: tokens, tls with verifyClient, or insecure: true allow it; tls alone does not", () => {
  const tls = { certFile: "c.pem", keyFile: "k.pem", caFile: "ca.pem" };
  assert.deepEqual(problemsOf({ bindAddr: "0.0.0.0:8448", tls: { ...tls, verifyClient: true } }), []);
  assert.equal(problemsOf({ bindAddr: "0.0.0.0:8448", tls }).length, 1);
  assert.deepEqual(problemsOf({ bindAddr: "0.0.0.0:8448", tokens: [TOKEN] }), []);
  assert.deepEqual(problemsOf({ bindAddr: "0.0.0.0:8448", insecure: true }), []);
});

test("exposure: new Server() refuses the app with ERR_CONFIG_INVALID", () => {
  assert.throws(
    () => new Server(defineApp({ listen: ["udp:127.0.0.1:0"], modules: { evapi: { bindAddr: "0.0.0.0:0" } } })),
    (e: unknown) => e instanceof ConfigError && e.code === "ERR_CONFIG_INVALID" && /insecure: true/.test(e.message),
  );
});

test("exposure: isLoopbackHost", () => {
  for (const h of ["127.0.0.1", "127.255.0.1", "::1", "LOCALHOST", "::ffff:127.0.0.2"]) assert.ok(isLoopbackHost(h), h);
  for (const h of ["0.0.0.0", "::", "10.0.0.1", "localhost.example", "1127.0.0.1", "::ffff:10.0.0.1", ""]) {
    assert.ok(!isLoopbackHost(h), h);
  }
});
