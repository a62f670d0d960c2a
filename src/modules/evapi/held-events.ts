// The events that held calls wait on (async relay and request()), kept while each call is
// suspended. A routing consumer that dies (kill -9, a crash, a restart) takes with it the events it
// had not answered, and Kamailio leaves those calls to fr_timer: 30 s of ringing, then a 408. Here,
// once every connection an event went to has closed, the event goes again to the clients that match
// now, or waits for the next one that does, until the call is answered or its suspension ends
// (param heldOnClientLoss, "redeliver"; "wait" keeps Kamailio's behaviour). Events that went to a
// durable consumer are not kept: its own stream sends them again when it comes back.
import type { Logger } from "pino";
import type { SuspensionWatcher, TransactionId } from "../../core/transaction-user.js";
import type { EvapiConnection } from "./connection.js";
import type { EvapiService } from "./evapi-service.js";
import type { EvapiParams } from "./params.js";

/** One held call's event, with the connections it went to. */
interface HeldEvent {
  readonly frame: Buffer;
  readonly tag: string | undefined;
  readonly unicast: boolean;
  readonly name: string | undefined;
  /** The connections that took it last; none open and able to answer means it was lost. */
  recipients: EvapiConnection[];
}

/** A transaction's (index, label) as one number: index < 2^16, label < 2^32, so it stays exact. */
function keyOf(index: number, label: number): number {
  return index * 0x1_0000_0000 + label;
}

export class HeldEvents implements SuspensionWatcher {
  /** Events sent to a client and then lost with it: a counter (heldLost). */
  lost = 0;
  /** Lost or parked events a client took (heldRedelivered). */
  redelivered = 0;
  /** Events that found no client at all and were parked for the next one (heldParked). */
  parked = 0;
  private readonly byId = new Map<number, HeldEvent>();
  /** Lost events no client has taken again yet, and parked ones: an offer looks at them alone. */
  private readonly waitingSet = new Set<HeldEvent>();
  /** Connections that can no longer answer, to look at in the next microtask. */
  private readonly closed: EvapiConnection[] = [];
  /**
   * Connections that take no more events (closed, or turned listen-only or durable) but whose
   * queued messages (answers, maybe) have not all been handled yet: they may still answer.
   */
  private readonly finishingSet = new Set<EvapiConnection>();
  private scheduled = false;
  private stopped = false;
  private readonly service: EvapiService;
  private readonly params: EvapiParams;
  private readonly logger: Logger;
  private readonly isDurable: (c: EvapiConnection) => boolean;

  constructor(service: EvapiService, params: EvapiParams, logger: Logger, isDurable: (c: EvapiConnection) => boolean) {
    this.service = service;
    this.params = params;
    this.logger = logger;
    this.isDurable = isDurable;
  }

  /** Lost or parked events waiting for a client (heldLostPending). */
  get waiting(): number {
    return this.waitingSet.size;
  }

  /** Held calls whose event is kept (heldLive). */
  get size(): number {
    return this.byId.size;
  }

  /** True when track() keeps events (heldOnClientLoss "redeliver"); the caller then collects recipients. */
  get enabled(): boolean {
    return this.params.heldOnClientLoss === "redeliver" && !this.stopped;
  }

  /** Keeps the event of the suspended transaction `id`, which `took` took, until the suspension ends. */
  track(
    id: TransactionId,
    frame: Buffer,
    took: EvapiConnection[],
    tag: string | undefined,
    unicast: boolean,
    name: string | undefined,
  ): void {
    if (!this.enabled || took.length === 0) return;
    // Taken by listen-only clients alone (the one that could answer dropped it in a burst): nobody
    // will answer, so it waits for a client that can, as a lost one does.
    const e: HeldEvent = { frame, tag, unicast, name, recipients: took };
    if (!took.some((c) => this.takes(c))) this.waitingSet.add(e);
    this.byId.set(keyOf(id.index, id.label), e);
  }

  /**
   * A client that can take an event and answer it: open, not listen-only, not a durable consumer
   * (its own stream sends events again).
   */
  private takes(c: EvapiConnection): boolean {
    return c.connected && !c.listenOnly && !this.isDurable(c);
  }

  /** A recipient that can still answer what it was sent: one that takes events, or one finishing. */
  private answering(c: EvapiConnection): boolean {
    return this.finishingSet.has(c) || this.takes(c);
  }

  /** Keeps the event of `id`, which no client took, for the next client that matches it (holdWithoutClient). */
  park(id: TransactionId, frame: Buffer, tag: string | undefined, unicast: boolean, name: string | undefined): void {
    if (this.waiting === 0) {
      this.logger.warn(
        { code: "ERR_EVAPI_NO_CLIENT", tag },
        "evapi: no client for a held call: its event waits for the next client (holdWithoutClient)",
      );
    }
    const e: HeldEvent = { frame, tag, unicast, name, recipients: [] };
    this.byId.set(keyOf(id.index, id.label), e);
    this.waitingSet.add(e);
    this.parked++;
  }

  /** tm: the suspension or hold ended (answered, continued, timed out, cancelled): the event is let go. */
  suspensionEnded(index: number, label: number): void {
    const k = keyOf(index, label);
    const e = this.byId.get(k);
    if (e === undefined) return;
    this.byId.delete(k);
    this.waitingSet.delete(e);
  }

  /**
   * A client that could answer takes no more events (it closed, or turned listen-only or durable):
   * until its messages queued before that are handled (cannotAnswer()), it may still answer.
   */
  finishing(c: EvapiConnection): void {
    if (!this.stopped && this.byId.size > 0) this.finishingSet.add(c);
  }

  /**
   * A client can no longer answer: closed with its last message handled, or turned listen-only or
   * durable by a message. Its events that no other recipient can answer are sent again after the
   * current work (a close can come from inside a send: never re-enter it).
   */
  cannotAnswer(c: EvapiConnection): void {
    this.finishingSet.delete(c);
    if (this.stopped || this.byId.size === 0) return;
    if (!this.closed.includes(c)) this.closed.push(c); // a listener's hand-on, then its close: one loss
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(this.redeliverLost);
  }

  /** A client connected, or changed its tag or subscriptions: waiting events it takes now go to it. */
  offer(): void {
    if (this.waitingSet.size === 0 || this.stopped) return;
    let taken = 0;
    for (const e of this.waitingSet) {
      if (!this.resend(e)) continue;
      this.waitingSet.delete(e);
      taken++;
    }
    if (taken > 0)
      this.logger.info({ redelivered: taken, waiting: this.waiting }, "evapi: held calls' events taken by a new client");
  }

  /** The module stops: nothing is sent again to clients that are all closing. */
  stop(): void {
    this.stopped = true;
    this.byId.clear();
    this.finishingSet.clear();
    this.waitingSet.clear();
  }

  private readonly redeliverLost = (): void => {
    this.scheduled = false;
    const gone = this.closed.splice(0);
    if (this.stopped) return;
    let lost = 0;
    let resent = 0;
    for (const e of this.byId.values()) {
      if (this.waitingSet.has(e) || !e.recipients.some((r) => gone.includes(r))) continue;
      if (e.recipients.some((r) => this.answering(r))) continue; // another recipient can still answer
      lost++;
      if (this.resend(e)) resent++;
      else this.waitingSet.add(e);
    }
    if (lost === 0) return;
    this.lost += lost;
    const errors = this.service.stats.errors;
    errors.set("ERR_EVAPI_CLIENT_LOST", (errors.get("ERR_EVAPI_CLIENT_LOST") ?? 0) + lost);
    this.logger.warn(
      {
        code: "ERR_EVAPI_CLIENT_LOST",
        conidx: gone.map((c) => c.conidx),
        held: lost,
        redelivered: resent,
        waiting: lost - resent,
      },
      "evapi client closed (or stopped answering) before answering held calls: their events were sent again or wait for a client",
    );
  };

  /**
   * Sends a lost event to the clients that match it now and can answer it: plain clients (a durable
   * consumer replays its own stream), not listen-only ones, one of them for a unicast. Nothing is
   * sent when none can, so a waiting event offered again reaches nobody twice.
   */
  private resend(e: HeldEvent): boolean {
    const table = this.service.table;
    // A unicast picks by the module's policy (round robin spreads the lost calls too); when its pick
    // cannot answer (a durable consumer), the first that can.
    let to = e.unicast ? table.select([], e.tag, this.params.unicast, e.name).filter((c) => this.takes(c)) : [];
    if (to.length === 0) {
      to = table.select([], e.tag, undefined, e.name).filter((c) => this.takes(c));
      if (e.unicast) to.length = Math.min(to.length, 1);
    }
    if (to.length === 0) return false;
    const took: EvapiConnection[] = [];
    this.service.sendFrame(e.frame, to, took);
    if (took.length === 0) return false;
    e.recipients = took;
    this.redelivered++;
    return true;
  }
}
