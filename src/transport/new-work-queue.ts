// New work waits here while SIP input falls behind, so that the calls already in progress go
// first. Read in arrival order, a BYE waits behind every new INVITE queued before it (in the
// kernel, or in a TCP connection's inbox): in a router capped to a quarter of a core at 2.5 times
// its ceiling, BYEs were answered 65–125 ms late (median), and billing saw the call end that late.
// So once an input (a UDP listener, or TCP's input) falls behind with a queue of setAsideQueue ms
// (as input-backlog.ts estimates it: a GC pause's few full turns never reach it, and setting aside
// costs a turn's batching), the requests that may start something (no To tag: an initial INVITE, a
// REGISTER, an out-of-dialog OPTIONS; a CANCEL or a tagless ACK too, which must not overtake the
// INVITE they belong to) are parsed and put here, and responses and requests within a dialog are
// handled as they are read. The queue is then worked through a slice per event-loop turn, and the
// loop goes back to reading in between: reading costs a few microseconds a message, so the input's
// queue drains, and a BYE read behind a thousand new INVITEs is answered within a turn or two.
//
// The queue keeps each source's arrival order (a UDP sender's address, or a TCP connection), so a
// retransmitted INVITE still comes after its original, and tm absorbs it; a CANCEL joins its
// INVITE's queue wherever it comes from. Sources take turns, one message each: a source that floods
// waits behind its own messages, so its wait is the one that passes shedQueue, and the refusals
// land on it. How long the message being handled waited is part of what admission control sheds on
// (TransportLayer.inputBacklog(): the input's own queue plus this one's): a new INVITE taken from
// here after waiting past shedQueue is refused with a 503, which costs a fraction of serving it, so
// the queue stays about shedQueue long. While no queue builds, nothing waits here.
//
// A TCP connection counts what of its messages waits here (TcpConnection.hold/release): after the
// peer's FIN our side ends only once they are handled, and it is not idle while they wait.
import { monotonicMs } from "../common/monotonic.js";
import { atTurnEnd, atTurnEndNow } from "../common/turn-end.js";
import { dropTakenFront } from "../common/taken-front.js";
import type { SipMessageLike } from "../sip/types.js";
import { opensNewWork } from "../sip/opens-new-work.js";
import type { QueueObserver } from "./overload-feedback.js";
import { KEEPING_UP, LIBUV_UDP_READS_PER_TURN, type BacklogState } from "./input-backlog.js";
import type { Source, TransportStats } from "./types.js";
import type { TcpConnection } from "./tcp-connection.js";

/**
 * Time (ms) spent on queued new work per event-loop turn before the loop reads again, while the
 * inputs kept up in the turn before. One turn reads at most 32 datagrams a socket (libuv), at a
 * few microseconds each.
 */
export const TURN_MS = 1;
/**
 * The same while an input read a full batch in the turn before (more is waiting in the kernel): one
 * message, then back to reading. A router short of CPU must read faster than messages come, or
 * BYEs wait in the kernel behind INVITEs again. Capped to a quarter of a core at 2.5 times its
 * ceiling, BYEs waited 118 ms (median) with 1 ms slices, 12–21 ms with 0.2 ms ones worked every
 * second turn, and 64 ms with 0.5 ms ones every turn. Refusals keep pace all the same: once the
 * kernel's queue is read, turns read less than a batch and take the whole slice.
 */
export const BEHIND_TURN_MS = 0;
/**
 * The most messages handled per turn, whatever the slice: refusing one with a 503 costs a few
 * microseconds, and a 1 ms slice of them left in one burst that a caller's socket dropped (a caller
 * in the same process, reading 32 a turn as libuv does, lost 15 of 1,909). As many as a turn reads.
 */
export const TURN_MESSAGES = LIBUV_UDP_READS_PER_TURN;
/**
 * The most messages that wait here. Admission sheds the head once it waited past shedQueue, so the
 * queue stays near shedQueue × the input rate (1,600 at 16,000/s and 100 ms); this bound is for
 * shedQueue 0 (never shed). Past it, new work is handled as it is read, behind nothing; a CANCEL
 * or a tagless ACK still waits, so as not to overtake its INVITE.
 */
export const MAX_WAITING = 8192;

interface Waiting {
  readonly msg: SipMessageLike;
  readonly src: Source;
  /** The TCP connection it came on, which holds it (TcpConnection.hold); undefined for UDP. */
  readonly conn: TcpConnection | undefined;
  /** When it was put here (monotonic ms). */
  readonly at: number;
  /** Its place in arrival order (`queued` when it came). */
  readonly seq: number;
  /** An INVITE's, CANCEL's or ACK's inviteKey(), computed once; undefined for other methods. */
  readonly key: string | undefined;
}

/** One source's messages, in arrival order: a UDP sender's address, or a TCP connection. */
interface SourceQueue {
  readonly key: string | number;
  readonly items: Waiting[];
  head: number;
}

/** What a message is handed to when its turn comes, with the TCP connection that holds it. */
export type WaitedHandler = (msg: SipMessageLike, src: Source, conn: TcpConnection | undefined) => void;

export interface NewWorkQueueOptions {
  /** Whether an input read a full batch at the last turn's end (more waits in the kernel). */
  readonly inputBehind?: () => boolean;
  readonly turnMs?: number;
  readonly behindTurnMs?: number;
  readonly maxWaiting?: number;
  /** common/monotonic.ts's by default. */
  readonly clock?: () => number;
}

/** The counters a queue keeps: the transport's own (`newWorkWaited`, `newWorkOverflowed`). */
export type NewWorkStats = Pick<TransportStats, "newWorkWaited" | "newWorkOverflowed">;

export class NewWorkQueue {
  /** Told the oldest message's wait at every turn of the queue (RFC 7339 feedback, overload-feedback.ts). */
  observer: QueueObserver | undefined;
  /** Each source's messages; the sources with messages waiting, in the order they are served. */
  private readonly bySource = new Map<string | number, SourceQueue>();
  private readonly turns: Array<SourceQueue | undefined> = [];
  private turnsHead = 0;
  /** Every message waiting, in arrival order (taken ones cleared): whose wait is the oldest. */
  private readonly arrivals: Array<Waiting | undefined> = [];
  private arrivalsHead = 0;
  /** The seq of arrivals[0]. */
  private arrivalsBase = 0;
  private count = 0;
  /** The message being handled: its wait is what admission decides on. */
  private current: Waiting | undefined;
  private scheduled = false;
  /** Messages ever queued: the next one's seq. */
  private queued = 0;
  /**
   * The source queue of each INVITE waiting, by Call-ID and CSeq number, with how many wait there
   * (retransmissions): its CANCEL, or a tagless ACK, joins that queue, from wherever it comes (a
   * TCP INVITE's CANCEL over UDP, an upstream that reconnected), and stays behind it.
   */
  private readonly invites = new Map<string, { readonly q: SourceQueue; n: number }>();
  /** whenHandled()'s waiters: resolved once no message before `upTo` (a seq) waits. */
  private emptied: Array<{ readonly upTo: number; readonly resolve: () => void }> = [];
  private readonly handle: WaitedHandler;
  private readonly turnMs: number;
  private readonly behindTurnMs: number;
  private readonly inputBehind: () => boolean;
  private readonly maxWaiting: number;
  private readonly clock: () => number;
  private readonly stats: NewWorkStats;
  /** The turn after this one (the loop reads in between), run as that turn's end. */
  private readonly nextTurn = (): void => atTurnEndNow(this.drain);

  /** `handle`: what a message is handed to when its turn comes (the same as for one not queued); must not throw. */
  constructor(handle: WaitedHandler, stats: NewWorkStats, opts: NewWorkQueueOptions = {}) {
    this.handle = handle;
    this.stats = stats;
    this.turnMs = opts.turnMs ?? TURN_MS;
    this.behindTurnMs = opts.behindTurnMs ?? BEHIND_TURN_MS;
    this.inputBehind = opts.inputBehind ?? (() => false);
    this.maxWaiting = opts.maxWaiting ?? MAX_WAITING;
    this.clock = opts.clock ?? monotonicMs;
  }

  /** Messages waiting now. */
  get length(): number {
    return this.count;
  }

  /**
   * Queues `msg` and returns true when it must wait: it may start something, and new work is set
   * aside now (`setAside`: its input's queue is long) or already waits. False: handle it now (the
   * caller does). Never handles anything itself: a caller may count the message as held after a true.
   */
  offer(msg: SipMessageLike, src: Source, setAside: boolean, conn?: TcpConnection): boolean {
    if (!setAside && this.count === 0) return false;
    if (!mayWait(msg)) return false;
    if (this.count >= this.maxWaiting && opensNewWork(msg)) {
      this.stats.newWorkOverflowed++;
      return false;
    }
    const m = msg.method;
    const key = m === "INVITE" || m === "CANCEL" || m === "ACK" ? inviteKey(msg) : undefined;
    const w: Waiting = { msg, src, conn, at: this.clock(), seq: this.queued++, key };
    this.arrivals.push(w);
    this.queueOf(w).items.push(w);
    this.count++;
    this.stats.newWorkWaited++;
    if (!this.scheduled) {
      this.scheduled = true;
      atTurnEnd(this.drain);
    }
    return true;
  }

  /** Where `w` waits: its INVITE's queue for a CANCEL or tagless ACK whose INVITE waits, else its source's. */
  private queueOf(w: Waiting): SourceQueue {
    const key = w.key;
    if (key === undefined) return this.sourceOf(w.src);
    if (w.msg.method === "INVITE") {
      const q = this.sourceOf(w.src);
      const known = this.invites.get(key);
      if (known?.q === q) known.n++;
      else this.invites.set(key, { q, n: 1 });
      return q;
    }
    const known = this.invites.get(key);
    if (known !== undefined && this.bySource.get(known.q.key) === known.q) return known.q;
    return this.sourceOf(w.src);
  }

  /** An INVITE taken off: its CANCEL no longer needs its queue. */
  private inviteTaken(key: string): void {
    const known = this.invites.get(key);
    if (known !== undefined && --known.n <= 0) this.invites.delete(key);
  }

  /** The queue of `src`'s source, made and given its turn if it had nothing waiting. */
  private sourceOf(src: Source): SourceQueue {
    // A TCP connection is one peer, whatever its address; a UDP sender is its address (any port).
    const key = src.proto === "tcp" ? src.connId : src.remoteAddr;
    let q = this.bySource.get(key);
    if (q === undefined) {
      q = { key, items: [], head: 0 };
      this.bySource.set(key, q);
      this.turns.push(q);
    }
    return q;
  }

  /**
   * The queue as admission sees it: the wait of the message being handled (during a turn: what
   * admission decides on), else of the oldest waiting, as both its time behind and its queue;
   * KEEPING_UP while nothing waits. Not the time since the queue last emptied: near the ceiling a
   * queue of a few fresh messages may never empty, and that is not two seconds behind
   * (admission.shedAfter).
   */
  state(now: number = this.clock()): BacklogState {
    const ref = this.current ?? this.oldest();
    if (ref === undefined) return KEEPING_UP;
    const waited = Math.max(0, now - ref.at);
    return { behindMs: waited, queuedBytes: 0, queueMs: waited, dropping: false };
  }

  /** The message that has waited longest; undefined when none waits. */
  private oldest(): Waiting | undefined {
    if (this.count === 0) return undefined;
    let h = this.arrivalsHead;
    while (this.arrivals[h] === undefined) h++; // count > 0: one is there
    const after = dropTakenFront(this.arrivals, h, 1024);
    if (after !== h) this.arrivalsBase += h; // the taken front was dropped
    this.arrivalsHead = after;
    return this.arrivals[after];
  }

  /**
   * Resolves once what waits now has been handled (at once when nothing does), whatever came
   * since: a graceful stop answers it first, and a flood that keeps the queue full must not hold
   * the stop for its whole drainTimeout.
   */
  whenHandled(): Promise<void> {
    const upTo = this.queued;
    if (this.firstWaiting() >= upTo) return Promise.resolve();
    return new Promise((resolve) => this.emptied.push({ upTo, resolve }));
  }

  /** Empties the queue for a stop, each message told to `left` (not handled); returns how many. */
  discard(left: (w: { readonly conn: TcpConnection | undefined }) => void): number {
    const n = this.count;
    for (const w of this.arrivals) if (w !== undefined) left(w);
    this.reset();
    this.tellHandled();
    return n;
  }

  private reset(): void {
    this.arrivals.length = 0;
    this.arrivalsHead = 0;
    this.arrivalsBase = this.queued;
    this.bySource.clear();
    this.invites.clear();
    this.turns.length = 0;
    this.turnsHead = 0;
    this.count = 0;
  }

  /** The seq of the oldest message waiting; the next seq when none waits. */
  private firstWaiting(): number {
    return this.oldest()?.seq ?? this.queued;
  }

  /**
   * Resolves the whenHandled() waiters none of whose messages waits any more. Not by count: with
   * sources taking turns, newer messages of other sources are handled before older ones.
   */
  private tellHandled(): void {
    if (this.emptied.length === 0) return;
    const first = this.firstWaiting();
    const done = this.emptied.filter((w) => w.upTo <= first);
    if (done.length === 0) return;
    this.emptied = this.emptied.filter((w) => w.upTo > first);
    for (const w of done) w.resolve();
  }

  /**
   * The next message: the oldest of the source whose turn it is, one per source in turn, so that a
   * source that floods waits behind its own messages, not everyone's (its wait passes shedQueue
   * first, and it is what admission refuses). A source keeps its own order.
   */
  private takeNext(): Waiting {
    const q = this.turns[this.turnsHead] as SourceQueue;
    this.turns[this.turnsHead] = undefined;
    this.turnsHead = dropTakenFront(this.turns, this.turnsHead + 1, 1024);
    const w = q.items[q.head] as Waiting;
    q.items[q.head] = undefined as unknown as Waiting;
    q.head = dropTakenFront(q.items, q.head + 1, 256);
    if (q.head < q.items.length) this.turns.push(q);
    else this.bySource.delete(q.key);
    this.arrivals[w.seq - this.arrivalsBase] = undefined;
    this.count--;
    return w;
  }

  /**
   * One turn: the queue for up to turnMs (behindTurnMs while input is behind) and TURN_MESSAGES,
   * then the loop reads again.
   */
  private readonly drain = (): void => {
    this.scheduled = false;
    if (this.count === 0) return;
    const slice = this.inputBehind() ? this.behindTurnMs : this.turnMs;
    const start = this.clock();
    let n = 0;
    try {
      // At least one message a turn, whatever the slice.
      do {
        const w = (this.current = this.takeNext());
        if (w.key !== undefined && w.msg.method === "INVITE") this.inviteTaken(w.key);
        this.handle(w.msg, w.src, w.conn);
        this.current = undefined;
      } while (this.count > 0 && this.clock() - start < slice && ++n < TURN_MESSAGES);
    } finally {
      this.current = undefined;
      this.afterTurn();
    }
  };

  /** Empty: back to handling messages as read; else the next turn, after the loop has read. */
  private afterTurn(): void {
    this.tellHandled();
    const oldest = this.oldest();
    if (oldest === undefined) return this.reset();
    this.observer?.queueSeen(this.clock() - oldest.at, false);
    this.scheduled = true;
    setImmediate(this.nextTurn);
  }
}

/** An INVITE's identity as its CANCEL carries it (RFC 3261 §9.1: same Call-ID, same CSeq number). */
function inviteKey(msg: SipMessageLike): string | undefined {
  try {
    return `${msg.callId}\n${msg.cseq.seq}`;
  } catch {
    return undefined; // a CSeq that does not parse: the layers above answer it
  }
}

/**
 * True for a request that may start something, or belongs to one that may be queued: no To tag
 * (an initial request, a CANCEL, a tagless ACK). Responses and requests within a dialog never wait.
 * A To header that does not parse is handled now: the layers above answer it.
 */
function mayWait(msg: SipMessageLike): boolean {
  if (!msg.isRequest) return false;
  try {
    const tag = msg.to.tag;
    return tag === undefined || tag === "";
  } catch {
    return false;
  }
}
