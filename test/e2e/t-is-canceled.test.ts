// t_is_canceled / ctx.tm.isCancelled(): a failure route runs for a cancelled call too (its branch
// answered 487), and the usual failure route (Kamailio's stock cfg: `if (t_is_canceled()) exit;`)
// must not try the next destination then. A scripted caller and callee on real UDP sockets: a busy
// callee gets the failure route's 503; a call the caller cancels while it rings ends 487.
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineApp, type AnyAppDefinition } from "../../src/app.js";
import { buildResponse } from "../../src/sip/build-response.js";
import { loadCfgText } from "../../src/cfg/load-cfg.js";
import { startRouter } from "../support/router.js";
import { SipPeer, isRequest, isResponse, sipText } from "../support/sip-peer.js";

function invite(caller: SipPeer, callId: string, branch: string, method = "INVITE"): string {
  return sipText([
    `${method} sip:bob@127.0.0.1 SIP/2.0`,
    `Via: SIP/2.0/UDP ${caller.hostport};branch=${branch}`,
    "Max-Forwards: 70",
    `From: <sip:alice@127.0.0.1>;tag=a${callId}`,
    "To: <sip:bob@127.0.0.1>",
    `Call-ID: ${callId}`,
    `CSeq: 1 ${method}`,
    `Contact: <sip:alice@${caller.hostport}>`,
  ]);
}

/** A busy call (486 → the failure route's 503) and a cancelled one (→ 487), through `app`. */
async function busyThenCancelled(app: AnyAppDefinition, callee: SipPeer): Promise<void> {
  const r = await startRouter(app, ["udp:127.0.0.1:0"]);
  const caller = await SipPeer.open();
  try {
    caller.send(invite(caller, "busy-1", caller.branch()), r.udpPort);
    const busy = await callee.expect((m) => isRequest("INVITE")(m) && m.callId === "busy-1");
    callee.send(buildResponse(busy.msg, 486, "Busy Here", { toTag: "callee" }), busy.from.port);
    const tried = await caller.expect((m) => m.callId === "busy-1" && m.status >= 300);
    assert.equal(tried.msg.status, 503, "not cancelled: the failure route tries the next destination");

    const branch = caller.branch();
    caller.send(invite(caller, "cancel-1", branch), r.udpPort);
    const ringing = await callee.expect((m) => isRequest("INVITE")(m) && m.callId === "cancel-1");
    callee.send(buildResponse(ringing.msg, 180, "Ringing", { toTag: "callee" }), ringing.from.port);
    await caller.expect(isResponse(180));
    caller.send(invite(caller, "cancel-1", branch, "CANCEL"), r.udpPort);
    await caller.expect((m) => m.callId === "cancel-1" && isResponse(200, "CANCEL")(m));
    const cancel = await callee.expect((m) => isRequest("CANCEL")(m) && m.callId === "cancel-1");
    callee.send(buildResponse(cancel.msg, 200, "OK", { toTag: "callee" }), cancel.from.port);
    callee.send(buildResponse(ringing.msg, 487, "Request Terminated", { toTag: "callee" }), ringing.from.port);
    const ended = await caller.expect((m) => m.callId === "cancel-1" && m.status >= 300);
    assert.equal(ended.msg.status, 487, "cancelled: the failure route stopped, the caller gets 487");
  } finally {
    caller.close();
    await r.stop();
  }
}

test("ctx.tm.isCancelled() in a failure route: false for a busy callee, true after the caller's CANCEL", async () => {
  const callee = await SipPeer.open();
  const seen: boolean[] = [];
  const app = defineApp({
    request(ctx) {
      if (ctx.isMethod("ACK")) return;
      if (!ctx.isMethod("CANCEL")) ctx.tm.onFailure("NEXT");
      ctx.tm.relay(`sip:${callee.hostport}`);
    },
    routes: {
      NEXT(ctx) {
        seen.push(ctx.tm.isCancelled());
        if (ctx.tm.isCancelled()) return;
        ctx.tm.reply(503, "Next Gateway Would Be Tried");
      },
    },
  });
  try {
    await busyThenCancelled(app, callee);
    assert.deepEqual(seen, [false, true]);
  } finally {
    callee.close();
  }
});

test("t_is_canceled() in a cfg failure route, as Kamailio's stock cfg uses it", async () => {
  const callee = await SipPeer.open();
  const cfg =
    'loadmodule "tm.so"\nloadmodule "sl.so"\nloadmodule "textops.so"\n' +
    "request_route {\n" +
    '  if (is_method("ACK")) { exit; }\n' +
    '  if (!is_method("CANCEL")) { t_on_failure("MANAGE_FAILURE"); }\n' +
    `  $du = "sip:${callee.hostport}";\n` +
    "  t_relay();\n" +
    "}\n" +
    "failure_route[MANAGE_FAILURE] {\n" +
    "  if (t_is_canceled()) { exit; }\n" +
    '  t_reply("503", "Next Gateway Would Be Tried");\n' +
    "}\n";
  try {
    await busyThenCancelled(loadCfgText(cfg, "t-is-canceled.cfg").app, callee);
  } finally {
    callee.close();
  }
});
