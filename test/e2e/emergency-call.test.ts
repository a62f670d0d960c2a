// An emergency call addressed as RFC 6881 asks (Request-URI and To `urn:service:sos`, RFC 5031) is
// routed like any call, and a script reads its URIs as Kamailio's does: $rz "urn", $rU the
// namespace, $rd the rest. The same cfg (test/fixtures/kamailio/emergency.cfg) runs in evsip and in
// Kamailio 5.6, and both answer the same INVITEs with the same values.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadCfgFile } from "../../src/cfg/load-cfg.js";
import { startRouter } from "../support/router.js";
import { SipPeer, sipText } from "../support/sip-peer.js";
import { freePort } from "../support/sipp.js";
import { kamailioSkipReason, startKamailio } from "../support/kamailio.js";

const CFG = new URL("../../../test/fixtures/kamailio/emergency.cfg", import.meta.url).pathname;

/** Request-URI, To URI, and the X-Uri both routers answer with. */
const CASES = [
  ["urn:service:sos", "<urn:service:sos>", "urn service sos urn:service:sos service sos"],
  ["urn:service:sos.police", "urn:service:sos.police", "urn service sos.police urn:service:sos.police service sos.police"],
  ["sip:112@127.0.0.1", "<urn:service:sos>", "sip 112 127.0.0.1 urn:service:sos service sos"],
] as const;

/** The X-Uri of the 486 for each case, from the router on `port`. */
async function answers(port: number): Promise<string[]> {
  const peer = await SipPeer.open();
  const out: string[] = [];
  try {
    for (const [i, [ruri, to]] of CASES.entries()) {
      const callId = `sos-${i}-${port}`;
      peer.send(
        sipText([
          `INVITE ${ruri} SIP/2.0`,
          `Via: SIP/2.0/UDP ${peer.hostport};branch=${peer.branch()}`,
          "Max-Forwards: 70",
          "From: <sip:alice@127.0.0.1>;tag=a1",
          `To: ${to}`,
          `Call-ID: ${callId}`,
          "CSeq: 1 INVITE",
          "Contact: <sip:alice@127.0.0.1>",
        ]),
        port,
      );
      const got = await peer.expect((m) => !m.isRequest && m.callId === callId, 5000);
      assert.equal(got.msg.status, 486, `${ruri}: answered by the route, not refused as malformed`);
      out.push(got.msg.header("X-Uri") ?? "");
    }
  } finally {
    peer.close();
  }
  return out;
}

const EXPECTED = CASES.map((c) => c[2]);

test("evsip routes an emergency call and its script reads the service URN's parts", async () => {
  const r = await startRouter(loadCfgFile(CFG).app, ["udp:127.0.0.1:0"]);
  try {
    assert.deepEqual(await answers(r.udpPort), EXPECTED);
  } finally {
    await r.stop();
  }
});

test("Kamailio 5.6 reads the same values from the same cfg", { skip: kamailioSkipReason(["sl", "pv", "textops"]) }, async () => {
  const port = await freePort();
  const k = await startKamailio(CFG, port);
  try {
    assert.deepEqual(await answers(port), EXPECTED);
  } finally {
    await k.stop();
  }
});
