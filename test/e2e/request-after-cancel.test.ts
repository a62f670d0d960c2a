// A route that awaits one thing, is cancelled meanwhile, and then asks an evapi consumer or a
// JSON-RPC server something: the ask rejects with ERR_TM_CANCELLED and nothing is sent, because
// no answer can be used for a call that has already had its 487. The proof that nothing went out
// is order, not a wait: a later call's event (or request) is the first the peer receives.
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineApp } from "../../src/app.js";
import type { RequestContext } from "../../src/route-contexts.js";
import type { EvapiModule } from "../../src/modules/evapi/index.js";
import type { JsonRpcModuleInstance } from "../../src/modules/jsonrpcc/index.js";
import { startRouter } from "../support/router.js";
import { SipPeer, isResponse, sipText } from "../support/sip-peer.js";
import { Collector, deferred, TestClient } from "../support/evapi-harness.js";
import { startTestServer } from "../support/jsonrpc-test-server.js";
import { waitDown, waitUp } from "../support/jsonrpc-client-harness.js";

function invite(peer: SipPeer, user: string, branch: string, callId: string, method = "INVITE"): string {
  return sipText([
    `${method} sip:${user}@127.0.0.1 SIP/2.0`,
    `Via: SIP/2.0/UDP ${peer.hostport};branch=${branch}`,
    "Max-Forwards: 70",
    `From: <sip:a@127.0.0.1>;tag=f${callId}`,
    `To: <sip:${user}@127.0.0.1>`,
    `Call-ID: ${callId}`,
    `CSeq: 1 ${method}`,
  ]);
}

/** Calls to "late" wait on `gate` (held), then ask `ask`; calls to "marker" send a marker and get 200. */
function lateAskApp(
  modules: Record<string, unknown>,
  started: Collector<string>,
  outcomes: Collector<string>,
  gate: Promise<void>,
  ask: (ctx: RequestContext) => Promise<unknown>,
  marker: (ctx: RequestContext) => Promise<unknown>,
) {
  return defineApp({
    modules,
    async request(ctx) {
      if (ctx.isMethod("ACK")) return;
      if (ctx.isMethod("CANCEL")) {
        ctx.tm.relay();
        return;
      }
      if (ctx.pv("$rU") === "marker") {
        await marker(ctx);
        ctx.tm.reply(200, "OK");
        return;
      }
      started.push("late");
      try {
        await ctx.tm.hold(gate);
      } catch (err) {
        outcomes.push(`hold: ${(err as { code?: string }).code}`);
      }
      try {
        await ask(ctx);
        outcomes.push("answered");
      } catch (err) {
        outcomes.push(`ask: ${(err as { code?: string }).code}`);
      }
    },
  });
}

/** INVITE "late", CANCEL it while held, then INVITE "marker": the route's outcomes. */
async function cancelThenMark(udpPort: number, started: Collector<string>, outcomes: Collector<string>): Promise<string[]> {
  const peer = await SipPeer.open();
  try {
    const branch = peer.branch();
    peer.send(invite(peer, "late", branch, "late-1"), udpPort);
    await started.wait(1);
    peer.send(invite(peer, "late", branch, "late-1", "CANCEL"), udpPort);
    await peer.expect(isResponse(200, "CANCEL"));
    await peer.expect(isResponse(487, "INVITE"));
    const seen = await outcomes.wait(2);
    peer.send(invite(peer, "marker", peer.branch(), "marker-1"), udpPort);
    await peer.expect((m) => m.callId === "marker-1" && m.status === 200);
    return seen;
  } finally {
    peer.close();
  }
}

test("evapi request() after a CANCEL: rejects ERR_TM_CANCELLED and sends the consumer nothing", async () => {
  const started = new Collector<string>();
  const outcomes = new Collector<string>();
  const gate = deferred();
  const app = lateAskApp(
    { evapi: { bindAddr: "127.0.0.1:0" } },
    started,
    outcomes,
    gate.promise,
    (ctx) => ctx.evapi!.request({ event: "late" }, { timeout: 2000 }),
    async (ctx) => ctx.evapi!.relay({ event: "marker" }),
  );
  const r = await startRouter(app, ["udp:127.0.0.1:0"]);
  const mod = r.internals.modules.get("evapi") as EvapiModule;
  const c = await TestClient.open(mod.address().port);
  try {
    await c.until(() => mod.service.clients().length === 1);
    assert.deepEqual(await cancelThenMark(r.udpPort, started, outcomes), ["hold: ERR_TM_CANCELLED", "ask: ERR_TM_CANCELLED"]);
    await c.waitFrames(1);
    assert.equal((JSON.parse(c.frames[0]!) as { event: string }).event, "marker", "the cancelled call's event was never sent");
    assert.equal(mod.service.stats.requestsSent, 0);
    assert.equal(mod.service.stats.requestsFailed, 1);
  } finally {
    gate.resolve();
    c.destroy();
    await r.stop();
  }
});

test("jsonrpc call() after a CANCEL: rejects ERR_TM_CANCELLED and sends the server nothing", async () => {
  const started = new Collector<string>();
  const outcomes = new Collector<string>();
  const gate = deferred();
  const server = await startTestServer();
  const app = lateAskApp(
    { jsonrpcc: { servers: `127.0.0.1:${server.port},1`, timeout: 2000 } },
    started,
    outcomes,
    gate.promise,
    (ctx) => ctx.jsonrpc!.call("late"),
    (ctx) => ctx.jsonrpc!.call("marker"),
  );
  const r = await startRouter(app, ["udp:127.0.0.1:0"]);
  try {
    await waitUp((r.internals.modules.get("jsonrpcc") as JsonRpcModuleInstance).client);
    assert.deepEqual(await cancelThenMark(r.udpPort, started, outcomes), ["hold: ERR_TM_CANCELLED", "ask: ERR_TM_CANCELLED"]);
    assert.deepEqual(
      server.received.map((q) => q.method),
      ["marker"],
      "the cancelled call's request was never sent",
    );
  } finally {
    gate.resolve();
    await r.stop();
    await server.stop();
  }
});

test("jsonrpc call() with no server rejects at once without holding the transaction: no 100, nothing sent", async () => {
  const outcomes = new Collector<string>();
  const server = await startTestServer();
  const app = defineApp({
    tm: { trying100Delay: 0, frTimer: 2000 },
    modules: { jsonrpcc: { servers: `127.0.0.1:${server.port},1`, timeout: 2000 } },
    async request(ctx) {
      if (ctx.isMethod("ACK")) return;
      try {
        await ctx.jsonrpc.call("m");
      } catch (err) {
        outcomes.push((err as { code?: string }).code ?? "?");
      }
      // Two turns later: a 100 scheduled by a hold (trying100Delay 0: at the end of the turn) has left.
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      ctx.tm.reply(503, "No Server");
    },
  });
  const r = await startRouter(app, ["udp:127.0.0.1:0"]);
  const peer = await SipPeer.open();
  try {
    const client = (r.internals.modules.get("jsonrpcc") as JsonRpcModuleInstance).client;
    await waitUp(client);
    await server.stop();
    await waitDown(client, `127.0.0.1:${server.port}`);
    peer.send(invite(peer, "down", peer.branch(), "down-1"), r.udpPort);
    await peer.expect((m) => m.callId === "down-1" && m.status === 503);
    assert.deepEqual(outcomes.items, ["ERR_JSONRPC_NO_SERVER"]);
    assert.equal(
      peer.count((m) => m.callId === "down-1" && m.status === 100),
      0,
      "nothing was held, so no 100",
    );
    assert.equal(server.received.length, 0);
  } finally {
    peer.close();
    await r.stop();
    await server.stop();
  }
});
