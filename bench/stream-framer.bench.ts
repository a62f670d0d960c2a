// Benchmarks of the TCP stream framer: one message per chunk, ten coalesced messages per chunk, and
// one message split into 64-byte chunks. Structurally a BenchCase[] (bench/types.ts), inputs built
// outside the timed bodies. Run with `npm run bench`.
import { DEFAULT_SIP_LIMITS } from "../src/sip/types.js";
import { StreamFramer } from "../src/transport/stream-framer.js";

function invite(i: number): Buffer {
  const body = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
  return Buffer.from(
    `INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK-${i}\r\n` +
      "Max-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>\r\n" +
      `Call-ID: call-${i}@192.0.2.1\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@192.0.2.1:5060;transport=tcp>\r\n` +
      `Content-Type: application/sdp\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    "latin1",
  );
}

const one = invite(1);
const ten = Buffer.concat(Array.from({ length: 10 }, (_, i) => invite(i)));
const pieces: Buffer[] = [];
for (let i = 0; i < one.length; i += 64) pieces.push(one.subarray(i, i + 64));

let count = 0;
const framer = new StreamFramer(DEFAULT_SIP_LIMITS, { onMessage: () => void count++, onPing: () => undefined });

export const benches: { name: string; fn: () => void; bytesPerOp?: number }[] = [
  { name: "stream-framer: 1 INVITE per chunk", fn: () => void framer.push(one), bytesPerOp: one.length },
  { name: "stream-framer: 10 coalesced INVITEs per chunk", fn: () => void framer.push(ten), bytesPerOp: ten.length },
  {
    name: "stream-framer: 1 INVITE in 64-byte chunks",
    fn: () => {
      for (const p of pieces) framer.push(p);
    },
    bytesPerOp: one.length,
  },
];
