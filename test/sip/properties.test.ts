// Property tests (fast-check): generated messages round trip through the parser, rewrite output
// re-parses with the expected changes, and arbitrary or mutated bytes never make parseMessage,
// validate() or the getters throw anything but a coded SipParseError.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { SipParseError } from "../../src/errors.js";
import { parseMessage } from "../../src/sip/parse.js";
import { buildResponse, rawLines } from "../../src/sip/build-response.js";
import type { SipMessageLike } from "../../src/sip/types.js";
import { inviteText } from "../support/sip-text.js";

const alnum = fc.stringMatching(/^[a-zA-Z0-9]{1,12}$/);
const token = fc.stringMatching(/^[a-zA-Z0-9.!%*_+`'~-]{1,12}$/);
const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/);
const host = fc.oneof(
  fc.array(label, { minLength: 1, maxLength: 4 }).map((l) => l.join(".")),
  fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join(".")),
  fc.array(fc.stringMatching(/^[0-9a-f]{1,4}$/), { minLength: 2, maxLength: 8 }).map((g) => `[${g.join(":")}::1]`),
);
const port = fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined });
const method = fc.constantFrom("INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "MESSAGE", "X-Custom");
const display = fc.option(
  fc.string({ maxLength: 12 }).filter((s) => !/[\x00-\x1f\x7f]/.test(s)),
  { nil: undefined },
);

interface Spec {
  method: string;
  user: string;
  host: string;
  port: number | undefined;
  fromName: string | undefined;
  fromTag: string;
  callId: string;
  seq: number;
  vias: { host: string; port: number | undefined; branch: string }[];
  maxForwards: number;
  body: string;
  compact: boolean;
  fold: boolean;
  upper: boolean;
}

const spec: fc.Arbitrary<Spec> = fc.record({
  method,
  user: alnum,
  host,
  port,
  fromName: display,
  fromTag: token,
  callId: fc.tuple(token, fc.option(host, { nil: undefined })).map(([a, b]) => (b === undefined ? a : `${a}@${b}`)),
  seq: fc.integer({ min: 0, max: 0x7fffffff }),
  vias: fc.array(fc.record({ host, port, branch: alnum.map((b) => `z9hG4bK${b}`) }), { minLength: 1, maxLength: 4 }),
  maxForwards: fc.integer({ min: 0, max: 255 }),
  body: fc.string({ maxLength: 200 }),
  compact: fc.boolean(),
  fold: fc.boolean(),
  upper: fc.boolean(),
});

function hp(h: string, p: number | undefined): string {
  return p === undefined ? h : `${h}:${p}`;
}

function render(s: Spec): Buffer {
  const n = (full: string, c: string): string => (s.compact ? c : s.upper ? full.toUpperCase() : full);
  const ruri = `sip:${s.user}@${hp(s.host, s.port)}`;
  const name = s.fromName === undefined ? "" : `"${s.fromName.replace(/["\\]/g, (c) => `\\${c}`)}" `;
  const sep = s.fold ? ",\r\n " : ", ";
  const via = s.vias.map((v) => `SIP/2.0/UDP ${hp(v.host, v.port)};branch=${v.branch}`).join(sep);
  const body = Buffer.from(s.body, "utf8");
  const head =
    `${s.method} ${ruri} SIP/2.0\r\n${n("Via", "v")}: ${via}\r\nMax-Forwards: ${s.maxForwards}\r\n` +
    `${n("From", "f")}: ${name}<sip:alice@example.com>;tag=${s.fromTag}\r\n${n("To", "t")}: <${ruri}>\r\n` +
    `${n("Call-ID", "i")}: ${s.callId}\r\n${s.upper ? "CSEQ" : "CSeq"}: ${s.seq} ${s.method}\r\n` +
    `${n("Content-Length", "l")}: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, "utf8"), body]);
}

function touchAll(m: SipMessageLike): void {
  const getters: (() => unknown)[] = [
    () => m.from,
    () => m.to,
    () => m.callId,
    () => m.cseq,
    () => m.vias,
    () => m.topVia,
    () => m.maxForwards,
    () => m.routes,
    () => m.recordRoutes,
    () => m.contact,
    () => m.uri,
    () => m.body,
    () => m.method,
    () => m.headerValues("via"),
    () => m.header("x"),
    () => m.rewrite({ removeTopVia: true, maxForwards: 1 }),
  ];
  for (const g of getters) {
    try {
      g();
    } catch (e) {
      if (!(e instanceof SipParseError)) throw e;
    }
  }
}

test("generated messages round trip", () => {
  fc.assert(
    fc.property(spec, (s) => {
      const r = parseMessage(render(s));
      if (!r.ok) return assert.fail(`${r.code} ${r.detail}`);
      const m = r.msg;
      assert.deepEqual(m.validate(), { ok: true });
      assert.equal(m.method, s.method);
      assert.equal(m.uri.user, s.user);
      assert.equal(m.uri.host, s.host);
      assert.equal(m.uri.port, s.port);
      assert.equal(m.callId, s.callId);
      assert.deepEqual(m.cseq, { seq: s.seq, method: s.method });
      assert.equal(m.maxForwards, s.maxForwards);
      assert.equal(m.from.tag, s.fromTag);
      if (s.fromName !== undefined) assert.equal(Buffer.from(m.from.displayName ?? "", "latin1").toString("utf8"), s.fromName);
      assert.deepEqual(
        m.vias.map((v) => [v.host, v.port, v.branch]),
        s.vias.map((v) => [v.host, v.port, v.branch]),
      );
      assert.equal(m.body.toString("utf8"), s.body);
    }),
    { numRuns: 300 },
  );
});

test("rewrite output re-parses with the expected changes", () => {
  const edits = fc.record({
    requestUri: fc.option(
      fc.tuple(alnum, host).map(([u, h]) => `sip:${u}@${h}`),
      { nil: undefined },
    ),
    maxForwards: fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined }),
    removeTopVia: fc.boolean(),
    prepend: fc.array(
      alnum.map((b) => `Via: SIP/2.0/TCP proxy.example.com;branch=z9hG4bK${b}`),
      { maxLength: 2 },
    ),
    append: fc.array(
      alnum.map((v) => `X-Added: ${v}`),
      { maxLength: 2 },
    ),
    body: fc.option(fc.string({ maxLength: 50 }), { nil: undefined }),
  });
  fc.assert(
    fc.property(spec, edits, (s, e) => {
      const r = parseMessage(render(s));
      assert.ok(r.ok);
      const out = parseMessage(r.msg.rewrite(e));
      if (!out.ok) return assert.fail(`${out.code} ${out.detail}`);
      const m = out.msg;
      const vias = [...e.prepend.map((p) => p.split("branch=")[1]), ...s.vias.slice(e.removeTopVia ? 1 : 0).map((v) => v.branch)];
      assert.deepEqual(
        m.vias.map((v) => v.branch),
        vias,
      );
      assert.equal(m.requestUri, e.requestUri ?? r.msg.requestUri);
      assert.equal(m.maxForwards, e.maxForwards ?? s.maxForwards);
      assert.deepEqual(
        m.headerValues("x-added"),
        e.append.map((a) => a.slice("X-Added: ".length)),
      );
      assert.equal(m.body.toString("utf8"), e.body ?? s.body);
      assert.equal(m.callId, s.callId);
      if (vias.length > 0) assert.deepEqual(m.validate(), { ok: true });
    }),
    { numRuns: 300 },
  );
});

test("arbitrary bytes never throw", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
      const r = parseMessage(Buffer.from(bytes));
      if (r.ok) {
        r.msg.validate();
        touchAll(r.msg);
      }
    }),
    { numRuns: 1000 },
  );
});

test("text-like garbage with SIP structure never throws", () => {
  const piece = fc.constantFrom(
    "INVITE ",
    "SIP/2.0",
    " ",
    "\r\n",
    "\n",
    ":",
    ";",
    ",",
    "<",
    ">",
    '"',
    "\\",
    "sip:",
    "@",
    "[",
    "]",
    "Via",
    "v",
    "Content-Length",
    "l",
    "0",
    "9",
    "\t",
    "tag=",
    "\0",
    "%",
  );
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 80 }), (parts) => {
      const r = parseMessage(Buffer.from(parts.join(""), "latin1"));
      if (r.ok) touchAll(r.msg);
    }),
    { numRuns: 1000 },
  );
});

/** The same message seen through a plain object: buildResponse then takes its string path. */
function stringView(m: SipMessageLike): SipMessageLike {
  return new Proxy({} as SipMessageLike, {
    get: (_t, k) => {
      const v: unknown = Reflect.get(m, k, m);
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(m) : v;
    },
  });
}

/** A 200 with a To tag and Record-Route, built from the parsed request's bytes and from its strings. */
function sameBothWays(m: SipMessageLike): void {
  let fromBytes: Buffer;
  try {
    fromBytes = buildResponse(m, 200, "OK", { toTag: "t1", copyRecordRoute: true });
  } catch (e) {
    if (e instanceof SipParseError) return;
    throw e;
  }
  const fromStrings = buildResponse(stringView(m), 200, "OK", { toTag: "t1", copyRecordRoute: true });
  assert.equal(fromBytes.toString("latin1"), fromStrings.toString("latin1"));
}

test("buildResponse copies a parsed request's header bytes exactly as its header strings read", () => {
  fc.assert(
    fc.property(spec, (s) => {
      const r = parseMessage(render(s));
      assert.ok(r.ok);
      sameBothWays(r.msg);
    }),
    { numRuns: 300 },
  );
  // Several Via and Record-Route lines (some folded), a To tag or none, values past the byte loop's
  // 256: each line must come out once, in order, as written.
  const line = fc.tuple(token, fc.boolean(), fc.nat(300)).map(([t, fold, pad]) => ({ t, fold, pad: "x".repeat(pad) }));
  const request = fc.record({
    vias: fc.array(line, { minLength: 1, maxLength: 4 }),
    routes: fc.array(line, { maxLength: 3 }),
    toTag: fc.option(token, { nil: undefined }),
    compact: fc.boolean(),
  });
  fc.assert(
    fc.property(request, (q) => {
      const viaName = q.compact ? "v" : "Via";
      const vias = q.vias.map(
        (v, i) => `${viaName}: SIP/2.0/UDP h${i}.example.com;branch=z9hG4bK${v.t}${v.fold ? "\r\n " : ""};x=${v.pad}`,
      );
      const routes = q.routes.map(
        (r, i) => `Record-Route: <sip:r${i}.example.com;lr;${r.t}=${r.pad}>${r.fold ? "\r\n\t" : ""};y=1`,
      );
      const text = [
        "INVITE sip:bob@b.example SIP/2.0",
        ...vias,
        ...routes,
        "From: <sip:a@a.example>;tag=f1",
        `To: <sip:bob@b.example>${q.toTag === undefined ? "" : `;tag=${q.toTag}`}`,
        "Call-ID: c1",
        "CSeq: 1 INVITE",
        "Max-Forwards: 70",
        "Content-Length: 0",
        "",
        "",
      ].join("\r\n");
      const r = parseMessage(Buffer.from(text, "latin1"));
      assert.ok(r.ok);
      sameBothWays(r.msg);
      const res = parseMessage(buildResponse(r.msg, 200, "OK", { toTag: "t1", copyRecordRoute: true }));
      assert.ok(res.ok);
      assert.deepEqual(rawLines(res.msg, "via"), rawLines(r.msg, "via"));
      assert.deepEqual(rawLines(res.msg, "record-route"), rawLines(r.msg, "record-route"));
      assert.equal(res.msg.to.tag, q.toTag ?? "t1");
    }),
    { numRuns: 300 },
  );
});

test("mutated valid messages never throw from parseMessage, validate() or getters", () => {
  const base = Buffer.from(inviteText(), "latin1");
  const mutation = fc.array(
    fc.record({
      at: fc.nat(base.length),
      kind: fc.constantFrom("set", "insert", "delete"),
      byte: fc.constantFrom(0, 9, 10, 13, 32, 34, 44, 58, 59, 60, 62, 64, 92, 255, 65),
    }),
    { minLength: 1, maxLength: 8 },
  );
  fc.assert(
    fc.property(mutation, (muts) => {
      const bytes = [...base];
      for (const m of muts) {
        const at = Math.min(m.at, bytes.length);
        if (m.kind === "set") bytes[at] = m.byte;
        else if (m.kind === "insert") bytes.splice(at, 0, m.byte);
        else bytes.splice(at, 1);
      }
      const r = parseMessage(Buffer.from(bytes));
      if (r.ok) {
        const v = r.msg.validate();
        assert.equal(typeof v.ok, "boolean");
        touchAll(r.msg);
        sameBothWays(r.msg);
      }
    }),
    { numRuns: 1000 },
  );
});
