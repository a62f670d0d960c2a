// The examples of examples/client run as users run them (the compiled files, importing
// `evsip/client`, each in its own process). rate-guard and call-watch against examples/async-auth:
// the guard decides each `auth` event with client.decide() (two calls allowed, the third refused
// 403), while the listen-only watcher prints the events it selects and changes its selection from
// stdin (subscribeEvents): the call made while it watched `nothing*` never reaches it. batch-ledger
// against evsip's durable delivery: every event in its ledger once, acknowledged in batches.
// limit-feed against examples/call-limit: 100,000 limits sent at the router's pace (drain()), and
// against a peer that drops it mid-feed: a clear message with the count sent, exit code 1.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createServer, type AddressInfo } from "node:net";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AppDefinition } from "../../src/app.js";
import type { EvapiModule } from "../../src/modules/evapi/index.js";
import type { HtableModuleInstance } from "../../src/modules/htable/index.js";
import { childLines, type ChildLines } from "../support/child-lines.js";
import { hasSipp, runSipp, SKIP_NO_SIPP, startSipp } from "../support/sipp.js";
import { startRouter } from "../support/router.js";
import { startEvapi, TestClient } from "../support/evapi-harness.js";
import { waitFor } from "../support/wait-for.js";

const skip = hasSipp() ? false : SKIP_NO_SIPP;

/** A compiled example of examples/client in its own process, its stdin and stderr piped. */
function example(file: string, args: string[]): ChildLines & { child: ChildProcess } {
  const child = spawn(process.execPath, [`dist/examples/client/${file}`, ...args], { stdio: "pipe" });
  return { child, ...childLines(child) };
}

/** Stops an example that may already have exited; SIGKILL if SIGTERM has not ended it in 2 s. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const hung = setTimeout(() => child.kill("SIGKILL"), 2000);
  await exited;
  clearTimeout(hung);
}

/**
 * An example app imported with `env` set: it reads its environment when it is first imported (the
 * import is cached after that). The variables are put back as they were afterwards.
 */
async function exampleApp(path: string, env: Record<string, string>): Promise<AppDefinition> {
  const saved = Object.entries(env).map(([k]) => [k, process.env[k]] as const);
  Object.assign(process.env, env);
  try {
    return ((await import(path)) as { default: AppDefinition }).default;
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** The async-auth app as shipped, plus a route that counts its event connections. */
async function asyncAuthApp(upstreamPort: number, connections: number): Promise<{ app: AppDefinition; joined: Promise<void> }> {
  const shipped = await exampleApp("../../examples/async-auth/app.js", {
    AUTH_UPSTREAM: `sip:127.0.0.1:${upstreamPort}`,
    EVAPI_BIND_ADDR: "127.0.0.1:0",
  });
  let n = 0;
  let allIn!: () => void;
  const joined = new Promise<void>((resolve) => (allIn = resolve));
  const app: AppDefinition = {
    ...shipped,
    events: { ...shipped.events, "evapi:connection-new": () => void (++n === connections && allIn()) },
  };
  return { app, joined };
}

test(
  "client examples: rate-guard decides with decide(), call-watch listens and re-subscribes",
  { skip, timeout: 40_000 },
  async () => {
    const uas = await startSipp({ scenario: "uas-answer-rr.xml", calls: 2, timeoutSec: 30 });
    let router: Awaited<ReturnType<typeof startRouter>> | undefined;
    const examples: ReturnType<typeof example>[] = [];
    try {
      const { app, joined } = await asyncAuthApp(uas.port, 2);
      const r = (router = await startRouter(app, ["udp:127.0.0.1:0"]));
      const port = String((r.internals.modules.get("evapi") as EvapiModule).address().port);
      const guard = example("rate-guard.js", [port, "2"]);
      const watch = example("call-watch.js", [port, "auth"]);
      examples.push(guard, watch);
      /** One SIPp call from user "sipp" to bob; resolves once the guard said what it decided. */
      const call = async (scenario: string, guardSays: RegExp): Promise<void> => {
        const said = guard.next(guardSays);
        const c = await runSipp({ scenario, target: r.target("udp"), service: "bob", timeoutSec: 10 });
        assert.equal(c.code, 0, c.stderr || c.stdout.slice(-2000));
        await said;
      };
      await uas.ready;
      await Promise.all([joined, watch.logged(/^watching auth$/)]);
      const seen1 = watch.next(/ auth /);
      await call("uac-call-rr.xml", /^allow sipp: call 1$/);
      assert.match(await seen1, / auth \S+ sip:sipp@127\.0\.0\.1:\d+ -> sip:bob@/);

      const narrowed = watch.next(/^watching nothing\*$/);
      watch.child.stdin?.write("nothing*\n");
      await narrowed;
      await call("uac-call-rr.xml", /^allow sipp: call 2$/);

      const widened = watch.next(/^watching auth$/);
      watch.child.stdin?.write("auth\n");
      await widened;
      const seen3 = watch.next(/ auth /);
      await call("uac-invite-403.xml", /^refuse sipp: call 3 within a minute$/);
      await seen3;
      assert.equal((await uas.done).code, 0);
      // Events on one connection arrive in order: the second call's event, had it been sent to the
      // watcher, would have come before the third's.
      assert.equal(watch.lines.filter((l) => / auth /.test(l)).length, 2, watch.lines.join("\n"));
    } finally {
      for (const e of examples) await stop(e.child);
      await uas.stop();
      await router?.stop();
    }
  },
);

test("client examples: batch-ledger writes every event once and acknowledges them in batches (ack: manual)", async () => {
  const h = await startEvapi({ durableConsumers: ["billing"] });
  const dir = mkdtempSync(join(tmpdir(), "evsip-batch-ledger-"));
  const ledger = example("batch-ledger.js", [String(h.port), dir]);
  try {
    await ledger.logged(/^subscribed, next id 1$/);
    for (let n = 1; n <= 250; n++) h.ctx("event").evapi.relay({ event: "call-end", n });
    // Batches of up to 100, the rest at the next one-second flush (which may also cut a batch short).
    await ledger.next(/^acked 250$/);
    const acks = ledger.lines.filter((l) => l.startsWith("acked ")).map((l) => Number(l.slice(6)));
    assert.ok(acks.length >= 3 && acks.length <= 6, `a few acks for 250 events, not one each: ${acks.join(" ")}`);
    assert.deepEqual(
      acks,
      [...acks].sort((a, b) => a - b),
      "cumulative acks only grow",
    );
    const ids = readFileSync(join(dir, "billing.ledger"), "utf8")
      .trim()
      .split("\n")
      .map((l) => Number(l.split(" ")[0]));
    assert.deepEqual(
      ids,
      Array.from({ length: 250 }, (_, i) => i + 1),
    );
    // The router lets go of what was acknowledged.
    const pending = (): number => (h.mod.stats().pendingByConsumer as Map<string, number>).get("billing") ?? -1;
    await waitFor(() => pending() === 0);
  } finally {
    await stop(ledger.child);
    await h.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test(
  "client examples: limit-feed pushes 100,000 limits to call-limit, waiting on drain() when its socket is full; what the feed gets wrong is refused",
  { skip, timeout: 60_000 },
  async () => {
    const app = await exampleApp("../../examples/call-limit/app.js", {
      EVAPI_BIND_ADDR: "127.0.0.1:0",
      CALL_LIMIT_MAX_DOMAINS: "100003", // the one set at start and the 100,002 the feed sends
    });
    const r = await startRouter(app, ["udp:127.0.0.1:0"]);
    const port = (r.internals.modules.get("evapi") as EvapiModule).address().port;
    const feed = example("limit-feed.js", [String(port)]);
    let stderr = "";
    feed.child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = once(feed.child, "exit") as Promise<[number | null]>;
    let raw: TestClient | undefined;
    try {
      const done = feed.next(/^sent \d+ limits/);
      const lines: string[] = [];
      for (let i = 0; i < 100_000; i++) lines.push(`d${i}.example ${i % 7}`);
      lines.push("not a limit line", "Blocked.Example 0", "10.20.30.40 0", "");
      feed.child.stdin?.end(lines.join("\n"));
      const summary = await done;
      const m = /^sent (\d+) limits \((\d+) bad lines\), waited for the router (\d+) times$/.exec(summary);
      assert.ok(m, summary);
      assert.deepEqual([Number(m[1]), Number(m[2])], [100_002, 1]);
      assert.ok(Number(m[3]) > 0, "send() said wait, and the feed awaited drain()");
      const [code] = await exited;
      assert.equal(code, 0, stderr);
      const table = (r.internals.modules.get("htable") as HtableModuleInstance).tables.get("a");
      // The feed's messages are handled in order: its last one in the table means all of them are.
      await waitFor(() => table?.get("max-calls-to::10.20.30.40") === 0, 20_000);
      assert.equal(table?.size, 100_003, "every limit arrived, and the one set at start is there");
      assert.equal(table?.get("max-calls-to::d99999.example"), 99_999 % 7);
      assert.equal(table?.get("max-calls-to::blocked.example"), 0, "domains are kept in lower case");

      // A feed that gets it wrong: a bad value and a domain past CALL_LIMIT_MAX_DOMAINS are refused;
      // a change to a known domain is not. One connection, so handled in this order.
      const bad = (raw = await TestClient.open(port));
      for (const text of ['{"limit":"x.example","max":-1}', '{"limit":"y.example","max":1}', '{"limit":"d5.example","max":42}']) {
        bad.send(`${Buffer.byteLength(text)}:${text},`);
      }
      await waitFor(() => table?.get("max-calls-to::d5.example") === 42, 5000);
      assert.equal(table?.get("max-calls-to::x.example"), undefined);
      assert.equal(table?.get("max-calls-to::y.example"), undefined, "no domain past the cap");
      assert.equal(table?.size, 100_003);

      for (const rd of ["10.20.30.40", "blocked.EXAMPLE"]) {
        const refused = await runSipp({ scenario: "uac-invite-rd-500.xml", target: r.target("udp"), keys: { rd } });
        assert.equal(refused.code, 0, `${rd}: ${refused.stderr || refused.stdout.slice(-2000)}`);
      }
    } finally {
      raw?.destroy();
      await stop(feed.child);
      await r.stop();
    }
  },
);

test("client examples: limit-feed whose router goes away mid-feed stops with the count sent and exit code 1", async () => {
  // A router stand-in that takes the connection and drops it at the first bytes.
  const server = createServer((s) => s.once("data", () => s.destroy()));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const feed = example("limit-feed.js", [String((server.address() as AddressInfo).port)]);
  let stderr = "";
  feed.child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = once(feed.child, "exit") as Promise<[number | null]>;
  try {
    const lines: string[] = [];
    for (let i = 0; i < 300_000; i++) lines.push(`d${i}.example 1`);
    feed.child.stdin?.on("error", () => undefined); // the feed may exit before it read all of stdin
    feed.child.stdin?.end(lines.join("\n"));
    const [code] = await exited;
    assert.equal(code, 1, stderr);
    const m = /feed stopped after (\d+) limits: ERR_CLIENT_\w+/.exec(stderr);
    assert.ok(m, stderr);
    assert.ok(Number(m[1]) < 300_000, "it stopped before the end of its input");
  } finally {
    await stop(feed.child);
    server.close();
  }
});
