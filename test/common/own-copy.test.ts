// ownCopy: equal to its input for any string (what it is for, not keeping a larger string alive,
// is V8's representation and not observable here; src/common/own-copy.ts says why it works).
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { ownCopy } from "../../src/common/own-copy.js";

test("ownCopy returns an equal string, short or long, sliced or not", () => {
  fc.assert(
    fc.property(fc.string({ unit: "binary" }), fc.nat(), fc.nat(), (s, a, b) => {
      assert.equal(ownCopy(s), s);
      const from = Math.min(a, s.length);
      const to = from + Math.min(b, s.length - from);
      assert.equal(ownCopy(s.slice(from, to)), s.slice(from, to));
    }),
    { numRuns: 500 },
  );
});

test("a kept Call-ID holds its message's head as a slice, and only itself through ownCopy", async () => {
  const { setFlagsFromString } = await import("node:v8");
  const { runInNewContext } = await import("node:vm");
  const { parseMessage } = await import("../../src/sip/parse.js");
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  const pad = "x".repeat(4000);
  const keptBytes = (copy: boolean): number => {
    gc();
    const before = process.memoryUsage().heapUsed;
    const kept: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const text =
        `INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK${i}\r\nX-Pad: ${pad}\r\nFrom: <sip:a@b>;tag=1\r\n` +
        `To: <sip:b@c>\r\nCall-ID: call-id-number-${i}@example.com\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n`;
      const r = parseMessage(Buffer.from(text, "latin1"));
      if (!r.ok) assert.fail(r.detail);
      kept.push(copy ? ownCopy(r.msg.callId) : r.msg.callId);
    }
    gc();
    const per = (process.memoryUsage().heapUsed - before) / kept.length;
    assert.equal(kept.length, 2000);
    return per;
  };
  const sliced = keptBytes(false);
  const copied = keptBytes(true);
  assert.ok(sliced > 2000, `a slice kept ${sliced} B: the head should come with it (else this test shows nothing)`);
  assert.ok(copied < 1000, `an own copy kept ${copied} B per Call-ID`);
});
