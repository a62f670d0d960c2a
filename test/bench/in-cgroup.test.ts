// bench/cap-cpu.sh caps a router by starting it through inCgroup(): a shell that writes its own pid
// to the cgroup's procs file, then execs the router under that same pid. Checked with a plain file
// standing in for cgroup.procs: the pid written is the child's, and the exec'd command runs as it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inCgroup } from "../support/in-cgroup.js";

function withProcs<T>(value: string | undefined, run: () => T): T {
  const before = process.env.EVSIP_CGROUP_PROCS;
  if (value === undefined) delete process.env.EVSIP_CGROUP_PROCS;
  else process.env.EVSIP_CGROUP_PROCS = value;
  try {
    return run();
  } finally {
    if (before === undefined) delete process.env.EVSIP_CGROUP_PROCS;
    else process.env.EVSIP_CGROUP_PROCS = before;
  }
}

test("without EVSIP_CGROUP_PROCS the command is spawned as given", () => {
  assert.deepEqual(
    withProcs(undefined, () => inCgroup("/usr/bin/env", ["a b", "$HOME"])),
    ["/usr/bin/env", ["a b", "$HOME"]],
  );
});

test("with it, the child writes its own pid there and then runs the command under that pid, its arguments untouched", async () => {
  const dir = mkdtempSync(join(tmpdir(), "evsip-in-cgroup-"));
  try {
    const procs = join(dir, "cgroup.procs");
    // The command prints its own pid, what the procs file held when it began, and its arguments,
    // one per line: a space and a $ stay as given.
    const script =
      "const fs = require('node:fs'); console.log([process.pid, fs.readFileSync(process.argv[1], 'utf8').trim(), ...process.argv.slice(2)].join('\\n'))";
    const [cmd, args] = withProcs(procs, () => inCgroup(process.execPath, ["-e", script, procs, "a b", "$HOME"]));
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const [code] = await once(child, "exit");
    assert.equal(code, 0);
    const [pid, inProcs, ...argv] = out.trim().split("\n");
    assert.equal(pid, String(child.pid), "exec kept the pid spawn() returned");
    assert.equal(inProcs, String(child.pid), "that pid was in the file before the command ran");
    assert.equal(readFileSync(procs, "utf8").trim(), String(child.pid));
    assert.deepEqual(argv, ["a b", "$HOME"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
