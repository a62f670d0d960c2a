// Route-type refusal at load: the function, the block and file:line:col, directly or through
// route(X) chains (recursive ones end). Which blocks each function allows is checked against
// Kamailio's own parser by test/interop/cfg-route-types-kamailio.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadCfgText } from "../../src/cfg/load-cfg.js";

const HEAD = 'loadmodule "tm.so"\nloadmodule "sl.so"\nloadmodule "textops.so"\n';

function refused(cfg: string, message: RegExp): void {
  assert.throws(
    () => loadCfgText(HEAD + cfg, "rt.cfg"),
    (e: Error & { code?: string }) => e.code === "ERR_CFG_ROUTE_TYPE" && message.test(e.message),
    String(message),
  );
}

test("a function its module does not allow in the block is refused with the function, the block and where", () => {
  refused(
    'request_route { t_on_failure("F"); t_relay(); }\nfailure_route[F] {\n  is_method("INVITE");\n  sl_send_reply("500", "x");\n}',
    /^rt\.cfg:7:3: function sl_send_reply\(\) cannot be used in failure_route\[F\]: Kamailio allows it in request_route \(and route\[X\]\) only$/,
  );
  refused(
    'request_route { t_on_reply("R"); t_relay(); }\nonreply_route[R] { if (is_method("INVITE")) t_relay(); }',
    /^rt\.cfg:5:45: function t_relay\(\) cannot be used in onreply_route\[R\]: Kamailio allows it in request_route \(and route\[X\]\), failure_route only$/,
  );
  refused("onreply_route { t_newtran; }", /t_newtran\(\) cannot be used in onreply_route:/);
});

test("through route(X): the chain of calls is named; a recursive route ends; the same route stays fine from a request route", () => {
  const cfg =
    'request_route { route(A); t_on_reply("R"); t_relay(); }\n' +
    "onreply_route[R] { route(A); }\n" +
    "route[A] { if ($var(n) < 3) { $var(n) = $var(n) + 1; route(A); } route(B); }\n" +
    'route[B] {\n  sl_send_reply("500", "x");\n}';
  refused(
    cfg,
    /^rt\.cfg:8:3: function sl_send_reply\(\) cannot be used in onreply_route\[R\], reached through route\(A\) at rt\.cfg:5:20, route\(B\) at rt\.cfg:6:66: /,
  );
  assert.doesNotThrow(() =>
    loadCfgText(HEAD + cfg.replace("onreply_route[R] { route(A); }", "onreply_route[R] { exit; }"), "rt.cfg"),
  );
});
