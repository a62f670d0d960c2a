// The one host:port parser behind listen specs, metrics.bindAddr, evapi.bindAddr and jsonrpcc's
// servers: the accepted forms, every refusal with its reason, and two properties: formatting then
// parsing gives the address back, and no input makes it throw.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { bracket, formatHostPort, parseHostPort, unbracket } from "../../src/common/host-port.js";

test("accepts IPv4, bracketed IPv6 and host names; the default port only where a user has one", () => {
  assert.deepEqual(parseHostPort("127.0.0.1:9090"), { ok: true, addr: { host: "127.0.0.1", port: 9090 } });
  assert.deepEqual(parseHostPort("[::1]:0"), { ok: true, addr: { host: "::1", port: 0 } });
  assert.deepEqual(parseHostPort("[2001:db8::1]:65535"), { ok: true, addr: { host: "2001:db8::1", port: 65535 } });
  assert.deepEqual(parseHostPort("example.com.:5061"), { ok: true, addr: { host: "example.com.", port: 5061 } });
  assert.deepEqual(parseHostPort("localhost", { defaultPort: 8448 }), { ok: true, addr: { host: "localhost", port: 8448 } });
  assert.deepEqual(parseHostPort("[::]", { defaultPort: 8448 }), { ok: true, addr: { host: "::", port: 8448 } });
  assert.deepEqual(parseHostPort("h:7", { defaultPort: 8448 }), { ok: true, addr: { host: "h", port: 7 } });
});

test("each refusal says what is wrong", () => {
  const cases: Array<[string, RegExp, { defaultPort?: number; minPort?: number }?]> = [
    ["127.0.0.1", /missing port/],
    ["::1:8448", /IPv6 address needs brackets, as in "\[::1\]:8448"/, { defaultPort: 8448 }],
    [":8448", /missing host/],
    ["[::1", /missing '\]'/],
    ["[::1]x", /expected ':' and a port after '\]', got "x"/],
    ["[1.2.3.4]:1", /brackets hold an IPv6 address, got "1.2.3.4"/],
    ["bad_host!:5060", /host "bad_host!" is neither an IP address nor a host name/],
    ["a b:1", /neither an IP address nor a host name/],
    [" 1.2.3.4:1", /neither an IP address nor a host name/],
    ["1.2.3.4:70000", /port must be 0\.\.65535, got "70000"/],
    ["1.2.3.4:x", /port must be 0\.\.65535, got "x"/],
    ["1.2.3.4:", /port must be 0\.\.65535, got ""/],
    ["host:0", /port must be 1\.\.65535, got "0"/, { minPort: 1 }],
  ];
  for (const [text, why, rules] of cases) {
    const r = parseHostPort(text, rules);
    assert.equal(r.ok, false, text);
    if (!r.ok) assert.match(r.detail, why, text);
  }
});

test("bracket and unbracket: IPv6 gets brackets once, everything else stays as it is", () => {
  assert.equal(bracket("::1"), "[::1]");
  assert.equal(bracket("[::1]"), "[::1]");
  assert.equal(bracket("10.0.0.1"), "10.0.0.1");
  assert.equal(unbracket("[::1]"), "::1");
  assert.equal(unbracket("example.com"), "example.com");
  assert.equal(formatHostPort("::1", 5060), "[::1]:5060");
  assert.equal(formatHostPort("example.com", 0), "example.com:0");
});

const label = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9-]{0,20}$/);
const host = fc.oneof(
  fc.ipV4(),
  fc.ipV6(),
  fc.array(label, { minLength: 1, maxLength: 4 }).map((ls) => ls.join(".")),
);

test("formatHostPort then parseHostPort gives the address back", () => {
  fc.assert(
    fc.property(host, fc.integer({ min: 0, max: 65535 }), (h, port) => {
      assert.deepEqual(parseHostPort(formatHostPort(h, port)), { ok: true, addr: { host: h, port } });
    }),
    { numRuns: 500 },
  );
});

test("garbage never throws: the answer is an address or a reason", () => {
  const noise = fc.oneof(fc.string(), fc.stringMatching(/^[[\]:0-9a-f. ]{0,12}$/));
  fc.assert(
    fc.property(noise, fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }), (text, defaultPort) => {
      const r = parseHostPort(text, { defaultPort });
      if (r.ok) assert.ok(Number.isInteger(r.addr.port) && r.addr.port >= 0 && r.addr.port <= 65535 && r.addr.host !== "");
      else assert.ok(r.detail.length > 0);
    }),
    { numRuns: 1000 },
  );
});
