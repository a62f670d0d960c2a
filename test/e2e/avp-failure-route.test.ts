// $avp and $xavp belong to the transaction, as in Kamailio: set in the request route, read in the
// failure route after a real UAS (SIPp) answered 486, together with tmx's $T_reply_code,
// $T_rpl($rr), $T_req($rU) and $T_branch_idx. The failure route answers 403 to the SIPp caller.
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineApp } from "../../src/app.js";
import { hasSipp, runSipp, SKIP_NO_SIPP, startSipp } from "../support/sipp.js";
import { startRouter } from "../support/router.js";

const skip = hasSipp() ? false : SKIP_NO_SIPP;

test("$avp/$xavp set in the request route are read in the failure route with $T_* of the 486", { skip }, async () => {
  const busy = await startSipp({ scenario: "uas-busy-486.xml", transport: "u1", timeoutSec: 20 });
  await busy.ready;
  const seen: Array<Record<string, unknown>> = [];
  const r = await startRouter(
    defineApp({
      request(ctx) {
        if (ctx.isMethod("ACK")) return ctx.exit();
        ctx.setPv("$avp(who)", "first");
        ctx.setPv("$avp(who)", "second");
        ctx.setPv("$xavp(call=>n)", 1);
        ctx.tm.onFailure("FAIL");
        ctx.tm.relay(`sip:127.0.0.1:${busy.port}`);
      },
      routes: {
        FAIL(ctx) {
          seen.push({
            avps: ctx.pv("$(avp(who)[*])"),
            xavp: ctx.pv("$xavp(call=>n)"),
            code: ctx.pv("$T_reply_code"),
            reason: ctx.pv("$T_rpl($rr)"),
            user: ctx.pv("$T_req($rU)"),
            branch: ctx.pv("$T_branch_idx"),
          });
          ctx.tm.reply(403, "Forbidden");
        },
      },
    }),
    ["udp:127.0.0.1:0"],
  );
  try {
    const uac = await runSipp({ scenario: "uac-invite-403.xml", target: r.target("udp"), service: "carol" });
    assert.equal(uac.code, 0, uac.stderr);
    assert.equal((await busy.done).code, 0);
    assert.deepEqual(seen, [{ avps: "second, first", xavp: 1, code: 486, reason: "Busy Here", user: "carol", branch: 0 }]);
  } finally {
    await busy.stop();
    await r.stop();
  }
});
