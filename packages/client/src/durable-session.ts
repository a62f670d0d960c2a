// The client side of evsip's durable delivery (src/modules/evapi/README.md "Durable delivery"):
// the subscribe handshake sent first on every connection, the resume position (the last id
// committed: saved to the store, then acknowledged), unwrapping of `{"evsip":"event"}` frames,
// dropping duplicates by id, running the consume() handler one event at a time in id order, and
// cumulative acks coalesced over `ackDelay` ms. Knows nothing of sockets: EvapiClient drives it.
import { ClientError } from "./client-error.js";

/** Where the last handled id is kept across restarts of the consumer process. */
export interface DurableStore {
  /** The id saved last, or null when nothing was ever saved. */
  load(): Promise<number | null>;
  /** Saves the id of the last handled event (called with increasing ids, never concurrently). */
  save(id: number): Promise<void>;
}

/** The `durable` option of EvapiClient. */
export interface DurableOptions {
  /** The consumer's name (1-63 visible ASCII characters): evsip retains its events while it is away. */
  readonly consumer: string;
  /** Persists the last handled id; without it the position lives in memory (it survives reconnects only). */
  readonly store?: DurableStore;
  /** "auto" (default): ack each event once handled; "manual": the application calls `client.ack(id)`. */
  readonly ack?: "auto" | "manual";
  /**
   * Milliseconds an ack (and the store save before it) may wait so that one covers every event
   * handled meanwhile. Default 20: at 2,000 events/s that is one ack per 40 events instead of one per
   * read; a crash then replays at most that much more. 0 acks once per event-loop turn.
   */
  readonly ackDelay?: number;
}

/** Default of DurableOptions.ackDelay (ms). */
export const DEFAULT_ACK_DELAY = 20;

/** Ids evsip can no longer deliver. */
export interface LostRange {
  readonly from: number;
  readonly to: number;
  readonly count: number;
}

/** evsip's reply to the handshake (the `subscribed` event). */
export interface SubscribedInfo {
  readonly consumer: string;
  readonly acked: number;
  readonly next: number;
  readonly last: number;
  readonly lost: LostRange | null;
  /** "ERR_EVAPI_RESUME_AHEAD" when evsip did not know the resume position (its stream restarted). */
  readonly error?: string;
}

/** Handler of consume(): resolves when the event is handled (then it is acknowledged). */
export type ConsumeHandler = (event: unknown, meta: { readonly id: number }) => unknown;

/** Counters of durable mode (in EvapiClient.stats.durable). */
export interface DurableStats {
  events: number;
  duplicates: number;
  acksSent: number;
  saves: number;
  lost: number;
}

/** What the session needs from its client. */
export interface SessionHost {
  send(text: string): void;
  /** Delivers an unwrapped event to `message`/`event` listeners (value parsed or text to parse). */
  emitEvent(id: number, value: { json: unknown } | { text: string }): void;
  subscribed(info: SubscribedInfo): void;
  lost(range: LostRange): void;
  refused(code: string, detail: string): void;
  fail(e: ClientError): void;
  /** Drops the connection so that unacknowledged events are delivered again (a handler threw). */
  redeliver(e: ClientError): void;
}

const PREFIX = Buffer.from('{"evsip"');

export class DurableSession {
  readonly stats: DurableStats = { events: 0, duplicates: 0, acksSent: 0, saves: 0, lost: 0 };
  private readonly opts: DurableOptions;
  private readonly host: SessionHost;
  /** Last id saved and therefore safe to acknowledge; the resume position (null: none yet). */
  private committed: number | null = null;
  /** Highest id handed to the application (duplicates at or below it are dropped). */
  private seen = 0;
  /** Highest id handled and waiting to be committed. */
  private target = 0;
  private committing = false;
  /** A position to save before anything else (set when the router's stream restarted). */
  private resetTo: number | undefined = undefined;
  /** This connection: subscribed yet, evsip's ack point, highest id received on it. */
  private up = false;
  private ackFloor = 0;
  private connMax = 0;
  private handler: ConsumeHandler | undefined = undefined;
  private readonly queue: Array<{ id: number; value: unknown }> = [];
  private running = false;
  /** Bumped when queued work is thrown away (a handler threw), so stale completions are ignored. */
  private generation = 0;

  constructor(opts: DurableOptions, host: SessionHost) {
    this.opts = opts;
    this.host = host;
  }

  /** Reads the persisted position (once, before the first connection). */
  async load(): Promise<void> {
    if (!this.opts.store) return;
    try {
      const id = await this.opts.store.load();
      if (id !== null && (!Number.isSafeInteger(id) || id < 0)) throw new Error(`store returned ${String(id)}`);
      this.committed = id;
      this.seen = id ?? 0;
      this.target = id ?? 0;
    } catch (e) {
      throw new ClientError("ERR_CLIENT_STORE_FAILED", `durable store load failed: ${String(e)}`, { cause: e });
    }
  }

  /** A connection is up: the handshake must be its first message. */
  onConnect(): void {
    this.up = false;
    this.connMax = 0;
    this.host.send(JSON.stringify({ evsip: "subscribe", consumer: this.opts.consumer, resume: this.committed }));
  }

  onDisconnect(): void {
    this.up = false;
  }

  setHandler(h: ConsumeHandler | undefined): void {
    this.handler = h;
  }

  /** Takes a received message; false when it is not a control frame (deliver it as usual). */
  receive(payload: Buffer): boolean {
    if (payload.length < PREFIX.length || payload.compare(PREFIX, 0, PREFIX.length, 0, PREFIX.length) !== 0) return false;
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(payload.toString("utf8")) as Record<string, unknown>;
    } catch {
      return false;
    }
    switch (m.evsip) {
      case "event":
        this.onEvent(m);
        return true;
      case "subscribed":
        this.onSubscribed(m as unknown as SubscribedInfo);
        return true;
      case "lost":
        this.onLost(m as unknown as LostRange);
        return true;
      case "error":
        this.host.refused(String(m.code), String(m.detail));
        return true;
      default:
        return false;
    }
  }

  /** Marks everything ≤ id handled (manual mode, or the auto path): saved, then acknowledged. */
  ack(id: number): void {
    if (!Number.isSafeInteger(id) || id <= this.target) return;
    this.target = id;
    this.kick(this.opts.ackDelay ?? DEFAULT_ACK_DELAY);
  }

  /** Starts the commit loop after `delay` ms unless it is already pending or running. */
  private kick(delay: number): void {
    if (this.committing) return;
    this.committing = true;
    if (delay > 0) setTimeout(() => void this.commit(), delay);
    else setImmediate(() => void this.commit());
  }

  private onSubscribed(info: SubscribedInfo): void {
    this.up = true;
    this.ackFloor = info.acked;
    if (info.error !== undefined && info.acked < (this.committed ?? 0)) {
      // evsip's stream restarted below our position: its ids are new events, so start over from its ack point.
      this.committed = info.acked;
      this.seen = info.acked;
      this.target = info.acked;
      this.queue.length = 0;
      this.generation++;
      if (this.opts.store) {
        this.resetTo = info.acked;
        this.kick(0);
      }
    }
    this.host.subscribed(info);
    if (info.lost) this.onLost(info.lost);
    this.sendAck();
  }

  private onLost(range: LostRange): void {
    this.stats.lost += range.count;
    this.host.lost(range);
  }

  private onEvent(m: Record<string, unknown>): void {
    const id = m.id;
    if (typeof id !== "number") return;
    this.connMax = Math.max(this.connMax, id);
    if (id <= this.seen) {
      this.stats.duplicates++;
      this.sendAck();
      return;
    }
    this.seen = id;
    this.stats.events++;
    const value = "text" in m ? { text: String(m.text) } : { json: m.event };
    this.host.emitEvent(id, value);
    if (this.handler) {
      this.queue.push({ id, value: "json" in value ? value.json : parseOrText(value.text) });
      if (!this.running) void this.run();
    } else if (this.opts.ack !== "manual") this.ack(id);
  }

  // One event at a time, in id order: a cumulative ack is only correct for a handled prefix.
  private async run(): Promise<void> {
    this.running = true;
    const gen = this.generation;
    while (this.queue.length > 0 && gen === this.generation) {
      const { id, value } = this.queue.shift() as { id: number; value: unknown };
      try {
        await (this.handler as ConsumeHandler)(value, { id });
      } catch (e) {
        if (gen !== this.generation) break;
        this.queue.length = 0;
        this.generation++;
        this.seen = this.target; // what was not handled comes again after the reconnect
        this.host.redeliver(
          new ClientError("ERR_CLIENT_HANDLER_THREW", `consume handler failed on event ${id}: ${String(e)}`, { cause: e }),
        );
        break;
      }
      if (gen === this.generation && this.opts.ack !== "manual") this.ack(id);
    }
    this.running = false;
    if (this.queue.length > 0) void this.run();
  }

  // Saves the newest handled id (one save at a time, coalesced), then acknowledges it. A reset
  // (the router's stream restarted) is saved in turn, and a save that was in flight across the
  // reset does not move the position back up.
  private async commit(): Promise<void> {
    for (;;) {
      if (this.resetTo !== undefined) {
        const id = this.resetTo;
        this.resetTo = undefined;
        await this.save(id);
        continue;
      }
      if (this.target <= (this.committed ?? 0)) break;
      const gen = this.generation;
      const id = this.target;
      if (this.opts.store && !(await this.save(id))) break;
      if (gen !== this.generation) continue;
      this.committed = id;
      this.sendAck();
    }
    this.committing = false;
  }

  private async save(id: number): Promise<boolean> {
    try {
      await (this.opts.store as DurableStore).save(id);
      this.stats.saves++;
      return true;
    } catch (e) {
      this.host.fail(new ClientError("ERR_CLIENT_STORE_FAILED", `durable store save(${id}) failed: ${String(e)}`, { cause: e }));
      return false;
    }
  }

  /** Acknowledges the committed id on this connection when evsip has sent it here and not yet had it. */
  private sendAck(): void {
    const id = this.committed ?? 0;
    if (!this.up || id <= this.ackFloor || id > this.connMax) return;
    this.ackFloor = id;
    this.stats.acksSent++;
    this.host.send(JSON.stringify({ evsip: "ack", id }));
  }
}

function parseOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
