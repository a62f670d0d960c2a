// The load tool's sending thread (--pacer thread, the default). The tool's main thread also reads
// every response; paced by its own timers, it sent in ~1 ms ticks whose size depended on how busy
// the responses kept it, so two routers got different inputs from the same schedule (bursts of 7–9
// requests against evsip, 1–3 against Kamailio at 5,000/s). This thread does nothing but send:
// it sleeps on Atomics.wait until each request is due (sub-millisecond, unlike a timer), so every
// router gets the same evenly spaced requests. Each request's Via names one of the main thread's
// sockets (no rport), so the answers go there, as RFC 3261 §18.2.2 says, while the request leaves
// from this thread's own socket.
//
// Send i's time (ns after the UAC's clock origin) and lag are written to shared arrays before its
// flag is set with Atomics.store, so the main thread, seeing the flag, sees the time.
import { createSocket, type Socket } from "node:dgram";
import { once } from "node:events";
import { parentPort, workerData } from "node:worker_threads";
import { Cursor, Schedule, type Segment } from "./schedule.js";
import { RunIds, type Leg, type RequestSpec } from "./sip-wire.js";

export interface SendThreadInput {
  readonly segments: readonly Segment[];
  /** The router's UDP port on 127.0.0.1. */
  readonly port: number;
  /** One per receiving socket of the main thread: Via, From and Contact name it; used round-robin. */
  readonly legs: readonly Leg[];
  readonly method: RequestSpec["method"];
  readonly runId: string;
  /** hrtime (ns) the UAC measures from; sentNs holds times after it. */
  readonly baseNs: bigint;
  /** Float64Array(total): when each request left, ns after baseNs. */
  readonly sentNs: SharedArrayBuffer;
  /** Float64Array(total): how late each request left, ns. */
  readonly lagNs: SharedArrayBuffer;
  /** Uint8Array(total): 1 once the request has left. */
  readonly sent: SharedArrayBuffer;
}

/** What the thread posts when the last request has left. */
export interface SendThreadDone {
  readonly startNs: bigint;
}

/** Sleeps on a futex nobody wakes: Atomics.wait's timeout is the only sub-millisecond sleep Node has. */
const nap = new Int32Array(new SharedArrayBuffer(4));

/**
 * Waits until `due` (ns on `clock`). A nap ends late (~60–100 µs on this VM, timer slack included),
 * so it sleeps for the wait minus the lateness it has learnt, then spins the rest. The lateness
 * learnt is capped: a nap preempted for milliseconds must not teach the thread to spin for good.
 * When the gap between sends is under the lateness (past ~10,000 requests/s) it spins all the
 * time: one busy core.
 */
class Waiter {
  #lateNs = 80_000;

  until(due: number, clock: () => number): number {
    let now = clock();
    const sleepNs = due - now - this.#lateNs;
    if (sleepNs > 20_000) {
      Atomics.wait(nap, 0, 0, sleepNs / 1e6);
      const woke = clock();
      const late = Math.min(MAX_LATE_NS, Math.max(0, woke - now - sleepNs));
      this.#lateNs += (late - this.#lateNs) / 8;
      now = woke;
    }
    while (now < due) now = clock();
    return now;
  }
}

const MAX_LATE_NS = 120_000;

/** Yields to the event loop every so many sends, so libuv completes the sends it holds. */
const YIELD_EVERY = 64;

async function openSockets(n: number, port: number): Promise<Socket[]> {
  const out: Socket[] = [];
  for (let k = 0; k < n; k++) {
    const s = createSocket("udp4");
    s.bind(0, "127.0.0.1");
    await once(s, "listening");
    s.connect(port, "127.0.0.1");
    await once(s, "connect");
    s.on("error", () => undefined); // a send error (ECONNREFUSED) shows as a lost request
    out.push(s);
  }
  return out;
}

/** Sends the whole schedule; resolves with its start once the last request has left. */
export async function sendSchedule(input: SendThreadInput): Promise<SendThreadDone> {
  const schedule = new Schedule(input.segments);
  const socks = await openSockets(input.legs.length, input.port);
  const ids = new RunIds(input.runId);
  const sentNs = new Float64Array(input.sentNs);
  const lagNs = new Float64Array(input.lagNs);
  const sent = new Uint8Array(input.sent);
  const waiter = new Waiter();
  const startNs = process.hrtime.bigint();
  const offset = Number(startNs - input.baseNs);
  const clock = (): number => Number(process.hrtime.bigint() - startNs);
  const cursor = new Cursor(schedule);
  try {
    while (!cursor.done) {
      const i = cursor.next;
      const due = cursor.due();
      const k = i % socks.length;
      const buf = ids.initial(input.legs[k] as Leg, input.method, i);
      const now = waiter.until(due, clock);
      lagNs[i] = now - due;
      sentNs[i] = offset + now;
      Atomics.store(sent, i, 1);
      socks[k]?.send(buf);
      cursor.next++;
      if (cursor.next % YIELD_EVERY === 0) await new Promise<void>((r) => setImmediate(r));
    }
  } finally {
    await Promise.all(socks.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
  return { startNs };
}

if (parentPort !== null && (workerData as { sendThread?: unknown } | null)?.sendThread !== undefined) {
  const port = parentPort;
  void sendSchedule((workerData as { sendThread: SendThreadInput }).sendThread).then((done) => port.postMessage(done));
}
