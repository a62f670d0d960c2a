// Interop with a real Kamailio 5.6 on loopback: the SDK's EvapiClient (examples/async-auth) serves
// evapi_async_relay + t_continue for SIPp calls, createJsonRpcServer (examples/jsonrpc-routing) serves
// jsonrpc_request, the billing app (examples/billing) bills evapi_relay'd call events, and tags are set
// with evapi_set_tag. Then the same applications, unchanged, serve evsip running the twin app, and
// both routers must give the same SIP outcomes for the same SIPp scenarios.
import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { resolve } from "node:path";
import { freePort, hasSipp, runSipp, SKIP_NO_SIPP } from "../support/sipp.js";
import { kamailioSkipReason, startKamailio } from "../support/kamailio.js";
import { runInterop, SCENARIOS, within, type InteropOutcome, type RouterKind } from "../support/interop.js";
import { startAuthService } from "../../examples/async-auth/auth-service.js";

const MODULES = ["tm", "tmx", "sl", "rr", "maxfwd", "pv", "textops", "siputils", "xlog", "jansson", "evapi", "jsonrpcc"];
const noSipp = hasSipp() ? false : SKIP_NO_SIPP;
const noKamailio = noSipp || kamailioSkipReason(MODULES);
const outcomes = new Map<RouterKind, InteropOutcome>();

function check(kind: RouterKind, o: InteropOutcome): void {
  const why = `${kind}:\n${o.failures.join("\n")}\n${o.log().slice(-6000)}`;
  assert.deepEqual(o.failures, [], why);
  for (const s of SCENARIOS) assert.equal(o.sipp[s.name], 0, `${s.name} — ${why}`);
  assert.equal(o.uasExit, 0, `UAS — ${why}`);
  assert.deepEqual(o.decisions, { alice: true, "900123": false });
  // tindex/tlabel travel as JSON numbers and the auth service echoes them unchanged.
  assert.deepEqual(o.authEventShape, {
    event: "string",
    tindex: "number",
    tlabel: "number",
    ci: "string",
    from: "string",
    to: "string",
  });
  assert.equal(o.jsonrpcRequests, 2);
  assert.equal(o.largestFrameAcked, true);
  assert.deepEqual(o.billed.map((r) => [r.caller, r.callee]).sort(), [
    ["sipp", "+4420123"],
    ["sipp", "alice"],
  ]);
  for (const r of o.billed) assert.ok(r.seconds >= 0.03 && r.seconds < 5, `duration ${r.seconds} s`);
}

test(
  "Kamailio 5.6 + SDK apps: evapi async allow 200 / reject 403, jsonrpc_request route 200 / 404, call events billed",
  { skip: noKamailio, timeout: 40_000 },
  async () => {
    const o = await runInterop("kamailio");
    outcomes.set("kamailio", o);
    check("kamailio", o);
  },
);

test("evsip twin app + the same SDK apps, unchanged: same outcomes", { skip: noSipp, timeout: 40_000 }, async () => {
  const o = await runInterop("evsip");
  outcomes.set("evsip", o);
  check("evsip", o);
});

test(
  "evsip running interop.cfg itself (src/cfg) + the same SDK apps: same outcomes",
  { skip: noSipp, timeout: 40_000 },
  async () => {
    const o = await runInterop("evsip-cfg");
    outcomes.set("evsip-cfg", o);
    check("evsip-cfg", o);
  },
);

test("Kamailio and evsip give the same SIP outcomes per scenario", { skip: noKamailio }, () => {
  const k = outcomes.get("kamailio");
  const e = outcomes.get("evsip");
  assert.ok(k && e, "both routers ran");
  assert.deepEqual(e.sipp, k.sipp);
  assert.deepEqual(e.decisions, k.decisions);
  assert.deepEqual(e.authEventShape, k.authEventShape);
  assert.equal(e.billed.length, k.billed.length);
  assert.equal(e.largestFrameAcked, k.largestFrameAcked);
  const c = outcomes.get("evsip-cfg");
  assert.ok(c, "evsip ran the cfg");
  assert.deepEqual(c.sipp, k.sipp);
  assert.deepEqual(c.decisions, k.decisions);
  assert.deepEqual(c.authEventShape, k.authEventShape);
  assert.equal(c.billed.length, k.billed.length);
});

test(
  "SDK client against a restarted Kamailio: disconnected → reconnecting → connected, re-subscribed, serves calls again",
  { skip: noKamailio, timeout: 30_000 },
  async () => {
    const evapiPort = await freePort();
    const start = async () => {
      const sip = await freePort();
      const defines = {
        UAS_URI: '"sip:127.0.0.1:9"',
        EVAPI_BIND: `"127.0.0.1:${evapiPort}"`,
        JSONRPC_SERVERS: `"127.0.0.1:${await freePort()},1"`,
      };
      return { sip, k: await startKamailio(resolve("test/fixtures/kamailio/interop.cfg"), sip, defines, { shmMb: 64 }) };
    };
    let first: Awaited<ReturnType<typeof start>> | undefined = await start();
    const auth = await startAuthService({ port: evapiPort, log: () => undefined });
    const seen: string[] = [];
    auth.client.on("connected", () => seen.push("connected"));
    auth.client.on("disconnected", ({ willReconnect }) => seen.push(`disconnected:${willReconnect}`));
    auth.client.on("reconnecting", () => seen.push("reconnecting"));
    let second: Awaited<ReturnType<typeof start>> | undefined;
    try {
      await within(auth.subscribed, 5000, "first subscription");
      const down = once(auth.client, "disconnected", { signal: AbortSignal.timeout(8000) });
      await first.k.stop();
      first = undefined;
      await down;
      const resubscribed = new Promise<void>((res) =>
        auth.client.on("event", (e) => (e as { event?: string }).event === "subscribed" && res()),
      );
      second = await start();
      await within(resubscribed, 8000, "subscription acknowledged by the new Kamailio");
      // One disconnect, then retries (refused while Kamailio is down) until the new one accepts.
      assert.deepEqual([seen[0], seen[1], seen.at(-1)], ["disconnected:true", "reconnecting", "connected"], seen.join(","));
      assert.equal(auth.client.stats.connects, 2);
      const r = await runSipp({
        scenario: "uac-invite-403.xml",
        target: `127.0.0.1:${second.sip}`,
        service: "900123",
        timeoutSec: 10,
      });
      assert.equal(r.code, 0, `${r.stderr}\n${second.k.log().slice(-4000)}`);
      assert.deepEqual(
        auth.decisions.map((d) => d.allow),
        [false],
      );
    } finally {
      await auth.close();
      await first?.k.stop();
      await second?.k.stop();
    }
  },
);
