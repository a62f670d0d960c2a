// The evsip command as users run it: --version, check naming each bad param, and run answering
// SIP until SIGTERM, then exiting 0 with its listeners closed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { freePort } from "./support/sipp.js";
import { EvsipError } from "../src/errors.js";

const BIN = "bin/evsip.js";

test("--version prints the package version", () => {
  const r = spawnSync(process.execPath, [BIN, "--version"], { encoding: "utf8" });
  const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
  assert.equal(r.status, 0);
  assert.equal(r.stdout.trim(), pkg.version);
});

test("check names every bad param and exits non-zero; a good app passes", () => {
  const bad = spawnSync(process.execPath, [BIN, "check", "test/fixtures/apps/bad-params.ts"], { encoding: "utf8" });
  assert.equal(bad.status, 1);
  for (const name of ["listen", "tm.frTimer", "modules.evapi.maxClients"])
    assert.match(bad.stderr, new RegExp(`^${name.replace(".", "\\.")}:`, "m"));
  const good = spawnSync(process.execPath, [BIN, "check", "examples/hello/app.ts"], { encoding: "utf8" });
  assert.equal(good.status, 0, good.stderr);
});

test("check refuses unknown pseudo-variables and transformations written in route literals, naming the route", () => {
  const r = spawnSync(process.execPath, [BIN, "check", "test/fixtures/apps/unknown-pvs.ts"], { encoding: "utf8" });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^request: xlog\("sent at \$TSX from \$fU"\): unknown pseudo-variable \$TSX/m);
  assert.match(r.stderr, /^routes\.RESUME: pv\("\$\(rU\{s\.nope\}\)"\): unknown transformation \{s\.nope\}/m);
  assert.match(r.stderr, /^events\.evapi:message-received: fmt\(.*unclosed '\(' after \$hdr/m);
  assert.equal(r.stderr.split("\n").filter(Boolean).length, 3, r.stderr);
});

test("check takes a Kamailio cfg: ok with notes for what it ignores, or the refusal by file:line:col", () => {
  const good = spawnSync(process.execPath, [BIN, "check", "examples/kamailio-port/kamailio.cfg"], { encoding: "utf8" });
  assert.equal(good.status, 0, good.stderr);
  assert.match(good.stdout, /kamailio\.cfg: ok/);
  assert.match(good.stderr, /^note: examples\/kamailio-port\/kamailio\.cfg:14: children ignored/m);
  const bad = spawnSync(process.execPath, [BIN, "check", "test/fixtures/kamailio/interop.cfg"], { encoding: "utf8" });
  // Without its -A defines, interop.cfg's modparam values are bare names: a syntax error at the first.
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^test\/fixtures\/kamailio\/interop\.cfg:\d+:\d+: .*\[ERR_CFG_SYNTAX\]$/m);
  const defined = spawnSync(
    process.execPath,
    [
      BIN,
      "check",
      "test/fixtures/kamailio/interop.cfg",
      "-A",
      'UAS_URI="sip:127.0.0.1:9"',
      "-A",
      'EVAPI_BIND="127.0.0.1:0"',
      "-A",
      'JSONRPC_SERVERS="127.0.0.1:9,1"',
    ],
    { encoding: "utf8" },
  );
  assert.equal(defined.status, 0, defined.stderr);
});

test("run or check without an app file says so in one line, then prints the usage, and exits 2", () => {
  for (const cmd of ["run", "check"]) {
    const r = spawnSync(process.execPath, [BIN, cmd], { encoding: "utf8" });
    assert.equal(r.status, 2);
    const [first, , ...rest] = r.stderr.split("\n");
    assert.equal(first, `evsip: ${cmd} needs an app file: evsip ${cmd} <app.ts|app.js>`);
    assert.match(rest.join("\n"), /^Usage:$/m);
  }
  const unknown = spawnSync(process.execPath, [BIN, "serve", "app.ts"], { encoding: "utf8" });
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /^evsip: unknown command "serve"\n/);
});

test("run and check refuse a command line they cannot read, naming the problem, exit 2; --opt=value reads as --opt value", () => {
  const cases: Array<[string[], RegExp]> = [
    [["run", "test/fixtures/apps/options-200.ts", "--listne", "udp:127.0.0.1:5099"], /^evsip: Unknown option '--listne'/],
    [
      ["check", "test/fixtures/apps/options-200.ts", "--log-level", "verbose"],
      /^evsip: --log-level must be one of fatal, .*got "verbose"$/m,
    ],
    [["check", "test/fixtures/apps/options-200.ts", "extra"], /^evsip: unexpected argument "extra"$/m],
    [["run", "test/fixtures/apps/options-200.ts", "--listen"], /^evsip: Option '-l, --listen <value>' argument missing/],
  ];
  for (const [argv, problem] of cases) {
    const r = spawnSync(process.execPath, [BIN, ...argv], { encoding: "utf8" });
    assert.equal(r.status, 2, argv.join(" "));
    assert.match(r.stderr, problem);
    assert.match(r.stderr, /^Usage:$/m);
  }
  // The = form is read, not dropped: a bad listener given that way is refused by name.
  const eq = spawnSync(process.execPath, [BIN, "check", "test/fixtures/apps/options-200.ts", "--listen=sctp:127.0.0.1:1"], {
    encoding: "utf8",
  });
  assert.equal(eq.status, 1);
  assert.match(eq.stderr, /^listen: /m);
});

for (const file of ["test/fixtures/apps/options-200.ts", "test/fixtures/cfg/options-200.cfg"]) {
  test(`run ${file} serves SIP, runs core:worker-one-init once, keeps running on SIGHUP, and stops cleanly on SIGTERM`, async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [BIN, "run", file, "--listen", `udp:127.0.0.1:${port}`], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const lines: string[] = [];
    const rl = createInterface({ input: child.stdout });
    let hup = (): void => undefined;
    const hupLogged = new Promise<void>((resolve) => (hup = resolve));
    const listening = new Promise<void>((resolve) =>
      rl.on("line", (l) => {
        lines.push(l);
        if (l.includes(`listening on udp:127.0.0.1:${port}`)) resolve();
        if (l.includes("SIGHUP: ignored")) hup();
      }),
    );
    await listening;
    // As Kamailio: a hang-up (a closed terminal, a logrotate-style HUP) does not stop the router.
    // A router that dies of the SIGHUP fails here at once instead of waiting out the test's timeout.
    const diedOfHup = once(child, "exit").then(([code, sig]) => `the router exited on SIGHUP (${String(code ?? sig)})`);
    child.kill("SIGHUP");
    const died = await Promise.race([hupLogged.then(() => undefined), diedOfHup]);
    assert.equal(died, undefined);
    const sock = createSocket("udp4");
    sock.bind(0, "127.0.0.1");
    await once(sock, "listening");
    const req =
      `OPTIONS sip:127.0.0.1:${port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${sock.address().port};branch=z9hG4bKcli1\r\n` +
      "From: <sip:t@127.0.0.1>;tag=1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: cli-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    sock.send(req, port, "127.0.0.1");
    const [reply] = (await once(sock, "message")) as [Buffer];
    assert.match(reply.toString(), /^SIP\/2\.0 200 OK\r\n/);
    sock.close();
    child.kill("SIGTERM");
    const [code] = (await once(child, "exit")) as [number | null];
    assert.equal(code, 0);
    assert.equal(lines.filter((l) => l.includes("worker-one-init ran")).length, 1);
    assert.ok(lines.some((l) => l.includes("SIGTERM: stopping")));
  });
}

test("Ctrl-C on `npm start` exits 0: the terminal's SIGINT and the copy npm forwards stop the router once", async () => {
  const port = await freePort();
  // npm's own CLI when the suite runs under npm, else the npm on PATH. --ignore-scripts skips
  // prestart (the suite has just built); detached makes npm a process group, as a terminal's job is.
  const npm = process.env.npm_execpath;
  const [cmd, pre] = npm ? [process.execPath, [npm]] : ["npm", []];
  const child = spawn(cmd, [...pre, "start", "--ignore-scripts", "--", "--listen", `udp:127.0.0.1:${port}`], {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const group = -(child.pid as number);
  let output = ""; // npm's and the router's last words, for the failure message
  child.stderr.on("data", (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  try {
    const rl = createInterface({ input: child.stdout });
    rl.on("line", (l) => (output = (output + l + "\n").slice(-4000)));
    await new Promise<void>((resolve) => rl.on("line", (l) => l.includes(`listening on udp:127.0.0.1:${port}`) && resolve()));
    const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
    process.kill(group, "SIGINT"); // what Ctrl-C does: SIGINT to every process of the foreground job
    const [code, signal] = await exited;
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, output);
  } finally {
    if (child.exitCode === null && child.signalCode === null) process.kill(group, "SIGKILL");
  }
});

test("a repeat of the stop signal that lands while the stopped router is exiting does not kill it: it exits 0", async () => {
  // The copy of a Ctrl-C that npm forwards comes a few ms after the terminal's. A router with
  // nothing in flight has stopped by then; if it wound down on its own, its signal handlers were
  // gone and that copy killed it by SIGINT (5 ms apart: 3 of 3 runs, before the fix).
  const results: Array<number | string | null> = [];
  for (const gap of [1, 3, 5, 7, 10]) {
    const port = await freePort();
    const child = spawn(process.execPath, [BIN, "run", "examples/hello/app.ts", "--listen", `udp:127.0.0.1:${port}`], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const rl = createInterface({ input: child.stdout });
    await new Promise<void>((resolve) => rl.on("line", (l) => l.includes(`listening on udp:127.0.0.1:${port}`) && resolve()));
    const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
    child.kill("SIGINT");
    await new Promise((r) => setTimeout(r, gap)); // the stimulus: the second copy's delay
    child.kill("SIGINT");
    const [code, signal] = await exited;
    results.push(signal ?? code);
  }
  assert.deepEqual(results, [0, 0, 0, 0, 0]);
});

test("a start that fails (metrics port taken) is ERR_LISTEN_FAILED naming the address, and closes what it opened, so the process can exit", async () => {
  const { createServer } = await import("node:net");
  const { Server } = await import("../src/server.js");
  const { pino } = await import("pino");
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
  const taken = (blocker.address() as { port: number }).port;
  const servers = (): number => process.getActiveResourcesInfo().filter((r) => r === "TCPServerWrap").length;
  const before = servers();
  const server = new Server(
    {
      listen: ["udp:127.0.0.1:0", "tcp:127.0.0.1:0"],
      metrics: { bindAddr: `127.0.0.1:${taken}` },
      modules: { evapi: { bindAddr: "127.0.0.1:0" } },
    },
    { logger: pino({ level: "silent" }) },
  );
  try {
    await assert.rejects(
      server.start(),
      (e: unknown) =>
        e instanceof EvsipError &&
        e.code === "ERR_LISTEN_FAILED" &&
        e.message === `cannot listen on 127.0.0.1:${taken}: EADDRINUSE` &&
        (e.cause as NodeJS.ErrnoException).code === "EADDRINUSE",
    );
    // Listener handles finish closing a few loop turns later; wait for that, bounded.
    const deadline = Date.now() + 2000;
    while (servers() > before && Date.now() < deadline) await new Promise<void>((r) => setImmediate(r));
    assert.equal(servers(), before, "no SIP TCP or evapi listener left behind");
  } finally {
    await new Promise<void>((r) => blocker.close(() => r()));
  }
});

test("run on an address in use exits 1 with the address, the system code and ERR_LISTEN_FAILED", async () => {
  const { createServer } = await import("node:net");
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
  const taken = (blocker.address() as { port: number }).port;
  try {
    // spawnSync blocks this loop, but the kernel holds the port for the blocker all the same.
    const r = spawnSync(
      process.execPath,
      [BIN, "run", "test/fixtures/apps/options-200.ts", "--listen", `tcp:127.0.0.1:${taken}`],
      {
        encoding: "utf8",
      },
    );
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`^cannot listen on 127\\.0\\.0\\.1:${taken}: EADDRINUSE \\[ERR_LISTEN_FAILED\\]$`, "m"));
  } finally {
    await new Promise<void>((r) => blocker.close(() => r()));
  }
});
