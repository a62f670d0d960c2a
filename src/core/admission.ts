// Admission of new work. A request that opens new work (an initial request: no To-tag, not ACK or
// CANCEL) is refused with a stateless 503 and Retry-After while the router drains for a graceful
// stop, or while SIP input (a UDP listener, or the TCP connections taken together) is overloaded:
// falling behind with a queue longer than `shedQueue` ms (a UDP socket's kernel queue as the time
// to read it, or how long TCP messages waited in evsip), or with the kernel dropping datagrams, or
// falling behind for `shedAfter` ms whatever the queue. Its caller then retries elsewhere at once
// instead of waiting out its own timers and retransmitting into (or, over TCP, waiting behind) a
// queue that is already too long, and the queue drains before the kernel has to drop anything,
// in-dialog requests included. Everything else (retransmissions,
// in-dialog requests, responses) always flows: work already accepted is never thrown away.
// Emergency calls (urn:service:sos, RFC 5031) are admitted through an overload too, as RFC 7339
// §5.10.1 asks, up to `emergencyRate` a second: any caller can write that URN, and past the rate
// they are refused like any call. A graceful stop refuses them like any call, so that the caller
// tries another router at once instead of starting a call the stop would cut.
import type { SipMessageLike } from "../sip/types.js";
import { opensNewWork } from "../sip/opens-new-work.js";
import { isEmergencyCall } from "../sip/emergency-call.js";
import type { Source } from "../transport/types.js";
import { intParam, type ParamSchema } from "./params.js";
import type { StatelessReplier } from "./sl.js";
import { KEEPING_UP, type BacklogState } from "../transport/input-backlog.js";
import type { RateLimitedLog } from "../common/rate-limited-log.js";
import { monotonicMs } from "../common/monotonic.js";
import { MAX_VALIDITY_MS } from "../transport/overload-feedback.js";
import { TRANSPORT_DEFAULTS } from "../transport/types.js";

/** The app's `admission` params. */
export interface AdmissionParams {
  /** Retry-After (seconds) on the 503 that refuses new work. */
  retryAfter: number;
  /** Graceful stop: how long transactions in flight may take to finish (ms) before they are answered 503. */
  drainTimeout: number;
  /** Overload: shed new work once SIP input (a UDP listener, or TCP) has been falling behind this long (ms); 0 = never. */
  shedAfter: number;
  /** Overload: shed new work while SIP input falls behind with a queue longer than this (ms): a UDP listener's kernel queue, or TCP messages waiting in evsip, plus new requests' wait behind the calls in progress; 0 = never. */
  shedQueue: number;
  /** For this long (ms) after the listeners open, `shedQueueAtStart` applies instead of `shedQueue`; 0 = never. */
  startGrace: number;
  /** The queue rule's bound (ms) in the `startGrace` after a start, never below `shedQueue`: the backlog a restart meets. */
  shedQueueAtStart: number;
  /** RFC 7339: ask the clients that support it for less new work while SIP input falls behind with a queue longer than this (ms); 0 = never. */
  ocQueue: number;
  /** RFC 7339: how long (ms) a client applies the feedback (`oc-validity`); repeated in every response while it lasts. */
  ocValidity: number;
  /** Overload: emergency calls (urn:service:sos) admitted a second at most while other new work is refused; 0 = none. */
  emergencyRate: number;
  /** Overload: once SIP input falls behind with a queue this long (ms), new requests wait behind the calls in progress; 0 = never. */
  setAsideQueue: number;
}

export const ADMISSION_SCHEMA: ParamSchema<AdmissionParams> = {
  retryAfter: intParam(5, 0, 86_400, "Retry-After (s) on the 503 that refuses new work"),
  drainTimeout: intParam(10_000, 0, 3_600_000, "graceful stop: time (ms) for transactions in flight to finish"),
  shedAfter: intParam(
    2000,
    0,
    60_000,
    "overload: shed new work once SIP input (a UDP listener, or TCP) has been falling behind this long (ms); 0 = never",
  ),
  shedQueue: intParam(
    100,
    0,
    60_000,
    "overload: shed new work while SIP input falls behind with a queue longer than this (ms): a UDP listener's kernel queue (Linux), or TCP messages waiting in evsip, plus the wait of new requests set aside behind the calls in progress; 0 = never",
  ),
  // A router restarted under load meets the retransmissions its callers sent while it was down; with
  // headroom it reads them in a second or two, and shedding at 100 ms refused calls it would have
  // served (docs/load.md, "A router restarted under load"). 400 ms stays under T1 (500 ms), so a
  // caller whose INVITE waits in the queue has not sent it again yet; 5 s covers the INVITEs re-sent
  // at 0.5, 1.5 and 3.5 s after the outage began.
  startGrace: intParam(
    5000,
    0,
    600_000,
    "for this long (ms) after the listeners open, shedQueueAtStart applies instead of shedQueue; 0 = never",
  ),
  shedQueueAtStart: intParam(
    400,
    0,
    60_000,
    "the queue rule's bound (ms) during startGrace, never below shedQueue: a restart's backlog is read rather than shed",
  ),
  // Below shedQueue, so that the clients that honour it hold new calls back before any is refused;
  // not much below it, or a router that would have served everything with a queue of tens of
  // milliseconds asks for less (docs/load.md, "RFC 7339: the callers hold back").
  ocQueue: intParam(
    50,
    0,
    60_000,
    "RFC 7339 overload control: ask the clients whose Via carries `oc` for less new work while SIP input falls behind with a queue longer than this (ms); 0 = never",
  ),
  ocValidity: intParam(
    500,
    100,
    MAX_VALIDITY_MS,
    "RFC 7339 overload control: how long (ms) a client applies the feedback (oc-validity)",
  ),
  // Emergency calls are few next to the others; the bound is for a caller that writes the URN to get
  // past the shedding. A router that carries mostly emergency traffic should raise it.
  emergencyRate: intParam(
    20,
    0,
    10_000,
    "overload: emergency calls (INVITE urn:service:sos…) admitted a second at most while other new work is refused (a burst of as many); 0 = none",
  ),
  setAsideQueue: intParam(
    TRANSPORT_DEFAULTS.setAsideQueue,
    0,
    60_000,
    "overload: once SIP input falls behind with a queue this long (ms: a UDP listener's kernel queue, Linux; TCP messages waiting in evsip), new requests (no To tag) wait in evsip and responses and in-dialog requests go first; 0 = never",
  ),
};

type RefusalReason = "draining" | "overload";

/** Why new work is not admitted: a graceful stop, or the overload rule that fired (as logged). */
type Closed = "draining" | "the kernel dropped datagrams" | "queue past shedQueue" | "behind past shedAfter";

/** An overload spell: from its first refusal to the first new work admitted after it. */
interface Spell {
  readonly since: number;
  /** When its last refusal was: how long it lasted, whatever quiet followed. */
  last: number;
  refused: number;
}

/**
 * Where SIP input's state is read: the transport layer. An object with a method rather than a
 * closure: the method is the same function in every server, where a closure per server missed at
 * the first real request after the start's warm-up server had trained this code, and deoptimised it.
 */
export interface BacklogSource {
  inputBacklog(): BacklogState;
}

export class Admission {
  /** `emergency`: emergency calls admitted while other new work was refused for overload. */
  readonly stats = { refused: new Map<RefusalReason, number>(), emergency: 0 };
  /** Emergency calls that may still pass an overload now (a token bucket of emergencyRate a second). */
  private emergencyTokens: number;
  private emergencyAt = 0;
  private readonly emergencyRate: number;
  private draining = false;
  private readonly retryAfter: readonly string[];
  private readonly sl: StatelessReplier;
  private readonly shedAfter: number;
  private readonly shedQueue: number;
  private readonly startGrace: number;
  /**
   * The queue rule's bound in the grace: shedQueueAtStart, but never stricter than shedQueue (a
   * grace only widens the bound, and shedQueue 0 keeps the rule off).
   */
  private readonly graceBound: number;
  /** Until when (clock ms) graceBound applies; 0 once past, or before the listeners opened. */
  private graceUntil = 0;
  private readonly input: BacklogSource;
  private readonly clock: () => number;
  private readonly log: RateLimitedLog;
  private spell: Spell | undefined;
  /** Modules' checks for a request that opens no new work after all (see addAcceptedWork). */
  private readonly accepted: Array<(msg: SipMessageLike) => boolean> = [];
  /** The input's state closed() last read (what a spell's start is logged with). */
  private seen: BacklogState = KEEPING_UP;
  /** The queue rule's bound closed() last used (what a spell's start is logged with). */
  private seenBound = 0;

  /**
   * `input`: the transport, whose inputBacklog() is the worst of the UDP listeners and TCP's input; `log`:
   * where overload spells are reported (rate-limited, ERR_OVERLOAD); `clock`: common/monotonic.ts's
   * by default (a test may move it on).
   */
  constructor(
    sl: StatelessReplier,
    params: AdmissionParams,
    input: BacklogSource,
    log: RateLimitedLog,
    clock: () => number = monotonicMs,
  ) {
    this.sl = sl;
    this.log = log;
    this.retryAfter = [`Retry-After: ${params.retryAfter}`];
    this.shedAfter = params.shedAfter;
    this.shedQueue = params.shedQueue;
    this.startGrace = params.startGrace;
    this.graceBound = params.shedQueue === 0 ? 0 : Math.max(params.shedQueue, params.shedQueueAtStart);
    this.input = input;
    this.clock = clock;
    this.emergencyRate = params.emergencyRate;
    this.emergencyTokens = params.emergencyRate;
  }

  /**
   * Lets a module claim an initial request as part of work already accepted, so that it is never
   * refused: `known` runs only when new work is being refused (the dialog module: an INVITE re-sent
   * for a call the journal kept unanswered, whose transaction a restart lost).
   */
  addAcceptedWork(known: (msg: SipMessageLike) => boolean): void {
    this.accepted.push(known);
  }

  /** The SIP listeners are open: `startGrace` begins. */
  opened(): void {
    if (this.startGrace > 0) this.graceUntil = this.clock() + this.startGrace;
  }

  /** The queue rule's bound now: graceBound in the grace after a start, else shedQueue. */
  private queueBound(): number {
    if (this.graceUntil === 0) return this.shedQueue;
    if (this.clock() < this.graceUntil) return this.graceBound;
    this.graceUntil = 0;
    return this.shedQueue;
  }

  /** From now on new work is refused (a graceful stop has begun). */
  startDraining(): void {
    this.draining = true;
    // Refusals from here on are the stop's: an overload spell still open ends now, or never.
    if (this.spell !== undefined) this.overloadEnded(this.spell, "overload over: a graceful stop refuses new calls now");
  }

  /** Why new work is not admitted now, if it is not; the input's state and the bound it read are kept in `seen`, `seenBound`. */
  private closed(): Closed | undefined {
    if (this.draining) return "draining";
    const b = (this.seen = this.input.inputBacklog());
    if (b.behindMs === 0) return undefined;
    const bound = (this.seenBound = this.queueBound());
    if (bound > 0 && b.dropping) return "the kernel dropped datagrams";
    if (bound > 0 && b.queueMs > bound) return "queue past shedQueue";
    if (this.shedAfter > 0 && b.behindMs > this.shedAfter) return "behind past shedAfter";
    return undefined;
  }

  /** Answers `msg` 503 + Retry-After and returns true when it opens new work that is not admitted now. */
  refuse(msg: SipMessageLike, src: Source): boolean {
    const closed = this.closed();
    if (closed === undefined) {
      if (this.spell !== undefined && opensNewWork(msg))
        this.overloadEnded(this.spell, "overload over: new calls are admitted again");
      return false;
    }
    if (!opensNewWork(msg)) return false;
    for (const known of this.accepted) if (known(msg)) return false;
    const reason: RefusalReason = closed === "draining" ? "draining" : "overload";
    if (reason === "overload" && isEmergencyCall(msg) && this.takeEmergencyToken()) {
      this.stats.emergency++;
      return false;
    }
    this.stats.refused.set(reason, (this.stats.refused.get(reason) ?? 0) + 1);
    if (reason === "overload") {
      const spell = (this.spell ??= this.overloadBegan(closed));
      spell.refused++;
      spell.last = this.clock();
    }
    this.sl.replyTo(msg, src, 503, "Service Unavailable", this.retryAfter);
    return true;
  }

  /** One of emergencyRate a second (a burst of as many), refilled by the time since the last one taken. */
  private takeEmergencyToken(): boolean {
    const now = this.clock();
    const rate = this.emergencyRate;
    this.emergencyTokens = Math.min(rate, this.emergencyTokens + ((now - this.emergencyAt) * rate) / 1000);
    this.emergencyAt = now;
    if (this.emergencyTokens < 1) return false;
    this.emergencyTokens--;
    return true;
  }

  /** An operator must see when and why calls began to be refused, not only a counter that moved. */
  private overloadBegan(rule: Closed): Spell {
    const b = this.seen;
    this.log.warn("ERR_OVERLOAD", "overload: new calls are refused with 503 + Retry-After", {
      rule,
      behindMs: Math.round(b.behindMs),
      queueMs: Math.round(b.queueMs),
      shedQueue: this.shedQueue,
      // The bound the rule used: wider in the grace after a start.
      queueBound: this.seenBound,
      atStart: this.seenBound !== this.shedQueue,
      shedAfter: this.shedAfter,
    });
    const now = this.clock();
    return { since: now, last: now, refused: 0 };
  }

  /** Logged under a key of its own: a flapping load's ends must not use up the budget of its starts. */
  private overloadEnded(spell: Spell, msg: string): void {
    this.spell = undefined;
    this.log.log(
      "info",
      "ERR_OVERLOAD",
      msg,
      {
        refused: spell.refused,
        forMs: Math.round(spell.last - spell.since),
      },
      "ERR_OVERLOAD:over",
    );
  }
}
