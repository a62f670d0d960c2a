// App validation: every problem named by its param, event-route names per Kamailio's rule.
import { test } from "node:test";
import assert from "node:assert/strict";
import { validateApp } from "../../src/params.js";
import { isEventRouteName } from "../../src/core/event-route-name.js";
import { defineApp, type AnyAppDefinition } from "../../src/app.js";
import { Server } from "../../src/server.js";
import { ConfigError } from "../../src/errors.js";

test("event route names follow group:event", () => {
  for (const ok of ["evapi:message-received", "htable:mod-init", "htable:expired:a", "core:worker-one-init", "a:b_c"]) {
    assert.equal(isEventRouteName(ok), true, ok);
  }
  for (const bad of ["noColon", "1x:y", "a_b:c", "a:", ":b", "a:b c", ""]) assert.equal(isEventRouteName(bad), false, bad);
});

test("validateApp reports each bad param with its name", () => {
  const app = defineApp({
    listen: ["udp:127.0.0.1:5060", "sctp:1.2.3.4:1"],
    tm: { t1: -5, frTimer: "x" as unknown as number },
    modules: { nosuchmodule: {} },
    events: { "bad name": () => undefined, "core:worker-one-init": () => undefined },
  });
  const v = validateApp(app);
  const names = v.problems.map((p) => p.param).sort();
  assert.deepEqual(names, ["events.bad name", "listen", "modules.nosuchmodule", "tm.frTimer", "tm.t1"]);
});

test("a misspelt top-level key or an unknown logLevel is a problem, not ignored (tsx does not type-check an app)", () => {
  const app = { admision: { shedAfter: 10 }, metric: {}, logLevel: "verbose", tm: {} } as unknown as AnyAppDefinition;
  const v = validateApp(app);
  assert.deepEqual(v.problems.map((p) => p.param).sort(), ["admision", "logLevel", "metric"]);
  assert.match(v.problems.find((p) => p.param === "admision")?.message ?? "", /unknown app key \(known: listen, .*admission/);
  // Every key of a full app is known.
  const full = defineApp({
    listen: [],
    logLevel: "warn",
    sip: {},
    udp: {},
    tcp: {},
    tm: {},
    admission: {},
    metrics: {},
    modules: {},
    request: () => undefined,
    reply: () => undefined,
    routes: {},
    events: {},
  });
  assert.deepEqual(validateApp(full).problems, []);
});

test("an embedding's ServerOptions.logLevel that pino does not have is refused as the app's is, with a code", () => {
  assert.throws(
    () => new Server(defineApp({}), { logLevel: "verbose" as "info" }),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.code === "ERR_CONFIG_INVALID" &&
      /ServerOptions\.logLevel: must be one of fatal, .*got "verbose"/.test(err.message),
  );
});

test("defaults are filled in", () => {
  const v = validateApp(defineApp({}));
  assert.deepEqual(v.problems, []);
  assert.equal(v.tm.frTimer, 30_000);
  assert.equal(v.tm.t1, 500);
  assert.deepEqual(v.listen, ["udp:127.0.0.1:5060", "tcp:127.0.0.1:5060"]);
});

test("module params validate in their documented forms (htable short form included)", () => {
  const v = validateApp(
    defineApp({
      modules: {
        evapi: { bindAddr: "127.0.0.1:8448", workers: 2, netstringFormat: true, maxClients: 8 },
        jsonrpcc: { servers: "localhost:9999,2 backup:9999,1" },
        htable: { a: { size: 4 } },
      },
    }),
  );
  assert.deepEqual(v.problems, []);
  assert.deepEqual((v.modules.get("htable") as { htable: unknown }).htable, { a: { size: 4 } });
  const s = validateApp(defineApp({ modules: { htable: "a=>size=4;autoexpire=60;initval=0" } }));
  assert.deepEqual(s.problems, []);
  const bad = validateApp(defineApp({ modules: { evapi: { maxClients: -1, bogus: 1 } } }));
  assert.deepEqual(bad.problems.map((p) => p.param).sort(), ["modules.evapi.bogus", "modules.evapi.maxClients"]);
});

test("an unknown module, a bad event-route name, listener, jsonrpcc servers or htable spec refuses the app with its own code; other problems with ERR_CONFIG_INVALID", () => {
  const refused = (app: AnyAppDefinition, code: string, ...mentions: string[]) =>
    assert.throws(
      () => new Server(app),
      (e: unknown) => e instanceof ConfigError && e.code === code && mentions.every((m) => e.message.includes(m)),
    );
  refused(defineApp({ modules: { evpai: {} } }), "ERR_CONFIG_UNKNOWN_MODULE", "modules.evpai: unknown module");
  refused(defineApp({ tm: { t1: -5 }, modules: { evpai: {} } }), "ERR_CONFIG_UNKNOWN_MODULE", "modules.evpai", "tm.t1");
  refused(defineApp({ events: { "worker-init": () => undefined } }), "ERR_EVENT_ROUTE_NAME", "events.worker-init");
  refused(defineApp({ tm: { t1: -5 }, modules: { htable: "a=>size=4" } }), "ERR_CONFIG_INVALID", "tm.t1");
  // The codes docs/errors.md gives for a bad listener, jsonrpcc servers string or htable spec.
  refused(defineApp({ listen: ["sctp:127.0.0.1:5060"] }), "ERR_TRANSPORT_BAD_LISTEN", "listen:");
  refused(defineApp({ modules: { jsonrpcc: { servers: "nohost" } } }), "ERR_JSONRPC_BAD_SERVERS", "modules.jsonrpcc.servers");
  refused(defineApp({ modules: { htable: { htable: "a=>dbtable=x" } } }), "ERR_HTABLE_BAD_SPEC", "modules.htable.htable");
});
