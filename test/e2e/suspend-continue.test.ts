// t_suspend / t_continue through the whole router: SIPp calls whose INVITE is held and resumed by
// the app, never resumed (408), cancelled while held (487), plus retransmissions of a held INVITE
// absorbed without re-running the request route (scripted UDP peer), and record-routing across a suspend.
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineApp } from "../../src/app.js";
import type { RequestContext } from "../../src/route-contexts.js";
import { hasSipp, runSipp, SKIP_NO_SIPP, startSipp } from "../support/sipp.js";
import { startRouter } from "../support/router.js";
import { SipPeer, isResponse, sipText } from "../support/sip-peer.js";

const skip = hasSipp() ? false : SKIP_NO_SIPP;

function holdApp(state: { runs: number; results: Record<string, unknown>; release?: () => void }) {
  return defineApp({
    tm: { frTimer: 500 },
    async request(ctx: RequestContext) {
      if (ctx.isMethod("ACK")) return ctx.exit();
      state.runs++;
      const user = String(ctx.pv("$rU"));
      if (user === "resume" || user === "twice") {
        const id = ctx.tm.suspend();
        assert.ok(id);
        // The "external application" answers a moment later, from outside any route.
        setImmediate(() => {
          state.results[user] = ctx.tm.continue(String(id.index), String(id.label), "RESUME");
          if (user === "twice") state.results.second = ctx.tm.continue(id.index, id.label, "RESUME");
        });
        return;
      }
      if (user === "stale") {
        state.results.stale = ctx.tm.continue(65535, 1, "RESUME");
        state.results.noRoute = ctx.tm.continue(1, 1, "NOPE");
        ctx.tm.reply(403, "Forbidden");
        return;
      }
      if (user === "await") {
        const v = await ctx.tm.hold(new Promise<string>((r) => (state.release = () => r("go"))), { timeout: 5000 });
        ctx.tm.reply(v === "go" ? 200 : 500, "OK");
        return;
      }
      ctx.tm.suspend(); // "forget" and "cancel": nobody continues
    },
    routes: {
      RESUME(ctx) {
        ctx.tm.reply(200, "OK");
      },
    },
  });
}

test("suspend then continue from outside the route: 200 after resume", { skip }, async () => {
  const state = { runs: 0, results: {} as Record<string, unknown> };
  const r = await startRouter(holdApp(state));
  try {
    const res = await runSipp({ scenario: "uac-invite-200.xml", target: r.target("udp"), service: "resume" });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(state.results.resume, true);
  } finally {
    await r.stop();
  }
});

test("a second continue for the same transaction returns false", { skip }, async () => {
  const state = { runs: 0, results: {} as Record<string, unknown> };
  const r = await startRouter(holdApp(state));
  try {
    const res = await runSipp({ scenario: "uac-invite-200.xml", target: r.target("udp"), service: "twice" });
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual([state.results.twice, state.results.second], [true, false]);
  } finally {
    await r.stop();
  }
});

test("suspended and never continued: 408 after frTimer", { skip }, async () => {
  const state = { runs: 0, results: {} as Record<string, unknown> };
  const r = await startRouter(holdApp(state));
  try {
    const res = await runSipp({ scenario: "uac-invite-408.xml", target: r.target("udp"), service: "forget" });
    assert.equal(res.code, 0, res.stderr);
  } finally {
    await r.stop();
  }
});

test("continue with a stale id or an unknown route returns false", { skip }, async () => {
  const state = { runs: 0, results: {} as Record<string, unknown> };
  const r = await startRouter(holdApp(state));
  try {
    const res = await runSipp({ scenario: "uac-invite-403.xml", target: r.target("udp"), service: "stale" });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(state.results.stale, false);
    assert.equal(state.results.noRoute, false);
  } finally {
    await r.stop();
  }
});

test("CANCEL while suspended: 200 for the CANCEL, 487 for the INVITE", { skip }, async () => {
  const state = { runs: 0, results: {} as Record<string, unknown> };
  // frTimer far past the CANCEL's round trip: the app's 500 ms (for the 408 tests) could answer 408
  // first on a loaded machine.
  const r = await startRouter({ ...holdApp(state), tm: { frTimer: 5000 } });
  try {
    const res = await runSipp({ scenario: "uac-cancel-487.xml", target: r.target("udp"), service: "cancel" });
    assert.equal(res.code, 0, res.stderr);
  } finally {
    await r.stop();
  }
});

function invite(peer: SipPeer, user: string, branch: string, callId: string): string {
  return sipText([
    `INVITE sip:${user}@127.0.0.1 SIP/2.0`,
    `Via: SIP/2.0/UDP ${peer.hostport};branch=${branch}`,
    "Max-Forwards: 70",
    `From: <sip:a@127.0.0.1>;tag=f${callId}`,
    `To: <sip:${user}@127.0.0.1>`,
    `Call-ID: ${callId}`,
    "CSeq: 1 INVITE",
  ]);
}

test("retransmissions of a suspended INVITE and of one held by an awaiting route never re-run the route", async () => {
  const state = { runs: 0, results: {} as Record<string, unknown>, release: undefined as (() => void) | undefined };
  const r = await startRouter(holdApp(state));
  const peer = await SipPeer.open();
  try {
    const held = invite(peer, "forget", peer.branch(), "held-1");
    peer.send(held, r.udpPort);
    await peer.expect(isResponse(100));
    peer.send(held, r.udpPort);
    peer.send(held, r.udpPort);
    await peer.expect(isResponse(100));
    await peer.expect(isResponse(100));
    assert.equal(state.runs, 1, "suspended: the request route ran once");

    const waiting = invite(peer, "await", peer.branch(), "await-1");
    peer.send(waiting, r.udpPort);
    await peer.expect((m) => m.callId === "await-1" && m.status === 100);
    peer.send(waiting, r.udpPort);
    await peer.expect((m) => m.callId === "await-1" && m.status === 100);
    assert.equal(state.runs, 2, "awaiting: the request route ran once more, not twice");
    state.release?.();
    const ok = await peer.expect((m) => m.callId === "await-1" && m.status === 200);
    assert.equal(ok.msg.status, 200);
    assert.ok((r.internals.engine.tu.stats.retransmissionsAbsorbed ?? 0) >= 3);
  } finally {
    peer.close();
    await r.stop();
  }
});

test("a plain await in the request route holds the request: retransmissions absorbed, the late reply re-sent", async () => {
  let runs = 0;
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const r = await startRouter(
    defineApp({
      async request(ctx) {
        runs++;
        await gate; // e.g. a database lookup; no tm call before it
        ctx.sl.sendReply(200, "OK");
      },
    }),
  );
  const peer = await SipPeer.open();
  try {
    const opt = sipText([
      "OPTIONS sip:x@127.0.0.1 SIP/2.0",
      `Via: SIP/2.0/UDP ${peer.hostport};branch=${peer.branch()}`,
      "From: <sip:a@127.0.0.1>;tag=aw1",
      "To: <sip:x@127.0.0.1>",
      "Call-ID: plain-await-1",
      "CSeq: 7 OPTIONS",
    ]);
    peer.send(opt, r.udpPort);
    peer.send(opt, r.udpPort);
    open();
    const first = await peer.expect(isResponse(200));
    assert.ok(first.msg.to.tag, "the reply has a To-tag");
    peer.send(opt, r.udpPort);
    const again = await peer.expect(isResponse(200));
    assert.equal(again.msg.to.tag, first.msg.to.tag, "the same reply is re-sent");
    assert.equal(runs, 1, "the request route ran once for three copies");
  } finally {
    peer.close();
    await r.stop();
  }
});

test(
  "record_route() before suspend still applies when the continue route relays (Kamailio keeps the lumps)",
  { skip },
  async () => {
    const uas = await startSipp({ scenario: "uas-answer-rr.xml", timeoutSec: 15 });
    await uas.ready;
    const app = defineApp({
      request(ctx) {
        if (ctx.hasToTag()) {
          if (ctx.rr.looseRoute()) ctx.tm.relay();
          else if (!ctx.isMethod("ACK")) ctx.sl.sendReply(404, "Not here");
          return ctx.exit();
        }
        if (ctx.isMethod("ACK")) return ctx.exit();
        ctx.rr.recordRoute();
        const id = ctx.tm.suspend();
        assert.ok(id);
        setImmediate(() => ctx.tm.continue(id.index, id.label, "RELAY"));
      },
      routes: {
        RELAY(ctx) {
          ctx.tm.relay(`sip:127.0.0.1:${uas.port}`);
        },
      },
    });
    const r = await startRouter(app, ["udp:127.0.0.1:0"]);
    try {
      const res = await runSipp({ scenario: "uac-call-rr.xml", target: r.target("udp"), service: "rr" });
      assert.equal(res.code, 0, res.stderr || res.stdout.slice(-2000)); // ACK and BYE came back through the Route set
      assert.equal((await uas.done).code, 0);
    } finally {
      await uas.stop();
      await r.stop();
    }
  },
);
