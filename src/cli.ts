// The `evsip` command: run an app, check an app's params, print version/help. A .ts app loads on
// Node 20 through tsx's programmatic import; .js/.mjs apps load as they are.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ConfigError, EvsipError } from "./errors.js";
import type { AppDefinition } from "./app.js";
import { validateApp } from "./params.js";
import { Server } from "./server.js";

const HELP = `evsip — a programmable SIP router with a Kamailio-compatible event API

Usage:
  evsip run <app.ts|app.js> [--listen udp:IP:PORT ...] [--log-level LEVEL]
  evsip check <app.ts|app.js>     load the app and validate every param
  evsip --version
  evsip --help
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

/** Imports an app file and returns its default export. */
export async function loadApp(file: string): Promise<AppDefinition> {
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
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { cmd: undefined, file: undefined, listen: [], logLevel: undefined };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i] as string;
    if (x === "--listen" || x === "-l") a.listen.push(argv[++i] ?? "");
    else if (x === "--log-level") a.logLevel = argv[++i];
    else if (!a.cmd) a.cmd = x;
    else if (!a.file) a.file = x;
  }
  return a;
}

/** CLI entry; resolves with the exit code (run resolves when the server stops on a signal). */
export async function main(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv);
  if (args.cmd === "--version" || args.cmd === "-v") {
    console.log(version());
    return 0;
  }
  if (!args.cmd || args.cmd === "--help" || args.cmd === "-h" || args.cmd === "help") {
    console.log(HELP);
    return args.cmd ? 0 : 1;
  }
  if ((args.cmd !== "run" && args.cmd !== "check") || !args.file) {
    console.error(HELP);
    return 2;
  }
  const app = await loadApp(args.file);
  if (args.cmd === "check") {
    const v = validateApp(app, args.listen);
    for (const p of v.problems) console.error(`${p.param}: ${p.message}`);
    if (v.problems.length === 0) console.log(`${args.file}: ok`);
    return v.problems.length === 0 ? 0 : 1;
  }
  return run(app, args);
}

async function run(app: AppDefinition, args: Args): Promise<number> {
  let server: Server;
  try {
    server = new Server(app, { listen: args.listen, logLevel: args.logLevel as AppDefinition["logLevel"] });
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 1;
    }
    throw err;
  }
  await server.start();
  // Last resort for a running router: a stray rejection is logged, not fatal to every call in flight.
  process.on("unhandledRejection", (reason) => server.logger.error({ err: reason }, "unhandled rejection"));
  await new Promise<void>((done) => {
    const stop = (sig: string): void => {
      server.logger.info(`${sig}: stopping`);
      server.stop().then(done, (err: unknown) => {
        server.logger.error({ err }, "stop failed");
        done();
      });
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
  return 0;
}
