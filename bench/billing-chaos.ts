// The full billing chaos run (issue "Dialogs", part 5), recorded: examples/billing/chaos.ts with
// 1,000 calls by default, its report printed and appended to bench/RESULTS.md. It proves a property
// (every answered call billed once across kill -9s) rather than a speed; the durations column shows
// how far the ledger is from what SIPp saw.
// Run: npm run build && node dist/bench/billing-chaos.js [calls=1000] [rate=20] [graceful]
// ("graceful": the router is stopped with SIGTERM, its drain included in the outage, instead of kill -9)
import { formatReport, lostNothing, runChaos } from "../examples/billing/chaos.js";
import { appendResults, resultsHeader } from "./support/results.js";

const calls = Number(process.argv[2] ?? 1000);
const rate = Number(process.argv[3] ?? 20);
const graceful = process.argv[4] === "graceful";
const header = resultsHeader(`node dist/bench/billing-chaos.js ${calls} ${rate}${graceful ? " graceful" : ""}`);
const r = await runChaos({ calls, rate, graceful, log: (l) => console.log(l) });
const text = formatReport(r);
console.log(text);
appendResults(
  `${header}Billing under chaos: ${calls} calls at ${rate}/s, consumer kill -9 twice, router ${graceful ? "SIGTERM (graceful restart)" : "kill -9"} once.\n\n${text.replace(/^/gm, "- ")}\n`,
);
process.exitCode = lostNothing(r) ? 0 : 1;
