// jsonrpcc inside a running router, with SIPp as the caller and the scripted JSON-RPC server as the
// service: jsonrpc.request → return route → 200 with $var(result) set; a JSON-RPC error, a timeout
// and no server → error route → 500 with "…"/"timeout"/"failure"; call() awaited in the request route.
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineApp } from "../../../src/app.js";
import { JsonRpcError } from "../../../src/errors.js";
import type { JsonRpcModuleInstance } from "../../../src/modules/jsonrpcc/index.js";
import { hasSipp, runSipp, SKIP_NO_SIPP } from "../../support/sipp.js";
import { startRouter, type RunningRouter } from "../../support/router.js";
import { startTestServer, type JsonRpcTestServer, type Script } from "../../support/jsonrpc-test-server.js";
import { waitUp } from "../../support/jsonrpc-client-harness.js";

const skip = hasSipp() ? false : SKIP_NO_SIPP;

interface Seen {
  route: string;
  result: unknown;
}

async function routerWith(script: Script, seen: Seen[], opts: { timeout?: number; down?: boolean } = {}) {
  const service = await startTestServer(script);
  if (opts.down) await service.stop();
  const r = await startRouter(
    defineApp({
      modules: { jsonrpcc: { servers: `127.0.0.1:${service.port},1`, timeout: opts.timeout ?? 500, reconnectBase: 10 } },
      request(ctx) {
        if (ctx.isMethod("ACK")) return ctx.exit();
        if (ctx.isMethod("INVITE") && !ctx.hasToTag()) {
          ctx.jsonrpc.request("route", `{'ci': '${ctx.pv("$ci")}', 'user': 'u1'}`, "RESPONSE", "ERROR", "$var(result)");
        }
        ctx.sl.sendReply(403, "Not here");
      },
      routes: {
        RESPONSE(ctx) {
          seen.push({ route: "RESPONSE", result: ctx.pv("$var(result)") });
          ctx.tm.reply(200, "OK");
        },
        ERROR(ctx) {
          seen.push({ route: "ERROR", result: ctx.pv("$var(result)") });
          ctx.tm.reply(500, "Routing Error");
        },
      },
    }),
  );
  const mod = r.server.modules.get("jsonrpcc") as JsonRpcModuleInstance;
  if (!opts.down) await waitUp(mod.client);
  return { r, service, mod };
}

async function call(r: RunningRouter, scenario: string, calls = 1): Promise<void> {
  const res = await runSipp({ scenario, target: r.target("udp"), transport: "u1", calls, rate: 100, timeoutSec: 15 });
  assert.equal(res.code, 0, res.stderr || res.stdout.slice(-2000));
}

async function cleanup(x: { r: RunningRouter; service: JsonRpcTestServer }): Promise<void> {
  await x.r.stop();
  await x.service.stop();
}

test("INVITE → jsonrpc.request → return route → 200, result in $var", { skip }, async () => {
  const seen: Seen[] = [];
  const x = await routerWith((req, reply) => reply.result({ gw: "gw1", got: req.params }), seen);
  try {
    await call(x.r, "uac-invite-200.xml", 3);
    assert.equal(seen.length, 3);
    for (const s of seen) assert.equal(s.route, "RESPONSE");
    const parsed = JSON.parse(String(seen[0]?.result)) as { gw: string; got: { user: string } };
    assert.equal(parsed.gw, "gw1");
    assert.equal(parsed.got.user, "u1", "single-quoted params reached the server as JSON");
    assert.equal(x.service.received.length, 3);
  } finally {
    await cleanup(x);
  }
});

test("a string result is given without quotes; result null is a success", { skip }, async () => {
  const seen: Seen[] = [];
  let n = 0;
  const x = await routerWith((_req, reply) => reply.result(n++ === 0 ? "gw2" : null), seen);
  try {
    await call(x.r, "uac-invite-200.xml", 2);
    assert.deepEqual(seen, [
      { route: "RESPONSE", result: "gw2" },
      { route: "RESPONSE", result: "null" },
    ]);
  } finally {
    await cleanup(x);
  }
});

test("JSON-RPC error → error route → 500 with the error member", { skip }, async () => {
  const seen: Seen[] = [];
  const x = await routerWith((_req, reply) => reply.error({ code: -32601, message: "Method not found" }), seen);
  try {
    await call(x.r, "uac-invite-500.xml");
    assert.equal(seen[0]?.route, "ERROR");
    assert.deepEqual(JSON.parse(String(seen[0]?.result)), { code: -32601, message: "Method not found" });
  } finally {
    await cleanup(x);
  }
});

test('no answer → error route with "timeout"', { skip }, async () => {
  const seen: Seen[] = [];
  const x = await routerWith(() => undefined, seen, { timeout: 100 });
  try {
    await call(x.r, "uac-invite-500.xml");
    assert.deepEqual(seen, [{ route: "ERROR", result: "timeout" }]);
    assert.equal((x.mod.stats?.().timeouts as Map<string, number>).get(`127.0.0.1:${x.service.port}`), 1);
  } finally {
    await cleanup(x);
  }
});

test('no server → error route with "failure" at once', { skip }, async () => {
  const seen: Seen[] = [];
  const x = await routerWith(() => undefined, seen, { down: true });
  try {
    await call(x.r, "uac-invite-500.xml");
    assert.deepEqual(seen, [{ route: "ERROR", result: "failure" }]);
  } finally {
    await cleanup(x);
  }
});

test("await ctx.jsonrpc.call in the request route: value and remote error", { skip }, async () => {
  const service = await startTestServer((req, reply) => {
    if (req.method === "fail") reply.error({ code: 7, message: "nope" });
    else reply.result({ code: 200 });
  });
  const outcomes: unknown[] = [];
  const r = await startRouter(
    defineApp({
      modules: { jsonrpcc: { servers: `127.0.0.1:${service.port},1` } },
      async request(ctx) {
        if (ctx.isMethod("ACK")) return;
        const method = outcomes.length === 0 ? "ok" : "fail";
        try {
          const v = await ctx.jsonrpc.call<{ code: number }>(method, { ci: ctx.pv("$ci") }, { timeout: 2000 });
          outcomes.push(v);
          ctx.tm.reply(v.code, "OK");
        } catch (e) {
          outcomes.push(e instanceof JsonRpcError ? [e.code, e.remote] : e);
          ctx.tm.reply(500, "Remote Error");
        }
      },
    }),
  );
  try {
    await waitUp((r.server.modules.get("jsonrpcc") as JsonRpcModuleInstance).client);
    await call(r, "uac-invite-200.xml");
    await call(r, "uac-invite-500.xml");
    assert.deepEqual(outcomes, [{ code: 200 }, ["ERR_JSONRPC_REMOTE", { code: 7, message: "nope" }]]);
  } finally {
    await r.stop();
    await service.stop();
  }
});
