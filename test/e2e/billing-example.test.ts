// examples/billing with SIPp: the example router (dialogs: call-start on dialog:start, call-end on
// dialog:end) relays call events to the example billing app on the SDK in plain mode, which bills
// three SIPp calls to the caller "sipp"; a retransmitted or unknown call-end never bills twice, and
// a ledger kept in a file is read back without billing a call again. (Durable mode under kill -9:
// billing-chaos.test.ts.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EvapiModule } from "../../src/modules/evapi/index.js";
import { hasSipp, runSipp, SKIP_NO_SIPP, startSipp } from "../support/sipp.js";
import { startRouter } from "../support/router.js";
import { startBilling, Ledger, type CallRecord } from "../../examples/billing/billing.js";

const skip = hasSipp() ? false : SKIP_NO_SIPP;

test("billing example: three record-routed SIPp calls are billed to their caller", { skip, timeout: 30_000 }, async () => {
  const uas = await startSipp({ scenario: "uas-answer-rr.xml", calls: 3, timeoutSec: 20 });
  await uas.ready;
  process.env.BILLING_UPSTREAM = `sip:127.0.0.1:${uas.port}`;
  process.env.EVAPI_BIND_ADDR = "127.0.0.1:0";
  const state = mkdtempSync(join(tmpdir(), "evsip-billing-"));
  process.env.BILLING_STATE_DIR = state;
  const { default: app } = await import("../../examples/billing/app.js");
  const r = await startRouter(app, ["udp:127.0.0.1:0"]);
  const lines: string[] = [];
  const billed: CallRecord[] = [];
  let allBilled!: () => void;
  const done = new Promise<void>((res) => (allBilled = res));
  const billing = await startBilling({
    port: (r.internals.modules.get("evapi") as EvapiModule).address().port,
    log: (l) => lines.push(l),
    onCall: (rec) => {
      billed.push(rec);
      if (billed.length === 3) allBilled();
    },
  });
  try {
    await billing.subscribed;
    const res = await runSipp({
      scenario: "uac-call-rr.xml",
      target: r.target("udp"),
      service: "bob",
      calls: 3,
      rate: 10,
      timeoutSec: 15,
    });
    assert.equal(res.code, 0, res.stderr || res.stdout.slice(-2000));
    assert.equal((await uas.done).code, 0);
    await Promise.race([done, new Promise((_, rej) => setTimeout(() => rej(new Error(`billed ${billed.length} of 3`)), 5000))]);
    const t = billing.ledger.totals.get("sipp");
    assert.equal(t?.calls, 3);
    assert.ok(t.seconds >= 3 * 0.04 && t.seconds < 15, `total ${t.seconds} s`); // each call lasts the 50 ms pause and more
    assert.equal(billing.ledger.inProgress, 0);
    assert.deepEqual(new Set(billed.map((b) => b.callee)), new Set(["bob"]));
    assert.match(lines.at(-1) ?? "", /sipp\s+3\s+/);
  } finally {
    await billing.close();
    await uas.stop();
    await r.stop();
    rmSync(state, { recursive: true, force: true });
  }
});

test("ledger: duplicates, unknown calls and malformed events never bill", () => {
  const l = new Ledger();
  const ev = (event: string, ci: string, ts: number) => ({ event, ci, from: "<sip:alice@a>", to: "sip:bob@b", ts });
  assert.equal(l.apply(ev("call-end", "x", 5)), undefined, "end without start");
  assert.equal(l.apply(ev("call-start", "c1", 10)), undefined);
  assert.equal(l.apply(ev("call-start", "c1", 11)), undefined, "a retransmitted 200 keeps the first start");
  assert.deepEqual(l.apply(ev("call-end", "c1", 12.5)), { ci: "c1", caller: "alice", callee: "bob", seconds: 2.5 });
  assert.equal(l.apply(ev("call-end", "c1", 13)), undefined, "a retransmitted BYE bills nothing");
  assert.equal(l.apply(ev("call-start", "c1", 14)), undefined, "a late 200 retransmission does not reopen the call");
  for (const bad of [
    null,
    1,
    "x",
    {},
    { event: "call-end", ci: 1 },
    { ...ev("call-start", "c2", 1), ts: "1" },
    { ...ev("call-start", "c2", 1), ts: NaN },
  ]) {
    assert.equal(l.apply(bad), undefined);
  }
  assert.equal(l.inProgress, 0);
  assert.deepEqual(l.totals.get("alice"), { calls: 1, seconds: 2.5 });
  assert.match(l.format(), /alice\s+1\s+2\.500 s/);
});

test("ledger file: evsip's call-end bills alone, and a redelivered one after a restart is not billed again", () => {
  const dir = mkdtempSync(join(tmpdir(), "evsip-ledger-"));
  try {
    const file = join(dir, "ledger.jsonl");
    const end = (ci: string, start: number, ts: number) => ({
      event: "call-end",
      ci,
      from: "sip:a@x",
      to: "sip:b@y",
      ts,
      start,
      reason: "bye",
    });
    const first = new Ledger(file);
    assert.deepEqual(first.apply(end("c1", 100, 130)), { ci: "c1", caller: "a", callee: "b", seconds: 30, reason: "bye" });
    assert.equal(first.apply({ ...end("c2", 1, 2), start: "1" }), undefined, "a start that is not a number");
    const again = new Ledger(file); // the consumer restarted: the event comes again
    assert.deepEqual(again.totals.get("a"), { calls: 1, seconds: 30 });
    assert.equal(again.apply(end("c1", 100, 130)), undefined);
    assert.ok(again.apply(end("c3", 200, 201)));
    assert.deepEqual(
      new Ledger(file).records.map((r) => r.ci),
      ["c1", "c3"],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("ledger file: a torn last line is cut off, so the call billed next survives the following restart", () => {
  const dir = mkdtempSync(join(tmpdir(), "evsip-ledger-"));
  try {
    const file = join(dir, "ledger.jsonl");
    const end = (ci: string) => ({ event: "call-end", ci, from: "sip:a@x", to: "sip:b@y", ts: 20, start: 10 });
    assert.ok(new Ledger(file).apply(end("c1")));
    appendFileSync(file, '{"ci":"c2","caller":"a"'); // c2's append torn by a crash: never acknowledged
    const restarted = new Ledger(file);
    assert.deepEqual(
      restarted.records.map((r) => r.ci),
      ["c1"],
    );
    assert.ok(restarted.apply(end("c2")), "c2 comes again and is billed");
    assert.ok(restarted.apply(end("c3")));
    assert.deepEqual(
      new Ledger(file).records.map((r) => r.ci),
      ["c1", "c2", "c3"],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
