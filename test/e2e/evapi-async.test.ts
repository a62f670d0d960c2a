// The async flow of seed 001 end to end: SIPp sends an INVITE, the request route asyncRelays it to
// a real TCP client (the "external application"), whose answer comes back through
// evapi:message-received and ctx.tm.continue: allow → 200, reject → 403, no answer → 408 (short
// frTimer) and a late continue → false, CANCEL while suspended → 487, no client → immediate 503.
// Also `await ctx.evapi.request()` allow → 200, with the consumer's own names for the transaction's
// fields, and with no answer in its timeout → ERR_EVAPI_TIMEOUT (the route answers 500), all on the
// real tm; and $evapi(...) through the real engine.
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineApp } from "../../src/app.js";
import type { EvapiModule } from "../../src/modules/evapi/index.js";
import { hasSipp, runSipp, SKIP_NO_SIPP } from "../support/sipp.js";
import { startRouter, type RunningRouter } from "../support/router.js";
import { Collector, TestClient } from "../support/evapi-harness.js";

const skip = hasSipp() ? false : SKIP_NO_SIPP;

/** What `await ctx.evapi.request()` gets for each user that awaits: its options, and what the consumer does. */
const AWAITS: Record<string, { indexField?: string; labelField?: string; timeout: number }> = {
  await: { timeout: 2000 },
  "await-fields": { indexField: "tr_index", labelField: "tr_label", timeout: 2000 },
  "await-silent": { timeout: 200 },
};

function asyncApp(continues: Collector<boolean>, seen: Collector<unknown[]>, failures = new Collector<string>()) {
  return defineApp({
    modules: { evapi: { bindAddr: "127.0.0.1:0" } },
    async request(ctx) {
      if (ctx.isMethod("ACK")) return ctx.exit();
      if (ctx.isMethod("CANCEL")) {
        ctx.tm.relay();
        return ctx.exit();
      }
      const user = String(ctx.pv("$rU"));
      const awaits = AWAITS[user];
      if (awaits !== undefined) {
        try {
          const r = await ctx.evapi.request<{ allow: boolean }>({ event: "invite", user }, awaits);
          ctx.tm.reply(r.allow ? 200 : 403, r.allow ? "OK" : "Forbidden");
        } catch (err) {
          failures.push((err as { code?: string }).code ?? String(err));
          ctx.tm.reply(500, "No Answer");
        }
        return;
      }
      const n = ctx.evapi.asyncRelay((t) => ({ event: "invite", user, tindex: t.index, tlabel: t.label }));
      if (n === 0) ctx.tm.reply(503, "No Auth Service");
      return ctx.exit();
    },
    routes: {
      ALLOW(ctx) {
        ctx.tm.reply(200, "OK");
      },
      REJECT(ctx) {
        ctx.tm.reply(403, "Forbidden");
      },
    },
    events: {
      "evapi:connection-new"(ctx) {
        seen.push([ctx.pv("$evapi(conidx)"), ctx.pv("$evapi(srcaddr)"), ctx.evapi.srcport]);
      },
      "evapi:message-received"(ctx) {
        const m = JSON.parse(String(ctx.pv("$evapi(msg)"))) as { tindex: number; tlabel: number; allow: boolean };
        continues.push(ctx.tm.continue(m.tindex, m.tlabel, m.allow ? "ALLOW" : "REJECT"));
      },
    },
  });
}

function evapiPort(r: RunningRouter): number {
  return (r.internals.modules.get("evapi") as EvapiModule).address().port;
}

/** The external application: answers allow/reject by user, stays silent for the others. */
function authService(c: TestClient, late: Array<Record<string, unknown>>): void {
  let handled = 0;
  c.socket.on("data", () => {
    while (handled < c.frames.length) {
      const ev = JSON.parse(c.frames[handled++]!) as Record<string, unknown>;
      const allow = ev.user === "allow" || ev.user === "await" || ev.user === "await-fields";
      // The transaction's fields come back under the names they went out with.
      const answer =
        ev.user === "await-fields"
          ? { tr_index: ev.tr_index, tr_label: ev.tr_label, allow }
          : { tindex: ev.tindex, tlabel: ev.tlabel, allow };
      if (ev.user === "silent" || ev.user === "cancel" || ev.user === "await-silent") late.push(answer);
      else {
        const text = JSON.stringify(answer);
        c.send(`${Buffer.byteLength(text)}:${text},`);
      }
    }
  });
}

/** What a test gets: the router, its evapi client, and what the app and the client saw. */
interface Harness {
  readonly r: RunningRouter;
  readonly c: TestClient;
  /** t_continue's results, in order. */
  readonly cont: Collector<boolean>;
  /** Answers the client held back (the "silent", "cancel" and "await-silent" services). */
  readonly late: Array<Record<string, unknown>>;
  /** The codes of the `ctx.evapi.request` calls that failed (the await services). */
  readonly failures: Collector<string>;
}

async function withRouter(fn: (h: Harness) => Promise<void>, frTimer = 500) {
  const cont = new Collector<boolean>();
  const seen = new Collector<unknown[]>();
  const failures = new Collector<string>();
  const r = await startRouter({ ...asyncApp(cont, seen, failures), tm: { frTimer } }, ["udp:127.0.0.1:0"]);
  const late: Array<Record<string, unknown>> = [];
  const c = await TestClient.open(evapiPort(r));
  try {
    const [row] = await seen.wait(1);
    assert.deepEqual(row, [0, "127.0.0.1", c.socket.localPort]);
    authService(c, late);
    await fn({ r, c, cont, late, failures });
  } finally {
    c.destroy();
    await r.stop();
  }
}

test("evapi async: allow → 200, reject → 403", { skip }, async () => {
  await withRouter(async ({ r, cont }) => {
    const ok = await runSipp({ scenario: "uac-invite-200.xml", target: r.target("udp"), service: "allow" });
    assert.equal(ok.code, 0, ok.stderr);
    const no = await runSipp({ scenario: "uac-invite-403.xml", target: r.target("udp"), service: "reject" });
    assert.equal(no.code, 0, no.stderr);
    assert.deepEqual(await cont.wait(2), [true, true]);
  });
});

test("evapi async: no answer → 408 after frTimer; the late continue returns false", { skip }, async () => {
  await withRouter(async ({ r, c, cont, late }) => {
    const res = await runSipp({ scenario: "uac-invite-408.xml", target: r.target("udp"), service: "silent" });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(late.length, 1);
    const text = JSON.stringify(late[0]);
    c.send(`${Buffer.byteLength(text)}:${text},`);
    assert.deepEqual(await cont.wait(1), [false]);
  });
});

test("evapi async: CANCEL while suspended → 487", { skip }, async () => {
  // frTimer far past the CANCEL's round trip, so that no 408 can come first on a loaded machine.
  await withRouter(async ({ r }) => {
    const res = await runSipp({ scenario: "uac-cancel-487.xml", target: r.target("udp"), service: "cancel" });
    assert.equal(res.code, 0, res.stderr);
    const s = (r.internals.modules.get("evapi") as EvapiModule).service.stats;
    assert.equal(s.suspended, 1);
  }, 5000);
});

test("evapi async: await ctx.evapi.request() → 200", { skip }, async () => {
  await withRouter(async ({ r, cont }) => {
    const res = await runSipp({ scenario: "uac-invite-200.xml", target: r.target("udp"), service: "await" });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(cont.items.length, 0, "the reply resolved request() and skipped message-received");
    assert.equal((r.internals.modules.get("evapi") as EvapiModule).service.stats.requestsAnswered, 1);
  });
});

test("evapi async: request() with the consumer's own field names → 200", { skip }, async () => {
  await withRouter(async ({ r, c }) => {
    const res = await runSipp({ scenario: "uac-invite-200.xml", target: r.target("udp"), service: "await-fields" });
    assert.equal(res.code, 0, res.stderr);
    const sent = JSON.parse(c.frames.find((f) => f.includes("await-fields")) ?? "{}") as Record<string, unknown>;
    assert.equal(typeof sent.tr_index, "number", "the transaction's index went out as tr_index");
    assert.equal(typeof sent.tr_label, "number");
    assert.equal(sent.tindex, undefined, "and not under the default name");
  });
});

test("evapi async: request() unanswered within its timeout → ERR_EVAPI_TIMEOUT, the route answers 500", { skip }, async () => {
  await withRouter(async ({ r, cont, late, failures }) => {
    const res = await runSipp({ scenario: "uac-invite-500.xml", target: r.target("udp"), service: "await-silent" });
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(await failures.wait(1), ["ERR_EVAPI_TIMEOUT"]);
    assert.equal(late.length, 1, "the consumer got the request and kept it");
    const ev = r.internals.modules.get("evapi") as EvapiModule;
    assert.equal(ev.pending.size, 0, "the timed-out request is forgotten");
    assert.equal(ev.service.stats.requestsFailed, 1);
    assert.equal(cont.items.length, 0);
  });
});

test("evapi async: no client connected → immediate 503, nothing suspended", { skip }, async () => {
  const cont = new Collector<boolean>();
  const r = await startRouter(asyncApp(cont, new Collector()), ["udp:127.0.0.1:0"]);
  try {
    const res = await runSipp({ scenario: "uac-invite-503.xml", target: r.target("udp"), service: "allow" });
    assert.equal(res.code, 0, res.stderr);
    assert.equal((r.internals.modules.get("evapi") as EvapiModule).service.stats.suspended, 0);
  } finally {
    await r.stop();
  }
});
