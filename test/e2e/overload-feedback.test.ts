// RFC 7339 overload control against a real router over UDP: a route that serves ~500 requests/s gets
// 2,000 new INVITEs at once from two callers, one whose Via carries `oc` and one whose does not.
// While the kernel's queue is past admission.ocQueue, the responses to the first carry the feedback
// (`oc=<percent>;oc-algo="loss";oc-validity;oc-seq`), the second's never do, every INVITE is answered;
// a final built by a callee and relayed by tm carries it as well; once the queue is gone the
// reduction falls back to oc=0 and the feedback stops, as the log says. Over one TCP connection (a
// trunk) the time its messages wait in evsip drives the same feedback.
import { test } from "node:test";
import { existsSync } from "node:fs";
import assert from "node:assert/strict";
import { defineApp } from "../../src/app.js";
import type { SipMessageLike } from "../../src/sip/types.js";
import { startRouter } from "../support/router.js";
import { SipPeer, sipText } from "../support/sip-peer.js";
import { httpGet, sample } from "../support/http-get.js";
import { captureLogger } from "../support/transport-harness.js";
import { TcpResponses } from "../support/tcp-responses.js";
import { connect } from "node:net";

const PER_CALLER = 1000;

/** The feedback's reduction in a response, or undefined when it has none (a caller's own `oc` is valueless). */
function reduction(m: SipMessageLike): string | undefined {
  return m.topVia.params.get("oc") ?? undefined;
}

function invite(peer: SipPeer, callId: string, oc: boolean): string {
  return sipText([
    `INVITE sip:bob@127.0.0.1 SIP/2.0`,
    `Via: SIP/2.0/UDP ${peer.hostport};branch=${peer.branch()}${oc ? ';oc;oc-algo="loss,rate"' : ""}`,
    "Max-Forwards: 70",
    `From: <sip:alice@127.0.0.1>;tag=f-${callId}`,
    "To: <sip:bob@127.0.0.1>",
    `Call-ID: ${callId}`,
    "CSeq: 1 INVITE",
  ]);
}

/** Every final of `peer`'s calls (Call-ID prefix), keyed by Call-ID, as received. */
async function finals(peer: SipPeer, prefix: string): Promise<Map<string, SipMessageLike>> {
  const out = new Map<string, SipMessageLike>();
  while (out.size < PER_CALLER) {
    const got = await peer.expect(
      (m) => !m.isRequest && m.status >= 200 && m.callId.startsWith(prefix) && !out.has(m.callId),
      20_000,
    );
    out.set(got.msg.callId, got.msg);
  }
  return out;
}

test(
  "RFC 7339: while the queue is past ocQueue, responses ask the caller that supports oc for less; the other caller's never carry it",
  { skip: !existsSync("/proc/net/udp") },
  async () => {
    const log = captureLogger();
    // A callee for calls the router relays statefully: every INVITE answered 200 at once.
    const uas = await SipPeer.answering("uas", undefined, (m) => m.method === "INVITE");
    const r = await startRouter(
      defineApp({
        metrics: { bindAddr: "127.0.0.1:0" },
        admission: { shedAfter: 60_000, shedQueue: 100, startGrace: 0, ocQueue: 20, ocValidity: 500, retryAfter: 3 },
        request(ctx) {
          if (ctx.msg.callId.startsWith("relay-")) {
            ctx.tm.relay(`sip:127.0.0.1:${uas.port}`);
            return;
          }
          const until = Date.now() + 2;
          while (Date.now() < until);
          ctx.sl.sendReply(200, "OK");
        },
      }),
      ["udp:127.0.0.1:0"],
      log.logger,
    );
    const withOc = await SipPeer.open();
    const without = await SipPeer.open();
    try {
      for (let i = 0; i < PER_CALLER; i++) {
        withOc.send(invite(withOc, `oc-${i}`, true), r.udpPort);
        without.send(invite(without, `plain-${i}`, false), r.udpPort);
      }
      const [ocFinals, plainFinals] = await Promise.all([finals(withOc, "oc-"), finals(without, "plain-")]);

      const stamped = [...ocFinals.values()].filter((m) => reduction(m) !== undefined);
      assert.ok(stamped.length > 0, "some responses carry the feedback");
      const asked = stamped.map((m) => Number(m.topVia.params.get("oc")));
      assert.ok(Math.max(...asked) > 0, `a reduction was asked (${Math.max(...asked)} %)`);
      for (const m of stamped) {
        const p = m.topVia.params;
        assert.equal(p.get("oc-algo"), '"loss"', "the algorithm chosen from the caller's list");
        assert.equal(p.get("oc-validity"), "500");
        assert.match(p.get("oc-seq") ?? "", /^\d+\.\d{3}$/);
        assert.equal(p.get("branch")?.startsWith("z9hG4bK"), true, "the caller's own parameters stay");
      }
      const seqs = stamped.map((m) => Number(m.topVia.params.get("oc-seq")));
      assert.ok(
        seqs.every((s, i) => i === 0 || s >= (seqs[i - 1] as number)),
        "oc-seq never goes back (responses of one socket arrive in order)",
      );
      assert.equal(
        [...plainFinals.values()].filter((m) => m.topVia.params.has("oc")).length,
        0,
        "no oc for a caller that did not ask",
      );
      const all = [...ocFinals.values(), ...plainFinals.values()];
      assert.equal(all.filter((m) => m.status !== 200 && m.status !== 503).length, 0, "every INVITE answered 200 or 503");
      assert.ok(
        log.lines.some((l) => l.msg === "overload feedback: asking the clients that support RFC 7339 for less new work"),
        "the start of the feedback is logged",
      );

      // Just caught up, the feedback still given: a final the callee built and tm relayed carries it too.
      withOc.send(invite(withOc, "relay-1", true), r.udpPort);
      const relayed = (await withOc.expect((m) => !m.isRequest && m.status >= 200 && m.callId === "relay-1", 5_000)).msg;
      assert.equal(relayed.status, 200);
      assert.equal(relayed.to.tag, "uas", "the callee's own 200, relayed");
      assert.notEqual(reduction(relayed), undefined, "stamped on its way to the caller");
      assert.equal(relayed.vias.length, 1, "the router's Via is gone, the caller's carries the feedback");

      // Caught up: the share asked for climbs back and the feedback ends with oc=0, then nothing.
      // One request at a time, each answered before the next (~2 ms each), until one comes back
      // without feedback: about 1.5 s of the router's time (the climb, then one oc-validity of oc=0).
      let last: SipMessageLike | undefined;
      for (let i = 0; i < 3000; i++) {
        withOc.send(invite(withOc, `after-${i}`, true), r.udpPort);
        last = (await withOc.expect((m) => !m.isRequest && m.status >= 200 && m.callId === `after-${i}`, 5_000)).msg;
        if (reduction(last) === undefined) break;
      }
      assert.ok(last !== undefined && reduction(last) === undefined, "the feedback ended");
      assert.equal(last.topVia.params.get("oc"), null, "the caller's own valueless oc comes back as it was");
      const ends = withOc.received.filter(
        (x) => !x.msg.isRequest && x.msg.callId.startsWith("after-") && reduction(x.msg) !== undefined,
      );
      assert.ok(ends.length > 0, "the climb back was seen");
      assert.equal(reduction(ends.at(-1)?.msg as SipMessageLike), "0", "the last feedback asked for no reduction");
      assert.ok(
        log.lines.some(
          (l) => l.msg === "overload feedback over: the clients that support RFC 7339 send all their new work again",
        ),
      );
      const addr = r.server.metricsAddress();
      assert.ok(addr);
      const body = (await httpGet(addr.host, addr.port, "/metrics")).body;
      assert.equal(sample(body, "evsip_transport_overload_reduction_percent"), 0);
      // Every response that carried the feedback is counted, and only those to the caller that asked.
      const counted = sample(body, "evsip_transport_overload_feedback_total") ?? 0;
      const toOc = withOc.received.filter((x) => !x.msg.isRequest);
      assert.equal(counted, toOc.filter((x) => reduction(x.msg) !== undefined).length);
    } finally {
      withOc.close();
      without.close();
      uas.close();
      await r.stop();
    }
  },
);

test("RFC 7339 over one TCP connection (a trunk): how long its messages wait in evsip drives the feedback", async () => {
  const r = await startRouter(
    defineApp({
      admission: { shedAfter: 60_000, shedQueue: 100, startGrace: 0, ocQueue: 20, ocValidity: 500, retryAfter: 3 },
      request(ctx) {
        const until = Date.now() + 2;
        while (Date.now() < until);
        ctx.sl.sendReply(200, "OK");
      },
    }),
    ["tcp:127.0.0.1:0"],
  );
  const c = connect({ port: r.tcpPort, host: "127.0.0.1" });
  try {
    await new Promise<void>((resolve, reject) => c.once("connect", resolve).once("error", reject));
    const answers = new TcpResponses(c);
    const out: string[] = [];
    for (let i = 0; i < PER_CALLER; i++) {
      out.push(
        sipText([
          "INVITE sip:bob@127.0.0.1 SIP/2.0",
          `Via: SIP/2.0/TCP 127.0.0.1:5099;branch=z9hG4bK-t-${i};oc;oc-algo="loss"`,
          "Max-Forwards: 70",
          `From: <sip:alice@127.0.0.1>;tag=f-${i}`,
          "To: <sip:bob@127.0.0.1>",
          `Call-ID: tcp-${i}`,
          "CSeq: 1 INVITE",
        ]),
      );
    }
    c.write(out.join("")); // one write: the trunk's backlog at once
    const got: SipMessageLike[] = [];
    while (got.length < PER_CALLER) got.push(await answers.next(20_000));
    assert.equal(got.filter((m) => m.status !== 200 && m.status !== 503).length, 0, "every INVITE answered 200 or 503");
    const asked = got
      .map(reduction)
      .filter((x) => x !== undefined)
      .map(Number);
    assert.ok(asked.length > 0 && Math.max(...asked) > 0, `the trunk was asked for less (${Math.max(0, ...asked)} %)`);
  } finally {
    c.destroy();
    await r.stop();
  }
});
