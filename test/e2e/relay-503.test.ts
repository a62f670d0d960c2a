// A server's 503 is not passed upstream as it is (RFC 3261 §16.7 step 6): it would tell the caller
// that this router cannot serve any request, and a caller that honours its Retry-After would stop
// sending here. The router answers 500 instead, with the 503's reason and without its Retry-After,
// as Kamailio 5.6 does by default (tm remap_503_500). The same cfg
// (test/fixtures/kamailio/relay-503.cfg) runs in evsip and in Kamailio; with REMAP_OFF both relay
// the 503 as it came.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadCfgFile } from "../../src/cfg/load-cfg.js";
import { buildResponse } from "../../src/sip/index.js";
import { startRouter } from "../support/router.js";
import { isFinal, isRequest, SipPeer, sipText } from "../support/sip-peer.js";
import { freePort } from "../support/sipp.js";
import { kamailioSkipReason, startKamailio } from "../support/kamailio.js";

const CFG = new URL("../../../test/fixtures/kamailio/relay-503.cfg", import.meta.url).pathname;

interface Upstream {
  status: number;
  reason: string;
  retryAfter: string | undefined;
  toTag: string | undefined;
}

/** What the caller gets when the server behind the router on `port` answers an INVITE 503 + Retry-After. */
async function upstreamOf(port: number, uas: SipPeer, callId: string): Promise<Upstream> {
  const uac = await SipPeer.open();
  try {
    uac.send(
      sipText([
        "INVITE sip:bob@127.0.0.1 SIP/2.0",
        `Via: SIP/2.0/UDP ${uac.hostport};branch=${uac.branch()}`,
        "Max-Forwards: 70",
        "From: <sip:alice@127.0.0.1>;tag=a1",
        "To: <sip:bob@127.0.0.1>",
        `Call-ID: ${callId}`,
        "CSeq: 1 INVITE",
        "Contact: <sip:alice@127.0.0.1>",
      ]),
      port,
    );
    const inv = await uas.expect((m) => isRequest("INVITE")(m) && m.callId === callId, 5000);
    uas.send(buildResponse(inv.msg, 503, "Service Unavailable", { toTag: "uas", headers: ["Retry-After: 30"] }), inv.from.port);
    const m = (await uac.expect(isFinal(callId), 5000)).msg;
    return { status: m.status, reason: m.reason, retryAfter: m.header("Retry-After"), toTag: m.to.tag };
  } finally {
    uac.close();
  }
}

function defines(uas: SipPeer, remapOff: boolean): Map<string, string> {
  const d = new Map([["UAS_URI", `"sip:${uas.hostport}"`]]);
  if (remapOff) d.set("REMAP_OFF", "1");
  return d;
}

function assertRemapped(u: Upstream): void {
  assert.equal(u.status, 500);
  assert.equal(u.reason, "Service Unavailable", "the 503's reason phrase");
  assert.equal(u.retryAfter, undefined, "its Retry-After is not passed on");
  assert.ok(u.toTag !== undefined && u.toTag !== "uas", "a response of the router's own");
}

const AS_IS: Upstream = { status: 503, reason: "Service Unavailable", retryAfter: "30", toTag: "uas" };

for (const remapOff of [false, true]) {
  const what = remapOff ? "with remap_503_500 off, relays it as it came" : "answers 500 with its reason, without Retry-After";
  test(`evsip, given a server's 503, ${what}`, async () => {
    const uas = await SipPeer.open();
    const r = await startRouter(loadCfgFile(CFG, defines(uas, remapOff)).app, ["udp:127.0.0.1:0"]);
    try {
      const u = await upstreamOf(r.udpPort, uas, `r503-e-${String(remapOff)}`);
      if (remapOff) assert.deepEqual(u, AS_IS);
      else assertRemapped(u);
      assert.equal(r.internals.engine.tu.stats.remapped503, remapOff ? 0 : 1);
    } finally {
      uas.close();
      await r.stop();
    }
  });

  test(`Kamailio 5.6, given a server's 503, ${what}`, { skip: kamailioSkipReason(["tm", "sl", "pv", "textops"]) }, async () => {
    const uas = await SipPeer.open();
    const port = await freePort();
    const k = await startKamailio(CFG, port, Object.fromEntries(defines(uas, remapOff)));
    try {
      const u = await upstreamOf(port, uas, `r503-k-${String(remapOff)}`);
      if (remapOff) assert.deepEqual(u, AS_IS);
      else assertRemapped(u);
    } finally {
      uas.close();
      await k.stop();
    }
  });
}
