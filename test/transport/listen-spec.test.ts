// Listen specs: the accepted forms, the refused ones (ConfigError ERR_TRANSPORT_BAD_LISTEN),
// host:port formatting and address normalisation.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError } from "../../src/errors.js";
import { formatHostPort, formatListen, normalizeHost, parseListen } from "../../src/transport/listen-spec.js";

test("parseListen accepts udp/tcp with IPv4, bracketed IPv6 and names", () => {
  assert.deepEqual(parseListen("udp:127.0.0.1:5060"), { proto: "udp", host: "127.0.0.1", port: 5060 });
  assert.deepEqual(parseListen("tcp:[::1]:5060"), { proto: "tcp", host: "::1", port: 5060 });
  assert.deepEqual(parseListen("TCP:localhost:0"), { proto: "tcp", host: "localhost", port: 0 });
  assert.deepEqual(parseListen("udp:[2001:db8::1]:65535"), { proto: "udp", host: "2001:db8::1", port: 65535 });
});

test("parseListen refuses malformed specs with ERR_TRANSPORT_BAD_LISTEN", () => {
  for (const s of [
    "",
    "udp:127.0.0.1",
    "sctp:127.0.0.1:5060",
    "udp:::1:5060",
    "tcp:[127.0.0.1]:5060",
    "udp:1.2.3.4:65536",
    "udp:bad_host!:5060",
    "udp:[::1]:x",
  ]) {
    assert.throws(
      () => parseListen(s),
      (e: unknown) => e instanceof ConfigError && e.code === "ERR_TRANSPORT_BAD_LISTEN",
      s,
    );
  }
});

test("formatHostPort brackets IPv6; formatListen round-trips", () => {
  assert.equal(formatHostPort("::1", 5060), "[::1]:5060");
  assert.equal(formatHostPort("10.0.0.1", 5), "10.0.0.1:5");
  for (const s of ["udp:127.0.0.1:5060", "tcp:[::1]:0", "tcp:example.com:5061"]) assert.equal(formatListen(parseListen(s)), s);
});

test("normalizeHost strips brackets, IPv4-mapped prefixes and case; compresses IPv6", () => {
  assert.equal(normalizeHost("[::1]"), "::1");
  assert.equal(normalizeHost("::ffff:127.0.0.1"), "127.0.0.1");
  assert.equal(normalizeHost("0:0:0:0:0:0:0:1"), "::1");
  assert.equal(normalizeHost("[2001:DB8:0::1]"), "2001:db8::1");
  assert.equal(normalizeHost("Example.COM."), "example.com");
});
