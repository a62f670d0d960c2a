// Warm-up of the SIP layer before the listeners open. V8 compiles a function to optimised code
// only after it has run a while; a router that opens its port cold runs its first few thousand
// messages in the interpreter, several times slower, and a load that starts at once queues up
// behind it (at 5,000 calls/s from a cold start: over 500 KB in the socket, bench/RESULTS.md).
// Parsing, validating, reading the headers tm and the routes read, and building a reply are pure
// work on sample messages, so they can be run beforehand without touching anything.
import { parseMessage } from "./parse.js";
import { buildResponse } from "./build-response.js";
import type { SipMessageLike } from "./types.js";

const REQUEST = [
  "INVITE sip:bob@192.0.2.10:5060 SIP/2.0",
  "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-warm-{n};rport",
  "Max-Forwards: 70",
  'From: "Alice" <sip:alice@192.0.2.1:5060>;tag=warm-{n}',
  "To: <sip:bob@192.0.2.10:5060>",
  "Call-ID: warm-{n}@192.0.2.1",
  "CSeq: 1 INVITE",
  "Contact: <sip:alice@192.0.2.1:5060>",
  "Content-Type: application/sdp",
  "Content-Length: 0",
];
const RESPONSE = [
  "SIP/2.0 200 OK",
  "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-warm-{n};received=192.0.2.1;rport=5060",
  "From: <sip:alice@192.0.2.1:5060>;tag=warm-{n}",
  "To: <sip:bob@192.0.2.10:5060>;tag=warm-b-{n}",
  "Call-ID: warm-{n}@192.0.2.1",
  "CSeq: 1 INVITE",
  "Contact: <sip:bob@192.0.2.10:5060>",
  "Content-Length: 0",
];

function sample(lines: readonly string[], n: number, method?: string): Buffer {
  let text = `${lines.join("\r\n")}\r\n\r\n`.replaceAll("{n}", String(n));
  if (method !== undefined) text = text.replaceAll("INVITE", method);
  return Buffer.from(text, "latin1");
}

function touch(msg: SipMessageLike): number {
  msg.validate();
  let sum = msg.vias.length + msg.callId.length + msg.cseq.seq + (msg.from.tag?.length ?? 0) + (msg.to.tag?.length ?? 0);
  sum += (msg.contact?.uri.host.length ?? 0) + (msg.maxForwards ?? 0) + (msg.topVia.branch?.length ?? 0);
  if (msg.isRequest) sum += msg.uri.host.length + buildResponse(msg, 100, "Trying").length;
  return sum;
}

const METHODS = ["INVITE", "ACK", "BYE", "OPTIONS"];

/** `n` sample messages, requests of each method and responses in turn, as Buffers made here. */
export function warmUpSamples(n: number): Buffer[] {
  return Array.from({ length: n }, (_, i) =>
    i % 2 === 0 ? sample(REQUEST, i, METHODS[(i >> 1) % METHODS.length]) : sample(RESPONSE, i),
  );
}

function parseAndTouch(buf: Buffer): number {
  const r = parseMessage(buf);
  if (!r.ok) throw new Error(`SIP warm-up sample does not parse: ${r.code}`); // a bug of ours, found at start
  return touch(r.msg);
}

/**
 * Runs the SIP layer's hot paths `rounds` times on sample requests and responses; returns a checksum.
 * `received`: samples as a socket delivers them, run in turn with the ones made here. A datagram's
 * Buffer is made by Node's C++ side and has another hidden class than one made in JavaScript (as
 * stream reads and Buffer.from are), so code warmed on the one kind alone is thrown away
 * (deoptimised) at the first message of the other: the start of traffic then runs the parser in
 * the interpreter again, exactly when a cold start is short of time.
 */
export function warmUpSip(rounds: number, received: readonly Buffer[] = []): number {
  let sum = 0;
  for (let i = 0; i < rounds; i++) {
    sum += parseAndTouch(sample(REQUEST, i, METHODS[i % METHODS.length])) + parseAndTouch(sample(RESPONSE, i));
    const r = received[i % received.length];
    if (r !== undefined) sum += parseAndTouch(r);
  }
  return sum;
}
