// Which Kamailio processes do a call's work (bench/load/kamailio-procs.ts), from kamcmd core.psx's
// answer as Kamailio 5.6 gives it for the bench's evapi config.
import { test } from "node:test";
import assert from "node:assert/strict";
import { callWorkers, parsePsx } from "../../bench/load/kamailio-procs.js";

const PSX = [
  ["main process - attendant", 19554],
  ["udp receiver child=0 sock=127.0.0.1:35955", 19555],
  ["udp receiver child=1 sock=127.0.0.1:35955", 19556],
  ["slow timer", 19559],
  ["timer", 19560],
  ["ctl handler", 19562],
  ["EvAPI Dispatcher", 19563],
  ["EvAPI Worker", 19564],
  ["jsonrpc io handler", 19565],
]
  .map(([dsc, pid], i) => `{\n\tIDX: ${i}\n\tPID: ${pid}\n\tDSC: ${dsc}\n}`)
  .join("\n");

test("core.psx: the receivers, EvAPI and JSON-RPC processes do a call's work; the attendant, timers and ctl do not", () => {
  const procs = parsePsx(PSX);
  assert.equal(procs.size, 9);
  assert.equal(procs.get(19563), "EvAPI Dispatcher");
  assert.deepEqual(callWorkers(procs), [19555, 19556, 19563, 19564, 19565]);
  assert.deepEqual(callWorkers(parsePsx("error: 500 - command not found")), []);
});
