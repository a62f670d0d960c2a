// examples/jsonrpc-routing with SIPp: the router asks the example's JSON-RPC service where a call
// goes, relays it to the SIPp UAS the service names (200 end to end), and answers 404 for a user
// the service has no route for, 503 when the service is down.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { AppDefinition } from "../../src/app.js";
import type { JsonRpcModuleInstance } from "../../src/modules/jsonrpcc/index.js";
import { hasSipp, runSipp, SKIP_NO_SIPP, startSipp } from "../support/sipp.js";
import { startRouter } from "../support/router.js";
import { waitUp } from "../support/jsonrpc-client-harness.js";
import { startRoutingService } from "../../examples/jsonrpc-routing/service.js";

const skip = hasSipp() ? false : SKIP_NO_SIPP;

test("jsonrpc-routing example: service picks the gateway; unknown user 404", { skip }, async () => {
  const uas = await startSipp({ scenario: "uas", transport: "u1", calls: 2, timeoutSec: 30 });
  await uas.ready;
  const svc = await startRoutingService({ "+44": `sip:127.0.0.1:${uas.port}`, "1": `sip:127.0.0.1:${uas.port}` }, 0);
  process.env.JSONRPC_SERVERS = `127.0.0.1:${svc.port},1`;
  const { default: app } = (await import("../../examples/jsonrpc-routing/app.js")) as { default: AppDefinition };
  const r = await startRouter(app, ["udp:127.0.0.1:0"]);
  try {
    await waitUp((r.server.modules.get("jsonrpcc") as JsonRpcModuleInstance).client);
    const routed = await runSipp({
      scenario: "uac-call-rd-200.xml",
      target: r.target("udp"),
      calls: 2,
      keys: { rd: r.target("udp") },
      extraArgs: ["-s", "+4420123"],
      timeoutSec: 20,
    });
    assert.equal(routed.code, 0, routed.stderr || routed.stdout.slice(-2000));
    const u = await uas.done;
    assert.equal(u.code, 0, u.stderr);
    const unknown = await runSipp({
      scenario: "uac-invite-404.xml",
      target: r.target("udp"),
      extraArgs: ["-s", "999"],
      timeoutSec: 15,
    });
    assert.equal(unknown.code, 0, unknown.stderr || unknown.stdout.slice(-2000));
    assert.equal(svc.server.stats.requests, 3);
  } finally {
    await uas.stop();
    await r.stop();
    await svc.server.close();
  }
});
