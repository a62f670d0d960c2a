// The load tool's SIP text (bench/load/sip-wire.ts, bench/load/uas.ts): the fields it matches on are
// read from the top Via, long or compact header names; Record-Route values are split one per URI;
// the UAS answers a request with 200 copying what a response must carry, and never an ACK.
import { test } from "node:test";
import assert from "node:assert/strict";
import { initialRequest, parseResponse } from "../../bench/load/sip-wire.js";
import { answer200 } from "../../bench/load/uas.js";

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
  const text = answer200(invite, "127.0.0.1:5090");
  assert.ok(text !== undefined);
  const r = parseResponse(Buffer.from(text, "latin1"));
  assert.equal(r?.status, 200);
  assert.equal(r?.branch, "z9hG4bKproxy");
  assert.match(text, /Via: SIP\/2.0\/UDP 127.0.0.1:5070;branch=z9hG4bKuac\r\n/);
  assert.deepEqual(r?.recordRoutes, ["<sip:127.0.0.1:5060;lr>"]);
  assert.equal(r?.toTag, "uLx-1");
  assert.equal(r?.contact, "sip:uas@127.0.0.1:5090");
  assert.equal(answer200(invite, "127.0.0.1:5090"), text, "a retransmitted INVITE gets the same answer");
  assert.equal(answer200(invite.replace("INVITE sip", "ACK sip"), "127.0.0.1:5090"), undefined);
});
