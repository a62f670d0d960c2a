// User code never takes the router down: a throwing route is logged with its name and counted,
// and its request answered 500 (statefully when it has a transaction). Garbage runs
// event_route[core:receive-parse-error]. Real UDP peer against the whole server. Its log lines are
// rate-limited per route and cause, so a route failing every call cannot flood the log.
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineApp } from "../../src/app.js";
import { startRouter } from "../support/router.js";
import { SipPeer, sipText } from "../support/sip-peer.js";
import { captureLogger } from "../support/transport-harness.js";
import { Server, serverInternals } from "../../src/server.js";
import { LockError } from "../../src/errors.js";

function request(peer: SipPeer, method: string, user: string, callId: string): string {
  return sipText([
    `${method} sip:${user}@127.0.0.1 SIP/2.0`,
    `Via: SIP/2.0/UDP ${peer.hostport};branch=${peer.branch()}`,
    "Max-Forwards: 70",
    `From: <sip:a@127.0.0.1>;tag=t${callId}`,
    `To: <sip:${user}@127.0.0.1>`,
    `Call-ID: ${callId}`,
    `CSeq: 1 ${method}`,
  ]);
}

test("a throwing route is caught, counted by route name, and its request gets 500", async () => {
  let parseErrorSeen!: (code: unknown) => void;
  const parseError = new Promise((r) => (parseErrorSeen = r));
  const r = await startRouter(
    defineApp({
      async request(ctx) {
        const user = ctx.pv("$rU");
        if (user === "sync") throw new Error("sync boom");
        if (user === "nested") void ctx.route("MISSING");
        if (user === "async") {
          ctx.tm.newTran();
          await Promise.resolve();
          throw new Error("async boom");
        }
        ctx.sl.sendReply(200, "OK");
      },
      events: {
        "core:receive-parse-error"(ctx) {
          parseErrorSeen((ctx.eventData as { code: string }).code);
          throw new Error("even this is caught");
        },
      },
    }),
  );
  const peer = await SipPeer.open();
  try {
    peer.send(request(peer, "OPTIONS", "sync", "e1"), r.udpPort);
    assert.equal((await peer.expect((m) => m.callId === "e1")).msg.status, 500);
    peer.send(request(peer, "OPTIONS", "nested", "e2"), r.udpPort);
    assert.equal((await peer.expect((m) => m.callId === "e2")).msg.status, 500);
    peer.send(request(peer, "INVITE", "async", "e3"), r.udpPort);
    const final = await peer.expect((m) => m.callId === "e3" && m.status >= 200);
    assert.equal(final.msg.status, 500);
    const stats = r.internals.engine.stats.routeErrors;
    assert.equal(stats.get("request"), 3);

    peer.send("this is not SIP\r\n\r\n", r.udpPort);
    assert.equal(await parseError, "ERR_SIP_BAD_START_LINE");
    assert.ok((r.internals.transport.stats.parseErrors.get("ERR_SIP_BAD_START_LINE") ?? 0) >= 1);

    peer.send(request(peer, "OPTIONS", "fine", "e4"), r.udpPort);
    assert.equal((await peer.expect((m) => m.callId === "e4")).msg.status, 200, "still serving");
  } finally {
    peer.close();
    await r.stop();
  }
});

test("a route that throws for every call logs at most 10 lines per route and cause in 10 s; every error is counted", async () => {
  const { logger, lines } = captureLogger();
  const server = new Server(
    defineApp({
      sip: { warmUp: 0, warmUpCalls: 0 },
      request(ctx) {
        if (ctx.pv("$rU") === "coded") throw new LockError("ERR_LOCK_BUSY", "busy");
        throw new Error("plain");
      },
    }),
    { listen: ["udp:127.0.0.1:0"], logger },
  );
  await server.start();
  const port = server.listeners()[0]?.port ?? 0;
  const peer = await SipPeer.open();
  try {
    for (let i = 0; i < 15; i++) {
      for (const user of ["coded", "plain"]) {
        peer.send(request(peer, "OPTIONS", user, `${user}-${i}`), port);
        await peer.expect((m) => m.callId === `${user}-${i}` && m.status === 500);
      }
    }
    const threw = lines.filter((l) => l.code === "ERR_ROUTE_THREW");
    const causes = threw.map((l) => (l.err as { code?: string; message: string }).code ?? (l.err as { message: string }).message);
    assert.equal(causes.filter((c) => c === "ERR_LOCK_BUSY").length, 10, "one cause's lines are capped");
    assert.equal(causes.filter((c) => c === "plain").length, 10, "another cause has its own budget");
    assert.equal(serverInternals(server).engine.stats.routeErrors.get("request"), 30, "nothing is left uncounted");
  } finally {
    peer.close();
    await server.stop();
  }
  const flushed = lines.filter((l) => l.code === "ERR_ROUTE_THREW" && l.suppressed !== undefined).map((l) => l.suppressed);
  assert.deepEqual(flushed, [5, 5], "the stop reports what the cap held back");
});
