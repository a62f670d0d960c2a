// `npm start` on a fresh clone or after a pull: install dependencies when they are missing or
// package-lock.json changed since the last install, then build when dist is older than src.
// `--deps-only` (npm test's pretest) installs and stops there: the test script builds anyway.
import { existsSync, statSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { execSync } from "node:child_process";

/** Modification time of `p` in ms, 0 when it does not exist. */
function mtime(p) {
  return existsSync(p) ? statSync(p).mtimeMs : 0;
}
/** The newest modification time of any file under `dir`. */
function newest(dir) {
  let t = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    t = Math.max(t, s.isDirectory() ? newest(p) : s.mtimeMs);
  }
  return t;
}

/** Why the dependencies must be installed again, or undefined when node_modules is current. */
function installReason() {
  if (!existsSync("node_modules/typescript") || !existsSync("node_modules/pino") || !existsSync("node_modules/evsip-client")) {
    return "dependencies missing";
  }
  // npm writes node_modules/.package-lock.json at the end of every install, after package-lock.json,
  // so a lockfile newer than it was changed since (a pull, a checkout, an edit).
  if (mtime("package-lock.json") > mtime("node_modules/.package-lock.json")) return "package-lock.json changed";
  return undefined;
}

const reason = installReason();
if (reason !== undefined) {
  const cmd = existsSync("package-lock.json") ? "npm ci" : "npm install";
  console.log(`evsip: ${reason}, installing (${cmd})…`);
  execSync(cmd, { stdio: "inherit" });
}
if (process.argv.includes("--deps-only")) process.exit(0);
// The client package (packages/client, which the router imports as evsip-client) builds first.
const built = mtime("dist/src/cli.js");
const clientBuilt = mtime("packages/client/dist/index.js");
if (reason !== undefined || clientBuilt === 0 || newest("packages/client/src") > clientBuilt) {
  console.log("evsip: building evsip-client (tsc)…");
  execSync("npx tsc -p packages/client/tsconfig.json", { stdio: "inherit" });
}
if (reason !== undefined || built === 0 || newest("src") > built || newest("packages/client/src") > built) {
  console.log("evsip: building (tsc)…");
  execSync("npx tsc -p tsconfig.json", { stdio: "inherit" });
}
