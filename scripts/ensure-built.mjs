// `npm start` on a fresh clone: install dependencies if missing, then build if dist is stale.
import { existsSync, statSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { execSync } from "node:child_process";

if (!existsSync("node_modules/typescript") || !existsSync("node_modules/pino") || !existsSync("node_modules/evsip-client")) {
  console.log("evsip: installing dependencies (npm ci)…");
  execSync(existsSync("package-lock.json") ? "npm ci" : "npm install", { stdio: "inherit" });
}
function newest(dir) {
  let t = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    t = Math.max(t, s.isDirectory() ? newest(p) : s.mtimeMs);
  }
  return t;
}
// The client package (packages/client, which the router imports as evsip-client) builds first.
const built = existsSync("dist/src/cli.js") ? statSync("dist/src/cli.js").mtimeMs : 0;
const clientBuilt = existsSync("packages/client/dist/index.js") ? statSync("packages/client/dist/index.js").mtimeMs : 0;
if (clientBuilt === 0 || newest("packages/client/src") > clientBuilt) {
  console.log("evsip: building evsip-client (tsc)…");
  execSync("npx tsc -p packages/client/tsconfig.json", { stdio: "inherit" });
}
if (built === 0 || newest("src") > built || newest("packages/client/src") > built) {
  console.log("evsip: building (tsc)…");
  execSync("npx tsc -p tsconfig.json", { stdio: "inherit" });
}
