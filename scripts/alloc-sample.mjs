// A preload (`node --import scripts/alloc-sample.mjs …`) that runs V8's sampling heap profiler over
// everything the process allocates, including objects the garbage collector has already freed, and
// writes the profile when the process gets SIGTERM. It answers "how many bytes does one call
// allocate, and where": what sets the scavenge rate, which a live-heap snapshot cannot show.
//   EVSIP_ALLOC_OUT=/tmp/a.heapprofile node dist/bench/load.js --scenario async --rate 2000 \
//     --duration 10 --warmup 0 --target evsip --evsip-node-args "--import $PWD/scripts/alloc-sample.mjs"
//   node scripts/heapprofile-top.mjs /tmp/a.heapprofile 20000
// EVSIP_ALLOC_LIVE=1 keeps only what survived (the default counts the freed too).
import { Session } from "node:inspector";
import { writeFileSync } from "node:fs";

const out = process.env.EVSIP_ALLOC_OUT ?? "alloc.heapprofile";
const freedToo = process.env.EVSIP_ALLOC_LIVE !== "1";
const session = new Session();
session.connect();
session.post("HeapProfiler.enable");
session.post("HeapProfiler.startSampling", {
  samplingInterval: 4096,
  includeObjectsCollectedByMajorGC: freedToo,
  includeObjectsCollectedByMinorGC: freedToo,
});
// Prepended: runs before the router's own SIGTERM handler starts its graceful stop. The in-process
// inspector answers synchronously, so the file is written before that handler runs.
process.prependListener("SIGTERM", () => {
  session.post("HeapProfiler.stopSampling", (err, r) => {
    if (err === null) writeFileSync(out, JSON.stringify(r.profile));
  });
});
