// A billing consumer that writes its ledger in batches (evsip's durable delivery with `ack:
// "manual"`): events are collected as they come, and every BATCH events or every second one append
// writes them all, then client.ack(id) acknowledges up to the last of them. evsip keeps every
// event until it is acknowledged, so a crash between two writes loses nothing: what was not acked
// comes again (after the offset saved in billing.offset), and the ids in the ledger show the replay.
// `durable-consumer.ts` is the same with one write and one ack per event (`ack: "auto"`).
// Run: `node dist/examples/client/batch-ledger.js [port] [dir]` against evsip (not Kamailio: it
// has no durable mode), with `durableConsumers: ["billing"]` in the router's evapi params.
import { appendFile } from "node:fs/promises";
import { join } from "node:path";
import { EvapiClient, fileDurableStore } from "evsip/client";

const port = Number(process.argv[2] ?? 8448);
const dir = process.argv[3] ?? ".";
const BATCH = 100;

const client = new EvapiClient({
  port,
  durable: { consumer: "billing", store: fileDurableStore(join(dir, "billing.offset")), ack: "manual" },
});

let lines: string[] = [];
let lastId = 0;
/** The write in progress: the next one waits for it, so batches reach the file in id order. */
let writing: Promise<void> = Promise.resolve();

/** Appends the events collected so far in one write, then acknowledges up to the last of them. */
function flush(): Promise<void> {
  if (lines.length === 0) return writing;
  const text = lines.join("");
  const upTo = lastId;
  lines = [];
  writing = writing
    .then(async () => {
      await appendFile(join(dir, "billing.ledger"), text);
      client.ack(upTo); // cumulative: every event up to upTo is in the ledger now
      console.log(`acked ${upTo}`);
    })
    .catch((e: unknown) => {
      // Not acked: evsip delivers these events again to the next run.
      console.error(`cannot write the ledger: ${String(e)}`);
      process.exit(1);
    });
  return writing;
}

client.on("subscribed", ({ next }) => console.log(`subscribed, next id ${next}`));
client.on("error", (e) => console.error(e.code, e.message));
client.consume((event, { id }) => {
  lines.push(`${id} ${JSON.stringify(event)}\n`);
  lastId = id;
  if (lines.length >= BATCH) void flush();
});
setInterval(() => void flush(), 1000).unref();
await client.connect();
