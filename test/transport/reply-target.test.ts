// Where responses go: replyDestination (RFC 3261 §18.2.2 + RFC 3581 rport) for UDP and TCP, and
// responseDestination for a proxy forwarding a response upstream (received, rport, maddr, sent-by).
import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_SIP_LIMITS, type SipMessageLike } from "../../src/sip/types.js";
import { replyDestination, responseTarget } from "../../src/transport/reply-target.js";
import type { Source } from "../../src/transport/types.js";
import { parseMessage } from "../../src/sip/index.js";
import { sipRequest, sipResponse } from "../support/sip-samples.js";
import { startLayer } from "../support/transport-harness.js";

function parsed(buf: Buffer): SipMessageLike {
  const r = parseMessage(buf, DEFAULT_SIP_LIMITS);
  assert.ok(r.ok);
  return r.msg;
}

const udpSrc: Source = {
  proto: "udp",
  remoteAddr: "192.0.2.7",
  remotePort: 40000,
  localAddr: "127.0.0.1",
  localPort: 5060,
  connId: 0,
};

test("UDP reply without rport: source address, sent-by port", () => {
  const req = parsed(sipRequest({ via: "SIP/2.0/UDP pc33.example.com:5070;branch=z9hG4bK-1" }));
  assert.deepEqual(replyDestination(req, udpSrc), { proto: "udp", addr: "192.0.2.7", port: 5070 });
});

test("UDP reply without rport or sent-by port: 5060", () => {
  const req = parsed(sipRequest({ via: "SIP/2.0/UDP 192.0.2.7;branch=z9hG4bK-1" }));
  assert.deepEqual(replyDestination(req, udpSrc), { proto: "udp", addr: "192.0.2.7", port: 5060 });
});

test("UDP reply with rport: source address and source port (RFC 3581)", () => {
  const req = parsed(sipRequest({ via: "SIP/2.0/UDP 10.0.0.1:5070;rport;branch=z9hG4bK-1" }));
  assert.deepEqual(replyDestination(req, udpSrc), { proto: "udp", addr: "192.0.2.7", port: 40000 });
});

test("UDP reply ignores a maddr in the request's Via", () => {
  const req = parsed(sipRequest({ via: "SIP/2.0/UDP 10.0.0.1:5070;maddr=203.0.113.9;branch=z9hG4bK-1" }));
  assert.equal(replyDestination(req, udpSrc).addr, "192.0.2.7");
});

test("TCP reply: the same connection, sent-by port as fallback", () => {
  const src: Source = { ...udpSrc, proto: "tcp", connId: 42 };
  const req = parsed(sipRequest({ via: "SIP/2.0/TCP client.example.com;branch=z9hG4bK-1" }));
  assert.deepEqual(replyDestination(req, src), { proto: "tcp", addr: "192.0.2.7", port: 5060, connId: 42 });
});

test("responseTarget: received and rport win, then sent-by, then 5060", () => {
  const t = (via: string): unknown => responseTarget(parsed(sipResponse([via])));
  assert.deepEqual(t("SIP/2.0/UDP h.example.com:5070;received=192.0.2.1;rport=4000;branch=z"), {
    proto: "udp",
    addr: "192.0.2.1",
    port: 4000,
  });
  assert.deepEqual(t("SIP/2.0/UDP h.example.com:5070;received=192.0.2.1;rport;branch=z"), {
    proto: "udp",
    addr: "192.0.2.1",
    port: 5070,
  });
  assert.deepEqual(t("SIP/2.0/UDP 192.0.2.2;branch=z"), { proto: "udp", addr: "192.0.2.2", port: 5060 });
  assert.deepEqual(t("SIP/2.0/TCP [2001:db8::1]:5080;branch=z"), { proto: "tcp", addr: "2001:db8::1", port: 5080 });
  assert.deepEqual(t("SIP/2.0/UDP h.example.com;maddr=239.255.255.1;branch=z"), {
    proto: "udp",
    addr: "239.255.255.1",
    port: 5060,
  });
  assert.equal(t("SIP/2.0/TLS h.example.com;branch=z"), undefined);
});

test("responseDestination: no Via left gives undefined; TCP without a held connection has no connId", async (t) => {
  const h = await startLayer(["udp:127.0.0.1:0"]);
  t.after(() => h.layer.stop());
  assert.equal(h.layer.responseDestination(parsed(sipResponse([]))), undefined);
  const second = parsed(sipResponse(["SIP/2.0/TCP 192.0.2.3:5062;branch=z"]));
  assert.deepEqual(h.layer.responseDestination(second), { proto: "tcp", addr: "192.0.2.3", port: 5062 });
});

test("isLocal and localAddress know the bound listeners", async (t) => {
  const h = await startLayer(["udp:127.0.0.1:0", "tcp:127.0.0.1:0", "udp:0.0.0.0:0"], { aliases: ["sip.example.com"] });
  t.after(() => h.layer.stop());
  const [u, tc, wild] = h.layer.listeners();
  assert.ok(u && tc && wild);
  assert.deepEqual(h.layer.localAddress("udp"), { host: "127.0.0.1", port: u.port });
  assert.deepEqual(h.layer.localAddress("tcp", 6), { host: "127.0.0.1", port: tc.port });
  assert.equal(h.layer.isLocal("127.0.0.1", u.port), true);
  assert.equal(h.layer.isLocal("[::ffff:127.0.0.1]", tc.port), true);
  assert.equal(h.layer.isLocal("127.0.0.1", undefined), u.port === 5060);
  assert.equal(h.layer.isLocal("SIP.example.com", u.port), true);
  assert.equal(h.layer.isLocal("192.0.2.99", u.port), false);
  assert.equal(h.layer.isLocal("127.0.0.1", wild.port), true, "wildcard listener covers loopback");
});
