// The call-path warm-up (src/warm-up-pipeline.ts) with the real Server: the calls it asks for are
// carried and answered through a throwaway server over loopback, the app's own routes never run,
// and nothing of the throwaway server is left open when the real one is listening.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Server } from "../src/server.js";
import { defineApp } from "../src/app.js";
import { captureLogger } from "./support/transport-harness.js";
import { waitFor } from "./support/wait-for.js";

test("sip.warmUpCalls: every call is answered through the throwaway server, the app's routes never run, nothing is left open", async () => {
  const { logger, lines } = captureLogger();
  let routed = 0;
  const resources = (): string =>
    JSON.stringify(
      process
        .getActiveResourcesInfo()
        .filter((r) => r !== "TTYWrap" && r !== "Timeout" && r !== "CloseReq")
        .sort(),
    );
  const before = JSON.parse(resources()) as string[];
  const server = new Server(
    defineApp({
      listen: ["udp:127.0.0.1:0"],
      sip: { warmUp: 0, warmUpCalls: 90 },
      request() {
        routed++;
      },
    }),
    { logger },
  );
  await server.start();
  try {
    const warmed = lines.find((l) => l.msg === "warmed up the call path");
    assert.equal(warmed?.done, 90, "every call answered");
    assert.equal(routed, 0, "the app's route ran for none of them");
    // The real server's one UDP socket, and nothing of the throwaway server's. Closed handles
    // leave Node's list a few loop turns after their close: wait for that, bounded.
    const want = JSON.stringify([...before, "UDPWrap"].sort());
    await waitFor(() => resources() === want, 2000).catch(() => undefined);
    assert.equal(resources(), want);
  } finally {
    await server.stop();
  }
});
