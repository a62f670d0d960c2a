// --evsip-metrics (bench/load/evsip-metrics.ts): the tool scrapes a real evsip /metrics page and
// reads heap, external memory, GC pauses by kind and event-loop delay from it; a run's vitals are
// the difference of two scrapes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { pino } from "pino";
import { defineApp } from "../../src/app.js";
import { Server } from "../../src/server.js";
import { parsePrometheus, scrape, vitals } from "../../bench/load/evsip-metrics.js";

test("Prometheus text: comments skipped, labelled series kept whole", () => {
  const m = parsePrometheus('# HELP x y\n# TYPE x gauge\nx 1.5\nnodejs_gc_duration_seconds_sum{kind="minor"} 0.25\nbad line\n');
  assert.deepEqual(
    [...m],
    [
      ["x", 1.5],
      ['nodejs_gc_duration_seconds_sum{kind="minor"}', 0.25],
    ],
  );
});

test("two scrapes of a running evsip give its heap, external memory, GC by kind and loop delay", async () => {
  const app = defineApp({ metrics: { bindAddr: "127.0.0.1:0" }, request: (ctx) => ctx.exit() });
  const server = new Server(app, { listen: ["udp:127.0.0.1:0"], logger: pino({ level: "silent" }) });
  await server.start();
  try {
    const port = server.metricsAddress()?.port ?? 0;
    const before = await scrape(port);
    const v = vitals(before, await scrape(port));
    assert.ok(v.heapBeforeMb > 0 && v.heapAfterMb > 0, `heap ${v.heapBeforeMb} → ${v.heapAfterMb} MB`);
    assert.ok(v.externalAfterMb > 0);
    assert.deepEqual(
      v.gc.map((g) => g.kind),
      ["minor", "major", "incremental", "weakcb"],
    );
    assert.ok(v.gc.every((g) => g.count >= 0 && g.totalMs >= 0));
    assert.ok(v.loopLagMaxMs >= 0);
  } finally {
    await server.stop();
  }
});
