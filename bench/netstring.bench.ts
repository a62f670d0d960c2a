// Netstring codec throughput: decode (one frame per push, many frames per push, a large frame in
// 1460-byte segments) and encode (string and Buffer payloads). Inputs are built outside the timed
// bodies; bytesPerOp lets the runner print MB/s.
import type { BenchCase } from "./types.js";
import { encodeNetstring, NetstringDecoder, SharedFrame } from "evsip-client/netstring";

const event = JSON.stringify({
  event: "invite",
  tindex: 12566,
  tlabel: 1148670067,
  ci: "a84b4c76e66710@pc33.atlanta.example.com",
  from: "sip:alice@atlanta.example.com",
  to: "sip:bob@biloxi.example.com",
});
const oneFrame = encodeNetstring(event);
const hundredFrames = Buffer.concat(Array.from({ length: 100 }, () => oneFrame));
const bigPayload = Buffer.alloc(60000, 0x61);
const bigFrame = encodeNetstring(bigPayload);
const segments: Buffer[] = [];
for (let i = 0; i < bigFrame.length; i += 1460) segments.push(bigFrame.subarray(i, i + 1460));

let sink = 0;
const decoder = new NetstringDecoder({ onFrame: (p) => (sink += p.length) });

export const benches: BenchCase[] = [
  {
    name: "netstring decode: one ~200 B frame per push",
    fn: () => {
      decoder.push(oneFrame);
    },
    bytesPerOp: oneFrame.length,
  },
  {
    name: "netstring decode: 100 frames in one push",
    fn: () => {
      decoder.push(hundredFrames);
    },
    bytesPerOp: hundredFrames.length,
  },
  {
    name: "netstring decode: 60 kB frame in 1460 B segments",
    fn: () => {
      for (const s of segments) decoder.push(s);
    },
    bytesPerOp: bigFrame.length,
  },
  {
    name: "netstring encode: ~200 B string",
    fn: () => {
      sink += encodeNetstring(event).length;
    },
    bytesPerOp: oneFrame.length,
  },
  {
    name: "netstring encode: 60 kB Buffer",
    fn: () => {
      sink += encodeNetstring(bigPayload).length;
    },
    bytesPerOp: bigFrame.length,
  },
  {
    name: "netstring SharedFrame: object serialised once, frame for 10 clients",
    fn: () => {
      const m = new SharedFrame({ event: "invite", tindex: sink & 0xffff, tlabel: 1148670067 });
      for (let i = 0; i < 10; i++) sink += m.frame.length;
    },
  },
];
