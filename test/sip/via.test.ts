// parseVia: sent-protocol with LWS, IPv6 sent-by, branch/received/rport/maddr/ttl parameters.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseVia } from "../../src/sip/via.js";

test("typical Via with rport and received", () => {
  const v = parseVia("SIP/2.0/udp pc33.example.com:5066;branch=z9hG4bK776;received=192.0.2.1;rport=5067");
  assert.equal(v?.transport, "UDP");
  assert.equal(v?.host, "pc33.example.com");
  assert.equal(v?.port, 5066);
  assert.equal(v?.branch, "z9hG4bK776");
  assert.equal(v?.received, "192.0.2.1");
  assert.equal(v?.rport, 5067);
});

test("transport and parameter names in any case; an extension transport kept, upper-cased", () => {
  const v = parseVia("SIP/2.0/Tls h.example.com;BRANCH=z9hG4bKx;Received=192.0.2.9;RPort;X-Id=Ab");
  assert.equal(v?.transport, "TLS");
  assert.equal(v?.branch, "z9hG4bKx");
  assert.equal(v?.received, "192.0.2.9");
  assert.equal(v?.rport, null);
  assert.deepEqual([...(v?.params.keys() ?? [])], ["branch", "received", "rport", "x-id"]);
  assert.equal(v?.params.get("x-id"), "Ab");
  assert.equal(parseVia("SIP/2.0/quic h")?.transport, "QUIC");
});

test("the exact 'SIP/2.0/' spelling and its LWS variants parse alike", () => {
  for (const text of [
    "SIP/2.0/UDP h:5;branch=z9hG4bKa",
    "SIP/2.0/ UDP h:5;branch=z9hG4bKa",
    " sip/2.0 / UDP h:5 ;branch=z9hG4bKa",
  ]) {
    const v = parseVia(text);
    assert.equal(v?.transport, "UDP", text);
    assert.equal(v?.host, "h");
    assert.equal(v?.port, 5);
    assert.equal(v?.branch, "z9hG4bKa");
  }
  for (const bad of ["SIP/2.0/UDP", "SIP/2.0/UDP ", "SIP/2.0/", "SIP/2.0/;h", "SIP/2.1/UDP h"])
    assert.equal(parseVia(bad), undefined, bad);
});

test("rport without value is null, absent is undefined", () => {
  assert.equal(parseVia("SIP/2.0/UDP h;rport")?.rport, null);
  assert.equal(parseVia("SIP/2.0/UDP h")?.rport, undefined);
});

test("LWS around slashes and before params", () => {
  const v = parseVia("SIP  /   2.0 /  TCP   spindle.example.com   ;  branch  =   z9hG4bK9ikj8 ; maddr=239.1.1.1;ttl=16");
  assert.equal(v?.transport, "TCP");
  assert.equal(v?.host, "spindle.example.com");
  assert.equal(v?.branch, "z9hG4bK9ikj8");
  assert.equal(v?.params.get("maddr"), "239.1.1.1");
  assert.equal(v?.params.get("ttl"), "16");
});

test("IPv6 sent-by and received", () => {
  const v = parseVia("SIP/2.0/TLS [2001:db8::9]:5061;branch=z9hG4bKx;received=[2001:db8::9]");
  assert.equal(v?.host, "[2001:db8::9]");
  assert.equal(v?.port, 5061);
  assert.equal(v?.received, "[2001:db8::9]");
});

test("rejects malformed values", () => {
  for (const bad of [
    "SIP/2.0/UDP",
    "SIP/2.0 UDP h",
    "SIP/3.0/UDP h",
    "HTTP/2.0/UDP h",
    "SIP/2.0/UDP h:99999",
    "SIP/2.0/UDP h;rport=x",
    "SIP/2.0/UDP h;rport=0x1f",
    "SIP/2.0/UDP h;rport=70000",
    "SIP/2.0/UDP [::1",
    "SIP/2.0/UDP h junk",
    "",
  ]) {
    assert.equal(parseVia(bad), undefined, bad);
  }
});
