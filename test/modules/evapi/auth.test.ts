// evapi authentication over plain TCP (README.md "Authentication"): the auth message first, the
// reply, what a token may do (tags, durable consumer names), and every bad input with its code:
// a wrong token, no auth in time, an oversize, malformed or non-auth first message, one byte at a
// time, too many waiting connections. A connection that has not authenticated takes no slot and is
// sent no event. Real sockets; waits on events.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { EvapiParams } from "../../../src/modules/evapi/params.js";
import { parseAuth } from "../../../src/modules/evapi/auth/auth-message.js";
import { TokenTable, checkTokens } from "../../../src/modules/evapi/auth/token-table.js";
import { maySubscribe, mayDecide, grantsOf } from "../../../src/modules/evapi/auth/grants.js";
import { isGaugeName } from "../../../src/metrics/module-metrics.js";
import { Collector, deferred, TestClient, withEvapi, type Harness, type TestRoute } from "../../support/evapi-harness.js";

const BILLING = "billing-secret-0123456789";
const OPS = "ops-secret-0123456789abcdef";
const TOKENS: EvapiParams["tokens"] = [
  { token: BILLING, name: "billing", tags: ["billing"], consumers: ["billing"] },
  { token: OPS, name: "ops" },
];

type Frame = { evsip?: string; code?: string; [k: string]: unknown };
const netstring = (s: string): string => `${Buffer.byteLength(s)}:${s},`;
const auth = (token: string, tag?: string): string => netstring(JSON.stringify({ evsip: "auth", token, tag }));
const parsed = (c: TestClient): Frame[] => c.frames.map((f) => JSON.parse(f) as Frame);

/** An evapi with the tokens above (unless `params` says otherwise). */
const withTokens = (
  params: Partial<EvapiParams>,
  body: (h: Harness) => Promise<void>,
  events: Record<string, TestRoute> = {},
): Promise<void> => withEvapi({ tokens: TOKENS, ...params }, body, events);

/** Connects and authenticates; resolves once the reply is in. */
async function authed(h: Harness, token: string, tag?: string): Promise<{ c: TestClient; reply: Frame }> {
  const c = await TestClient.open(h.port);
  c.send(auth(token, tag));
  await c.until(() => c.frames.length > 0 || c.closed);
  return { c, reply: parsed(c)[0] ?? {} };
}

/** Waits for a refused connection: its last frame (the notice) and its close. */
async function refused(c: TestClient): Promise<Frame> {
  await c.waitClosed();
  return parsed(c).at(-1) ?? {};
}

test("auth: a valid token is answered first, then connection-new runs and events flow; bytes pipelined after the auth are read", async () => {
  const got: string[] = [];
  await withTokens(
    {},
    async (h) => {
      const c = await TestClient.open(h.port);
      c.send(auth(OPS) + netstring('{"hello":1}') + netstring('{"hello":2}'));
      await h.connections.wait(1);
      await c.until(() => got.length === 2);
      assert.deepEqual(got, ['{"hello":1}', '{"hello":2}']);
      assert.equal(h.ctx("event").evapi.relay({ event: "x" }), 1);
      await c.waitFrames(3); // the welcome relay of connection-new, then ours
      assert.deepEqual(c.frames, ['{"evsip":"authenticated","name":"ops","tag":""}', '{"welcome":true}', '{"event":"x"}']);
      assert.equal(h.mod.service.stats.authenticated, 1);
      c.destroy();
    },
    {
      "evapi:connection-new": (ctx) => void ctx.evapi.relay({ welcome: true }),
      "evapi:message-received": (ctx) => void got.push(ctx.evapi.msg),
    },
  );
});

test("auth: a wrong token gets ERR_EVAPI_AUTH_FAILED and is closed; no event ever reaches a waiting connection; no route runs", async () => {
  await withTokens({}, async (h) => {
    const waiting = await TestClient.open(h.port);
    const wrong = await TestClient.open(h.port);
    assert.equal(h.ctx("event").evapi.relay({ secret: "call data" }), 0, "no recipient while unauthenticated");
    wrong.send(auth("not-the-secret-0123456789"));
    const notice = await refused(wrong);
    assert.equal(notice.code, "ERR_EVAPI_AUTH_FAILED");
    assert.equal(wrong.frames.length, 1, "only the notice");
    assert.equal(h.mod.service.stats.errors.get("ERR_EVAPI_AUTH_FAILED"), 1);
    assert.equal(h.connections.items.length, 0, "connection-new never ran");
    assert.equal(waiting.frames.length, 0);
    assert.equal(h.mod.stats().unauthenticatedPending, 1);
    assert.ok(isGaugeName("unauthenticatedPending") && !isGaugeName("authenticated"), "exported as a gauge and a counter");
    waiting.destroy();
  });
});

test("auth: no auth within authTimeout → ERR_EVAPI_AUTH_TIMEOUT, also for a client sending one byte at a time too slowly", async () => {
  await withTokens({ authTimeout: 100 }, async (h) => {
    const silent = await TestClient.open(h.port);
    const slow = await TestClient.open(h.port);
    slow.send(auth(OPS).slice(0, 5));
    assert.equal((await refused(silent)).code, "ERR_EVAPI_AUTH_TIMEOUT");
    assert.equal((await refused(slow)).code, "ERR_EVAPI_AUTH_TIMEOUT");
    assert.equal(h.mod.service.stats.errors.get("ERR_EVAPI_AUTH_TIMEOUT"), 2);
    assert.equal(h.mod.stats().unauthenticatedPending, 0);
  });
});

test("auth: an auth message written one byte per write is read", async () => {
  await withTokens({}, async (h) => {
    const c = await TestClient.open(h.port);
    for (const ch of auth(BILLING)) {
      c.send(ch);
      await new Promise((r) => setImmediate(r));
    }
    await c.waitFrames(1);
    assert.deepEqual(parsed(c)[0], { evsip: "authenticated", name: "billing", tag: "billing" });
    c.destroy();
  });
});

test("auth: oversize, malformed and non-auth first messages get ERR_EVAPI_BAD_AUTH; an oversize one before its payload arrives", async () => {
  await withTokens({}, async (h) => {
    const cases = [
      "99999:", // refused on its length alone
      netstring(JSON.stringify({ evsip: "auth", token: "x".repeat(2000) })),
      netstring("{not json"),
      netstring('{"event":"app message"}'),
      netstring('{"evsip":"subscribe","consumer":"billing"}'),
      netstring('{"evsip":"auth","token":42}'),
      netstring('{"evsip":"auth","token":"' + OPS + '","tag":"has space"}'),
      "garbage that is not a netstring",
    ];
    for (const bytes of cases) {
      const c = await TestClient.open(h.port);
      c.send(bytes);
      assert.equal((await refused(c)).code, "ERR_EVAPI_BAD_AUTH", bytes.slice(0, 40));
    }
    assert.equal(h.mod.service.stats.errors.get("ERR_EVAPI_BAD_AUTH"), cases.length);
    assert.equal(h.connections.items.length, 0);
  });
});

test("auth: waiting connections have their own limit and take no maxClients slot", async () => {
  await withTokens({ maxClients: 1, maxUnauthenticated: 2 }, async (h) => {
    const a = await TestClient.open(h.port);
    const b = await TestClient.open(h.port);
    const third = await TestClient.open(h.port);
    await third.waitClosed();
    assert.equal(third.frames.length, 0);
    assert.equal(h.mod.service.stats.errors.get("ERR_EVAPI_TOO_MANY_UNAUTHENTICATED"), 1);
    a.send(auth(OPS));
    await a.waitFrames(1);
    await h.connections.wait(1);
    assert.equal(h.mod.stats().clientsConnected, 1, "the authenticated client has the one slot");
    const late = await TestClient.open(h.port); // a's slot freed the waiting place
    late.send(auth(OPS));
    assert.equal((await refused(late)).code, "ERR_EVAPI_MAX_CLIENTS", "no free slot: closed, with a notice once authenticated");
    assert.equal(late.frames.length, 1);
    assert.equal(h.mod.service.stats.errors.get("ERR_EVAPI_MAX_CLIENTS"), 1);
    a.destroy();
    b.destroy();
  });
});

test("auth: a token's tags and consumer names bind the connection", async () => {
  const setTagResult = deferred<boolean[]>();
  await withTokens(
    {},
    async (h) => {
      const { c, reply } = await authed(h, BILLING);
      assert.deepEqual(reply, { evsip: "authenticated", name: "billing", tag: "billing" }, "its one tag is set at auth");
      const other = await TestClient.open(h.port);
      other.send(auth(BILLING, "ops"));
      assert.equal((await refused(other)).code, "ERR_EVAPI_NOT_ALLOWED");
      c.send(netstring("retag"));
      await h.connections.wait(1);
      assert.deepEqual(
        await setTagResult.promise,
        [false, true],
        "setTag outside the token's tags is refused; its own tag is fine",
      );
      assert.equal(h.ctx("event").evapi.multicast({ to: "billing" }, "billing"), 1);
      const sub = await authed(h, BILLING);
      sub.c.send(netstring(JSON.stringify({ evsip: "subscribe", consumer: "audit", resume: null })));
      assert.equal((await refused(sub.c)).code, "ERR_EVAPI_NOT_ALLOWED");
      const ok = await authed(h, BILLING);
      ok.c.send(netstring(JSON.stringify({ evsip: "subscribe", consumer: "billing", resume: null })));
      await ok.c.until(() => parsed(ok.c).some((f) => f.evsip === "subscribed"));
      c.destroy();
      ok.c.destroy();
    },
    {
      "evapi:message-received": (ctx) => {
        setTagResult.resolve([ctx.evapi.setTag("ops"), ctx.evapi.setTag("billing")]);
      },
    },
  );
});

test("auth: raw mode with a delimiter: the auth line first, the next lines read as messages", async () => {
  const got = new Collector<string>();
  await withTokens(
    { netstringFormat: false, rawDelimiter: "\n" },
    async (h) => {
      const c = await TestClient.open(h.port, "127.0.0.1", false);
      c.send(JSON.stringify({ evsip: "auth", token: OPS }) + '\n{"a":1}\n{"a":2}\n');
      await h.connections.wait(1);
      assert.deepEqual(await got.wait(2), ['{"a":1}', '{"a":2}']);
      c.destroy();
    },
    { "evapi:message-received": (ctx) => got.push(ctx.evapi.msg) },
  );
});

test("auth: a client that disconnects mid-auth leaves nothing behind and runs no route", async () => {
  await withTokens({}, async (h) => {
    for (let i = 0; i < 5; i++) {
      const c = await TestClient.open(h.port);
      c.send(auth(OPS).slice(0, 10 + i));
      c.destroy();
    }
    const deadline = Date.now() + 5000;
    while (h.mod.stats().unauthenticatedPending !== 0 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    assert.equal(h.mod.stats().unauthenticatedPending, 0, "every waiting place freed on close");
    assert.equal(h.connections.items.length, 0);
    assert.equal(h.mod.stats().clientsConnected, 0);
  });
});

test("auth: parseAuth never throws and accepts exactly the auth shape (property)", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 300 }), (s) => {
      const r = parseAuth(s);
      assert.equal(typeof r.ok, "boolean");
      if (!r.ok) assert.equal(r.code, "ERR_EVAPI_BAD_AUTH");
    }),
  );
  fc.assert(
    fc.property(
      fc.string({ minLength: 1, maxLength: 200 }),
      fc.option(fc.stringMatching(/^[\x21-\x7e]{1,63}$/)),
      (token, tag) => {
        const r = parseAuth(JSON.stringify({ evsip: "auth", token, tag: tag ?? undefined }));
        assert.deepEqual(r, { ok: true, token, tag: tag ?? undefined });
      },
    ),
  );
});

test("auth: tokens param check, token lookup and grant checks", () => {
  assert.equal(checkTokens([{ token: "short" }]), "tokens[0].token must be a string of 16 to 256 characters");
  assert.match(checkTokens([{ token: OPS, tag: ["x"] }]) ?? "", /unknown key "tag"/);
  assert.match(checkTokens([{ token: OPS }, { token: OPS }]) ?? "", /repeats/);
  assert.equal(checkTokens(TOKENS), undefined);
  const table = new TokenTable(TOKENS);
  assert.equal(table.match(OPS)?.name, "ops");
  assert.equal(table.match(OPS + "x"), undefined);
  assert.equal(table.match(""), undefined);
  const g = grantsOf({ token: OPS, events: ["call:*", "dialog:end"], decide: false }, 3);
  assert.equal(g.name, "token-3");
  assert.ok(maySubscribe(g, "call:start") && maySubscribe(g, "call:*") && maySubscribe(g, "dialog:end"));
  assert.ok(!maySubscribe(g, "*") && !maySubscribe(g, "dialog:*") && !maySubscribe(g, "cal*"));
  assert.ok(!mayDecide(g) && mayDecide(undefined) && maySubscribe(undefined, "*"));
});

test("auth: a token's event patterns hold a connection that never subscribes (and keep it from durable streams); decide: false refuses its decisions", async () => {
  const LISTENER = "listener-secret-0123456789";
  const results = deferred<unknown>();
  await withTokens(
    { tokens: [...(TOKENS ?? []), { token: LISTENER, name: "listener", events: ["call-*"], decide: false }] },
    async (h) => {
      const { c } = await authed(h, LISTENER);
      await h.connections.wait(1);
      const ev = h.ctx("event").evapi;
      assert.equal(ev.relay({ event: "other" }), 0, "outside its patterns: not sent");
      assert.equal(ev.relay({ event: "call-start" }), 1);
      await c.until(() => parsed(c).some((f) => f.event === "call-start"));
      c.send(netstring(JSON.stringify({ evsip: "events", names: ["other"] })));
      await c.until(() => parsed(c).some((f) => f.code === "ERR_EVAPI_PATTERN_TOO_BROAD"));
      const durable = await authed(h, LISTENER);
      durable.c.send(netstring(JSON.stringify({ evsip: "subscribe", consumer: "billing", resume: null })));
      assert.equal((await refused(durable.c)).code, "ERR_EVAPI_NOT_ALLOWED", "its patterns could not hold a durable stream");
      c.send(netstring(JSON.stringify({ tindex: 1, tlabel: 2, action: "allow" })));
      const r = (await results.promise) as { ok: boolean; code?: string };
      assert.deepEqual([r.ok, r.code], [false, "ERR_EVAPI_DECIDE_FORBIDDEN"]);
      assert.ok(!parsed(c).some((f) => f.event === "other"));
      c.destroy();
    },
    { "evapi:message-received": (ctx) => void results.resolve(ctx.evapi.decide()) },
  );
});
