// Property: any cfg built from the subset's grammar either is refused at load with a CfgError, or
// runs on a real engine's route context ending normally, by exit/drop, or with a coded EvsipError
// (a read-only pseudo-variable, say): never another exception, never an endless loop.
import { test } from "node:test";
import fc from "fast-check";
import { CfgError, EvsipError } from "../../src/errors.js";
import { loadCfgText } from "../../src/cfg/load-cfg.js";
import { isRouteExit } from "../../src/core/route-exit.js";
import { routeContext } from "../support/route-context.js";

const value = fc.constantFrom("1", "0", "-3", '"abc"', '"10"', '""', "$var(a)", "$var(b)", "$rU", "$fU", "$null", "$rs", "$ci");
const expr: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    value,
    fc
      .tuple(tie("e"), fc.constantFrom("+", "-", "*", "/", "mod", "==", "!=", "<", ">", "=~", "&&", "||"), tie("e"))
      .map(([l, op, r]) => `(${l} ${op} ${r})`),
    tie("e").map((e) => `!${e}`),
    fc.constantFrom('is_method("INVITE|OPTIONS")', "has_totag()", "route(R)"),
  ),
})).e;

const stmt: fc.Arbitrary<string> = fc.letrec<{ s: string }>((tie) => ({
  s: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    expr.map((e) => `$var(a) = ${e};`),
    expr.map((e) => `$var(b) = ${e};`),
    fc.tuple(expr, tie("s"), tie("s")).map(([c, t, f]) => `if (${c}) { ${t} } else { ${f} }`),
    fc.tuple(expr, tie("s")).map(([c, b]) => `while (${c}) { ${b} }`),
    fc.tuple(expr, tie("s")).map(([c, b]) => `switch (${c}) { case 1: ${b} case "abc": break; default: ${b} }`),
    fc.constantFrom("exit;", "drop;", "return;", "return -1;", "route(R);", "$rs = 1;", 'xlog("L_DBG", "x $var(a)\\n");'),
  ),
})).s;

test("property: a cfg from the subset's grammar loads or is refused, and runs ending only in coded ways", () => {
  fc.assert(
    fc.property(fc.array(stmt, { minLength: 1, maxLength: 5 }), (body) => {
      const src = `loadmodule "textops.so"\nloadmodule "siputils.so"\nloadmodule "xlog.so"\nrequest_route {\n${body.join("\n")}\n}\nroute[R] { $var(a) = $var(a) + 1; return $var(a); }\n`;
      let app;
      try {
        app = loadCfgText(src, "p.cfg").app;
      } catch (e) {
        if (e instanceof CfgError) return;
        throw e;
      }
      try {
        void app.request?.(routeContext() as never);
      } catch (e) {
        if (!isRouteExit(e) && !(e instanceof EvsipError)) throw e;
      }
    }),
    { numRuns: 300 },
  );
});
