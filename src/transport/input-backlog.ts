// Whether SIP input keeps up: a UDP socket, or the messages of every TCP connection. libuv reads
// at most 32 datagrams from a socket per event-loop turn, and TCP's framed messages are handed on at
// most 32 per turn over all connections (common/worker-pool.ts), then the rest of the loop runs; a
// turn that took that many means more were waiting. Turn after turn of full reads means a queue that
// does not drain: callers wait, then retransmit (UDP), or wait behind it (TCP). How long that has
// lasted, how much is queued and whether the kernel has started to drop are the signals admission
// control sheds new work on.
//
// The time alone cannot tell a cold process catching up on a short queue (harmless) from an
// overload whose queue grows until the kernel drops datagrams (calls lost without a trace). So
// while a UDP socket is behind, at most every PROBE_EVERY_MS, the kernel is asked how much is
// waiting (Linux: /proc/net/udp, see proc-net.ts); elsewhere the probe answers nothing and only
// the time counts. What matters to a caller is how long the queue takes to read, so the bytes are
// turned into time: datagrams waiting (the kernel counts each with its buffer overhead) over the
// rate this socket has been read at since the last probe.
//
// TCP input has no kernel probe: TCP's receive window caps what can wait unread in the kernel (~100
// KB on loopback, while 12 MB waited in the sender), and /proc/net/tcp costs ~4 ms a read whatever
// the number of connections, as it walks the kernel's whole connection table (262,144 slots here).
// Instead evsip reads TCP input ahead into a bounded inbox (tcp-connection.ts) and stamps each
// message with its read time; the TCP pool's `queueWait` says, per window, how long the messages
// of the most held-up connection waited at least (the least per connection, then the greatest:
// the pool serves connections in turn, so a quiet one's messages wait little behind a trunk's).
import { monotonicMs } from "../common/monotonic.js";
import { atTurnEnd } from "../common/turn-end.js";
import type { QueueObserver } from "./overload-feedback.js";

export const LIBUV_UDP_READS_PER_TURN = 32;
const PROBE_EVERY_MS = 10;
/**
 * Reading /proc/net/udp blocks the loop for as long as the table is long: 0.04 ms with a few
 * sockets, ~57 ms with 10,000 (an RTP relay on the same host). Probes are spaced to at most 2 % of
 * the time, and when reading costs more than this the queue rule is turned off for the socket's
 * life: only the time behind counts then, as where /proc is missing.
 *
 * A read's cost is the least time of the last PROBE_COST_WINDOW reads, of those made in the last
 * PROBE_COST_KEEP_MS (or five spacings, when slow reads space them wider): fast reads from long
 * ago do not hide a table that has grown since. One read can look slow because the process was
 * descheduled in the middle of it (a router short of CPU is the very case, and under a cgroup cap a
 * read can span a throttled period); a long table is slow every time. The spacing is jittered:
 * spaced exactly, the probes of a capped router would each land at the same point of the cgroup's
 * period, and be throttled every time.
 * Node 20 cannot measure one thread's CPU time, and the process's (process.cpuUsage) counts the GC
 * and compiler threads and is updated per scheduler tick: at 8,000 relayed calls/s it charged a
 * 0.04 ms read with 5.25 ms, the rule went off, and the socket overflowed (24,126 datagrams
 * dropped, 6,421 calls lost).
 */
const PROBE_TOO_SLOW_MS = 5;
const PROBE_COST_WINDOW = 4;
const PROBE_COST_KEEP_MS = 10_000;
/**
 * What the kernel adds to a datagram's payload in its accounting (skb overhead): 680 bytes for a
 * 600-byte datagram on loopback here. A NIC driver's buffers may add more, which makes the queue
 * look longer than it is: shedding then starts a little early, never late.
 */
const KERNEL_BYTES_PER_DATAGRAM = 680;

/** What the kernel holds for a UDP socket: bytes waiting, datagrams dropped since the socket opened. */
export type QueueProbe = () => { rxQueue: number; drops: number } | undefined;

/** How an input is watched: a UDP socket (`probe`) or TCP's connections (`queueWait`, `readsPerTurn`). */
export interface InputBacklogOptions {
  /** UDP: what the kernel holds for the socket (Linux). */
  readonly probe?: QueueProbe;
  /** TCP: the queue's wait (ms) over the window since the last call, which starts a new one; Infinity when none. */
  readonly queueWait?: () => number;
  /** Messages taken in one turn when more were waiting: libuv's 32 for UDP, the input pool's BATCH for TCP. */
  readonly readsPerTurn?: number;
  /**
   * common/monotonic.ts's by default (a probe of 0.5 ms must not read as 0); a time given to state()
   * must be on it. A test may move it on.
   */
  readonly clock?: () => number;
}

/** An input's state for admission control. */
export interface BacklogState {
  /** How long (ms) the input has had messages waiting at the end of every turn; 0 when it kept up. */
  readonly behindMs: number;
  /** Bytes waiting in the kernel at the last probe while behind (0 when keeping up or unknown). */
  readonly queuedBytes: number;
  /**
   * How long (ms) the queue takes to read: the lesser of the last two probes' estimates in this
   * spell (0 until there are two). UDP: the kernel's queue then over the rate read since the probe
   * before; TCP: how long the most held-up connection's messages waited at least in the window.
   */
  readonly queueMs: number;
  /** True when the kernel dropped datagrams at this socket while it was behind. */
  readonly dropping: boolean;
}

/** The state of an input that keeps up: shared, so that asking costs nothing in the common case. */
export const KEEPING_UP: BacklogState = { behindMs: 0, queuedBytes: 0, queueMs: 0, dropping: false };

export class InputBacklog {
  /** Messages taken in one turn when more were waiting. */
  private readonly readsPerTurn: number;
  private reads = 0;
  /** Datagrams and payload bytes read since the last probe (plain counters: read() runs per datagram). */
  private readsSinceProbe = 0;
  private bytesSinceProbe = 0;
  private queueMs = 0;
  /** The last probe's estimate; queueMs is the lesser of it and the one before. */
  private lastEstimateMs = 0;
  private scheduled = false;
  private since: number | undefined;
  private lastProbe = Number.NEGATIVE_INFINITY;
  private probeEveryMs = PROBE_EVERY_MS;
  private off = false;
  private queuedBytes = 0;
  private dropsAtStart: number | undefined;
  private dropping = false;
  /** The kernel's drop count at the last probe (what the observer's "dropped since" is measured from). */
  private dropsAtLastProbe = 0;
  /** The highest drop count the kernel has shown for this socket (which counts from 0 as it opens). */
  private kernelDropsSeen = 0;
  /** Reads for the metrics in a row that took longer than PROBE_TOO_SLOW_MS; at PROBE_COST_WINDOW they stop. */
  private slowScrapeReads = 0;
  private readonly probe: QueueProbe | undefined;
  private readonly clock: () => number;
  /** The last probes, oldest first: when (ms on the clock) and how long they took. */
  private costs: { at: number; took: number }[] = [];
  private readonly queueWait: (() => number) | undefined;
  /** Told each estimate of the queue while the input falls behind (RFC 7339 feedback, overload-feedback.ts). */
  observer: QueueObserver | undefined;
  private readonly endTurn = (): void => {
    const full = this.reads >= this.readsPerTurn;
    this.reads = 0;
    if (!full) {
      this.caughtUp();
      return;
    }
    const now = this.clock();
    this.since ??= now;
    if (now - this.lastProbe >= this.probeEveryMs) {
      if (this.queueWait !== undefined) this.closeWaitWindow(now);
      else if (!this.off) this.probeKernel(now);
    }
    // Look at the next turn too, even if it reads nothing: a burst that ended on a full turn must
    // not leave the input marked as falling behind. (setImmediate: this runs at a turn's end, where
    // atTurnEnd would run it again in the same pass.)
    setImmediate(this.endTurn);
  };

  /** See InputBacklogOptions; with none, a UDP socket whose kernel queue cannot be asked. */
  constructor(opts: InputBacklogOptions = {}) {
    this.queueWait = opts.queueWait;
    this.probe = opts.probe;
    this.clock = opts.clock ?? monotonicMs;
    this.readsPerTurn = opts.readsPerTurn ?? LIBUV_UDP_READS_PER_TURN;
  }

  /** True once reading was too slow to keep doing (PROBE_TOO_SLOW_MS, four reads in a row): only the time behind counts. */
  get probeOff(): boolean {
    return this.off;
  }

  /** True while the input falls behind (full turns): when a TCP pool keeps its wait windows. */
  get behind(): boolean {
    return this.since !== undefined;
  }

  /** How long (ms) the queue takes to read while the input falls behind (state().queueMs, without the object); 0 while it keeps up. */
  get queueEstimateMs(): number {
    return this.since === undefined ? 0 : this.queueMs;
  }

  /** Called for every message taken in (`bytes`: its size). */
  read(bytes = 0): void {
    this.reads++;
    this.readsSinceProbe++;
    this.bytesSinceProbe += bytes;
    if (this.scheduled) return;
    this.scheduled = true;
    atTurnEnd(this.endTurn, "after"); // the check phase: after this turn's reads
  }

  /**
   * Where the input stands now; KEEPING_UP (shared, allocation-free) while it keeps up. Asked once
   * per request: the clock is read only when the socket is behind.
   */
  state(now?: number): BacklogState {
    if (this.since === undefined) return KEEPING_UP;
    return {
      behindMs: Math.max(0, (now ?? this.clock()) - this.since),
      queuedBytes: this.queuedBytes,
      queueMs: this.queueMs,
      dropping: this.dropping,
    };
  }

  /** TCP: the window's wait is its estimate; as with the kernel's, two windows in a row must agree. */
  private closeWaitWindow(now: number): void {
    const estimate = (this.queueWait as () => number)();
    this.lastProbe = now;
    if (estimate === Number.POSITIVE_INFINITY) return;
    this.estimated(estimate);
    this.observer?.queueSeen(this.queueMs, false);
  }

  /** A window's estimate of the queue (ms): it counts once the window before says as much. */
  private estimated(ms: number): void {
    this.queueMs = Math.min(ms, this.lastEstimateMs);
    this.lastEstimateMs = ms;
  }

  private probeKernel(now: number): void {
    const reads = this.readsSinceProbe;
    const bytes = this.bytesSinceProbe;
    const elapsed = now - this.lastProbe;
    const measured = this.dropsAtStart !== undefined && reads > 0 && elapsed > 0; // a previous probe in this spell
    this.lastProbe = now;
    this.readsSinceProbe = 0;
    this.bytesSinceProbe = 0;
    const q = this.probe?.();
    const cost = this.probeCost(now, this.clock() - now);
    this.probeEveryMs = Math.max(PROBE_EVERY_MS, 50 * cost) * (1 + 0.25 * Math.random());
    if (this.costs.length === PROBE_COST_WINDOW && cost > PROBE_TOO_SLOW_MS) {
      this.off = true;
      this.queuedBytes = 0;
      this.queueMs = 0;
      this.dropping = false;
      return;
    }
    if (q === undefined) return;
    this.queuedBytes = q.rxQueue;
    if (measured) {
      const waiting = q.rxQueue / (bytes / reads + KERNEL_BYTES_PER_DATAGRAM);
      // One window's rate can be low for a moment while the queue drains: a GC pause, or, in a
      // process started cold, the JIT compiling a path the first time. A cold start at 5,000
      // calls/s read 32 datagrams in one 19 ms window (184 ms estimated) and caught up 31 ms
      // later. A queue that does not drain reads long on every probe, so two in a row must agree.
      this.estimated(waiting / (reads / elapsed));
    }
    this.dropsAtStart ??= q.drops;
    if (q.drops > this.dropsAtStart) this.dropping = true;
    // Drops since the last probe, not since the spell began (`dropping` stays set for the spell),
    // and not since the last metrics scrape (which reads the kernel too).
    const dropped = this.dropping && q.drops > this.dropsAtLastProbe;
    this.dropsAtLastProbe = q.drops;
    this.kernelDropsSeen = Math.max(this.kernelDropsSeen, q.drops);
    this.observer?.queueSeen(this.queueMs, dropped);
  }

  /**
   * Datagrams the kernel dropped at this UDP socket since it opened (0 without a kernel probe): what
   * no log can show, as evsip never saw them. Read from the kernel now, for the metrics, unless such
   * reads were too slow several times in a row (a host with thousands of sockets; one slow read may
   * only be the process descheduled); the reads made while the socket is behind keep counting then.
   */
  kernelDrops(): number {
    if (this.probe === undefined || this.off || this.slowScrapeReads >= PROBE_COST_WINDOW) return this.kernelDropsSeen;
    const start = this.clock();
    const q = this.probe();
    this.slowScrapeReads = this.clock() - start > PROBE_TOO_SLOW_MS ? this.slowScrapeReads + 1 : 0;
    if (q !== undefined) this.kernelDropsSeen = Math.max(this.kernelDropsSeen, q.drops);
    return this.kernelDropsSeen;
  }

  /** Records a probe's time; the least of the last PROBE_COST_WINDOW kept. */
  private probeCost(at: number, took: number): number {
    const keep = Math.max(PROBE_COST_KEEP_MS, 5 * this.probeEveryMs);
    this.costs = this.costs.filter((c) => at - c.at < keep).slice(1 - PROBE_COST_WINDOW);
    this.costs.push({ at, took });
    let least = took;
    for (const c of this.costs) least = Math.min(least, c.took);
    return least;
  }

  private caughtUp(): void {
    this.since = undefined;
    this.scheduled = false;
    this.queuedBytes = 0;
    this.queueMs = 0;
    this.lastEstimateMs = 0;
    this.readsSinceProbe = 0;
    this.bytesSinceProbe = 0;
    this.dropsAtStart = undefined;
    this.dropping = false;
  }
}
