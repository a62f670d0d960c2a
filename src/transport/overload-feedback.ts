// RFC 7339 overload control, the server's side: how much less new work evsip asks of the clients
// that support it, and the feedback that says so in their responses' Via (sip/overload-via.ts).
//
// Why: a refused call still costs the router the INVITE read, the 503 sent and the ACK read, about
// a third of a served call (docs/load.md, "Overload"), so past about twice what it can serve a
// router that only refuses spends more and more of its core refusing. A client that honours `oc` (an SBC, another
// proxy) holds the excess back itself, where it costs the router nothing.
//
// How much: the share of new work asked for is cut by CUT whenever SIP input falls behind with a
// queue past `queueMs` (or the kernel dropped datagrams since the last look), at most once per
// STEP_MS, and raised by RAISE per STEP_MS without such a queue: additive increase, multiplicative
// decrease, which finds the rate the router serves without knowing it. The queue is the input's
// own estimate (input-backlog.ts: two probes in a row must agree), so a capped router reading a
// full turn after each throttled slice does not count as overloaded while its queue is a few
// milliseconds long. Where the queue is not estimated (no /proc/net/udp, or reading it too slow:
// input-backlog.ts turns the probe off), no feedback is given, and only admission's 503s shed.
//
// A restart's backlog counts like any other: where admission reads it rather than shed it
// (startGrace), the feedback still asks the clients that honour it to hold new calls back while
// it is read, which costs the router nothing and shortens the catch-up.
//
// Each feedback holds for `validityMs` at the client (`oc-validity`), and is repeated in every
// response while it lasts; once the share is back to all of it, `oc=0` goes out for one more
// validity, then nothing (the client's last feedback expires).
import { monotonicMs } from "../common/monotonic.js";
import { withOverloadFeedback } from "../sip/overload-via.js";

/** The longest a feedback may be held at a client (`oc-validity`), ms. */
export const MAX_VALIDITY_MS = 60_000;

/** How often the share may change, ms. */
const STEP_MS = 100;
/** What a cut keeps of the share. */
const CUT = 0.7;
/** What a step without a queue adds back. */
const RAISE = 0.1;
/** The least share asked for: clients keep sending some new work, so recovery is seen. */
const FLOOR = 0.05;
/** The widest spacing of queue signals taken as one spell's probes (a longer silence ends it), ms. */
const MAX_QUIET_MS = 500;

/**
 * When the queue of SIP input is estimated (input-backlog.ts tells it, while the input falls
 * behind): its length, and whether the kernel dropped datagrams since the estimate before.
 */
export interface QueueObserver {
  queueSeen(queueMs: number, dropped: boolean): void;
}

export interface OverloadFeedbackOptions {
  /** A queue longer than this (ms) cuts the share asked for. */
  readonly queueMs: number;
  /** `oc-validity`: how long (ms) a client applies a feedback. */
  readonly validityMs: number;
  /** Told when feedback starts and ends. */
  readonly onChange?: (reduction: number, active: boolean) => void;
  /** Monotonic ms (common/monotonic.ts's by default); a test may move it on. */
  readonly clock?: () => number;
  /** Wall-clock ms, for `oc-seq` (Date.now by default). */
  readonly wallClock?: () => number;
}

export class OverloadFeedback implements QueueObserver {
  /** True while responses to clients that support it carry feedback (the one check per send). */
  active = false;
  private share = 1;
  private lastCut = Number.NEGATIVE_INFINITY;
  private lastStep = 0;
  /** When the last queue past the bound was seen, and how long before it the one before was (ms). */
  private lastQueue = Number.NEGATIVE_INFINITY;
  private queueGap = 0;
  /** Until when (clock ms) `oc` parameters go out: a validity after the last reduction above 0. */
  private until = 0;
  private lastSeqMs = 0;
  private feedback = "";
  private readonly clock: () => number;
  private readonly wallClock: () => number;
  private readonly opts: OverloadFeedbackOptions;

  constructor(opts: OverloadFeedbackOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? monotonicMs;
    this.wallClock = opts.wallClock ?? Date.now;
  }

  queueSeen(queueMs: number, dropped: boolean): void {
    if (!dropped && queueMs <= this.opts.queueMs) return;
    const now = this.clock();
    // The share earned back since the last queue, but for the step this one ends (an idle spell
    // must not leave it where it was); from now on only time without such a queue earns it back.
    this.recover(now - STEP_MS);
    this.lastStep = now;
    // Probes are spaced by their cost (input-backlog.ts): 100–300 ms apart on a host with a long
    // socket table. Silence shorter than twice that spacing is not yet time without a queue.
    const gap = now - this.lastQueue;
    this.queueGap = gap > MAX_QUIET_MS ? 0 : gap; // a queue after a longer silence starts a new spell
    this.lastQueue = now;
    if (now - this.lastCut < STEP_MS) return;
    this.lastCut = now;
    this.share = Math.max(FLOOR, Math.round(this.share * CUT * 100) / 100);
    this.publish(now);
  }

  /** The reduction (%) asked of clients that support overload control now; 0 when none. */
  reduction(): number {
    this.recover(this.clock());
    return this.active ? this.percent : 0;
  }

  /** The reduction the share stands for, in whole percents. */
  private get percent(): number {
    return Math.round(100 * (1 - this.share));
  }

  /** The response `buf` with the feedback in its first Via if its client asked for it; else buf itself. */
  stamp(buf: Buffer): Buffer {
    this.recover(this.clock());
    if (!this.active) return buf;
    return withOverloadFeedback(buf, this.feedback) ?? buf;
  }

  /** Raises the share by the steps passed without a cut; ends the feedback a validity after it reached all. */
  private recover(now: number): void {
    if (!this.active) return;
    const quiet = Math.max(0, 2 * this.queueGap - STEP_MS);
    const steps = Math.floor((now - this.lastStep - quiet) / STEP_MS);
    if (steps > 0 && this.share < 1) {
      this.share = Math.min(1, Math.round((this.share + RAISE * steps) * 100) / 100);
      // The quiet has been waited out once: the next steps count from here.
      this.lastStep += quiet + steps * STEP_MS;
      this.queueGap = 0;
      this.publish(now);
    }
    if (this.share >= 1 && now >= this.until) {
      this.active = false;
      this.opts.onChange?.(0, false);
    }
  }

  private publish(now: number): void {
    const reduction = this.percent;
    if (reduction > 0) this.until = now + this.opts.validityMs;
    // oc-seq must grow from one feedback to the next, across restarts too: wall-clock ms, as seconds.
    const seqMs = (this.lastSeqMs = Math.max(this.lastSeqMs + 1, this.wallClock()));
    const seq = `${Math.floor(seqMs / 1000)}.${String(seqMs % 1000).padStart(3, "0")}`;
    this.feedback = `;oc=${reduction};oc-algo="loss";oc-validity=${this.opts.validityMs};oc-seq=${seq}`;
    if (!this.active) {
      this.active = true;
      this.opts.onChange?.(reduction, true);
    }
  }
}
