// The seeds' cfg snippets (test/fixtures/cfg/), loaded by src/cfg and run against SIPp: they
// behave as their text says.
import { test } from "node:test";
import assert from "node:assert/strict";
import { hasSipp, runSipp, SKIP_NO_SIPP } from "../support/sipp.js";
import { startRouter } from "../support/router.js";
import { loadCfgFile } from "../../src/cfg/load-cfg.js";

const noSipp = hasSipp() ? false : SKIP_NO_SIPP;

test(
  "seed 002: event_route[htable:mod-init] fills the table, the request route counts calls under a lock and refuses the one over the limit",
  { skip: noSipp, timeout: 30_000 },
  async () => {
    const { app } = loadCfgFile("test/fixtures/cfg/seed-htable.cfg");
    const r = await startRouter(app, ["udp:127.0.0.1:0"]);
    try {
      const first = await runSipp({ scenario: "uac-invite-403.xml", target: r.target("udp"), service: "bob", timeoutSec: 10 });
      assert.equal(first.code, 0, first.stderr);
      const second = await runSipp({ scenario: "uac-invite-500.xml", target: r.target("udp"), service: "bob", timeoutSec: 10 });
      assert.equal(second.code, 0, second.stderr);
    } finally {
      await r.stop();
    }
  },
);

test("seed 001's flow loads: evapi_async_relay with $(var(data){s.encode.base64}), jansson_get, t_continue into route[RESUME]", () => {
  const { app } = loadCfgFile("test/fixtures/cfg/seed-evapi-resume.cfg", new Map([["EVAPI_BIND", '"127.0.0.1:0"']]));
  assert.deepEqual(app.modules, { evapi: { bindAddr: "127.0.0.1:0" } });
  assert.deepEqual(Object.keys(app.routes ?? {}), ["RESUME"]);
  assert.deepEqual(Object.keys(app.events ?? {}), ["evapi:message-received"]);
});
