// Route-type refusal at load: the function, the block and file:line:col; route[X] bodies are
// checked as request routes, as Kamailio checks them. Which blocks each function allows is checked
// against Kamailio's own parser by test/interop/cfg-route-types-kamailio.test.ts.
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
  // tm's own reply routes may ask; core's onreply_route may not (kamailio -c refuses it there too).
  refused("onreply_route { if (t_is_canceled()) drop; }", /t_is_canceled\(\) cannot be used in onreply_route:/);
  assert.doesNotThrow(() =>
    loadCfgText(
      HEAD + 'request_route { t_on_reply("R"); t_relay(); }\nonreply_route[R] { if (t_is_canceled()) drop; }',
      "rt.cfg",
    ),
  );
});

test("route[X] is checked as a request route wherever it is called from, as Kamailio: a failure or reply route may reach it", () => {
  // The layout of Kamailio's stock cfg: the failure route relays again through route[RELAY], which
  // answers with sl_send_reply when t_relay fails. Kamailio loads it; so does evsip.
  const stock =
    'request_route { t_on_failure("F"); route(RELAY); }\n' +
    'route[RELAY] { if (!t_relay()) { sl_send_reply("500", "Server Error"); } exit; }\n' +
    'failure_route[F] { $du = "sip:127.0.0.1:5099"; route(RELAY); }\n' +
    "onreply_route[R] { route(RELAY); }";
  assert.doesNotThrow(() => loadCfgText(HEAD + stock, "rt.cfg"));
  // The same call written in the failure route itself is still refused.
  refused(
    stock.replace(
      'failure_route[F] { $du = "sip:127.0.0.1:5099"; route(RELAY); }',
      'failure_route[F] { sl_send_reply("500", "x"); }',
    ),
    /failure_route\[F\]/,
  );
});
