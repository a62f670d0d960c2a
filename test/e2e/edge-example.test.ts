// examples/edge as its README runs it: the real `evsip run` processes, a core that spends 2 ms of
// CPU on each new call (examples/edge/core.ts, a few hundred calls/s at most) behind the edge
// (examples/edge/app.ts, tm.overloadControl), and SIPp's built-in UAC sending twice what the core
// can take. The core asks the edge for less (RFC 7339), the edge holds that share back with its own
// 503s, and every call ends with an answer: completed or refused, none timed out, none lost.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { spawn, type ChildProcess } from "node:child_process";
import { childLines, type ChildLines } from "../support/child-lines.js";
import { freePort, hasSipp, runSipp, sippCallCounts, SKIP_NO_SIPP } from "../support/sipp.js";
import { kill9 } from "../support/kill9.js";
import { httpGet, sample } from "../support/http-get.js";

const CALLS = 2000;

function evsipRun(app: string, port: number, env: Record<string, string>): { child: ChildProcess; out: ChildLines } {
  const child = spawn(
    process.execPath,
    ["bin/evsip.js", "run", app, "--listen", `udp:127.0.0.1:${port}`, "--log-level", "info"],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...env },
    },
  );
  return { child, out: childLines(child) };
}

const skip = !hasSipp()
  ? SKIP_NO_SIPP
  : !existsSync("/proc/net/udp")
    ? "the core's queue is read from /proc/net/udp (Linux)"
    : false;

test(
  "examples/edge: a core past its rate asks the edge for less; the edge holds calls back with 503s, and every call is answered",
  { skip, timeout: 60_000 },
  async () => {
    const corePort = await freePort();
    const edgePort = await freePort();
    const metricsPort = await freePort("tcp");
    const core = evsipRun("examples/edge/core.ts", corePort, { CORE_BUSY_MS: "2" });
    const edge = evsipRun("examples/edge/app.ts", edgePort, {
      EDGE_CORES: `sip:127.0.0.1:${corePort}`,
      EDGE_METRICS: `127.0.0.1:${metricsPort}`,
    });
    try {
      await core.out.logged(/listening on udp/);
      await edge.out.logged(/listening on udp/);
      const r = await runSipp({ scenario: "uac", target: `127.0.0.1:${edgePort}`, calls: CALLS, rate: 1000, timeoutSec: 40 });
      const { successful: ok, failed } = sippCallCounts(r.stdout);
      assert.equal(ok + failed, CALLS, `every call ended: ${ok} completed, ${failed} refused`);
      assert.ok(ok > 0, "calls got through");
      await core.out.logged(/asking the clients that support RFC 7339 for less new work/);
      await edge.out.logged(/a server asks for less new work/);
      const page = (await httpGet("127.0.0.1", metricsPort, "/metrics")).body;
      const heldBack = sample(page, "evsip_tm_held_back_total") ?? 0;
      assert.ok(heldBack > 0, "the edge held calls back itself");
      assert.ok(heldBack <= failed, "each held-back call is one the caller saw refused");
      assert.equal(sample(page, "evsip_tm_timeouts_total"), 0, "no call waited out a timer: each got its answer");
    } finally {
      await kill9(edge.child);
      await kill9(core.child);
    }
  },
);
