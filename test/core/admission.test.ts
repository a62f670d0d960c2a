// Admission's overload spells as an operator reads them: the start logged with the rule that made the
// decision and the input's state it read, the end at the next new call admitted (with the refusals and
// how long they went on, up to the last one), or when a graceful stop takes over. The input's state is
// given as a function, as the transport gives it; the 503s go to a replier that records them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Admission, type AdmissionParams } from "../../src/core/admission.js";
import type { StatelessReplier } from "../../src/core/sl.js";
import { RateLimitedLog } from "../../src/common/rate-limited-log.js";
import { parseMessage } from "../../src/sip/index.js";
import type { SipMessageLike } from "../../src/sip/types.js";
import type { Source } from "../../src/transport/types.js";
import { KEEPING_UP, type BacklogState } from "../../src/transport/input-backlog.js";
import { sipRequest } from "../support/sip-samples.js";
import { captureLogger } from "../support/transport-harness.js";

const SRC: Source = {
  proto: "udp",
  remoteAddr: "127.0.0.1",
  remotePort: 5099,
  localAddr: "127.0.0.1",
  localPort: 5060,
  connId: 0,
};

function msg(method: string, callId: string, uri?: string): SipMessageLike {
  const r = parseMessage(sipRequest({ method, callId, uri }));
  assert.ok(r.ok);
  return r.msg;
}

function setup(over: Partial<AdmissionParams> = {}): {
  admission: Admission;
  lines: Record<string, unknown>[];
  answered: number[];
  input: { state: BacklogState };
  clock: { now: number };
} {
  const { logger, lines } = captureLogger();
  const answered: number[] = [];
  const replier = { replyTo: (_m: SipMessageLike, _s: Source, code: number) => answered.push(code) > 0 };
  const input: { state: BacklogState } = { state: KEEPING_UP };
  const clock = { now: 1000 };
  const admission = new Admission(
    replier as unknown as StatelessReplier,
    {
      retryAfter: 5,
      drainTimeout: 1000,
      shedAfter: 2000,
      shedQueue: 100,
      startGrace: 0,
      shedQueueAtStart: 400,
      ocQueue: 20,
      ocValidity: 500,
      emergencyRate: 20,
      setAsideQueue: 20,
      ...over,
    },
    { inputBacklog: () => input.state },
    new RateLimitedLog(logger),
    () => clock.now,
  );
  return { admission, lines, answered, input, clock };
}

test("a spell is logged with the rule that fired and the state it read; its end counts its refusals", () => {
  const { admission, lines, answered, input } = setup();
  input.state = { behindMs: 300, queuedBytes: 1000, queueMs: 140, dropping: false };
  assert.equal(admission.refuse(msg("INVITE", "a"), SRC), true);
  assert.equal(admission.refuse(msg("ACK", "x"), SRC), false, "an ACK is never refused");
  assert.equal(admission.refuse(msg("INVITE", "b"), SRC), true);
  input.state = { behindMs: 2500, queuedBytes: 0, queueMs: 20, dropping: false };
  assert.equal(admission.refuse(msg("INVITE", "c"), SRC), true, "still closed, now by shedAfter: the same spell");
  input.state = KEEPING_UP;
  assert.equal(admission.refuse(msg("INVITE", "d"), SRC), false);
  assert.deepEqual(answered, [503, 503, 503]);
  assert.deepEqual(
    lines.map((l) => [l.level, l.rule, l.queueMs, l.refused]),
    [
      [40, "queue past shedQueue", 140, undefined],
      [30, undefined, undefined, 3],
    ],
  );
});

test("the kernel's drops are named as the rule; a graceful stop ends an open spell", () => {
  const { admission, lines, input } = setup();
  input.state = { behindMs: 50, queuedBytes: 0, queueMs: 0, dropping: true };
  assert.equal(admission.refuse(msg("INVITE", "a"), SRC), true);
  admission.startDraining();
  assert.equal(admission.refuse(msg("INVITE", "b"), SRC), true, "refused for the stop");
  assert.deepEqual(
    admission.stats.refused,
    new Map([
      ["overload", 1],
      ["draining", 1],
    ]),
  );
  assert.deepEqual(
    lines.map((l) => [l.rule, l.refused, l.msg]),
    [
      ["the kernel dropped datagrams", undefined, "overload: new calls are refused with 503 + Retry-After"],
      [undefined, 1, "overload over: a graceful stop refuses new calls now"],
    ],
  );
});

test("a module's claim of accepted work is asked only while new work is refused, and only for new work", () => {
  const { admission, answered } = setup();
  const asked: string[] = [];
  admission.addAcceptedWork((m) => {
    asked.push(`${m.method} ${m.callId}`);
    return m.callId === "kept";
  });
  assert.equal(admission.refuse(msg("INVITE", "open"), SRC), false);
  assert.deepEqual(asked, [], "not asked while new work is admitted");
  admission.startDraining();
  assert.equal(admission.refuse(msg("INVITE", "kept"), SRC), false, "claimed: let through");
  assert.equal(admission.refuse(msg("INVITE", "new"), SRC), true, "not claimed: refused");
  assert.equal(admission.refuse(msg("ACK", "kept"), SRC), false);
  assert.equal(admission.refuse(msg("CANCEL", "kept"), SRC), false);
  assert.deepEqual(asked, ["INVITE kept", "INVITE new"], "never asked for what opens no new work");
  assert.deepEqual(answered, [503]);
});

test("emergency calls pass an overload, counted, without ending its spell; a graceful stop refuses them", () => {
  const { admission, answered, input, lines } = setup();
  input.state = { behindMs: 300, queuedBytes: 1000, queueMs: 140, dropping: false };
  assert.equal(admission.refuse(msg("INVITE", "a"), SRC), true);
  assert.equal(admission.refuse(msg("INVITE", "sos", "urn:service:sos"), SRC), false, "admitted");
  assert.equal(admission.refuse(msg("INVITE", "police", "URN:service:sos.police"), SRC), false, "a sub-service, any case");
  assert.equal(admission.refuse(msg("INVITE", "other", "urn:service:counseling"), SRC), true, "not an emergency service");
  assert.equal(admission.stats.emergency, 2);
  assert.equal(lines.length, 1, "the spell goes on: no 'overload over' line");
  admission.startDraining();
  assert.equal(
    admission.refuse(msg("INVITE", "sos2", "urn:service:sos"), SRC),
    true,
    "a stop would cut the call: the caller goes elsewhere now",
  );
  assert.equal(admission.stats.emergency, 2);
  assert.deepEqual(answered, [503, 503, 503]);
});

test("past emergencyRate a second, emergency calls are refused like any call; the rate refills with time", () => {
  const { admission, answered, input, clock } = setup({ emergencyRate: 2 });
  input.state = { behindMs: 300, queuedBytes: 1000, queueMs: 140, dropping: false };
  const sos = (id: string): boolean => admission.refuse(msg("INVITE", id, "urn:service:sos"), SRC);
  assert.deepEqual([sos("1"), sos("2"), sos("3")], [false, false, true], "a burst of two, then refused");
  clock.now += 500;
  assert.deepEqual([sos("4"), sos("5")], [false, true], "half a second brings one back");
  assert.equal(admission.stats.emergency, 3);
  assert.deepEqual(answered, [503, 503]);
  const none = setup({ emergencyRate: 0 });
  none.input.state = input.state;
  assert.equal(none.admission.refuse(msg("INVITE", "x", "urn:service:sos"), SRC), true, "0: no exemption");
});

test("for startGrace after the listeners open, the queue rule sheds at shedQueueAtStart, then at shedQueue again", () => {
  const { admission, answered, input, clock, lines } = setup({ startGrace: 5000, shedQueueAtStart: 400 });
  // A restart's backlog: behind, with 250 ms of queue. Before opened() no grace is running.
  input.state = { behindMs: 300, queuedBytes: 200_000, queueMs: 250, dropping: false };
  assert.equal(admission.refuse(msg("INVITE", "before"), SRC), true, "no grace before the listeners open");
  admission.opened();
  assert.equal(admission.refuse(msg("INVITE", "a"), SRC), false, "250 ms is read, not shed, in the grace");
  input.state = { behindMs: 900, queuedBytes: 400_000, queueMs: 450, dropping: false };
  assert.equal(admission.refuse(msg("INVITE", "b"), SRC), true, "past shedQueueAtStart: shed even in the grace");
  input.state = { behindMs: 100, queuedBytes: 0, queueMs: 0, dropping: true };
  assert.equal(admission.refuse(msg("INVITE", "c"), SRC), true, "the kernel's drops shed in the grace too");
  clock.now += 5000;
  input.state = { behindMs: 300, queuedBytes: 200_000, queueMs: 250, dropping: false };
  assert.equal(admission.refuse(msg("INVITE", "d"), SRC), true, "grace over: shedQueue again");
  assert.deepEqual(answered, [503, 503, 503, 503]);
  const starts = lines.filter((l) => l.level === 40).map((l) => [l.rule, l.shedQueue, l.queueBound, l.atStart]);
  assert.deepEqual(starts, [
    ["queue past shedQueue", 100, 100, false],
    ["queue past shedQueue", 100, 400, true],
  ]);
});

test("startGrace 0 keeps shedQueue from the start", () => {
  const { admission, input } = setup({ startGrace: 0 });
  admission.opened();
  input.state = { behindMs: 300, queuedBytes: 200_000, queueMs: 250, dropping: false };
  assert.equal(admission.refuse(msg("INVITE", "a"), SRC), true);
});

test("the grace never sheds more than shedQueue would: shedQueue 0 stays off, a wider shedQueue stays in force", () => {
  for (const shedQueue of [0, 1000]) {
    const { admission, input } = setup({ shedQueue, startGrace: 5000, shedQueueAtStart: 400 });
    admission.opened();
    input.state = { behindMs: 900, queuedBytes: 400_000, queueMs: 450, dropping: false };
    assert.equal(admission.refuse(msg("INVITE", `q${shedQueue}`), SRC), false, `shedQueue ${shedQueue}: 450 ms not shed`);
  }
});

test("shedQueueAtStart 0 leaves shedQueue in force during the grace, not the queue rule off", () => {
  const { admission, input } = setup({ shedQueue: 100, startGrace: 5000, shedQueueAtStart: 0 });
  admission.opened();
  input.state = { behindMs: 300, queuedBytes: 200_000, queueMs: 250, dropping: false };
  assert.equal(admission.refuse(msg("INVITE", "z"), SRC), true);
});
