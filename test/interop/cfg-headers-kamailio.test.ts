// append_hf, remove_hf, is_present_hf and append_to_reply on the wire, Kamailio 5.6 against
// evsip's cfg loader with one cfg and the same peers: append_hf and remove_hf edit the request
// relayed (and, from the request route, the branches the failure route relays) and the reply let
// through, never a reply the proxy sends itself; append_to_reply goes on those replies only.
import { test } from "node:test";
import assert from "node:assert/strict";
import { kamailioSkipReason } from "../support/kamailio.js";
import { onProxy, type ProxyKind } from "../support/cfg-wire.js";
import { isRequest, isResponse, sipText, type Received } from "../support/sip-peer.js";
import { answer, request } from "../support/tm-harness.js";

const MODULES = ["tm", "tmx", "sl", "pv", "textops"];
const skip = kamailioSkipReason(MODULES);

const CFG = `#!KAMAILIO
debug=1
log_stderror=yes
${MODULES.map((m) => `loadmodule "${m}.so"`).join("\n")}
request_route {
  if (is_method("OPTIONS")) { sl_send_reply("483", "Probe"); exit; }
  if ($rU == "local") {
    append_hf("X-Req: never\\r\\n");
    append_to_reply("X-Local: yes\\r\\n");
    sl_send_reply("403", "Local");
    exit;
  }
  if ($rU == "stateless") {
    append_hf("X-Fwd: stateless\\r\\n");
    $du = UAS_URI;
    forward();
    exit;
  }
  append_hf("X-Req: $rU\\r\\n");
  remove_hf("X-Drop");
  if (is_present_hf("X-Keep")) append_hf("X-Saw: keep\\r\\n");
  if (!is_present_hf("X-Absent")) append_hf("X-Absent-Seen: no\\r\\n");
  append_to_reply("X-Reply: local\\r\\n");
  $du = UAS_URI;
  t_on_reply("REPLY");
  t_on_failure("MISSED");
  t_relay();
  exit;
}
onreply_route {
  if ($ci =~ "^stateless-") {
    append_hf("X-Core: $rs\\r\\n");
    remove_hf("X-Secret");
  }
}
onreply_route[REPLY] {
  append_hf("X-Rpl: $rs\\r\\n");
  remove_hf("X-Secret");
}
failure_route[MISSED] {
  append_hf("X-Fail: $T(reply_code)\\r\\n");
  if ($avp(again) == $null) {
    $avp(again) = 1;
    $du = UAS_URI;
    t_on_failure("MISSED");
    t_relay();
    exit;
  }
  t_reply("500", "Failed");
}
`;

/** The X- headers of a message, in order, as "Name: value". */
function xHeaders(r: Received): string {
  const lines = r.msg.buf.toString("latin1").split("\r\n");
  return lines.filter((l) => /^x-/i.test(l)).join(", ");
}

/** A UAS answer carrying a header the reply route removes. */
function answerWithSecret(r: Received, status: number, reason: string): string {
  return answer(r.msg, status, reason).replace("Content-Length: 0", "X-Secret: s\r\nContent-Length: 0");
}

async function run(kind: ProxyKind): Promise<Record<string, string>> {
  return onProxy(kind, CFG, async ({ uac, uas, port }) => {
    const seen: Record<string, string> = {};
    const lines = request("INVITE", { uacHostport: uac.hostport, branch: uac.branch(), callId: `hdr-${kind}` });
    uac.send(sipText([...lines, "X-Drop: a", "X-Keep: 1", "X-Drop: b"]), port);
    seen["100 Trying"] = xHeaders(await uac.expect(isResponse(100)));
    const inv1 = await uas.expect(isRequest("INVITE"));
    seen["first INVITE"] = xHeaders(inv1);
    uas.send(answerWithSecret(inv1, 180, "Ringing"), port);
    seen["180 relayed"] = xHeaders(await uac.expect(isResponse(180)));
    uas.send(answerWithSecret(inv1, 486, "Busy Here"), port);
    await uas.expect(isRequest("ACK"));
    // The failure route's INVITE, a new branch (not a Timer A copy of the first, on a slow machine).
    const inv2 = await uas.expect((m) => isRequest("INVITE")(m) && m.topVia.branch !== inv1.msg.topVia.branch);
    seen["INVITE of the failure route"] = xHeaders(inv2);
    uas.send(answer(inv2.msg, 486, "Busy Here", "b2"), port);
    seen["500 of the failure route"] = xHeaders(await uac.expect(isResponse(500)));

    const local = request("INVITE", {
      uacHostport: uac.hostport,
      branch: uac.branch(),
      callId: `hdr-local-${kind}`,
      ruri: "sip:local@example.com",
    });
    uac.send(sipText(local), port);
    seen["403 of sl_send_reply"] = xHeaders(await uac.expect(isResponse(403)));

    const sl = request("MESSAGE", {
      uacHostport: uac.hostport,
      branch: uac.branch(),
      callId: `stateless-${kind}`,
      ruri: "sip:stateless@example.com",
    });
    uac.send(sipText(sl), port);
    const msg = await uas.expect(isRequest("MESSAGE"));
    seen["MESSAGE forwarded"] = xHeaders(msg);
    uas.send(answerWithSecret(msg, 202, "Accepted"), port);
    seen["202 forwarded statelessly"] = xHeaders(await uac.expect(isResponse(202)));
    return seen;
  });
}

test(
  "append_hf/remove_hf edit what is relayed, append_to_reply what is replied; Kamailio and evsip agree",
  { skip },
  async () => {
    const kamailio = await run("kamailio");
    const evsip = await run("evsip");
    assert.deepEqual(kamailio, {
      // Kamailio's 100 Trying is a local reply: it carries append_to_reply's lines.
      "100 Trying": "X-Reply: local",
      "first INVITE": "X-Keep: 1, X-Req: bob, X-Saw: keep, X-Absent-Seen: no",
      "180 relayed": "X-Rpl: 180",
      "INVITE of the failure route": "X-Keep: 1, X-Req: bob, X-Saw: keep, X-Absent-Seen: no, X-Fail: 486",
      "500 of the failure route": "X-Reply: local",
      "403 of sl_send_reply": "X-Local: yes",
      "MESSAGE forwarded": "X-Fwd: stateless",
      "202 forwarded statelessly": "X-Core: 202",
    });
    assert.deepEqual(evsip, kamailio);
  },
);
