// A billing consumer that writes its ledger in batches (evsip's durable delivery with `ack:
// "manual"`): events are collected as they come, and every BATCH events or every second one append
// writes them all and syncs them to disk, then client.ack(id) acknowledges up to the last of them.
// evsip keeps every event until it is acknowledged, so a crash (of the process or of the machine)
// loses nothing: what was not acked comes again, after the offset saved in billing.offset, and the
// ids in the ledger show the replay. A crash in the middle of a write can leave a torn last line.
// `durable-consumer.ts` is the same with one write and one ack per event (`ack: "auto"`).
// Run: `node dist/examples/client/batch-ledger.js [port] [dir]` against evsip (not Kamailio: it
// has no durable mode), with `durableConsumers: ["billing"]` in the router's evapi params.
import { open } from "node:fs/promises";
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
/** Bumped when evsip's stream restarted: acks of batches from before it would name new events. */
let stream = 0;
/** The write in progress: the next one waits for it, so batches reach the file in id order. */
let writing: Promise<void> = Promise.resolve();

/** Appends the events collected so far in one write, then acknowledges up to the last of them. */
function flush(): Promise<void> {
  if (lines.length === 0) return writing;
  const text = lines.join("");
  const upTo = lastId;
  const of = stream;
  lines = [];
  writing = writing
    .then(async () => {
      const file = await open(join(dir, "billing.ledger"), "a");
      try {
        await file.appendFile(text);
        await file.sync(); // on disk before the ack lets evsip forget these events
      } finally {
        await file.close();
      }
      if (of !== stream) return;
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

client.on("subscribed", ({ next, error }) => {
  console.log(`subscribed, next id ${next}`);
  if (error === undefined) return;
  // evsip's stream restarted (ERR_EVAPI_RESUME_AHEAD): its ids are new events from here on.
  stream++;
  lines = [];
  lastId = 0;
});
client.on("error", (e) => console.error(e.code, e.message));
client.consume((event, { id }) => {
  lines.push(`${id} ${JSON.stringify(event)}\n`);
  lastId = id;
  if (lines.length >= BATCH) void flush();
});
setInterval(() => void flush(), 1000).unref();
await client.connect();
