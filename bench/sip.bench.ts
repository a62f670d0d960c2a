// Hot paths of the SIP layer: parse a typical INVITE, the first lazy header access after parse,
// validate(), the proxy's forwarding rewrite (Via insert, R-URI, Max-Forwards, Route pop), and the
// whole of an async call's SIP work as the load tool sends it.
import type { BenchCase } from "./types.js";
import { parseMessage } from "../src/sip/parse.js";
import { buildResponse } from "../src/sip/build-response.js";
import type { SipMessageLike } from "../src/sip/types.js";
import { ackKey, serverKey } from "../src/tm/match-key.js";
import { fnv1a53 } from "../src/common/fnv1a.js";
import { followRequest, initialRequest } from "./load/sip-wire.js";

const INVITE = Buffer.from(
  "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n" +
    "Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport\r\n" +
    "Max-Forwards: 70\r\n" +
    "Route: <sip:proxy.atlanta.example.com;lr>\r\n" +
    "To: Bob <sip:bob@biloxi.example.com>\r\n" +
    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n" +
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n" +
    "CSeq: 314159 INVITE\r\n" +
    "Contact: <sip:alice@pc33.atlanta.example.com>\r\n" +
    "User-Agent: bench-ua/1.0\r\n" +
    "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY\r\n" +
    "Supported: replaces, timer\r\n" +
    "Content-Type: application/sdp\r\n" +
    "Content-Length: 142\r\n\r\n" +
    "v=0\r\no=alice 2890844526 2890844526 IN IP4 pc33.atlanta.example.com\r\ns=-\r\n" +
    "c=IN IP4 192.0.2.101\r\nt=0 0\r\nm=audio 49172 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
  "latin1",
);

const VIA = "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKbench1234567890";
const EDITS = { prepend: [VIA], requestUri: "sip:bob@192.0.2.4:5062", maxForwards: 69, removeTopRoute: true };

/**
 * What the load tool's async call asks of the SIP layer and tm's keys (its own INVITE and ACK, from
 * bench/load/sip-wire.ts, 400 different calls in turn): parse and validate the INVITE, key it,
 * answer 200, parse and validate the ACK, key it twice. The per-call SIP work that `node
 * dist/bench/load.js --scenario async` pays in the router, without the sockets.
 */
const CALLS = Array.from({ length: 400 }, (_, i) => {
  const leg = { local: `127.0.0.1:${40000 + (i % 8)}`, target: "127.0.0.1:5060" };
  const branch = `z9hG4bK-load-${i}-${(i * 7919).toString(36)}`;
  const callId = `load-${i}-${(i * 104729).toString(36)}@127.0.0.1`;
  const fromTag = `ft${i}x`;
  const toTag = `tt${i}`;
  return {
    invite: initialRequest(leg, { method: "INVITE", branch, callId, fromTag }),
    ack: followRequest(leg, {
      method: "ACK",
      cseq: 1,
      branch: `${branch}a`,
      callId,
      fromTag,
      toTag,
      uri: `sip:load@${leg.target}`,
      routes: [],
    }),
    toTag,
  };
});
let nextCall = 0;

function ok(buf: Buffer): SipMessageLike {
  const r = parseMessage(buf);
  if (!r.ok) throw new Error(r.detail);
  const v = r.msg.validate();
  if (!v.ok) throw new Error(v.detail);
  return r.msg;
}

let sink: unknown;

function parsed(): SipMessageLike {
  const r = parseMessage(INVITE);
  if (!r.ok) throw new Error(r.detail);
  return r.msg;
}

const req = parsed();

export const benches: BenchCase[] = [
  {
    name: "sip parse INVITE",
    bytesPerOp: INVITE.length,
    fn: () => {
      sink = parseMessage(INVITE);
    },
  },
  {
    name: "sip parse + From tag (lazy header)",
    bytesPerOp: INVITE.length,
    fn: () => {
      sink = parsed().from.tag;
    },
  },
  {
    name: "sip parse + validate()",
    bytesPerOp: INVITE.length,
    fn: () => {
      sink = parsed().validate();
    },
  },
  {
    name: "sip parse + rewrite (Via insert, R-URI, MF, Route pop)",
    bytesPerOp: INVITE.length,
    fn: () => {
      sink = parsed().rewrite(EDITS);
    },
  },
  {
    name: "sip async call's SIP work: INVITE parsed, validated, keyed, 200 built; ACK parsed, validated, keyed",
    fn: () => {
      const c = CALLS[nextCall++ % CALLS.length] ?? CALLS[0];
      if (c === undefined) return;
      const invite = ok(c.invite);
      const key = serverKey(invite, "INVITE") ?? "";
      const res = buildResponse(invite, 200, "OK", { toTag: c.toTag });
      const ack = ok(c.ack);
      sink = [fnv1a53(key), res, serverKey(ack, "INVITE"), ackKey(ack.callId, ack.cseq.seq, ack.from.tag, ack.to.tag)];
    },
  },
  {
    name: "sip buildResponse 180 with To tag",
    fn: () => {
      sink = buildResponse(req, 180, "Ringing", { toTag: "8321234356" });
    },
  },
];

export function lastSink(): unknown {
  return sink;
}
