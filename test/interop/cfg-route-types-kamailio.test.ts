// Route-type masks: cfgs that use a function in a block its module does not allow, checked with
// `kamailio -c` (Kamailio 5.6's own parser) and with evsip's loader: both refuse the same ones, and
// both load a cfg whose failure route reaches such a call through route(X) (a route[X] body is
// checked as a request route), as Kamailio's stock cfg does (docs/kamailio-cfg.md#route-kinds).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KAMAILIO_BIN, KAMAILIO_MODULES, kamailioSkipReason } from "../support/kamailio.js";
import { loadCfgText } from "../../src/cfg/load-cfg.js";

const MODULES = ["tm", "tmx", "sl", "rr", "maxfwd", "textops", "evapi"];
const skip = kamailioSkipReason(MODULES);

const HEAD = `#!KAMAILIO\n${MODULES.map((m) => `loadmodule "${m}.so"`).join("\n")}\n`;
const RELAY = 'request_route { t_on_failure("F"); t_on_reply("R"); t_relay(); }\n';

/** [blocks after the head, does Kamailio refuse it, does evsip refuse it]. */
const CASES: Array<[string, boolean, boolean]> = [
  [`${RELAY}failure_route[F] { sl_send_reply("500", "x"); }\nonreply_route[R] { exit; }`, true, true],
  [`${RELAY}failure_route[F] { t_reply("500", "x"); t_relay(); record_route(); }\nonreply_route[R] { exit; }`, false, false],
  [`${RELAY}failure_route[F] { t_check_trans(); }\nonreply_route[R] { exit; }`, true, true],
  [`${RELAY}failure_route[F] { exit; }\nonreply_route[R] { t_relay(); }`, true, true],
  [`${RELAY}failure_route[F] { exit; }\nonreply_route[R] { t_on_failure("F"); t_reply("500", "x"); }`, false, false],
  [`${RELAY}failure_route[F] { exit; }\nonreply_route[R] { append_to_reply("X-A: 1\\r\\n"); }`, true, true],
  [`${RELAY}failure_route[F] { exit; }\nonreply_route[R] { exit; }\nonreply_route { t_on_reply("R"); }`, true, true],
  [`${RELAY}failure_route[F] { exit; }\nonreply_route[R] { exit; }\nonreply_route { send_reply("500", "x"); }`, false, false],
  [`${RELAY}failure_route[F] { loose_route(); }\nonreply_route[R] { exit; }`, true, true],
  [
    `${RELAY}failure_route[F] { exit; }\nonreply_route[R] { exit; }\nevent_route[evapi:connection-new] { sl_send_reply("500", "x"); evapi_async_relay("x"); }`,
    false,
    false,
  ],
  // Through route(X): neither follows the call.
  [`${RELAY}failure_route[F] { route(X); }\nonreply_route[R] { exit; }\nroute[X] { sl_send_reply("500", "x"); }`, false, false],
];

function kamailioRefuses(dir: string, i: number, cfg: string): boolean {
  const file = join(dir, `case${i}.cfg`);
  writeFileSync(file, cfg);
  const r = spawnSync(KAMAILIO_BIN, ["-c", "-f", file, "-L", KAMAILIO_MODULES], { encoding: "utf8" });
  return r.status !== 0;
}

function evsipRefuses(cfg: string): boolean {
  try {
    loadCfgText(cfg, "case.cfg");
    return false;
  } catch (e) {
    if ((e as { code?: string }).code === "ERR_CFG_ROUTE_TYPE") return true;
    throw e;
  }
}

test(
  "Kamailio 5.6 and evsip refuse the same functions in the same blocks, and both load one reached through route(X)",
  { skip },
  () => {
    const dir = mkdtempSync(join(tmpdir(), "evsip-cfg-rt-"));
    try {
      const got = CASES.map(([blocks], i) => [blocks, kamailioRefuses(dir, i, HEAD + blocks), evsipRefuses(HEAD + blocks)]);
      assert.deepEqual(got, CASES);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
