// salvageRequestHead: the head of a datagram whose only fault is its framing, re-read without its
// body; total on any bytes (fast-check), undefined for a response or a head that does not parse.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { parseMessage, salvageRequestHead } from "../../src/sip/index.js";
import { DEFAULT_SIP_LIMITS } from "../../src/sip/types.js";

const HEAD =
  "INVITE sip:bob@b.example SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\nFrom: <sip:a@a.example>;tag=1\r\n" +
  "To: <sip:bob@b.example>\r\nCall-ID: s1\r\nCSeq: 1 INVITE\r\n";

test("a Content-Length past the datagram, no empty line, a bad or compact Content-Length: the head is read", () => {
  for (const text of [
    `${HEAD}Content-Length: 500\r\n\r\nv=0\r\n`,
    `${HEAD}Content-Length: 0\r\n`,
    `${HEAD}Content-Length: 0`,
    `${HEAD}l: x\r\n\r\n`,
  ]) {
    assert.equal(parseMessage(Buffer.from(text)).ok, false, text);
    const head = salvageRequestHead(Buffer.from(text), DEFAULT_SIP_LIMITS);
    assert.equal(head?.callId, "s1", text);
    assert.equal(head?.contentLength, 0);
    assert.equal(head?.body.length, 0);
  }
  assert.equal(
    salvageRequestHead(Buffer.from("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP x;branch=z9hG4bK1\r\n"), DEFAULT_SIP_LIMITS),
    undefined,
  );
  assert.equal(salvageRequestHead(Buffer.from("garbage"), DEFAULT_SIP_LIMITS), undefined);
});

test("property: any bytes give a request or undefined, never a throw", () => {
  const piece = fc.constantFrom(HEAD, "\r\n", "\n", "Content-Length: ", "l:", "9999", "\0", "INVITE ", "SIP/2.0", ":", " ");
  fc.assert(
    fc.property(
      fc.oneof(
        fc.array(piece).map((a) => a.join("")),
        fc.string(),
      ),
      fc.uint8Array({ maxLength: 64 }),
      (text, tail) => {
        const r = salvageRequestHead(Buffer.concat([Buffer.from(text, "latin1"), Buffer.from(tail)]), DEFAULT_SIP_LIMITS);
        if (r !== undefined) assert.equal(r.isRequest, true);
      },
    ),
    { numRuns: 2000 },
  );
});
