// The stateless half end to end with SIPp: OPTIONS answered over UDP and TCP, an INVITE call
// forwarded statelessly to a SIPp UAS with its 180/200 returned to the SIPp UAC.
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineApp } from "../../src/app.js";
import { hasSipp, runSipp, SKIP_NO_SIPP, startSipp } from "../support/sipp.js";
import { startRouter } from "../support/router.js";

const skip = hasSipp() ? false : SKIP_NO_SIPP;

for (const proto of ["udp", "tcp"] as const) {
  test(`OPTIONS is answered 200 over ${proto}`, { skip }, async () => {
    let runs = 0;
    const r = await startRouter(
      defineApp({
        request(ctx) {
          runs++;
          if (ctx.isMethod("OPTIONS")) ctx.sl.sendReply(200, "OK");
        },
      }),
    );
    try {
      const res = await runSipp({
        scenario: "uac-options-200.xml",
        target: r.target(proto),
        transport: proto === "udp" ? "u1" : "t1",
        calls: 3,
      });
      assert.equal(res.code, 0, res.stderr || res.stdout.slice(-2000));
      assert.equal(runs, 3);
    } finally {
      await r.stop();
    }
  });
}

for (const proto of ["udp", "tcp"] as const) {
  test(`an INVITE call is forwarded statelessly to a UAS over ${proto}`, { skip }, async () => {
    const transport = proto === "udp" ? "u1" : "t1";
    const uas = await startSipp({ scenario: "uas", transport, calls: 1, timeoutSec: 20 });
    await uas.ready;
    const r = await startRouter(
      defineApp({
        request(ctx) {
          ctx.forward(`sip:127.0.0.1:${uas.port};transport=${proto}`);
        },
      }),
    );
    try {
      const uac = await runSipp({ scenario: "uac", target: r.target(proto), transport, calls: 1, timeoutSec: 20 });
      assert.equal(uac.code, 0, uac.stderr || uac.stdout.slice(-2000));
      const u = await uas.done;
      assert.equal(u.code, 0, u.stderr);
    } finally {
      await uas.stop();
      await r.stop();
    }
  });
}
