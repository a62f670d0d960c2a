// The answer API end to end: a UDP caller's INVITE is suspended by asyncRelay, a real evsip/client
// answers with the typed decision builders, and ctx.evapi.decide() applies them in one call:
// reject and redirect replies carry the decision's headers, allow relays with them (or runs the
// allow route, which reads the decision's $var), drop sends nothing. A decision for an unknown
// transaction, a malformed one and one from a connection not allowed to decide get coded answers.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { defineApp } from "../../src/app.js";
import type { DecisionResult } from "../../src/index.js";
import type { EvapiModule } from "../../src/modules/evapi/index.js";
import { parseDecision } from "../../src/modules/evapi/decisions/decision.js";
import { EvapiClient, decision, type ClientError, type Decision } from "../../src/client/index.js";
import { startRouter, type RunningRouter } from "../support/router.js";
import { Collector } from "../support/evapi-harness.js";
import { isRequest, isResponse, SipPeer, sipText } from "../support/sip-peer.js";

interface Invite {
  user: string;
  tindex: number;
  tlabel: number;
}

function app(results: Collector<DecisionResult>) {
  return defineApp({
    tm: { frTimer: 3000 },
    modules: { evapi: { bindAddr: "127.0.0.1:0" } },
    async request(ctx) {
      if (!ctx.isMethod("INVITE")) return ctx.exit();
      const user = String(ctx.pv("$rU"));
      if (user.startsWith("await-")) {
        // The awaitable form: the reply of request() is a decision applied to this transaction.
        const d = await ctx.evapi.request<Decision>({ event: "invite", user }, { timeout: 2000 });
        const applied = ctx.evapi.applyDecision(d, { allow: "ALLOWED" });
        results.push(applied);
        if (!applied.ok) ctx.tm.reply(500, "Bad Decision"); // a refused decision changes nothing: the route answers
        return;
      }
      const n = ctx.evapi.asyncRelay((t) => ({ event: "invite", user, tindex: t.index, tlabel: t.label }));
      if (n === 0) ctx.tm.reply(503, "No Decision Service");
      return ctx.exit();
    },
    routes: {
      ALLOWED(ctx) {
        ctx.tm.reply(200, `OK plan=${String(ctx.pv("$var(plan)"))}`);
      },
    },
    events: {
      "evapi:message-received"(ctx) {
        const m = JSON.parse(ctx.evapi.msg) as { route?: string };
        results.push(ctx.evapi.decide(m.route === undefined ? undefined : { allow: m.route }));
      },
    },
  });
}

async function withDecisions(
  answer: (ev: Invite) => (Decision & { route?: string }) | undefined,
  body: (ctx: {
    r: RunningRouter;
    caller: SipPeer;
    callee: SipPeer;
    client: EvapiClient;
    results: Collector<DecisionResult>;
  }) => Promise<void>,
): Promise<void> {
  const results = new Collector<DecisionResult>();
  const r = await startRouter(app(results), ["udp:127.0.0.1:0"]);
  const caller = await SipPeer.open();
  const callee = await SipPeer.open();
  const port = (r.internals.modules.get("evapi") as EvapiModule).address().port;
  const client = new EvapiClient({ port, reconnect: false });
  client.answer((ev) => answer(ev as Invite));
  try {
    await client.connect();
    await body({ r, caller, callee, client, results });
  } finally {
    await client.close();
    caller.close();
    callee.close();
    await r.stop();
  }
}

function invite(caller: SipPeer, user: string, calleePort: number): string {
  return sipText([
    `INVITE sip:${user}@127.0.0.1:${calleePort} SIP/2.0`,
    `Via: SIP/2.0/UDP ${caller.hostport};branch=${caller.branch()}`,
    "Max-Forwards: 70",
    `From: <sip:alice@127.0.0.1>;tag=f-${user}`,
    `To: <sip:${user}@127.0.0.1>`,
    `Call-ID: ${user}-${caller.port}@test`,
    "CSeq: 1 INVITE",
    `Contact: <sip:alice@${caller.hostport}>`,
  ]);
}

const byUser = (ev: Invite): (Decision & { route?: string }) | undefined => {
  switch (ev.user) {
    case "busy":
      return decision.reject(486, "Busy Here", { headers: { "X-Reason": "busy", "X-Multi": ["a", "b"] } });
    case "moved":
      return decision.redirect(["sip:carol@example.com", "sip:dave@example.com"], { headers: { "X-Why": "moved" } });
    case "relay":
      return decision.allow({ headers: { "X-Score": "7" } });
    case "gold":
      return { ...decision.allow({ vars: { plan: "gold" } }), route: "ALLOWED" };
    case "scanner":
      return decision.drop();
    case "await-busy":
      return decision.reject(486, "Busy Here", { headers: { "X-Reason": "awaited" } });
    case "await-gold":
      return decision.allow({ vars: { plan: "silver" } });
    case "await-bad":
      return { action: "reject", code: 99 } as unknown as Decision;
    default:
      return undefined;
  }
};

test("decisions: reject and redirect reply with the decision's headers", async () => {
  await withDecisions(byUser, async ({ r, caller, callee, results }) => {
    caller.send(invite(caller, "busy", callee.port), r.udpPort);
    const busy = (await caller.expect(isResponse(486))).msg;
    assert.equal(busy.reason, "Busy Here");
    assert.equal(busy.header("X-Reason"), "busy");
    assert.deepEqual(busy.headerValues("X-Multi"), ["a", "b"]);
    caller.send(invite(caller, "moved", callee.port), r.udpPort);
    const moved = (await caller.expect(isResponse(302))).msg;
    assert.deepEqual(moved.headerValues("Contact"), ["<sip:carol@example.com>", "<sip:dave@example.com>"]);
    assert.equal(moved.header("X-Why"), "moved");
    assert.deepEqual(
      (await results.wait(2)).map((x) => x.ok && x.action),
      ["reject", "redirect"],
    );
  });
});

test("decisions: allow relays with the headers; an allow route reads the decision's $var", async () => {
  await withDecisions(byUser, async ({ r, caller, callee }) => {
    caller.send(invite(caller, "relay", callee.port), r.udpPort);
    const relayed = (await callee.expect(isRequest("INVITE"))).msg;
    assert.equal(relayed.header("X-Score"), "7");
    assert.equal(relayed.headerValues("Via").length, 2, "relayed by the router");
    caller.send(invite(caller, "gold", callee.port), r.udpPort);
    assert.equal((await caller.expect(isResponse(200))).msg.reason, "OK plan=gold");
  });
});

test("decisions: applyDecision() applies the reply of await ctx.evapi.request() to the request's own transaction", async () => {
  await withDecisions(byUser, async ({ r, caller, callee, results }) => {
    caller.send(invite(caller, "await-busy", callee.port), r.udpPort);
    assert.equal((await caller.expect(isResponse(486))).msg.header("X-Reason"), "awaited");
    caller.send(invite(caller, "await-gold", callee.port), r.udpPort);
    assert.equal((await caller.expect(isResponse(200))).msg.reason, "OK plan=silver");
    caller.send(invite(caller, "await-bad", callee.port), r.udpPort);
    assert.equal((await caller.expect(isResponse(500))).msg.reason, "Bad Decision");
    assert.deepEqual(
      (await results.wait(3)).map((x) => (x.ok ? x.action : x.code)),
      ["reject", "allow", "ERR_EVAPI_BAD_DECISION"],
    );
  });
});

test("decisions: drop sends no final; a second decision for it, and one for an unknown transaction, get ERR_EVAPI_UNKNOWN_TRANSACTION", async () => {
  let dropped: Invite | undefined;
  await withDecisions(
    (ev) => {
      if (ev.user === "scanner") dropped = ev;
      return byUser(ev);
    },
    async ({ r, caller, callee, client, results }) => {
      caller.send(invite(caller, "scanner", callee.port), r.udpPort);
      assert.deepEqual(await results.wait(1), [{ ok: true, action: "drop" }]);
      const errors = new Collector<ClientError>();
      client.on("error", (e) => errors.push(e));
      client.decide(dropped, decision.reject(403, "Forbidden"));
      client.decide({ tindex: 4000, tlabel: 1 }, decision.allow());
      const [late, unknown] = await errors.wait(2);
      for (const e of [late, unknown]) {
        assert.equal(e?.code, "ERR_CLIENT_REFUSED");
        assert.match(String(e?.message), /ERR_EVAPI_UNKNOWN_TRANSACTION/);
      }
      assert.equal((unknown?.cause as { tindex: number }).tindex, 4000, "the notice echoes the ids");
      // Another call, answered, shows the router went on; the dropped one never got a final.
      caller.send(invite(caller, "busy", callee.port), r.udpPort);
      await caller.expect(isResponse(486));
      assert.equal(
        caller.count((m) => !m.isRequest && m.status >= 200 && m.callId.startsWith("scanner")),
        0,
      );
      const s = (r.internals.modules.get("evapi") as EvapiModule).service.stats;
      assert.equal(s.errors.get("ERR_EVAPI_UNKNOWN_TRANSACTION"), 2);
      assert.equal(s.decisionsApplied, 2);
    },
  );
});

test("decisions: a malformed decision and one from a connection not allowed to decide get coded notices", async () => {
  let pending: Invite | undefined;
  await withDecisions(
    (ev) => {
      pending = ev;
      return undefined;
    },
    async ({ r, caller, callee, client, results }) => {
      const mod = r.internals.modules.get("evapi") as EvapiModule;
      caller.send(invite(caller, "held", callee.port), r.udpPort);
      await caller.expect(isResponse(100));
      await until(() => pending !== undefined);
      const errors = new Collector<ClientError>();
      client.on("error", (e) => errors.push(e));
      const bad: unknown[] = [
        { action: "maybe" },
        { action: "reject", code: 200 },
        { action: "reject", code: 403, headers: { Via: "SIP/2.0/UDP evil" } },
        { action: "reject", code: 403, headers: { "X-A": "line\r\nInjected: 1" } },
        { action: "reject", code: 403, headers: { "X-A": "line\u010aInjected: 1" } },
        { action: "reject", code: 403, reason: "No\u010d\u010aInjected: 1" },
        { action: "redirect" },
        { action: "allow", dlgVars: { a: "1" } },
      ];
      for (const d of bad) client.send({ ...(d as object), tindex: pending?.tindex, tlabel: pending?.tlabel });
      await errors.wait(bad.length);
      for (const e of errors.items) assert.match(e.message, /ERR_EVAPI_BAD_DECISION/);
      mod.subscriptions.grantsOf = () => ({ mayDecide: false });
      client.decide(pending, decision.reject(403, "Forbidden"));
      const [, forbidden] = await errors.wait(bad.length + 1).then((x) => [undefined, x[bad.length]]);
      assert.match(String(forbidden?.message), /ERR_EVAPI_DECIDE_FORBIDDEN/);
      mod.subscriptions.grantsOf = () => ({});
      client.decide(pending, decision.reject(480, "Later"));
      assert.equal((await caller.expect(isResponse(480))).msg.reason, "Later");
      const codes = (await results.wait(bad.length + 2)).map((x) => (x.ok ? x.action : x.code));
      assert.deepEqual(codes, [...bad.map(() => "ERR_EVAPI_BAD_DECISION"), "ERR_EVAPI_DECIDE_FORBIDDEN", "reject"]);
    },
  );
});

test("decisions: dlgVars set $dlg_var on the call's dialog (dialog module loaded)", async () => {
  const got = new Collector<string>();
  const r = await startRouter(
    defineApp({
      tm: { frTimer: 3000 },
      modules: { evapi: { bindAddr: "127.0.0.1:0" }, dialog: {} },
      request(ctx) {
        if (!ctx.isMethod("INVITE")) return ctx.exit();
        ctx.dialog.manage();
        ctx.evapi.asyncRelay((t) => ({ event: "invite", tindex: t.index, tlabel: t.label }));
        return ctx.exit();
      },
      routes: {
        ALLOWED(ctx) {
          got.push(String(ctx.dialog.getVar("account")));
          ctx.tm.reply(486, "Busy Here");
        },
      },
      events: {
        "evapi:message-received"(ctx) {
          ctx.evapi.decide({ allow: "ALLOWED" });
        },
      },
    }),
    ["udp:127.0.0.1:0"],
  );
  const caller = await SipPeer.open();
  const client = new EvapiClient({ port: (r.internals.modules.get("evapi") as EvapiModule).address().port, reconnect: false });
  client.answer(() => decision.allow({ dlgVars: { account: "a-17" } }));
  try {
    await client.connect();
    caller.send(invite(caller, "dlg", 5060), r.udpPort);
    await caller.expect(isResponse(486));
    assert.deepEqual(await got.wait(1), ["a-17"]);
  } finally {
    await client.close();
    caller.close();
    await r.stop();
  }
});

test("decision parsing: any input is a decision or a coded refusal, never a throw", () => {
  fc.assert(
    fc.property(fc.anything(), fc.boolean(), (v, needId) => {
      const d = parseDecision(v, needId);
      if ("ok" in d) assert.equal(d.code, "ERR_EVAPI_BAD_DECISION");
      else for (const line of d.headerLines) assert.doesNotMatch(line, /[\r\n]/);
    }),
  );
  fc.assert(
    fc.property(fc.dictionary(fc.string(), fc.string()), (headers) => {
      const d = parseDecision({ action: "reject", code: 403, headers }, false);
      if (!("ok" in d)) for (const line of d.headerLines) assert.doesNotMatch(line, /[\x00-\x1f]/);
    }),
  );
});

async function until(pred: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((res) => setImmediate(res));
  }
}
