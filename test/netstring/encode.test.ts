// The encoder writes `<len>:<bytes>,` with no leading zeros and no newline, counting UTF-8 bytes,
// and SharedFrame serialises an object once for many recipients.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { encodeNetstring, netstringHeader, NETSTRING_TRAILER, SharedFrame } from "evsip-client/netstring";

test("encode: string and Buffer payloads", () => {
  assert.equal(encodeNetstring("hello").toString(), "5:hello,");
  assert.equal(encodeNetstring(Buffer.from("hello")).toString(), "5:hello,");
  assert.equal(encodeNetstring("").toString(), "0:,");
  assert.equal(encodeNetstring(Buffer.alloc(0)).toString(), "0:,");
});

test("encode: length counts UTF-8 bytes, not characters", () => {
  const out = encodeNetstring("é€😀");
  assert.equal(out.toString("utf8"), "9:é€😀,");
});

test("encode: no leading zeros or newline for long payloads", () => {
  const out = encodeNetstring("a".repeat(12345));
  assert.equal(out.subarray(0, 6).toString(), "12345:");
  assert.equal(out.at(-1), 0x2c);
  assert.equal(out.length, 12345 + 7);
});

test("encode: header and trailer compose the same frame", () => {
  const payload = Buffer.from("abc");
  assert.deepEqual(Buffer.concat([netstringHeader(payload.length), payload, NETSTRING_TRAILER]), encodeNetstring(payload));
});

test("SharedFrame: serialises once, caches frame and raw bytes", () => {
  const m = new SharedFrame({ event: "invite", tindex: 1 });
  assert.equal(m.text, '{"event":"invite","tindex":1}');
  assert.equal(m.frame, m.frame);
  assert.equal(m.frame.toString(), `${m.byteLength}:${m.text},`);
  assert.equal(new SharedFrame("plain").raw.toString(), "plain");
});

test("SharedFrame: the frame is the same bytes whether built from the text or after the raw bytes", () => {
  fc.assert(
    fc.property(fc.string({ unit: "grapheme" }), (text) => {
      const frameFirst = new SharedFrame({ text });
      const rawFirst = new SharedFrame({ text });
      void rawFirst.raw;
      assert.deepEqual(frameFirst.frame, rawFirst.frame);
      assert.deepEqual(frameFirst.frame, encodeNetstring(Buffer.from(frameFirst.text, "utf8")));
    }),
    { numRuns: 200 },
  );
  // A string is sent as is: lone surrogates and all (JSON.stringify would have escaped them).
  fc.assert(
    fc.property(
      // Any UTF-16 code units, lone surrogates included (fc.string's units leave those out).
      fc
        .array(fc.integer({ min: 0, max: 0xffff }), { minLength: 1, maxLength: 60 })
        .map((units) => String.fromCharCode(...units)),
      (text) => {
        const rawFirst = new SharedFrame(text);
        void rawFirst.raw;
        assert.deepEqual(new SharedFrame(text).frame, rawFirst.frame);
        assert.deepEqual(rawFirst.frame, encodeNetstring(Buffer.from(text, "utf8")));
      },
    ),
    { numRuns: 200 },
  );
});
