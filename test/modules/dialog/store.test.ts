// The dialogDir store: its record codec never yields a wrong record nor throws, whatever the bytes
// (truncated or flipped), and a router on a real socket keeps its calls across a restart on the same
// directory, keeps the intact records of a damaged journal (ERR_DIALOG_STORE_CORRUPT), and goes on
// routing when the directory cannot be written (ERR_DIALOG_STORE_UNWRITABLE).
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, copyFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { pino } from "pino";
import { DialogStore } from "../../../src/modules/dialog/dialog-store.js";
import type { DialogRecord } from "../../../src/modules/dialog/index.js";
import { decodeRecords, encodeRecord, type StoreRecord } from "../../../src/modules/dialog/store-codec.js";
import { isRequest, isResponse, SipPeer, sipText, type Pred } from "../../support/sip-peer.js";
import { answer } from "../../support/tm-harness.js";
import type { SipMessageLike as SipMessage } from "../../../src/sip/types.js";
import { startDialogRig, type DialogRig, type RigOptions } from "./harness.js";

const side = fc.record({
  contact: fc.string(),
  cseq: fc.nat(),
  routeSet: fc.array(fc.string(), { maxLength: 3 }),
  keepalive: fc.boolean(),
  kaFailures: fc.nat(5),
});
const dialog: fc.Arbitrary<DialogRecord> = fc.record({
  hEntry: fc.nat(4095),
  hId: fc.nat(),
  callId: fc.string(),
  fromUri: fc.string(),
  toUri: fc.string(),
  fromTag: fc.string(),
  toTag: fc.string(),
  fromHeader: fc.string(),
  toHeader: fc.string(),
  inviteCseq: fc.nat(),
  state: fc.constantFrom(1, 2, 3, 4, 5),
  createdAt: fc.nat(),
  startTs: fc.nat(),
  timeout: fc.double({ min: 0.01, max: 1e6, noNaN: true }),
  expiresAt: fc.double({ min: 0, max: 2e12, noNaN: true }),
  nextKaAt: fc.nat(),
  caller: side,
  callee: side,
  vars: fc.dictionary(fc.string(), fc.string(), { maxKeys: 4 }),
  profiles: fc.array(fc.tuple(fc.string(), fc.string()), { maxLength: 3 }),
});
const record: fc.Arbitrary<StoreRecord> = fc.oneof(
  dialog.map((d) => ({ type: "upsert" as const, dialog: d })),
  fc.tuple(fc.nat(4095), fc.nat()).map(([e, i]) => ({ type: "remove" as const, key: `${e}.${i}` })),
);

/** Records as they come back from JSON (a -0 becomes 0, like the journal does). */
const roundTrip = (rs: StoreRecord[]): unknown => JSON.parse(JSON.stringify(rs));

test("store codec: records round-trip; a cut or a flipped byte yields a prefix of them, never a wrong one, never a throw", () => {
  fc.assert(
    fc.property(fc.array(record, { maxLength: 8 }), fc.nat(), fc.nat(255), (rs, at, flip) => {
      const bytes = Buffer.concat(rs.map(encodeRecord));
      const whole = decodeRecords(bytes);
      assert.deepEqual(roundTrip(whole.records), roundTrip(rs));
      assert.equal(whole.end, bytes.length);

      const cut = decodeRecords(bytes.subarray(0, bytes.length === 0 ? 0 : at % bytes.length));
      assert.deepEqual(roundTrip(cut.records), roundTrip(rs.slice(0, cut.records.length)));
      assert.ok(cut.records.length < rs.length || rs.length === 0);

      if (bytes.length === 0) return;
      const bad = Buffer.from(bytes);
      const i = at % bad.length;
      bad[i] = (bad[i] as number) ^ (flip || 1);
      const flipped = decodeRecords(bad);
      assert.deepEqual(roundTrip(flipped.records), roundTrip(rs.slice(0, flipped.records.length)));
      assert.ok(flipped.end <= i, "decoding stops at or before the flipped byte's record");
    }),
    { numRuns: 300 },
  );
});

test("store codec: arbitrary bytes decode to whole records or none, without throwing", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (a) => {
      const { end } = decodeRecords(Buffer.from(a));
      assert.ok(end >= 0 && end <= a.length);
    }),
  );
});

/**
 * Runs `body` with a caller and a callee on real sockets, and `mkdir` for fresh directories; the
 * peers are closed and the directories removed after, whatever happens.
 */
async function withPeers(body: (caller: SipPeer, callee: SipPeer, mkdir: () => string) => Promise<void>): Promise<void> {
  const dirs: string[] = [];
  const mkdir = (): string => {
    const d = mkdtempSync(join(tmpdir(), "evsip-dlgstore-"));
    dirs.push(d);
    return d;
  };
  const caller = await SipPeer.open();
  const callee = await SipPeer.open();
  try {
    await body(caller, callee, mkdir);
  } finally {
    caller.close();
    callee.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

/** Alice's initial INVITE for `callId` to a router on `port`, on `branch`. */
function inviteOf(caller: SipPeer, port: number, callId: string, branch = caller.branch()): string {
  return sipText([
    `INVITE sip:bob@127.0.0.1:${port} SIP/2.0`,
    `Via: SIP/2.0/UDP ${caller.hostport};branch=${branch};rport`,
    "Max-Forwards: 70",
    `From: <sip:alice@example.com>;tag=a-${callId}`,
    "To: <sip:bob@example.com>",
    `Call-ID: ${callId}`,
    "CSeq: 1 INVITE",
    `Contact: <sip:alice@${caller.hostport}>`,
  ]);
}

/** INVITE → 200 → ACK through the rig, the callee answering as b-tag. */
async function establish(rig: DialogRig, caller: SipPeer, callee: SipPeer, callId: string): Promise<void> {
  const port = rig.router.udpPort;
  caller.send(inviteOf(caller, port, callId), port);
  const inv = (await callee.expect(isRequest("INVITE"))).msg;
  const ok = answer(inv, 200, "OK", "b-tag").replace("Content-Length: 0\r\n\r\n", "").split("\r\n").filter(Boolean);
  for (const rr of inv.headerValues("record-route")) ok.push(`Record-Route: ${rr}`);
  ok.push(`Contact: <sip:bob@${callee.hostport}>`);
  callee.send(sipText(ok), port);
  await caller.expect((m) => isResponse(200, "INVITE")(m) && m.callId === callId);
}

test("dialogDir: calls come back after a restart; a damaged tail is reported and the intact records kept", () =>
  withPeers(async (caller, callee, mkdir) => {
    const dir = mkdir();
    const dialogParams = { dialogDir: dir, profilesNoValue: "calls" };
    const a = await startDialogRig({ upstream: `sip:127.0.0.1:${callee.port}`, dialog: dialogParams });
    try {
      await establish(a, caller, callee, "st-1");
      await establish(a, caller, callee, "st-2");
      assert.equal((await a.events.next()).event, "dialog:start");
      assert.equal((await a.events.next()).event, "dialog:start");
    } finally {
      await a.stop();
    }
    appendFileSync(join(dir, "dialogs.journal"), Buffer.from([9, 9, 9, 9, 200, 0, 0, 0, 1, 123])); // a torn record
    const b = await startDialogRig({ upstream: `sip:127.0.0.1:${callee.port}`, dialog: dialogParams });
    try {
      const stats = b.module.stats?.() ?? {};
      assert.equal(stats.restored, 2);
      assert.equal(stats.storeDamaged, 1);
      assert.deepEqual([...b.module.dialogs.table.values()].map((d) => [d.callId, d.vars.caller]).sort(), [
        ["st-1", "alice"],
        ["st-2", "alice"],
      ]);
    } finally {
      await b.stop();
    }
    // The restart compacted the journal: only the live dialogs, no damage left.
    const c = await startDialogRig({ upstream: `sip:127.0.0.1:${callee.port}`, dialog: dialogParams });
    try {
      const stats = c.module.stats?.() ?? {};
      assert.deepEqual([stats.restored, stats.storeDamaged], [2, 0]);
    } finally {
      await c.stop();
    }
  }));

test("dialogDir that cannot be written: calls are still tracked, the failure counted (ERR_DIALOG_STORE_UNWRITABLE)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "evsip-dlgstore-"));
  const file = join(dir, "a-file");
  writeFileSync(file, "");
  const caller = await SipPeer.open();
  const callee = await SipPeer.open();
  const rig = await startDialogRig({ upstream: `sip:127.0.0.1:${callee.port}`, dialog: { dialogDir: join(file, "sub") } });
  try {
    assert.ok(Number(rig.module.stats?.().storeWriteFailures) >= 1, "the compaction at start failed");
    await establish(rig, caller, callee, "uw-1");
    const start = await rig.events.next();
    assert.deepEqual([start.event, start.vars.caller], ["dialog:start", "alice"]);
    assert.equal(rig.module.dialogs.table.size, 1);
  } finally {
    await rig.stop();
    caller.close();
    callee.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the journal is compacted as ended dialogs pile up: its size stays bounded, the live dialogs all recovered", async () => {
  const dir = mkdtempSync(join(tmpdir(), "evsip-dlgstore-"));
  try {
    const base = fc.sample(dialog, { numRuns: 1, seed: 7 })[0] as DialogRecord;
    const live = new Set<DialogRecord>();
    const store = new DialogStore(dir, pino({ level: "silent" }), () => live);
    store.open(0);
    let biggest = 0;
    for (let i = 1; i <= 5000; i++) {
      const d: DialogRecord = { ...base, hEntry: i % 4096, hId: i, callId: `c-${i}`, state: 4, vars: { n: "x".repeat(200) } };
      live.add(d);
      store.changed(d);
      await Promise.resolve(); // the write happens at the end of the task
      if (i % 50 !== 0) {
        d.state = 5;
        live.delete(d);
        store.changed(d);
        await Promise.resolve();
      }
      biggest = Math.max(biggest, statSync(join(dir, "dialogs.journal")).size);
    }
    store.close();
    assert.ok(biggest < 1.2 * 1024 * 1024, `the journal stayed small (${biggest} bytes at most)`);
    const again = new DialogStore(dir, pino({ level: "silent" }), () => []);
    assert.deepEqual(
      again
        .recover()
        .map((d) => d.callId)
        .sort(),
      [...live].map((d) => d.callId).sort(),
    );
    assert.equal(again.counters.storeDamaged, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("dialogDir: a restored call's keepalives resume from the new router", () =>
  withPeers(async (caller, callee, mkdir) => {
    const dir = mkdir();
    const opts = {
      upstream: `sip:127.0.0.1:${callee.port}`,
      dialog: { dialogDir: dir, kaTimer: 0.1, kaInterval: 1 }, // the first router stops well before its first keepalive
      onInvite: (ctx: Parameters<NonNullable<Parameters<typeof startDialogRig>[0]["onInvite"]>>[0]) => {
        ctx.dialog.setProperty("ka-dst");
      },
    };
    const a = await startDialogRig(opts);
    const port = a.router.udpPort;
    try {
      await establish(a, caller, callee, "ka-1");
      assert.equal((await a.events.next()).event, "dialog:start");
    } finally {
      await a.stop();
    }
    // The same address: the route sets recorded towards the first router lead to the second.
    const b = await startDialogRig({ ...opts, listen: [`udp:127.0.0.1:${port}`] });
    try {
      assert.equal(b.module.stats?.().restored, 1);
      const before = callee.received.length;
      for (;;) {
        const r = await callee.expect(isRequest("OPTIONS"));
        callee.send(answer(r.msg, 200, "OK"), port);
        if (callee.received.indexOf(r) < before) continue; // one the first router sent before it stopped
        assert.deepEqual([r.msg.callId, r.msg.from.tag, r.msg.to.tag], ["ka-1", "a-ka-1", "b-tag"]);
        break;
      }
    } finally {
      await b.stop();
    }
  }));

/** A caller's INVITE response on `branch` (its own Via on top once the router removed its own). */
const withBranch =
  (status: number, b: string): Pred =>
  (m) =>
    isResponse(status, "INVITE")(m) && m.topVia.branch === b;

interface RestoredCall {
  /** The second router, restored from the journal, draining: it refuses new calls. */
  readonly b: DialogRig;
  readonly caller: SipPeer;
  readonly callee: SipPeer;
  /** The caller's branch of call "ad-1", and the first router's branch on its relayed INVITE. */
  readonly branch: string;
  readonly relayedBranch: string | undefined;
  /** The INVITE of "ad-1" as the callee got it from the first router. */
  readonly first: SipMessage;
}

/**
 * Call "ad-1" whose router died between relaying its INVITE and the 200: the journal, copied as a
 * kill -9 would leave it, keeps the dialog unconfirmed, and the callee may be answering. A second
 * router (its request route running `onInvite` after manage()) is restored from it and drains.
 */
async function withRestoredCall(onInvite: RigOptions["onInvite"], body: (r: RestoredCall) => Promise<void>): Promise<void> {
  await withPeers(async (caller, callee, mkdir) => {
    const [dir, kept] = [mkdir(), mkdir()];
    const branch = caller.branch();
    const a = await startDialogRig({ upstream: `sip:127.0.0.1:${callee.port}`, dialog: { dialogDir: dir } });
    let first: SipMessage;
    try {
      caller.send(inviteOf(caller, a.router.udpPort, "ad-1", branch), a.router.udpPort);
      first = (await callee.expect((m) => isRequest("INVITE")(m) && m.callId === "ad-1")).msg;
      copyFileSync(join(dir, "dialogs.journal"), join(kept, "dialogs.journal"));
    } finally {
      await a.stop();
    }
    // On the first router's port, as a restart would be: the callee's 200 to the first router's
    // INVITE then carries a Via the second takes for its own.
    const b = await startDialogRig({
      upstream: `sip:127.0.0.1:${callee.port}`,
      dialog: { dialogDir: kept },
      onInvite,
      listen: [`udp:127.0.0.1:${a.router.udpPort}`],
    });
    try {
      assert.equal(b.module.stats?.().restored, 1);
      b.router.internals.engine.admission.startDraining();
      await body({ b, caller, callee, branch, relayedBranch: first.topVia.branch, first });
    } finally {
      await b.stop();
    }
  });
}

test("dialogDir: while admission refuses new calls, a restored call's re-sent INVITE is not refused but relayed again", () =>
  // Refused with a 503, its caller would give up while the callee's 200 still confirmed, and billed,
  // the dialog the journal kept.
  withRestoredCall(undefined, async ({ b, caller, callee, branch, relayedBranch }) => {
    const port = b.router.udpPort;
    // New work is refused...
    caller.send(inviteOf(caller, port, "ad-2"), port);
    await caller.expect((m) => isResponse(503, "INVITE")(m) && m.callId === "ad-2");
    // ...the restored call's INVITE is not: it reaches the callee again, on the branch the first
    // router gave it (the callee takes it for a re-send), and the callee's 200 gets through.
    const refusedBefore = caller.count(withBranch(503, branch));
    const before = callee.received.length;
    caller.send(inviteOf(caller, port, "ad-1", branch), port);
    let r = await callee.expect((m) => isRequest("INVITE")(m) && m.callId === "ad-1");
    // (A re-send from the first router, still unread, is skipped: the second's comes after it.)
    while (callee.received.indexOf(r) < before) r = await callee.expect((m) => isRequest("INVITE")(m) && m.callId === "ad-1");
    const inv = r.msg;
    assert.equal(inv.topVia.branch, relayedBranch);
    // A copy on another branch while that transaction lives is new work: shed.
    const forged = caller.branch();
    caller.send(inviteOf(caller, port, "ad-1", forged), port);
    await caller.expect(withBranch(503, forged));
    callee.send(answer(inv, 200, "OK", "b-tag"), port);
    await caller.expect(withBranch(200, branch));
    assert.equal(caller.count(withBranch(503, branch)), refusedBefore, "no 503 for the restored call");
    assert.equal((await b.events.next()).event, "dialog:start");
    const stats = b.module.stats?.() ?? {};
    assert.deepEqual([stats.earlyInvitesAdmitted, stats.created, stats.started, stats.spirals], [1, 0, 1, 0]);
  }));

test("dialogDir: a restored call whose re-sent INVITE the route refuses fails, and a late 200 does not start it", () =>
  withRestoredCall(
    (ctx) => {
      if (ctx.msg.callId === "ad-1") ctx.sl.sendReply(486, "Busy Here");
    },
    async ({ b, caller, callee, branch, first }) => {
      const port = b.router.udpPort;
      caller.send(inviteOf(caller, port, "ad-1", branch), port);
      await caller.expect(withBranch(486, branch));
      assert.equal((await b.events.next()).event, "dialog:failed");
      // The callee's 200 to the first router's INVITE, re-sent: back to the caller by its Via, but
      // the dialog it would have confirmed is over.
      callee.send(answer(first, 200, "OK", "b-tag"), port);
      await caller.expect(withBranch(200, branch));
      assert.deepEqual([b.module.stats?.().started, b.module.stats?.().failed], [0, 1]);
    },
  ));
