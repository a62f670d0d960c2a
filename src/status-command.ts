// `evsip status`: reads a running router's GET /status (the metrics endpoint, src/metrics/README.md)
// and prints it as a table an operator can read at a glance: the process, its listeners,
// transactions, SIP counts, then every module's stats (one row each; Maps as `name.label`; zeros
// left out unless --all).
import { request } from "node:http";
import { parseArgs } from "node:util";
import { formatHostPort, parseHostPort } from "./common/host-port.js";

export const STATUS_HELP = `evsip status [--addr HOST:PORT] [--all] [--json]
  Prints a running router's /status (its metrics endpoint, default 127.0.0.1:9090) as a table.
  --all   also the module stats that are 0;  --json  the raw JSON
`;

/** The parts of the /status body the table reads (src/metrics/status.ts), all optional: an older router may lack some. */
interface Status {
  readonly version?: string;
  readonly pid?: number;
  readonly node?: string;
  readonly startedAt?: string;
  readonly uptimeSeconds?: number;
  readonly listeners?: ReadonlyArray<{ proto?: string; host?: string; port?: number }>;
  readonly transactions?: Record<string, unknown>;
  readonly sip?: Record<string, unknown>;
  readonly modules?: Record<string, Record<string, unknown>>;
}

/** Fetches and prints; resolves with the exit code. */
export async function status(argv: readonly string[]): Promise<number> {
  let values: { addr: string; all: boolean; json: boolean };
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        addr: { type: "string", default: "127.0.0.1:9090" },
        all: { type: "boolean", default: false },
        json: { type: "boolean", default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    console.error(`evsip status: ${(err as Error).message}\n\n${STATUS_HELP}`);
    return 2;
  }
  const r = parseHostPort(values.addr, { defaultPort: 9090 });
  if (!r.ok) {
    console.error(`evsip status: --addr ${JSON.stringify(values.addr)}: ${r.detail}`);
    return 2;
  }
  let body: string;
  try {
    body = await get(r.addr.host, r.addr.port, "/status");
  } catch (err) {
    console.error(`evsip status: cannot read http://${values.addr}/status: ${(err as Error).message}`);
    return 1;
  }
  if (values.json) {
    process.stdout.write(body.endsWith("\n") ? body : `${body}\n`);
    return 0;
  }
  let s: Status;
  try {
    s = JSON.parse(body) as Status;
  } catch {
    console.error(`evsip status: http://${values.addr}/status did not answer JSON`);
    return 1;
  }
  process.stdout.write(formatStatus(s, values.all));
  return 0;
}

/** The table: one `section  name  value` row per line, columns aligned. */
export function formatStatus(s: Status, all: boolean): string {
  const rows: Array<[string, string, string]> = [];
  const up = s.uptimeSeconds ?? 0;
  rows.push(["evsip", "version", `${s.version ?? "?"} (pid ${s.pid ?? "?"}, node ${s.node ?? "?"})`]);
  rows.push(["", "up", `${duration(up)} since ${s.startedAt ?? "?"}`]);
  for (const l of s.listeners ?? []) rows.push(["listen", l.proto ?? "?", formatHostPort(l.host ?? "", l.port ?? 0)]);
  for (const [section, values] of [
    ["transactions", s.transactions],
    ["sip", s.sip],
  ] as const) {
    for (const [k, v] of Object.entries(values ?? {})) rows.push([section, k, String(v)]);
  }
  for (const [mod, stats] of Object.entries(s.modules ?? {})) {
    for (const [k, v] of Object.entries(stats)) {
      if (typeof v === "number") {
        if (all || v !== 0) rows.push([mod, k, String(v)]);
      } else if (typeof v === "object" && v !== null) {
        for (const [label, n] of Object.entries(v as Record<string, unknown>)) {
          if (all || n !== 0) rows.push([mod, `${k}.${label === "" ? '""' : label}`, String(n)]);
        }
      }
    }
  }
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  return rows.map(([a, b, c]) => `${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`.trimEnd()).join("\n") + "\n";
}

function duration(seconds: number): string {
  const t = Math.floor(seconds);
  const d = Math.floor(t / 86400);
  const h = Math.floor((t % 86400) / 3600);
  const m = Math.floor((t % 3600) / 60);
  const parts = [d > 0 ? `${d}d` : "", h > 0 ? `${h}h` : "", m > 0 ? `${m}m` : "", `${t % 60}s`];
  return parts.filter((p) => p !== "").join(" ");
}

function get(host: string, port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, agent: false, signal: AbortSignal.timeout(5000) }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}`))));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}
