// parseMessage: start lines, header indexing, folding, Content-Length framing and limits.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseMessage } from "../../src/sip/parse.js";
import { DEFAULT_SIP_LIMITS } from "../../src/sip/types.js";
import { inviteHeaders, inviteText, messageText, parseOk, SDP } from "../support/sip-text.js";

function code(text: string | Buffer, limits = DEFAULT_SIP_LIMITS, stream = false): string {
  const r = parseMessage(typeof text === "string" ? Buffer.from(text, "latin1") : text, limits, { stream });
  return r.ok ? "ok" : r.code;
}

test("request start line and body", () => {
  const m = parseOk(inviteText());
  assert.equal(m.isRequest, true);
  assert.equal(m.method, "INVITE");
  assert.equal(m.requestUri, "sip:bob@biloxi.example.com");
  assert.equal(m.status, 0);
  assert.equal(m.headerCount, 9);
  assert.equal(m.body.toString("latin1"), SDP);
  assert.equal(m.contentLength, SDP.length);
});

test("response start line; method comes from CSeq", () => {
  const m = parseOk(messageText("SIP/2.0 486 Busy Here", inviteHeaders()));
  assert.equal(m.isRequest, false);
  assert.equal(m.status, 486);
  assert.equal(m.reason, "Busy Here");
  assert.equal(m.method, "INVITE");
  assert.equal(m.requestUri, "");
});

test("methods are case-sensitive tokens: a known one, another case of it, an extension", () => {
  for (const method of ["INVITE", "invite", "Ack", "PUBLISH", "X-FOO", "INVITEX"]) {
    const m = parseOk(messageText(`${method} sip:a@b SIP/2.0`, inviteHeaders()));
    assert.equal(m.method, method);
    assert.equal(m.requestUri, "sip:a@b");
  }
});

test("a reason phrase with latin1 bytes, and none at all", () => {
  const m = parseOk(messageText("SIP/2.0 603 D\u00e9clin\u00e9", inviteHeaders()));
  assert.equal(m.reason, "D\u00e9clin\u00e9");
  assert.equal(parseOk(messageText("SIP/2.0 200", inviteHeaders())).reason, "");
});

test("folded header values are unfolded on access", () => {
  const text = messageText("OPTIONS sip:a@b SIP/2.0", [["Subject", "first\r\n  second\r\n\tthird"], ...inviteHeaders()]);
  const m = parseOk(text);
  assert.equal(m.header("subject"), "first second third");
  assert.equal(m.header("s"), "first second third");
});

test("names are case-insensitive and compact forms are understood", () => {
  const m = parseOk(
    "OPTIONS sip:a@b SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFROM: <sip:x@y>;tag=1\r\nt: <sip:a@b>\r\ni: abc\r\ncseq: 1 OPTIONS\r\nl: 0\r\n\r\n",
  );
  assert.equal(m.header("Via"), "SIP/2.0/UDP h;branch=z9hG4bK1");
  assert.equal(m.header("call-id"), "abc");
  assert.equal(m.from.tag, "1");
  assert.equal(m.hasHeader("Content-Length"), true);
  assert.equal(m.hasHeader("Route"), false);
  assert.deepEqual(m.validate(), { ok: true });
});

test("comma lists split for list headers only, not inside quotes or <>", () => {
  const m = parseOk(
    messageText("OPTIONS sip:a@b SIP/2.0", [
      ["Route", '<sip:p1.example.com;lr>, "a,b" <sip:p2.example.com;lr>'],
      ["Route", "<sip:p3.example.com;lr>"],
      ["Subject", "one, two"],
      ...inviteHeaders(),
    ]),
  );
  assert.deepEqual(m.headerValues("route"), [
    "<sip:p1.example.com;lr>",
    '"a,b" <sip:p2.example.com;lr>',
    "<sip:p3.example.com;lr>",
  ]);
  assert.deepEqual(m.headerValues("subject"), ["one, two"]);
  assert.deepEqual(
    m.routes.map((r) => r.uri.host),
    ["p1.example.com", "p2.example.com", "p3.example.com"],
  );
});

test("Content-Length framing", () => {
  const head = messageText("OPTIONS sip:a@b SIP/2.0", inviteHeaders(), "", false);
  assert.equal(code(head.replace(/\r\n$/, "Content-Length: 4\r\n\r\nabcdEXTRA")), "ok");
  assert.equal(parseOk(head.replace(/\r\n$/, "Content-Length: 4\r\n\r\nabcdEXTRA")).body.toString(), "abcd");
  assert.equal(parseOk(head + "rest-of-datagram").body.toString(), "rest-of-datagram");
  assert.equal(code(head + "x", DEFAULT_SIP_LIMITS, true), "ERR_SIP_BAD_CONTENT_LENGTH");
  assert.equal(code(head.replace(/\r\n$/, "Content-Length: 10\r\n\r\nabc")), "ERR_SIP_BODY_TRUNCATED");
  for (const v of ["-1", "abc", "1e3", "99999999999", "", "70000"]) {
    assert.equal(code(head.replace(/\r\n$/, `Content-Length: ${v}\r\n\r\n`)), "ERR_SIP_BAD_CONTENT_LENGTH", v);
  }
  assert.equal(code(head.replace(/\r\n$/, "Content-Length: 0\r\nl: 0\r\n\r\n")), "ok");
});

test("limits: size, header count, line length", () => {
  const limits = { maxMessageSize: 2000, maxHeaders: 12, maxLineLength: 200 };
  assert.equal(code(inviteText(), limits), "ok");
  assert.equal(code(inviteText("x".repeat(2000)), limits), "ERR_SIP_TOO_LARGE");
  const many = messageText("OPTIONS sip:a@b SIP/2.0", [...inviteHeaders(), ["A", "1"], ["B", "2"], ["C", "3"], ["D", "4"]]);
  assert.equal(code(many, limits), "ERR_SIP_TOO_MANY_HEADERS");
  assert.equal(code(messageText("OPTIONS sip:a@b SIP/2.0", [["X", "y".repeat(300)]]), limits), "ERR_SIP_LINE_TOO_LONG");
  assert.equal(code(`OPTIONS sip:${"a".repeat(300)}@b SIP/2.0\r\n\r\n`, limits), "ERR_SIP_LINE_TOO_LONG");
  const folded = messageText("OPTIONS sip:a@b SIP/2.0", [["X", Array.from({ length: 20 }, () => "y".repeat(20)).join("\r\n ")]]);
  assert.equal(code(folded, limits), "ERR_SIP_LINE_TOO_LONG");
});

test("NUL bytes: rejected in the header section, allowed in the body", () => {
  assert.equal(code(messageText("OPTIONS sip:a@b SIP/2.0", [["X", "a\0b"]])), "ERR_SIP_NUL_BYTE");
  assert.equal(code("OPTIONS sip:a\0@b SIP/2.0\r\n\r\n"), "ERR_SIP_NUL_BYTE");
  assert.equal(code(messageText("OPTIONS sip:a@b SIP/2.0", inviteHeaders(), "a\0b")), "ok");
});

test("bad start lines and headers", () => {
  const h = inviteHeaders();
  const cases: [string, string][] = [
    ["", "ERR_SIP_EMPTY"],
    ["\r\n\r\n", "ERR_SIP_EMPTY"],
    [messageText("INVITE sip:a@b SIP/2.1", h), "ERR_SIP_BAD_VERSION"],
    [messageText("SIP/2.1 200 OK", h), "ERR_SIP_BAD_VERSION"],
    [messageText("SIP/2.0 2000 OK", h), "ERR_SIP_BAD_STATUS"],
    [messageText("SIP/2.0 700 Nope", h), "ERR_SIP_BAD_STATUS"],
    [messageText("SIP/2.0 20x OK", h), "ERR_SIP_BAD_STATUS"],
    [messageText("INVITE sip:a@b", h), "ERR_SIP_BAD_START_LINE"],
    [messageText("INVITE", h), "ERR_SIP_BAD_START_LINE"],
    [messageText("IN VITE sip:a@b SIP/2.0", h), "ERR_SIP_BAD_START_LINE"],
    [messageText("INVITE sip:a@b SIP/2.0", [["Bad Name", "x"]]), "ERR_SIP_BAD_HEADER"],
    [messageText("INVITE sip:a@b SIP/2.0", [[": x", "y"]]), "ERR_SIP_BAD_HEADER"],
    ["INVITE sip:a@b SIP/2.0\r\nVia: x\r\n", "ERR_SIP_NO_HEADER_END"],
    ["INVITE sip:a@b SIP/2.0", "ERR_SIP_NO_HEADER_END"],
  ];
  for (const [text, expected] of cases) assert.equal(code(text), expected, JSON.stringify(text.slice(0, 40)));
});
