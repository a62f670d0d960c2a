// examples/call-limit with SIPp: 100 calls to 10.10.10.10 are admitted and relayed to a SIPp UAS,
// the 101st INVITE gets "500 To many calls to .10"; the counter lives in htable, under a lock.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { AppDefinition } from "../../src/app.js";
import type { HtableModuleInstance } from "../../src/modules/htable/index.js";
import { hasSipp, runSipp, SKIP_NO_SIPP, startSipp } from "../support/sipp.js";
import { startRouter } from "../support/router.js";

const skip = hasSipp() ? false : SKIP_NO_SIPP;

test("call-limit example: the 101st INVITE to 10.10.10.10 gets 500", { skip }, async () => {
  const uas = await startSipp({ scenario: "uas", transport: "u1", calls: 100, timeoutSec: 30 });
  await uas.ready;
  process.env.CALL_LIMIT_UPSTREAM = `sip:127.0.0.1:${uas.port}`;
  const { default: app } = (await import("../../examples/call-limit/app.js")) as { default: AppDefinition };
  const r = await startRouter(app, ["udp:127.0.0.1:0"]);
  try {
    const keys = { rd: "10.10.10.10" };
    const ok = await runSipp({
      scenario: "uac-call-rd-200.xml",
      target: r.target("udp"),
      calls: 100,
      rate: 200,
      limit: 100,
      keys,
      timeoutSec: 30,
    });
    assert.equal(ok.code, 0, ok.stderr || ok.stdout.slice(-2000));
    const over = await runSipp({ scenario: "uac-invite-rd-500.xml", target: r.target("udp"), calls: 1, keys, timeoutSec: 15 });
    assert.equal(over.code, 0, over.stderr || over.stdout.slice(-2000));
    const u = await uas.done;
    assert.equal(u.code, 0, u.stderr);
    const table = (r.internals.modules.get("htable") as HtableModuleInstance).tables.get("a");
    assert.equal(table?.get("calls-to::10.10.10.10"), 101);
  } finally {
    await uas.stop();
    await r.stop();
  }
});
