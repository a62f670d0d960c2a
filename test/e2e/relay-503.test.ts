// A server's 503 is not passed upstream as it is (RFC 3261 §16.7 step 6): it would tell the caller
// that this router cannot serve any request, and a caller that honours its Retry-After would stop
// sending here. The router answers 500 Service Unavailable instead, without the 503's reason or
// Retry-After and with the request route's append_to_reply line, as Kamailio 5.6 does by default (tm remap_503_500). The same cfg
// (test/fixtures/kamailio/relay-503.cfg) runs in evsip and in Kamailio, for an INVITE and a
// MESSAGE; with REMAP_OFF both relay the 503 as it came.
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
  /** The line the request route added with append_to_reply. */
  xRoute: string | undefined;
}

/** What the caller gets when the server behind the router on `port` answers `method` 503 + Retry-After. */
async function upstreamOf(port: number, uas: SipPeer, callId: string, method = "INVITE"): Promise<Upstream> {
  const uac = await SipPeer.open();
  try {
    uac.send(
      sipText([
        `${method} sip:bob@127.0.0.1 SIP/2.0`,
        `Via: SIP/2.0/UDP ${uac.hostport};branch=${uac.branch()}`,
        "Max-Forwards: 70",
        "From: <sip:alice@127.0.0.1>;tag=a1",
        "To: <sip:bob@127.0.0.1>",
        `Call-ID: ${callId}`,
        `CSeq: 1 ${method}`,
        "Contact: <sip:alice@127.0.0.1>",
      ]),
      port,
    );
    const inv = await uas.expect((m) => isRequest(method)(m) && m.callId === callId, 5000);
    // A reason of the server's own: what the caller gets shows whose text it is.
    uas.send(buildResponse(inv.msg, 503, "Overloaded", { toTag: "uas", headers: ["Retry-After: 30"] }), inv.from.port);
    const m = (await uac.expect(isFinal(callId), 5000)).msg;
    return {
      status: m.status,
      reason: m.reason,
      retryAfter: m.header("Retry-After"),
      toTag: m.to.tag,
      xRoute: m.header("X-Route"),
    };
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
  assert.equal(u.reason, "Service Unavailable", "the router's reason, not the server's");
  assert.equal(u.retryAfter, undefined, "its Retry-After is not passed on");
  assert.ok(u.toTag !== undefined && u.toTag !== "uas", "a response of the router's own");
  assert.equal(u.xRoute, "kept", "with the request route's append_to_reply lines, as any local reply");
}

const AS_IS: Upstream = { status: 503, reason: "Overloaded", retryAfter: "30", toTag: "uas", xRoute: undefined };

for (const remapOff of [false, true]) {
  const what = remapOff
    ? "with remap_503_500 off, relays it as it came"
    : "answers 500 Service Unavailable, without its Retry-After";
  test(`evsip, given a server's 503, ${what}`, async () => {
    const uas = await SipPeer.open();
    const r = await startRouter(loadCfgFile(CFG, defines(uas, remapOff)).app, ["udp:127.0.0.1:0"]);
    try {
      for (const method of ["INVITE", "MESSAGE"]) {
        const u = await upstreamOf(r.udpPort, uas, `r503-e-${String(remapOff)}-${method}`, method);
        if (remapOff) assert.deepEqual(u, AS_IS, method);
        else assertRemapped(u);
      }
      assert.equal(r.internals.engine.tu.stats.remapped503, remapOff ? 0 : 2);
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
      for (const method of ["INVITE", "MESSAGE"]) {
        const u = await upstreamOf(port, uas, `r503-k-${String(remapOff)}-${method}`, method);
        if (remapOff) assert.deepEqual(u, AS_IS, method);
        else assertRemapped(u);
      }
    } finally {
      uas.close();
      await k.stop();
    }
  });
}
