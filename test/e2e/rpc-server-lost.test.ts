// jsonrpcc's retryOnLoss end to end: two real JSON-RPC service processes answer the routing
// requests of SIPp's calls in turn; one is killed with kill -9 while requests are in flight on it,
// and every call is still answered 200 (its requests go to the other service). With retryOnLoss
// off, the calls whose requests died with it are answered 503 by the app.
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineApp } from "../../src/app.js";
import type { JsonRpcModuleInstance } from "../../src/modules/jsonrpcc/index.js";
import { kill9 } from "../support/kill9.js";
import { waitUp } from "../support/jsonrpc-client-harness.js";
import { startRouter } from "../support/router.js";
import { startRpcService } from "../support/peer-processes.js";
import { hasSipp, SKIP_NO_SIPP, startSipp } from "../support/sipp.js";

function routingApp(servers: string, retryOnLoss: boolean, refused: string[]) {
  return defineApp({
    tm: { frTimer: 20_000 },
    modules: { jsonrpcc: { servers, retryOnLoss, timeout: 10_000 } },
    async request(ctx) {
      if (ctx.isMethod("ACK")) return ctx.exit();
      if (ctx.isMethod("BYE")) {
        ctx.sl.sendReply(200, "OK");
        return ctx.exit();
      }
      try {
        const verdict = await ctx.jsonrpc.call<string>("route", { ci: ctx.pv("$ci") });
        ctx.tm.reply(verdict === "allow" ? 200 : 403, "Decided");
      } catch (err) {
        refused.push((err as { code?: string }).code ?? "");
        ctx.tm.reply(503, "Routing Service Lost");
      }
    },
  });
}

for (const retryOnLoss of [true, false]) {
  test(
    `kill -9 of one of two JSON-RPC services under SIPp load, retryOnLoss ${retryOnLoss}: ${retryOnLoss ? "every call answered 200" : "its calls answered 503"}`,
    { skip: hasSipp() ? false : SKIP_NO_SIPP },
    async () => {
      const refused: string[] = [];
      let a: Awaited<ReturnType<typeof startRpcService>> | undefined;
      let b: Awaited<ReturnType<typeof startRpcService>> | undefined;
      let r: Awaited<ReturnType<typeof startRouter>> | undefined;
      let sipp: Awaited<ReturnType<typeof startSipp>> | undefined;
      try {
        // Each answers 200 ms after a request: at 100 calls/s about ten are in flight on each.
        a = await startRpcService(200, "a");
        b = await startRpcService(200, "b");
        r = await startRouter(routingApp(`127.0.0.1:${a.port},1 127.0.0.1:${b.port},1`, retryOnLoss, refused), [
          "udp:127.0.0.1:0",
        ]);
        const mod = r.internals.modules.get("jsonrpcc") as JsonRpcModuleInstance;
        await waitUp(mod.client);
        sipp = await startSipp({ scenario: "uac", target: r.target("udp"), calls: 400, rate: 100, timeoutSec: 15 });
        await a.logged(/^answered 100$/);
        await kill9(a.child); // mid-run, with requests in flight on it
        const res = await sipp.done;
        const retried = mod.client.stats.retriedOnLoss;
        if (retryOnLoss) {
          assert.equal(res.code, 0, `SIPp: every call successful\n${res.stdout.slice(-3000)}`);
          assert.ok(retried >= 1, `requests were in flight on the killed service (retried ${retried})`);
          assert.deepEqual(refused, []);
        } else {
          assert.ok(refused.length >= 1, "the calls whose requests died with the service were answered 503");
          assert.ok(
            refused.every((c) => c === "ERR_JSONRPC_CONNECTION_LOST"),
            `refused for the lost connection: ${refused.join(",")}`,
          );
          assert.equal(retried, 0);
        }
        assert.equal(mod.client.pendingCount, 0);
      } finally {
        await sipp?.stop();
        if (a) await kill9(a.child);
        if (b) await kill9(b.child);
        await r?.stop();
      }
    },
  );
}
