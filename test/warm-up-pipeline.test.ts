// The call-path warm-up (src/warm-up-pipeline.ts) with the real Server: the calls it asks for are
// carried and answered through a throwaway server over loopback, the app's own routes never run,
// and nothing of the throwaway server is left open when the real one is listening.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { pino } from "pino";
import { Server } from "../src/server.js";
import { defineApp } from "../src/app.js";

test("sip.warmUpCalls: every call is answered through the throwaway server, the app's routes never run, nothing is left open", async () => {
  const lines: Array<{ msg?: string; calls?: number; done?: number }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split("\n")) if (l) lines.push(JSON.parse(l) as (typeof lines)[number]);
      cb();
    },
  });
  let routed = 0;
  const resources = (): string[] =>
    process
      .getActiveResourcesInfo()
      .filter((r) => r !== "TTYWrap" && r !== "Timeout")
      .sort();
  const before = resources();
  const server = new Server(
    defineApp({
      listen: ["udp:127.0.0.1:0"],
      sip: { warmUp: 0, warmUpCalls: 90 },
      request() {
        routed++;
      },
    }),
    { logger: pino({ level: "debug" }, sink) },
  );
  await server.start();
  try {
    const warmed = lines.find((l) => l.msg === "warmed up the call path");
    assert.deepEqual({ calls: warmed?.calls, done: warmed?.done }, { calls: 90, done: 90 });
    assert.equal(routed, 0, "the app's route ran for none of them");
    // The real server's one UDP socket, and nothing of the throwaway server's.
    // Closed handles leave Node's list a few loop turns after their close: wait for that, bounded.
    const want = JSON.stringify([...before.filter((r) => r !== "CloseReq"), "UDPWrap"].sort());
    const now = (): string => JSON.stringify(resources().filter((r) => r !== "CloseReq"));
    const deadline = Date.now() + 2000;
    while (now() !== want && Date.now() < deadline) await new Promise<void>((r) => setImmediate(r));
    assert.equal(now(), want);
  } finally {
    await server.stop();
  }
});
