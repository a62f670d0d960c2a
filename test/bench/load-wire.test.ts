// The load tool's SIP text (bench/load/sip-wire.ts, bench/load/uas.ts): the fields it matches on are
// read from the top Via, long or compact header names; Record-Route values are split one per URI;
// the UAS answers a request with 200 copying what a response must carry, and never an ACK.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { initialRequest, ocFeedback, parseResponse, RunIds } from "../../bench/load/sip-wire.js";
import { answer200, replyPort } from "../../bench/load/uas.js";

const res = (lines: string[]): Buffer => Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1");

test("a response's top Via branch, Call-ID, CSeq, To tag, Contact and Record-Route set", () => {
  const r = parseResponse(
    res([
      "SIP/2.0 200 OK",
      "v: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKtop;rport=5070, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKsecond",
      "Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKthird",
      "Record-Route: <sip:10.0.0.9;lr>, <sip:10.0.0.8;lr;ftag=a,b>",
      "Record-Route: <sip:10.0.0.7;lr>",
      "i: call-1",
      "CSeq: 7 INVITE",
      "t: <sip:load@127.0.0.1>;tag=xyz",
      'm: "UAS" <sip:uas@127.0.0.1:5090;transport=udp>;expires=60',
      "Content-Length: 0",
    ]),
  );
  assert.ok(r !== undefined);
  assert.equal(r.status, 200);
  assert.equal(r.branch, "z9hG4bKtop");
  assert.equal(r.callId, "call-1");
  assert.equal(r.cseq, 7);
  assert.equal(r.cseqMethod, "INVITE");
  assert.equal(r.toTag, "xyz");
  assert.equal(r.contact, "sip:uas@127.0.0.1:5090;transport=udp");
  assert.deepEqual(r.recordRoutes, ["<sip:10.0.0.9;lr>", "<sip:10.0.0.8;lr;ftag=a,b>", "<sip:10.0.0.7;lr>"]);
});

test("a request or a bad status line is not a response", () => {
  assert.equal(
    parseResponse(
      initialRequest(
        { target: "127.0.0.1:5060", local: "127.0.0.1:5070" },
        { method: "OPTIONS", branch: "z9hG4bKa", callId: "c", fromTag: "f" },
      ),
    ),
    undefined,
  );
  assert.equal(parseResponse(Buffer.from("SIP/2.0 abc OK\r\n\r\n")), undefined);
});

test("the UAS answers with 200, Vias and Record-Routes copied, a To tag added; an ACK gets nothing", () => {
  const invite = [
    "INVITE sip:load@127.0.0.1:5090 SIP/2.0",
    "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKproxy",
    "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKuac",
    "Record-Route: <sip:127.0.0.1:5060;lr>",
    "From: <sip:loadtool@127.0.0.1:5070>;tag=f1",
    "To: <sip:load@127.0.0.1:5060>",
    "Call-ID: Lx-1",
    "CSeq: 1 INVITE",
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
  const tail = Buffer.from("Contact: <sip:uas@127.0.0.1:5090>\r\nContent-Length: 0\r\n\r\n", "latin1");
  const bytes = answer200(Buffer.from(invite, "latin1"), tail);
  assert.ok(bytes !== undefined);
  const text = bytes.toString("latin1");
  const r = parseResponse(bytes);
  assert.equal(r?.status, 200);
  assert.equal(r?.branch, "z9hG4bKproxy");
  assert.match(text, /Via: SIP\/2.0\/UDP 127.0.0.1:5070;branch=z9hG4bKuac\r\n/);
  assert.deepEqual(r?.recordRoutes, ["<sip:127.0.0.1:5060;lr>"]);
  assert.equal(r?.toTag, "uLx-1");
  assert.equal(r?.contact, "sip:uas@127.0.0.1:5090");
  assert.deepEqual(answer200(Buffer.from(invite, "latin1"), tail), bytes, "a retransmitted INVITE gets the same answer");
  assert.equal(answer200(Buffer.from(invite.replace("INVITE sip", "ACK sip"), "latin1"), tail), undefined);
});

test("property: a generated response reads back as written (names in any case or compact, spacing, extra headers)", () => {
  const token = fc.stringMatching(/^[A-Za-z0-9.!%*_+~-]{1,16}$/);
  const host = fc.stringMatching(/^[a-z0-9]{1,8}(\.[a-z0-9]{1,8}){0,2}$/);
  const spec = fc.record({
    status: fc.integer({ min: 100, max: 699 }),
    branches: fc.array(token, { minLength: 1, maxLength: 3 }),
    callId: fc.tuple(token, fc.option(host, { nil: undefined })).map(([a, b]) => (b === undefined ? a : `${a}@${b}`)),
    cseq: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    method: fc.constantFrom("INVITE", "OPTIONS", "BYE", "ACK", "MESSAGE"),
    toTag: fc.option(token, { nil: undefined }),
    contact: fc.option(
      host.map((h) => `sip:uas@${h}:5090`),
      { nil: undefined },
    ),
    routes: fc.array(
      host.map((h) => `<sip:${h};lr>`),
      { maxLength: 3 },
    ),
    compact: fc.boolean(),
    upper: fc.boolean(),
    pad: fc.constantFrom("", " ", "\t "),
    extra: fc.array(fc.tuple(fc.constantFrom("X-A", "Server", "Allow"), token), { maxLength: 3 }),
  });
  fc.assert(
    fc.property(spec, (s) => {
      const n = (long: string, short: string): string => (s.compact ? short : s.upper ? long.toUpperCase() : long);
      const h = (name: string, value: string): string => `${name}${s.pad}:${s.pad}${value}${s.pad}`;
      const semi = `;${s.pad}`;
      const vias = s.branches.map((b, i) => `SIP/2.0/UDP 10.0.0.${i + 1};rport${semi}${s.upper ? "BRANCH" : "branch"}=${b}`);
      const lines = [
        `SIP/2.0 ${s.status} Whatever`,
        h(n("Via", "v"), vias.join(", ")),
        ...s.extra.map(([k, v]) => h(k, v)),
        ...(s.routes.length > 0 ? [h("Record-Route", s.routes.join(", "))] : []),
        h(n("From", "f"), "<sip:a@b>;tag=f1"),
        h(n("To", "t"), `<sip:load@h>${s.toTag === undefined ? "" : `${semi}${s.upper ? "Tag" : "tag"}=${s.toTag}`}`),
        h(n("Call-ID", "i"), s.callId),
        h(s.upper ? "CSEQ" : "CSeq", `${s.cseq} ${s.method}`),
        ...(s.contact === undefined ? [] : [h(n("Contact", "m"), `"UAS" <${s.contact}>;expires=60`)]),
        "Content-Length: 0",
      ];
      const r = parseResponse(res(lines));
      assert.ok(r !== undefined);
      assert.deepEqual(
        [r.status, r.branch, r.callId, r.cseq, r.cseqMethod, r.toTag, r.contact, r.recordRoutes],
        [s.status, s.branches[0], s.callId, s.cseq, s.method, s.toTag, s.contact, s.routes],
      );
    }),
    { numRuns: 500 },
  );
});

test("property: arbitrary bytes after a status line never throw", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const r = parseResponse(Buffer.concat([Buffer.from("SIP/2.0 200 OK\r\n"), Buffer.from(bytes)]));
      assert.equal(r?.status, 200);
    }),
    { numRuns: 1000 },
  );
});

test("property: isCallIdOf(c, i) is callId(i) === c", () => {
  const ids = new RunIds("Lq7");
  const near = fc.nat(2 ** 31).chain((i) =>
    fc.tuple(
      fc.constant(i),
      fc.oneof(
        fc.constant(ids.callId(i)),
        fc.nat(2 ** 31).map((j) => ids.callId(j)),
        fc.constantFrom(`Lq7-0${i}`, `Lq7-${i} `, `Lq8-${i}`, `Lq7${i}`, "Lq7-", "", `Lq7-${i}x`),
      ),
    ),
  );
  fc.assert(
    fc.property(near, ([i, c]) => assert.equal(ids.isCallIdOf(c, i), c === ids.callId(i))),
    { numRuns: 2000 },
  );
  assert.equal(ids.isCallIdOf(undefined, 1), false);
});

test("property: the UAS copies Via, From, Call-ID, CSeq, Record-Route lines as written and tags To from the Call-ID", () => {
  const token = fc.stringMatching(/^[A-Za-z0-9.!%*_+~-]{1,16}$/);
  const spec = fc.record({
    method: fc.constantFrom("INVITE", "BYE", "OPTIONS"),
    vias: fc.array(
      token.map((b) => `SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK${b}`),
      { minLength: 1, maxLength: 3 },
    ),
    routes: fc.array(
      token.map((h) => `<sip:${h};lr>`),
      { maxLength: 2 },
    ),
    callId: fc.stringMatching(/^[A-Za-z0-9.!%*_+~@:-]{1,40}$/),
    toTag: fc.option(token, { nil: undefined }),
    compact: fc.boolean(),
    pad: fc.constantFrom("", " "),
  });
  const tail = Buffer.from("Contact: <sip:uas@127.0.0.1:5090>\r\nContent-Length: 0\r\n\r\n", "latin1");
  fc.assert(
    fc.property(spec, (s) => {
      const n = (long: string, short: string): string => (s.compact ? short : long);
      const copied = [
        ...s.vias.map((v) => `${n("Via", "v")}${s.pad}: ${v}`),
        ...s.routes.map((r) => `Record-Route: ${r}`),
        `${n("From", "f")}: <sip:a@b>;tag=f1`,
        `${n("Call-ID", "i")}:${s.pad}${s.callId}`,
        `CSeq: 2 ${s.method}`,
      ];
      const to = `${n("To", "t")}: <sip:load@h>${s.toTag === undefined ? "" : `;tag=${s.toTag}`}`;
      const req = [`${s.method} sip:load@h SIP/2.0`, ...copied, "Max-Forwards: 70", to, "Content-Length: 0", "", ""];
      const out = answer200(Buffer.from(req.join("\r\n"), "latin1"), tail);
      assert.ok(out !== undefined);
      const tag = s.toTag ?? `u${s.callId.replace(/[^A-Za-z0-9._-]/g, "").slice(0, 32)}`;
      const expected = ["SIP/2.0 200 OK", ...copied, s.toTag === undefined ? `${to};tag=${tag}` : to].join("\r\n");
      assert.equal(out.toString("latin1"), `${expected}\r\n${tail.toString("latin1")}`);
    }),
    { numRuns: 500 },
  );
});

test("property: replyPort is the source port with rport, else the top Via's port (5060 when absent)", () => {
  const spec = fc.record({
    port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
    rport: fc.constantFrom("", ";rport", ";RPORT", "; rport=4001", ";rportx", ";received=1.2.3.4"),
    compact: fc.boolean(),
    second: fc.boolean(),
  });
  fc.assert(
    fc.property(spec, (s) => {
      const via = `SIP/2.0/UDP 10.0.0.1${s.port === undefined ? "" : `:${s.port}`};branch=z9hG4bKa${s.rport}`;
      const vias = s.second ? `${via}, SIP/2.0/UDP 10.0.0.2:7000;rport` : via;
      const msg = Buffer.from(`SIP/2.0 200 OK\r\n${s.compact ? "v" : "Via"}: ${vias}\r\nContent-Length: 0\r\n\r\n`);
      const withRport = /^;\s*rport(=|$)/i.test(s.rport);
      assert.equal(replyPort(msg, 4000), withRport ? 4000 : (s.port ?? 5060));
    }),
    { numRuns: 500 },
  );
});

test("property: InitialWriter builds RunIds.initial's bytes; initialOf reads the index back", () => {
  const ids = new RunIds("Lq7");
  const leg = { target: "127.0.0.1:5060", local: "127.0.0.1:40001" };
  const writers = { INVITE: ids.initialWriter(leg, "INVITE"), OPTIONS: ids.initialWriter(leg, "OPTIONS") };
  fc.assert(
    fc.property(fc.constantFrom<"INVITE" | "OPTIONS">("INVITE", "OPTIONS"), fc.nat(2 ** 40), (method, i) => {
      assert.deepEqual(writers[method].build(i), ids.initial(leg, method, i));
      assert.equal(ids.initialOf(ids.branch(i, "i")), i);
    }),
    { numRuns: 1000 },
  );
  for (const b of [
    ids.branch(3, "a"),
    ids.branch(3, "b"),
    "z9hG4bKLq7xi",
    "z9hG4bKLq7x1.5i",
    "z9hG4bKLq8x3i",
    `${ids.branch(3, "i")}i`,
  ]) {
    assert.equal(ids.initialOf(b), undefined, b);
  }
});

test("edge cases: a CSeq without a space, a To tag without a value, a Via port that is empty or out of range", () => {
  const r = parseResponse(res(["SIP/2.0 200 OK", "Via: SIP/2.0/UDP h;branch=z9hG4bKa", "CSeq: 1INVITE", "Call-ID: c"]));
  assert.deepEqual([r?.cseq, r?.cseqMethod], [Number.NaN, ""]);
  const tail = Buffer.from("Content-Length: 0\r\n\r\n", "latin1");
  for (const to of ["To: <sip:b@h>;tag", "To: <sip:b@h>;tag =x", "To: <sip:b@h;tag=inuri>"]) {
    const req = Buffer.from(
      `BYE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKa\r\nCall-ID: c1\r\n${to}\r\n\r\n`,
      "latin1",
    );
    const out = answer200(req, tail)?.toString("latin1") ?? "";
    // The URI's own tag parameter is inside <>; the old regex counted it too, and so does this.
    assert.equal(out.includes(`${to};tag=uc1\r\n`), !to.includes("inuri"), to);
  }
  const via = (v: string): Buffer => Buffer.from(`SIP/2.0 200 OK\r\nVia: ${v}\r\n\r\n`, "latin1");
  assert.equal(replyPort(via("SIP/2.0/UDP h:;branch=z9hG4bKa"), 4000), 5060);
  assert.equal(replyPort(via("SIP/2.0/UDP h:99999;branch=z9hG4bKa"), 4000), 4000);
  assert.equal(replyPort(via("SIP/2.0/UDP h:0;branch=z9hG4bKa"), 4000), 4000);
  assert.equal(replyPort(via("SIP/2.0/UDP [2001:db8::1]:5070;branch=z9hG4bKa"), 4000), 5070);
});

test("ocFeedback: a response's top Via feedback; the caller's own valueless oc is none; a second Via is not read", () => {
  const withVia = (via: string): Buffer =>
    Buffer.from(`SIP/2.0 200 OK\r\nVia: ${via}\r\nVia: SIP/2.0/UDP b;branch=z9hG4bK2;oc=90\r\nCall-ID: c\r\n\r\n`, "latin1");
  assert.deepEqual(ocFeedback(withVia('SIP/2.0/UDP a;branch=z9hG4bK1;oc=44;oc-algo="loss";oc-validity=300;oc-seq=17.250')), {
    reduction: 44,
    validityMs: 300,
    seq: 17.25,
  });
  assert.equal(ocFeedback(withVia('SIP/2.0/UDP a;branch=z9hG4bK1;oc;oc-algo="loss"')), undefined);
  assert.deepEqual(ocFeedback(withVia("SIP/2.0/UDP a;oc=0")), { reduction: 0, validityMs: 500, seq: 0 });
  assert.equal(ocFeedback(withVia("SIP/2.0/UDP a;oc=101")), undefined, "out of range");
  assert.equal(ocFeedback(withVia("SIP/2.0/UDP a;branch=z9hG4bK1")), undefined);
});
