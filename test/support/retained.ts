// Heap bytes a store keeps per item, measured with the real garbage collector: for checks that
// something kept long (a dialog's Call-ID, an htable value) does not hold a larger string with it.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { parseMessage } from "../../src/sip/parse.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/**
 * Runs `keep(i)` n times (each call keeps something: pushes to an array, sets a table entry) and
 * returns the heap growth per call in bytes, after full collections before and after. The kept
 * things must stay reachable until this returns (keep them from the caller's scope).
 */
export function retainedPerItem(n: number, keep: (i: number) => void): number {
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < n; i++) keep(i);
  gc();
  gc();
  return (process.memoryUsage().heapUsed - before) / n;
}

const PAD = "x".repeat(4000);

/** The Call-ID of a freshly parsed INVITE with a 4 KB head: a slice of that head, as a route reads it. */
export function slicedCallId(i: number): string {
  const r = parseMessage(
    Buffer.from(
      `INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK${i}\r\nX-Pad: ${PAD}\r\nFrom: <sip:a@b>;tag=1\r\n` +
        `To: <sip:b@c>\r\nCall-ID: call-id-number-${i}@example.com\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n`,
      "latin1",
    ),
  );
  if (!r.ok) throw new Error(r.detail);
  return r.msg.callId;
}
