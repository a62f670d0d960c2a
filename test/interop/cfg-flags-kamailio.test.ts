// Message and branch flags on the wire, Kamailio 5.6 against evsip's cfg loader with one cfg:
// flags the request route set before t_relay are seen by the reply route, what the reply route
// sets is seen by the failure route, and a flag set after t_relay stays the request route's; the
// global onreply_route sees none of them and keeps its own.
import { test } from "node:test";
import assert from "node:assert/strict";
import { kamailioSkipReason } from "../support/kamailio.js";
import { onProxy, type ProxyKind } from "../support/cfg-wire.js";
import { isRequest, isResponse, sipText } from "../support/sip-peer.js";
import { answer, request } from "../support/tm-harness.js";

const MODULES = ["tm", "sl", "pv", "kex", "textops"];
const skip = kamailioSkipReason(MODULES);

const CFG = `#!KAMAILIO
debug=1
log_stderror=yes
${MODULES.map((m) => `loadmodule "${m}.so"`).join("\n")}
#!define FLT_CALL 3
request_route {
  if (is_method("OPTIONS")) { sl_send_reply("483", "Probe"); exit; }
  setflag(FLT_CALL);
  setflag(7);
  resetflag(7);
  setbflag(2);
  $du = UAS_URI;
  t_on_reply("REPLY");
  t_on_failure("MISSED");
  t_relay();
  setflag(4);
  exit;
}
# The global onreply_route runs before tm matched the reply: it sees no flag, and what it sets stays its own.
onreply_route {
  if (isflagset(FLT_CALL)) setflag(1);
  setflag(0);
}
onreply_route[REPLY] {
  if (isflagset(FLT_CALL) && !isflagset(4) && isbflagset(2)) setflag(5);
}
failure_route[MISSED] {
  # Kamailio's t_reply does not expand a reason: the flags travel in the status code.
  $var(code) = 400 + $mf + $bf;
  t_reply("$var(code)", "Flags");
}
`;

/** INVITE → 180 → 486 from the UAS: the reason of the UAC's final reply, written by the failure route. */
async function run(kind: ProxyKind): Promise<string> {
  return onProxy(kind, CFG, async ({ uac, uas, port }) => {
    uac.send(sipText(request("INVITE", { uacHostport: uac.hostport, branch: uac.branch(), callId: `flags-${kind}` })), port);
    const inv = await uas.expect(isRequest("INVITE"));
    uas.send(answer(inv.msg, 180, "Ringing"), port);
    await uac.expect(isResponse(180));
    uas.send(answer(inv.msg, 486, "Busy Here"), port);
    await uas.expect(isRequest("ACK"));
    const final = await uac.expect((m) => !m.isRequest && m.status >= 300);
    return `${final.msg.status} ${final.msg.reason}`;
  });
}

test(
  "flags: set before t_relay, seen and set in onreply_route, seen in failure_route; Kamailio and evsip agree",
  { skip },
  async () => {
    const kamailio = await run("kamailio");
    const evsip = await run("evsip");
    // 400 + $mf (flags 3 and 5: 40; flag 4 was set after t_relay) + $bf (branch flag 2: 4).
    assert.equal(kamailio, "444 Flags");
    assert.equal(evsip, kamailio);
  },
);
