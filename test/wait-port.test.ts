// scripts/wait-port.mjs, the README tour's wait between starting a server in the background and
// using it: it returns once a UDP socket is bound, a TCP listener is up, or a client is connected,
// each made here with a real socket after the script started waiting; bad arguments exit 2.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createSocket } from "node:dgram";
import { once } from "node:events";
import { connect, createServer, type Server, type Socket } from "node:net";
import { freePort } from "./support/sipp.js";

const SCRIPT = "scripts/wait-port.mjs";

/** Starts the script on `conds`; resolves with its exit code. */
function waitPort(...conds: string[]): { child: ChildProcess; code: Promise<number | null> } {
  const child = spawn(process.execPath, [SCRIPT, ...conds], { stdio: ["ignore", "ignore", "pipe"] });
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

test("an argument it cannot read exits 2 and names it", () => {
  const r = spawnSync(process.execPath, [SCRIPT, "connected:udp:127.0.0.1:5060"], { encoding: "utf8" });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /cannot read "connected:udp:127\.0\.0\.1:5060"/);
});
