// One running evapi module: the event socket (EvapiService), the request() correlation table, the
// bridge from socket events to the engine's event routes (or eventCallback), and the shared send
// path that frames an event once for all its recipients (SharedFrame).
import type { AddressInfo } from "node:net";
import { EvapiError } from "../../errors.js";
import type { RouteContext } from "../../core/context.js";
import type { RouteFn } from "../../core/engine.js";
import type { ModuleHost, ModuleInstance } from "../../core/module.js";
import type { TransactionApi } from "../../core/transaction-user.js";
import { SharedFrame } from "evsip-client/netstring";
import type { EvapiApi, EvapiData } from "./api-types.js";
import { EvapiContextApi } from "./context-api.js";
import { EVAPI_EVENTS, type EvapiEvent, type EvapiEventName } from "./event-data.js";
import { EvapiService } from "./evapi-service.js";
import type { EvapiParams } from "./params.js";
import { PendingRequests } from "./pending-requests.js";
import { evapiPvClass } from "./pv.js";

export class EvapiModule implements ModuleInstance<EvapiApi> {
  readonly params: EvapiParams;
  readonly service: EvapiService;
  readonly pending = new PendingRequests();
  /** The engine's transactions, for the async functions and request(). */
  readonly tm: TransactionApi;
  private readonly host: ModuleHost;
  private readonly fallbacks = new Map<EvapiEventName, RouteFn>();

  constructor(host: ModuleHost, params: EvapiParams) {
    this.host = host;
    this.tm = host.tm;
    this.params = params;
    const cb = params.eventCallback;
    if (cb) for (const name of EVAPI_EVENTS) this.fallbacks.set(name, (ctx: RouteContext) => cb(name, ctx));
    this.service = new EvapiService(params, host.logger, {
      runEvent: (name, event) => this.runEvent(name, event),
      intercept: (msg) => this.pending.intercept(msg),
    });
    host.registerPv("evapi", evapiPvClass);
  }

  async init(): Promise<void> {
    await this.service.start();
  }

  api(ctx: RouteContext): EvapiApi {
    return new EvapiContextApi(this, ctx);
  }

  async stop(): Promise<void> {
    await this.service.stop();
  }

  /** The bound evapi address (its real port when bindAddr asked for port 0). */
  address(): AddressInfo {
    return this.service.address();
  }

  stats(): Record<string, number | ReadonlyMap<string, number>> {
    const s = this.service.stats;
    const clients = this.service.clients();
    const byTag = new Map<string, number>();
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
      suspended: s.suspended,
      requestsSent: s.requestsSent,
      requestsAnswered: s.requestsAnswered,
      requestsFailed: s.requestsFailed,
      requestsPending: this.pending.size,
      drops: s.drops,
      closes: s.closes,
      errors: s.errors,
    };
  }

  /**
   * Frames `data` once and queues it to every recipient (all clients, the tagged ones, or one).
   * Throws EvapiError for empty data or a frame that could never fit a client's queue.
   */
  send(data: EvapiData, tag: string | undefined, unicast: boolean): number {
    if (data === "" || data === null || data === undefined) {
      throw new EvapiError("ERR_EVAPI_EMPTY_DATA", "evapi: empty event data");
    }
    const shared = new SharedFrame(data);
    if (shared.text === "" || shared.text === undefined) throw new EvapiError("ERR_EVAPI_EMPTY_DATA", "evapi: empty event data");
    const bytes = this.params.netstringFormat ? shared.frame : shared.raw;
    if (bytes.length > this.params.maxQueueBytes) {
      throw new EvapiError("ERR_EVAPI_MESSAGE_TOO_LARGE", `evapi event of ${bytes.length} bytes exceeds maxQueueBytes`);
    }
    const recipients = this.service.table.select([], tag, unicast ? this.params.unicast : undefined);
    if (recipients.length === 0) {
      this.service.stats.eventsNoClient++;
      return 0;
    }
    this.service.stats.eventsSent++;
    return this.service.sendFrame(bytes, recipients);
  }

  private runEvent(name: EvapiEventName, event: EvapiEvent): unknown {
    return this.host.engine.runEvent(name, event, undefined, undefined, this.fallbacks.get(name));
  }
}
