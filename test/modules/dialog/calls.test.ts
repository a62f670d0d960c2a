// The dialog module on real SIPp calls through evsip: a call's states and events with $dlg and
// $dlg_var in every later route, a refused call's dialog:failed, a dialog that times out with BYEs
// to both sides, and a callee whose keepalives fail.
import { test } from "node:test";
import assert from "node:assert/strict";
import { hasSipp, runSipp, SKIP_NO_SIPP, startSipp } from "../../support/sipp.js";
import { httpGet } from "../../support/http-get.js";
import { startDialogRig } from "./harness.js";

const skip = hasSipp() ? false : SKIP_NO_SIPP;

test(
  "a call: early on the 180, dialog:start on the 200 and dialog:end on the BYE, with $dlg and $dlg_var throughout",
  { skip },
  async () => {
    const uas = await startSipp({ scenario: "uas-answer-rr.xml", timeoutSec: 15 });
    await uas.ready;
    const rig = await startDialogRig({ upstream: `sip:127.0.0.1:${uas.port}` });
    try {
      const uac = await runSipp({
        scenario: "uac-call-rr.xml",
        target: rig.router.target("udp"),
        service: "bob",
        timeoutSec: 15,
      });
      assert.equal(uac.code, 0, uac.stderr || uac.stdout.slice(-2000));
      assert.equal((await uas.done).code, 0);
      const start = await rig.events.next();
      assert.equal(start.event, "dialog:start");
      assert.equal(start.state, 3, "confirmed, waiting for the ACK");
      assert.equal(start.vars.caller, "sipp", "$dlg_var set in the INVITE route");
      assert.match(String(start.toTag), /SIPpTag01/);
      assert.ok(Number(start.startTs) > 1_700_000_000);
      assert.equal(start.ref, 2, "the table's reference and the live INVITE transaction's");
      const end = await rig.events.next();
      assert.equal(end.event, "dialog:end");
      assert.equal(end.reason, "bye");
      assert.equal(end.state, 5);
      assert.equal(end.ref, 0);
      assert.equal(end.vars.caller, "sipp");
      assert.equal(end.callid, start.callid);
      const ack = rig.requests.find((r) => r.method === "ACK");
      const bye = rig.requests.find((r) => r.method === "BYE");
      assert.deepEqual(ack, { method: "ACK", state: 4, caller: "sipp" }, "the ACK route sees the confirmed dialog");
      assert.deepEqual(bye, { method: "BYE", state: 5, caller: "sipp" }, "the BYE route sees the ended dialog and its vars");
      assert.deepEqual(
        rig.replies.filter((r) => r.status > 100).map((r) => [r.status, r.state]),
        [
          [180, 2],
          [200, 3],
        ],
        "the reply route sees the early, then the confirmed dialog",
      );
      assert.equal(rig.module.dialogs.table.size, 0);
      const metrics = (await httpGet("127.0.0.1", rig.router.server.metricsAddress()?.port ?? 0, "/metrics")).body;
      assert.match(metrics, /^evsip_dialog_started_total 1$/m);
      assert.match(metrics, /^evsip_dialog_ended_total\{reason="bye"\} 1$/m);
      assert.match(metrics, /^evsip_dialog_active\{state="confirmed"\} 0$/m);
    } finally {
      await uas.stop();
      await rig.stop();
    }
  },
);

test(
  "a call refused with 486 runs dialog:failed with the status, never dialog:start, and leaves its profile",
  { skip },
  async () => {
    const uas = await startSipp({ scenario: "uas-busy-486.xml", timeoutSec: 15 });
    await uas.ready;
    let sizeInRoute = -1;
    const rig = await startDialogRig({
      upstream: `sip:127.0.0.1:${uas.port}`,
      dialog: { profilesNoValue: "calls" },
      onInvite: (ctx) => {
        ctx.dialog.setProfile("calls");
        sizeInRoute = ctx.dialog.profileSize("calls");
      },
    });
    try {
      const uac = await runSipp({ scenario: "uac-invite-486.xml", target: rig.router.target("udp"), timeoutSec: 15 });
      assert.equal(uac.code, 0, uac.stderr || uac.stdout.slice(-2000));
      const failed = await rig.events.next();
      assert.equal(failed.event, "dialog:failed");
      assert.equal(failed.status, 486);
      assert.equal(failed.vars.caller, "sipp");
      assert.equal(rig.events.size, 0);
      assert.equal(rig.module.stats?.().failed, 1);
      assert.equal(rig.module.dialogs.table.size, 0);
      assert.equal(sizeInRoute, 1);
      assert.equal(rig.module.dialogs.profiles.size("calls"), 0, "the failed call left the profile");
    } finally {
      await uas.stop();
      await rig.stop();
    }
  },
);

test(
  "a dialog past its timeout ends (reason timeout) and, with sendBye, both sides get a BYE through the route set",
  { skip },
  async () => {
    const uas = await startSipp({ scenario: "uas-answer-rr.xml", timeoutSec: 15 });
    await uas.ready;
    const rig = await startDialogRig({
      upstream: `sip:127.0.0.1:${uas.port}`,
      dialog: { sendBye: true },
      // Long enough for the ACK to reach the callee before the BYE on a loaded machine.
      onInvite: (ctx) => ctx.dialog.setTimeout(1),
    });
    try {
      const uac = await runSipp({ scenario: "uac-call-rr-await-bye.xml", target: rig.router.target("udp"), timeoutSec: 15 });
      assert.equal(uac.code, 0, uac.stderr || uac.stdout.slice(-2000));
      assert.equal((await uas.done).code, 0, "the callee got and answered its BYE");
      assert.equal((await rig.events.next()).event, "dialog:start");
      const end = await rig.events.next();
      assert.equal(end.event, "dialog:end");
      assert.equal(end.reason, "timeout");
      assert.equal(end.vars.caller, "sipp");
      assert.equal(rig.module.stats?.().byesSent, 2);
      const metrics = (await httpGet("127.0.0.1", rig.router.server.metricsAddress()?.port ?? 0, "/metrics")).body;
      assert.match(metrics, /^evsip_tm_local_requests_total 2$/m);
      assert.match(metrics, /^evsip_dialog_ended_total\{reason="timeout"\} 1$/m);
    } finally {
      await uas.stop();
      await rig.stop();
    }
  },
);

test(
  "a callee that stops answering keepalives: the dialog ends (reason keepalive) and BYEs go to both sides",
  { skip },
  async () => {
    const uas = await startSipp({ scenario: "uas-answer-rr-ignore-options.xml", timeoutSec: 15 });
    await uas.ready;
    const rig = await startDialogRig({
      upstream: `sip:127.0.0.1:${uas.port}`,
      // The OPTIONS, sent 1 s after the 200 (room for the ACK to reach the callee first on a loaded
      // machine), times out after min(64·T1, frTimer) = 500 ms, before a second round is due.
      tm: { t1: 100, frTimer: 500 },
      dialog: { kaTimer: 0.05, kaInterval: 1, kaFailedLimit: 1 },
      onInvite: (ctx) => ctx.dialog.setProperty("ka-dst"),
    });
    try {
      const uac = await runSipp({ scenario: "uac-call-rr-await-bye.xml", target: rig.router.target("udp"), timeoutSec: 15 });
      assert.equal(uac.code, 0, uac.stderr || uac.stdout.slice(-2000));
      assert.equal((await uas.done).code, 0, "the callee got its BYE after the unanswered OPTIONS");
      assert.equal((await rig.events.next()).event, "dialog:start");
      const end = await rig.events.next();
      assert.equal(end.event, "dialog:end");
      assert.equal(end.reason, "keepalive");
      const s = rig.module.stats?.() ?? {};
      assert.equal(s.keepaliveFailures, 1);
      assert.equal(s.keepalivesSent, 1);
      assert.equal((s.endedByReason as Map<string, number>).get("keepalive"), 1);
    } finally {
      await uas.stop();
      await rig.stop();
    }
  },
);
