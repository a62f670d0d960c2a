// The open-loop send schedule: segments of a fixed rate (one segment for a plain run, one per step
// in steps mode), and the pacer that walks it. Send i is due at a time computed from the start, never
// from the previous send, so a late timer sends everything already due at once (each send counted
// with its lag) and the average rate holds; no send is ever skipped.

/** `rate` sends per second for `seconds`. */
export interface Segment {
  readonly rate: number;
  readonly seconds: number;
}

export class Schedule {
  /** Index of each segment's first send, and one past the last send at the end. */
  readonly #firstIndex: number[] = [0];
  /** Offset of each segment's start from the schedule's start, ns. */
  readonly #startNs: number[] = [0];
  readonly segments: readonly Segment[];

  constructor(segments: readonly Segment[]) {
    this.segments = segments;
    for (const s of segments) {
      if (!(s.rate > 0) || !(s.seconds > 0)) throw new RangeError(`bad segment: ${s.rate}/s for ${s.seconds} s`);
      this.#firstIndex.push((this.#firstIndex.at(-1) ?? 0) + Math.round(s.rate * s.seconds));
      this.#startNs.push((this.#startNs.at(-1) ?? 0) + s.seconds * 1e9);
    }
  }

  /** How many sends the whole schedule holds. */
  get total(): number {
    return this.#firstIndex.at(-1) ?? 0;
  }

  /** The segment (step) that send i belongs to. */
  stepOf(i: number): number {
    let k = 0;
    while (k + 1 < this.segments.length && i >= (this.#firstIndex[k + 1] ?? Infinity)) k++;
    return k;
  }

  /** When send i is due, ns after the start. */
  dueNs(i: number, step = this.stepOf(i)): number {
    const seg = this.segments[step] as Segment;
    return (this.#startNs[step] ?? 0) + ((i - (this.#firstIndex[step] ?? 0)) * 1e9) / seg.rate;
  }

  /** Sends in step k: [first, end). */
  range(k: number): [number, number] {
    return [this.#firstIndex[k] ?? 0, this.#firstIndex[k + 1] ?? 0];
  }
}

/** Walks a schedule's sends in order: which one is next, and when it is due. */
export class Cursor {
  next = 0;
  #step = 0;
  #stepEnd: number;
  readonly schedule: Schedule;

  constructor(schedule: Schedule) {
    this.schedule = schedule;
    this.#stepEnd = schedule.range(0)[1];
  }

  get done(): boolean {
    return this.next >= this.schedule.total;
  }

  /** When send `next` is due, ns after the start. */
  due(): number {
    if (this.done) throw new RangeError(`send ${this.next} is past the schedule's ${this.schedule.total}`);
    while (this.next >= this.#stepEnd) this.#stepEnd = this.schedule.range(++this.#step)[1];
    return this.schedule.dueNs(this.next, this.#step);
  }
}

/** What the pacer saw. */
export interface PaceResult {
  /** hrtime (ns) of the schedule's start. */
  readonly startNs: bigint;
  /** Lag of each send behind its due time, ns, by send index. */
  readonly lagNs: Float64Array;
}

/**
 * Walks the schedule from now on the event loop's timers, calling send(i) for each send at or after
 * its due time, in order. (The load tool's default pacer is a thread of its own: send-thread.ts.)
 */
export function pace(schedule: Schedule, send: (i: number) => void): Promise<PaceResult> {
  const lagNs = new Float64Array(schedule.total);
  const startNs = process.hrtime.bigint();
  const cursor = new Cursor(schedule);
  return new Promise<PaceResult>((resolve) => {
    const tick = (): void => {
      let now = Number(process.hrtime.bigint() - startNs);
      for (;;) {
        if (cursor.done) return resolve({ startNs, lagNs });
        const due = cursor.due();
        if (due > now) {
          setTimeout(tick, Math.floor((due - now) / 1e6));
          return;
        }
        lagNs[cursor.next] = now - due;
        send(cursor.next++);
        now = Number(process.hrtime.bigint() - startNs);
      }
    };
    tick();
  });
}
