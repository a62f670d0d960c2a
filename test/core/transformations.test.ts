// Transformations $(pv{…}) against Kamailio's pv_trans.c semantics, chaining, indexes, and the
// parser under arbitrary and hostile input (fast-check): it answers or throws a coded EvsipError,
// never anything else, and never hangs.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { EvsipError } from "../../src/errors.js";
import { parsePvAt } from "../../src/core/pv-spec.js";
import { routeContext } from "../support/route-context.js";

test("string transformations", () => {
  const c = routeContext();
  const v = (value: string, tr: string) => {
    c.setPv("$var(v)", value);
    return c.pv(`$(var(v)${tr})`);
  };
  const want: Array<[string, string, unknown]> = [
    ["héllo", "{s.len}", 6],
    ["abcdef", "{s.substr,1,2}", "bc"],
    ["abcdef", "{s.substr,2,0}", "cdef"],
    ["abcdef", "{s.substr,-2,0}", "ef"],
    ["abcdef", "{s.substr,-3,1}", "d"],
    ["abcdef", "{s.substr,1,99}", "bcdef"],
    ["abcdef", "{s.substr,6,1}", null],
    ["a,b,c", "{s.select,1,,}", "b"],
    ["a;b;c", "{s.select,-1,;}", "c"],
    ["a;b;c", "{s.select,5,;}", ""],
    ["a b\tc", "{s.select,2,\\s}", "c"],
    ["MiXed", "{s.tolower}", "mixed"],
    ["MiXed", "{s.toupper}", "MIXED"],
    ["hello", "{s.encode.base64}", "aGVsbG8="],
    ["aGVsbG8=", "{s.decode.base64}", "hello"],
    ["not base64!", "{s.decode.base64}", null],
    ["abc", "{s.md5}", "900150983cd24fb0d6963f7d28e17f72"],
    ["abc", "{s.sha256}", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    ["-42", "{s.int}", -42],
    ["42abc", "{s.int}", null],
    ["a-b-c", "{s.rm,-}", "abc"],
    ["a-b-c", "{s.replace,-,+}", "a+b+c"],
    [" \t x y \r\n", "{s.trim}", "x y"],
    [`it's "q" \\`, "{s.escape.common}", `it\\'s \\"q\\" \\\\`],
    [`it\\'s \\"q\\" \\\\`, "{s.unescape.common}", `it's "q" \\`],
    ["a b&c=d/é", "{s.urlencode.param}", "a%20b%26c%3dd%2f%c3%a9"],
  ];
  for (const [value, tr, out] of want) assert.equal(v(value, tr), out, `${value} ${tr}`);
});

test("URI, parameter and header transformations", () => {
  const c = routeContext();
  assert.equal(c.pv("$(ru{uri.user})"), "bob");
  assert.equal(c.pv("$(ru{uri.host})"), "example.com");
  assert.equal(c.pv("$(ru{uri.port})"), 5070);
  assert.equal(c.pv("$(tu{uri.port})"), "");
  assert.equal(c.pv("$(ru{uri.param,transport})"), "udp");
  assert.equal(c.pv("$(ru{uri.param,lr})"), "");
  assert.equal(c.pv("$(hdr(From){nameaddr.uri})"), "sip:alice@atlanta.example.com");
  assert.equal(c.pv("$(hdr(From){nameaddr.name})"), '"Alice A." ', "up to '<', as Kamailio 5.6 gives it");
  assert.equal(c.pv("$(hdr(From){tobody.user})"), "alice");
  assert.equal(c.pv("$(hdr(From){tobody.tag})"), "1928301774");
  assert.equal(c.pv("$(hdr(To){tobody.tag})"), "");
  c.setPv("$var(p)", "a=1; B=two ;c");
  assert.equal(c.pv("$(var(p){param.value,b})"), "two");
  assert.equal(c.pv("$(var(p){param.value,c})"), "");
  c.setPv("$var(p)", "x=1&y=2");
  assert.equal(c.pv("$(var(p){param.value,y,&})"), "2");
  c.setPv("$var(u)", "not a uri");
  assert.equal(c.pv("$(var(u){uri.user})"), null);
});

test("json.parse reads the json module's path", () => {
  const c = routeContext();
  c.setPv("$var(j)", '{"a":{"b":[10,{"c":"x/y"}]},"n":null,"s":"str"}');
  assert.equal(c.pv("$(var(j){json.parse,s})"), "str");
  assert.equal(c.pv("$(var(j){json.parse,a.b[0]})"), "10");
  assert.equal(c.pv("$(var(j){json.parse,a.b[1]})"), '{ "c": "x\\/y" }');
  assert.equal(c.pv("$(var(j){json.parse,a.b[1].c})"), "x/y");
  assert.equal(c.pv("$(var(j){json.parse,n})"), null);
  assert.equal(c.pv("$(var(j){json.parse,missing})"), null);
  c.setPv("$var(j)", "{broken");
  assert.equal(c.pv("$(var(j){json.parse,a})"), null);
});

test("chaining, dynamic parameters, indexes and seed 001's base64", () => {
  const c = routeContext();
  c.setPv("$var(data)", '{"user":"alice"}');
  assert.equal(c.fmt("$(var(data){s.encode.base64})"), "eyJ1c2VyIjoiYWxpY2UifQ==");
  assert.equal(c.pv("$(var(data){s.encode.base64}{s.decode.base64}{json.parse,user}{s.toupper})"), "ALICE");
  c.setPv("$var(n)", 3);
  assert.equal(c.pv("$(rU{s.substr,0,$var(n)})"), "bob");
  assert.equal(c.pv("$(hdr(X-Account)[1])"), "43");
  assert.equal(c.pv("$(hdr(X-Account)[-1])"), "43");
  assert.equal(c.pv("$(hdr(X-Account)[*])"), "42,43");
  assert.equal(c.pv("$(hdr(Via)[1]{s.len})"), "SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK2".length);
  assert.equal(c.pv("$(hdr(X-Account)[5])"), null);
  assert.equal(c.pv("$hdrc(Via)"), 2);
  assert.equal(c.pv("$(var(missing){s.len})"), null);
  assert.equal(c.fmt("$(var(missing){s.len})"), "", "a failed transformation prints nothing in xlog (Kamailio 5.6)");
  assert.throws(() => c.setPv("$(var(x){s.len})", 1), { code: "ERR_PV_READONLY" });
});

test("unknown transformations and bad syntax are coded errors", () => {
  const c = routeContext();
  assert.throws(() => c.pv("$(rU{s.nope})"), { code: "ERR_TR_UNKNOWN" });
  assert.throws(() => c.pv("$(rU{s.substr,1})"), { code: "ERR_TR_UNKNOWN" });
  assert.throws(() => c.fmt("x $(rU{s.len}"), { code: "ERR_PV_UNKNOWN" });
  assert.throws(() => c.fmt("x $(hdr(A)[x])"), { code: "ERR_PV_UNKNOWN" });
  assert.throws(() => c.pv("$(ru[0])"), { code: "ERR_PV_UNKNOWN" });
  assert.throws(() => c.pv("$hdr"), { code: "ERR_PV_UNKNOWN" });
  assert.equal(c.fmt("$rU{s.len}"), "bob{s.len}", "only the bracketed form takes transformations");
});

const hostile = fc.string({
  unit: fc.constantFrom("$", "(", ")", "{", "}", "[", "]", ",", "s", ".", "len", "var", "x", "\\", "*", "-1"),
});

test("property: any text formats to a string or throws a coded EvsipError", () => {
  const c = routeContext();
  fc.assert(
    fc.property(fc.oneof(hostile, fc.string()), (text) => {
      try {
        assert.equal(typeof c.fmt(text), "string");
      } catch (err) {
        assert.ok(err instanceof EvsipError, String(err));
        assert.match(err.code, /^ERR_(PV|TR)_/);
      }
    }),
    { numRuns: 2000 },
  );
});

test("property: a parsed reference ends inside the text, after its '$'", () => {
  fc.assert(
    fc.property(hostile, fc.nat(20), (text, at) => {
      const s = `$${text}`;
      const r = parsePvAt(s, 0);
      if (r.ok) assert.ok(r.spec.end > 1 && r.spec.end <= s.length);
      void at;
    }),
    { numRuns: 2000 },
  );
});

test("property: transformations agree with their definitions on any string", () => {
  const c = routeContext();
  fc.assert(
    fc.property(fc.string(), fc.integer({ min: -3, max: 8 }), fc.constantFrom(",", ";", "|"), (s, i, sep) => {
      c.setPv("$var(s)", s);
      c.setPv("$var(i)", i);
      assert.equal(c.pv("$(var(s){s.encode.base64}{s.decode.base64})"), s);
      const fields = s.split(sep);
      const want = (i >= 0 ? fields[i] : fields[fields.length + i]) ?? "";
      assert.equal(c.pv(`$(var(s){s.select,$var(i),${sep}})`), want);
      assert.equal(c.pv("$(var(s){s.escape.common}{s.unescape.common})"), s);
      assert.equal(c.pv("$(var(s){s.len})"), Buffer.byteLength(s));
      if (i >= 0 && i < s.length) assert.equal(c.pv("$(var(s){s.substr,$var(i),1})"), s.slice(i, i + 1));
    }),
    { numRuns: 1000 },
  );
});
