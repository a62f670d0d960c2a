// Durable delivery for the evapi module (src/modules/evapi/README.md "Durable delivery"): the table of durable
// consumers, the control messages clients send (subscribe first, then acks), which consumers an
// event is for, and the counters. Opt-in per connection: a connection that never subscribes is not
// seen here beyond one "has it sent anything yet" mark, and receives exactly what it did before.
import type { Logger } from "pino";
import type { ErrorCode } from "../../../errors.js";
import type { EvapiConnection } from "../connection.js";
import { bump, type EvapiStats } from "../stats.js";
import { errorText, isConsumerName, isControl, parseControl } from "./control-message.js";
import { DurableConsumer, type ConsumerLink } from "./durable-consumer.js";
import type { RetentionStore } from "./retention-store.js";
import { mayConsume } from "../auth/grants.js";

/** What the hub needs from the evapi service. */
export interface HubLink {
  readonly stats: EvapiStats;
  readonly logger: Logger;
  encode(text: string): Buffer;
  push(c: EvapiConnection, frame: Buffer): void;
  /**
   * Closes a connection for a protocol reason (logged, counted, connection-closed runs), sending
   * `farewell` (an error notice) as its last bytes.
   */
  fail(c: EvapiConnection, code: ErrorCode, detail: string, farewell?: Buffer): void;
}

/** Bounds of durable delivery (the module's durable* params). */
export interface HubLimits {
  readonly maxEvents: number;
  readonly maxBytes: number;
  readonly maxConsumers: number;
}

export class DurableHub {
  private readonly store: RetentionStore;
  private readonly link: HubLink;
  private readonly limits: HubLimits;
  private readonly consumerLink: ConsumerLink;
  private readonly consumers = new Map<string, DurableConsumer>();
  private readonly byConn = new Map<EvapiConnection, DurableConsumer>();
  /** Connections that have sent an application message: a subscribe from them is not first. */
  private readonly talked = new WeakSet<EvapiConnection>();
  /** Consumers with retained events still to send to their connection. */
  private readonly behindSet = new Set<DurableConsumer>();
  /** Per connection, the codes already logged at warn (later ones are counted, logged at debug). */
  private readonly warned = new WeakMap<EvapiConnection, Set<ErrorCode>>();

  constructor(store: RetentionStore, link: HubLink, limits: HubLimits, declared: readonly string[]) {
    this.store = store;
    this.link = link;
    this.limits = limits;
    this.consumerLink = {
      stats: link.stats,
      logger: link.logger,
      maxEvents: limits.maxEvents,
      maxBytes: limits.maxBytes,
      encode: (t) => link.encode(t),
      push: (c, f) => link.push(c, f),
      behind: (d) => this.behindSet.add(d),
    };
    for (const log of store.logs()) this.consumers.set(log.name, new DurableConsumer(log, this.consumerLink));
    for (const name of declared) this.consumer(name);
  }

  /** True when no durable consumer exists: the send path is then exactly the plain one. */
  get empty(): boolean {
    return this.consumers.size === 0;
  }

  /** True when `c` is attached to a durable consumer (it gets wrapped events, not plain ones). */
  isDurable(c: EvapiConnection): boolean {
    return this.byConn.has(c);
  }

  /** The consumer attached to a connection. */
  consumerOf(c: EvapiConnection): DurableConsumer | undefined {
    return this.byConn.get(c);
  }

  /**
   * Offered every received message first; true when it was a control message (consumed). Anything
   * else marks the connection as having talked, so a later subscribe is refused as not first.
   */
  onMessage(c: EvapiConnection, msg: string): boolean {
    if (!isControl(msg)) {
      if (!this.byConn.has(c)) this.talked.add(c);
      return false;
    }
    const d = this.byConn.get(c);
    const m = parseControl(msg, d !== undefined);
    if (m.type === "invalid") this.refuse(c, m.code, m.detail, m.code !== "ERR_EVAPI_BAD_ACK");
    else if (m.type === "subscribe") this.subscribe(c, m.consumer, m.resume);
    else if (!d) this.refuse(c, "ERR_EVAPI_NOT_SUBSCRIBED", "ack on a connection that did not subscribe", false);
    else {
      const code = d.ack(m.id);
      if (code === "ERR_EVAPI_DUPLICATE_ACK") this.count(c, code, `ack ${m.id} ≤ acked ${d.log.ackedId}`);
      else if (code) this.refuse(c, code, `ack ${m.id} for an id not sent yet (sent up to ${d.sentUpTo})`, false);
    }
    return true;
  }

  /**
   * Delivers an event to durable consumers: every consumer (tag undefined) or the one named `tag`;
   * away consumers too unless `connectedOnly`. Returns how many consumers took it.
   */
  deliver(payload: string, isString: boolean, tag: string | undefined, connectedOnly: boolean): number {
    if (tag !== undefined) {
      const d = this.consumers.get(tag);
      if (!d || (connectedOnly && !d.conn)) return 0;
      d.deliver(payload, isString);
      return 1;
    }
    let n = 0;
    for (const d of this.consumers.values()) {
      if (connectedOnly && !d.conn) continue;
      d.deliver(payload, isString);
      n++;
    }
    return n;
  }

  /** An away consumer named `tag` (for a unicast that found no connected client). */
  awayConsumer(tag: string): DurableConsumer | undefined {
    const d = this.consumers.get(tag);
    return d && !d.conn ? d : undefined;
  }

  /** The connection closed: its consumer is away again (its events stay retained). */
  closed(c: EvapiConnection): void {
    const d = this.byConn.get(c);
    if (!d) return;
    this.byConn.delete(c);
    this.behindSet.delete(d);
    if (d.conn === c) d.detach();
    this.link.logger.info({ consumer: d.name, conidx: c.conidx, retained: d.log.count }, "evapi durable consumer away");
  }

  /** After each flush: sends more to consumers that were behind and whose socket has room. */
  pumpBehind(): void {
    if (this.behindSet.size === 0) return;
    const list = [...this.behindSet];
    this.behindSet.clear();
    for (const d of list) d.pump();
  }

  /** Gauges for stats(): consumers attached, and retained events and bytes per consumer. */
  gauges(): { connected: number; pending: Map<string, number>; bytes: Map<string, number> } {
    const pending = new Map<string, number>();
    const bytes = new Map<string, number>();
    for (const d of this.consumers.values()) {
      pending.set(d.name, d.log.count);
      bytes.set(d.name, d.log.bytes);
    }
    return { connected: this.byConn.size, pending, bytes };
  }

  private subscribe(c: EvapiConnection, declared: string | undefined, resume: number | null): void {
    if (this.talked.has(c)) {
      this.refuse(c, "ERR_EVAPI_HANDSHAKE_NOT_FIRST", "subscribe must be the connection's first message", true);
      return;
    }
    const name = declared ?? c.tag;
    if (!isConsumerName(name)) {
      this.refuse(c, "ERR_EVAPI_BAD_HANDSHAKE", "no consumer name declared and the connection has no usable tag", true);
      return;
    }
    if (!mayConsume(c.grants, name)) {
      this.refuse(c, "ERR_EVAPI_NOT_ALLOWED", `this connection's token may not subscribe as ${name}`, true);
      return;
    }
    // A durable consumer gets every event meant for its name, retained while it is away, so a token
    // held to some event patterns cannot be one: its patterns could not be kept.
    if (c.grants?.events !== undefined) {
      this.refuse(c, "ERR_EVAPI_NOT_ALLOWED", "a token bound to event patterns cannot be a durable consumer", true);
      return;
    }
    if (!this.consumers.has(name) && this.consumers.size >= this.limits.maxConsumers) {
      this.refuse(c, "ERR_EVAPI_TOO_MANY_CONSUMERS", `durableMaxConsumers (${this.limits.maxConsumers}) reached`, true);
      return;
    }
    const d = this.consumer(name);
    const old = d.conn;
    if (old) {
      const detail = `consumer ${name} subscribed again from ${c.srcaddr}:${c.srcport}`;
      this.link.fail(
        old,
        "ERR_EVAPI_CONSUMER_REPLACED",
        detail,
        this.link.encode(errorText("ERR_EVAPI_CONSUMER_REPLACED", detail)),
      );
    }
    if (d.conn) d.detach(); // fail() detaches through closed(); this covers a connection already closing
    c.tag = name;
    this.byConn.set(c, d);
    const reply = d.attach(c, resume);
    this.link.stats.subscribes++;
    if (reply.error) this.count(c, reply.error, `resume ${String(resume)} is past the last id ${reply.last}`);
    this.link.logger.info(
      { consumer: name, conidx: c.conidx, resume, acked: reply.acked, next: reply.next, last: reply.last, lost: reply.lost },
      "evapi durable consumer subscribed",
    );
    if (reply.lost) {
      this.link.logger.warn(
        { code: "ERR_EVAPI_RETENTION_FULL", consumer: name, lost: reply.lost },
        "evapi durable consumer resumed past retention: events lost",
      );
    }
    this.link.push(c, this.link.encode(JSON.stringify(reply)));
    c.socket.on("drain", () => {
      if (d.conn === c) d.pump();
    });
    d.pump();
  }

  private consumer(name: string): DurableConsumer {
    let d = this.consumers.get(name);
    if (!d) {
      d = new DurableConsumer(this.store.open(name), this.consumerLink);
      this.consumers.set(name, d);
    }
    return d;
  }

  /** Counts and reports a refused control message; `close` ends the connection after the reply. */
  private refuse(c: EvapiConnection, code: ErrorCode, detail: string, close: boolean): void {
    const notice = this.link.encode(errorText(code, detail));
    if (close) this.link.fail(c, code, detail, notice);
    else {
      this.link.push(c, notice);
      this.count(c, code, detail);
    }
  }

  private count(c: EvapiConnection, code: ErrorCode, detail: string): void {
    bump(this.link.stats.errors, code);
    let seen = this.warned.get(c);
    if (!seen) this.warned.set(c, (seen = new Set()));
    const first = !seen.has(code);
    seen.add(code);
    const fields = { code, conidx: c.conidx, peer: `${c.srcaddr}:${c.srcport}`, detail };
    if (first && code !== "ERR_EVAPI_DUPLICATE_ACK") this.link.logger.warn(fields, "evapi durable control message refused");
    else this.link.logger.debug(fields, "evapi durable control message refused");
  }
}
