// `npm start` on a fresh clone: install dependencies if missing, then build if dist is stale.
import { existsSync, statSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { execSync } from "node:child_process";

if (!existsSync("node_modules/typescript") || !existsSync("node_modules/pino")) {
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
const built = existsSync("dist/src/cli.js") ? statSync("dist/src/cli.js").mtimeMs : 0;
if (built === 0 || newest("src") > built) {
  console.log("evsip: building (tsc)…");
  execSync("npx tsc -p tsconfig.json", { stdio: "inherit" });
}
