// Names in route literals are checked when the server is built, as Kamailio checks its cfg: an
// unknown one refuses the app with ERR_PV_UNKNOWN; one built at run time throws from the call, and
// the route's request gets the 500 of a failed route.
import { test } from "node:test";
import assert from "node:assert/strict";
import { pino } from "pino";
import { defineApp } from "../../src/app.js";
import { Server } from "../../src/server.js";
import { validateApp } from "../../src/params.js";

test("an unknown name in a route literal refuses the app at load, with the route named", () => {
  const app = defineApp({
    request(ctx) {
      ctx.xlog("call at $TSX");
    },
  });
  assert.throws(
    () => new Server(app, { logger: pino({ level: "silent" }) }),
    (err: Error & { code?: string }) => {
      assert.equal(err.code, "ERR_PV_UNKNOWN");
      assert.match(err.message, /request: xlog\("call at \$TSX"\): unknown pseudo-variable \$TSX/);
      return true;
    },
  );
});

test("module pseudo-variables are known only when the module is listed", () => {
  const routes = {
    request(ctx: { pv(s: string): unknown }) {
      ctx.pv("$sht(a=>b)");
    },
  };
  assert.deepEqual(validateApp(defineApp({ modules: { htable: { a: {} } }, ...routes })).problems, []);
  const p = validateApp(defineApp({ ...routes })).problems;
  assert.equal(p.length, 1);
  assert.equal(p[0]?.code, "ERR_PV_UNKNOWN");
});

test("literals that are fine, escaped or built at run time pass the load check", () => {
  const app = defineApp({
    request(ctx) {
      const name = "$TSX";
      ctx.xlog("L_INFO", "from $(fU). cost \\$5, 5 $ each, $$");
      ctx.xlog(`ru=$ru ${name}`);
      ctx.setPv("$var(x)", ctx.pv("$(hdr(Via)[0]{s.len})"));
    },
  });
  assert.deepEqual(validateApp(app).problems, []);
});
