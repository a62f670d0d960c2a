// The load tool end to end at a trickle (bench/load/targets.ts with bench/load/uac.ts): each
// scenario's router, started as the tool starts it (evsip as a child process running its app file,
// Kamailio with its bench config), with its peer process, answers every request of a short run.
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import assert from "node:assert/strict";
import { kamailioSkipReason } from "../support/kamailio.js";
import { hasSipp, SKIP_NO_SIPP } from "../support/sipp.js";
import { runSippOn } from "../../bench/load/sipp-driver.js";
import { Schedule } from "../../bench/load/schedule.js";
import { startTarget, type RouterName, type Scenario, type Target } from "../../bench/load/targets.js";
import { runUac, type Flow } from "../../bench/load/uac.js";
import { startUas } from "../../bench/load/uas.js";

const FLOWS: Record<Scenario, Flow> = { relay: "options", async: "invite-local", rpc: "invite-local", proxy: "call" };

/** Events the relay clients counted, asked until `want` arrived (they may trail the 200s) or 5 s passed. */
async function eventsReceived(t: Target, want: number): Promise<number> {
  const end = Date.now() + 5000;
  for (;;) {
    const n = (await t.peer?.stats())?.counts.reduce((a, b) => a + b, 0) ?? 0;
    if (n >= want || Date.now() > end) return n;
    await new Promise<void>((r) => setTimeout(r, 20));
  }
}

async function trickle(router: RouterName, scenario: Scenario, edge?: "oc" | "plain"): Promise<void> {
  const uas = await startUas(65536);
  const opts = {
    clients: 2,
    uasPort: uas.port,
    kamailioChildren: 2,
    evsipNodeArgs: [],
    evsipMetrics: false,
    ...(edge ? { edge } : {}),
  };
  const t = await startTarget(router, scenario, opts).catch(async (e: unknown) => {
    await uas.close(); // or its socket keeps the test process alive after the failure
    throw e;
  });
  try {
    const cpu0 = t.cpuSeconds();
    const r = await runUac(new Schedule([{ rate: 200, seconds: 0.1 }]), {
      port: t.sipPort,
      flow: FLOWS[scenario],
      sockets: 1,
      rcvbuf: 65536,
      deadlineMs: 5000,
      runId: `T${scenario}`,
    });
    assert.deepEqual([...r.first.status], Array(20).fill(200), `${router} ${scenario}`);
    if (scenario === "proxy") assert.deepEqual([...r.bye.status], Array(20).fill(200));
    assert.ok(t.cpuSeconds() >= cpu0 && t.memoryKb() > 0);
    if (scenario === "relay") assert.equal(await eventsReceived(t, 40), 40, "20 events to each of 2 clients");
  } finally {
    await t.stop();
    await uas.close();
  }
}

for (const scenario of ["relay", "async", "rpc", "proxy"] as const) {
  test(`evsip as a child process, ${scenario} scenario: every request answered 200`, () => trickle("evsip", scenario));
}

for (const edge of ["oc", "plain"] as const) {
  test(`evsip behind an evsip edge (--edge ${edge}), proxy scenario: every call completed through both`, () =>
    trickle("evsip", "proxy", edge));
}

test(
  "Kamailio behind a Kamailio edge (--edge), proxy scenario: every call completed through both",
  { skip: kamailioSkipReason(["tm", "rr", "ctl"]) },
  () => trickle("kamailio", "proxy", "plain"),
);

test("the relay floor (bench/load/floor-relay.ts) in evsip's place: every OPTIONS answered 200, every event relayed", async () => {
  process.env.EVSIP_LOAD_BIN = fileURLToPath(new URL("../../bench/load/floor-relay.js", import.meta.url));
  try {
    await trickle("evsip", "relay");
  } finally {
    delete process.env.EVSIP_LOAD_BIN;
  }
});

test(
  "Kamailio with the async scenario's config: every request answered 200",
  { skip: kamailioSkipReason(["tm", "evapi", "jansson", "ctl"]) },
  () => trickle("kamailio", "async"),
);

/** The SIPp-driven run over one TCP connection (--driver sipp --sipp-transport t1), 100 async calls, cold. */
async function sippOverTcp(router: RouterName): Promise<void> {
  const opts = { clients: 1, uasPort: 0, kamailioChildren: 2, evsipNodeArgs: [], evsipMetrics: false, sipTcp: true };
  const t = await startTarget(router, "async", opts);
  try {
    const run = await runSippOn(t, "async", 100, 1, undefined, "t1");
    assert.deepEqual([run.stats.successful, run.stats.failed], [100, 0], `${router} over TCP`);
  } finally {
    await t.stop();
  }
}

test(
  "evsip under SIPp over TCP (--sipp-transport t1): every async call completed",
  { skip: hasSipp() ? false : SKIP_NO_SIPP },
  () => sippOverTcp("evsip"),
);

test(
  "Kamailio under SIPp over TCP with the async scenario's config (WITH_TCP): every call completed",
  { skip: hasSipp() ? kamailioSkipReason(["tm", "evapi", "jansson", "ctl"]) : SKIP_NO_SIPP },
  () => sippOverTcp("kamailio"),
);
