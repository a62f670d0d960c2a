// Many short timers of a few durations, for tm: every transaction arms a lifetime timer, a
// suspension's timeout, the re-sending of its own 2xx, and nearly all of them are cleared a few
// milliseconds later. A Node timer costs an object, a list insert and, being unref'd, two calls
// into the runtime per arm (measured ~3.4 µs per async call for three of them under load). Timers
// of one duration fall due in the order they were armed, so each duration gets a lane: a FIFO of
// deadlines with one Node timer, armed for its oldest live entry. Arming is a push, clearing marks
// the entry dead; dead entries are dropped at the head, or compacted away when they outnumber the
// live ones (a 180 s lifetime lane would otherwise hold every ended transaction's entry for 180 s).
import { monotonicMs } from "./monotonic.js";

/** Fired this much early at most: Node's timers have whole milliseconds, the clock has fractions. */
const SLACK_MS = 1;
/** A lane compacts once it holds more dead entries than this, and more dead than live. */
const COMPACT_AT = 1024;
/** Node's longest timer; a longer wait is re-armed in steps (Node would fire it at once). */
const TIMEOUT_MAX = 2 ** 31 - 1;

/** One armed timer of a lane; pass it to {@link TimerLanes.clear}. */
export class LaneTimer {
  /** Undefined once fired or cleared. */
  fn: (() => void) | undefined;
  readonly at: number;
  readonly lane: Lane;

  constructor(fn: () => void, at: number, lane: Lane) {
    this.fn = fn;
    this.at = at;
    this.lane = lane;
  }
}

/** The timers of one duration, oldest first. */
class Lane {
  entries: LaneTimer[] = [];
  head = 0;
  live = 0;
  handle: NodeJS.Timeout | undefined;
  readonly ms: number;

  constructor(ms: number) {
    this.ms = ms;
  }
}

/** Timers grouped by duration, each lane driven by one unref'd Node timer. */
export class TimerLanes {
  private readonly lanes = new Map<number, Lane>();

  /** Runs fn once after ms milliseconds (whole ms; never keeps the process alive). */
  set(ms: number, fn: () => void): LaneTimer {
    const d = Math.max(0, Math.ceil(ms));
    let lane = this.lanes.get(d);
    if (lane === undefined) {
      lane = new Lane(d);
      this.lanes.set(d, lane);
    }
    const t = new LaneTimer(fn, monotonicMs() + d, lane);
    lane.entries.push(t);
    lane.live++;
    // Armed for the oldest entry, not this one: inside fire() the lane may still hold earlier ones.
    if (lane.handle === undefined) this.arm(lane, Math.ceil((lane.entries[lane.head] ?? t).at - monotonicMs()));
    return t;
  }

  /** Stops t if it has not fired yet; undefined is allowed. */
  clear(t: LaneTimer | undefined): void {
    if (t === undefined || t.fn === undefined) return;
    t.fn = undefined;
    const lane = t.lane;
    lane.live--;
    if (lane.entries.length - lane.head - lane.live > COMPACT_AT && lane.entries.length - lane.head > 2 * lane.live) {
      lane.entries = lane.entries.filter((e) => e.fn !== undefined);
      lane.head = 0;
    }
  }

  /** Clears every timer (the owner stopped). */
  stop(): void {
    for (const lane of this.lanes.values()) {
      if (lane.handle !== undefined) clearTimeout(lane.handle);
      for (let i = lane.head; i < lane.entries.length; i++) {
        const e = lane.entries[i];
        if (e !== undefined) e.fn = undefined;
      }
    }
    this.lanes.clear();
  }

  /** Timers armed and not yet fired or cleared, over every lane (for tests and stats). */
  get size(): number {
    let n = 0;
    for (const lane of this.lanes.values()) n += lane.live;
    return n;
  }

  private arm(lane: Lane, wait: number): void {
    lane.handle = setTimeout(() => this.fire(lane), Math.min(TIMEOUT_MAX, Math.max(1, wait)));
    lane.handle.unref();
  }

  /** Runs what is due, then re-arms for the oldest live entry, or retires the lane when none is left. */
  private fire(lane: Lane): void {
    lane.handle = undefined;
    const now = monotonicMs() + SLACK_MS;
    try {
      while (lane.head < lane.entries.length) {
        const e = lane.entries[lane.head] as LaneTimer;
        if (e.fn !== undefined && e.at > now) break;
        lane.head++;
        const fn = e.fn;
        if (fn === undefined) continue;
        e.fn = undefined;
        lane.live--;
        fn();
      }
    } finally {
      this.settle(lane);
    }
  }

  private settle(lane: Lane): void {
    if (lane.head > 0 && lane.head * 2 >= lane.entries.length) {
      lane.entries = lane.entries.slice(lane.head);
      lane.head = 0;
    }
    const next = lane.entries[lane.head];
    if (next === undefined) {
      if (this.lanes.get(lane.ms) === lane) this.lanes.delete(lane.ms);
      return;
    }
    if (lane.handle === undefined) this.arm(lane, Math.ceil(next.at - monotonicMs()));
  }
}
