// examples/async-auth run as shipped: the example router suspends each INVITE and asks the example
// auth service (EvapiClient.answer on the SDK) over evapi; allowed calls are relayed, record-routed,
// to a SIPp UAS (200, ACK and BYE back through the router), premium numbers get 403, and with the
// service gone the router answers 503 at once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import type { AppDefinition } from "../../src/app.js";
import type { EvapiModule } from "../../src/modules/evapi/index.js";
import { hasSipp, runSipp, SKIP_NO_SIPP, startSipp } from "../support/sipp.js";
import { startRouter } from "../support/router.js";
import { authorize, startAuthService } from "../../examples/async-auth/auth-service.js";

const skip = hasSipp() ? false : SKIP_NO_SIPP;

test("async-auth example: allowed 200 (whole call), premium 403, no service 503", { skip, timeout: 30_000 }, async () => {
  const uas = await startSipp({ scenario: "uas-answer-rr.xml", calls: 1, timeoutSec: 20 });
  await uas.ready;
  process.env.AUTH_UPSTREAM = `sip:127.0.0.1:${uas.port}`;
  process.env.EVAPI_BIND_ADDR = "127.0.0.1:0";
  const { default: example } = (await import("../../examples/async-auth/app.js")) as unknown as { default: AppDefinition };
  // The example as shipped, plus a connection-closed route so the test can wait for that event.
  let serviceGone!: () => void;
  const gone = new Promise<void>((resolve) => (serviceGone = resolve));
  const app: AppDefinition = { ...example, events: { ...example.events, "evapi:connection-closed": () => serviceGone() } };
  const r = await startRouter(app, ["udp:127.0.0.1:0"]);
  const evapi = r.internals.modules.get("evapi") as EvapiModule;
  const auth = await startAuthService({ port: evapi.address().port, log: () => undefined, events: ["auth", "subscribed"] });
  try {
    await auth.subscribed;
    assert.deepEqual(
      evapi.service.clients().map((c) => c.tag),
      ["auth"],
    );
    const allowed = await runSipp({ scenario: "uac-call-rr.xml", target: r.target("udp"), service: "alice", timeoutSec: 10 });
    assert.equal(allowed.code, 0, allowed.stderr || allowed.stdout.slice(-2000));
    assert.equal((await uas.done).code, 0);
    const premium = await runSipp({ scenario: "uac-invite-403.xml", target: r.target("udp"), service: "900123", timeoutSec: 10 });
    assert.equal(premium.code, 0, premium.stderr);
    assert.deepEqual(
      auth.decisions.map((d) => d.allow),
      [true, false],
    );
    assert.equal(auth.client.stats.tx, 4, "the event subscription, one subscribe and two answers");
    assert.equal(evapi.service.stats.decisionsApplied, 2, "both answers applied as decisions");

    const closed = once(auth.client, "close");
    await auth.close();
    await closed;
    await gone; // evsip has seen the close
    assert.equal(evapi.service.clients().length, 0);
    const none = await runSipp({ scenario: "uac-invite-503.xml", target: r.target("udp"), service: "alice", timeoutSec: 10 });
    assert.equal(none.code, 0, none.stderr);
  } finally {
    await auth.close();
    await uas.stop();
    await r.stop();
  }
});

test("auth policy: callee users with a blocked prefix are rejected", () => {
  assert.equal(authorize({ to: "sip:alice@example.com" }), true);
  assert.equal(authorize({ to: "<sip:900123@example.com>" }), false);
  assert.equal(authorize({ to: "sip:+44900@example.com" }), true);
  assert.equal(authorize({ to: "sip:0800@example.com" }, ["08"]), false);
  assert.equal(authorize({}), true);
});
