// scripts/wait-port.mjs, the README tour's wait between starting a server in the background and
// using it: it returns once a UDP socket is bound, a TCP listener is up, or a client is connected,
// each made here with a real socket after the script started waiting; connected=N counts clients;
// bad arguments exit 2.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createSocket } from "node:dgram";
import { once } from "node:events";
import { connect, createServer, type Server, type Socket } from "node:net";
import { freePort } from "./support/sipp.js";

const SCRIPT = "scripts/wait-port.mjs";

/** Starts the script on `conds` (`env`: added to its environment); resolves with its exit code. */
function waitPort(...conds: string[]): { child: ChildProcess; code: Promise<number | null> } {
  return waitPortWith({}, ...conds);
}

function waitPortWith(env: Record<string, string>, ...conds: string[]): { child: ChildProcess; code: Promise<number | null> } {
  const child = spawn(process.execPath, [SCRIPT, ...conds], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, ...env },
  });
  return { child, code: once(child, "exit").then(([c]) => c as number | null) };
}

/** Resolves once the script's process runs, so the socket below comes up while it waits (or loads). */
async function started(child: ChildProcess): Promise<void> {
  await once(child, "spawn");
}

test("waits until a UDP socket is bound", async () => {
  const port = await freePort();
  const w = waitPort(`udp:127.0.0.1:${port}`);
  await started(w.child);
  const sock = createSocket("udp4");
  sock.bind(port, "127.0.0.1");
  await once(sock, "listening");
  try {
    assert.equal(await w.code, 0);
  } finally {
    sock.close();
  }
});

test("waits until a TCP listener is up, then until a client is connected to it", async () => {
  const port = await freePort();
  const listening = waitPort(`tcp:127.0.0.1:${port}`);
  await started(listening.child);
  const server: Server = createServer();
  server.listen(port, "127.0.0.1");
  await once(server, "listening");
  const accepted = once(server, "connection");
  try {
    assert.equal(await listening.code, 0);
    const connected = waitPort(`connected:tcp:127.0.0.1:${port}`);
    await started(connected.child);
    const client = connect(port, "127.0.0.1");
    const [peer] = (await accepted) as [Socket];
    assert.equal(await connected.code, 0);
    client.destroy();
    peer.destroy();
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test("connected=N waits for N clients: one is not enough, two are", async () => {
  const port = await freePort();
  const server: Server = createServer();
  const peers: Socket[] = [];
  server.on("connection", (s: Socket) => peers.push(s));
  server.listen(port, "127.0.0.1");
  await once(server, "listening");
  const clients = [connect(port, "127.0.0.1")];
  try {
    await once(server, "connection");
    // With one client connected the condition never holds: the script gives up after its timeout.
    const one = waitPortWith({ WAIT_PORT_TIMEOUT_MS: "300" }, `connected=2:tcp:127.0.0.1:${port}`);
    let stderr = "";
    one.child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    assert.equal(await one.code, 1);
    assert.match(stderr, /still waiting after 0\.3 s for connected=2:tcp:127\.0\.0\.1:/);
    const two = waitPort(`connected=2:tcp:127.0.0.1:${port}`);
    await started(two.child);
    clients.push(connect(port, "127.0.0.1"));
    assert.equal(await two.code, 0);
  } finally {
    for (const s of [...clients, ...peers]) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test("an argument or a timeout it cannot read exits 2 and names it", () => {
  const r = spawnSync(process.execPath, [SCRIPT, "connected:udp:127.0.0.1:5060"], { encoding: "utf8" });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /cannot read "connected:udp:127\.0\.0\.1:5060"/);
  const t = spawnSync(process.execPath, [SCRIPT, "udp:127.0.0.1:5060"], {
    encoding: "utf8",
    env: { ...process.env, WAIT_PORT_TIMEOUT_MS: "soon" },
  });
  assert.equal(t.status, 2, "nor a timeout that is not a number");
  assert.match(t.stderr, /WAIT_PORT_TIMEOUT_MS must be a number of ms, got "soon"/);
});
