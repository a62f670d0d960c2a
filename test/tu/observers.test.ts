// The transaction user's observer seam (what a dialog module hooks into): a real SIPp call through
// a stateful proxy, seen as requests, responses received, responses sent and transactions ended,
// with an observer that throws on every callback isolated from the one after it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { defineApp } from "../../src/app.js";
import { Server, serverInternals } from "../../src/server.js";
import type { TransactionObserver } from "../../src/core/transaction-user.js";
import { hasSipp, runSipp, SKIP_NO_SIPP, startSipp } from "../support/sipp.js";
import { captureLogger } from "../support/transport-harness.js";

const skip = hasSipp() ? false : SKIP_NO_SIPP;

test(
  "observers see a record-routed call's requests, responses and transaction ends; a throwing one is isolated",
  { skip },
  async () => {
    const uas = await startSipp({ scenario: "uas-answer-rr.xml", transport: "t1", timeoutSec: 20 });
    await uas.ready;
    const app = defineApp({
      // Timer L (64·T1) ends the INVITE transaction 3.2 s after its 200 (a shorter T1 times out a
      // callee held up on a loaded machine); the 100 leaves at once.
      tm: { t1: 50, trying100Delay: 0 },
      request(ctx) {
        if (ctx.hasToTag()) {
          if (ctx.rr.looseRoute()) ctx.tm.relay();
          return ctx.exit();
        }
        ctx.rr.recordRoute();
        ctx.tm.relay(`sip:127.0.0.1:${uas.port};transport=tcp`);
      },
    });
    const log = captureLogger();
    const server = new Server(app, { listen: ["tcp:127.0.0.1:0"], logger: log.logger });
    await server.start();
    const seen: string[] = [];
    let bothEnded!: () => void;
    const ended = new Promise<void>((resolve) => (bothEnded = resolve));
    const endedMethods: string[] = [];
    const thrower: TransactionObserver = {
      request: () => {
        throw new Error("observer bug");
      },
      sent: () => {
        throw new Error("observer bug");
      },
    };
    const recorder: TransactionObserver = {
      request: (ctx) => seen.push(`request ${ctx.msg.method}`),
      response: (st, res) => seen.push(`response ${res.status} ${st.method}`),
      sent: (st, status) => seen.push(`sent ${status} ${st.method}`),
      ended: (st) => {
        endedMethods.push(st.method);
        if (endedMethods.length === 2) bothEnded();
      },
    };
    serverInternals(server).engine.tu.observe(thrower);
    serverInternals(server).engine.tu.observe(recorder);
    try {
      const port = server.listeners()[0]?.port ?? 0;
      const uac = await runSipp({ scenario: "uac-call-rr.xml", target: `127.0.0.1:${port}`, transport: "t1" });
      assert.equal(uac.code, 0, uac.stderr || uac.stdout.slice(-2000));
      assert.equal((await uas.done).code, 0);
      await ended;
      assert.deepEqual(endedMethods.sort(), ["BYE", "INVITE"]);
      const inOrder = (names: string[]): void => {
        let at = -1;
        for (const n of names) {
          const i = seen.indexOf(n, at + 1);
          assert.ok(i > at, `${n} after the previous one in ${JSON.stringify(seen)}`);
          at = i;
        }
      };
      inOrder([
        "request INVITE",
        "sent 100 INVITE",
        "response 180 INVITE",
        "sent 180 INVITE",
        "response 200 INVITE",
        "sent 200 INVITE",
      ]);
      inOrder(["request ACK", "request BYE", "response 200 BYE", "sent 200 BYE"]);
      const errors = log.lines.filter((l) => l.code === "ERR_TM_OBSERVER_THREW");
      assert.ok(errors.length >= 4, "each throw is logged with its code");
      const counted = serverInternals(server).engine.tu.stats.errors.get("ERR_TM_OBSERVER_THREW");
      assert.equal(counted, errors.length, "and counted (evsip_tm_errors_total), once each");
    } finally {
      await uas.stop();
      await server.stop();
    }
  },
);
