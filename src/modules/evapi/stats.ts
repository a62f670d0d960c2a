// evapi counters, plain fields and Maps on the service instance; stats() of the module flattens
// them for the metrics exporter (evsip_evapi_<what>_total{reason}). Kamailio's evapi has none.
import type { ErrorCode } from "../../errors.js";

/** Every evapi counter. Maps are labelled by reason or error code. */
export interface EvapiStats {
  connectionsAccepted: number;
  /** Connections past maxClients, accepted and closed at once. */
  connectionsRejected: number;
  /** Event × recipient pairs queued. */
  eventsQueued: number;
  /** Calls of relay/multicast/unicast (and async, request) that found ≥ 1 recipient. */
  eventsSent: number;
  /** Calls that found no recipient. */
  eventsNoClient: number;
  bytesSent: number;
  bytesReceived: number;
  messagesReceived: number;
  /** Empty frames (`0:,`) or empty lines, ignored. */
  emptyMessages: number;
  /** Messages still queued when the script closed their connection, or the module stopped. */
  discardedMessages: number;
  /** Connections the peer closed in the middle of a message. */
  truncatedOnClose: number;
  /**
   * Clients closed by evsip whose socket was destroyed with bytes they never read (the linger ran
   * out, or they reset the connection meanwhile): how many events those bytes held is not known,
   * as the kernel's share is out of Node's sight.
   */
  cutOnClose: number;
  /** The bytes Node still held for those clients when their sockets were destroyed. */
  cutBytes: number;
  /** Transactions suspended by async relays. */
  suspended: number;
  /** request(): sent, answered, failed. */
  requestsSent: number;
  requestsAnswered: number;
  requestsFailed: number;
  /** Durable delivery: handshakes accepted. */
  subscribes: number;
  /** Durable delivery: event × consumer pairs retained under an id. */
  durableEvents: number;
  /** Durable delivery: retained events sent after the fact (resume, or once the socket drained). */
  durableReplayed: number;
  /** Durable delivery: retained events released by acks. */
  durableAcked: number;
  /** Durable delivery: unacknowledged events dropped by the retention bound (ERR_EVAPI_RETENTION_FULL). */
  retentionDropped: number;
  /** Durable delivery: ids reported to consumers as lost (handshake `lost`, mid-stream `lost`). */
  eventsLost: number;
  /** Durable store (durableDir): journal operations that failed (ERR_EVAPI_STORE_UNWRITABLE). */
  storeWriteFailures: number;
  /** Durable store: events retained in memory only because the journal could not be written. */
  eventsNotStored: number;
  /** Durable store: unacknowledged events recovered from the journal at start-up. */
  eventsRecovered: number;
  /** Event subscriptions accepted (`{"evsip":"events"}`). */
  eventSubscriptions: number;
  /** Decisions applied to a suspended transaction (ctx.evapi.decide / applyDecision). */
  decisionsApplied: number;
  /** Connections that presented a valid token (README.md "Authentication"). */
  authenticated: number;
  /**
   * Events not delivered to a client, by reason: "slow-client", "producer-burst", and "closed" (the
   * events still in evsip's queue for a client when it was closed).
   */
  readonly drops: Map<string, number>;
  /** Closes by reason: "peer", "script", "stop" or an error code. */
  readonly closes: Map<string, number>;
  /** Protocol errors, refused connections and slow-client closes, by code. */
  readonly errors: Map<ErrorCode, number>;
}

export function newEvapiStats(): EvapiStats {
  return {
    connectionsAccepted: 0,
    connectionsRejected: 0,
    eventsQueued: 0,
    eventsSent: 0,
    eventsNoClient: 0,
    bytesSent: 0,
    bytesReceived: 0,
    messagesReceived: 0,
    emptyMessages: 0,
    discardedMessages: 0,
    truncatedOnClose: 0,
    cutOnClose: 0,
    cutBytes: 0,
    suspended: 0,
    requestsSent: 0,
    requestsAnswered: 0,
    requestsFailed: 0,
    subscribes: 0,
    durableEvents: 0,
    durableReplayed: 0,
    durableAcked: 0,
    retentionDropped: 0,
    eventsLost: 0,
    storeWriteFailures: 0,
    eventsNotStored: 0,
    eventsRecovered: 0,
    eventSubscriptions: 0,
    decisionsApplied: 0,
    authenticated: 0,
    drops: new Map(),
    closes: new Map(),
    errors: new Map(),
  };
}

/** Adds `n` (one by default) to a labelled counter. */
export function bump<K>(m: Map<K, number>, key: K, n = 1): void {
  m.set(key, (m.get(key) ?? 0) + n);
}
