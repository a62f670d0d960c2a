// atTurnEnd: one end-of-turn pass, writes to peers before what waits on nothing, work queued during
// the pass run in it, and a throwing callback does not strand the rest (checked in a real process).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { atTurnEnd } from "../../src/common/turn-end.js";

test("the peers round runs before the after round, whatever the order they were queued in", async () => {
  const seen: string[] = [];
  const done = new Promise<void>((resolve) => {
    atTurnEnd(() => seen.push("after-1"), "after");
    atTurnEnd(() => seen.push("peers-1"));
    atTurnEnd(() => {
      seen.push("after-2");
      resolve();
    }, "after");
    atTurnEnd(() => seen.push("peers-2"), "peers");
    seen.push("sync");
  });
  await done;
  assert.deepEqual(seen, ["sync", "peers-1", "peers-2", "after-1", "after-2"]);
});

test("work queued during the pass runs in that pass, peers first again", async () => {
  const seen: string[] = [];
  let immediate = false;
  await new Promise<void>((resolve) => {
    atTurnEnd(() => {
      seen.push("after");
      atTurnEnd(() => seen.push(`late-after immediate=${immediate}`), "after");
      atTurnEnd(() => seen.push(`late-peers immediate=${immediate}`));
    }, "after");
    atTurnEnd(() => setImmediate(() => ((immediate = true), resolve())));
  });
  assert.deepEqual(seen, ["after", "late-peers immediate=false", "late-after immediate=false"]);
});

test("a round that queues into itself runs the new work after what it held, and the next turn starts clean", async () => {
  const seen: string[] = [];
  await new Promise<void>((resolve) => {
    atTurnEnd(() => {
      seen.push("p1");
      atTurnEnd(() => seen.push("p3 (queued by p1)"));
    });
    atTurnEnd(() => seen.push("p2"));
    atTurnEnd(() => resolve(), "after");
  });
  await new Promise<void>((resolve) => {
    atTurnEnd(() => seen.push("next turn"));
    atTurnEnd(() => resolve(), "after");
  });
  assert.deepEqual(seen, ["p1", "p2", "p3 (queued by p1)", "next turn"]);
});

test("a throwing callback is reported as uncaught, and the rest of the turn still runs", async () => {
  const mod = fileURLToPath(new URL("../../src/common/turn-end.js", import.meta.url));
  const code = `import { atTurnEnd } from ${JSON.stringify(mod)};
atTurnEnd(() => { throw new Error("flush failed"); });
atTurnEnd(() => console.log("second ran"));
atTurnEnd(() => console.log("after ran"), "after");`;
  const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(process.execPath, ["--input-type=module", "-e", code], (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? null), stdout, stderr }),
    );
    child.stdin?.end();
  });
  assert.equal(r.stdout, "second ran\nafter ran\n");
  assert.match(r.stderr, /flush failed/);
  assert.equal(r.code, 1);
});
