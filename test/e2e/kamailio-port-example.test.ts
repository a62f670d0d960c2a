// examples/kamailio-port run as shipped: seed 001's cfg ported line by line. A plain TCP event
// client reads "invite_request:<index>:<label>:<base64 JSON>" (the transformation's output) and
// answers with jansson-path JSON; the resumed route reads the $var the event route set: 200 relays
// the whole call to a SIPp UAS (in-dialog ACK and BYE back through the router by Record-Route),
// 486 answers the SIPp caller.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { AppDefinition } from "../../src/app.js";
import type { EvapiModule } from "../../src/modules/evapi/index.js";
import { hasSipp, runSipp, SKIP_NO_SIPP, startSipp } from "../support/sipp.js";
import { startRouter } from "../support/router.js";
import { TestClient } from "../support/evapi-harness.js";
import { loadCfgFile } from "../../src/cfg/load-cfg.js";

const skip = hasSipp() ? false : SKIP_NO_SIPP;

/** app.ts as a TypeScript app, or kamailio.cfg loaded as it is (src/cfg): the same test passes for both. */
async function loadPort(kind: "app.ts" | "kamailio.cfg", upstream: string): Promise<AppDefinition> {
  if (kind === "kamailio.cfg") {
    const defines = new Map([
      ["AUTH_UPSTREAM", JSON.stringify(upstream)],
      ["EVAPI_BIND", '"127.0.0.1:0"'],
    ]);
    return loadCfgFile("examples/kamailio-port/kamailio.cfg", defines).app;
  }
  process.env.AUTH_UPSTREAM = upstream;
  process.env.EVAPI_BIND_ADDR = "127.0.0.1:0";
  return ((await import("../../examples/kamailio-port/app.js")) as { default: AppDefinition }).default;
}

for (const kind of ["app.ts", "kamailio.cfg"] as const) {
  test(
    `kamailio-port example (${kind}): the event's base64 JSON, jansson_get, $var across t_continue`,
    { skip, timeout: 30_000 },
    async () => {
      const uas = await startSipp({ scenario: "uas-answer-rr.xml", calls: 1, timeoutSec: 20 });
      await uas.ready;
      const app = await loadPort(kind, `sip:127.0.0.1:${uas.port}`);
      const r = await startRouter(app, ["udp:127.0.0.1:0"]);
      const c = await TestClient.open((r.internals.modules.get("evapi") as EvapiModule).address().port);
      const seen: Array<Record<string, unknown>> = [];
      let answered = 0;
      c.socket.on("data", () => {
        for (; answered < c.frames.length; answered++) {
          const [kind, index, label, data] = c.frames[answered]!.split(":");
          const call = JSON.parse(Buffer.from(data ?? "", "base64").toString("utf8")) as Record<string, unknown>;
          seen.push({ kind, ...call, ci: typeof call.ci });
          const busy = call.to === "busy";
          const text = JSON.stringify({
            tm_trans: { tm_index: Number(index), tm_label: Number(label) },
            code: busy ? 486 : 200,
            reason: busy ? "Busy Here" : "OK",
          });
          c.send(`${Buffer.byteLength(text)}:${text},`);
        }
      });
      try {
        const call = await runSipp({ scenario: "uac-call-rr.xml", target: r.target("udp"), service: "alice", timeoutSec: 10 });
        assert.equal(call.code, 0, call.stderr || call.stdout.slice(-2000));
        assert.equal((await uas.done).code, 0);
        const busy = await runSipp({ scenario: "uac-invite-486.xml", target: r.target("udp"), service: "busy", timeoutSec: 10 });
        assert.equal(busy.code, 0, busy.stderr);
        assert.deepEqual(seen, [
          { kind: "invite_request", from: "sipp", to: "alice", ci: "string" },
          { kind: "invite_request", from: "sipp", to: "busy", ci: "string" },
        ]);
      } finally {
        c.destroy();
        await uas.stop();
        await r.stop();
      }
    },
  );
}
