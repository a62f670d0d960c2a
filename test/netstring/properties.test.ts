// fast-check properties of the netstring codec: encode/decode round trip, any chunking yields the
// same frames, arbitrary bytes never throw or hang, and memory stays bounded (buffered ≤ max).
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { encodeNetstring, LineSplitter } from "../../src/netstring/index.js";
import { cutAt, decodeAll } from "../support/netstring-harness.js";

const payloads = fc.array(fc.string({ unit: "binary", maxLength: 200 }), { maxLength: 20 });
const cuts = fc.array(fc.nat({ max: 5000 }), { maxLength: 30 });

test("netstring property: encode then decode gives the payloads back (empty ones counted)", () => {
  fc.assert(
    fc.property(payloads, (ps) => {
      const wire = Buffer.concat(ps.map((p) => encodeNetstring(p)));
      const r = decodeAll([wire]);
      assert.equal(r.code, undefined);
      assert.deepEqual(
        r.frames,
        ps.filter((p) => p !== ""),
      );
      assert.equal(r.empty, ps.filter((p) => p === "").length);
    }),
    { numRuns: 300 },
  );
});

test("netstring property: any chunking yields the same frames, with whitespace between frames", () => {
  const ws = fc.constantFrom("", " ", "\r\n", "\t", "\n\n");
  fc.assert(
    fc.property(fc.array(fc.tuple(ws, fc.string({ maxLength: 100 })), { maxLength: 15 }), cuts, (items, cs) => {
      const wire = Buffer.concat(items.flatMap(([w, p]) => [Buffer.from(w), encodeNetstring(p)]));
      const whole = decodeAll([wire]);
      const chunked = decodeAll(cutAt(wire, cs));
      assert.deepEqual(chunked.frames, whole.frames);
      assert.equal(chunked.empty, whole.empty);
      assert.equal(chunked.code, undefined);
    }),
    { numRuns: 300 },
  );
});

test("netstring property: arbitrary bytes never throw, give the same verdict chunked, stay bounded", () => {
  const max = 64;
  // Bias towards netstring-like bytes so deeper states are reached.
  const byte = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x30, 0x31, 0x35, 0x39, 0x3a, 0x2c, 0x20));
  fc.assert(
    fc.property(fc.array(byte, { maxLength: 400 }), cuts, (bytes, cs) => {
      const buf = Buffer.from(bytes);
      const whole = decodeAll([buf], max);
      const chunked = decodeAll(cutAt(buf, cs), max);
      assert.deepEqual(chunked.frames, whole.frames);
      assert.equal(chunked.code, whole.code);
      assert.ok(chunked.maxBuffered <= max, `buffered ${chunked.maxBuffered} > ${max}`);
      for (const f of whole.frames) assert.ok(Buffer.byteLength(f, "latin1") <= max * 4);
    }),
    { numRuns: 500 },
  );
});

test("netstring property: a frame near the limit trickled byte by byte never buffers past max", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 300 }), (len) => {
      const wire = encodeNetstring(Buffer.alloc(len, 0x61));
      const one = Array.from({ length: wire.length }, (_, i) => wire.subarray(i, i + 1));
      const r = decodeAll(one, 200);
      if (len > 200) assert.equal(r.code, "ERR_NETSTRING_TOO_LARGE");
      else assert.equal(r.frames[0]?.length ?? 0, len);
      assert.ok(r.maxBuffered <= 200);
    }),
    { numRuns: 100 },
  );
});

test("line splitter property: any chunking yields the same lines, buffered stays bounded", () => {
  const delim = fc.constantFrom("\n", "\r\n", "||");
  fc.assert(
    fc.property(delim, fc.array(fc.string({ maxLength: 60 }), { maxLength: 10 }), cuts, (d, lines, cs) => {
      const text = lines.map((l) => l.split(d).join("") + d).join("");
      const collect = (chunks: Buffer[]) => {
        const out: string[] = [];
        let maxBuffered = 0;
        const s = new LineSplitter({ delimiter: d, maxMessageSize: 1000, onLine: (l) => out.push(l.toString()) });
        for (const c of chunks) {
          assert.equal(s.push(c).ok, true);
          maxBuffered = Math.max(maxBuffered, s.buffered);
        }
        return { out, maxBuffered };
      };
      const buf = Buffer.from(text);
      const whole = collect([buf]);
      const chunked = collect(cutAt(buf, cs));
      assert.deepEqual(chunked.out, whole.out);
      assert.ok(chunked.maxBuffered <= 1000 + d.length);
    }),
    { numRuns: 300 },
  );
});
