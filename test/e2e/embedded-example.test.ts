// examples/embedded/main.ts as built, in its own process: SIPp calls through it, the in-process
// decision service allows one and refuses the premium-rate one with 403, the metrics endpoint on
// the port the server reports counts both answers, and SIGTERM drains and exits 0.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { hasSipp, freePort, runSipp, SKIP_NO_SIPP } from "../support/sipp.js";
import { httpGet } from "../support/http-get.js";

test(
  "examples/embedded: the router in its own process applies the awaited decision, reports metrics, and drains on SIGTERM",
  {
    skip: !hasSipp() && SKIP_NO_SIPP,
  },
  async () => {
    const sipPort = await freePort();
    const evapiPort = await freePort("tcp");
    const child = spawn(process.execPath, ["dist/examples/embedded/main.js", String(sipPort), String(evapiPort)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    try {
      const ready = String((await lines.next()).value);
      const metrics = /metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics$/.exec(ready);
      assert.ok(metrics, ready);
      const target = `127.0.0.1:${sipPort}`;
      const allowed = await runSipp({ scenario: "uac", target, service: "100", timeoutSec: 10 });
      assert.equal(allowed.code, 0, allowed.stderr || allowed.stdout.slice(-2000));
      const premium = await runSipp({ scenario: "uac-invite-403.xml", target, service: "900555", timeoutSec: 10 });
      assert.equal(premium.code, 0, premium.stderr);
      const body = (await httpGet("127.0.0.1", Number(metrics[1]), "/metrics")).body;
      assert.match(body, /^evsip_evapi_requests_answered_total 2$/m);
      assert.match(body, /^evsip_evapi_decisions_applied_total 2$/m);
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      assert.equal(String((await lines.next()).value), "drained: 0 in flight, 0 answered 503");
      assert.deepEqual(await exited, [0, null]);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  },
);
