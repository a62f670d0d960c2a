// Every docs/evapi.md "Wire" case for client → server netstrings, each run twice (node-redis style):
// as one chunk and byte by byte, which covers splits inside the length digits and before the comma.
import { test } from "node:test";
import assert from "node:assert/strict";
import { NetstringDecoder } from "evsip-client/netstring";
import { decodeAll, splitters } from "../support/netstring-harness.js";

interface Case {
  name: string;
  input: string | Buffer;
  frames: string[];
  empty?: number;
  code?: string;
  max?: number;
}

const big = "x".repeat(70000);

const CASES: Case[] = [
  { name: "one frame", input: "5:hello,", frames: ["hello"] },
  { name: "three frames in one write", input: "1:a,2:bb,3:ccc,", frames: ["a", "bb", "ccc"] },
  { name: "whitespace before and between frames", input: " \t\r\n1:a,\n\n2:bb, \r\n", frames: ["a", "bb"] },
  { name: "0:, is ignored but counted", input: "0:,1:a,0:,", frames: ["a"], empty: 2 },
  { name: "leading zeros accepted", input: "05:hello,000000001:x,", frames: ["hello", "x"] },
  { name: "payload may contain digits, colons, commas", input: "7:1:a,2:b,", frames: ["1:a,2:b"] },
  { name: "utf-8 payload counted in bytes", input: Buffer.from("2:é,", "utf8"), frames: ["é"] },
  { name: "9 digits accepted when within limit", input: "000000003:abc,", frames: ["abc"] },
  { name: "payload of exactly maxMessageSize", input: `10:${"y".repeat(10)},`, frames: ["y".repeat(10)], max: 10 },
  { name: "non-digit where length is due", input: "1:a,x", frames: ["a"], code: "ERR_NETSTRING_BAD_LENGTH" },
  { name: "minus sign", input: "-1:a,", frames: [], code: "ERR_NETSTRING_BAD_LENGTH" },
  { name: "colon without digits", input: ":a,", frames: [], code: "ERR_NETSTRING_BAD_LENGTH" },
  { name: "leftover comma", input: ",1:a,", frames: [], code: "ERR_NETSTRING_BAD_LENGTH" },
  { name: "10 length digits", input: "0000000001:a,", frames: [], code: "ERR_NETSTRING_LENGTH_TOO_LONG" },
  { name: "10 digit large length", input: "1234567890:", frames: [], code: "ERR_NETSTRING_LENGTH_TOO_LONG" },
  { name: "missing colon", input: "5;hello,", frames: [], code: "ERR_NETSTRING_NO_COLON" },
  { name: "space inside the length", input: "1 2:a,", frames: [], code: "ERR_NETSTRING_NO_COLON" },
  { name: "missing comma", input: "1:a,5:hello;1:b,", frames: ["a"], code: "ERR_NETSTRING_NO_COMMA" },
  { name: "newline instead of comma", input: "5:hello\n", frames: [], code: "ERR_NETSTRING_NO_COMMA" },
  { name: "0: then no comma", input: "0:x", frames: [], code: "ERR_NETSTRING_NO_COMMA" },
  { name: "oversize detected at the colon", input: `70000:${big},`, frames: [], code: "ERR_NETSTRING_TOO_LARGE" },
  { name: "oversize by one", input: `11:${"y".repeat(11)},`, frames: [], code: "ERR_NETSTRING_TOO_LARGE", max: 10 },
  { name: "incomplete frame waits", input: "5:hel", frames: [] },
  { name: "frame waits for its comma", input: "1:a,5:hello", frames: ["a"] },
];

for (const c of CASES) {
  for (const [mode, split] of Object.entries(splitters)) {
    test(`decoder: ${c.name} (${mode})`, () => {
      const buf = typeof c.input === "string" ? Buffer.from(c.input, "latin1") : c.input;
      const r = decodeAll(split(buf), c.max);
      assert.deepEqual(r.frames, c.frames);
      assert.equal(r.empty, c.empty ?? 0);
      assert.equal(r.code, c.code);
      if (c.code) assert.equal(r.decoder.stats.errors.get(c.code as never), 1);
    });
  }
}

test("decoder: oversize is refused before any payload byte is buffered", () => {
  const r = decodeAll([Buffer.from("70000:")]);
  assert.equal(r.code, "ERR_NETSTRING_TOO_LARGE");
  assert.equal(r.decoder.buffered, 0);
});

test("decoder: after an error every push is refused with ERR_NETSTRING_DESTROYED", () => {
  const frames: string[] = [];
  const d = new NetstringDecoder({ onFrame: (p) => frames.push(p.toString()) });
  const first = d.push(Buffer.from("x"));
  assert.equal(first.ok, false);
  const second = d.push(Buffer.from("1:a,"));
  assert.deepEqual(second.ok ? undefined : second.code, "ERR_NETSTRING_DESTROYED");
  assert.deepEqual(frames, []);
  assert.equal(d.error?.code, "ERR_NETSTRING_BAD_LENGTH");
  assert.equal(d.stats.errors.size, 1);
});

test("decoder: destroy() from inside onFrame stops delivery of the rest of the chunk", () => {
  const frames: string[] = [];
  const d: NetstringDecoder = new NetstringDecoder({
    onFrame: (p) => {
      frames.push(p.toString());
      d.destroy();
    },
  });
  assert.equal(d.push(Buffer.from("1:a,1:b,")).ok, true);
  assert.deepEqual(frames, ["a"]);
  assert.equal(d.push(Buffer.from("1:c,")).ok, false);
});

test("decoder: buffered counts the partial payload and drops to 0 after delivery", () => {
  const d = new NetstringDecoder({ onFrame: () => undefined });
  d.push(Buffer.from("10:abc"));
  assert.equal(d.buffered, 3);
  assert.equal(d.idle, false);
  d.push(Buffer.from("defghij"));
  assert.equal(d.buffered, 10);
  d.push(Buffer.from(","));
  assert.equal(d.buffered, 0);
  assert.equal(d.idle, true);
  assert.equal(d.stats.frames, 1);
  assert.equal(d.stats.payloadBytes, 10);
});

test("decoder: accepts Uint8Array chunks", () => {
  const r = decodeAll([new Uint8Array(Buffer.from("3:abc,"))]);
  assert.deepEqual(r.frames, ["abc"]);
});
