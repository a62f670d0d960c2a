// Runs every compiled *.test.js under dist/test with node:test, as an explicit file list so helpers
// in test/support are never run as tests. Extra args filter by substring: `npm run test:only -- sip`.
// The run gets a temp dir of its own (TMPDIR, which os.tmpdir() and the peers read): whatever a
// test leaves there fails the run by name, then the dir is removed, so no run litters /tmp and
// runs in parallel (other checkouts) cannot blame each other.
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith(".test.js")) out.push(p);
  }
  return out;
}
const filters = process.argv.slice(2);
const files = walk("dist/test", [])
  .sort()
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error("no test files matched");
  process.exit(1);
}
const tmp = mkdtempSync(join(tmpdir(), "evsip-test-run-"));
let r;
try {
  r = spawnSync(process.execPath, ["--test", "--test-concurrency=2", "--test-timeout=120000", ...files], {
    stdio: "inherit",
    env: { ...process.env, TMPDIR: tmp },
  });
} finally {
  // Caches of the tools the tests run (tsx's compile cache) are theirs to keep, not litter.
  const left = readdirSync(tmp).filter((name) => !/^tsx-\d+$/.test(name));
  rmSync(tmp, { recursive: true, force: true });
  if (left.length > 0) {
    console.error(`tests left ${left.length} entr${left.length === 1 ? "y" : "ies"} in the temp dir: ${left.join(", ")}`);
    process.exitCode = 1;
  }
}
process.exit(process.exitCode || (r.status ?? 1));
