// The SIP warm-up runs every sample through the parser, the header getters and the reply builder
// without an error: a sample that stopped parsing throws, rather than silently warming up nothing.
// With samples received over a real UDP socket it also warms the parser for the Buffers a socket
// delivers, so the first real datagram does not throw the warmed code away (V8's --trace-deopt).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { warmUpSamples, warmUpSip } from "../../src/sip/warm-up.js";
import { receivedOverUdp } from "../../src/transport/udp-shaped.js";
import { SIP_SCHEMA } from "../../src/params.js";

test("warmUpSip parses and answers its samples", () => {
  assert.ok(warmUpSip(8) > 0);
  // The checksum grows with rounds: each round touched a parsed request and a parsed response.
  assert.ok(warmUpSip(16) > warmUpSip(8));
});

test("receivedOverUdp gives back every sample, byte for byte, as a socket delivers it", async () => {
  const samples = warmUpSamples(16);
  const got = await receivedOverUdp(samples);
  assert.deepEqual(got.map((b) => b.toString("latin1")).sort(), samples.map((b) => b.toString("latin1")).sort());
  assert.ok(warmUpSip(4, got) > warmUpSip(4), "the received samples are parsed too");
});

// Runs in a child process, so that V8's tracing sees a fresh isolate: warm up as many rounds as a
// server does by default (with or without received samples), then parse datagrams as the router's
// socket delivers them.
const SCRIPT = `
const { warmUpSamples, warmUpSip } = await import(${JSON.stringify(new URL("../../src/sip/warm-up.js", import.meta.url).href)});
const { receivedOverUdp } = await import(${JSON.stringify(new URL("../../src/transport/udp-shaped.js", import.meta.url).href)});
const { parseMessage } = await import(${JSON.stringify(new URL("../../src/sip/parse.js", import.meta.url).href)});
const received = await receivedOverUdp(warmUpSamples(64));
warmUpSip(${SIP_SCHEMA.warmUp.default}, process.argv[1] === "with" ? received : []);
const traffic = await receivedOverUdp(warmUpSamples(8).reverse());
console.log("--- traffic");
for (let i = 0; i < 200; i++) parseMessage(traffic[i % traffic.length]).ok || process.exit(3);
`;

function parserDeoptsAtTraffic(mode: "with" | "without"): string[] {
  const r = spawnSync(process.execPath, ["--trace-deopt", "--input-type=module", "-e", SCRIPT, mode], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const after = r.stdout.slice(r.stdout.indexOf("--- traffic"));
  return after
    .split("\n")
    .filter((l) => l.includes("deoptimizing") && /<JSFunction (parse\w*|validate\w*|isSip20|nameMatches)\b/.test(l));
}

test("warmed with received samples too, the parser is not deoptimised by the first datagrams of real traffic", () => {
  assert.deepEqual(parserDeoptsAtTraffic("with"), []);
  // The control: warmed on Buffers made here only, the same traffic does deoptimise it, so the
  // check above can see a deoptimisation when there is one.
  assert.notDeepEqual(parserDeoptsAtTraffic("without"), []);
});
