// evapi params: defaults as the module README (Kamailio's where it has the param), bindAddr forms including
// bracketed IPv6, refused values, and an IPv6 listener on [::1] (skipped when ::1 is unavailable).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { validateParams } from "../../../src/core/params.js";
import { parseHostPort } from "../../../src/common/host-port.js";
import { BIND_ADDR_RULES, EVAPI_PARAMS, validateEvapiParams } from "../../../src/modules/evapi/params.js";
import { Collector, startEvapi, TestClient } from "../../support/evapi-harness.js";

test("defaults", () => {
  const { params, problems } = validateParams("evapi", EVAPI_PARAMS, {});
  assert.deepEqual(problems, []);
  assert.deepEqual(params, {
    bindAddr: "127.0.0.1:8448",
    workers: 1,
    netstringFormat: true,
    eventCallback: undefined,
    maxClients: 8,
    maxMessageSize: 65536,
    maxQueueBytes: 4 * 1024 * 1024,
    slowClient: "close",
    slowClientGrace: 2000,
    unicast: "first",
    heldOnClientLoss: "redeliver",
    holdWithoutClient: false,
    rawDelimiter: undefined,
    idleTimeout: 0,
    durableConsumers: [],
    durableMaxConsumers: 16,
    durableMaxEvents: 100_000,
    durableMaxBytes: 64 * 1024 * 1024,
    durableDir: undefined,
    durableSyncInterval: 100,
    tokens: [],
    authTimeout: 5000,
    maxUnauthenticated: 16,
    tls: undefined,
    insecure: false,
  });
});

test("bindAddr forms: no port is Kamailio's 8448", () => {
  assert.deepEqual(parseHostPort("1.2.3.4:8228", BIND_ADDR_RULES), { ok: true, addr: { host: "1.2.3.4", port: 8228 } });
  assert.deepEqual(parseHostPort("localhost", BIND_ADDR_RULES), { ok: true, addr: { host: "localhost", port: 8448 } });
  assert.deepEqual(parseHostPort("[::1]:8448", BIND_ADDR_RULES), { ok: true, addr: { host: "::1", port: 8448 } });
  assert.deepEqual(parseHostPort("[::]", BIND_ADDR_RULES), { ok: true, addr: { host: "::", port: 8448 } });
  for (const bad of ["::1:8448", ":8448", "[::1", "[::1]x", "1.2.3.4:70000", "1.2.3.4:x", "[1.2.3.4]:1"]) {
    const { problems } = validateParams("evapi", EVAPI_PARAMS, { bindAddr: bad });
    assert.deepEqual(
      problems.map((p) => p.param),
      ["evapi.bindAddr"],
      bad,
    );
    assert.ok(problems[0]?.message.includes(JSON.stringify(bad)), `the message quotes ${bad}`);
  }
});

test("refused values are reported by name", () => {
  const { problems } = validateParams("evapi", EVAPI_PARAMS, {
    bindAddr: "::1:1",
    workers: -1,
    maxClients: 0,
    slowClient: "block",
    slowClientGrace: 0,
    unicast: "random",
    heldOnClientLoss: "drop",
    eventCallback: "ksr_evapi_event",
    rawDelimiter: "",
    bogus: 1,
  });
  assert.deepEqual(problems.map((p) => p.param).sort(), [
    "evapi.bindAddr",
    "evapi.bogus",
    "evapi.eventCallback",
    "evapi.heldOnClientLoss",
    "evapi.maxClients",
    "evapi.rawDelimiter",
    "evapi.slowClient",
    "evapi.slowClientGrace",
    "evapi.unicast",
    "evapi.workers",
  ]);
  const p = validateParams("evapi", EVAPI_PARAMS, { rawDelimiter: "\n" }).params;
  assert.deepEqual(validateEvapiParams(p), [["rawDelimiter", "applies to raw mode only: set netstringFormat: false"]]);
});

async function hasIpv6Loopback(): Promise<boolean> {
  const s = createServer();
  return new Promise((resolve) => {
    s.once("error", () => resolve(false));
    s.listen(0, "::1", () => s.close(() => resolve(true)));
  });
}

test("IPv6 bind on [::1]:0", async (t) => {
  if (!(await hasIpv6Loopback())) {
    t.skip("::1 is not available on this machine");
    return;
  }
  const got = new Collector<string>();
  const h = await startEvapi(
    { bindAddr: "[::1]:0" },
    { "evapi:message-received": (ctx) => got.push(`${ctx.evapi.srcaddr} ${ctx.evapi.msg}`) },
  );
  try {
    assert.equal(h.mod.address().family, "IPv6");
    const c = await TestClient.open(h.port, "::1");
    c.send("2:v6,");
    assert.deepEqual(await got.wait(1), ["::1 v6"]);
    c.destroy();
  } finally {
    await h.stop();
  }
});
