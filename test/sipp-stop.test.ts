// test/support/sipp.ts's stop(): SIPp ends on SIGUSR1 only once its calls have ended, so a call
// stuck waiting for an answer kept it running until its global timeout, and a failing test's
// cleanup with it. stop() now kills it when the grace runs out. The call here waits for ever: SIPp's
// built-in UAC sends one INVITE (no retransmissions) to a socket that never answers.
// And SIPp's readiness: over UDP it is ready only on a socket of its own, not on one another
// process holds at its port.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { once } from "node:events";
import { PortTakenError } from "./support/port-owner.js";
import { hasSipp, SKIP_NO_SIPP, startSipp } from "./support/sipp.js";

test(
  "stop() kills a SIPp whose call never ends once its grace runs out",
  { skip: hasSipp() ? false : SKIP_NO_SIPP, timeout: 30_000 },
  async () => {
    const hole = createSocket("udp4");
    hole.bind(0, "127.0.0.1");
    await once(hole, "listening");
    const invite = once(hole, "message");
    const p = await startSipp({
      scenario: "uac",
      target: `127.0.0.1:${hole.address().port}`,
      timeoutSec: 120,
      extraArgs: ["-nr"],
    });
    try {
      await invite;
      const t0 = Date.now();
      const r = await p.stop(300);
      assert.equal(p.child.signalCode, "SIGKILL", "SIPp was still waiting for its call: killed");
      assert.equal(r.code, null);
      assert.ok(Date.now() - t0 < 5000, `ended ${Date.now() - t0} ms after stop(), not at its 120 s timeout`);
    } finally {
      p.child.kill("SIGKILL");
      hole.close();
    }
  },
);

test(
  "a SIPp started on a UDP port another process holds is not ready: ready says whose port it is, and SIPp exits",
  { skip: hasSipp() ? (process.platform === "linux" ? false : "reads /proc (Linux)") : SKIP_NO_SIPP },
  async () => {
    const squatter = createSocket("udp4");
    squatter.bind(0, "127.0.0.1");
    await once(squatter, "listening");
    try {
      const t0 = Date.now();
      const p = await startSipp({ scenario: "uas", port: squatter.address().port, timeoutSec: 10 });
      await assert.rejects(p.ready, (e) => e instanceof PortTakenError && /sipp/.test(e.message));
      const r = await p.done;
      assert.notEqual(r.code, 0);
      assert.ok(Date.now() - t0 < 5000, `SIPp exited at once, unable to bind (not at its 10 s timeout): ${r.stderr}`);
    } finally {
      squatter.close();
    }
  },
);
