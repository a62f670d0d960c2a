// $var across t_continue in a real Kamailio 5.6, the behaviour evsip matches
// (test/e2e/var-across-continue.test.ts): the event route sets $var(code) from the answer and calls
// t_continue; route[RESUME] runs in that process and answers with $var(code). A plain event client
// answers 486 and SIPp must get 486: had RESUME not seen the $var, it would answer 200.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, hasSipp, runSipp, SKIP_NO_SIPP } from "../support/sipp.js";
import { kamailioSkipReason, startKamailio } from "../support/kamailio.js";
import { TestClient } from "../support/evapi-harness.js";

const MODULES = ["tm", "tmx", "sl", "maxfwd", "pv", "textops", "xlog", "jansson", "evapi"];
const skip = hasSipp() ? kamailioSkipReason(MODULES) : SKIP_NO_SIPP;

const CFG = `#!KAMAILIO
debug=2
log_stderror=yes
${MODULES.map((m) => `loadmodule "${m}.so"`).join("\n")}
modparam("evapi", "bind_addr", EVAPI_BIND)
request_route {
  if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
  if (is_method("ACK")) { t_check_trans(); exit; }
  $var(code) = 0;
  t_newtran();
  evapi_async_relay("{\\"tindex\\":$T(id_index),\\"tlabel\\":$T(id_label)}");
}
route[RESUME] {
  xlog("L_ERR", "RESUME code=$var(code)\\n");
  if ($var(code) == 0) t_reply("200", "OK"); else t_reply("$var(code)", "$var(reason)");
}
event_route[evapi:message-received] {
  jansson_get("tindex", "$evapi(msg)", "$var(tindex)");
  jansson_get("tlabel", "$evapi(msg)", "$var(tlabel)");
  jansson_get("code", "$evapi(msg)", "$var(code)");
  $var(reason) = "Busy Here";
  t_continue("$var(tindex)", "$var(tlabel)", "RESUME");
}
`;

test("Kamailio 5.6: a $var set in the evapi event route before t_continue is read in the resumed route", { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "evsip-var-continue-"));
  const sipPort = await freePort();
  const evapiPort = await freePort("tcp");
  try {
    writeFileSync(join(dir, "var.cfg"), CFG);
    const k = await startKamailio(join(dir, "var.cfg"), sipPort, { EVAPI_BIND: `"127.0.0.1:${evapiPort}"` }, { evapiPort });
    const c = await TestClient.open(evapiPort);
    let answered = 0;
    c.socket.on("data", () => {
      for (; answered < c.frames.length; answered++) {
        const ev = JSON.parse(c.frames[answered]!) as { tindex: number; tlabel: number };
        const text = JSON.stringify({ tindex: ev.tindex, tlabel: ev.tlabel, code: 486 });
        c.send(`${Buffer.byteLength(text)}:${text},`);
      }
    });
    try {
      const res = await runSipp({ scenario: "uac-invite-486.xml", target: `127.0.0.1:${sipPort}`, service: "alice" });
      assert.equal(res.code, 0, `${res.stderr}\n${k.log().slice(-3000)}`);
      assert.match(k.log(), /RESUME code=486/);
    } finally {
      c.destroy();
      await k.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
