// The seeds' cfg snippets (test/fixtures/cfg/), loaded by src/cfg and run against SIPp: they
// behave as their text says.
import { test } from "node:test";
import assert from "node:assert/strict";
import { hasSipp, runSipp, SKIP_NO_SIPP } from "../support/sipp.js";
import { startRouter } from "../support/router.js";
import { loadCfgFile } from "../../src/cfg/load-cfg.js";
import { createJsonRpcServer, JsonRpcMethodError } from "../../src/client/index.js";
import type { JsonRpcModuleInstance } from "../../src/modules/jsonrpcc/index.js";
import { waitUp } from "../support/jsonrpc-client-harness.js";

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

test(
  "seed 004: jsonrpc_notification, then jsonrpc_request resumes in route[RESPONSE] with the result or in route[ERROR]",
  { skip: noSipp, timeout: 30_000 },
  async () => {
    const calls: string[] = [];
    const server = createJsonRpcServer({
      port: 0,
      methods: {
        update_user(params) {
          calls.push(`update_user ${JSON.stringify(params)}`);
          return null;
        },
        get_user(params) {
          const { id } = params as { id: number };
          calls.push(`get_user ${id}`);
          if (id !== 1234) throw new JsonRpcMethodError(404, `no user ${id}`);
          return { id, name: "Petros" };
        },
      },
    });
    const { port } = await server.listen();
    const defines = new Map([["JSONRPC_SERVERS", `"127.0.0.1:${port},1"`]]);
    const r = await startRouter(loadCfgFile("test/fixtures/cfg/seed-jsonrpc.cfg", defines).app, ["udp:127.0.0.1:0"]);
    try {
      await waitUp((r.internals.modules.get("jsonrpcc") as JsonRpcModuleInstance).client);
      const found = await runSipp({ scenario: "uac-invite-200.xml", target: r.target("udp"), service: "1234", timeoutSec: 10 });
      assert.equal(found.code, 0, found.stderr);
      const missing = await runSipp({ scenario: "uac-invite-404.xml", target: r.target("udp"), service: "99", timeoutSec: 10 });
      assert.equal(missing.code, 0, missing.stderr);
      assert.deepEqual(
        calls.filter((c) => c.startsWith("get_user")),
        ["get_user 1234", "get_user 99"],
      );
      assert.ok(calls.includes('update_user {"id":1234,"name":"Petros"}'), calls.join("\n"));
    } finally {
      await r.stop();
      await server.close();
    }
  },
);
