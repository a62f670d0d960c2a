// tm's auto_inv_100_reason on the wire, Kamailio 5.6 against evsip's cfg loader with one cfg and the
// same peers: the automatic 100 Trying of a relayed INVITE carries the cfg's reason phrase. (evsip
// holds its 100 back for tm.trying100Delay; the callee answers only once the caller has it.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { kamailioSkipReason } from "../support/kamailio.js";
import { onProxy, type ProxyKind } from "../support/cfg-wire.js";
import { isRequest, isResponse, sipText } from "../support/sip-peer.js";
import { answer, request } from "../support/tm-harness.js";

const MODULES = ["tm", "sl", "pv", "textops"];
const skip = kamailioSkipReason(MODULES);

const CFG = `#!KAMAILIO
debug=1
log_stderror=yes
${MODULES.map((m) => `loadmodule "${m}.so"`).join("\n")}
modparam("tm", "auto_inv_100_reason", "Wait, please")
request_route {
  if (is_method("OPTIONS")) { sl_send_reply("483", "Probe"); exit; }
  $du = UAS_URI;
  t_relay();
}
`;

async function run(kind: ProxyKind): Promise<string[]> {
  return onProxy(kind, CFG, async ({ uac, uas, port }) => {
    const lines = request("INVITE", { uacHostport: uac.hostport, branch: uac.branch(), callId: `reason-${kind}` });
    uac.send(sipText(lines), port);
    const invite = await uas.expect(isRequest("INVITE"));
    const trying = await uac.expect(isResponse(100));
    uas.send(answer(invite.msg, 486, "Busy Here"), port);
    const busy = await uac.expect(isResponse(486));
    return [trying.msg.reason, busy.msg.reason];
  });
}

test("auto_inv_100_reason: the relayed INVITE's 100 carries it; Kamailio and evsip agree", { skip }, async () => {
  const kamailio = await run("kamailio");
  assert.deepEqual(kamailio, ["Wait, please", "Busy Here"]);
  assert.deepEqual(await run("evsip"), kamailio);
});
