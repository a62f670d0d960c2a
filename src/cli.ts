// The `evsip` command: run an app, check an app's params, print version/help. A .ts app loads on
// Node 20 through tsx's programmatic import; .js/.mjs apps load as they are.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs as parseCommandLine } from "node:util";
import { ConfigError, EvsipError } from "./errors.js";
import type { AnyAppDefinition, ServerParams } from "./app.js";
import { LOG_LEVELS, validateApp } from "./params.js";
import { Server } from "./server.js";
import { tap, TAP_HELP } from "./tap-command.js";
import { status, STATUS_HELP } from "./status-command.js";

const HELP = `evsip — a programmable SIP router with a Kamailio-compatible event API

Usage:
  evsip run <app.ts|app.js|kamailio.cfg> [-l|--listen udp:IP:PORT ...] [--log-level LEVEL] [-A|--define NAME=VALUE ...]
  evsip check <app.ts|app.js|kamailio.cfg> [same options]   load the app and validate every param
                                  (a .cfg is a Kamailio config: docs/kamailio-cfg.md; -A defines as kamailio -A)
  evsip tap [options]             print a running router's events live (evsip tap --help)
  evsip status [options]          print a running router's /status as a table (evsip status --help)
  evsip --version
  evsip --help
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

/** Imports an app file and returns its default export. */
export async function loadApp(file: string): Promise<AnyAppDefinition> {
  const url = pathToFileURL(resolve(file)).href;
  let mod: { default?: unknown };
  try {
    if (/\.(c|m)?tsx?$/.test(file)) {
      const { tsImport } = await import("tsx/esm/api");
      mod = (await tsImport(url, import.meta.url)) as { default?: unknown };
    } else {
      mod = (await import(url)) as { default?: unknown };
    }
  } catch (err) {
    throw new EvsipError("ERR_APP_LOAD", `cannot load ${file}: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
  // tsx may wrap a CommonJS-looking default twice.
  let app = mod.default;
  if (app && typeof app === "object" && "default" in app && !("request" in app)) app = app.default;
  if (!app || typeof app !== "object")
    throw new EvsipError("ERR_APP_LOAD", `${file} has no default export (export default defineApp({...}))`);
  return app;
}

interface Args {
  cmd: string | undefined;
  file: string | undefined;
  listen: string[];
  logLevel: string | undefined;
  /** Kamailio's -A NAME=VALUE, for a .cfg. */
  defines: Map<string, string>;
}

/**
 * The command line of run and check, strictly: an option evsip does not know, a missing value or a
 * third word is an error, not silently left out (a dropped `--listen` would bind the app's own
 * address instead). `--opt=value` works as `--opt value`.
 */
function parseArgs(argv: readonly string[]): Args {
  const { values, positionals } = parseCommandLine({
    args: [...argv],
    strict: true,
    allowPositionals: true,
    options: {
      listen: { type: "string", short: "l", multiple: true },
      "log-level": { type: "string" },
      define: { type: "string", short: "A", multiple: true },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean", short: "v" },
    },
  });
  if (positionals.length > 2) throw new TypeError(`unexpected argument "${positionals[2]}"`);
  const logLevel = values["log-level"];
  if (logLevel !== undefined && !LOG_LEVELS.includes(logLevel)) {
    throw new TypeError(`--log-level must be one of ${LOG_LEVELS.join(", ")}, got "${logLevel}"`);
  }
  const defines = new Map<string, string>();
  for (const d of values.define ?? []) {
    const eq = d.indexOf("=");
    defines.set(eq < 0 ? d : d.slice(0, eq), eq < 0 ? "" : d.slice(eq + 1));
  }
  const cmd = values.version ? "--version" : values.help ? "--help" : positionals[0];
  return { cmd, file: positionals[1], listen: values.listen ?? [], logLevel, defines };
}

/** A command line evsip cannot run: says what is wrong in one line, then the usage; exit code 2. */
function usageError(problem: string): number {
  console.error(`evsip: ${problem}\n\n${HELP}`);
  return 2;
}

/** CLI entry; resolves with the exit code (run resolves when the server stops on a signal). */
export async function main(argv: readonly string[]): Promise<number> {
  // tap and status take their own options (node:util parseArgs), so they are dispatched first.
  const sub =
    argv[0] === "tap" ? { run: tap, help: TAP_HELP } : argv[0] === "status" ? { run: status, help: STATUS_HELP } : undefined;
  if (sub) {
    if (argv.includes("--help") || argv.includes("-h")) {
      console.log(sub.help);
      return 0;
    }
    return sub.run(argv.slice(1));
  }
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (err) {
    // node:util's parse errors and ours: a wrong command line, not a crash.
    if (err instanceof TypeError) return usageError(err.message);
    throw err;
  }
  if (args.cmd === "--version") {
    console.log(version());
    return 0;
  }
  if (!args.cmd || args.cmd === "--help" || args.cmd === "help") {
    console.log(HELP);
    return args.cmd ? 0 : 1;
  }
  if (args.cmd !== "run" && args.cmd !== "check") return usageError(`unknown command "${args.cmd}"`);
  if (!args.file) return usageError(`${args.cmd} needs an app file: evsip ${args.cmd} <app.ts|app.js>`);
  let app: AnyAppDefinition;
  if (args.file.endsWith(".cfg")) {
    // A Kamailio config: refused with file:line:col when evsip cannot run it, notes for what it ignores.
    // Loaded only for a .cfg: it is ~30 ms of every start, and a restart's outage counts each.
    const { loadCfgFile } = await import("./cfg/load-cfg.js");
    let cfg: ReturnType<typeof loadCfgFile>;
    try {
      cfg = loadCfgFile(args.file, args.defines);
    } catch (err) {
      if (!(err instanceof EvsipError)) throw err;
      console.error(`${err.message} [${err.code}]`);
      return 1;
    }
    for (const note of cfg.notes) console.error(`note: ${note}`);
    app = cfg.app;
  } else app = await loadApp(args.file);
  if (args.cmd === "check") {
    const v = validateApp(app, args.listen);
    for (const p of v.problems) console.error(`${p.param}: ${p.message}`);
    if (v.problems.length === 0) console.log(`${args.file}: ok`);
    return v.problems.length === 0 ? 0 : 1;
  }
  return run(app, args);
}

/** A second signal sooner than this after the first is a duplicate delivery of it. */
const DUPLICATE_SIGNAL_MS = 500;

async function run(app: AnyAppDefinition, args: Args): Promise<number> {
  let server: Server;
  try {
    server = new Server(app, { listen: args.listen, logLevel: args.logLevel as ServerParams["logLevel"] });
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 1;
    }
    throw err;
  }
  // Signal handlers go in before the start: a Ctrl-C just after "listening" was logged must drain,
  // not kill the process. A signal during the start is acted on once it has finished.
  let early: string | undefined;
  let onSignal = (sig: string): void => {
    if (early === undefined) {
      early = sig;
      return;
    }
    // A second signal while the start still hangs (a worker-one-init awaiting a peer that is down):
    // stop at once, as a second signal does later.
    console.error(`${sig}: stopping now, during the start`);
    process.exit(130);
  };
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  // Node's default for SIGHUP ends the process without a drain; Kamailio ignores it, and so does the
  // router: a closed terminal or a HUP meant for log rotation must not drop calls. (With evapi tls,
  // the module also reloads its certificate on SIGHUP.)
  process.on("SIGHUP", () => server.logger.info("SIGHUP: ignored, the router keeps running"));
  await server.start();
  // Last resort for a running router: a stray rejection is logged, not fatal to every call in flight.
  process.on("unhandledRejection", (reason) => server.logger.error({ err: reason }, "unhandled rejection"));
  await new Promise<void>((done) => {
    let draining = false;
    let firstAt = 0;
    const failed = (err: unknown): void => {
      server.logger.error({ err }, "stop failed");
      done();
    };
    // The first SIGTERM or SIGINT drains (calls in flight finish, new ones get 503); a second one
    // stops at once. One signal often arrives twice within a moment (Ctrl-C under `npm start`: the
    // terminal's SIGINT, then the copy npm forwards; a service manager signalling the whole process
    // group): a repeat within DUPLICATE_SIGNAL_MS is that same request, not a second one.
    onSignal = (sig: string): void => {
      if (!draining) {
        draining = true;
        firstAt = Date.now();
        server.logger.info(`${sig}: stopping`);
        server.drain().then(() => done(), failed);
        return;
      }
      if (Date.now() - firstAt < DUPLICATE_SIGNAL_MS) {
        server.logger.info(`${sig}: a repeat of the signal that began the stop, ignored`);
        return;
      }
      server.logger.info(`${sig}: stopping now`);
      server.stop().then(done, failed);
    };
    if (early !== undefined) onSignal(early);
  });
  return 0;
}
