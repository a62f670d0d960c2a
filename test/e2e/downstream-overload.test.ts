// RFC 7339, the client's side, against a real router over UDP: every request tm relays carries
// `;oc;oc-algo="loss"` in the router's Via; a server that answers with a reduction in that Via gets
// that share of new requests held back, each answered 503 by the router at once (no Retry-After),
// while requests within a dialog still reach it; a failure route can send a held-back call to
// another server; the feedback ends with `oc-validity=0` or when its validity runs out; and with
// tm.overloadControl off the router neither asks nor listens.
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineApp } from "../../src/app.js";
import { withOverloadFeedback } from "../../src/sip/overload-via.js";
import type { SipMessageLike } from "../../src/sip/types.js";
import { startRouter, type RunningRouter } from "../support/router.js";
import { isFinal, SipPeer, sipText } from "../support/sip-peer.js";
import { waitFor } from "../support/wait-for.js";
import { captureLogger } from "../support/transport-harness.js";

/** A server that answers every request 200, with `feedback()`'s RFC 7339 parameters in the top Via when it asks. */
function server(toTag: string, feedback: () => string | undefined): Promise<SipPeer> {
  return SipPeer.answering(toTag, (res) => {
    const f = feedback();
    if (f === undefined) return res;
    // A Via without `oc` (a router that does not ask) gets the parameters all the same, appended.
    return (
      withOverloadFeedback(res, f) ??
      Buffer.from(
        res.toString("latin1").replace(/\r\nVia:[^\r]*/i, (v) => v + f),
        "latin1",
      )
    );
  });
}

/** A request from `uac`: new work (OPTIONS, no To tag) unless `toTag` puts it within a dialog. */
function request(uac: SipPeer, router: RunningRouter, callId: string, toTag?: string): void {
  uac.send(
    sipText([
      `${toTag === undefined ? "OPTIONS" : "INFO"} sip:bob@127.0.0.1 SIP/2.0`,
      `Via: SIP/2.0/UDP ${uac.hostport};branch=${uac.branch()}`,
      "Max-Forwards: 70",
      `From: <sip:alice@127.0.0.1>;tag=f-${callId}`,
      `To: <sip:bob@127.0.0.1>${toTag === undefined ? "" : `;tag=${toTag}`}`,
      `Call-ID: ${callId}`,
      `CSeq: 1 ${toTag === undefined ? "OPTIONS" : "INFO"}`,
    ]),
    router.udpPort,
  );
}

async function finalOf(uac: SipPeer, callId: string): Promise<SipMessageLike> {
  return (await uac.expect(isFinal(callId), 5000)).msg;
}

const requestsTo = (s: SipPeer): SipMessageLike[] => s.received.filter((r) => r.msg.isRequest).map((r) => r.msg);

test("a server's reduction holds new requests back with the router's own 503; requests within a dialog still reach it", async () => {
  const log = captureLogger();
  const uas = await server("uas", () => ';oc=100;oc-algo="loss";oc-validity=60000;oc-seq=1764460800.001');
  const r = await startRouter(
    defineApp({ tm: { overloadControl: true }, request: (ctx) => void ctx.tm.relay(`sip:127.0.0.1:${uas.port}`) }),
    ["udp:127.0.0.1:0"],
    log.logger,
  );
  const uac = await SipPeer.open();
  try {
    request(uac, r, "first");
    const ok = await finalOf(uac, "first");
    assert.equal(ok.status, 200, "the first request goes through: nothing was asked yet");
    assert.equal(ok.topVia.params.has("oc"), false, "the server's feedback stays in the router's Via, which it strips");
    const sent = requestsTo(uas)[0];
    assert.ok(sent);
    assert.equal(sent.topVia.params.get("oc"), null, "the router's Via says it supports overload control");
    assert.equal(sent.topVia.params.get("oc-algo"), '"loss"');

    request(uac, r, "second");
    const held = await finalOf(uac, "second");
    assert.equal(held.status, 503, "held back: answered by the router");
    assert.equal(held.header("Retry-After"), undefined, "without Retry-After: the router itself is not unavailable");

    request(uac, r, "in-dialog", "uas");
    assert.equal((await finalOf(uac, "in-dialog")).status, 200, "a request within a dialog still goes");
    // Loopback keeps order: had the second request been relayed, it would have arrived before this one.
    assert.deepEqual(
      requestsTo(uas).map((m) => m.callId),
      ["first", "in-dialog"],
      "the server never saw the held-back request",
    );
    const s = r.internals.engine.tu.stats;
    assert.equal(s.heldBack, 1);
    assert.equal(s.downstreamReducing, 1);
    assert.ok(
      log.lines.some((l) => typeof l.msg === "string" && l.msg.includes("asks for less new work") && l.percent === 100),
      "the start is logged with the server and its share",
    );
  } finally {
    uac.close();
    uas.close();
    await r.stop();
  }
});

test("a failure route sends a held-back call to another server, with $T_reply_code 503", async () => {
  const busy = await server("busy", () => ";oc=100;oc-validity=60000;oc-seq=5");
  const spare = await server("spare", () => undefined);
  const codes: unknown[] = [];
  const r = await startRouter(
    defineApp({
      tm: { overloadControl: true },
      request(ctx) {
        ctx.tm.onFailure("ELSEWHERE");
        ctx.tm.relay(`sip:127.0.0.1:${busy.port}`);
      },
      routes: {
        ELSEWHERE(ctx) {
          codes.push(ctx.pv("$T_reply_code"));
          ctx.tm.relay(`sip:127.0.0.1:${spare.port}`);
        },
      },
    }),
    ["udp:127.0.0.1:0"],
  );
  const uac = await SipPeer.open();
  try {
    request(uac, r, "a");
    assert.equal((await finalOf(uac, "a")).to.tag, "busy");
    request(uac, r, "b");
    const b = await finalOf(uac, "b");
    assert.equal(b.status, 200);
    assert.equal(b.to.tag, "spare", "answered by the other server");
    assert.deepEqual(codes, [503]);
    assert.deepEqual(
      requestsTo(busy).map((m) => m.callId),
      ["a"],
    );
  } finally {
    uac.close();
    busy.close();
    spare.close();
    await r.stop();
  }
});

test("serial forking past two servers that ask for all of it: the second failure route still runs and reaches a third", async () => {
  const first = await server("first", () => ";oc=100;oc-validity=60000;oc-seq=1");
  const second = await server("second", () => ";oc=100;oc-validity=60000;oc-seq=1");
  const third = await server("third", () => undefined);
  const targets = [first, second, third].map((s) => `sip:127.0.0.1:${s.port}`);
  const r = await startRouter(
    defineApp({
      tm: { overloadControl: true },
      request(ctx) {
        ctx.tm.onFailure("NEXT");
        ctx.tm.relay(targets[0]);
      },
      routes: {
        NEXT(ctx) {
          const tried = Number(ctx.pv("$avp(tried)") ?? 0) + 1;
          ctx.setPv("$avp(tried)", tried);
          if (tried < 2) ctx.tm.onFailure("NEXT");
          ctx.tm.relay(targets[tried]);
        },
      },
    }),
    ["udp:127.0.0.1:0"],
  );
  const uac = await SipPeer.open();
  try {
    // "warm" reaches first, whose answer asks for everything; "warm2" is then held back from first
    // and reaches second, whose answer asks for everything too.
    request(uac, r, "warm");
    assert.equal((await finalOf(uac, "warm")).to.tag, "first");
    request(uac, r, "warm2");
    const w2 = await finalOf(uac, "warm2");
    assert.equal(w2.to.tag, "second", "held back from first, relayed to second by the failure route");
    request(uac, r, "call");
    const call = await finalOf(uac, "call");
    assert.equal(call.status, 200);
    assert.equal(call.to.tag, "third", "held back from first and second, answered by the third");
    assert.equal(r.internals.engine.tu.stats.heldBack, 3);
  } finally {
    uac.close();
    for (const s of [first, second, third]) s.close();
    await r.stop();
  }
});

test("a held-back branch is the answer's: a continue route or a route that throws after relaying does not answer 500 first", async () => {
  const uas = await server("uas", () => ";oc=100;oc-validity=60000;oc-seq=1");
  const r = await startRouter(
    defineApp({
      tm: { overloadControl: true },
      request(ctx) {
        const id = ctx.msg.callId;
        if (id === "continued") {
          const t = ctx.tm.suspend();
          if (t) setImmediate(() => ctx.tm.continue(t.index, t.label, "RELAY"));
          return;
        }
        ctx.tm.relay(`sip:127.0.0.1:${uas.port}`);
        if (id === "throws") throw new Error("a route's bug after its relay");
      },
      routes: {
        RELAY(ctx) {
          ctx.tm.relay(`sip:127.0.0.1:${uas.port}`);
        },
      },
    }),
    ["udp:127.0.0.1:0"],
  );
  const uac = await SipPeer.open();
  try {
    request(uac, r, "first");
    assert.equal((await finalOf(uac, "first")).status, 200);
    for (const id of ["continued", "throws"]) {
      request(uac, r, id);
      const f = await finalOf(uac, id);
      assert.equal(f.status, 503, `${id}: the held-back branch's 503, not a 500`);
    }
    assert.equal(uac.received.filter((m) => !m.msg.isRequest && m.msg.status === 500).length, 0);
  } finally {
    uac.close();
    uas.close();
    await r.stop();
  }
});

test("a failure route that relays again on every 503 to a server that asks for everything ends, with the 503", async () => {
  const uas = await server("uas", () => ";oc=100;oc-validity=60000;oc-seq=1");
  const target = `sip:127.0.0.1:${uas.port}`;
  let failureRuns = 0;
  const r = await startRouter(
    defineApp({
      tm: { overloadControl: true },
      request(ctx) {
        ctx.tm.onFailure("AGAIN");
        ctx.tm.relay(target);
      },
      routes: {
        AGAIN(ctx) {
          failureRuns++;
          ctx.tm.onFailure("AGAIN");
          ctx.tm.relay(target);
        },
      },
    }),
    ["udp:127.0.0.1:0"],
  );
  const uac = await SipPeer.open();
  try {
    request(uac, r, "warm");
    assert.equal((await finalOf(uac, "warm")).status, 200);
    request(uac, r, "loop");
    assert.equal((await finalOf(uac, "loop")).status, 503, "the loop ends, and the caller gets the 503");
    assert.equal(r.internals.engine.tu.stats.heldBack, 12, "12 held-back branches, then the best response went up");
    assert.equal(failureRuns, 11);
  } finally {
    uac.close();
    uas.close();
    await r.stop();
  }
});

test("the reduction ends with oc-validity=0, and when its validity runs out", async () => {
  let feedback: string | undefined = ";oc=100;oc-validity=60000;oc-seq=1";
  const uas = await server("uas", () => feedback);
  const r = await startRouter(
    defineApp({ tm: { overloadControl: true }, request: (ctx) => void ctx.tm.relay(`sip:127.0.0.1:${uas.port}`) }),
    ["udp:127.0.0.1:0"],
  );
  const uac = await SipPeer.open();
  const stats = (): { downstreamReducing: number } => r.internals.engine.tu.stats;
  try {
    request(uac, r, "1");
    await finalOf(uac, "1");
    request(uac, r, "2");
    assert.equal((await finalOf(uac, "2")).status, 503);
    // A response within a dialog still carries the server's word: here that it stopped.
    feedback = ";oc=100;oc-validity=0;oc-seq=2";
    request(uac, r, "3", "uas");
    await finalOf(uac, "3");
    assert.equal(stats().downstreamReducing, 0, "oc-validity=0: over at once");
    request(uac, r, "4");
    assert.equal((await finalOf(uac, "4")).status, 200);

    feedback = ";oc=100;oc-validity=100;oc-seq=3";
    request(uac, r, "5", "uas");
    await finalOf(uac, "5");
    feedback = undefined;
    request(uac, r, "6");
    assert.equal((await finalOf(uac, "6")).status, 503, "held back within the 100 ms");
    // The lapse has no event of its own: the sweep notices it within a second.
    await waitFor(() => stats().downstreamReducing === 0, 5000, { every: 10, what: "the feedback to run out" });
    assert.equal(stats().downstreamReducing, 0, "the feedback ran out");
    request(uac, r, "7");
    assert.equal((await finalOf(uac, "7")).status, 200);
  } finally {
    uac.close();
    uas.close();
    await r.stop();
  }
});

test("tm.overloadControl off (the default): no oc in the router's Via, and a reduction is not applied", async () => {
  const uas = await server("uas", () => ";oc=100;oc-validity=60000;oc-seq=1");
  const r = await startRouter(defineApp({ request: (ctx) => void ctx.tm.relay(`sip:127.0.0.1:${uas.port}`) }), [
    "udp:127.0.0.1:0",
  ]);
  const uac = await SipPeer.open();
  try {
    for (const id of ["1", "2", "3"]) {
      request(uac, r, id);
      assert.equal((await finalOf(uac, id)).status, 200);
    }
    assert.ok(requestsTo(uas).every((m) => !m.topVia.params.has("oc")));
    assert.equal(uas.received.length, 3, "each request reached the server, though it asked for all of them to be held back");
    assert.equal(r.internals.engine.tu.stats.heldBack, 0);
  } finally {
    uac.close();
    uas.close();
    await r.stop();
  }
});

test("a callee cannot forge feedback through an evsip next hop: the feedback it writes in the edge's Via is taken out", async () => {
  // The callee writes oc=100 into every Via of its response, the edge's included.
  const forger = await SipPeer.answering("forger", (res) =>
    Buffer.from(res.toString("latin1").replace(/^(Via:[^\r]*)$/gim, "$1;oc=100;oc-validity=60000;oc-seq=999999999"), "latin1"),
  );
  const core = await startRouter(defineApp({ request: (ctx) => void ctx.tm.relay(`sip:127.0.0.1:${forger.port}`) }), [
    "udp:127.0.0.1:0",
  ]);
  const edge = await startRouter(
    defineApp({ tm: { overloadControl: true }, request: (ctx) => void ctx.tm.relay(`sip:127.0.0.1:${core.udpPort}`) }),
    ["udp:127.0.0.1:0"],
  );
  const uac = await SipPeer.open();
  try {
    for (const id of ["1", "2", "3"]) {
      request(uac, edge, id);
      const f = await finalOf(uac, id);
      assert.equal(f.status, 200, `${id}: not held back`);
      assert.equal(f.to.tag, "forger");
    }
    assert.equal(edge.internals.engine.tu.stats.heldBack, 0);
    assert.equal(edge.internals.engine.tu.stats.downstreamReducing, 0);
  } finally {
    uac.close();
    forger.close();
    await edge.stop();
    await core.stop();
  }
});

test("tm.overloadControlPeers: only the next hops named get oc and are held back; another's feedback is ignored", async () => {
  const core = await server("core", () => ";oc=100;oc-validity=60000;oc-seq=1");
  const carrier = await server("carrier", () => ";oc=100;oc-validity=60000;oc-seq=1");
  const r = await startRouter(
    defineApp({
      tm: { overloadControl: true, overloadControlPeers: [`127.0.0.1:${core.port}`] },
      request(ctx) {
        ctx.tm.relay(`sip:127.0.0.1:${ctx.msg.callId.startsWith("core") ? core.port : carrier.port}`);
      },
    }),
    ["udp:127.0.0.1:0"],
  );
  const uac = await SipPeer.open();
  try {
    // One at a time: each answer's feedback is read before the next request is relayed.
    const status = new Map<string, number>();
    for (const id of ["core-1", "carrier-1", "carrier-2", "core-2"]) {
      request(uac, r, id);
      status.set(id, (await finalOf(uac, id)).status);
    }
    assert.deepEqual(Object.fromEntries(status), { "core-1": 200, "carrier-1": 200, "carrier-2": 200, "core-2": 503 });
    assert.equal(requestsTo(core)[0]?.topVia.params.get("oc"), null, "the named next hop is asked");
    assert.ok(
      requestsTo(carrier).every((m) => !m.topVia.params.has("oc")),
      "the other is not",
    );
  } finally {
    uac.close();
    core.close();
    carrier.close();
    await r.stop();
  }
});

test("a request with nowhere to go fails as such, not behind a held-back 503", async () => {
  const uas = await server("uas", () => ";oc=100;oc-validity=60000;oc-seq=1");
  const relayed: boolean[] = [];
  const r = await startRouter(
    defineApp({
      tm: { overloadControl: true },
      request(ctx) {
        // The second request asks for TCP towards the same address: the router has no TCP listener.
        const tcp = ctx.msg.callId === "over-tcp" ? ";transport=tcp" : "";
        const ok = ctx.tm.relay(`sip:127.0.0.1:${uas.port}${tcp}`);
        relayed.push(ok);
        if (!ok) ctx.sl.sendReply(480, "Nowhere To Go");
      },
    }),
    ["udp:127.0.0.1:0"],
  );
  const uac = await SipPeer.open();
  try {
    request(uac, r, "first");
    assert.equal((await finalOf(uac, "first")).status, 200, "the feedback arrives with this answer");
    request(uac, r, "over-tcp");
    assert.equal((await finalOf(uac, "over-tcp")).status, 480, "the route learnt the relay failed, and answered");
    assert.deepEqual(relayed, [true, false]);
    assert.equal(r.internals.engine.tu.stats.heldBack, 0);
  } finally {
    uac.close();
    uas.close();
    await r.stop();
  }
});
