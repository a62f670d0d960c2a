// Summarises a sampling heap profile (scripts/alloc-sample.mjs) by bytes allocated per function,
// divided by the number of calls the run made, so the rows read as bytes per call.
// Usage: node scripts/heapprofile-top.mjs <file.heapprofile> [calls=1] [N=25]
import { readFileSync } from "node:fs";

const [file, callsArg, nArg] = process.argv.slice(2);
if (file === undefined) {
  console.error("usage: node scripts/heapprofile-top.mjs <file.heapprofile> [calls] [N]");
  process.exit(2);
}
const calls = Number(callsArg ?? 1);
const n = Number(nArg ?? 25);
const profile = JSON.parse(readFileSync(file, "utf8"));
const bySite = new Map();
let total = 0;

/** Adds every node's self size under "function file:line", depth first. */
function walk(node) {
  const f = node.callFrame;
  const site = `${f.functionName || "(anonymous)"}  ${f.url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, "$1/")}:${f.lineNumber + 1}`;
  bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
  total += node.selfSize;
  for (const child of node.children) walk(child);
}
walk(profile.head);
console.log(`allocated ${(total / 1e6).toFixed(1)} MB, ${Math.round(total / calls)} B per call (${calls} calls)\n`);
const rows = [...bySite].sort((a, b) => b[1] - a[1]).slice(0, n);
for (const [site, bytes] of rows) console.log(`${String(Math.round(bytes / calls)).padStart(8)} B  ${site}`);
