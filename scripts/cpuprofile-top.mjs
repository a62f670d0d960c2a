// Summarises a V8 .cpuprofile (from `node --cpu-prof`) by self time per function, and by file:
// the top N rows with their share of all samples. Used with bench/profile-sipp.ts to find hot spots.
// Usage: node scripts/cpuprofile-top.mjs <file.cpuprofile> [N=25]
import { readFileSync } from "node:fs";

const [file, nArg] = process.argv.slice(2);
if (file === undefined) {
  console.error("usage: node scripts/cpuprofile-top.mjs <file.cpuprofile> [N]");
  process.exit(2);
}
const n = Number(nArg ?? 25);
const prof = JSON.parse(readFileSync(file, "utf8"));
const byId = new Map(prof.nodes.map((node) => [node.id, node]));
const selfUs = new Map();
let total = 0;
prof.samples.forEach((id, i) => {
  const dt = prof.timeDeltas[i] ?? 0;
  selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
  total += dt;
});

/** Adds `us` to `key` in `m`. */
function add(m, key, us) {
  m.set(key, (m.get(key) ?? 0) + us);
}
const byFn = new Map();
const byFile = new Map();
for (const [id, us] of selfUs) {
  const cf = byId.get(id).callFrame;
  const url = cf.url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, "$1/");
  add(byFn, `${cf.functionName || "(anonymous)"}  ${url}:${cf.lineNumber + 1}`, us);
  add(byFile, url || `(${cf.functionName})`, us);
}
const idle = [...byFn].filter(([k]) => k.startsWith("(idle)")).reduce((s, [, v]) => s + v, 0);
const busy = total - idle;

/** Prints the top rows of `m` as a share of busy (non-idle) time. */
function print(title, m) {
  console.log(`\n${title} (busy ${(busy / 1e3).toFixed(0)} ms of ${(total / 1e3).toFixed(0)} ms)`);
  const rows = [...m]
    .filter(([k]) => !k.startsWith("(idle)"))
    .sort((a, b) => b[1] - a[1])
    .slice(0, n);
  for (const [k, us] of rows)
    console.log(`${((100 * us) / busy).toFixed(1).padStart(5)}%  ${(us / 1e3).toFixed(0).padStart(6)} ms  ${k}`);
}
print("self time by function", byFn);
print("self time by file", byFile);
