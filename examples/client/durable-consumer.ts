// A billing consumer that loses nothing (evsip's durable delivery, src/modules/evapi/README.md):
// it subscribes as "billing", handles events one at a time in order, and its last handled id lives
// in a file, so after a crash or a restart it resumes where it stopped; evsip keeps the events
// meanwhile. Handling must be idempotent: the few events handled after the last save come again.
// Run: `npx tsx examples/client/durable-consumer.ts` against evsip on 8448 (not Kamailio: it has no
// durable mode). The router's app needs no change; `durableConsumers: ["billing"]` in its evapi
// params keeps events from start-up on, before this consumer first connects.
import { appendFile } from "node:fs/promises";
import { EvapiClient, fileDurableStore } from "evsip/client";

const client = new EvapiClient({
  port: 8448,
  durable: { consumer: "billing", store: fileDurableStore("billing.offset") },
});
client.on("subscribed", ({ next, lost }) =>
  console.log(`subscribed, next id ${next}${lost ? `, lost ${lost.from}..${lost.to}` : ""}`),
);
client.on("error", (e) => console.error(e.code, e.message));
client.consume(async (event, { id }) => {
  await appendFile("billing.ledger", `${id} ${JSON.stringify(event)}\n`); // the id makes a replay easy to spot
});
await client.connect();
