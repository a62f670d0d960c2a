// A consumer that reads steadily, slower than a burst arrives, is reading: the stall rule must not
// close it. The rule sees progress only when Node's count of bytes held for the socket drops, which
// happens when a write is wholly taken, and the kernel wakes the writer only once about a third of
// its send buffer is free (about 2 MB on loopback). So a reader at 6 MB/s shows progress every
// 300 ms or so, and one at 1 MB/s every 1.6 s. The 100 ms grace evsip had closed such a reader
// ERR_EVAPI_SLOW_CLIENT (3 runs in 3): billing consumers lost their connection exactly when the host
// was busiest. The consumer runs in its own process, as in production, so it reads while the
// producer holds the router's loop.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { encodeNetstring } from "evsip-client/netstring";
import { startEvapi } from "../../support/evapi-harness.js";
import { childLines } from "../../support/child-lines.js";

const EVENTS = 60_000;
// 235 bytes of JSON: a 240-byte netstring frame; 60,000 of them are 14.4 MB.
const PAYLOAD = { event: "call.update", ci: "a84b4c76e66710@pc33.atlanta.example.com", pad: "" };
PAYLOAD.pad = "x".repeat(235 - JSON.stringify(PAYLOAD).length);
const FRAME = encodeNetstring(JSON.stringify(PAYLOAD)).length;
const READ_EVERY_MS = 10;
const READER = fileURLToPath(new URL("../../support/paced-reader.js", import.meta.url));

test(
  `a consumer reading once every ${READ_EVERY_MS} ms gets a ${(EVENTS * FRAME) / 1e6} MB stream with the default grace, and stays connected`,
  { timeout: 60_000 },
  async () => {
    const h = await startEvapi(
      {},
      {
        async "evapi:message-received"(ctx) {
          for (let i = 0; i < EVENTS; i++) {
            ctx.evapi.relay(PAYLOAD);
            await ctx.evapi.drain();
          }
        },
      },
    );
    const all = EVENTS * FRAME;
    const reader = spawn(process.execPath, [READER, String(h.port), String(all), String(READ_EVERY_MS)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const out = childLines(reader);
      const end = await out.logged(/^(done|closed) /);
      const s = h.mod.service.stats;
      assert.equal(s.closes.get("ERR_EVAPI_SLOW_CLIENT") ?? 0, 0, "the reading consumer was not closed as slow");
      assert.equal(end, `done ${all}`, "every byte of every event arrived");
      assert.equal(s.drops.get("producer-burst") ?? 0, 0, "nothing was dropped");
    } finally {
      reader.kill("SIGKILL");
      await h.stop();
    }
  },
);
