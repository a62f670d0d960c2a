// htable inside a running server: event_route[htable:mod-init] once before the listeners open,
// $sht/$shtex/$shtinc/$shtdec with PVs in the key, event_route[htable:expired:<table>] with the
// expired record on ctx, and ctx.lock excluding two async routes that interleave at an await.
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineApp, type AppDefinition } from "../../../src/app.js";
import { Server } from "../../../src/server.js";
import { EvsipError } from "../../../src/errors.js";
import type { HtableExpired, HtableModuleInstance } from "../../../src/modules/htable/index.js";
import type { EventContext } from "../../../src/route-contexts.js";
import { startRouter, type RunningRouter } from "../../support/router.js";

const listen = ["udp:127.0.0.1:0"];

/** A context like an event route's, to read and write through the modules from the test. */
function eventCtx(r: RunningRouter): EventContext {
  return r.server.engine.newContext("event", undefined, undefined) as unknown as EventContext;
}

test("mod-init runs once at start; $sht with a PV in the key; $shtinc/$shtdec/$shtex", async () => {
  let inits = 0;
  const r = await startRouter(
    defineApp({
      modules: { htable: { htable: "a=>size=4;initval=0" } },
      events: {
        "htable:mod-init"(ctx) {
          inits++;
          ctx.setPv("$sht(a=>calls-to::10.10.10.10)", 0);
          ctx.setPv("$sht(a=>max-calls-to::10.10.10.10)", 100);
        },
      },
    }),
    listen,
  );
  try {
    assert.equal(inits, 1);
    const ctx = eventCtx(r);
    assert.equal(ctx.pv("$sht(a=>max-calls-to::10.10.10.10)"), 100);
    ctx.setPv("$sht(a=>calls-to::$rd)", 5); // the faked message's $rd is evsip.invalid
    assert.equal(ctx.htable.get("a", "calls-to::evsip.invalid"), 5);
    assert.equal(ctx.pv("$shtinc(a=>calls-to::$rd)"), 6);
    assert.equal(ctx.pv("$shtdec(a=>calls-to::$rd)"), 5);
    assert.equal(ctx.pv("$sht(a=>nothing)"), 0, "initval");
    assert.equal(ctx.htable.exists("a", "nothing"), false);
    assert.equal(ctx.pv("$shtex(a=>calls-to::$rd)"), 0, "never expires");
    ctx.setPv("$shtex(a=>calls-to::$rd)", 30);
    assert.equal(ctx.htable.getExpire("a", "calls-to::evsip.invalid"), 30);
    ctx.setPv("$sht(a=>calls-to::$rd)", null);
    assert.equal(ctx.htable.exists("a", "calls-to::evsip.invalid"), false, "$null deletes");
    ctx.htable.set("a", "s", "text");
    assert.equal(ctx.htable.inc("a", "s"), null, "inc on a string");
    assert.throws(
      () => ctx.htable.get("zz", "k"),
      (e: unknown) => e instanceof EvsipError && e.code === "ERR_HTABLE_UNKNOWN_TABLE",
    );
    assert.equal(ctx.fmt("max=$sht(a=>max-calls-to::10.10.10.10)"), "max=100");
  } finally {
    await r.stop();
  }
});

test("htable:expired:<table> runs per expired item with the record on ctx", async () => {
  const fired: Array<[HtableExpired | undefined, unknown, unknown]> = [];
  let done!: () => void;
  const allFired = new Promise<void>((res) => (done = res));
  const r = await startRouter(
    defineApp({
      modules: { htable: { htable: { b: { autoexpire: 0.05 }, c: { size: 2 } }, timerInterval: 10 } },
      events: {
        "htable:mod-init"(ctx) {
          ctx.htable.set("b", "k1", "v1");
          ctx.htable.set("b", "k2", 2);
          ctx.htable.set("c", "stays", 1);
        },
        "htable:expired:b"(ctx) {
          fired.push([{ ...ctx.htable.expired } as HtableExpired, ctx.pv("$shtrecord(key)"), ctx.pv("$shtrecord(value)")]);
          if (fired.length === 2) done();
        },
      },
    }),
    listen,
  );
  try {
    await allFired;
    fired.sort((x, y) => String(x[1]).localeCompare(String(y[1])));
    assert.deepEqual(fired, [
      [{ table: "b", key: "k1", value: "v1" }, "k1", "v1"],
      [{ table: "b", key: "k2", value: 2 }, "k2", 2],
    ]);
    const mod = r.server.modules.get("htable") as HtableModuleInstance;
    assert.equal(mod.tables.get("b")?.size, 0);
    assert.equal(mod.tables.get("c")?.size, 1);
    assert.equal((mod.stats?.().expired as Map<string, number>).get("b"), 2);
  } finally {
    await r.stop();
  }
});

function counterApp(useLock: boolean): AppDefinition {
  return defineApp({
    modules: { htable: { htable: "a=>initval=0" } },
    events: {
      async "test:count"(ctx) {
        if (useLock) await ctx.lock("calls-to::x");
        const v = Number(ctx.pv("$sht(a=>calls-to::x)"));
        await new Promise<void>((res) => setImmediate(res)); // another route runs here
        ctx.setPv("$sht(a=>calls-to::x)", v + 1);
        if (useLock) ctx.unlock("calls-to::x");
      },
    },
  });
}

test("ctx.lock excludes two async routes interleaving at an await (and without it updates are lost)", async () => {
  for (const useLock of [true, false]) {
    const r = await startRouter(counterApp(useLock), listen);
    try {
      await Promise.all(Array.from({ length: 20 }, async () => r.server.engine.runEvent("test:count")));
      const n = eventCtx(r).htable.get("a", "calls-to::x");
      if (useLock) assert.equal(n, 20);
      else assert.ok(Number(n) < 20, `without the lock the read-modify-write interleaves (got ${n})`);
    } finally {
      await r.stop();
    }
  }
});

test("bad table definitions are refused at load with the param name", () => {
  assert.throws(
    () => new Server(defineApp({ listen, modules: { htable: { htable: "a=>dbtable=x" } } })),
    (e: unknown) => e instanceof EvsipError && /modules\.htable\.htable/.test(e.message) && /dbtable/.test(e.message),
  );
  assert.throws(
    () => new Server(defineApp({ listen, modules: { jsonrpcc: { servers: "nohost" } } })),
    (e: unknown) => e instanceof EvsipError && /modules\.jsonrpcc\.servers/.test(e.message),
  );
  assert.throws(
    () => new Server(defineApp({ listen, modules: { jsonrpcc: {} as { servers: string } } })),
    (e: unknown) => e instanceof EvsipError && /servers: is required/.test(e.message),
  );
});
