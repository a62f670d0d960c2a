// The load tool's sending thread (--pacer thread, the default). Paced by the main thread's timers,
// which also read every answer, the requests left in ~1 ms ticks whose size depended on the router
// under test (bench/README.md, "Pacing"). This thread does nothing but send: it sleeps on
// Atomics.wait until each request is due, so every router gets the same evenly spaced requests.
// Each request's Via names one of the main thread's sockets (no rport), so the answers go there, as
// RFC 3261 §18.2.2 says, while the request leaves from this thread's own socket.
//
// Send i's time (ns after the UAC's clock origin) and lag are written to shared arrays before its
// flag is set with Atomics.store, so the main thread, seeing the flag, sees the time.
import type { Socket } from "node:dgram";
import { once } from "node:events";
import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import { Cursor, Schedule, type Segment } from "./schedule.js";
import { RunIds, type InitialWriter, type Leg, type RequestSpec } from "./sip-wire.js";
import { closeSockets, connectedSockets } from "./tool-sockets.js";
import { HELD_BACK, OcClient } from "./oc-client.js";

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
  /** Uint8Array(total): 1 once the request has left, HELD_BACK when --oc's feedback held it back. */
  readonly sent: SharedArrayBuffer;
  /** --oc: the RFC 7339 feedback the receiving thread took (OcClient.shared). */
  readonly oc?: SharedArrayBuffer;
}

/**
 * What the thread posts: "sent" when the last request has left; then, once told to stop (any
 * message) after the run's answers are in, "closed" with what came back to its own sockets.
 */
export type SendThreadMessage =
  { readonly kind: "sent"; readonly startNs: bigint } | { readonly kind: "closed"; readonly answersAtSender: number };

/** Sleeps on a futex nobody wakes: Atomics.wait's timeout is the only sub-millisecond sleep Node has. */
const nap = new Int32Array(new SharedArrayBuffer(4));

/** Busy steps between two clock reads while spinning (a fraction of a microsecond here). */
const SPIN_STEP = 100;
/** Where the spin's steps go, so that the compiler keeps them. */
let spinSink = 0;

/** The longest the thread spins for one send; a longer wait is a nap. */
const SPIN_MAX_NS = 30_000;
/** A nap's lateness learnt is capped: one preempted for milliseconds must not teach it to spin. */
const MAX_LATE_NS = 120_000;

/**
 * Waits until `due` (ns on `clock`). A nap ends late (~60–100 µs on this VM, timer slack included),
 * so it naps for the wait minus the lateness it has learnt and spins the last stretch, at most
 * SPIN_MAX_NS. When the gap between sends is shorter than a nap's lateness (past ~10,000
 * requests/s) the nap overshoots and the requests already due leave together, two or three at a
 * time: small bursts, the same whatever the router, and no core spent spinning.
 */
class Waiter {
  #lateNs = 80_000;

  until(due: number, clock: () => number): number {
    let now = clock();
    while (due - now > SPIN_MAX_NS) {
      const sleepNs = Math.max(0, due - now - this.#lateNs);
      Atomics.wait(nap, 0, 0, sleepNs / 1e6);
      const woke = clock();
      const late = Math.min(MAX_LATE_NS, Math.max(0, woke - now - sleepNs));
      this.#lateNs += (late - this.#lateNs) / 8;
      now = woke;
    }
    while (now < due) {
      // A clock read boxes its double: spinning on it alone made most of this thread's garbage.
      for (let k = 0; k < SPIN_STEP; k++) spinSink = (spinSink + k) | 0;
      now = clock();
    }
    return now;
  }
}

/** Yields to the event loop every so many sends, so libuv completes the sends it holds. */
const YIELD_EVERY = 32;

/** Sends the whole schedule from `socks`; resolves with its start once the last request has left. */
async function sendSchedule(input: SendThreadInput, socks: readonly Socket[]): Promise<bigint> {
  const schedule = new Schedule(input.segments);
  const ids = new RunIds(input.runId);
  const sentNs = new Float64Array(input.sentNs);
  const lagNs = new Float64Array(input.lagNs);
  const sent = new Uint8Array(input.sent);
  const waiter = new Waiter();
  // performance.now(): the same monotonic source as hrtime, and less garbage per read than
  // hrtime.bigint(); each read still boxes its double, so the spin reads it sparingly (Waiter).
  const startMs = performance.now();
  const startNs = process.hrtime.bigint();
  const offset = Number(startNs - input.baseNs);
  const clock = (): number => (performance.now() - startMs) * 1e6;
  const cursor = new Cursor(schedule);
  const writers = input.legs.map((leg) => ids.initialWriter(leg, input.method));
  const oc = input.oc === undefined ? undefined : new OcClient(input.oc);
  while (!cursor.done) {
    const i = cursor.next;
    const due = cursor.due();
    const k = i % socks.length;
    const buf = (writers[k] as InitialWriter).build(i);
    const now = waiter.until(due, clock);
    lagNs[i] = now - due;
    sentNs[i] = offset + now;
    cursor.next++;
    if (oc?.holdBack() === true) Atomics.store(sent, i, HELD_BACK);
    else {
      Atomics.store(sent, i, 1);
      socks[k]?.send(buf);
    }
    if (cursor.next % YIELD_EVERY === 0) await new Promise<void>((r) => setImmediate(r));
  }
  return startNs;
}

/** The thread's life: send, report, count what comes back to its sockets until told to stop. */
async function serve(input: SendThreadInput, port: MessagePort): Promise<void> {
  const socks = await connectedSockets(input.legs.length, input.port);
  let answersAtSender = 0;
  for (const s of socks) s.on("message", () => answersAtSender++);
  const startNs = await sendSchedule(input, socks);
  const stop = once(port, "message");
  port.postMessage({ kind: "sent", startNs } satisfies SendThreadMessage);
  await stop;
  await closeSockets(socks);
  port.postMessage({ kind: "closed", answersAtSender } satisfies SendThreadMessage);
}

if (parentPort !== null && (workerData as { sendThread?: unknown } | null)?.sendThread !== undefined) {
  const input = (workerData as { sendThread: SendThreadInput }).sendThread;
  const port = parentPort;
  void serve(input, port); // a failure is unhandled here: the worker's 'error', and the run is rejected
}
