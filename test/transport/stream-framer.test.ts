// StreamFramer: Content-Length framing of SIP streams, each case run as one chunk and byte by byte,
// plus properties: any chunking gives the same messages, arbitrary bytes never throw, memory stays bounded.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { Failure } from "../../src/errors.js";
import { DEFAULT_SIP_LIMITS, type SipLimits } from "../../src/sip/types.js";
import { StreamFramer } from "../../src/transport/stream-framer.js";
import { sipRequest } from "../support/sip-samples.js";

interface Outcome {
  messages: string[];
  pings: number;
  failure: Failure | undefined;
  maxBuffered: number;
}

function run(chunks: readonly Buffer[], limits: SipLimits = DEFAULT_SIP_LIMITS): Outcome {
  const out: Outcome = { messages: [], pings: 0, failure: undefined, maxBuffered: 0 };
  const f = new StreamFramer(limits, {
    onMessage: (m) => out.messages.push(m.toString("latin1")),
    onPing: () => out.pings++,
  });
  for (const c of chunks) {
    const r = f.push(c);
    out.maxBuffered = Math.max(out.maxBuffered, f.buffered);
    if (r !== undefined) {
      out.failure = r;
      break;
    }
  }
  return out;
}

function bytes(buf: Buffer): Buffer[] {
  return [...buf].map((b) => Buffer.from([b]));
}

/** Runs the case as one chunk and byte by byte, asserting both agree. */
function both(input: Buffer, limits?: SipLimits): Outcome {
  const a = run([input], limits);
  const b = run(bytes(input), limits);
  assert.deepEqual(b.messages, a.messages);
  assert.equal(b.pings, a.pings);
  assert.equal(b.failure?.code, a.failure?.code);
  return a;
}

const m1 = sipRequest({ body: "v=0\r\n", callId: "one" });
const m2 = sipRequest({ method: "INVITE", body: "x".repeat(300), callId: "two" });
const m3 = sipRequest({ callId: "three" });

test("one message, body included", () => {
  const o = both(m1);
  assert.deepEqual(o.messages, [m1.toString("latin1")]);
  assert.equal(o.failure, undefined);
});

test("coalesced messages come out one by one", () => {
  const o = both(Buffer.concat([m1, m2, m3]));
  assert.deepEqual(
    o.messages,
    [m1, m2, m3].map((m) => m.toString("latin1")),
  );
});

test("a message with its body still missing waits for it", () => {
  const o = run([m2.subarray(0, m2.length - 1)]);
  assert.deepEqual(o.messages, []);
  assert.equal(o.failure, undefined);
});

test("CRLF keep-alives between messages are skipped; CRLFCRLF is a ping", () => {
  const o = both(Buffer.concat([Buffer.from("\r\n\r\n"), m1, Buffer.from("\r\n"), m3, Buffer.from("\r\n\r\n\r\n\r\n")]));
  assert.deepEqual(
    o.messages,
    [m1, m3].map((m) => m.toString("latin1")),
  );
  assert.equal(o.pings, 3);
});

test("compact and case-insensitive Content-Length names", () => {
  for (const name of ["l", "L", "content-length", "CONTENT-LENGTH", "Content-Length  "]) {
    const m = sipRequest({ clName: name, body: "hello" });
    const o = both(Buffer.concat([m, m3]));
    assert.deepEqual(o.messages, [m.toString("latin1"), m3.toString("latin1")], name);
  }
});

test("Content-Length missing, invalid, negative, huge or ambiguous is an error", () => {
  const noCl = Buffer.from("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h\r\nCall-ID: x\r\n\r\n");
  const cases: [string, string][] = [
    ["abc", "ERR_SIP_BAD_CONTENT_LENGTH"],
    ["-1", "ERR_SIP_BAD_CONTENT_LENGTH"],
    ["1 2", "ERR_SIP_BAD_CONTENT_LENGTH"],
    ["", "ERR_SIP_BAD_CONTENT_LENGTH"],
    ["99999999999999999999999", "ERR_SIP_TOO_LARGE"],
    ["70000", "ERR_SIP_TOO_LARGE"],
  ];
  assert.equal(both(noCl).failure?.code, "ERR_SIP_MISSING_HEADER");
  for (const [v, code] of cases) {
    const m = Buffer.from(`OPTIONS sip:a@b SIP/2.0\r\nContent-Length: ${v}\r\n\r\n`);
    assert.equal(both(m).failure?.code, code, v);
  }
  const twice = Buffer.from("OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 0\r\nl: 5\r\n\r\nhello");
  assert.equal(both(twice).failure?.code, "ERR_SIP_BAD_CONTENT_LENGTH");
  const same = Buffer.from("OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 5\r\nl: 5\r\n\r\nhello");
  assert.equal(both(same).messages.length, 1);
});

test("a header section that never ends fails once past maxMessageSize, memory bounded", () => {
  const limits: SipLimits = { maxMessageSize: 2000, maxHeaders: 50, maxLineLength: 500 };
  const chunks = [Buffer.from("OPTIONS sip:a@b SIP/2.0\r\n")];
  for (let i = 0; i < 500; i++) chunks.push(Buffer.from(`X-Filler-${i}: aaaaaaaaaaaaaaaaaaaa\r\n`));
  const o = run(chunks, limits);
  assert.equal(o.failure?.code, "ERR_SIP_TOO_LARGE");
  assert.ok(o.maxBuffered <= limits.maxMessageSize, `buffered ${o.maxBuffered}`);
});

test("an overlong line fails with ERR_SIP_LINE_TOO_LONG", () => {
  const limits: SipLimits = { maxMessageSize: 65535, maxHeaders: 50, maxLineLength: 100 };
  const o = both(Buffer.from(`OPTIONS sip:a@b SIP/2.0\r\nX: ${"a".repeat(200)}\r\n\r\n`), limits);
  assert.equal(o.failure?.code, "ERR_SIP_LINE_TOO_LONG");
});

test("after a failure the framer refuses input and holds nothing", () => {
  const f = new StreamFramer(DEFAULT_SIP_LIMITS, { onMessage: () => assert.fail("no message"), onPing: () => undefined });
  const first = f.push(Buffer.from("OPTIONS sip:a@b SIP/2.0\r\nl: x\r\n\r\n"));
  assert.equal(first?.code, "ERR_SIP_BAD_CONTENT_LENGTH");
  assert.equal(f.push(m1)?.code, "ERR_SIP_BAD_CONTENT_LENGTH");
  assert.equal(f.buffered, 0);
});

// ---- properties ----

const arbMessage = fc
  .record({
    method: fc.constantFrom("INVITE", "ACK", "BYE", "OPTIONS"),
    body: fc.string({ maxLength: 200 }),
    callId: fc.stringMatching(/^[a-z0-9]{1,12}$/),
    clName: fc.constantFrom("Content-Length", "l", "content-length"),
  })
  .map((o) => sipRequest(o));

function chunkAt(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out;
}

test("property: any chunking of valid messages gives the same messages", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(arbMessage, fc.constantFrom("", "\r\n", "\r\n\r\n")), { minLength: 1, maxLength: 5 }),
      fc.array(fc.nat(), { maxLength: 30 }),
      (msgs, cuts) => {
        const stream = Buffer.concat(msgs.flatMap(([m, ka]) => [Buffer.from(ka), m]));
        const o = run(chunkAt(stream, cuts));
        assert.equal(o.failure, undefined);
        assert.deepEqual(
          o.messages,
          msgs.map(([m]) => m.toString("latin1")),
        );
      },
    ),
    { numRuns: 200 },
  );
});

test("property: arbitrary bytes never throw and buffered bytes stay bounded", () => {
  const limits: SipLimits = { maxMessageSize: 1024, maxHeaders: 20, maxLineLength: 200 };
  const sipish = fc.oneof(
    fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
    fc
      .constantFrom("\r\n", "\r\n\r\n", "Content-Length: 10\r\n", "l: 999999\r\n", "INVITE x SIP/2.0\r\n", "X: y\r\n")
      .map((s) => Buffer.from(s)),
  );
  fc.assert(
    fc.property(fc.array(sipish, { maxLength: 40 }), (chunks) => {
      const o = run(chunks, limits);
      assert.ok(o.maxBuffered <= limits.maxMessageSize, `buffered ${o.maxBuffered}`);
      for (const m of o.messages) assert.ok(m.length <= limits.maxMessageSize);
    }),
    { numRuns: 300 },
  );
});
