// At-least-once across a real `kill -9` of the consumer: a process built on evsip/client with a
// file-backed last-acked id is killed mid-stream, events go on while it is away, it restarts and
// resumes; the union of its ledger covers every event exactly once after dropping duplicates by id.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { childLines } from "../support/child-lines.js";
import { waitFor } from "../support/wait-for.js";
import { startEvapi } from "../support/evapi-harness.js";

const FIXTURE = fileURLToPath(new URL("../fixtures/durable-consumer.js", import.meta.url));

/** A consumer process, the lines it printed, and a wait for one. */
function startConsumer(port: number, dir: string, stallAfter: number, label: string) {
  const child = spawn(
    process.execPath,
    [FIXTURE, String(port), join(dir, "offset"), join(dir, "ledger"), String(stallAfter), label],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const out = childLines(child);
  return {
    child,
    logged: out.logged,
    get processed() {
      return out.lines.filter((l) => l.startsWith("processed ")).length;
    },
  };
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGKILL");
  await exited;
}

test("durable + kill -9 of the consumer: every event handled, exactly once after dropping duplicates by id", async () => {
  const h = await startEvapi({ durableConsumers: ["billing"] });
  const dir = mkdtempSync(join(tmpdir(), "evsip-durable-"));
  const relay = (n: number): number => h.ctx("event").evapi.relay({ n });
  let first: ReturnType<typeof startConsumer> | undefined;
  let second: ReturnType<typeof startConsumer> | undefined;
  try {
    // Stalls on the 101st event: the kill lands mid-stream whatever the machine's speed.
    first = startConsumer(h.port, dir, 100, "first");
    await first.logged(/^subscribed /);
    for (let n = 1; n <= 200; n++) relay(n);
    await first.logged(/^processed 100$/);
    await kill(first.child); // mid-stream: about 100 events still to handle, some handled but not yet saved
    assert.ok(first.processed < 200, `killed mid-stream (${first.processed} handled)`);
    for (let n = 201; n <= 300; n++) assert.equal(relay(n), 1, "retained while the consumer is away");

    second = startConsumer(h.port, dir, 0, "second");
    await second.logged(/^processed 300$/);
    for (let n = 301; n <= 350; n++) relay(n);
    await second.logged(/^processed 350$/);

    const ledger = readFileSync(join(dir, "ledger"), "utf8")
      .trim()
      .split("\n")
      .map((l) => l.split(" "))
      .map(([run, id, n]) => ({ run, id: Number(id), n: Number(n) }));
    for (const e of ledger) assert.equal(e.n, e.id, "each id carries its own event");
    const unique = [...new Set(ledger.map((e) => e.id))].sort((a, b) => a - b);
    assert.deepEqual(
      unique,
      Array.from({ length: 350 }, (_, i) => i + 1),
      "every event, none missing",
    );
    for (const run of ["first", "second"]) {
      const ids = ledger.filter((e) => e.run === run).map((e) => e.id);
      assert.ok(
        ids.every((id, i) => i === 0 || id === (ids[i - 1] as number) + 1),
        `${run} run: consecutive ids, in order, no duplicate within a run`,
      );
    }
    // Duplicates are only the events handled by the first run after its last save (their acks never left).
    const firstIds = new Set(ledger.filter((e) => e.run === "first").map((e) => e.id));
    const resumedAt = ledger.find((e) => e.run === "second")?.id ?? 0;
    assert.ok(ledger.length - unique.length === [...firstIds].filter((id) => id >= resumedAt).length);
    // The router released everything: the last ack arrived.
    await waitFor(() => h.mod.service.stats.durableAcked >= 350, 5000);
  } finally {
    if (first) await kill(first.child);
    if (second) await kill(second.child);
    await h.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
