// bench/RESULTS.md: the header every appended run starts with (date, commit, command, Node version,
// CPU model and core count), and the append itself. Shared by bench/run.ts and bench/load.ts.
import { appendFileSync, existsSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { dirname } from "node:path";
import { benchFile } from "./sipp-macro.js";

function git(args: string[]): string {
  try {
    return execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "unknown";
  }
}

/** The heading and facts of a new RESULTS.md section for a run started by `command`. */
export function resultsHeader(command: string): string {
  const cpu = cpus();
  const commit = git(["rev-parse", "--short", "HEAD"]);
  // RESULTS.md itself is left out: a run's own appends would mark every later run as modified.
  const dirty =
    git(["status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench/RESULTS.md"]) === ""
      ? ""
      : " (uncommitted changes)";
  let s = `\n## ${new Date().toISOString()} — ${commit}${dirty}\n\n`;
  s += `- command: \`${command}\`\n- node: ${process.version}\n- cpu: ${cpu[0]?.model.trim() ?? "unknown"} × ${cpu.length} cores\n`;
  s += `- load average at start: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(", ")} (what else the machine was running)\n`;
  const bin = process.env.EVSIP_LOAD_BIN;
  if (bin !== undefined && bin !== "") {
    const other = git(["-C", dirname(dirname(bin)), "rev-parse", "--short", "HEAD"]);
    s += `- evsip measured: \`${bin}\` at ${other} (EVSIP_LOAD_BIN), not this checkout\n`;
  }
  const cap = process.env.EVSIP_LOAD_CPU_CAP;
  if (cap !== undefined && cap !== "") s += `- router CPU capped: ${cap} (bench/cap-cpu.sh); the tool and peers are not\n`;
  return s + "\n";
}

/** Appends a section to bench/RESULTS.md, creating the file with its title when absent. */
export function appendResults(section: string): void {
  const results = benchFile("RESULTS.md");
  if (!existsSync(results)) {
    writeFileSync(results, "# Benchmark results\n\nAppended by `npm run bench` (bench/run.ts); newest last.\n");
  }
  appendFileSync(results, section);
}
