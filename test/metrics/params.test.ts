// metrics params: bindAddr parsing and app validation, module stat naming rules.
import { test } from "node:test";
import assert from "node:assert/strict";
import { isGaugeName, moduleMetricName } from "../../src/metrics/module-metrics.js";
import { validateApp } from "../../src/params.js";
import { defineApp } from "../../src/app.js";

function metricsOf(bindAddr: unknown): ReturnType<typeof validateApp> {
  return validateApp(defineApp({ metrics: { bindAddr } as { bindAddr: string } }));
}

test("metrics.bindAddr takes host:port and bracketed IPv6, with the port required", () => {
  assert.deepEqual(metricsOf("127.0.0.1:9090").metrics, { bind: { host: "127.0.0.1", port: 9090 } });
  assert.deepEqual(metricsOf(" [::1]:0 ").metrics, { bind: { host: "::1", port: 0 } });
  assert.deepEqual(metricsOf("localhost:80").metrics, { bind: { host: "localhost", port: 80 } });
  for (const bad of ["127.0.0.1", "::1:9090", "[1.2.3.4]:1", "host:70000", "a b:1", ":9090", 9090]) {
    const problems = metricsOf(bad).problems;
    assert.deepEqual(
      problems.map((p) => p.param),
      ["metrics.bindAddr"],
      String(bad),
    );
    assert.ok(problems[0]?.message.includes(JSON.stringify(bad)), `the message quotes ${String(bad)}`);
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
  assert.equal(isGaugeName("bytesPending"), true, "jsonrpcc's backlog per server is a gauge");
  assert.equal(moduleMetricName("jsonrpcc", "bytesPending"), "evsip_jsonrpcc_bytes_pending");
  assert.equal(isGaugeName("lostBytes"), false);
  assert.equal(moduleMetricName("jsonrpcc", "lostBytes"), "evsip_jsonrpcc_lost_bytes_total");
});
