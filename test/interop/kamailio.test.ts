// Interop with a real Kamailio 5.6 on loopback: the SDK's EvapiClient (examples/async-auth) serves
// evapi_async_relay + t_continue for SIPp calls, createJsonRpcServer (examples/jsonrpc-routing) serves
// jsonrpc_request, the billing app (examples/billing) bills evapi_relay'd call events, and tags are set
// with evapi_set_tag. Then the same applications, unchanged, serve evsip running the twin app, and
// both routers must give the same SIP outcomes for the same SIPp scenarios.
import { test } from "node:test";
import assert from "node:assert/strict";
import { hasSipp, SKIP_NO_SIPP } from "../support/sipp.js";
import { kamailioSkipReason } from "../support/kamailio.js";
import { runInterop, SCENARIOS, type InteropOutcome, type RouterKind } from "../support/interop.js";

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
  assert.deepEqual(o.authEventShape, { event: "string", tindex: "number", tlabel: "number", ci: "string", from: "string", to: "string" });
  assert.equal(o.jsonrpcRequests, 2);
  assert.deepEqual(o.billed.map((r) => [r.caller, r.callee]).sort(), [["sipp", "+4420123"], ["sipp", "alice"]]);
  for (const r of o.billed) assert.ok(r.seconds >= 0.03 && r.seconds < 5, `duration ${r.seconds} s`);
}

test("Kamailio 5.6 + SDK apps: evapi async allow 200 / reject 403, jsonrpc_request route 200 / 404, call events billed", { skip: noKamailio, timeout: 40_000 }, async () => {
  const o = await runInterop("kamailio");
  outcomes.set("kamailio", o);
  check("kamailio", o);
});

test("evsip twin app + the same SDK apps, unchanged: same outcomes", { skip: noSipp, timeout: 40_000 }, async () => {
  const o = await runInterop("evsip");
  outcomes.set("evsip", o);
  check("evsip", o);
});

test("Kamailio and evsip give the same SIP outcomes per scenario", { skip: noKamailio }, () => {
  const k = outcomes.get("kamailio");
  const e = outcomes.get("evsip");
  assert.ok(k && e, "both routers ran");
  assert.deepEqual(e.sipp, k.sipp);
  assert.deepEqual(e.decisions, k.decisions);
  assert.deepEqual(e.authEventShape, k.authEventShape);
  assert.equal(e.billed.length, k.billed.length);
});
