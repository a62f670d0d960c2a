// examples/client/answer-events run as users run it (the compiled file, importing `evsip/client`,
// in its own process) against examples/async-auth: it answers the app's `auth` events, so an
// INVITE suspended by the app is continued in ALLOW and the call reaches the SIPp UAS: 200, ACK, BYE.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import type { AppDefinition } from "../../src/app.js";
import type { EvapiModule } from "../../src/modules/evapi/index.js";
import { hasSipp, runSipp, SKIP_NO_SIPP, startSipp } from "../support/sipp.js";
import { startRouter } from "../support/router.js";

const skip = hasSipp() ? false : SKIP_NO_SIPP;

test("answer-events example allows the async-auth app's calls: 200, whole call", { skip, timeout: 30_000 }, async () => {
  const uas = await startSipp({ scenario: "uas-answer-rr.xml", calls: 1, timeoutSec: 20 });
  await uas.ready;
  process.env.AUTH_UPSTREAM = `sip:127.0.0.1:${uas.port}`;
  process.env.EVAPI_BIND_ADDR = "127.0.0.1:0";
  const { default: example } = (await import("../../examples/async-auth/app.js")) as unknown as { default: AppDefinition };
  // The example as shipped, plus a connection-new route so the test knows the client is in.
  let clientIn!: () => void;
  const joined = new Promise<void>((resolve) => (clientIn = resolve));
  const app: AppDefinition = { ...example, events: { ...example.events, "evapi:connection-new": () => clientIn() } };
  const r = await startRouter(app, ["udp:127.0.0.1:0"]);
  const evapi = r.internals.modules.get("evapi") as EvapiModule;
  const client = spawn(process.execPath, ["dist/examples/client/answer-events.js", String(evapi.address().port)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const allowed = new Promise<string>((resolve) =>
    createInterface({ input: client.stdout }).on("line", (l) => /^allow call to /.test(l) && resolve(l)),
  );
  try {
    await joined;
    const call = await runSipp({ scenario: "uac-call-rr.xml", target: r.target("udp"), service: "alice", timeoutSec: 10 });
    assert.equal(call.code, 0, call.stderr || call.stdout.slice(-2000));
    assert.equal((await uas.done).code, 0);
    assert.match(await allowed, /^allow call to sip:alice@/);
  } finally {
    const exited = once(client, "exit");
    client.kill("SIGTERM");
    await exited;
    await uas.stop();
    await r.stop();
  }
});
