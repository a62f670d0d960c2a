// A TypeScript app's flags and header edits across t_suspend / t_continue and a failure route, on
// the wire (scripted UAC and UAS peers): what the request route set before suspending is what the
// continue route sees and relays; a flag set after suspending stays the request route's; what the
// continue route adds goes on its branch, and the failure route starts again from the request
// route's edits; its local reply carries appendToReply lines only.
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineApp } from "../../src/app.js";
import { startRouter } from "../support/router.js";
import { isRequest, isResponse, SipPeer, sipText, type Received } from "../support/sip-peer.js";
import { answer, request } from "../support/tm-harness.js";

function xHeaders(r: Received): string[] {
  return r.msg.buf
    .toString("latin1")
    .split("\r\n")
    .filter((l) => /^x-/i.test(l));
}

test("flags and header edits travel from the request route through suspend/continue and into the failure route", async () => {
  const [uac, uas] = await Promise.all([SipPeer.open(), SipPeer.open()]);
  const seen: Record<string, unknown> = {};
  const app = defineApp({
    request(ctx) {
      if (ctx.isMethod("ACK")) return ctx.exit();
      ctx.setFlag(3);
      ctx.setBranchFlag(1);
      ctx.appendHeader("X-Req: 1");
      ctx.removeHeader("X-Drop");
      ctx.appendToReply("X-Local: 1");
      const id = ctx.tm.suspend();
      assert.ok(id);
      ctx.setFlag(4); // after the suspension: the request route's own
      setImmediate(() => ctx.tm.continue(id.index, id.label, "RESUME"));
    },
    routes: {
      RESUME(ctx) {
        seen.resume = [ctx.isFlagSet(3), ctx.isFlagSet(4), ctx.isBranchFlagSet(1)];
        ctx.setFlag(5);
        ctx.appendHeader("X-Resume: 1");
        ctx.setPv("$du", `sip:${uas.hostport}`);
        ctx.tm.onFailure("FAILED");
        ctx.tm.relay();
      },
      FAILED(ctx) {
        seen.failure = [ctx.isFlagSet(3), ctx.isFlagSet(4), ctx.isFlagSet(5), ctx.pv("$mf")];
        ctx.tm.reply(500, "Failed");
      },
    },
  });
  const r = await startRouter(app, ["udp:127.0.0.1:0"]);
  try {
    const lines = request("INVITE", { uacHostport: uac.hostport, branch: uac.branch(), callId: "fhc-1" });
    uac.send(sipText([...lines, "X-Drop: d"]), r.udpPort);
    assert.deepEqual(xHeaders(await uac.expect(isResponse(100))), ["X-Local: 1"]);
    const inv = await uas.expect(isRequest("INVITE"));
    assert.deepEqual(xHeaders(inv), ["X-Req: 1", "X-Resume: 1"]);
    uas.send(answer(inv.msg, 486, "Busy Here"), r.udpPort);
    const final = await uac.expect(isResponse(500));
    assert.deepEqual(xHeaders(final), ["X-Local: 1"]);
    assert.deepEqual(seen, { resume: [true, false, true], failure: [true, false, true, 8 + 32] });
  } finally {
    await r.stop();
    uac.close();
    uas.close();
  }
});

test("ctx.tm.hold() keeps the flags and append_to_reply lines with the transaction, as suspend() does", async () => {
  const uac = await SipPeer.open();
  const seen: Record<string, unknown> = {};
  const app = defineApp({
    tm: { frTimer: 300 },
    async request(ctx) {
      if (ctx.isMethod("ACK")) return ctx.exit();
      ctx.tm.onFailure("FAILED");
      ctx.setFlag(3);
      ctx.appendToReply("X-Local: 1");
      await ctx.tm.hold(new Promise(() => undefined)); // never settles: frTimer ends the wait with 408 handling
    },
    routes: {
      FAILED(ctx) {
        seen.failure = [ctx.isFlagSet(3), ctx.pv("$mf")];
        ctx.tm.reply(503, "Held Too Long");
      },
    },
  });
  const r = await startRouter(app, ["udp:127.0.0.1:0"]);
  try {
    uac.send(sipText(request("INVITE", { uacHostport: uac.hostport, branch: uac.branch(), callId: "fhc-hold" })), r.udpPort);
    assert.deepEqual(xHeaders(await uac.expect(isResponse(100))), ["X-Local: 1"]);
    const final = await uac.expect(isResponse(503));
    assert.deepEqual(xHeaders(final), ["X-Local: 1"]);
    assert.deepEqual(seen, { failure: [true, 8] });
  } finally {
    await r.stop();
    uac.close();
  }
});

test("a 100 Trying that leaves after the continue route relays carries the lines of when it was scheduled", async () => {
  const [uac, uas] = await Promise.all([SipPeer.open(), SipPeer.open()]);
  const app = defineApp({
    // Long enough that the continue route relays, and adds lines, before the 100 leaves.
    tm: { trying100Delay: 150 },
    request(ctx) {
      if (ctx.isMethod("ACK")) return ctx.exit();
      ctx.appendToReply("X-Local: 1");
      const id = ctx.tm.suspend();
      assert.ok(id);
      setImmediate(() => ctx.tm.continue(id.index, id.label, "RESUME"));
    },
    routes: {
      RESUME(ctx) {
        ctx.appendToReply("X-Resume: 1");
        ctx.setPv("$du", `sip:${uas.hostport}`);
        ctx.tm.relay();
      },
    },
  });
  const r = await startRouter(app, ["udp:127.0.0.1:0"]);
  try {
    uac.send(sipText(request("INVITE", { uacHostport: uac.hostport, branch: uac.branch(), callId: "fhc-late" })), r.udpPort);
    const inv = await uas.expect(isRequest("INVITE"));
    // As Kamailio, which sends it at t_suspend: the suspending route's lines only.
    assert.deepEqual(xHeaders(await uac.expect(isResponse(100))), ["X-Local: 1"]);
    uas.send(answer(inv.msg, 486, "Busy Here"), r.udpPort);
    await uac.expect(isResponse(486));
  } finally {
    await r.stop();
    uac.close();
    uas.close();
  }
});
