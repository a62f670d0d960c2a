// withOverloadFeedback(): RFC 7339's feedback written into the first Via of a response whose client
// asked for it, and nothing else changed; a response whose client did not ask, a request, or bytes it
// cannot read safely are left alone (undefined), never thrown on.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { parseMessage } from "../../src/sip/index.js";
import { relayedWithoutForeignFeedback, withOverloadFeedback } from "../../src/sip/overload-via.js";

const FEEDBACK = ';oc=30;oc-algo="loss";oc-validity=500;oc-seq=1764460800.123';

function response(vias: string[], extra: string[] = []): Buffer {
  const lines = [
    "SIP/2.0 503 Service Unavailable",
    ...vias,
    "From: <sip:a@example.com>;tag=1",
    "To: <sip:b@example.com>;tag=2",
    "Call-ID: c1",
    "CSeq: 1 INVITE",
    ...extra,
    "Content-Length: 0",
  ];
  return Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1");
}

function parsed(buf: Buffer): ReturnType<typeof parseMessage> & { ok: true } {
  const r = parseMessage(buf);
  assert.ok(r.ok, "the edited response still parses");
  return r;
}

test("a client that asked gets the feedback in place of its own oc parameters, after the others", () => {
  const buf = response([
    'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;oc;oc-algo="loss,A";received=192.0.2.9',
    "Via: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK2",
  ]);
  const out = withOverloadFeedback(buf, FEEDBACK);
  assert.ok(out);
  const m = parsed(out).msg;
  assert.equal(m.header("via"), `SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;received=192.0.2.9${FEEDBACK}`);
  const v = m.topVia;
  assert.equal(v.params.get("oc"), "30");
  assert.equal(v.params.get("oc-algo"), '"loss"');
  assert.equal(v.params.get("oc-validity"), "500");
  assert.equal(v.params.get("oc-seq"), "1764460800.123");
  assert.equal(m.vias[1]?.host, "192.0.2.2", "the second Via is untouched");
  assert.equal(m.callId, "c1");
});

test("the first value of a comma list, the compact form and any case are found; a second stamp replaces the first", () => {
  const buf = response(["v: SIP/2.0/UDP h1;branch=z9hG4bK1;OC , SIP/2.0/UDP h2;branch=z9hG4bK2;oc"]);
  const once = withOverloadFeedback(buf, FEEDBACK);
  assert.ok(once);
  const m = parsed(once).msg;
  assert.equal(m.vias[0]?.params.get("oc"), "30");
  assert.equal(m.vias[1]?.params.get("oc"), null, "only the client's own Via is answered");
  const again = withOverloadFeedback(once, ';oc=10;oc-algo="loss";oc-validity=500;oc-seq=2');
  assert.ok(again);
  assert.equal(parsed(again).msg.vias[0]?.params.get("oc"), "10");
  assert.equal((again.toString("latin1").match(/oc-seq/g) ?? []).length, 1);
});

test("left alone: no oc asked, an algorithm list without loss, a request, a folded Via, no Via, garbage", () => {
  assert.equal(withOverloadFeedback(response(["Via: SIP/2.0/UDP h;branch=z9hG4bK1"]), FEEDBACK), undefined);
  assert.equal(withOverloadFeedback(response(['Via: SIP/2.0/UDP h;branch=z9hG4bK1;oc;oc-algo="rate"']), FEEDBACK), undefined);
  assert.equal(
    withOverloadFeedback(response(['Via: SIP/2.0/UDP h;branch=z9hG4bK1;oc;x="a;oc']), FEEDBACK),
    undefined,
    "unterminated quote",
  );
  const req = Buffer.from(
    "INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1;oc\r\nContent-Length: 0\r\n\r\n",
    "latin1",
  );
  assert.equal(withOverloadFeedback(req, FEEDBACK), undefined);
  assert.equal(
    withOverloadFeedback(response(["Via: SIP/2.0/UDP h;branch=z9hG4bK1;oc", " ;received=192.0.2.1"]), FEEDBACK),
    undefined,
  );
  assert.equal(withOverloadFeedback(response([]), FEEDBACK), undefined);
  assert.equal(withOverloadFeedback(response(["X-Via: SIP/2.0/UDP h;oc"]), FEEDBACK), undefined);
  assert.equal(withOverloadFeedback(Buffer.from("SIP/2.0 200 OK"), FEEDBACK), undefined);
  assert.equal(withOverloadFeedback(Buffer.alloc(0), FEEDBACK), undefined);
});

test("a Via after a header whose continuation line looks like a Via is still the first real one", () => {
  const buf = response(["Via: SIP/2.0/UDP real;branch=z9hG4bK1;oc"], []);
  const text = buf
    .toString("latin1")
    .replace(
      "SIP/2.0 503 Service Unavailable\r\n",
      "SIP/2.0 503 Service Unavailable\r\nSubject: a\r\n via: SIP/2.0/UDP fake;oc\r\n",
    );
  const out = withOverloadFeedback(Buffer.from(text, "latin1"), FEEDBACK);
  assert.ok(out);
  assert.match(out.toString("latin1"), /Via: SIP\/2\.0\/UDP real;branch=z9hG4bK1;oc=30;/);
  assert.match(out.toString("latin1"), / via: SIP\/2\.0\/UDP fake;oc\r\n/);
});

const token = fc.stringMatching(/^[a-z0-9-]{1,8}$/).filter((t) => !t.startsWith("oc"));
const param = fc.oneof(
  token,
  fc.tuple(token, fc.stringMatching(/^[a-zA-Z0-9.]{1,10}$/)).map(([n, v]) => `${n}=${v}`),
  fc.tuple(token, fc.stringMatching(/^[a-z ;,=]{0,10}$/)).map(([n, v]) => `${n}="${v}"`),
);

test("property: the edit changes only the first Via's oc parameters; everything else stays byte for byte", () => {
  fc.assert(
    fc.property(fc.array(param, { maxLength: 5 }), fc.boolean(), fc.nat(100), (params, asks, pct) => {
      const ocParams = asks ? [`oc`, `oc-algo="loss"`] : [];
      const top = ["SIP/2.0/UDP 192.0.2.1:5060", ...params.slice(0, 2), ...ocParams, ...params.slice(2)].join(";");
      const buf = response([`Via: ${top}`, "Via: SIP/2.0/TCP 192.0.2.3;branch=z9hG4bK3;oc"]);
      const feedback = `;oc=${pct};oc-algo="loss";oc-validity=500;oc-seq=7`;
      const out = withOverloadFeedback(buf, feedback);
      if (!asks) return out === undefined;
      assert.ok(out);
      const expected = `Via: ${["SIP/2.0/UDP 192.0.2.1:5060", ...params].join(";")}${feedback}`;
      assert.equal(out.toString("latin1"), buf.toString("latin1").replace(`Via: ${top}`, expected));
      assert.equal(parsed(out).msg.topVia.params.get("oc"), String(pct));
      return true;
    }),
  );
});

test("property: arbitrary bytes after a response's status line never throw, and what is edited still starts as it did", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.constantFrom("Via: ", "v:", "VIA :", ""), (bytes, name) => {
      const buf = Buffer.concat([Buffer.from(`SIP/2.0 200 OK\r\n${name}`, "latin1"), Buffer.from(bytes)]);
      const out = withOverloadFeedback(buf, FEEDBACK);
      if (out !== undefined) assert.ok(out.toString("latin1").startsWith("SIP/2.0 200 OK\r\n"));
    }),
  );
});

test("a relayed response loses the feedback in its first Via that evsip did not write; its own valueless oc stays", () => {
  const forged = response([
    'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1;oc=100;oc-algo="loss";oc-validity=60000;oc-seq=9;rport=5060',
    "Via: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK2;oc=100",
  ]);
  const out = relayedWithoutForeignFeedback(forged);
  assert.notEqual(out, forged);
  const m = parsed(out).msg;
  assert.equal(m.topVia.params.get("oc"), null, "oc stays, valueless, as the client sent it");
  assert.equal(m.topVia.params.get("oc-algo"), '"loss"');
  assert.equal(m.topVia.params.has("oc-validity"), false);
  assert.equal(m.topVia.params.has("oc-seq"), false);
  assert.equal(m.topVia.params.get("rport"), "5060");
  assert.equal(m.vias[1]?.params.get("oc"), "100", "only the first Via is the client's");
  // Stamped afterwards, evsip's own feedback still goes in.
  assert.equal(parsed(withOverloadFeedback(out, FEEDBACK) as Buffer).msg.topVia.params.get("oc"), "30");
  for (const clean of [
    response(['Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1;oc;oc-algo="loss"']),
    response(["Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1"]),
    response([]),
  ])
    assert.equal(relayedWithoutForeignFeedback(clean), clean, "nothing foreign: left as it is");
});

test("a folded first Via, or bare LF line ends, cannot carry forged feedback past the relay", () => {
  const folded = Buffer.from(
    "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1;oc=100\r\n ;oc-seq=9;oc-validity=60000, SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK2\r\n" +
      "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>;tag=2\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
    "latin1",
  );
  const lf = Buffer.from(folded.toString("latin1").replace("\r\n ;", " ;").replaceAll("\r\n", "\n"), "latin1");
  for (const [what, buf] of [
    ["folded", folded],
    ["bare LF", lf],
  ] as const) {
    assert.equal(parsed(buf).msg.topVia.params.get("oc"), "100", `${what}: the parser reads the forged value`);
    const m = parsed(relayedWithoutForeignFeedback(buf)).msg;
    assert.equal(m.topVia.params.get("oc"), null, `${what}: left valueless`);
    assert.equal(m.topVia.params.has("oc-seq") || m.topVia.params.has("oc-validity"), false, what);
    assert.deepEqual(
      m.vias.map((v) => v.branch),
      ["z9hG4bK1", "z9hG4bK2"],
      `${what}: every Via kept, in order`,
    );
  }
});

test("property: taking foreign feedback out changes only the first Via's oc parameters, and never throws on bytes", () => {
  fc.assert(
    fc.property(fc.array(param, { maxLength: 5 }), fc.nat(100), (params, pct) => {
      const top = [
        "SIP/2.0/UDP 192.0.2.1:5060",
        ...params.slice(0, 2),
        `oc=${pct}`,
        "oc-seq=3",
        ...params.slice(2),
        "oc-validity=9",
      ].join(";");
      const buf = response([`Via: ${top}`, "Via: SIP/2.0/TCP 192.0.2.3;branch=z9hG4bK3;oc=5"]);
      const out = relayedWithoutForeignFeedback(buf);
      const expected = `Via: ${["SIP/2.0/UDP 192.0.2.1:5060", ...params.slice(0, 2), "oc", ...params.slice(2)].join(";")}`;
      assert.equal(out.toString("latin1"), buf.toString("latin1").replace(`Via: ${top}`, expected));
    }),
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.constantFrom("Via: ", "v:", ""), (bytes, name) => {
      const buf = Buffer.concat([Buffer.from(`SIP/2.0 200 OK\r\n${name}`, "latin1"), Buffer.from(bytes)]);
      const out = relayedWithoutForeignFeedback(buf);
      assert.ok(out.toString("latin1").startsWith("SIP/2.0 200 OK"));
    }),
  );
});
