// $var across t_continue, as Kamailio has it: the continued route runs inside the evapi event route
// that called continue, so a $var set there just before (the answer's error code) is read in the
// resumed route, and what the resumed route sets is read back after continue returns. A real event
// client answers each event; SIPp places the calls. Without the shared store the resumed route
// sees null and takes the 200 branch, which the 486 scenario fails on.
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineApp } from "../../src/app.js";
import type { EvapiModule } from "../../src/modules/evapi/index.js";
import { hasSipp, runSipp, SKIP_NO_SIPP } from "../support/sipp.js";
import { startRouter } from "../support/router.js";
import { Collector, TestClient } from "../support/evapi-harness.js";

const skip = hasSipp() ? false : SKIP_NO_SIPP;

function app(after: Collector<unknown>) {
  return defineApp({
    modules: { evapi: { bindAddr: "127.0.0.1:0" } },
    request(ctx) {
      if (ctx.isMethod("ACK")) return ctx.exit();
      ctx.setPv("$var(code)", "from the request route"); // another run: never seen by the event route
      const n = ctx.evapi.asyncRelay((t) => ({ user: ctx.pv("$rU"), tindex: t.index, tlabel: t.label }));
      if (n === 0) ctx.tm.reply(503, "No Auth Service");
      return ctx.exit();
    },
    routes: {
      RESUME(ctx) {
        const code = ctx.pv("$var(code)");
        ctx.setPv("$var(seen)", code === null ? "null" : `code ${String(code)}`);
        if (code === null) ctx.tm.reply(200, "OK");
        else ctx.tm.reply(Number(code), String(ctx.pv("$var(reason)")));
      },
    },
    events: {
      "evapi:message-received"(ctx) {
        const before = ctx.pv("$var(code)");
        const m = JSON.parse(ctx.evapi.msg) as { tindex: number; tlabel: number; code: number };
        ctx.setPv("$var(code)", m.code);
        ctx.setPv("$var(reason)", "Busy Here");
        const ok = ctx.tm.continue(m.tindex, m.tlabel, "RESUME");
        after.push({ before, ok, seen: ctx.pv("$var(seen)") });
      },
    },
  });
}

test("$var set in the event route before t_continue is read in the continued route, and back", { skip }, async () => {
  const after = new Collector<unknown>();
  const r = await startRouter(app(after), ["udp:127.0.0.1:0"]);
  const c = await TestClient.open((r.internals.modules.get("evapi") as EvapiModule).address().port);
  let answered = 0;
  c.socket.on("data", () => {
    for (; answered < c.frames.length; answered++) {
      const ev = JSON.parse(c.frames[answered]!) as Record<string, unknown>;
      const text = JSON.stringify({ tindex: ev.tindex, tlabel: ev.tlabel, code: 486 });
      c.send(`${Buffer.byteLength(text)}:${text},`);
    }
  });
  try {
    const res = await runSipp({ scenario: "uac-invite-486.xml", target: r.target("udp"), service: "alice" });
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(await after.wait(1), [{ before: null, ok: true, seen: "code 486" }]);
  } finally {
    c.destroy();
    await r.stop();
  }
});
