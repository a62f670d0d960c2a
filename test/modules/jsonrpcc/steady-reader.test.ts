// A JSON-RPC server that reads steadily, slower than a burst of notifications arrives, is reading:
// the stall rule must not drop it. The rule counts Node's `drain` as progress, and `drain` comes
// only when every byte Node holds for the socket has been taken by the kernel. A burst handed to
// Node whole showed no progress until the server had read all of it, so a notification sink (a CDR
// writer, which answers nothing) reading a 12 MB burst at 1.6 MB/s was dropped as stalled after
// `stallTimeout` and everything still queued for it was lost. The server runs in its own process,
// as in production, so it reads while the burst holds the router's loop. (A floor remains: the kernel
// wakes the writer about every third of its send buffer, about 1.5 MB here, so a server reading less
// than that per stallTimeout still looks stalled; docs/jsonrpcc.md.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { encodeNotification } from "../../../src/modules/jsonrpcc/wire.js";
import { makeClient, waitUp } from "../../support/jsonrpc-client-harness.js";
import { childLines } from "../../support/child-lines.js";

const NOTIFICATIONS = 50_000;
const CDR = { ci: "a84b4c76e66710@pc33.atlanta.example.com", from: "sip:alice@atlanta.example.com", pad: "" };
CDR.pad = "x".repeat(200 - JSON.stringify(CDR).length);
const FRAME = encodeNotification("cdr", CDR).length;
const READ_EVERY_MS = 40;
const READER = fileURLToPath(new URL("../../support/paced-reader.js", import.meta.url));

test(
  `a server reading once every ${READ_EVERY_MS} ms gets a ${(NOTIFICATIONS * FRAME) / 1e6} MB burst of notifications with the default stallTimeout, and stays connected`,
  { timeout: 60_000 },
  async () => {
    const all = NOTIFICATIONS * FRAME;
    const reader = spawn(process.execPath, [READER, "0", String(all), String(READ_EVERY_MS), "serve"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out = childLines(reader);
    const port = (await out.logged(/^listening \d+$/)).split(" ")[1];
    const warnings: Array<{ code?: string }> = [];
    const logger = pino({ level: "warn" }, { write: (s: string) => void warnings.push(JSON.parse(s) as { code?: string }) });
    const client = makeClient(`127.0.0.1:${port},1`, { stallTimeout: 5000, maxWriteBuffer: 16 * 1024 * 1024, logger });
    try {
      await waitUp(client);
      for (let i = 0; i < NOTIFICATIONS; i++) assert.ok(client.notify("cdr", CDR), `notification ${i} queued`);
      const end = await out.logged(/^(done|closed) /);
      const link = client.links[0]!;
      assert.equal(link.stats.stalls, 0, "the reading server was not dropped as stalled");
      assert.deepEqual(
        warnings.map((w) => w.code),
        [],
        "nothing was logged",
      );
      assert.equal(end, `done ${all}`, "every byte of every notification arrived");
    } finally {
      reader.kill("SIGKILL");
      await client.stop();
    }
  },
);
