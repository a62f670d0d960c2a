// Every Kamailio cfg this repository runs under Kamailio (the interop fixture, the benches'
// configs) loads under evsip too, with the -A defines Kamailio is started with; the module only the
// load tool adds (ctl, for kamcmd) is refused by name, and a missing define is named.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CfgError } from "../../src/errors.js";
import { loadCfgFile } from "../../src/cfg/load-cfg.js";

const CONFIGS: ReadonlyArray<[string, Record<string, string>]> = [
  [
    "test/fixtures/kamailio/interop.cfg",
    { UAS_URI: '"sip:127.0.0.1:9"', EVAPI_BIND: '"127.0.0.1:0"', JSONRPC_SERVERS: '"127.0.0.1:9,1"' },
  ],
  ["bench/kamailio/options.cfg", {}],
  ["bench/kamailio/relay.cfg", { UAS_URI: '"sip:127.0.0.1:9"' }],
  ["bench/kamailio/evapi.cfg", { EVAPI_ADDR: '"127.0.0.1:0"' }],
  ["bench/kamailio/jsonrpc.cfg", { JSONRPC_SERVERS: '"127.0.0.1:9,1"' }],
];

test("the repository's Kamailio configs load under evsip with Kamailio's -A defines", () => {
  for (const [file, defines] of CONFIGS) {
    const { app } = loadCfgFile(file, new Map(Object.entries(defines)));
    assert.equal(typeof app.request, "function", file);
  }
});

test("what they need beyond the subset is named: the ctl module, a missing define", () => {
  assert.throws(
    () =>
      loadCfgFile(
        "bench/kamailio/relay.cfg",
        new Map([
          ["UAS_URI", '"sip:x"'],
          ["CTL_SOCK", '"unix:/tmp/k.sock"'],
        ]),
      ),
    (e: unknown) => e instanceof CfgError && e.code === "ERR_CFG_UNSUPPORTED" && /module ctl/.test(e.message),
  );
  assert.throws(
    () => loadCfgFile("bench/kamailio/relay.cfg"),
    (e: unknown) => e instanceof CfgError && e.code === "ERR_CFG_SYNTAX" && /UAS_URI is neither a defined name/.test(e.message),
  );
});
