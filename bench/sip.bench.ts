// Hot paths of the SIP layer: parse a typical INVITE, the first lazy header access after parse,
// validate(), and the proxy's forwarding rewrite (Via insert, R-URI, Max-Forwards, Route pop).
import type { BenchCase } from "./types.js";
import { parseMessage } from "../src/sip/parse.js";
import { buildResponse } from "../src/sip/build-response.js";
import type { SipMessageLike } from "../src/sip/types.js";

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
    name: "sip buildResponse 180 with To tag",
    fn: () => {
      sink = buildResponse(req, 180, "Ringing", { toTag: "8321234356" });
    },
  },
];

export function lastSink(): unknown {
  return sink;
}
