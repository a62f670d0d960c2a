// The billing example under chaos, as the full run (`node dist/examples/billing/chaos.js 1000 20`)
// but with 100 calls: SIPp callers and callees through the real router (evsip run, dialogs and
// durable events on disk), callers or callees hanging up after 0.5–3 s or never (the dialog's 5 s
// timeout ends those); the billing consumer is killed with SIGKILL twice and the router once, each
// restarted at once. Every call SIPp saw answered is in the consumer's ledger exactly once, within
// 1 s of SIPp's duration, except calls that ended while the router was down: their BYE got through
// on a retransmission, or the timeout ended them first (then the router's BYE crosses theirs).
import { test } from "node:test";
import assert from "node:assert/strict";
import { formatReport, runChaos } from "../../examples/billing/chaos.js";
import { hasSipp, SKIP_NO_SIPP } from "../support/sipp.js";

test(
  "billing under chaos: 100 calls, consumer killed twice and the router once, every answered call billed once",
  { skip: hasSipp() ? false : SKIP_NO_SIPP, timeout: 150_000 },
  async () => {
    const r = await runChaos({ calls: 100, rate: 10 });
    const report = formatReport(r);
    assert.equal(r.faults.length, 3, report);
    assert.equal(r.sipp.failed, 0, report);
    assert.equal(r.sipp.successful, 200, report); // 100 callers and 100 callees
    assert.equal(r.answered, 100, report);
    assert.deepEqual([r.missing, r.billedTwice, r.unknown], [[], [], []], report);
    assert.equal(r.ledgerLines, 100, report);
    assert.ok(r.worstDelta <= 1, report);
    // A BYE sent while the router was down is retransmitted (T1 doubling): billed late by at most the outage and one interval.
    assert.ok(r.worstDeltaOutage <= r.outageMs / 1000 + 2, report);
    const byKind = (k: string, reason: string) => r.checked.filter((c) => c.kind === k && c.reason === reason).length;
    assert.deepEqual(
      [byKind("caller-bye", "bye"), byKind("callee-bye", "bye"), byKind("no-bye", "timeout")],
      [40, 40, 20],
      report,
    );
  },
);
