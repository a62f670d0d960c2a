// A local 1xx or 2xx to an INVITE that came through record-routing proxies carries their
// Record-Route, in order (RFC 3261 §12.1.1: the caller routes the dialog's ACK and BYE through them),
// as Kamailio's sl_send_reply and t_reply do; a 100 or a failure does not. The same INVITEs go to
// evsip and to Kamailio 5.6 with test/fixtures/kamailio/local-replies.cfg.
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineApp } from "../../src/app.js";
import { startRouter } from "../support/router.js";
import { SipPeer, sipText } from "../support/sip-peer.js";
import { freePort } from "../support/sipp.js";
import { kamailioSkipReason, startKamailio } from "../support/kamailio.js";

const RR = ["<sip:192.0.2.1;lr>", "<sip:192.0.2.2;lr;ftag=x>"];
const CASES = [
  ["sl", 200],
  ["tm", 200],
  ["ring", 180],
  ["busy", 486],
] as const;

function invite(peer: SipPeer, user: string, port: number): string {
  return sipText([
    `INVITE sip:${user}@127.0.0.1:${port} SIP/2.0`,
    `Via: SIP/2.0/UDP ${peer.hostport};branch=${peer.branch()}`,
    ...RR.map((r) => `Record-Route: ${r}`),
    "Max-Forwards: 70",
    "From: <sip:alice@127.0.0.1>;tag=a1",
    `To: <sip:${user}@127.0.0.1>`,
    `Call-ID: rr-local-${user}-${port}`,
    "CSeq: 1 INVITE",
    "Contact: <sip:alice@127.0.0.1>",
  ]);
}

/** The Record-Route of each case's reply from the router on `port`. */
async function recordRoutes(port: number): Promise<Map<string, string[]>> {
  const peer = await SipPeer.open();
  const out = new Map<string, string[]>();
  try {
    for (const [user, status] of CASES) {
      peer.send(invite(peer, user, port), port);
      const got = await peer.expect((m) => !m.isRequest && m.status === status && m.callId === `rr-local-${user}-${port}`, 5000);
      out.set(user, got.msg.headerValues("Record-Route"));
    }
  } finally {
    peer.close();
  }
  return out;
}

const EXPECTED = new Map<string, string[]>([
  ["sl", RR],
  ["tm", RR],
  ["ring", RR],
  ["busy", []],
]);

test("evsip's local 1xx and 2xx carry the INVITE's Record-Route, its 486 does not", async () => {
  const r = await startRouter(
    defineApp({
      request(ctx) {
        if (ctx.isMethod("ACK")) return;
        const user = String(ctx.pv("$rU"));
        if (user === "sl") ctx.sl.sendReply(200, "OK");
        else if (user === "ring") ctx.tm.reply(180, "Ringing");
        else if (user === "busy") ctx.tm.reply(486, "Busy Here");
        else ctx.tm.reply(200, "OK");
      },
    }),
    ["udp:127.0.0.1:0"],
  );
  try {
    assert.deepEqual(await recordRoutes(r.udpPort), EXPECTED);
  } finally {
    await r.stop();
  }
});

test(
  "Kamailio 5.6 does the same with sl_send_reply and t_reply",
  { skip: kamailioSkipReason(["tm", "sl", "pv", "textops"]) },
  async () => {
    const port = await freePort();
    const k = await startKamailio(new URL("../../../test/fixtures/kamailio/local-replies.cfg", import.meta.url).pathname, port);
    try {
      assert.deepEqual(await recordRoutes(port), EXPECTED);
    } finally {
      await k.stop();
    }
  },
);
