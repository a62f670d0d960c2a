// examples/client/rate-guard and examples/client/call-watch run as users run them (the compiled
// files, importing `evsip/client`, each in its own process) against examples/async-auth: the guard
// decides each `auth` event with client.decide() (two calls allowed, the third refused 403), while
// the listen-only watcher prints the events it selects and changes its selection from stdin
// (subscribeEvents): the call made while it watched `nothing*` never reaches it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import type { AppDefinition } from "../../src/app.js";
import type { EvapiModule } from "../../src/modules/evapi/index.js";
import { hasSipp, runSipp, SKIP_NO_SIPP, startSipp } from "../support/sipp.js";
import { startRouter } from "../support/router.js";

const skip = hasSipp() ? false : SKIP_NO_SIPP;

/** A compiled example in its own process; `next(re)` resolves with its first stdout line matching re from now on. */
function example(
  file: string,
  args: string[],
): { child: ChildProcessWithoutNullStreams; lines: string[]; next(re: RegExp): Promise<string> } {
  const child = spawn(process.execPath, [`dist/examples/client/${file}`, ...args], { stdio: "pipe" });
  const lines: string[] = [];
  const waiting: { re: RegExp; resolve: (l: string) => void }[] = [];
  createInterface({ input: child.stdout }).on("line", (l) => {
    lines.push(l);
    for (const w of [...waiting]) {
      if (w.re.test(l)) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve(l);
      }
    }
  });
  return {
    child,
    lines,
    next: (re) => new Promise((resolve) => waiting.push({ re, resolve })),
  };
}

test(
  "client examples: rate-guard decides with decide(), call-watch listens and re-subscribes",
  { skip, timeout: 40_000 },
  async () => {
    const uas = await startSipp({ scenario: "uas-answer-rr.xml", calls: 2, timeoutSec: 30 });
    await uas.ready;
    process.env.AUTH_UPSTREAM = `sip:127.0.0.1:${uas.port}`;
    process.env.EVAPI_BIND_ADDR = "127.0.0.1:0";
    const { default: shipped } = (await import("../../examples/async-auth/app.js")) as unknown as { default: AppDefinition };
    let joined = 0;
    let bothIn!: () => void;
    const clientsIn = new Promise<void>((resolve) => (bothIn = resolve));
    const app: AppDefinition = {
      ...shipped,
      events: { ...shipped.events, "evapi:connection-new": () => void (++joined === 2 && bothIn()) },
    };
    const r = await startRouter(app, ["udp:127.0.0.1:0"]);
    const port = String((r.internals.modules.get("evapi") as EvapiModule).address().port);
    const guard = example("rate-guard.js", [port, "2"]);
    const watch = example("call-watch.js", [port, "auth"]);
    const call = async (scenario: string): Promise<void> => {
      const c = await runSipp({ scenario, target: r.target("udp"), service: "bob", timeoutSec: 10 });
      assert.equal(c.code, 0, c.stderr || c.stdout.slice(-2000));
    };
    try {
      await Promise.all([clientsIn, watch.next(/^watching auth$/)]);
      const seen1 = watch.next(/ auth /);
      await call("uac-call-rr.xml");
      assert.match(await seen1, / auth \S+ sip:sipp@127\.0\.0\.1:\d+ -> sip:bob@/);
      assert.ok(guard.lines.includes("allow sipp: call 1"), guard.lines.join("\n"));

      const narrowed = watch.next(/^watching nothing\*$/);
      watch.child.stdin.write("nothing*\n");
      await narrowed;
      await call("uac-call-rr.xml");
      assert.ok(guard.lines.includes("allow sipp: call 2"), guard.lines.join("\n"));

      const widened = watch.next(/^watching auth$/);
      watch.child.stdin.write("auth\n");
      await widened;
      const seen3 = watch.next(/ auth /);
      await call("uac-invite-403.xml");
      await seen3;
      assert.ok(guard.lines.includes("refuse sipp: call 3 within a minute"), guard.lines.join("\n"));
      assert.equal((await uas.done).code, 0);
      // Events on one connection arrive in order: the second call's event, had it been sent to the
      // watcher, would have come before the third's.
      assert.equal(watch.lines.filter((l) => / auth /.test(l)).length, 2, watch.lines.join("\n"));
    } finally {
      for (const p of [guard.child, watch.child]) {
        const exited = once(p, "exit");
        p.kill("SIGTERM");
        await exited;
      }
      await uas.stop();
      await r.stop();
    }
  },
);
