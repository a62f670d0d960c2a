// The SIP warm-up runs every sample through the parser, the header getters and the reply builder
// without an error: a sample that stopped parsing throws, rather than silently warming up nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { warmUpSip } from "../../src/sip/warm-up.js";

test("warmUpSip parses and answers its samples", () => {
  assert.ok(warmUpSip(8) > 0);
  // The checksum grows with rounds: each round touched a parsed request and a parsed response.
  assert.ok(warmUpSip(16) > warmUpSip(8));
});
