// metrics params: bindAddr parsing and app validation, module stat naming rules.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseBindAddr } from "../../src/metrics/bind-addr.js";
import { isGaugeName, moduleMetricName } from "../../src/metrics/module-metrics.js";
import { validateApp } from "../../src/params.js";
import { defineApp } from "../../src/app.js";

test("parseBindAddr accepts host:port and bracketed IPv6", () => {
  assert.deepEqual(parseBindAddr("127.0.0.1:9090"), { host: "127.0.0.1", port: 9090 });
  assert.deepEqual(parseBindAddr("[::1]:0"), { host: "::1", port: 0 });
  assert.deepEqual(parseBindAddr("localhost:80"), { host: "localhost", port: 80 });
  for (const bad of ["127.0.0.1", "::1:9090", "[1.2.3.4]:1", "host:70000", "a b:1", ":9090", 9090, undefined]) {
    assert.equal(typeof parseBindAddr(bad), "string", String(bad));
  }
});

test("validateApp checks metrics and fills the default bindAddr", () => {
  assert.equal(validateApp(defineApp({})).metrics, undefined);
  assert.deepEqual(validateApp(defineApp({ metrics: {} })).metrics, { bind: { host: "127.0.0.1", port: 9090 } });
  assert.deepEqual(validateApp(defineApp({ metrics: { bindAddr: "[::1]:0" } })).metrics, { bind: { host: "::1", port: 0 } });
  const bad = validateApp(defineApp({ metrics: { bindAddr: "nope", other: 1 } as { bindAddr: string } }));
  assert.deepEqual(bad.problems.map((p) => p.param).sort(), ["metrics.bindAddr", "metrics.other"]);
  assert.deepEqual(
    validateApp(defineApp({ metrics: "x" as never })).problems.map((p) => p.param),
    ["metrics"],
  );
});

test("module stat names: gauges by last word, counters get _total", () => {
  assert.equal(isGaugeName("clientsConnected"), true);
  assert.equal(isGaugeName("pending"), true);
  assert.equal(isGaugeName("items"), true);
  assert.equal(isGaugeName("eventsQueued"), false);
  assert.equal(moduleMetricName("evapi", "eventsSent"), "evsip_evapi_events_sent_total");
  assert.equal(moduleMetricName("evapi", "clientsConnected"), "evsip_evapi_clients_connected");
  assert.equal(moduleMetricName("jsonrpcc", "badResponses"), "evsip_jsonrpcc_bad_responses_total");
});
