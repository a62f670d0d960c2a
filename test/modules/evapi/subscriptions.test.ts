// Event subscriptions over real sockets: a client that never subscribes gets every event as
// before; a subscribed one gets only the named events its patterns select (the explicit `event`
// option or the JSON `event` field), tags still apply, async relay counts only selecting clients,
// and bad or too broad patterns get a coded notice while the connection and its set stay.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { encodeNetstring } from "evsip-client/netstring";
import type { TmApi } from "../../../src/core/context-types.js";
import { EvapiError } from "../../../src/errors.js";
import { compilePatterns, covers, matches, MAX_PATTERNS } from "../../../src/modules/evapi/subscriptions/event-patterns.js";
import { startEvapi, TestClient } from "../../support/evapi-harness.js";

const events = (names: unknown): string => encodeNetstring(JSON.stringify({ evsip: "events", names })).toString();

async function subscribed(c: TestClient, names: string[]): Promise<void> {
  const before = c.frames.length;
  c.send(events(names));
  await c.until(() => c.frames.length > before);
  assert.deepEqual(JSON.parse(c.frames[before] as string), { evsip: "events-ok", names });
}

function stubTm(): TmApi & { suspends: number; unsuspends: number } {
  const tm = {
    suspends: 0,
    unsuspends: 0,
    suspend() {
      tm.suspends++;
      return { index: 1, label: 2 };
    },
    unsuspend: () => {
      tm.unsuspends++;
      return true;
    },
    id: () => ({ index: 1, label: 2 }),
  };
  return tm as unknown as TmApi & { suspends: number; unsuspends: number };
}

test("subscriptions: unsubscribed clients get everything, subscribed ones only what they selected", async () => {
  const h = await startEvapi({});
  try {
    const plain = await TestClient.open(h.port);
    const calls = await TestClient.open(h.port);
    const dialogs = await TestClient.open(h.port);
    await h.connections.wait(3);
    await subscribed(calls, ["call.start", "call.end"]);
    await subscribed(dialogs, ["dialog:*"]);
    const ev = h.ctx("event").evapi;
    assert.equal(ev.relay({ event: "call.start", ci: "a" }), 2);
    assert.equal(ev.relay({ event: "dialog:end", ci: "a" }), 2);
    assert.equal(ev.relay({ event: "call.update", ci: "a" }), 1, "selected by nobody: only the plain client");
    assert.equal(ev.relay("raw text"), 1, "unnamed: subscribed clients never get it");
    assert.equal(ev.relay("raw text", { event: "call.end" }), 2, "the explicit option names string data");
    assert.equal(ev.relay({ event: "call.start" }, { event: "dialog:x" }), 2, "the option wins over the field");
    await plain.waitFrames(6);
    await calls.waitFrames(3);
    await dialogs.waitFrames(3);
    assert.deepEqual(calls.frames.slice(1), ['{"event":"call.start","ci":"a"}', "raw text"]);
    assert.deepEqual(dialogs.frames.slice(1), ['{"event":"dialog:end","ci":"a"}', '{"event":"call.start"}']);
    assert.equal(h.mod.service.stats.eventSubscriptions, 2);
    // Sending `events` again replaces the set.
    await subscribed(calls, ["dialog:end"]);
    assert.equal(ev.relay({ event: "call.start" }), 1);
    assert.equal(ev.relay({ event: "dialog:end" }), 3);
    for (const c of [plain, calls, dialogs]) c.destroy();
  } finally {
    await h.stop();
  }
});

test("subscriptions: tags still apply, and async relay fails fast when no client selects the event", async () => {
  const h = await startEvapi({}, { "evapi:connection-new": (ctx) => void ctx.evapi.setTag("auth") });
  try {
    const a = await TestClient.open(h.port);
    await h.connections.wait(1);
    await subscribed(a, ["auth.invite"]);
    const tm = stubTm();
    const req = h.ctx("request", tm).evapi;
    assert.equal(req.asyncRelay({ event: "auth.register" }), 0);
    assert.equal(
      req.asyncMulticast(() => ({ x: 1 }), "auth", { event: "auth.register" }),
      0,
    );
    assert.equal(tm.suspends, 0, "nothing suspended");
    assert.equal(
      req.asyncUnicast((t) => ({ event: "auth.invite", tindex: t.index }), "auth", { event: "auth.invite" }),
      1,
    );
    assert.equal(tm.suspends, 1);
    assert.equal(req.multicast({ event: "auth.invite" }, "other"), 0, "the tag must match too");
    // Data built by a function without the option is named once built, after suspending.
    assert.equal(
      req.asyncRelay((t) => ({ event: "auth.invite", tindex: t.index + 1 })),
      1,
    );
    assert.equal(
      req.asyncRelay(() => ({ event: "auth.register" })),
      0,
      "built, selected by nobody: not sent",
    );
    assert.deepEqual([tm.suspends, tm.unsuspends], [3, 1], "the unsent one's suspension ended");
    await assert.rejects(
      req.request({ event: "auth.register" }),
      (e: unknown) => e instanceof EvapiError && e.code === "ERR_EVAPI_NO_CLIENT",
    );
    assert.throws(
      () => req.relay({}, { event: "bad*name" }),
      (e: unknown) => e instanceof EvapiError && e.code === "ERR_EVAPI_BAD_PATTERN",
    );
    await a.waitFrames(3);
    assert.deepEqual(JSON.parse(a.frames[1] as string), { event: "auth.invite", tindex: 1 });
    assert.deepEqual(JSON.parse(a.frames[2] as string), { event: "auth.invite", tindex: 2 });
    a.destroy();
  } finally {
    await h.stop();
  }
});

test("subscriptions: bad and too broad patterns get a coded notice; the connection and its set stay", async () => {
  const h = await startEvapi({});
  try {
    const c = await TestClient.open(h.port);
    await h.connections.wait(1);
    await subscribed(c, ["call.start"]);
    const cases: Array<[unknown, string]> = [
      [["*"], "ERR_EVAPI_PATTERN_TOO_BROAD"],
      [["c*"], "ERR_EVAPI_PATTERN_TOO_BROAD"],
      [["a*b"], "ERR_EVAPI_BAD_PATTERN"],
      [["has space"], "ERR_EVAPI_BAD_PATTERN"],
      [[""], "ERR_EVAPI_BAD_PATTERN"],
      [["x".repeat(65)], "ERR_EVAPI_BAD_PATTERN"],
      [[42], "ERR_EVAPI_BAD_PATTERN"],
      ["call.*", "ERR_EVAPI_BAD_PATTERN"],
      [Array.from({ length: MAX_PATTERNS + 1 }, (_, i) => `e${i}`), "ERR_EVAPI_BAD_PATTERN"],
    ];
    const raw = (text: string): string => encodeNetstring(text).toString();
    const hostile = [
      raw('{"evsip":"events","names":["a.b"'),
      raw(`{"evsip":"events","names":${JSON.stringify(Array.from({ length: 200 }, (_, i) => `e${i}.${"x".repeat(40)}`))}}`),
      raw('  { "evsip" : "events" }'),
    ];
    for (const text of hostile) {
      const before = c.frames.length;
      c.send(text);
      await c.until(() => c.frames.length > before);
      assert.equal((JSON.parse(c.frames[before] as string) as { code: string }).code, "ERR_EVAPI_BAD_PATTERN", text.slice(0, 60));
    }
    for (const [names, code] of cases) {
      const before = c.frames.length;
      c.send(events(names));
      await c.until(() => c.frames.length > before);
      const notice = JSON.parse(c.frames[before] as string) as { evsip: string; code: string };
      assert.equal(notice.evsip, "error");
      assert.equal(notice.code, code, JSON.stringify(names));
    }
    assert.equal(h.mod.service.stats.errors.get("ERR_EVAPI_PATTERN_TOO_BROAD"), 2);
    assert.equal(h.mod.service.stats.errors.get("ERR_EVAPI_BAD_PATTERN"), 7 + hostile.length);
    const ev = h.ctx("event").evapi;
    assert.equal(ev.relay({ event: "call.start" }), 1, "the earlier set still applies");
    assert.equal(ev.relay({ event: "call.end" }), 0);
    await c.waitFrames(cases.length + hostile.length + 2);
    assert.equal(c.closed, false);
    c.destroy();
  } finally {
    await h.stop();
  }
});

test("subscriptions: the grants hook holds a connection to the patterns it was granted", async () => {
  const h = await startEvapi({});
  try {
    h.mod.subscriptions.grantsOf = () => ({ patterns: ["call.*", "dialog:end"] });
    const c = await TestClient.open(h.port);
    await h.connections.wait(1);
    await subscribed(c, ["call.start", "call.x*", "dialog:end"]);
    // applyGrants(): a connection that never subscribes is held to its grants too.
    const quiet = await TestClient.open(h.port);
    await h.connections.wait(2);
    const conn = [...h.mod.service.table.all()].find((x) => x.conidx === 1);
    assert.ok(conn);
    h.mod.subscriptions.applyGrants(conn);
    const ev = h.ctx("event").evapi;
    assert.equal(ev.relay({ event: "dialog:start" }), 0);
    assert.equal(ev.relay({ event: "call.x1" }), 2);
    await quiet.waitFrames(1);
    assert.deepEqual(quiet.frames, ['{"event":"call.x1"}']);
    await c.waitFrames(2); // its own copy of call.x1, before the refusals below
    quiet.destroy();
    for (const names of [["dialog:*"], ["ca*"], ["dialog:start"]]) {
      const before = c.frames.length;
      c.send(events(names));
      await c.until(() => c.frames.length > before);
      assert.equal((JSON.parse(c.frames[before] as string) as { code: string }).code, "ERR_EVAPI_PATTERN_TOO_BROAD");
    }
    c.destroy();
  } finally {
    await h.stop();
  }
});

test("subscriptions: a client that never subscribes sees byte-identical frames", async () => {
  const h = await startEvapi({});
  try {
    const c = await TestClient.open(h.port);
    const s = await TestClient.open(h.port);
    await h.connections.wait(2);
    await subscribed(s, ["zz.never"]);
    h.ctx("event").evapi.relay({ event: "call.start", ci: "a" });
    await c.waitFrames(1);
    assert.equal(c.raw.toString(), '31:{"event":"call.start","ci":"a"},');
    c.destroy();
    s.destroy();
  } finally {
    await h.stop();
  }
});

test("subscriptions: an events message may precede the durable handshake, which is still first", async () => {
  const h = await startEvapi({ durableConsumers: ["billing"] });
  try {
    const c = await TestClient.open(h.port);
    await h.connections.wait(1);
    await subscribed(c, ["call.*"]);
    c.send(encodeNetstring(JSON.stringify({ evsip: "subscribe", consumer: "billing", resume: null })).toString());
    await c.until(() => c.frames.length > 1);
    assert.equal((JSON.parse(c.frames[1] as string) as { evsip: string }).evsip, "subscribed");
    c.destroy();
  } finally {
    await h.stop();
  }
});

test("event patterns: any input compiles or is refused with a code; matching agrees with a plain reading", () => {
  fc.assert(
    fc.property(fc.anything(), (v) => {
      const r = compilePatterns(v);
      assert.ok(r.ok || r.code === "ERR_EVAPI_BAD_PATTERN" || r.code === "ERR_EVAPI_PATTERN_TOO_BROAD");
    }),
  );
  const token = fc.stringMatching(/^[a-z.:]{2,6}$/);
  fc.assert(
    fc.property(fc.array(fc.tuple(token, fc.boolean()), { maxLength: 8 }), token, (spec, name) => {
      const patterns = spec.map(([p, prefix]) => (prefix ? `${p}*` : p));
      const r = compilePatterns(patterns);
      assert.ok(r.ok);
      const expected = spec.some(([p, prefix]) => (prefix ? name.startsWith(p) : name === p));
      assert.equal(matches(r.filter, name), expected);
      for (const p of patterns) assert.ok(covers(r.filter, p), `a set covers its own pattern ${p}`);
    }),
  );
});

test('listen-only: {"evsip":"listen"} gets every event but is never counted as one who could answer', async () => {
  const h = await startEvapi({}, { "evapi:connection-new": (ctx) => void ctx.evapi.setTag("auth") });
  try {
    const tap = await TestClient.open(h.port);
    await h.connections.wait(1);
    tap.send(encodeNetstring('{"evsip":"listen"}'));
    await tap.until(() => tap.frames.includes('{"evsip":"listening"}'));
    const tm = stubTm();
    const req = h.ctx("request", tm).evapi;
    assert.equal(req.relay({ event: "call" }), 1, "it watches");
    assert.equal(req.asyncRelay({ event: "auth" }), 0, "with only a listener, an async relay fails fast");
    await assert.rejects(
      req.request({ event: "auth" }),
      (e: unknown) => e instanceof EvapiError && e.code === "ERR_EVAPI_NO_CLIENT",
    );
    assert.equal(tm.suspends, 0, "nothing suspended");
    const service = await TestClient.open(h.port);
    await h.connections.wait(2);
    assert.equal(req.asyncRelay({ event: "auth" }), 2, "with an answering client it goes to both");
    assert.equal(req.asyncUnicast({ event: "auth", n: 2 }, "auth"), 1);
    await service.until(() => service.frames.some((f) => f.includes('"n":2')));
    assert.ok(!tap.frames.some((f) => f.includes('"n":2')), "unicast never picks the listener (it came first)");
    tap.destroy();
    service.destroy();
  } finally {
    await h.stop();
  }
});

test("a broken listen message is refused with a code and the connection closed; it never becomes a listener", async () => {
  const h = await startEvapi({}, {});
  try {
    for (const [i, bad] of ['{"evsip":"listen","x":1}', '{"evsip":"listen"', '{"evsip":"listen"} {}'].entries()) {
      const c = await TestClient.open(h.port);
      await h.connections.wait(i + 1);
      c.send(encodeNetstring(bad));
      await c.until(() => c.closed);
      assert.ok(
        c.frames.some((f) => f.includes('"ERR_EVAPI_BAD_HANDSHAKE"')),
        `${bad}: answered with a code (${c.frames.join(" | ")})`,
      );
      assert.ok(!c.frames.includes('{"evsip":"listening"}'), `${bad}: not listening`);
    }
    assert.equal(h.mod.service.stats.errors.get("ERR_EVAPI_BAD_HANDSHAKE"), 3, "each refusal counted");
  } finally {
    await h.stop();
  }
});
