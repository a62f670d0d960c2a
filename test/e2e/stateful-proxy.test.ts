// evsip as a stateful, record-routing proxy between real SIPp UAC and UAS, over UDP and TCP:
// a whole call, CANCEL before answer, serial forking from a failure route, and 408 on no answer.
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineApp, type AppDefinition } from "../../src/app.js";
import { freePort, hasSipp, runSipp, SKIP_NO_SIPP, startSipp, type SippResult } from "../support/sipp.js";
import { startRouter } from "../support/router.js";
import { captureLogger } from "../support/transport-harness.js";
import { SipPeer, sipText } from "../support/sip-peer.js";

const skip = hasSipp() ? false : SKIP_NO_SIPP;

function ok(r: SippResult, who: string): void {
  assert.equal(r.code, 0, `${who}: ${r.stderr || r.stdout.slice(-3000)}`);
}

/** The proxy app: in-dialog requests follow Route, new INVITEs are record-routed to `first`. */
function proxyApp(first: string, failover?: string, tm?: AppDefinition["tm"], seen: string[] = []): AppDefinition {
  return defineApp({
    tm,
    reply(ctx) {
      seen.push(`${ctx.msg.status} ${ctx.msg.cseq.method}`);
    },
    request(ctx) {
      if (ctx.hasToTag()) {
        if (ctx.rr.looseRoute()) ctx.tm.relay();
        else if (!ctx.isMethod("ACK")) ctx.sl.sendReply(404, "Not here");
        return ctx.exit();
      }
      if (ctx.isMethod("CANCEL")) {
        ctx.tm.relay();
        return ctx.exit();
      }
      ctx.rr.recordRoute();
      if (failover) ctx.tm.onFailure("NEXT");
      ctx.setPv("$du", first);
      ctx.tm.relay();
    },
    routes: {
      NEXT(ctx) {
        if (ctx.pv("$T(reply_code)") === 486 && failover) ctx.tm.relay(failover);
      },
    },
  });
}

for (const proto of ["udp", "tcp"] as const) {
  const transport = proto === "udp" ? "u1" : "t1";
  const uri = (port: number) => `sip:127.0.0.1:${port};transport=${proto}`;

  test(`a record-routed call INVITE/180/200/ACK/BYE flows through the proxy over ${proto}`, { skip }, async () => {
    const uas = await startSipp({ scenario: "uas-answer-rr.xml", transport, timeoutSec: 20 });
    await uas.ready;
    const seen: string[] = [];
    const r = await startRouter(proxyApp(uri(uas.port), undefined, undefined, seen));
    try {
      ok(await runSipp({ scenario: "uac-call-rr.xml", target: r.target(proto), transport }), "uac");
      ok(await uas.done, "uas");
      assert.equal(r.internals.engine.tu.stats.created, 2, "INVITE and BYE transactions");
      assert.deepEqual([...new Set(seen)], ["180 INVITE", "200 INVITE", "200 BYE"], "the reply route sees every response");
    } finally {
      await uas.stop();
      await r.stop();
    }
  });

  test(`CANCEL before answer: 200 for the CANCEL, 487 for the INVITE over ${proto}`, { skip }, async () => {
    const uas = await startSipp({ scenario: "uas-ring-cancel.xml", transport, timeoutSec: 20 });
    await uas.ready;
    const r = await startRouter(proxyApp(uri(uas.port)));
    try {
      ok(await runSipp({ scenario: "uac-cancel-ringing-487.xml", target: r.target(proto), transport }), "uac");
      ok(await uas.done, "uas");
    } finally {
      await uas.stop();
      await r.stop();
    }
  });

  test(`486 from the first UAS: the failure route relays to a second UAS that answers over ${proto}`, { skip }, async () => {
    const busy = await startSipp({ scenario: "uas-busy-486.xml", transport, timeoutSec: 20 });
    const good = await startSipp({ scenario: "uas-answer-rr.xml", transport, timeoutSec: 20 });
    await Promise.all([busy.ready, good.ready]);
    const r = await startRouter(proxyApp(uri(busy.port), uri(good.port)));
    try {
      ok(await runSipp({ scenario: "uac-call-rr.xml", target: r.target(proto), transport }), "uac");
      ok(await busy.done, "busy uas");
      ok(await good.done, "answering uas");
    } finally {
      await busy.stop();
      await good.stop();
      await r.stop();
    }
  });
}

test("no answer: 408 after the final-response timer (short timers)", { skip }, async () => {
  const silent = await freePort(); // nothing listens there
  const r = await startRouter(proxyApp(`sip:127.0.0.1:${silent}`, undefined, { t1: 50, frTimer: 400, frInvTimer: 400 }));
  try {
    ok(await runSipp({ scenario: "uac-invite-408.xml", target: r.target("udp"), transport: "u1" }), "uac");
    assert.ok((r.internals.engine.tu.stats.timeouts ?? 0) >= 1);
  } finally {
    await r.stop();
  }
});

test("bridging UDP to TCP: two Record-Routes, and the BYE crosses back over both transports", { skip }, async () => {
  const uas = await startSipp({ scenario: "uas-answer-rr.xml", transport: "t1", timeoutSec: 20 });
  await uas.ready;
  const rrSeen: number[] = [];
  const app = proxyApp(`sip:127.0.0.1:${uas.port};transport=tcp`);
  const r = await startRouter({
    ...app,
    reply(ctx) {
      if (ctx.msg.status === 200 && ctx.msg.cseq.method === "INVITE") rrSeen.push(ctx.msg.recordRoutes.length);
    },
  });
  try {
    ok(await runSipp({ scenario: "uac-call-rr.xml", target: r.target("udp"), transport: "u1" }), "uac over udp");
    ok(await uas.done, "uas over tcp");
    assert.deepEqual(rrSeen, [2], "one Record-Route per transport (RFC 5658)");
  } finally {
    await uas.stop();
    await r.stop();
  }
});

test("past maxTransactions a new stateful request gets 503, counted; the log is rate-limited", async () => {
  const log = captureLogger();
  const r = await startRouter(
    defineApp({
      tm: { maxTransactions: 1, frTimer: 5000 },
      request(ctx) {
        ctx.tm.suspend(); // holds the transaction
      },
    }),
    undefined,
    log.logger,
  );
  const peer = await SipPeer.open();
  const invite = (id: string) =>
    sipText([
      "INVITE sip:x@127.0.0.1 SIP/2.0",
      `Via: SIP/2.0/UDP ${peer.hostport};branch=${peer.branch()}`,
      `From: <sip:a@127.0.0.1>;tag=${id}`,
      "To: <sip:x@127.0.0.1>",
      `Call-ID: ${id}`,
      "CSeq: 1 INVITE",
    ]);
  try {
    peer.send(invite("lim-1"), r.udpPort);
    await peer.expect((m) => m.callId === "lim-1" && m.status === 100);
    for (let i = 2; i <= 31; i++) {
      peer.send(invite(`lim-${i}`), r.udpPort);
      const refused = await peer.expect((m) => m.callId === `lim-${i}`);
      assert.equal(refused.msg.status, 503);
    }
    assert.equal(r.internals.engine.tu.stats.limitRejected, 30);
    // Every new request is refused while the table is full: 10 lines per 10 s, not one each.
    assert.equal(log.lines.filter((l) => l.code === "ERR_TM_LIMIT").length, 10);
  } finally {
    peer.close();
    await r.stop();
  }
});
