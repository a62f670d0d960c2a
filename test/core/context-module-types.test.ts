// The route-context types say what the runtime does: ctx.<module> is there exactly when the app
// lists the module, and reply/event contexts do not offer the functions that need the request's
// transaction. The run-time half is checked here; the type half is checked by the compiler (a
// `@ts-expect-error` that stops being an error fails the build).
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineApp } from "../../src/app.js";
import type { EventContext, ReplyContext, RequestContext } from "../../src/route-contexts.js";
import { startRouter } from "../support/router.js";

const listen = ["udp:127.0.0.1:0"];

test("an app without modules has no module APIs on ctx; a loaded module is there", async () => {
  const seen: Array<{ evapi: unknown; jsonrpc: unknown; htable: unknown }> = [];
  const bare = defineApp({
    events: {
      "core:worker-one-init"(ctx) {
        const none: undefined = ctx.evapi; // typed undefined, not EvapiApi
        seen.push({ evapi: none, jsonrpc: ctx.jsonrpc, htable: ctx.htable });
      },
    },
  });
  const withHtable = defineApp({
    modules: { htable: "a=>size=4" },
    events: {
      "core:worker-one-init"(ctx) {
        seen.push({ evapi: ctx.evapi, jsonrpc: ctx.jsonrpc, htable: ctx.htable.count("a") });
      },
    },
  });
  for (const app of [bare, withHtable]) await (await startRouter(app, listen)).stop();
  assert.deepEqual(seen, [
    { evapi: undefined, jsonrpc: undefined, htable: undefined },
    { evapi: undefined, jsonrpc: undefined, htable: 0 },
  ]);
});

test("every server's contexts share one class, and a module another server loaded is still undefined on this one's", async () => {
  // One class for all (src/core/engine.ts): the start's warm-up server trains the route path on
  // its contexts, and a class per server gave the real one's contexts other hidden classes.
  const seen: Array<{ proto: object; htable: unknown }> = [];
  const note = (ctx: { htable?: unknown }): void =>
    void seen.push({ proto: Object.getPrototypeOf(ctx) as object, htable: ctx.htable });
  const withHtable = await startRouter(
    defineApp({ modules: { htable: "a=>size=4" }, events: { "core:worker-one-init": note } }),
    listen,
  );
  const bare = await startRouter(defineApp({ events: { "core:worker-one-init": note } }), listen);
  await withHtable.stop();
  await bare.stop();
  assert.equal(seen.length, 2);
  assert.equal(seen[0]?.proto, seen[1]?.proto, "one context class");
  assert.notEqual(seen[0]?.htable, undefined);
  assert.equal(seen[1]?.htable, undefined, "defined for the first server's module, undefined on the second");
});

// Compile-time only: never called (the underscore keeps lint quiet about that).
function _typeChecks(
  req: RequestContext<{ evapi: object; jsonrpcc: { servers: string } }>,
  reply: ReplyContext<{ evapi: object; jsonrpcc: { servers: string } }>,
  ev: EventContext<{ evapi: object; jsonrpcc: { servers: string } }>,
  loose: RequestContext,
): void {
  req.evapi.asyncRelay("x");
  void req.evapi.request({});
  req.jsonrpc.request("m", "{}", "OK", "ERR", "$var(r)");
  for (const c of [reply, ev]) {
    c.evapi.relay("x");
    c.jsonrpc.notification("m");
    void c.jsonrpc.call("m");
    // @ts-expect-error evapi async variants throw ERR_EVAPI_NOT_REQUEST_ROUTE outside request routes
    c.evapi.asyncRelay("x");
    // @ts-expect-error evapi.request needs the request's transaction
    void c.evapi.request({});
    // @ts-expect-error jsonrpc.request suspends the request's transaction
    c.jsonrpc.request("m", "{}", "OK", "ERR", "$var(r)");
  }
  // A context typed without the app's modules cannot assume any module is loaded.
  // @ts-expect-error ctx.evapi is possibly undefined
  loose.evapi.relay("x");
  loose.evapi?.relay("x");
}
