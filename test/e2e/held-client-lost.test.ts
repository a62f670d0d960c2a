// A routing consumer lost while calls wait on it (evapi heldOnClientLoss): the event of every call
// it held goes to another client, or waits for the next one to connect, instead of leaving the call
// to frTimer. Real SIP over UDP, real TCP clients, and a real consumer process killed with kill -9
// under SIPp load; "wait" keeps Kamailio's behaviour.
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineApp } from "../../src/app.js";
import type { EvapiModule } from "../../src/modules/evapi/index.js";
import { kill9 } from "../support/kill9.js";
import { Collector, TestClient } from "../support/evapi-harness.js";
import { startRouter, type RunningRouter } from "../support/router.js";
import { isResponse, SipPeer, sipText } from "../support/sip-peer.js";
import { startDecisionConsumer } from "../support/peer-processes.js";
import { hasSipp, SKIP_NO_SIPP, startSipp } from "../support/sipp.js";

/** How routingApp varies between tests. */
interface RoutingOptions {
  /** Every client is tagged "route" (the default), which unicast picks from. */
  tag?: boolean;
  holdWithoutClient?: boolean;
  /** Pushed each client's conidx once its connection-new has run. */
  tagged?: Collector<number>;
  tokens?: Array<{ token: string; events: string[] }>;
  /** message-received waits for this before it decides: an answer still being handled. */
  decideAfter?: Promise<void>;
}

/**
 * Calls wait on the consumers tagged "route" (every client is, unless `tag` is false); a lost
 * client's calls must not wait out frTimer.
 */
function routingApp(policy: "redeliver" | "wait", closed: Collector<number>, opts: RoutingOptions = {}) {
  const { tag = true, holdWithoutClient = false, tagged = new Collector<number>(), tokens = [], decideAfter } = opts;
  return defineApp({
    tm: { frTimer: 20_000 },
    modules: {
      evapi: { bindAddr: "127.0.0.1:0", heldOnClientLoss: policy, unicast: "round-robin", holdWithoutClient, tokens },
    },
    async request(ctx) {
      if (ctx.isMethod("ACK")) return ctx.exit();
      if (ctx.isMethod("BYE")) {
        ctx.sl.sendReply(200, "OK");
        return ctx.exit();
      }
      const user = String(ctx.pv("$rU"));
      if (user === "await") {
        const r = await ctx.evapi.request<{ action: string }>({ event: "route", user });
        ctx.tm.reply(r.action === "allow" ? 200 : 403, "Decided");
        return;
      }
      const n =
        user === "relay"
          ? ctx.evapi.asyncRelay((t) => ({ event: "route", user, tindex: t.index, tlabel: t.label }))
          : ctx.evapi.asyncUnicast((t) => ({ event: "route", user, tindex: t.index, tlabel: t.label }), "route");
      if (n === 0) ctx.tm.reply(503, "No Routing Service");
      return ctx.exit();
    },
    routes: {
      ALLOW(ctx) {
        ctx.tm.reply(200, "OK");
      },
    },
    events: {
      "evapi:connection-new"(ctx) {
        if (tag) ctx.evapi.setTag("route");
        tagged.push(ctx.evapi.conidx);
      },
      "evapi:message-received"(ctx) {
        if (decideAfter === undefined) {
          ctx.evapi.decide({ allow: "ALLOW" });
          return;
        }
        return decideAfter.then(() => void ctx.evapi.decide({ allow: "ALLOW" }));
      },
      "evapi:connection-closed"(ctx) {
        closed.push(ctx.evapi.conidx);
      },
    },
  });
}

function evapi(r: RunningRouter): EvapiModule {
  return r.internals.modules.get("evapi") as EvapiModule;
}

/** The module's held-call counters. */
function held(r: RunningRouter): {
  heldLost: number;
  heldRedelivered: number;
  heldLostPending: number;
  heldLive: number;
  heldParked: number;
} {
  const s = evapi(r).stats();
  return {
    heldParked: s.heldParked as number,
    heldLost: s.heldLost as number,
    heldRedelivered: s.heldRedelivered as number,
    heldLostPending: s.heldLostPending as number,
    heldLive: s.heldLive as number,
  };
}

function invite(peer: SipPeer, routerPort: number, user: string, callId: string): void {
  peer.send(
    sipText([
      `INVITE sip:${user}@127.0.0.1 SIP/2.0`,
      `Via: SIP/2.0/UDP ${peer.hostport};branch=${peer.branch()}`,
      "Max-Forwards: 70",
      `From: <sip:caller@127.0.0.1>;tag=${callId}`,
      `To: <sip:${user}@127.0.0.1>`,
      `Call-ID: ${callId}`,
      "CSeq: 1 INVITE",
      `Contact: <sip:caller@${peer.hostport}>`,
    ]),
    routerPort,
  );
}

/** A TCP client that answers every event "allow" (tindex/tlabel echoed), counting what it got. */
function answering(c: TestClient): void {
  let handled = 0;
  c.socket.on("data", () => {
    while (handled < c.frames.length) {
      const ev = JSON.parse(c.frames[handled++] as string) as Record<string, unknown>;
      const text = JSON.stringify({ action: "allow", tindex: ev.tindex, tlabel: ev.tlabel });
      c.send(`${Buffer.byteLength(text)}:${text},`);
    }
  });
}

/**
 * A router running the app `make` builds (given the collectors its connection-new and
 * connection-closed routes push to), a SIP peer, and the evapi clients a test opens: all closed at
 * its end.
 */
async function scene(make: (tagged: Collector<number>, closed: Collector<number>) => ReturnType<typeof routingApp>) {
  const tagged = new Collector<number>();
  const closed = new Collector<number>();
  const r = await startRouter(make(tagged, closed), ["udp:127.0.0.1:0"]);
  const peer = await SipPeer.open();
  const clients: TestClient[] = [];
  const connect = async (): Promise<TestClient> => {
    const c = await TestClient.open(evapi(r).address().port);
    clients.push(c);
    return c;
  };
  return {
    r,
    peer,
    /** The conidx of each client whose connection-closed has run. */
    closed,
    /** A client, once its connection-new has run (tagged, when the app tags): a send can pick it. */
    async client(): Promise<TestClient> {
      const c = await connect();
      await tagged.wait(clients.length);
      return c;
    },
    /** A client, connected (its connection-new may not have run yet). */
    plain: connect,
    async [Symbol.asyncDispose](): Promise<void> {
      for (const c of clients) c.destroy();
      peer.close();
      await r.stop();
    },
  };
}

/** A client takes the call's event and dies holding it; resolves once its close has been handled. */
async function loseHeldCall(sc: Awaited<ReturnType<typeof scene>>, user: string, callId: string): Promise<void> {
  const silent = await sc.client();
  invite(sc.peer, sc.r.udpPort, user, callId);
  await silent.waitFrames(1);
  silent.destroy();
  await sc.closed.wait(1); // connection-closed runs after the lost events were looked at
}

/** A new client takes the waiting relayed call's event and answers it; resolves once the call has its 200. */
async function nextClientAnswers(sc: Awaited<ReturnType<typeof scene>>): Promise<void> {
  const next = await sc.plain();
  answering(next);
  await next.waitFrames(1);
  assert.equal((JSON.parse(next.frames[0] as string) as { user: string }).user, "relay");
  await sc.peer.expect(isResponse(200, "INVITE"));
}

for (const user of ["unicast", "relay", "await"]) {
  test(`a client lost before answering: its held call (${user}) goes to another client, which answers it`, async () => {
    await using sc = await scene((tagged, closed) => routingApp("redeliver", closed, { tagged }));
    const { r, peer } = sc;
    const silent = await sc.client();
    invite(peer, r.udpPort, user, `lost-${user}`);
    await silent.waitFrames(1);
    const first = JSON.parse(silent.frames[0] as string) as Record<string, unknown>;
    const other = await sc.client();
    answering(other);
    silent.destroy(); // dies holding the call
    await other.waitFrames(1);
    assert.deepEqual(JSON.parse(other.frames[0] as string), first, "the same event, tindex and tlabel included");
    await peer.expect(isResponse(200, "INVITE"));
    const s = held(r);
    assert.equal(s.heldLost, 1);
    assert.equal(s.heldRedelivered, 1);
    assert.equal(s.heldLostPending, 0);
    assert.equal(s.heldLive, 0, "let go once answered");
  });
}

test("no client left: the held call's event waits for the next client to connect (untagged), which answers it", async () => {
  await using sc = await scene((tagged, closed) => routingApp("redeliver", closed, { tag: false, tagged }));
  const { r } = sc;
  await loseHeldCall(sc, "relay", "parked");
  assert.equal(held(r).heldLostPending, 1);
  await nextClientAnswers(sc);
  const s = held(r);
  assert.equal(s.heldLostPending, 0);
  assert.equal(s.heldRedelivered, 1);
  assert.equal(s.heldLive, 0);
});

test("a client that takes a waiting event and then turns listen-only hands it on to one that answers", async () => {
  await using sc = await scene((tagged, closed) => routingApp("redeliver", closed, { tag: false, tagged }));
  const { r } = sc;
  await loseHeldCall(sc, "relay", "listened");
  const listener = await sc.plain();
  await listener.waitFrames(1); // taken at once: it looked like any client then
  const listen = '{"evsip":"listen"}';
  listener.send(`${listen.length}:${listen},`);
  await listener.waitFrames(2); // {"evsip":"listening"}: it answers nothing from now on
  await nextClientAnswers(sc);
  const s = held(r);
  assert.equal(s.heldRedelivered, 2, "to the listener, then to the one that answered");
  assert.equal(s.heldLive, 0);
});

for (const decides of [true, false]) {
  const name = decides
    ? "an answer sent just before turning listen-only still counts: the event is not handed on"
    : "a message sent just before turning listen-only that decides nothing: the event is handed on once it has run";
  test(name, async () => {
    let answerHandled = (): void => undefined;
    const decideAfter = new Promise<void>((resolve) => (answerHandled = resolve));
    await using sc = await scene((tagged, closed) => routingApp("redeliver", closed, { tag: false, tagged, decideAfter }));
    const { r, peer } = sc;
    await loseHeldCall(sc, "relay", `listened-${decides}`);
    const listener = await sc.client(); // takes the waiting event
    await listener.waitFrames(1);
    const other = await sc.client(); // takes the event if it is handed on
    if (!decides) answering(other);
    const ev = JSON.parse(listener.frames[0] as string) as Record<string, unknown>;
    // Another transaction's label decides nothing (ERR_EVAPI_UNKNOWN_TRANSACTION).
    const tlabel = decides ? ev.tlabel : Number(ev.tlabel) + 1;
    const answer = JSON.stringify({ action: "allow", tindex: ev.tindex, tlabel });
    const listen = '{"evsip":"listen"}';
    // The answer is still being handled (its route waits) when the listen arrives behind it.
    listener.send(`${Buffer.byteLength(answer)}:${answer},${listen.length}:${listen},`);
    await listener.waitFrames(2); // {"evsip":"listening"}
    answerHandled();
    await peer.expect(isResponse(200, "INVITE"));
    const s = held(r);
    if (decides) {
      assert.equal(s.heldLost, 1, "only the silent client lost it: the listener's answer came before its listen");
      assert.equal(s.heldRedelivered, 1, "to the listener only");
      assert.equal(other.frames.length, 0, "the other client got no copy of an event already answered");
    } else {
      assert.equal(s.heldLost, 2, "lost with the silent client, then with the listener once its message had run");
      assert.equal(s.heldRedelivered, 2, "to the listener, then to the client that answered");
      assert.deepEqual(JSON.parse(other.frames[0] as string), ev, "the same event");
    }
    assert.equal(s.heldLive, 0);
  });
}

test("holdWithoutClient: a call that finds no client waits for one bound by its token to the event's name", async () => {
  const secret = "held-calls-token-0123456789";
  await using sc = await scene((tagged, closed) =>
    routingApp("redeliver", closed, {
      tag: false,
      holdWithoutClient: true,
      tagged,
      tokens: [{ token: secret, events: ["route"] }],
    }),
  );
  const { r, peer } = sc;
  invite(peer, r.udpPort, "relay", "parked-for-token");
  await peer.expect(isResponse(100, "INVITE")); // held, with no client to send its event to
  assert.equal(held(r).heldParked, 1);
  const c = await sc.plain();
  answering(c);
  const auth = JSON.stringify({ evsip: "auth", token: secret });
  c.send(`${auth.length}:${auth},`);
  await peer.expect(isResponse(200, "INVITE"));
  assert.ok(c.frames.some((f) => (JSON.parse(f) as { user?: string }).user === "relay"));
  assert.equal(held(r).heldLive, 0);
});

test("a waiting event whose call is cancelled is let go: the next client gets only new calls", async () => {
  await using sc = await scene((tagged, closed) => routingApp("redeliver", closed, { tagged }));
  const { r, peer } = sc;
  const silent = await sc.client();
  const branch = peer.branch();
  const lines = (method: string): string[] => [
    `${method} sip:unicast@127.0.0.1 SIP/2.0`,
    `Via: SIP/2.0/UDP ${peer.hostport};branch=${branch}`,
    "Max-Forwards: 70",
    "From: <sip:caller@127.0.0.1>;tag=cx",
    "To: <sip:unicast@127.0.0.1>",
    "Call-ID: cancelled",
    `CSeq: 1 ${method}`,
    `Contact: <sip:caller@${peer.hostport}>`,
  ];
  peer.send(sipText(lines("INVITE")), r.udpPort);
  await silent.waitFrames(1);
  silent.destroy();
  await sc.closed.wait(1);
  assert.equal(held(r).heldLostPending, 1);
  peer.send(sipText(lines("CANCEL")), r.udpPort);
  await peer.expect(isResponse(487, "INVITE"));
  assert.deepEqual(held(r), { heldLost: 1, heldRedelivered: 0, heldLostPending: 0, heldLive: 0, heldParked: 0 });
  const next = await sc.client();
  answering(next);
  invite(peer, r.udpPort, "unicast", "fresh");
  await peer.expect((m) => isResponse(200, "INVITE")(m) && m.callId === "fresh");
  assert.equal(next.frames.length, 1, "only the new call's event");
});

test('heldOnClientLoss "wait": as Kamailio, the lost event is not sent again (the call waits for frTimer)', async () => {
  await using sc = await scene((tagged, closed) => routingApp("wait", closed, { tagged }));
  const { r, peer } = sc;
  await loseHeldCall(sc, "unicast", "waits");
  const next = await sc.plain();
  answering(next);
  invite(peer, r.udpPort, "unicast", "after");
  await peer.expect((m) => isResponse(200, "INVITE")(m) && m.callId === "after");
  assert.equal(next.frames.length, 1, "only the new call's event");
  assert.equal((JSON.parse(next.frames[0] as string) as { user: string }).user, "unicast");
  const s = held(r);
  assert.equal(s.heldLost, 0);
  assert.equal(s.heldLive, 0);
  assert.equal(peer.count(isResponse(200, "INVITE")), 1, "the first call still waits");
});

test(
  "kill -9 of one of two routing consumers under SIPp load: every call answered 200, none left to frTimer",
  { skip: hasSipp() ? false : SKIP_NO_SIPP },
  async () => {
    const closed = new Collector<number>();
    const r = await startRouter(routingApp("redeliver", closed), ["udp:127.0.0.1:0"]);
    const port = evapi(r).address().port;
    // Each answers 200 ms after its event: at 100 calls/s about ten calls are held by each at any time.
    const a = startDecisionConsumer(port, 200, "a");
    const b = startDecisionConsumer(port, 200, "b");
    let sipp: Awaited<ReturnType<typeof startSipp>> | undefined;
    try {
      await Promise.all([a.logged(/^connected a$/), b.logged(/^connected b$/)]);
      const svc = evapi(r).service;
      sipp = await startSipp({
        scenario: "uac",
        target: r.target("udp"),
        calls: 400,
        rate: 100,
        service: "unicast",
        timeoutSec: 15,
      });
      await a.logged(/^answered 100$/);
      await kill9(a.child); // mid-run, with calls held by it
      await closed.wait(1);
      const res = await sipp.done;
      assert.equal(res.code, 0, `SIPp: every call successful\n${res.stdout.slice(-3000)}`);
      const s = held(r);
      assert.ok(s.heldLost >= 1, `calls were held by the killed consumer (heldLost ${s.heldLost})`);
      assert.equal(s.heldRedelivered, s.heldLost, "each taken by the other consumer");
      assert.equal(s.heldLive, 0);
      assert.equal(svc.clients().length, 1);
    } finally {
      await sipp?.stop();
      await kill9(a.child);
      await kill9(b.child);
      await r.stop();
    }
  },
);

for (const holdWithoutClient of [true, false]) {
  test(
    `the only routing consumer killed with kill -9 and restarted under SIPp load, holdWithoutClient ${holdWithoutClient}: ${holdWithoutClient ? "every call answered 200" : "the calls in the gap answered 503"}`,
    { skip: hasSipp() ? false : SKIP_NO_SIPP },
    async () => {
      const closed = new Collector<number>();
      const tagged = new Collector<number>();
      const r = await startRouter(routingApp("redeliver", closed, { holdWithoutClient, tagged }), ["udp:127.0.0.1:0"]);
      const port = evapi(r).address().port;
      const first = startDecisionConsumer(port, 50, "first");
      let second: ReturnType<typeof startDecisionConsumer> | undefined;
      let sipp: Awaited<ReturnType<typeof startSipp>> | undefined;
      try {
        await tagged.wait(1); // its connection-new has run: it is tagged
        sipp = await startSipp({
          scenario: "uac",
          target: r.target("udp"),
          calls: 300,
          rate: 100,
          service: "unicast",
          timeoutSec: 15,
        });
        await first.logged(/^answered 100$/);
        await kill9(first.child);
        await closed.wait(1);
        second = startDecisionConsumer(port, 50, "second"); // the restart: a new process, a new connection
        const res = await sipp.done;
        const s = held(r);
        if (holdWithoutClient) {
          assert.equal(res.code, 0, `SIPp: every call successful\n${res.stdout.slice(-3000)}`);
          assert.ok(s.heldParked >= 1, `calls came while no consumer was connected (parked ${s.heldParked})`);
        } else {
          assert.notEqual(res.code, 0, "the calls that found no consumer were answered 503");
          assert.equal(s.heldParked, 0);
        }
        assert.equal(s.heldLostPending, 0);
        assert.equal(s.heldLive, 0);
      } finally {
        await sipp?.stop();
        await kill9(first.child);
        if (second) await kill9(second.child);
        await r.stop();
      }
    },
  );
}
