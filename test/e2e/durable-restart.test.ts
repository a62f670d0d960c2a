// Unacknowledged durable events survive `kill -9` of evsip: the real `evsip run` with a journal on a
// temp dir relays one event per OPTIONS (before its 200); a durable consumer on a plain TCP socket
// acks part, evsip is killed mid-burst, OPTIONS sent while it is down go unanswered, and the
// restarted evsip replays, from its own journaled ack point, every unacknowledged event with the
// same id, in order, none missing; acked events are not replayed, and ids go on after the restart.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { childLines } from "../support/child-lines.js";
import { freePort } from "../support/sipp.js";
import { NetstringSocket } from "../support/netstring-socket.js";
import { SipPeer, sipText } from "../support/sip-peer.js";

interface Event {
  id: number;
  n: number;
}

interface Router {
  child: ChildProcess;
  exited: Promise<unknown>;
  logged(re: RegExp): Promise<string>;
}

function startRouter(sipPort: number, evapiPort: number, dir: string): Router {
  const child = spawn(
    process.execPath,
    ["bin/evsip.js", "run", "test/fixtures/apps/durable-relay.ts", "--listen", `udp:127.0.0.1:${sipPort}`],
    { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, EVAPI_BIND: `127.0.0.1:${evapiPort}`, DURABLE_DIR: dir } },
  );
  const { logged } = childLines(child);
  return { child, exited: once(child, "exit"), logged };
}

/** Subscribes as "billing" on a new connection; returns it and evsip's reply. */
async function subscribe(port: number, resume: number | null) {
  const s = await NetstringSocket.connect(port);
  s.send({ evsip: "subscribe", consumer: "billing", resume });
  const reply = (await s.nextJson()) as { acked: number; next: number; last: number; lost: unknown };
  return { s, reply };
}

async function read(s: NetstringSocket, count: number): Promise<Event[]> {
  const out: Event[] = [];
  for (let i = 0; i < count; i++) {
    const m = (await s.nextJson()) as { evsip: string; id: number; event: { n: number } };
    assert.equal(m.evsip, "event");
    out.push({ id: m.id, n: m.event.n });
  }
  return out;
}

function options(peer: SipPeer, n: number, sipPort: number): void {
  peer.send(
    sipText([
      "OPTIONS sip:router@127.0.0.1 SIP/2.0",
      `Via: SIP/2.0/UDP ${peer.hostport};branch=${peer.branch()}`,
      "Max-Forwards: 70",
      "From: <sip:probe@127.0.0.1>;tag=p1",
      "To: <sip:router@127.0.0.1>",
      `Call-ID: n-${n}`,
      "CSeq: 1 OPTIONS",
    ]),
    sipPort,
  );
}

test("kill -9 of evsip: every unacknowledged durable event comes back, same ids, in order; acked ones do not", async () => {
  const sipPort = await freePort();
  const evapiPort = await freePort("tcp");
  const dir = mkdtempSync(join(tmpdir(), "evsip-journal-"));
  const peer = await SipPeer.open();
  const answered = (n: number): Promise<unknown> => peer.expect((m) => m.callId === `n-${n}` && m.status === 200);
  const sockets: NetstringSocket[] = [];
  let a: Router | undefined;
  let b: Router | undefined;
  try {
    a = startRouter(sipPort, evapiPort, dir);
    await a.logged(/listening on udp/);
    const first = await subscribe(evapiPort, null);
    sockets.push(first.s);
    assert.deepEqual([first.reply.acked, first.reply.next], [0, 1]);
    for (let n = 1; n <= 40; n++) {
      options(peer, n, sipPort);
      await answered(n);
    }
    const seen = new Map<number, number>(); // id → n, as first delivered
    for (const e of await read(first.s, 40)) seen.set(e.id, e.n);
    assert.deepEqual(
      [...seen],
      Array.from({ length: 40 }, (_, i) => [i + 1, i + 1]),
    );

    // Ack part, then reconnect: the reply's ack point shows evsip handled the ack (a wire barrier).
    first.s.send({ evsip: "ack", id: 25 });
    const second = await subscribe(evapiPort, null);
    sockets.push(second.s);
    assert.deepEqual([second.reply.acked, second.reply.next, second.reply.last], [25, 26, 40]);
    for (const e of await read(second.s, 15)) assert.equal(seen.get(e.id), e.n, "a replay keeps the id");

    for (let n = 41; n <= 80; n++) {
      options(peer, n, sipPort);
      await answered(n);
    }
    for (const e of await read(second.s, 40)) seen.set(e.id, e.n);
    for (let n = 81; n <= 100; n++) options(peer, n, sipPort); // a burst in flight...
    a.child.kill("SIGKILL"); // ...cut by kill -9
    await a.exited;
    const answeredBeforeKill = new Set(
      peer.received.filter((r) => r.msg.status === 200).map((r) => Number(r.msg.callId.slice(2))),
    );
    for (let n = 101; n <= 110; n++) options(peer, n, sipPort); // evsip is down: never produced

    b = startRouter(sipPort, evapiPort, dir);
    await b.logged(/listening on udp/);
    const third = await subscribe(evapiPort, null);
    sockets.push(third.s);
    const { acked, next, last, lost } = third.reply;
    assert.deepEqual({ acked, next, lost }, { acked: 25, next: 26, lost: null }, "evsip's own ack point survived, nothing lost");
    assert.ok(last >= 80, `every event answered before the kill was journaled (last ${last})`);
    const replay = await read(third.s, last - 25);
    assert.deepEqual(
      replay.map((e) => e.id),
      Array.from({ length: last - 25 }, (_, i) => i + 26),
      "every unacknowledged id, in order, acked ones not replayed",
    );
    for (const e of replay) if (seen.has(e.id)) assert.equal(e.n, seen.get(e.id), `id ${e.id} keeps its event`);
    const ns = replay.map((e) => e.n);
    assert.ok(
      ns.every((n, i) => i === 0 || n > (ns[i - 1] as number)),
      "events in the order they were produced",
    );
    for (const n of answeredBeforeKill) if (n > 25) assert.ok(ns.includes(n), `answered event ${n} is replayed`);
    assert.ok(
      ns.every((n) => n <= 100),
      "nothing sent while evsip was down was produced",
    );

    for (let n = 111; n <= 115; n++) {
      options(peer, n, sipPort);
      await answered(n);
    }
    assert.deepEqual(
      await read(third.s, 5),
      [111, 112, 113, 114, 115].map((n, i) => ({ id: last + 1 + i, n })),
      "ids go on",
    );
    await b.logged(/evapi durable consumer recovered/);
  } finally {
    for (const s of sockets) s.close();
    peer.close();
    for (const r of [a, b]) {
      if (!r) continue;
      r.child.kill("SIGKILL");
      await r.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
