// The queue new work waits in while SIP input falls behind: responses and requests within a dialog
// are never queued; new work is handled in arrival order, a slice of time per event-loop turn, and
// nothing queued is lost; a CANCEL never overtakes the INVITE before it; the queue is bounded.
// Messages are real parses of real SIP text; turns are real event-loop turns.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { parseMessage } from "../../src/sip/index.js";
import type { SipMessageLike } from "../../src/sip/types.js";
import { KEEPING_UP } from "../../src/transport/input-backlog.js";
import { NewWorkQueue, type NewWorkQueueOptions, type NewWorkStats } from "../../src/transport/new-work-queue.js";
import { sipRequest, sipResponse } from "../support/sip-samples.js";
import { SAMPLE_SRC as SRC } from "../support/route-context.js";
import type { Source } from "../../src/transport/types.js";

type Kind = "invite" | "bye" | "response" | "cancel";

/** A message of `kind` for call `id`; `n` names it apart (its Via branch). */
function message(kind: Kind, id: string, n = 0): SipMessageLike {
  const via = `SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-${n}`;
  const buf =
    kind === "response"
      ? sipResponse([via])
      : sipRequest({
          method: kind === "invite" ? "INVITE" : kind === "bye" ? "BYE" : "CANCEL",
          callId: id,
          via,
          toTag: kind === "bye" ? "t1" : undefined,
        });
  const r = parseMessage(buf);
  assert.ok(r.ok);
  return r.msg;
}

/** Resolves once the queue is empty (turns are real turns). */
async function drained(q: NewWorkQueue): Promise<void> {
  while (q.length > 0) await new Promise((resolve) => setImmediate(resolve));
}

function newStats(): NewWorkStats {
  return { newWorkWaited: 0, newWorkOverflowed: 0 };
}

/**
 * A queue that records what it hands on (by `name`: the Call-ID unless told), a message per turn
 * slice of 0 ms (one each turn) unless `opts` say otherwise.
 */
function recording(
  name: (m: SipMessageLike) => string = (m) => m.callId,
  opts: NewWorkQueueOptions = { turnMs: 0, behindTurnMs: 0 },
): { q: NewWorkQueue; handled: string[]; stats: NewWorkStats } {
  const handled: string[] = [];
  const stats = newStats();
  return { q: new NewWorkQueue((m) => handled.push(name(m)), stats, opts), handled, stats };
}

/** A source other than SRC: another UDP sender's address. */
const OTHER: Source = { ...SRC, remoteAddr: "10.0.0.2" };

test("while input keeps up and nothing waits, every message is handled as it is read", () => {
  const q = new NewWorkQueue(() => assert.fail("the queue handles nothing"), newStats());
  for (const k of ["invite", "bye", "response", "cancel"] as const) assert.equal(q.offer(message(k, k), SRC, false), false);
  assert.equal(q.length, 0);
  assert.equal(q.state(), KEEPING_UP);
});

test("while input falls behind, new work waits and is handled in order at the turn's end; in-dialog requests and responses never wait", async () => {
  const handled: string[] = [];
  const stats = newStats();
  const q = new NewWorkQueue((m) => handled.push(m.callId), stats);
  const now: string[] = [];
  const offer = (k: Kind, id: string, behind: boolean): void => {
    const m = message(k, id);
    if (!q.offer(m, SRC, behind)) now.push(m.callId);
  };
  offer("invite", "i1", true);
  offer("bye", "b1", true);
  offer("invite", "i2", false); // behind no more, but new work waits: it stays behind i1
  offer("response", "r1", false);
  offer("cancel", "i2", false); // after its INVITE, never before it
  assert.deepEqual(now, ["b1", "call-1"], "the BYE and the response at once");
  assert.deepEqual(handled, [], "new work not yet");
  assert.equal(q.length, 3);
  await drained(q);
  assert.deepEqual(handled, ["i1", "i2", "i2"]);
  assert.equal(stats.newWorkWaited, 3);
  assert.equal(q.state(), KEEPING_UP, "empty again: keeping up");
  assert.equal(q.offer(message("invite", "i3"), SRC, false), false, "and new work is handled as read again");
});

test("a slow queue yields to the loop after each slice: what the loop reads meanwhile is not held behind it", async () => {
  const order: string[] = [];
  const busy = (ms: number): void => {
    const until = performance.now() + ms;
    while (performance.now() < until);
  };
  const q = new NewWorkQueue((m) => {
    order.push(m.callId);
    busy(2); // past the 1 ms slice: one message per turn
  }, newStats());
  for (let i = 0; i < 3; i++) q.offer(message("invite", `i${i}`), SRC, true);
  // What the loop does between turns (a read, a timer): it runs before the next queued message.
  setImmediate(() => order.push("loop"));
  await drained(q);
  assert.deepEqual(order, ["i0", "loop", "i1", "i2"]);
});

test("while an input is behind, a turn takes the short slice: one slow message, then the loop reads", async () => {
  let behind = true;
  const handled: string[] = [];
  const q = new NewWorkQueue(
    (m) => {
      handled.push(m.callId);
      const until = performance.now() + 0.5; // within TURN_MS, past BEHIND_TURN_MS
      while (performance.now() < until);
    },
    newStats(),
    { inputBehind: () => behind },
  );
  for (let i = 0; i < 4; i++) q.offer(message("invite", `i${i}`), SRC, true);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(handled, ["i0"], "one per turn while behind");
  behind = false;
  await drained(q);
  assert.deepEqual(handled, ["i0", "i1", "i2", "i3"], "the rest in one turn once input keeps up");
});

test("admission reads the oldest message's wait, the one being handled included, as both its time behind and its queue", async () => {
  let t = 1000;
  const seen: Array<{ behindMs: number; queueMs: number }> = [];
  const q = new NewWorkQueue(
    () => {
      const s = q.state(t);
      seen.push({ behindMs: s.behindMs, queueMs: s.queueMs });
    },
    newStats(),
    { clock: () => t },
  );
  q.offer(message("invite", "i1"), SRC, true);
  t += 30;
  q.offer(message("invite", "i2"), SRC, true);
  t += 50;
  assert.deepEqual(q.state(t), { behindMs: 80, queueMs: 80, queuedBytes: 0, dropping: false });
  await drained(q);
  assert.deepEqual(seen, [
    { behindMs: 80, queueMs: 80 },
    { behindMs: 50, queueMs: 50 },
  ]);
  assert.equal(q.state(t), KEEPING_UP);
});

test("whenHandled resolves at once while nothing waits, else once what waited at the call was handled, whatever came since", async () => {
  const { q, handled } = recording();
  await q.whenHandled();
  q.offer(message("invite", "i1"), SRC, true);
  q.offer(message("invite", "i2"), SRC, true);
  const done = q.whenHandled();
  q.offer(message("invite", "i3"), SRC, true); // a flood goes on: not waited for
  await done;
  assert.deepEqual(handled.slice(0, 2), ["i1", "i2"]);
  assert.ok(handled.length <= 3);
  await q.whenHandled();
  assert.deepEqual(handled, ["i1", "i2", "i3"]);
});

test("the queue is worked at every turn's end, not every second one, with nothing else at the turns' ends", async () => {
  const order: string[] = [];
  const q = new NewWorkQueue((m) => {
    order.push(m.callId);
    const until = performance.now() + 2; // past the slice: one message per turn
    while (performance.now() < until);
  }, newStats());
  for (let i = 0; i < 4; i++) q.offer(message("invite", `i${i}`), SRC, true);
  // A mark per loop turn, for as long as messages wait.
  const tick = (): void => {
    order.push("turn");
    if (q.length > 0) setImmediate(tick);
  };
  setImmediate(tick);
  await q.whenHandled();
  const between = order
    .join(" ")
    .split(/ ?i\d ?/)
    .slice(1, -1);
  assert.deepEqual(
    between.map((s) => s.split(" ").filter((x) => x === "turn").length),
    [1, 1, 1],
    order.join(" "),
  );
});

test("a stop empties the queue: each message told, none handled", () => {
  const q = new NewWorkQueue(() => assert.fail("nothing is handled after a stop"), newStats());
  q.offer(message("invite", "i1"), SRC, true);
  q.offer(message("cancel", "i1"), SRC, true);
  let told = 0;
  assert.equal(
    q.discard(() => told++),
    2,
  );
  assert.equal(told, 2);
  assert.equal(q.length, 0);
  assert.equal(q.state(), KEEPING_UP);
});

test("the queue is bounded: past maxWaiting new work is handled as read and counted; a CANCEL still waits behind its INVITE", async () => {
  const handled: string[] = [];
  const stats = newStats();
  const q = new NewWorkQueue((m) => handled.push(`${m.method} ${m.callId}`), stats, { maxWaiting: 2 });
  assert.equal(q.offer(message("invite", "i1"), SRC, true), true);
  assert.equal(q.offer(message("invite", "i2"), SRC, true), true);
  assert.equal(q.offer(message("invite", "i3"), SRC, true), false, "full: handled now");
  assert.equal(q.offer(message("cancel", "i2"), SRC, true), true, "a CANCEL waits all the same");
  assert.equal(stats.newWorkOverflowed, 1);
  await drained(q);
  assert.deepEqual(handled, ["INVITE i1", "INVITE i2", "CANCEL i2"]);
});

test("sources are served in turn, each in its own order: a source with many waiting does not hold back another's", async () => {
  const { q, handled } = recording();
  const b = OTHER;
  for (let i = 0; i < 4; i++) q.offer(message("invite", `a${i}`), SRC, true);
  for (let i = 0; i < 2; i++) q.offer(message("invite", `b${i}`), b, true);
  await q.whenHandled();
  assert.deepEqual(handled, ["a0", "b0", "a1", "b1", "a2", "a3"]);
});

test("a TCP connection is a source of its own, whatever its address", async () => {
  const { q, handled } = recording();
  const tcp = (connId: number): Source => ({ ...SRC, proto: "tcp", connId });
  q.offer(message("invite", "c1-0"), tcp(1), true);
  q.offer(message("invite", "c1-1"), tcp(1), true);
  q.offer(message("invite", "c2-0"), tcp(2), true);
  await q.whenHandled();
  assert.deepEqual(handled, ["c1-0", "c2-0", "c1-1"]);
});

test("a CANCEL from another source than its INVITE (TCP INVITE, UDP CANCEL) still waits behind it", async () => {
  const { q, handled } = recording((m) => `${m.method} ${m.callId}`);
  const tcp: Source = { ...SRC, proto: "tcp", connId: 3 };
  q.offer(message("invite", "other"), tcp, true);
  q.offer(message("invite", "c1"), tcp, true);
  q.offer(message("cancel", "c1"), SRC, true); // over UDP, a source with nothing else waiting
  await q.whenHandled();
  assert.deepEqual(handled, ["INVITE other", "INVITE c1", "CANCEL c1"]);
});

test("whenHandled waits for every message waiting at the call, though other sources' newer ones are handled in between", async () => {
  const { q, handled } = recording();
  const b = OTHER;
  for (let i = 0; i < 4; i++) q.offer(message("invite", `a${i}`), SRC, true);
  const done = q.whenHandled();
  for (let i = 0; i < 4; i++) q.offer(message("invite", `b${i}`), b, true);
  await done;
  assert.ok(
    ["a0", "a1", "a2", "a3"].every((id) => handled.includes(id)),
    handled.join(" "),
  );
});

test("garbage in the headers it reads (To, Call-ID, CSeq) never throws: such a request is handled once, now or in its turn", async () => {
  const { q, handled } = recording((m) => m.requestUri);
  const bad = (line: RegExp, by: string, uri: string): SipMessageLike => {
    const text = sipRequest({ method: "INVITE", uri }).toString("latin1").replace(line, by);
    const r = parseMessage(Buffer.from(text, "latin1"));
    assert.ok(r.ok, "the parser reads headers lazily: these fail only when read");
    return r.msg;
  };
  const now: string[] = [];
  for (const m of [
    bad(/^To: .*$/m, "To: <<<\u0001", "sip:to@x"),
    bad(/^CSeq: .*$/m, "CSeq: x INVITE", "sip:cseq@x"),
    bad(/^Call-ID: .*$/m, "Call-ID:", "sip:callid@x"),
  ])
    if (!q.offer(m, SRC, true)) now.push(m.requestUri);
  await q.whenHandled();
  assert.deepEqual([...now, ...handled].sort(), ["sip:callid@x", "sip:cseq@x", "sip:to@x"]);
});

test("property: whatever the mix, the sources and the input's state, every message is handled once, each source's waiting ones in its order, no CANCEL before its INVITE", async () => {
  const kinds = fc.constantFrom<Kind>("invite", "bye", "response", "cancel");
  const sources: Source[] = [SRC, { ...SRC, remoteAddr: "10.0.0.2" }, { ...SRC, proto: "tcp", connId: 7 }];
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(kinds, fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 2 })), { maxLength: 60 }),
      fc.integer({ min: 1, max: 8 }),
      async (steps, maxWaiting) => {
        const handled: string[] = [];
        const name = (m: SipMessageLike): string => `${m.method} ${m.callId} ${m.topVia.branch}`;
        const q = new NewWorkQueue((m) => handled.push(name(m)), newStats(), { maxWaiting, turnMs: 0, behindTurnMs: 0 });
        const waited = new Map<number, string[]>(); // by source
        const inviteSource: number[] = [];
        for (const [i, [kind, behind, turnEnds, from]] of steps.entries()) {
          // A CANCEL is for the last INVITE offered (i-1 when there is none yet), from any source.
          const invites = inviteSource.length;
          const id = kind === "invite" ? `i${invites}` : kind === "cancel" ? `i${invites - 1}` : `x${i}`;
          const source = from;
          if (kind === "invite") inviteSource.push(source);
          const m = message(kind, id, i);
          if (q.offer(m, sources[source] as Source, behind)) waited.set(source, [...(waited.get(source) ?? []), name(m)]);
          else handled.push(name(m));
          if (turnEnds) await new Promise((resolve) => setImmediate(resolve));
        }
        await q.whenHandled();
        assert.equal(handled.length, steps.length, "each handled once");
        assert.equal(new Set(handled).size, handled.length);
        for (const [at, h] of handled.entries()) {
          const id = h.split(" ")[1] as string;
          if (!h.startsWith("CANCEL ") || id === "i-1") continue;
          const invite = handled.findIndex((x) => x.startsWith(`INVITE ${id} `));
          assert.ok(invite >= 0 && invite < at, `${h} after its INVITE`);
        }
        // Each source's INVITEs, BYEs and responses in its order (a CANCEL may wait in its INVITE's queue).
        for (const [source, list0] of waited) {
          const list = list0.filter((h) => !h.startsWith("CANCEL "));
          assert.deepEqual(
            handled.filter((h) => list.includes(h)),
            list,
            `source ${source}: what waited is handled in the order it was queued`,
          );
        }
      },
    ),
    { numRuns: 200 },
  );
});
