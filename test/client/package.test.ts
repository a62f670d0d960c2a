// evsip-client as a consumer gets it: `npm pack` the package, install the tarball offline into an
// empty project, check that nothing but evsip-client was installed (no pino, prom-client, tsx,
// esbuild), then run a script there that imports it and exchanges one event each way with a real
// evapi server. The temp dir is removed afterwards.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { defineApp } from "../../src/app.js";
import { Server, serverInternals } from "../../src/server.js";
import type { EvapiModule } from "../../src/modules/evapi/index.js";

const NPM = process.platform === "win32" ? "npm.cmd" : "npm";

/** Runs npm with no registry traffic; returns its stdout. */
function npm(cwd: string, ...args: string[]): string {
  return execFileSync(NPM, [...args, "--offline", "--no-audit", "--no-fund", "--loglevel=error"], { cwd, encoding: "utf8" });
}

// The consumer: connects, echoes the first event back as a message, and exits when the server closes.
const CONSUMER = `
import { EvapiClient } from "evsip-client";
console.log(JSON.stringify({ resolved: import.meta.resolve("evsip-client") }));
const client = new EvapiClient({ host: "127.0.0.1", port: Number(process.argv[2]), reconnect: false });
client.on("event", (ev) => client.send({ echo: ev }));
client.on("error", (e) => console.error(e.code, e.message));
await client.connect();
`;

test("evsip-client installs alone from its tarball and exchanges an event with evapi", { timeout: 60_000 }, async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), "evsip-client-pack-"));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));

  const packed = JSON.parse(npm(process.cwd(), "pack", "./packages/client", "--json", "--pack-destination", tmp)) as Array<{
    filename: string;
  }>;
  const tarball = join(tmp, packed[0]?.filename ?? "");
  const app = join(tmp, "consumer");
  mkdirSync(app);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  npm(app, "install", tarball);

  const tree = JSON.parse(npm(app, "ls", "--all", "--json")) as { dependencies?: Record<string, { dependencies?: object }> };
  assert.deepEqual(Object.keys(tree.dependencies ?? {}), ["evsip-client"]);
  assert.equal(tree.dependencies?.["evsip-client"]?.dependencies, undefined, "evsip-client has no dependencies");
  assert.deepEqual(
    readdirSync(join(app, "node_modules")).filter((n) => !n.startsWith(".")),
    ["evsip-client"],
    "node_modules holds evsip-client only",
  );

  let received!: (msg: string) => void;
  const message = new Promise<string>((r) => (received = r));
  const server = new Server(
    defineApp({
      listen: ["udp:127.0.0.1:0"],
      modules: { evapi: { bindAddr: "127.0.0.1:0" } },
      events: {
        "evapi:connection-new"(ctx) {
          ctx.evapi.relay({ event: "hello", n: 1 });
        },
        "evapi:message-received"(ctx) {
          received(ctx.evapi.msg);
        },
      },
    }),
    { logger: pino({ level: "silent" }) },
  );
  await server.start();
  const port = (serverInternals(server).modules.get("evapi") as EvapiModule).address().port;
  writeFileSync(join(app, "main.mjs"), CONSUMER);
  const child = spawn(process.execPath, ["main.mjs", String(port)], { cwd: app, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const exited = once(child, "exit");
  try {
    assert.deepEqual(JSON.parse(await message), { echo: { event: "hello", n: 1 } });
  } finally {
    await server.stop(); // closes the connection: the client, not reconnecting, ends and the script exits
  }
  const [code] = (await exited) as [number | null];
  assert.equal(code, 0, err);
  const resolved = (JSON.parse(out.split("\n")[0] ?? "{}") as { resolved?: string }).resolved ?? "";
  assert.ok(
    realpathSync(new URL(resolved)).startsWith(realpathSync(join(app, "node_modules", "evsip-client"))),
    `imported from the installed tarball, not the repository: ${resolved}`,
  );
});
