// New work waits here while a UDP listener falls behind, so that the calls already in progress go
// first. Read in arrival order, a BYE waits in the kernel behind every new INVITE queued before it:
// in a router capped to a quarter of a core at twice its ceiling, BYEs were answered 65–118 ms late
// (median), and billing saw the call end that late. So while a listener falls behind, the requests
// that may start something (no To tag: an initial INVITE, a REGISTER, an out-of-dialog OPTIONS; a
// CANCEL or a tagless ACK too, which must not overtake the INVITE they belong to) are parsed and put
// here, and responses and requests within a dialog are handled as they are read. The queue is then
// worked through a slice per event-loop turn, and the loop goes back to reading in between: reading
// costs a few microseconds a datagram, so the kernel's queue drains, and a BYE read behind a
// thousand new INVITEs is answered within a turn or two.
//
// The queue keeps arrival order, so a retransmitted INVITE still comes after its original, and tm
// absorbs it. How long the head waited is part of what admission control sheds on
// (TransportLayer.inputBacklog(): the listener's own queue plus this one's): a new INVITE taken from
// here after waiting past shedQueue is refused with a 503, which costs a fraction of serving it, so
// the queue stays about shedQueue long. While nothing falls behind, nothing waits here.
//
// TCP messages never wait here: a connection ends its side after a peer's FIN, and is timed out as
// idle, by what its own inbox holds (tcp-connection.ts), and TCP's read ahead already holds its
// messages in evsip (their wait counts as the TCP input's queue).
import { monotonicMs } from "../common/monotonic.js";
import { atTurnEnd } from "../common/turn-end.js";
import { dropTakenFront } from "../common/taken-front.js";
import type { SipMessageLike } from "../sip/types.js";
import { opensNewWork } from "../sip/opens-new-work.js";
import type { QueueObserver } from "./overload-feedback.js";
import { KEEPING_UP, LIBUV_UDP_READS_PER_TURN, type BacklogState } from "./input-backlog.js";
import type { MessageHandler, Source, TransportStats } from "./types.js";

/**
 * Time (ms) spent on queued new work per event-loop turn before the loop reads again, while the
 * inputs kept up in the turn before. One turn reads at most 32 datagrams a socket (libuv), at a
 * few microseconds each.
 */
export const TURN_MS = 1;
/**
 * The same while an input read a full batch in the turn before (more is waiting in the kernel): at
 * least one message, then back to reading. A router short of CPU must read faster than messages
 * come, or BYEs wait in the kernel behind INVITEs again: capped to a quarter of a core with 1 ms
 * turns, it read 32 datagrams per period of its cap, and BYEs still waited 118 ms (median).
 */
export const BEHIND_TURN_MS = 0.2;
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
  /** When it was put here (monotonic ms). */
  readonly at: number;
}

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
  /** Told the head's wait at every turn of the queue (RFC 7339 feedback, overload-feedback.ts). */
  observer: QueueObserver | undefined;
  private readonly items: Array<Waiting | undefined> = [];
  private head = 0;
  /** When the queue last went from empty to waiting (monotonic ms); undefined while empty. */
  private since: number | undefined;
  private scheduled = false;
  private readonly handle: MessageHandler;
  private readonly turnMs: number;
  private readonly behindTurnMs: number;
  private readonly inputBehind: () => boolean;
  private readonly maxWaiting: number;
  private readonly clock: () => number;
  private readonly stats: NewWorkStats;
  /** The turn after this one: the loop reads in between. */
  private readonly nextTurn = (): void => atTurnEnd(this.drain);

  /** `handle`: what a message is handed to when its turn comes (the same as for one not queued). */
  constructor(handle: MessageHandler, stats: NewWorkStats, opts: NewWorkQueueOptions = {}) {
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
    return this.items.length - this.head;
  }

  /**
   * Queues `msg` and returns true when it must wait: it may start something, and its input falls
   * behind (`behind`) or new work already waits. False: handle it now (the caller does).
   */
  offer(msg: SipMessageLike, src: Source, behind: boolean): boolean {
    if (!behind && this.since === undefined) return false;
    if (!mayWait(msg)) return false;
    if (this.length >= this.maxWaiting && opensNewWork(msg)) {
      this.stats.newWorkOverflowed++;
      return false;
    }
    const at = this.clock();
    this.items.push({ msg, src, at });
    this.stats.newWorkWaited++;
    if (this.since === undefined) this.since = at;
    if (!this.scheduled) {
      this.scheduled = true;
      atTurnEnd(this.drain);
    }
    return true;
  }

  /**
   * The queue as admission sees it: how long new work has been waiting here, and how long the
   * head (the message being handled, during a turn) has waited. KEEPING_UP while empty.
   */
  state(now: number = this.clock()): BacklogState {
    const head = this.items[this.head];
    if (this.since === undefined || head === undefined) return KEEPING_UP;
    return { behindMs: now - this.since, queuedBytes: 0, queueMs: now - head.at, dropping: false };
  }

  /**
   * One turn: the queue in order for up to turnMs (behindTurnMs while input is behind) and
   * TURN_MESSAGES, then the loop reads again.
   */
  private readonly drain = (): void => {
    this.scheduled = false;
    const slice = this.inputBehind() ? this.behindTurnMs : this.turnMs;
    const start = this.clock();
    let now: number;
    let n = 0;
    // At least one message a turn, whatever the slice.
    do {
      const w = this.items[this.head] as Waiting;
      // Taken off only once handled: admission reads the head's wait while it decides on it.
      this.handle(w.msg, w.src);
      this.items[this.head] = undefined;
      this.head = dropTakenFront(this.items, this.head + 1, 1024);
      now = this.clock();
    } while (this.head < this.items.length && now - start < slice && ++n < TURN_MESSAGES);
    const head = this.items[this.head];
    if (head === undefined) {
      this.items.length = 0;
      this.head = 0;
      this.since = undefined;
      return;
    }
    this.observer?.queueSeen(now - head.at, false);
    this.scheduled = true;
    setImmediate(this.nextTurn);
  };
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
