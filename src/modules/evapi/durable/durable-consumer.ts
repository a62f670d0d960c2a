// One durable consumer: its retained events (a ConsumerLog), the connection it is attached to (if
// any) and how far that connection has been sent. Events are always retained first and sent from
// the log in id order, so a resume replays every unacknowledged event before new ones and nothing
// interleaves. Sending stops while the socket needs draining (a durable consumer is never closed or
// skipped for being slow: it is bounded by retention instead, which drops the oldest events).
import type { Logger } from "pino";
import type { EvapiConnection } from "../connection.js";
import type { EvapiStats } from "../stats.js";
import { eventText, lostText, type LostRange, type SubscribedReply } from "./control-message.js";
import type { ConsumerLog } from "./retention-store.js";

/** Bytes a consumer may have queued in evsip (not yet written to the socket) before sending pauses. */
export const PUMP_CHUNK = 256 * 1024;

/** What a consumer needs from the evapi service. */
export interface ConsumerLink {
  readonly stats: EvapiStats;
  readonly logger: Logger;
  readonly maxEvents: number;
  readonly maxBytes: number;
  /** Frames a payload per the module's framing (netstring or raw). */
  encode(text: string): Buffer;
  /** Queues a frame to a connection (no slow-client policy: the caller has checked room). */
  push(c: EvapiConnection, frame: Buffer): void;
  /** Asks for pump() after the next flush (the connection is behind). */
  behind(consumer: DurableConsumer): void;
}

export class DurableConsumer {
  readonly log: ConsumerLog;
  /** The attached connection, while one is. */
  conn: EvapiConnection | undefined = undefined;
  /** Highest id queued to the attached connection. */
  sentUpTo = 0;
  private readonly link: ConsumerLink;
  /** Events dropped by the bound since the last append that needed no drop (one warning each run). */
  private dropStreak = 0;

  constructor(log: ConsumerLog, link: ConsumerLink) {
    this.log = log;
    this.link = link;
  }

  get name(): string {
    return this.log.name;
  }

  /** Retains the event under the next id and sends it when the connection is caught up. */
  deliver(payload: string, isString: boolean): void {
    const log = this.log;
    const frame = this.link.encode(eventText(log.lastId + 1, payload, isString));
    this.makeRoom(frame.length);
    log.append(frame);
    this.link.stats.durableEvents++;
    const c = this.conn;
    if (!c) return;
    if (this.sentUpTo === log.lastId - 1 && canSend(c)) {
      this.sentUpTo = log.lastId;
      this.link.push(c, frame);
    } else this.link.behind(this);
  }

  /**
   * Attaches a connection that subscribed with `resume` (its last acknowledged id, or null) and
   * returns the reply; the caller queues it, then calls pump() to replay.
   */
  attach(c: EvapiConnection, resume: number | null): SubscribedReply {
    const log = this.log;
    let error: SubscribedReply["error"];
    let from = log.ackedId;
    if (resume !== null && resume > log.lastId) {
      error = "ERR_EVAPI_RESUME_AHEAD"; // the router's position wins; the reply's `acked` tells the client
    } else if (resume !== null) {
      this.release(resume);
      from = resume;
    }
    const available = log.count > 0 ? log.firstId : log.lastId + 1;
    const lost: LostRange | null =
      available - 1 > from ? { from: from + 1, to: available - 1, count: available - 1 - from } : null;
    this.conn = c;
    this.sentUpTo = Math.max(from, available - 1);
    if (lost) this.link.stats.eventsLost += lost.count;
    return {
      evsip: "subscribed",
      consumer: log.name,
      acked: log.ackedId,
      next: this.sentUpTo + 1,
      last: log.lastId,
      lost,
      ...(error ? { error } : {}),
    };
  }

  detach(): void {
    this.conn = undefined;
    this.sentUpTo = 0;
  }

  /** Applies a cumulative ack; returns the failure code, if any. */
  ack(id: number): "ERR_EVAPI_BAD_ACK" | "ERR_EVAPI_DUPLICATE_ACK" | undefined {
    if (id > this.sentUpTo) return "ERR_EVAPI_BAD_ACK";
    if (id <= this.log.ackedId) return "ERR_EVAPI_DUPLICATE_ACK";
    this.release(id);
    return undefined;
  }

  /** Sends retained events the connection has not had yet, until caught up or the socket is full. */
  pump(): void {
    const c = this.conn;
    const log = this.log;
    if (!c || !c.connected) return;
    while (this.sentUpTo < log.lastId && canSend(c)) {
      const next = this.sentUpTo + 1;
      const frame = log.frame(next);
      if (frame === undefined) {
        // Dropped by the bound before it could be sent: say so in the stream, then go on.
        const to = log.count > 0 ? log.firstId - 1 : log.lastId;
        this.link.push(c, this.link.encode(lostText({ from: next, to, count: to - next + 1 })));
        this.link.stats.eventsLost += to - next + 1;
        this.sentUpTo = to;
        continue;
      }
      this.sentUpTo = next;
      this.link.stats.durableReplayed++;
      this.link.push(c, frame);
    }
    if (this.sentUpTo < log.lastId) this.link.behind(this);
  }

  /** True while events wait to be sent to the attached connection. */
  get isBehind(): boolean {
    return this.conn !== undefined && this.sentUpTo < this.log.lastId;
  }

  private release(id: number): void {
    const before = this.log.count;
    this.log.ack(id);
    this.link.stats.durableAcked += before - this.log.count;
  }

  // Drop-oldest keeps the newest events and makes every loss a prefix of the window, which the
  // next handshake reports as one range.
  private makeRoom(frameBytes: number): void {
    const log = this.log;
    const { maxEvents, maxBytes, stats, logger } = this.link;
    let dropped = 0;
    while (log.count > 0 && (log.count + 1 > maxEvents || log.bytes + frameBytes > maxBytes)) {
      log.dropOldest();
      dropped++;
    }
    if (dropped === 0) {
      if (this.dropStreak > 0) {
        logger.info({ consumer: log.name, dropped: this.dropStreak }, "evapi durable retention has room again");
        this.dropStreak = 0;
      }
      return;
    }
    const code = "ERR_EVAPI_RETENTION_FULL";
    stats.retentionDropped += dropped;
    stats.errors.set(code, (stats.errors.get(code) ?? 0) + dropped);
    if (this.dropStreak === 0) {
      logger.warn(
        { code, consumer: log.name, maxEvents, maxBytes, retained: log.count, connected: this.conn !== undefined },
        "evapi durable retention full, dropping the oldest unacknowledged events",
      );
    }
    this.dropStreak += dropped;
  }
}

/** Room to queue more: little queued in evsip and the socket not asking to drain. */
function canSend(c: EvapiConnection): boolean {
  return c.connected && c.queue.bytes < PUMP_CHUNK && !c.socket.writableNeedDrain;
}
