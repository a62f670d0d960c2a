// `evsip tap` and `evsip status` as an operator runs them, against a real router part: the tap (a
// child process) connects with a token, prints each event as one line, subscribes the router to
// --subscribe (and filters by it),
// and exits 0 on SIGINT; a wrong token exits 1 with the code; with no router it says it keeps trying. `status` prints a Server's /status
// as a table. The line and table formats (colour included) are checked as functions too.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { pino } from "pino";
import { startEvapi } from "./support/evapi-harness.js";
import { Server } from "../src/server.js";
import { defineApp } from "../src/app.js";
import { formatEvent, matchesAny } from "../src/tap-format.js";
import { formatStatus } from "../src/status-command.js";
import { childLines } from "./support/child-lines.js";
import { freePort } from "./support/sipp.js";

const BIN = "bin/evsip.js";

/** Runs evsip without blocking this process's event loop (the router under test lives in it). */
async function evsip(args: readonly string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const [status] = (await once(child, "close")) as [number];
  return { status, stdout, stderr };
}
const TOKEN = "tap-token-0123456789abcdef";

test("tap: subscribes the router to --subscribe, prints one line per event, and exits 0 on SIGINT", async () => {
  const h = await startEvapi({ tokens: [{ token: TOKEN, name: "operator" }] });
  const child = spawn(
    process.execPath,
    [BIN, "tap", "--addr", `127.0.0.1:${h.port}`, "--subscribe", "call:*", "--subscribe", "end"],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, EVSIP_EVAPI_TOKEN: TOKEN },
    },
  );
  try {
    const lines: string[] = [];
    const gotTwo = new Promise<void>((resolve) =>
      createInterface({ input: child.stdout }).on("line", (l) => {
        lines.push(l);
        if (lines.length === 2) resolve();
      }),
    );
    const subscribed = new Promise<string>((resolve) =>
      createInterface({ input: child.stderr }).on("line", (l) => l.includes("subscribed to") && resolve(l)),
    );
    assert.match(await subscribed, /evsip tap: subscribed to call:\* end/);
    assert.equal(h.mod.service.stats.eventSubscriptions, 1);
    assert.deepEqual(
      [...h.mod.service.table.all()].map((c) => c.listenOnly),
      [true],
      "a listener (sent before its subscription): async relays do not wait for it",
    );
    const relay = (d: object | string): number => h.ctx("event").evapi.relay(d);
    // The router itself keeps other events from the tap: they have no recipient at all.
    assert.equal(relay({ event: "register", user: "bob" }), 0);
    assert.equal(relay("not json"), 0);
    assert.equal(relay({ event: "call:start", ci: "a1" }), 1);
    assert.equal(relay({ event: "end", ci: "a1" }), 1);
    await gotTwo;
    assert.match(lines[0] ?? "", /^\d\d:\d\d:\d\d\.\d\d\d call:start \{"event":"call:start","ci":"a1"\}$/);
    assert.match(lines[1] ?? "", / end \{"event":"end","ci":"a1"\}$/);
    child.kill("SIGINT");
    const [code] = (await once(child, "exit")) as [number];
    assert.equal(code, 0);
    assert.equal(lines.length, 2);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await h.stop();
  }
});

test("tap: a wrong token exits 1 naming evsip's code", async () => {
  const h = await startEvapi({ tokens: [{ token: TOKEN }] });
  try {
    const child = spawn(process.execPath, [BIN, "tap", "--addr", `127.0.0.1:${h.port}`, "--token", "wrong-token-0123456789"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (d: string) => (err += d));
    const [code] = (await once(child, "exit")) as [number];
    assert.equal(code, 1);
    assert.match(err, /ERR_CLIENT_REFUSED.*ERR_EVAPI_AUTH_FAILED/);
  } finally {
    await h.stop();
  }
});

test("tap: with no router it says it keeps trying, and Ctrl-C exits 0", async () => {
  const port = await freePort(); // nothing listens there
  const child = spawn(process.execPath, [BIN, "tap", "--addr", `127.0.0.1:${port}`], { stdio: ["ignore", "pipe", "pipe"] });
  try {
    // Rejects at once if the tap exits instead of retrying.
    const err = childLines(child, "stderr");
    assert.match(
      await err.logged(/trying again/),
      new RegExp(`evsip tap: no connection to 127\\.0\\.0\\.1:${port} \\(.*ECONNREFUSED.*\\); trying again in \\d+ ms`),
    );
    const closed = once(child, "close") as Promise<[number]>; // every line read
    child.kill("SIGINT");
    const [code] = await closed;
    assert.equal(code, 0, "stopping a tap that never connected is not a failure");
    assert.doesNotMatch(err.lines.join("\n"), /ERR_CLIENT_CLOSED/);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
});

test("tap: line and pretty formats, colour, patterns", () => {
  const at = new Date("2026-01-01T12:34:56.789Z");
  const v = { event: "invite", n: 1 };
  assert.equal(
    formatEvent(JSON.stringify(v), v, at, { pretty: false, color: false }),
    '12:34:56.789 invite {"event":"invite","n":1}',
  );
  assert.equal(formatEvent("raw text", undefined, at, { pretty: false, color: false }), "12:34:56.789 - raw text");
  assert.equal(
    formatEvent("{}", v, at, { pretty: true, color: false }),
    '12:34:56.789 invite\n{\n  "event": "invite",\n  "n": 1\n}',
  );
  assert.equal(
    formatEvent("{}", v, at, { pretty: false, color: true }),
    '\x1b[2m12:34:56.789\x1b[0m \x1b[1;36minvite\x1b[0m {"event":"invite","n":1}',
  );
  assert.ok(matchesAny("x", []) && matchesAny("call:x", ["call:*"]) && matchesAny("end", ["end"]));
  assert.ok(!matchesAny("end2", ["end"]) && !matchesAny("", ["call:*"]));
});

test("status: prints a running router's /status as a table; bad addresses and no router exit non-zero", async () => {
  const server = new Server(
    defineApp({ metrics: { bindAddr: "127.0.0.1:0" }, modules: { evapi: { bindAddr: "127.0.0.1:0" } } }),
    { listen: ["udp:127.0.0.1:0"], logger: pino({ level: "silent" }) },
  );
  await server.start();
  try {
    const addr = server.metricsAddress();
    assert.ok(addr);
    const r = await evsip(["status", "--addr", `127.0.0.1:${addr.port}`]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^evsip +version +\d+\.\d+\.\d+ \(pid \d+, node v/m);
    assert.match(r.stdout, /^listen +udp +127\.0\.0\.1:\d+$/m);
    assert.match(r.stdout, /^transactions +suspended +0$/m);
    assert.doesNotMatch(r.stdout, /^evapi +clientsConnected/m, "zeros are left out without --all");
    const all = await evsip(["status", "--addr", `127.0.0.1:${addr.port}`, "--all"]);
    assert.match(all.stdout, /^evapi +clientsConnected +0$/m);
    const bad = await evsip(["status", "--addr", "nope:port"]);
    assert.equal(bad.status, 2);
  } finally {
    await server.stop();
  }
  const gone = await evsip(["status", "--addr", "127.0.0.1:1"]);
  assert.equal(gone.status, 1);
  assert.match(gone.stderr, /cannot read http:\/\/127\.0\.0\.1:1\/status/);
});

test("status: formatStatus aligns columns and flattens labelled stats", () => {
  const text = formatStatus(
    {
      version: "1.2.3",
      pid: 7,
      node: "v22",
      startedAt: "t0",
      uptimeSeconds: 3723.5,
      listeners: [{ proto: "tcp", host: "::1", port: 5060 }],
      modules: { evapi: { errors: { ERR_EVAPI_AUTH_FAILED: 2 }, connectedByTag: { "": 1 } } },
    },
    false,
  );
  assert.equal(
    text,
    [
      "evsip   version                       1.2.3 (pid 7, node v22)",
      "        up                            1h 2m 3s since t0",
      "listen  tcp                           [::1]:5060",
      "evapi   errors.ERR_EVAPI_AUTH_FAILED  2",
      'evapi   connectedByTag.""             1',
      "",
    ].join("\n"),
  );
});
