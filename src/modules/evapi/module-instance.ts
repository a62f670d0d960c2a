// One running evapi module: the event socket (EvapiService), the request() correlation table, the
// durable consumers (DurableHub), the bridge from socket events to the engine's event routes (or
// eventCallback), and the shared send path that frames an event once for all its plain recipients
// (SharedFrame) and retains it, under each consumer's next id, for the durable ones.
import type { AddressInfo } from "node:net";
import { EvapiError } from "../../errors.js";
import type { RouteContext } from "../../core/context.js";
import type { RouteFn } from "../../core/engine.js";
import type { ModuleHost, ModuleInstance } from "../../core/module.js";
import type { TransactionApi, TransactionId } from "../../core/transaction-user.js";
import { encodeNetstring, SharedFrame } from "evsip-client/netstring";
import type { EvapiApi, EvapiData } from "./api-types.js";
import { EvapiContextApi } from "./context-api.js";
import { EVAPI_EVENTS, type EvapiEvent, type EvapiEventName } from "./event-data.js";
import { EvapiService, type EvapiHooks } from "./evapi-service.js";
import type { EvapiConnection } from "./connection.js";
import { DurableHub } from "./durable/durable-hub.js";
import { MemoryRetentionStore } from "./durable/memory-retention.js";
import { DiskRetentionStore } from "./durable/disk-retention.js";
import type { RetentionStore } from "./durable/retention-store.js";
import { RateLimitedLog } from "../../common/rate-limited-log.js";
import type { EvapiParams } from "./params.js";
import { PendingRequests } from "./pending-requests.js";
import { HeldEvents } from "./held-events.js";
import { evapiPvClass } from "./pv.js";
import { EventSubscriptions } from "./subscriptions/event-subscriptions.js";
import { eventNameOf } from "./subscriptions/event-patterns.js";
import { ALL_GRANTS } from "./subscriptions/grants.js";

/**
 * What the service tells the module, as methods: the same functions in every server, where an
 * object of closures per module missed its call targets at the first real event after the start's
 * warm-up server had trained the code, and deoptimised it (docs/load.md, "One context class").
 */
class ModuleHooks implements EvapiHooks {
  private readonly mod: EvapiModule;

  constructor(mod: EvapiModule) {
    this.mod = mod;
  }

  runEvent(name: EvapiEventName, event: EvapiEvent): unknown {
    return this.mod.runEvent(name, event);
  }

  intercept(msg: string): boolean {
    return this.mod.pending.intercept(msg);
  }

  control(c: EvapiConnection, msg: string): boolean {
    const held = this.mod.held;
    const durable = this.mod.durable;
    const couldAnswer = !c.listenOnly && !durable.isDurable(c);
    const subscribed = this.mod.subscriptions.onMessage(c, msg);
    if (!subscribed && !durable.onMessage(c, msg)) return false;
    // Listen-only or durable now: what it was sent while it could answer goes to one that can, once
    // the answers it sent before this message have been handled.
    if (couldAnswer && (c.listenOnly || durable.isDurable(c))) {
      held.finishing(c);
      this.mod.service.afterQueued(c, () => held.cannotAnswer(c));
    }
    // Its subscriptions changed: a waiting event may be for it now (not after a durable ack).
    if (subscribed) held.offer();
    return true;
  }

  admitted(c: EvapiConnection): void {
    this.mod.subscriptions.applyGrants(c);
  }

  closed(c: EvapiConnection): void {
    const couldAnswer = !c.listenOnly && !this.mod.durable.isDurable(c);
    this.mod.durable.closed(c);
    if (couldAnswer) this.mod.held.finishing(c);
  }

  ready(): void {
    this.mod.held.offer(); // connection-new has run: tagged or not, it may take a waiting event
  }

  gone(c: EvapiConnection): void {
    this.mod.held.cannotAnswer(c);
  }

  flushed(): void {
    this.mod.durable.pumpBehind();
  }
}

export class EvapiModule implements ModuleInstance<EvapiApi> {
  readonly params: EvapiParams;
  readonly service: EvapiService;
  readonly pending = new PendingRequests();
  readonly durable: DurableHub;
  /** The events held calls wait on, sent again when their clients are lost (heldOnClientLoss). */
  readonly held: HeldEvents;
  /**
   * Event subscriptions. `subscriptions.grantsOf` is the hook that holds a connection to the
   * patterns (and decision rights) its credentials grant (subscriptions/grants.ts).
   */
  readonly subscriptions: EventSubscriptions;
  /** Where durable consumers' events are retained: on disk with durableDir, else in memory. */
  readonly store: RetentionStore;
  /** The engine's transactions, for the async functions and request(). */
  readonly tm: TransactionApi;
  /** Frames a text per netstringFormat (netstring or raw). */
  readonly encode: (text: string) => Buffer;
  /** Rate-limited warnings for refusals peers can repeat (decisions). */
  readonly log: RateLimitedLog;
  private readonly host: ModuleHost;
  private readonly fallbacks = new Map<EvapiEventName, RouteFn>();

  constructor(host: ModuleHost, params: EvapiParams) {
    this.host = host;
    this.tm = host.tm;
    this.params = params;
    const cb = params.eventCallback;
    if (cb) for (const name of EVAPI_EVENTS) this.fallbacks.set(name, (ctx: RouteContext) => cb(name, ctx));
    this.service = new EvapiService(params, host.logger, new ModuleHooks(this));
    const service = this.service;
    const encode = params.netstringFormat ? (t: string) => encodeNetstring(t) : (t: string) => Buffer.from(t, "utf8");
    this.encode = encode;
    this.log = new RateLimitedLog(host.logger);
    this.store = params.durableDir
      ? new DiskRetentionStore(
          { dir: params.durableDir, netstring: params.netstringFormat, syncInterval: params.durableSyncInterval },
          { stats: service.stats, logger: host.logger, log: new RateLimitedLog(host.logger) },
        )
      : new MemoryRetentionStore();
    this.durable = new DurableHub(
      this.store,
      {
        stats: service.stats,
        logger: host.logger,
        encode,
        push: (c, f) => service.push(c, f),
        fail: (c, code, detail, farewell) => service.fail(c, code, detail, farewell),
      },
      { maxEvents: params.durableMaxEvents, maxBytes: params.durableMaxBytes, maxConsumers: params.durableMaxConsumers },
      params.durableConsumers,
    );
    this.subscriptions = new EventSubscriptions(
      {
        stats: service.stats,
        logger: host.logger,
        log: this.log,
        encode,
        push: (c, f) => service.push(c, f),
        setFilter: (c, f) => service.table.setFilter(c, f),
      },
      // A token's bindings (auth/grants.ts) hold its connections to the patterns it names and
      // decide what they may answer; a connection without a token may do everything.
      (c) => (c.grants === undefined ? ALL_GRANTS : { patterns: c.grants.events, mayDecide: c.grants.decide }),
    );
    const durable = this.durable;
    this.held = new HeldEvents(service, params, host.logger, (c) => durable.isDurable(c));
    host.registerPv("evapi", evapiPvClass);
  }

  async init(): Promise<void> {
    await this.service.start();
  }

  api(ctx: RouteContext): EvapiApi {
    return new EvapiContextApi(this, ctx);
  }

  async stop(): Promise<void> {
    this.held.stop();
    await this.service.stop();
    await this.store.close();
  }

  /** The bound evapi address (its real port when bindAddr asked for port 0). */
  address(): AddressInfo {
    return this.service.address();
  }

  stats(): Record<string, number | ReadonlyMap<string, number>> {
    const s = this.service.stats;
    const clients = this.service.clients();
    const byTag = new Map<string, number>();
    const d = this.durable.gauges();
    for (const c of clients) byTag.set(c.tag, (byTag.get(c.tag) ?? 0) + 1);
    return {
      clientsConnected: clients.length,
      /** Connected clients per tag ("" = untagged): the metric evsip_evapi_connected{tag}. */
      connectedByTag: byTag,
      connectionsAccepted: s.connectionsAccepted,
      connectionsRejected: s.connectionsRejected,
      eventsSent: s.eventsSent,
      eventsQueued: s.eventsQueued,
      eventsNoClient: s.eventsNoClient,
      bytesSent: s.bytesSent,
      bytesReceived: s.bytesReceived,
      messagesReceived: s.messagesReceived,
      emptyMessages: s.emptyMessages,
      discardedMessages: s.discardedMessages,
      truncatedOnClose: s.truncatedOnClose,
      cutOnClose: s.cutOnClose,
      cutBytes: s.cutBytes,
      suspended: s.suspended,
      requestsSent: s.requestsSent,
      requestsAnswered: s.requestsAnswered,
      requestsFailed: s.requestsFailed,
      requestsPending: this.pending.size,
      /** Held calls whose event is kept for a lost client (evsip_evapi_held_live). */
      heldLive: this.held.size,
      /** Held calls' events lost with every client they went to (evsip_evapi_held_lost_total). */
      heldLost: this.held.lost,
      /** Lost or parked events taken by a client (evsip_evapi_held_redelivered_total). */
      heldRedelivered: this.held.redelivered,
      /** Lost or parked, and waiting for a client to take them (evsip_evapi_held_lost_pending). */
      heldLostPending: this.held.waiting,
      /** Held calls' events that found no client and were parked (evsip_evapi_held_parked_total). */
      heldParked: this.held.parked,
      subscribes: s.subscribes,
      eventSubscriptions: s.eventSubscriptions,
      decisionsApplied: s.decisionsApplied,
      durableEvents: s.durableEvents,
      durableReplayed: s.durableReplayed,
      durableAcked: s.durableAcked,
      retentionDropped: s.retentionDropped,
      eventsLost: s.eventsLost,
      /** Durable consumers with a connection: evsip_evapi_consumers_connected. */
      consumersConnected: d.connected,
      /** Unacknowledged events retained per durable consumer: evsip_evapi_pending{consumer}. */
      pendingByConsumer: d.pending,
      /** Their bytes: evsip_evapi_bytes_pending{consumer}. */
      bytesPendingByConsumer: d.bytes,
      storeWriteFailures: s.storeWriteFailures,
      eventsNotStored: s.eventsNotStored,
      eventsRecovered: s.eventsRecovered,
      /** Durable consumers whose journal cannot be written now: evsip_evapi_store_unwritable_current. */
      storeUnwritableCurrent: this.store instanceof DiskRetentionStore ? this.store.failing : 0,
      authenticated: s.authenticated,
      /** Connections waiting to authenticate: evsip_evapi_unauthenticated_pending. */
      unauthenticatedPending: this.service.unauthenticated,
      /** Named for their label: their keys mix words and codes (evsip_evapi_drops_total{reason}). */
      dropsByReason: s.drops,
      closesByReason: s.closes,
      errors: s.errors,
    };
  }

  /**
   * The name `data` is selected by when some client subscribed to events (else undefined: no client
   * filters, so naming would be wasted work).
   */
  eventName(data: unknown, explicit: string | undefined): string | undefined {
    return this.service.table.filtered > 0 ? eventNameOf(data, explicit) : undefined;
  }

  /**
   * Frames `data` once and queues it to every recipient (all clients, the tagged ones, or one;
   * subscribed clients only when `name` is one they selected).
   * Throws EvapiError for empty data or a frame that could never fit a client's queue.
   */
  send(data: EvapiData, tag: string | undefined, unicast: boolean, connectedOnly = false, name?: string): number {
    return this.sendShared(sharedFrameOf(data), typeof data === "string", tag, unicast, connectedOnly, name, undefined);
  }

  /**
   * send() of the event a suspended call waits on, to the clients connected now: kept until the
   * suspension ends, so that it can go again if they are all lost (HeldEvents).
   */
  sendHeld(
    id: TransactionId,
    data: EvapiData,
    tag: string | undefined,
    unicast: boolean,
    name: string | undefined,
    explicitName: string | undefined,
  ): number {
    const shared = sharedFrameOf(data);
    const took: EvapiConnection[] | undefined = this.held.enabled ? [] : undefined;
    const n = this.sendShared(shared, typeof data === "string", tag, unicast, true, name, took);
    if (took === undefined) return n;
    // Named even while no client filters (send() skips that work then): a client that subscribes
    // or is bound to patterns later must be able to take it if it is sent again.
    const heldName = name ?? eventNameOf(data, explicitName);
    // Kept only when plain clients alone took it: a durable consumer's stream sends it again itself.
    if (n > 0) {
      if (n === took.length) this.held.track(id, this.plainBytes(shared), took, tag, unicast, heldName);
      return n;
    }
    // A client was there but did not take it (its queue full): the route answers, as without the param.
    if (!this.holdsWithoutClient || this.service.table.answerers(tag, unicast, heldName) > 0) return 0;
    // No client at all (holdWithoutClient): it waits for the next one, and counts as one recipient.
    this.held.park(id, this.plainBytes(shared), tag, unicast, heldName);
    return 1;
  }

  /** True when a held call may be suspended with no client to send its event to (holdWithoutClient). */
  get holdsWithoutClient(): boolean {
    return this.params.holdWithoutClient && this.held.enabled;
  }

  /** Queues an encoded event to its recipients; those that took it are added to `took` when given. */
  private sendShared(
    shared: SharedFrame,
    isString: boolean,
    tag: string | undefined,
    unicast: boolean,
    connectedOnly: boolean,
    name: string | undefined,
    took: EvapiConnection[] | undefined,
  ): number {
    const recipients = this.service.table.select([], tag, unicast ? this.params.unicast : undefined, name);
    const n = this.durable.empty
      ? this.service.sendFrame(this.plainBytes(shared), recipients, took)
      : this.sendMixed(shared, isString, recipients, tag, unicast, connectedOnly, took);
    if (n === 0) this.service.stats.eventsNoClient++;
    else this.service.stats.eventsSent++;
    return n;
  }

  /** The frame for plain clients; throws when it could never fit a client's queue. */
  private plainBytes(shared: SharedFrame): Buffer {
    const bytes = this.params.netstringFormat ? shared.frame : shared.raw;
    if (bytes.length > this.params.maxQueueBytes) {
      throw new EvapiError("ERR_EVAPI_MESSAGE_TOO_LARGE", `evapi event of ${bytes.length} bytes exceeds maxQueueBytes`);
    }
    return bytes;
  }

  /**
   * send() when durable consumers exist: plain clients get the shared frame, consumers the event
   * under their next id (an away consumer only when `connectedOnly` is false: an event that waits
   * for an answer is for those who can answer now). A unicast picks among connected clients first.
   */
  private sendMixed(
    shared: SharedFrame,
    isString: boolean,
    recipients: EvapiConnection[],
    tag: string | undefined,
    unicast: boolean,
    connectedOnly: boolean,
    took: EvapiConnection[] | undefined,
  ): number {
    const hub = this.durable;
    const stats = this.service.stats;
    // The same bound as plain clients, checked without encoding (a consumer's frame is built with its id).
    const size = Buffer.byteLength(shared.text, "utf8");
    if (size > this.params.maxQueueBytes) {
      throw new EvapiError("ERR_EVAPI_MESSAGE_TOO_LARGE", `evapi event of ${size} bytes exceeds maxQueueBytes`);
    }
    if (unicast) {
      const pick = recipients[0];
      const consumer = pick ? hub.consumerOf(pick) : tag !== undefined && !connectedOnly ? hub.awayConsumer(tag) : undefined;
      if (!consumer) return pick ? this.service.sendFrame(this.plainBytes(shared), recipients, took) : 0;
      consumer.deliver(shared.text, isString);
      stats.eventsQueued++;
      return 1;
    }
    let plain = 0;
    for (const c of recipients) if (!hub.isDurable(c)) plain++;
    const n = hub.deliver(shared.text, isString, tag, connectedOnly);
    stats.eventsQueued += n;
    if (plain === 0) return n;
    return (
      n +
      this.service.sendFrame(
        this.plainBytes(shared),
        plain === recipients.length ? recipients : recipients.filter((c) => !hub.isDurable(c)),
        took,
      )
    );
  }

  /** @internal for ModuleHooks */
  runEvent(name: EvapiEventName, event: EvapiEvent): unknown {
    return this.host.engine.runEvent(name, event, undefined, undefined, this.fallbacks.get(name));
  }
}

/** The event's shared encoding; throws EvapiError for empty data. */
function sharedFrameOf(data: EvapiData): SharedFrame {
  if (data === "" || data === null || data === undefined) throw new EvapiError("ERR_EVAPI_EMPTY_DATA", "evapi: empty event data");
  const shared = new SharedFrame(data);
  if (shared.text === "" || shared.text === undefined) throw new EvapiError("ERR_EVAPI_EMPTY_DATA", "evapi: empty event data");
  return shared;
}
