// examples/call-limit with SIPp: the count in the dialog profile is of calls in progress. 100 whole
// calls to 10.10.10.10 pass and leave the profile on their BYE; with the limit at 2, two calls
// whose BYE is lost fill it, a third INVITE gets "500 To many calls to .10", and once the dialogs
// time out (BYEs sent to the callee) the profile is empty again. An htable counter leaked here.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { AppDefinition } from "../../src/app.js";
import type { HtableModuleInstance } from "../../src/modules/htable/index.js";
import type { DialogModuleInstance } from "../../src/modules/dialog/index.js";
import { hasSipp, runSipp, SKIP_NO_SIPP, startSipp } from "../support/sipp.js";
import { startRouter } from "../support/router.js";
import { AsyncQueue } from "../support/async-queue.js";

const skip = hasSipp() ? false : SKIP_NO_SIPP;

test(
  "call-limit example: profile counts fall on BYE and on a dialog timeout, and the limit refuses with 500 meanwhile",
  { skip },
  async () => {
    // 100 whole calls, then the 2 whose BYE the router sends on timeout.
    const uas = await startSipp({ scenario: "uas-answer-rr.xml", transport: "u1", calls: 102, timeoutSec: 30 });
    await uas.ready;
    process.env.CALL_LIMIT_UPSTREAM = `sip:127.0.0.1:${uas.port}`;
    process.env.EVAPI_BIND_ADDR = "127.0.0.1:0"; // its limit feed's socket: any free port
    const { default: example } = (await import("../../examples/call-limit/app.js")) as { default: AppDefinition };
    // The same app with a 4 s dialog lifetime and BYEs on timeout, so the test need not wait 2 h
    // (and the two calls are still in the profile when the next SIPp, started after them, calls),
    // and a dialog:end route that tells the test when a dialog ended.
    const ended = new AsyncQueue<string | undefined>();
    const app: AppDefinition = {
      ...example,
      modules: { ...example.modules, dialog: { ...example.modules?.dialog, defaultTimeout: 4, sendBye: true } },
      events: { ...example.events, "dialog:end": (ctx) => ended.push(ctx.dialog?.event?.reason) },
    };
    const r = await startRouter(app, ["udp:127.0.0.1:0"]);
    const dialog = r.internals.modules.get("dialog") as DialogModuleInstance;
    const inProfile = (): number => dialog.dialogs.profiles.size("calls-to", "10.10.10.10");
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
      assert.equal(inProfile(), 0, "every BYE took its call out of the profile");

      (r.internals.modules.get("htable") as HtableModuleInstance).tables.get("a")?.set("max-calls-to::10.10.10.10", 2);
      const lost = await runSipp({ scenario: "uac-call-rd-no-bye.xml", target: r.target("udp"), calls: 2, keys, timeoutSec: 15 });
      assert.equal(lost.code, 0, lost.stderr || lost.stdout.slice(-2000));
      assert.equal(inProfile(), 2);
      const over = await runSipp({ scenario: "uac-invite-rd-500.xml", target: r.target("udp"), calls: 1, keys, timeoutSec: 15 });
      assert.equal(over.code, 0, over.stderr || over.stdout.slice(-2000));

      const byes = ended.drainNow();
      assert.equal(byes.length, 100);
      assert.ok(byes.every((reason) => reason === "bye"));
      assert.equal(await ended.next(10_000), "timeout");
      assert.equal(await ended.next(10_000), "timeout");
      assert.equal(inProfile(), 0, "the timed-out calls left the profile");
      const u = await uas.done;
      assert.equal(u.code, 0, `the callee got the 2 timeout BYEs: ${u.stderr}`);
    } finally {
      await uas.stop();
      await r.stop();
    }
  },
);
