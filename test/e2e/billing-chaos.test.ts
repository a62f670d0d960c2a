// The billing example under chaos, as the full run (`node dist/examples/billing/chaos.js 1000 20`)
// but with 100 calls: SIPp callers and callees through the real router (evsip run, dialogs and
// durable events on disk), callers or callees hanging up after 0.5–3 s or never (the dialog's 5 s
// timeout ends those); the billing consumer is killed with SIGKILL twice and the router once, each
// restarted at once. Every call SIPp saw answered is in the consumer's ledger exactly once, within
// 1 s of SIPp's duration, except calls that ended while the router was down: their BYE got through
// on a retransmission, or the timeout ended them first (then the router's BYE crosses theirs). The
// restart takes about 1 s here; on a loaded machine it can take long enough for that second case,
// which `node dist/examples/billing/chaos.js 100 10 3000` (3 s down) shows on every run.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  callersSaw503,
  countOverload,
  sippErrorEntries,
  formatReport,
  lostNothing,
  runChaos,
  type ChaosReport,
  type CheckedCall,
} from "../../examples/billing/chaos.js";
import { hasSipp, SKIP_NO_SIPP } from "../support/sipp.js";

const EXPECTED_REASON: Record<CheckedCall["kind"], string> = { "caller-bye": "bye", "callee-bye": "bye", "no-bye": "timeout" };

/**
 * The calls ended for another reason than their kind's, then how many calls of each kind. A call
 * whose BYE was sent while the router was down may be ended by the dialog timeout instead, when
 * none of the BYE's retransmissions could reach the restarted router before it.
 */
function kindsAndReasons(checked: readonly CheckedCall[]): [string[], number, number, number] {
  const wrong = checked
    .filter((c) => c.reason !== EXPECTED_REASON[c.kind] && !(c.timeoutExcused && c.reason === "timeout"))
    .map((c) => `${c.ci} ${c.kind} ended by ${c.reason ?? "nothing"}`);
  const count = (k: CheckedCall["kind"]): number => checked.filter((c) => c.kind === k).length;
  return [wrong, count("caller-bye"), count("callee-bye"), count("no-bye")];
}

test(
  "billing under chaos: 100 calls, consumer killed twice and the router once, every answered call billed once",
  // Above the run's own bounds (SIPp stops at 10 + 5 + 120 s, a fault's wait 10 s after that), so a
  // failing run ends with its report or its reason, not with this limit.
  { skip: hasSipp() ? false : SKIP_NO_SIPP, timeout: 200_000 },
  async () => {
    const r = await runChaos({ calls: 100, rate: 10 });
    const report = formatReport(r);
    assert.equal(r.faults.length, 3, report);
    assert.equal(r.sipp.failed, 0, report);
    assert.equal(r.sipp.successful, 200, report); // 100 callers and 100 callees
    assert.equal(r.answered, 100, report);
    assert.deepEqual([r.overload, r.sipp.refused503, r.sipp.calleesFailed], [{ spells: 0, refused: 0 }, 0, 0], report);
    assert.deepEqual([r.missing, r.billedTwice, r.unknown], [[], [], []], report);
    assert.equal(r.ledgerLines, 100, report);
    assert.deepEqual(r.misbilled, [], report);
    assert.ok(r.worstDelta <= 1, report);
    assert.deepEqual(kindsAndReasons(r.checked), [[], 40, 40, 20], report);
    // A BYE sent while the router was down is retransmitted (T1 doubling): billed late by at most the outage and one interval.
    const late = r.checked.filter(
      (c) =>
        c.endedInOutage && c.reason === "bye" && Math.abs((c.billedSeconds ?? 0) - (c.sippSeconds ?? 0)) > r.outageMs / 1000 + 2,
    );
    assert.deepEqual(late, [], report);
  },
);

test(
  "billing under chaos with a graceful restart: the router stopped with SIGTERM, every answered call billed once, the rest refused",
  // As above; a graceful stop also drains (calls in flight finish, new ones are refused with 503),
  // then reads no more SIP, so a BYE sent during its last second reaches the new router instead.
  { skip: hasSipp() ? false : SKIP_NO_SIPP, timeout: 200_000 },
  async () => {
    const r = await runChaos({ calls: 100, rate: 10, graceful: true });
    const report = formatReport(r);
    assert.equal(r.faults.length, 3, report);
    assert.ok(
      r.faults.some((f) => f.includes("SIGTERM")),
      report,
    );
    assert.ok(lostNothing(r), report);
    assert.deepEqual([r.missing, r.billedTwice, r.unknown, r.misbilled], [[], [], [], []], report);
    assert.equal(r.ledgerLines, r.answered, report);
    assert.ok(r.answered >= 90, `most calls answered: ${report}`);
  },
);

test("the chaos run's overload count: spells begun and calls refused, from the router's ERR_OVERLOAD lines", () => {
  // The ERR_OVERLOAD lines as a router logged them in a run of 20,000 calls at 600/s (its restart met
  // the retransmissions of a 1.6 s outage); the ERR_DIALOG_TIMEOUT and non-JSON lines are made up.
  const lines = [
    '{"level":40,"time":1795857929021,"name":"evsip","rule":"queue past shedQueue","behindMs":254,"queueMs":109,"shedQueue":100,"shedAfter":2000,"code":"ERR_OVERLOAD","msg":"overload: new calls are refused with 503 + Retry-After"}',
    '{"level":30,"time":1795857929032,"name":"evsip","refused":29,"forMs":8,"code":"ERR_OVERLOAD","msg":"overload over: new calls are admitted again"}',
    '{"level":30,"time":1795857929040,"name":"evsip","code":"ERR_DIALOG_TIMEOUT","msg":"dialog timed out","refused":7}',
    '{"level":40,"time":1795857929195,"name":"evsip","rule":"queue past shedQueue","behindMs":428,"queueMs":106,"code":"ERR_OVERLOAD","msg":"overload: new calls are refused with 503 + Retry-After"}',
    '{"level":30,"time":1795857929342,"name":"evsip","refused":195,"forMs":146,"code":"ERR_OVERLOAD","msg":"overload over: new calls are admitted again"}',
    'evsip listening on udp:127.0.0.1:5060 "ERR_OVERLOAD" in a line that is not JSON',
  ];
  const into = { spells: 0, refused: 0 };
  for (const l of lines) countOverload(l, into);
  assert.deepEqual(into, { spells: 2, refused: 224 });
});

test("a chaos run lost nothing when each call was billed once or refused with a 503 its caller saw", () => {
  const clean = {
    calls: 10,
    sipp: { successful: 16, failed: 2, exitCodes: [1, 0], errors: [], calleesFailed: 0, refused503: 2 },
    overload: { spells: 1, refused: 2 },
    answered: 8,
    ledgerLines: 8,
    missing: [],
    billedTwice: [],
    unknown: [],
    misbilled: [],
    worstDelta: 0,
    worstDeltaOutage: 0,
    outageMs: 0,
    faults: [],
    checked: [],
  } satisfies ChaosReport;
  assert.equal(lostNothing(clean), true);
  // a failure that was not a refusal (a call left unanswered, say)
  assert.equal(lostNothing({ ...clean, sipp: { ...clean.sipp, failed: 3 } }), false);
  // a callee that failed (the call reached it, so it was not a refusal)
  assert.equal(lostNothing({ ...clean, sipp: { ...clean.sipp, failed: 3, calleesFailed: 1 } }), false);
  // the router's own count is shown, not checked: a refused INVITE's retransmission counts again
  assert.equal(lostNothing({ ...clean, overload: { spells: 1, refused: 5 } }), true);
  // a call neither answered nor refused
  assert.equal(lostNothing({ ...clean, answered: 7 }), false);
  // an answered call not billed
  assert.equal(lostNothing({ ...clean, missing: ["ci-1"] }), false);
});

test("a chaos report gives SIPp's errors a line each and leaves out the aborts on a 503 it counts as refusals", () => {
  // The shape SIPp 3.6 writes with -trace_err: each entry after a date, a quoted message on the lines after.
  const text = [
    "The following events occurred:",
    "2026-11-28\t17:53:36.017996\t1795888416.017996: Aborting call on unexpected message for Call-Id '2245-1@127.0.0.1': while expecting 'BYE' (index 1), received 'SIP/2.0 503 Service Unavailable",
    "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-1",
    "CSeq: 1 INVITE",
    "",
    "'2026-11-28\t17:53:36.021403\t1795888416.021403: Aborting call on unexpected message for Call-Id '7-1@127.0.0.1': while expecting '200' (index 3), received 'SIP/2.0 500 Server Error",
    "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-2",
    "",
    "'2026-11-28\t17:55:49.806861\t1795888549.806861: uas-answer timed out after '144.996' seconds",
  ].join("\n");
  const entries = sippErrorEntries(text);
  assert.equal(entries.length, 2, entries.join("\n"));
  assert.match(entries[0] ?? "", /received 'SIP\/2\.0 500 Server Error$/);
  assert.match(entries[1] ?? "", /timed out after/);
});

test("only a 503 to an INVITE counts as a refusal: a 503 to a BYE stays in the report as an error", () => {
  const entry = (n: number, method: string): string =>
    [
      `'2026-11-28\t17:53:3${n}.017996\t1795888416.017996: Aborting call on unexpected message for Call-Id '${n}-1@127.0.0.1': while expecting 'BYE' (index 1), received 'SIP/2.0 503 Service Unavailable`,
      `Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-${n}`,
      `CSeq: ${n} ${method}`,
      "",
    ].join("\n");
  const text = `The following events occurred:\n${entry(1, "INVITE")}${entry(2, "BYE")}${entry(3, "INVITE")}`;
  assert.equal(callersSaw503([text, entry(4, "INVITE")]), 3);
  assert.equal(callersSaw503([text, entry(3, "INVITE")]), 2, "a call's abort logged twice is one refused call");
  const entries = sippErrorEntries(text);
  assert.equal(entries.length, 1, entries.join("\n"));
  assert.match(entries[0] ?? "", /Call-Id '2-1@/);
});
