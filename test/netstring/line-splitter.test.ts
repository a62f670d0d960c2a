// Raw-mode delimiter splitting (docs/evapi.md rawDelimiter), each case as one chunk and byte by byte,
// plus a two-byte delimiter split across chunks and the bounded-memory oversize rule.
import { test } from "node:test";
import assert from "node:assert/strict";
import { LineSplitter } from "evsip-client/netstring";
import { splitters } from "../support/netstring-harness.js";

function run(chunks: Buffer[], delimiter: string, max?: number) {
  const lines: string[] = [];
  let empty = 0;
  let code: string | undefined;
  let maxBuffered = 0;
  const s = new LineSplitter({
    delimiter,
    ...(max === undefined ? {} : { maxMessageSize: max }),
    onLine: (l) => lines.push(l.toString()),
    onEmpty: () => empty++,
  });
  for (const c of chunks) {
    const r = s.push(c);
    maxBuffered = Math.max(maxBuffered, s.buffered);
    if (!r.ok) {
      code = r.code;
      break;
    }
  }
  return { lines, empty, code, maxBuffered, splitter: s };
}

const CASES = [
  { name: "ndjson lines", input: '{"a":1}\n{"b":2}\n', delim: "\n", lines: ['{"a":1}', '{"b":2}'], empty: 0 },
  { name: "partial last line kept", input: "a\nb", delim: "\n", lines: ["a"], empty: 0 },
  { name: "empty lines counted", input: "\n\na\n", delim: "\n", lines: ["a"], empty: 2 },
  { name: "crlf delimiter", input: "ab\r\ncd\r\n\r\n", delim: "\r\n", lines: ["ab", "cd"], empty: 1 },
  { name: "crlf with lone cr inside", input: "a\rb\r\n", delim: "\r\n", lines: ["a\rb"], empty: 0 },
  { name: "three-byte delimiter", input: "x|||y|||", delim: "|||", lines: ["x", "y"], empty: 0 },
  { name: "line of exactly max", input: "abcd\n", delim: "\n", lines: ["abcd"], empty: 0, max: 4 },
  { name: "line over max", input: "abcde\n", delim: "\n", lines: [], empty: 0, max: 4, code: "ERR_NETSTRING_TOO_LARGE" },
  { name: "unterminated over max", input: "abcdef", delim: "\n", lines: [], empty: 0, max: 4, code: "ERR_NETSTRING_TOO_LARGE" },
];

for (const c of CASES) {
  for (const [mode, split] of Object.entries(splitters)) {
    test(`line splitter: ${c.name} (${mode})`, () => {
      const r = run(split(Buffer.from(c.input)), c.delim, c.max);
      assert.deepEqual(r.lines, c.lines);
      assert.equal(r.empty, c.empty);
      assert.equal(r.code, c.code);
      if (c.max !== undefined) assert.ok(r.maxBuffered <= c.max + c.delim.length - 1);
    });
  }
}

test("line splitter: crlf split across two chunks", () => {
  const r = run([Buffer.from("ab\r"), Buffer.from("\ncd\r"), Buffer.from("\n")], "\r\n");
  assert.deepEqual(r.lines, ["ab", "cd"]);
});

test("line splitter: refuses input after an error and rejects an empty delimiter", () => {
  const r = run([Buffer.from("abcdef")], "\n", 2);
  assert.equal(r.code, "ERR_NETSTRING_TOO_LARGE");
  const again = r.splitter.push(Buffer.from("a\n"));
  assert.equal(again.ok ? undefined : again.code, "ERR_NETSTRING_DESTROYED");
  assert.throws(() => new LineSplitter({ delimiter: "", onLine: () => undefined }), RangeError);
});
