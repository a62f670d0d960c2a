// Benchmark runner: imports every dist/bench/*.bench.js, runs each BenchCase with tinybench
// (bounded to ~500 ms per case) and each exported macro(), prints a table and appends it to
// bench/RESULTS.md with the date, commit, command, Node version, CPU model and core count.
// Usage: `npm run bench` or `node dist/bench/run.js [substring…]` to run matching cases only.
import { readdirSync, appendFileSync, existsSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { execFileSync } from "node:child_process";
import { cpus } from "node:os";
import { Bench } from "tinybench";
import type { BenchCase, MacroRow } from "./types.js";

interface BenchModule {
  benches?: BenchCase[];
  macro?: () => Promise<MacroRow[]>;
}

interface Row {
  name: string;
  opsPerSec: number;
  p75us: number;
  p99us: number;
  mbPerSec: number | undefined;
  samples: number;
}

const here = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const matches = (name: string): boolean => filters.length === 0 || filters.some((f) => name.includes(f));

function git(args: string[]): string {
  try {
    return execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "unknown";
  }
}

async function runCase(c: BenchCase): Promise<Row> {
  if (c.setup !== undefined) await c.setup();
  const bench = new Bench({ time: 500, warmupTime: 100, throws: true });
  bench.add(c.name, c.fn);
  await bench.run();
  const r = bench.tasks[0]?.result;
  if (r === undefined || (r.state !== "completed" && r.state !== "aborted-with-statistics")) {
    throw new Error(`bench ${c.name} did not complete: ${r?.state ?? "no result"}`);
  }
  const ops = r.throughput.mean;
  return {
    name: c.name,
    opsPerSec: ops,
    p75us: r.latency.p75 * 1000,
    p99us: r.latency.p99 * 1000,
    mbPerSec: c.bytesPerOp === undefined ? undefined : (ops * c.bytesPerOp) / 1e6,
    samples: r.latency.samplesCount,
  };
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function microTable(rows: Row[]): string {
  let s = "| case | ops/s | p75 (µs) | p99 (µs) | MB/s | samples |\n|---|---:|---:|---:|---:|---:|\n";
  for (const r of rows) {
    s += `| ${r.name} | ${fmt(r.opsPerSec)} | ${fmt(r.p75us, 2)} | ${fmt(r.p99us, 2)} | ${r.mbPerSec === undefined ? "" : fmt(r.mbPerSec, 1)} | ${r.samples} |\n`;
  }
  return s;
}

function macroTable(rows: MacroRow[]): string {
  let s = "| run | metric | value | unit | note |\n|---|---|---:|---|---|\n";
  for (const r of rows) s += `| ${r.name} | ${r.metric} | ${fmt(r.value, 2)} | ${r.unit} | ${r.note ?? ""} |\n`;
  return s;
}

async function main(): Promise<void> {
  const files = readdirSync(here)
    .filter((f) => f.endsWith(".bench.js"))
    .sort();
  const micro: Row[] = [];
  const macro: MacroRow[] = [];
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(here, f)).href)) as BenchModule;
    for (const c of mod.benches ?? []) {
      if (!matches(c.name) && !matches(f)) continue;
      const row = await runCase(c);
      micro.push(row);
      console.log(`${row.name}: ${fmt(row.opsPerSec)} ops/s, p99 ${fmt(row.p99us, 2)} µs`);
    }
    if (mod.macro !== undefined && (matches(f) || filters.length === 0)) macro.push(...(await mod.macro()));
  }
  const cpu = cpus();
  const commit = git(["rev-parse", "--short", "HEAD"]);
  const dirty = git(["status", "--porcelain", "--untracked-files=no"]) === "" ? "" : " (uncommitted changes)";
  const direct = `node dist/bench/run.js${filters.length > 0 ? ` ${filters.join(" ")}` : ""}`;
  const command = process.env.npm_lifecycle_event === "bench" ? `npm run bench (${direct})` : direct;
  let section = `\n## ${new Date().toISOString()} — ${commit}${dirty}\n\n`;
  section += `- command: \`${command}\`\n- node: ${process.version}\n- cpu: ${cpu[0]?.model.trim() ?? "unknown"} × ${cpu.length} cores\n\n`;
  if (micro.length > 0) section += microTable(micro);
  if (macro.length > 0) section += `\n${macroTable(macro)}`;
  console.log(section);
  const results = resolve(here, "../../bench/RESULTS.md");
  if (!existsSync(results)) {
    writeFileSync(results, "# Benchmark results\n\nAppended by `npm run bench` (bench/run.ts); newest last.\n");
  }
  appendFileSync(results, section);
}

await main();
