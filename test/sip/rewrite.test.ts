// rewrite(): edits on the original bytes — R-URI, Max-Forwards, top Via / Route removal (also the
// first value of a comma list), prepend/append/remove, body with Content-Length; output re-parses.
import { test } from "node:test";
import assert from "node:assert/strict";
import { inviteHeaders, inviteText, messageText, parseOk, SDP } from "../support/sip-text.js";

test("no edits: same bytes (Content-Length kept)", () => {
  const text = inviteText();
  assert.equal(parseOk(text).rewrite({}).toString("latin1"), text);
});

test("proxy forwarding edits", () => {
  const m = parseOk(inviteText());
  const out = parseOk(
    m.rewrite({
      requestUri: "sip:bob@192.0.2.4:5062",
      maxForwards: 69,
      prepend: ["Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1", "Record-Route: <sip:proxy.example.com;lr>"],
      append: ["X-Trace: 1"],
    }),
  );
  assert.equal(out.requestUri, "sip:bob@192.0.2.4:5062");
  assert.equal(out.maxForwards, 69);
  assert.deepEqual(
    out.vias.map((v) => v.host),
    ["proxy.example.com", "pc33.atlanta.example.com"],
  );
  assert.equal(out.recordRoutes[0]?.uri.host, "proxy.example.com");
  assert.equal(out.header("x-trace"), "1");
  assert.equal(out.body.toString("latin1"), SDP);
  assert.deepEqual(out.validate(), { ok: true });
});

test("Max-Forwards is added when absent", () => {
  const m = parseOk(
    messageText(
      "OPTIONS sip:a@b SIP/2.0",
      inviteHeaders().filter(([n]) => n !== "Max-Forwards"),
    ),
  );
  assert.equal(parseOk(m.rewrite({ maxForwards: 70 })).maxForwards, 70);
});

test("removeTopVia removes the first value of a comma list, or the whole line", () => {
  const h = inviteHeaders().filter(([n]) => n !== "Via");
  const list = parseOk(
    messageText("SIP/2.0 200 OK", [
      ["Via", "SIP/2.0/UDP p.example.com;branch=z9hG4bKa , SIP/2.0/UDP\r\n  u.example.com;branch=z9hG4bKb"],
      ...h,
    ]),
  );
  const a = parseOk(list.rewrite({ removeTopVia: true }));
  assert.deepEqual(
    a.vias.map((v) => v.host),
    ["u.example.com"],
  );
  const lines = parseOk(
    messageText("SIP/2.0 200 OK", [
      ["v", "SIP/2.0/UDP p.example.com;branch=z9hG4bKa"],
      ["Via", "SIP/2.0/UDP u.example.com;branch=z9hG4bKb"],
      ...h,
    ]),
  );
  const b = parseOk(lines.rewrite({ removeTopVia: true }));
  assert.deepEqual(
    b.vias.map((v) => v.host),
    ["u.example.com"],
  );
  assert.equal(b.headerCount, lines.headerCount - 1);
});

test("removeTopRoute likewise", () => {
  const m = parseOk(
    messageText("INVITE sip:bob@b.example SIP/2.0", [
      ["Route", '<sip:p1.example.com;lr>, "x, y" <sip:p2.example.com;lr>'],
      ["Route", "<sip:p3;lr>"],
      ...inviteHeaders(),
    ]),
  );
  const out = parseOk(m.rewrite({ removeTopRoute: true }));
  assert.deepEqual(
    out.routes.map((r) => r.uri.host),
    ["p2.example.com", "p3"],
  );
  const twice = parseOk(out.rewrite({ removeTopRoute: true }));
  assert.deepEqual(
    twice.routes.map((r) => r.uri.host),
    ["p3"],
  );
});

test("remove by name (compact forms too) and replace the body", () => {
  const m = parseOk(
    messageText("INVITE sip:bob@b.example SIP/2.0", [["X-Secret", "1"], ["x-secret", "2"], ["s", "hi"], ...inviteHeaders()], SDP),
  );
  const out = parseOk(m.rewrite({ remove: ["X-SECRET", "subject"], body: "hello é" }));
  assert.equal(out.hasHeader("x-secret"), false);
  assert.equal(out.hasHeader("subject"), false);
  assert.equal(out.body.toString("utf8"), "hello é");
  assert.equal(out.contentLength, Buffer.byteLength("hello é"));
  assert.equal(out.headerValues("content-length").length, 1);
});

test("a datagram without Content-Length gets one; trailing bytes are cut", () => {
  const noCl = messageText("OPTIONS sip:a@b SIP/2.0", inviteHeaders(), "", false) + "body";
  const out = parseOk(noCl).rewrite({});
  assert.equal(parseOk(out).header("content-length"), "4");
  const extra = inviteText("abc") + "junk";
  assert.equal(parseOk(parseOk(extra).rewrite({})).body.toString(), "abc");
});

test("responses ignore requestUri", () => {
  const m = parseOk(messageText("SIP/2.0 200 OK", inviteHeaders()));
  assert.equal(parseOk(m.rewrite({ requestUri: "sip:x@y" })).status, 200);
});
