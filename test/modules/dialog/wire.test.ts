// The dialog module on the wire, with scripted UDP peers as caller and callee: the requests evsip
// sends itself (dlg_bye) carry the right Request-URI, route set, tags per direction and a CSeq above
// what each side used; a spiral through evsip is one dialog; and bad input is refused with its code.
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineApp, type AnyAppDefinition, type AppDefinition } from "../../../src/app.js";
import { Server, serverInternals } from "../../../src/server.js";
import type { DialogModuleInstance, DialogParams, DialogRecord } from "../../../src/modules/dialog/index.js";
import type { SipMessageLike } from "../../../src/sip/types.js";
import { answer } from "../../support/tm-harness.js";
import { isRequest, isResponse, SipPeer, sipText } from "../../support/sip-peer.js";
import { AsyncQueue } from "../../support/async-queue.js";
import { captureLogger, type CapturedLog } from "../../support/transport-harness.js";

interface Rig {
  readonly server: Server;
  readonly port: number;
  readonly caller: SipPeer;
  readonly callee: SipPeer;
  readonly module: DialogModuleInstance;
  readonly logs: Array<Record<string, unknown>>;
  readonly withCode: CapturedLog["withCode"];
  stop(): Promise<void>;
}

async function startRig(make: (calleePort: number) => AnyAppDefinition): Promise<Rig> {
  const caller = await SipPeer.open();
  const callee = await SipPeer.open();
  const log = captureLogger();
  const server = new Server(make(callee.port), { listen: ["udp:127.0.0.1:0"], logger: log.logger });
  await server.start();
  const port = server.listeners()[0]?.port ?? 0;
  const module = serverInternals(server).modules.get("dialog") as DialogModuleInstance;
  return {
    server,
    port,
    caller,
    callee,
    module,
    logs: log.lines,
    withCode: log.withCode,
    stop: async () => {
      caller.close();
      callee.close();
      await server.stop();
    },
  };
}

/** A record-routing proxy that manages every initial INVITE; `extra` runs after manage(). */
function proxyApp(
  calleePort: number,
  dialog: Partial<DialogParams>,
  hooks: Partial<AppDefinition> = {},
  extra?: (ctx: Parameters<NonNullable<AppDefinition["request"]>>[0]) => void,
): AppDefinition {
  return defineApp({
    modules: { dialog: { profilesNoValue: "calls", ...dialog } },
    request(ctx) {
      if (ctx.hasToTag()) {
        if (ctx.rr.looseRoute()) ctx.tm.relay();
        const side = ctx.pv("$hdr(X-Bye)");
        if (typeof side === "string") ctx.dialog?.bye(side as "all");
        return ctx.exit();
      }
      if (ctx.isMethod("INVITE")) {
        ctx.dialog?.manage();
        extra?.(ctx);
      }
      ctx.rr.recordRoute();
      ctx.tm.relay(`sip:127.0.0.1:${calleePort}`);
    },
    ...hooks,
  });
}

const CALLER_TAG = "a-tag";

function invite(rig: Rig, callId: string, opts: { ruri?: string; cseq?: number } = {}): string {
  return sipText([
    `INVITE ${opts.ruri ?? `sip:bob@127.0.0.1:${rig.port}`} SIP/2.0`,
    `Via: SIP/2.0/UDP ${rig.caller.hostport};branch=${rig.caller.branch()};rport`,
    "Max-Forwards: 70",
    `From: "Alice" <sip:alice@example.com>;tag=${CALLER_TAG}`,
    "To: <sip:bob@example.com>",
    `Call-ID: ${callId}`,
    `CSeq: ${opts.cseq ?? 10} INVITE`,
    `Contact: <sip:alice@${rig.caller.hostport}>`,
  ]);
}

/** The callee's 200, with `extraRr` (a proxy of the callee's) ahead of evsip's Record-Route. */
function ok200(rig: Rig, inv: SipMessageLike, extraRr: string[] = [], contact = `sip:bob@${rig.callee.hostport}`): string {
  const lines = answer(inv, 200, "OK", "b-tag").replace("Content-Length: 0\r\n\r\n", "").split("\r\n").filter(Boolean);
  for (const rr of [...extraRr, ...inv.headerValues("record-route")]) lines.push(`Record-Route: ${rr}`);
  lines.push(`Contact: <${contact}>`);
  return sipText(lines);
}

/** The caller's in-dialog request through the route set of its 200 (RR reversed). */
function callerRequest(rig: Rig, method: string, ok: SipMessageLike, cseq: number, extra: string[] = []): string {
  const routes = [...ok.headerValues("record-route")].reverse();
  return sipText([
    `${method} ${ok.contact?.uri.raw ?? ""} SIP/2.0`,
    `Via: SIP/2.0/UDP ${rig.caller.hostport};branch=${rig.caller.branch()};rport`,
    "Max-Forwards: 70",
    ...routes.map((r) => `Route: ${r}`),
    `From: "Alice" <sip:alice@example.com>;tag=${CALLER_TAG}`,
    `To: ${ok.header("to") ?? ""}`,
    `Call-ID: ${ok.callId}`,
    `CSeq: ${cseq} ${method}`,
    ...extra,
  ]);
}

/** INVITE → 200 → ACK through evsip; returns the 200 the caller got. */
async function establish(rig: Rig, callId: string, extraRr: string[] = [], contact?: string): Promise<SipMessageLike> {
  rig.caller.send(invite(rig, callId), rig.port);
  const inv = (await rig.callee.expect(isRequest("INVITE"))).msg;
  rig.callee.send(ok200(rig, inv, extraRr, contact), rig.port);
  const ok = (await rig.caller.expect(isResponse(200, "INVITE"))).msg;
  rig.caller.send(callerRequest(rig, "ACK", ok, 10), rig.port);
  await rig.callee.expect(isRequest("ACK"));
  return ok;
}

test("dlg_bye: each side gets a BYE to its Contact through its route set, tags per direction, CSeq above that side's", async () => {
  const ends = new AsyncQueue<string | undefined>();
  const rig = await startRig((p) => proxyApp(p, {}, { events: { "dialog:end": (ctx) => ends.push(ctx.dialog?.event?.reason) } }));
  try {
    const calleeProxy = `<sip:127.0.0.1:${rig.callee.port};lr>`;
    // The callee's Contact is unreachable: only its proxy (the callee peer itself) leads there.
    const ok = await establish(rig, "wire-1", [calleeProxy], "sip:bob@192.0.2.7:5099");
    // The callee sends an INFO (CSeq 5) through its route set: its first hop is evsip.
    const info = sipText([
      `INFO sip:alice@${rig.caller.hostport} SIP/2.0`,
      `Via: SIP/2.0/UDP ${rig.callee.hostport};branch=${rig.callee.branch()};rport`,
      "Max-Forwards: 70",
      ...ok
        .headerValues("record-route")
        .slice(1)
        .map((r) => `Route: ${r}`),
      `From: ${ok.header("to") ?? ""}`,
      `To: "Alice" <sip:alice@example.com>;tag=${CALLER_TAG}`,
      "Call-ID: wire-1",
      "CSeq: 5 INFO",
      "X-Bye: all",
    ]);
    rig.callee.send(info, rig.port);
    const gotInfo = (await rig.caller.expect(isRequest("INFO"))).msg;
    rig.caller.send(answer(gotInfo, 200, "OK"), rig.port);

    const toCallee = (await rig.callee.expect(isRequest("BYE"))).msg;
    assert.equal(toCallee.requestUri, "sip:bob@192.0.2.7:5099", "the callee's Contact");
    assert.deepEqual(toCallee.headerValues("route"), [calleeProxy], "the route set past evsip");
    assert.equal(toCallee.from.tag, CALLER_TAG);
    assert.equal(toCallee.to.tag, "b-tag");
    assert.deepEqual(toCallee.cseq, { seq: 11, method: "BYE" }, "above the caller's INVITE CSeq 10");
    assert.equal(toCallee.topVia.port, rig.port, "our Via");

    const toCaller = (await rig.caller.expect(isRequest("BYE"))).msg;
    assert.equal(toCaller.requestUri, `sip:alice@${rig.caller.hostport}`);
    assert.deepEqual(toCaller.headerValues("route"), []);
    assert.equal(toCaller.from.tag, "b-tag");
    assert.equal(toCaller.to.tag, CALLER_TAG);
    assert.deepEqual(toCaller.cseq, { seq: 6, method: "BYE" }, "above the callee's INFO CSeq 5");
    rig.caller.send(answer(toCaller, 200, "OK"), rig.port);
    // The callee no longer knows the call: the dialog has ended here all the same, and the refused
    // BYE is counted and logged (that leg may still be up at the callee's end).
    rig.callee.send(answer(toCallee, 481, "Call/Transaction Does Not Exist"), rig.port);
    assert.equal(await ends.next(), "local");
    assert.equal(rig.module.dialogs.table.size, 0);
    const [failed] = await rig.withCode("ERR_DIALOG_BYE_FAILED");
    assert.deepEqual([failed?.to, failed?.status], ["callee", 481]);
    assert.deepEqual([rig.module.stats?.().byesSent, rig.module.stats?.().byesFailed], [2, 1]);
  } finally {
    await rig.stop();
  }
});

test("a spiral through evsip is one dialog: the second dlg_manage joins it, and the BYE ends it once", async () => {
  const starts = new AsyncQueue<unknown>();
  const ends = new AsyncQueue<unknown>();
  let selfPort = 0;
  const rig = await startRig((calleePort) =>
    defineApp({
      modules: { dialog: {} },
      request(ctx) {
        if (ctx.hasToTag()) {
          if (ctx.rr.looseRoute()) ctx.tm.relay();
          return ctx.exit();
        }
        if (ctx.isMethod("INVITE")) ctx.dialog?.manage();
        ctx.rr.recordRoute();
        // First pass: back to ourselves with a new user (a spiral); second pass: to the callee.
        if (ctx.pv("$rU") === "loop") {
          ctx.setPv("$ru", `sip:bob@127.0.0.1:${selfPort}`);
          ctx.tm.relay();
        } else ctx.tm.relay(`sip:127.0.0.1:${calleePort}`);
      },
      events: {
        "dialog:start": (ctx) => starts.push(ctx.pv("$dlg(h_id)")),
        "dialog:end": (ctx) => ends.push(ctx.dialog?.event?.reason),
      },
    }),
  );
  selfPort = rig.port;
  try {
    rig.caller.send(invite(rig, "spiral-1", { ruri: `sip:loop@127.0.0.1:${rig.port}` }), rig.port);
    const inv = (await rig.callee.expect(isRequest("INVITE"))).msg;
    assert.equal(inv.headerValues("record-route").length, 2, "recorded on both passes");
    rig.callee.send(ok200(rig, inv), rig.port);
    const ok = (await rig.caller.expect(isResponse(200, "INVITE"))).msg;
    rig.caller.send(callerRequest(rig, "ACK", ok, 10), rig.port);
    await rig.callee.expect(isRequest("ACK"));
    rig.caller.send(callerRequest(rig, "BYE", ok, 11), rig.port);
    const bye = (await rig.callee.expect(isRequest("BYE"))).msg;
    rig.callee.send(answer(bye, 200, "OK"), rig.port);
    await rig.caller.expect(isResponse(200, "BYE"));
    assert.equal(await starts.next(), 1);
    assert.equal(await ends.next(), "bye");
    const s = rig.module.stats?.() ?? {};
    assert.equal(s.created, 1);
    assert.equal(s.spirals, 1);
    assert.equal(s.started, 1);
    assert.equal(starts.size + ends.size, 0, "one start and one end");
  } finally {
    await rig.stop();
  }
});

test("bad input: a throwing dialog:start route, an oversized $dlg_var, a full table, an unknown in-dialog request, an unknown profile", async () => {
  const ends = new AsyncQueue<unknown>();
  const rig = await startRig((p) =>
    proxyApp(
      p,
      { maxDialogs: 1, maxVarBytes: 64 },
      {
        events: {
          "dialog:start": () => {
            throw new Error("script bug");
          },
          "dialog:end": (ctx) => ends.push(ctx.pv("$dlg_var(small)")),
        },
      },
      (ctx) => {
        ctx.setPv("$dlg_var(small)", "kept");
        ctx.setPv("$dlg_var(huge)", "x".repeat(1000));
        if (ctx.pv("$ci") === "bad-profile") ctx.dialog?.setProfile("nope");
      },
    ),
  );
  try {
    const ok = await establish(rig, "bad-1");
    assert.ok(
      rig.logs.some((l) => l.code === "ERR_ROUTE_THREW"),
      "the throwing route is logged; the call went on",
    );
    assert.ok(rig.logs.some((l) => l.code === "ERR_DIALOG_VAR_TOO_LARGE"));
    assert.equal(rig.module.dialogs.table.size, 1);

    // A second call past maxDialogs is relayed untracked.
    rig.caller.send(invite(rig, "bad-2"), rig.port);
    const inv2 = (await rig.callee.expect(isRequest("INVITE"))).msg;
    assert.equal(inv2.callId, "bad-2");
    rig.callee.send(answer(inv2, 486, "Busy Here"), rig.port);
    await rig.caller.expect(isResponse(486));
    // And ten more: each refused and counted, the log rate-limited to 10 lines per 10 s.
    for (let i = 3; i <= 12; i++) {
      rig.caller.send(invite(rig, `bad-${i}`), rig.port);
      const inv = (await rig.callee.expect((m) => m.callId === `bad-${i}` && m.method === "INVITE")).msg;
      rig.callee.send(answer(inv, 486, "Busy Here"), rig.port);
      await rig.caller.expect((m) => m.callId === `bad-${i}` && m.status === 486);
    }
    assert.equal(rig.logs.filter((l) => l.code === "ERR_DIALOG_LIMIT").length, 10);

    // An initial INVITE with the confirmed call's Call-ID and From-tag (another CSeq): relayed untracked, coded.
    rig.caller.send(invite(rig, "bad-1", { cseq: 20 }), rig.port);
    const again = (await rig.callee.expect((m) => m.callId === "bad-1" && m.method === "INVITE")).msg;
    rig.callee.send(answer(again, 486, "Busy Here"), rig.port);
    await rig.caller.expect((m) => m.callId === "bad-1" && m.status === 486);
    assert.ok(rig.logs.some((l) => l.code === "ERR_DIALOG_IDS_IN_USE"));
    assert.equal(rig.module.stats?.().idsInUse, 1, "and counted");

    // A BYE for no dialog is just relayed.
    rig.caller.send(callerRequest(rig, "BYE", ok, 11).replace("Call-ID: bad-1", "Call-ID: nobody"), rig.port);
    const stray = (await rig.callee.expect(isRequest("BYE"))).msg;
    rig.callee.send(answer(stray, 481, "Call Does Not Exist"), rig.port);
    await rig.caller.expect(isResponse(481));

    rig.caller.send(callerRequest(rig, "BYE", ok, 12), rig.port);
    const bye = (await rig.callee.expect(isRequest("BYE"))).msg;
    rig.callee.send(answer(bye, 200, "OK"), rig.port);
    assert.equal(await ends.next(), "kept", "the small var survived the refused one");

    // An undeclared profile throws: the INVITE gets 500, and no dialog is left behind.
    rig.caller.send(invite(rig, "bad-profile"), rig.port);
    await rig.caller.expect(isResponse(500));
    assert.ok(rig.logs.some((l) => l.code === "ERR_ROUTE_THREW" && String(l.msg).includes("request")));
    const s = rig.module.stats?.() ?? {};
    assert.equal(s.refused, 11);
    assert.equal(s.varRefused, 2);
    assert.equal(s.failed, 1, "the INVITE's 500 failed its dialog");
    assert.equal(rig.module.dialogs.table.size, 0);
    assert.equal(s.unknownInDialog, 1);
  } finally {
    await rig.stop();
  }
});

test("keepalives: OPTIONS to both sides with their own tags and rising CSeqs; answered ones keep the dialog, two 481s in a row end it", async () => {
  const ends = new AsyncQueue<unknown>();
  const rig = await startRig((p) =>
    proxyApp(
      p,
      { kaTimer: 0.02, kaInterval: 0.05, kaFailedLimit: 2 },
      { events: { "dialog:end": (ctx) => ends.push(ctx.dialog?.event?.reason) } },
      (ctx) => {
        ctx.dialog?.setProperty("ka-src");
        ctx.dialog?.setProperty("ka-dst");
      },
    ),
  );
  try {
    await establish(rig, "ka-1");
    const record = rig.module.dialogs.table.values().next().value;
    assert.deepEqual(JSON.parse(JSON.stringify(record)), record, "a dialog is plain data");
    const seqs: number[] = [];
    for (let round = 0; round < 2; round++) {
      const toCaller = (await rig.caller.expect(isRequest("OPTIONS"))).msg;
      const toCallee = (await rig.callee.expect(isRequest("OPTIONS"))).msg;
      assert.equal(toCaller.from.tag, "b-tag");
      assert.equal(toCaller.to.tag, CALLER_TAG);
      assert.equal(toCallee.from.tag, CALLER_TAG);
      assert.equal(toCallee.to.tag, "b-tag");
      seqs.push(toCallee.cseq.seq);
      rig.caller.send(answer(toCaller, 200, "OK"), rig.port);
      rig.callee.send(answer(toCallee, round === 0 ? 200 : 481, round === 0 ? "OK" : "Call Does Not Exist"), rig.port);
    }
    // The second round's 481 is the first failure in a row; the third round's ends the dialog.
    const toCallee = (await rig.callee.expect(isRequest("OPTIONS"))).msg;
    seqs.push(toCallee.cseq.seq);
    rig.callee.send(answer(toCallee, 481, "Call Does Not Exist"), rig.port);
    assert.equal(await ends.next(), "keepalive");
    assert.deepEqual(seqs, [11, 12, 13], "each above the caller's INVITE CSeq 10 and the one before");
    await rig.callee.expect(isRequest("BYE"));
    await rig.caller.expect(isRequest("BYE"));
    const s = rig.module.stats?.() ?? {};
    assert.equal(s.keepaliveFailures, 2);
    assert.equal(rig.module.dialogs.table.size, 0);
  } finally {
    await rig.stop();
  }
});

test("a dialog record survives JSON: restored into another router (past its maxDialogs too) it is back in its profile with its vars, and times out there", async () => {
  const rigA = await startRig((p) =>
    proxyApp(p, {}, {}, (ctx) => {
      ctx.setPv("$dlg_var(account)", "alice");
      ctx.dialog?.setProfile("calls");
    }),
  );
  const json = await establish(rigA, "restore-1")
    .then(() => JSON.stringify(rigA.module.dialogs.table.values().next().value))
    .finally(() => rigA.stop());
  const ends = new AsyncQueue<[unknown, unknown]>();
  const rigB = await startRig((p) =>
    proxyApp(
      p,
      { maxDialogs: 1 },
      { events: { "dialog:end": (ctx) => ends.push([ctx.dialog?.event?.reason, ctx.pv("$dlg_var(account)")]) } },
    ),
  );
  try {
    const record = JSON.parse(json) as DialogRecord;
    record.expiresAt = Date.now(); // its lifetime ran out while no router kept it
    assert.equal(rigB.module.dialogs.restore(record), true);
    assert.equal(rigB.module.dialogs.restore(JSON.parse(json) as DialogRecord), false, "its ids are taken");
    const other = { ...(JSON.parse(json) as DialogRecord), callId: "restore-2", hId: 99, expiresAt: Date.now() };
    assert.equal(rigB.module.dialogs.restore(other), true, "past maxDialogs a call that is up still comes back");
    assert.equal(rigB.module.dialogs.table.size, 2);
    assert.equal(rigB.module.dialogs.profiles.size("calls"), 2);
    assert.deepEqual(await ends.next(), ["timeout", "alice"]);
    assert.deepEqual(await ends.next(), ["timeout", "alice"]);
    assert.equal(rigB.module.dialogs.profiles.size("calls"), 0);
  } finally {
    await rigB.stop();
  }
});

test("an early dialog that never gets its final fails at earlyTimeout (dialog:failed, reason early-timeout)", async () => {
  const failed = new AsyncQueue<[unknown, unknown, unknown]>();
  const rig = await startRig((p) =>
    proxyApp(
      p,
      { earlyTimeout: 0.2 },
      {
        events: {
          "dialog:failed": (ctx) => failed.push([ctx.dialog?.event?.reason, ctx.dialog?.event?.status, ctx.pv("$dlg(state)")]),
        },
      },
    ),
  );
  try {
    rig.caller.send(invite(rig, "early-1"), rig.port);
    const inv = (await rig.callee.expect(isRequest("INVITE"))).msg;
    rig.callee.send(answer(inv, 180, "Ringing", "b-tag"), rig.port);
    await rig.caller.expect(isResponse(180));
    assert.equal(rig.module.dialogs.byState().get("early"), 1);
    assert.deepEqual(await failed.next(), ["early-timeout", 408, 5]);
    assert.equal(rig.module.dialogs.table.size, 0);
  } finally {
    await rig.stop();
  }
});
