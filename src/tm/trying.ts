// When the automatic 100 Trying of an INVITE leaves. RFC 3261 §17.2.1 asks for a 100 only when the
// answer may take longer than 200 ms: it is there to stop the caller's retransmissions (Timer A
// starts at T1, 500 ms). An app that answers within `trying100Delay` ms therefore needs none, and
// each datagram not sent is a system call and a wakeup of the caller saved. A 100 still due when
// the delay runs out, or when the INVITE is retransmitted, leaves then.
//
// The waiting INVITEs are kept as (due time, index, label) numbers in a ring, not as references:
// a transaction answered in a millisecond must not be kept alive, and copied by a scavenge, for the
// length of the delay. One timer, armed for the oldest entry, serves the whole ring.
import { monotonicMs } from "../common/monotonic.js";
import { atTurnEnd } from "../common/turn-end.js";
import { timer } from "./context.js";
import type { ServerTransaction } from "./server-transaction.js";

/** Finds a live transaction by its identifiers, sends a 100 for it, and hears of a send that threw. */
export interface TryingHost {
  findByIdent(index: number, label: number): ServerTransaction | undefined;
  sendTrying(st: ServerTransaction): void;
  failed(st: ServerTransaction, err: unknown): void;
}

export class TryingQueue {
  private due: Float64Array = new Float64Array(256);
  private index: Float64Array = new Float64Array(256);
  private label: Float64Array = new Float64Array(256);
  private head = 0;
  private size = 0;
  private handle: NodeJS.Timeout | undefined;
  private readonly delayMs: number;
  private readonly host: TryingHost;

  constructor(delayMs: number, host: TryingHost) {
    this.delayMs = delayMs;
    this.host = host;
  }

  /**
   * Schedules st's 100. With no delay it leaves at once (`atOnce`: a relay, right after its branch)
   * or at the end of the turn (a suspension: after the event that asks for the answer is written).
   */
  schedule(st: ServerTransaction, atOnce: boolean): void {
    if (!st.isInvite || st.lastStatus !== 0 || st.tryingPending) return;
    st.tryingPending = true;
    if (this.delayMs > 0) this.push(st);
    else if (atOnce) this.fire(st);
    else atTurnEnd(() => this.fireCaught(st), "after");
  }

  /**
   * A 100 still due leaves now: the INVITE was retransmitted (its caller is plainly waiting), or it
   * is released without an answer (the 100 is what stops the caller from sending it again).
   */
  sendNow(st: ServerTransaction): void {
    if (st.tryingPending) this.fire(st);
  }

  /** Clears the timer and forgets every entry (the layer stopped). */
  stop(): void {
    if (this.handle !== undefined) clearTimeout(this.handle);
    this.handle = undefined;
    this.size = 0;
  }

  private fire(st: ServerTransaction): void {
    if (!st.tryingPending) return;
    st.tryingPending = false;
    // A CANCELled INVITE whose branch has not answered yet still waits for its final: it gets the
    // 100 too (sendTrying refuses once any response has gone up, the 487 included).
    if (!st.isTerminated) this.host.sendTrying(st);
  }

  /**
   * fire() away from the route (the timer, the end of the turn): a send that throws is the host's to
   * report, and the 100s after it still go.
   */
  private fireCaught(st: ServerTransaction): void {
    try {
      this.fire(st);
    } catch (e) {
      this.host.failed(st, e);
    }
  }

  private push(st: ServerTransaction): void {
    if (this.size === this.due.length) this.grow();
    const i = (this.head + this.size) % this.due.length;
    this.due[i] = monotonicMs() + this.delayMs;
    this.index[i] = st.index;
    this.label[i] = st.label;
    this.size++;
    this.arm();
  }

  private arm(): void {
    if (this.handle !== undefined) return;
    // Whole milliseconds, rounded up: the 100s that fall due in the same millisecond leave together,
    // and no larger burst than arrived in it.
    const wait = Math.ceil(Math.max(0, (this.due[this.head] ?? 0) - monotonicMs()));
    this.handle = timer(wait, this.run);
  }

  /**
   * Sends the 100s that are due, and drops the entries of INVITEs answered meanwhile up to the next
   * one still waiting, so the timer wakes the process again only when a 100 may have to leave: an
   * app that answers fast costs one timer run per delay, not one per millisecond.
   */
  private readonly run = (): void => {
    this.handle = undefined;
    const t = monotonicMs();
    while (this.size > 0) {
      // Any response upstream clears tryingPending (ServerTransaction.send).
      const st = this.host.findByIdent(this.index[this.head] ?? 0, this.label[this.head] ?? 0);
      const waiting = st?.tryingPending === true;
      if (waiting && (this.due[this.head] ?? 0) > t) break;
      this.head = (this.head + 1) % this.due.length;
      this.size--;
      if (waiting) this.fireCaught(st);
    }
    if (this.size > 0) this.arm();
  };

  /** Doubles the ring, keeping the order of its entries. */
  private grow(): void {
    const n = this.due.length;
    const order = (a: Float64Array): Float64Array => {
      const b = new Float64Array(n * 2);
      for (let k = 0; k < this.size; k++) b[k] = a[(this.head + k) % n] ?? 0;
      return b;
    };
    this.due = order(this.due);
    this.index = order(this.index);
    this.label = order(this.label);
    this.head = 0;
  }
}
