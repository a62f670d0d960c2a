// The load tool reads Kamailio's shared memory over the ctl socket the bench configs open when
// started with CTL_SOCK (bench/load/kamailio-shm.ts): a real Kamailio with bench/kamailio/relay.cfg.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../support/sipp.js";
import { kamailioSkipReason, startKamailio } from "../support/kamailio.js";
import { parseShmmem, readShm } from "../../bench/load/kamailio-shm.js";
import { benchFile } from "../../bench/support/sipp-macro.js";

test("core.shmmem's answer: real_used and max_used in kB; anything else is undefined", () => {
  const text =
    "{\n\ttotal: 67108864\n\tfree: 66536048\n\tused: 333816\n\treal_used: 572416\n\tmax_used: 1048576\n\tfragments: 1\n}\n";
  assert.deepEqual(parseShmmem(text), { realUsedKb: 559, maxUsedKb: 1024 });
  assert.equal(parseShmmem("error: 500 - command not found"), undefined);
});

test(
  "a bench config started with CTL_SOCK answers core.shmmem; no socket, no answer",
  { skip: kamailioSkipReason(["tm", "rr", "ctl"]) },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "evsip-load-ctl-test-"));
    const sock = join(dir, "ctl.sock");
    const k = await startKamailio(
      benchFile("kamailio/relay.cfg"),
      await freePort(),
      { UAS_URI: '"sip:127.0.0.1:5999"', CTL_SOCK: `"unix:${sock}"` },
      { shmMb: 64 },
    );
    try {
      const shm = readShm(sock);
      assert.ok(shm !== undefined, "kamcmd answered");
      assert.ok(shm.realUsedKb > 0 && shm.maxUsedKb >= shm.realUsedKb, JSON.stringify(shm));
    } finally {
      await k.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(readShm(sock), undefined);
  },
);
