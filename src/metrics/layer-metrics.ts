// The table of every counter and gauge the layers keep, as evsip_<layer>_<what>[_total]: one row
// per metric with a reader of the live stats object (no second bookkeeping). Maps of ErrorCode →
// count become one series per code under the label `reason` (docs/errors.md names the metrics).
import type { MetricsSource, StatValue } from "./source.js";

/** One exported metric: a counter (name ends in _total) or a gauge, read at scrape time. */
export interface MetricSpec {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge";
  /** The label of a Map-valued reader (`reason`, `proto`, `route`). */
  readonly label?: string;
  readonly read: (s: MetricsSource) => StatValue;
}

/** Sums maps by key: a SIP error counted by the parser or by validation is one sip error. */
function sumMaps(...maps: ReadonlyMap<string, number>[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of maps) for (const [k, v] of m) out.set(k, (out.get(k) ?? 0) + v);
  return out;
}

function single(key: string, value: number): Map<string, number> {
  return value === 0 ? new Map() : new Map([[key, value]]);
}

const c = (name: string, help: string, read: MetricSpec["read"], label?: string): MetricSpec =>
  label === undefined ? { name, help, type: "counter", read } : { name, help, type: "counter", read, label };
const g = (name: string, help: string, read: MetricSpec["read"]): MetricSpec => ({ name, help, type: "gauge", read });

/** Every metric of the sip, transport, core, sl, forward, maxfwd and tm layers. */
export const LAYER_METRICS: readonly MetricSpec[] = [
  // sip: peer input rejected by the transport's parser/framer or by request validation
  c(
    "evsip_sip_errors_total",
    "SIP messages rejected (parse, framing or validation), by error code",
    (s) => sumMaps(s.transport.stats.parseErrors, s.engine.stats.invalid),
    "reason",
  ),
  // transport
  c(
    "evsip_transport_received_total",
    "SIP messages received, by transport",
    (s) =>
      new Map([
        ["udp", s.transport.stats.udpRx],
        ["tcp", s.transport.stats.tcpRx],
      ]),
    "proto",
  ),
  c("evsip_transport_received_bytes_total", "Bytes received on every socket", (s) => s.transport.stats.rxBytes),
  c("evsip_transport_sent_total", "Messages handed to a socket", (s) => s.transport.stats.tx),
  c("evsip_transport_sent_bytes_total", "Bytes handed to a socket", (s) => s.transport.stats.txBytes),
  c(
    "evsip_transport_send_failures_total",
    "Sends that failed (no route, queue full, connect or socket error)",
    (s) => s.transport.stats.sendFailures,
  ),
  c("evsip_transport_send_errors_total", "Sends that failed, by error code", (s) => s.transport.stats.sendErrors, "reason"),
  c("evsip_transport_keepalives_total", "CRLF keep-alives received", (s) => s.transport.stats.keepAlives),
  g(
    "evsip_transport_udp_recv_buffer_bytes",
    "The smallest receive buffer the kernel gave a UDP listener (SO_RCVBUF read back; Linux doubles what it grants, and caps it at net.core.rmem_max)",
    (s) => s.transport.stats.udpRecvBufferBytes,
  ),
  g("evsip_transport_tcp_connections", "TCP connections open now (inbound + outbound)", (s) => s.transport.stats.tcpConnections),
  g(
    "evsip_transport_tcp_inbox_bytes",
    "bytes of SIP messages read from TCP connections and waiting to be handled",
    (s) => s.transport.stats.tcpInboxBytes,
  ),
  // How near SIP input is to shedding (docs/load.md, "Overload"): 0 and 0 while it keeps up.
  g(
    "evsip_transport_input_behind_seconds",
    "How long SIP input (the worst UDP listener, or TCP) has been falling behind, every loop turn reading a full batch, or the oldest new request set aside behind the calls in progress has waited; 0 while it keeps up and nothing waits",
    (s) => s.transport.inputBacklog().behindMs / 1000,
  ),
  g(
    "evsip_transport_input_queue_seconds",
    "While SIP input falls behind, or new work waits in evsip: how long its queue takes to read (a UDP listener's kernel queue, or how long TCP messages waited in evsip), plus how long the new work waiting in evsip has waited; past admission.shedQueue (the wider shedQueueAtStart in the startGrace after a start) new calls are refused",
    (s) => s.transport.inputBacklog().queueMs / 1000,
  ),
  g(
    "evsip_transport_new_work_waiting",
    "New requests (no To tag) read while SIP input falls behind, waiting in evsip so that responses and requests within a dialog go first",
    (s) => s.transport.newWorkWaiting(),
  ),
  c(
    "evsip_transport_new_work_waited_total",
    "New requests (no To tag) that waited in evsip while SIP input fell behind, so that responses and requests within a dialog went first",
    (s) => s.transport.stats.newWorkWaited,
  ),
  c(
    "evsip_transport_new_work_overflowed_total",
    "New requests handled as read, ahead of those waiting, because the queue of waiting new work was full (8,192)",
    (s) => s.transport.stats.newWorkOverflowed,
  ),
  g(
    "evsip_transport_overload_reduction_percent",
    "RFC 7339 overload control: how much less new work (%) the responses ask of the clients whose Via carries `oc`; 0 when no feedback is given (admission.ocQueue)",
    (s) => s.transport.overloadReduction(),
  ),
  c(
    "evsip_transport_overload_feedback_total",
    "RFC 7339 overload control: responses that carried the feedback to a client whose Via asked for it (flat while a reduction is asked: no client supports it, and only 503s shed)",
    (s) => s.transport.stats.overloadFeedbackSent,
  ),
  g(
    "evsip_transport_tcp_outbound_connections",
    "Outbound TCP connections open now",
    (s) => s.transport.stats.tcpOutboundConnections,
  ),
  c(
    "evsip_transport_tcp_slow_peer_closed_total",
    "TCP connections closed because the peer did not read",
    (s) => s.transport.stats.slowPeerClosed,
  ),
  c(
    "evsip_transport_tcp_truncated_total",
    "TCP connections the peer closed mid-message",
    (s) => s.transport.stats.truncatedOnClose,
  ),
  c(
    "evsip_transport_udp_kernel_drops_total",
    "Datagrams the kernel dropped at evsip's UDP listeners, their receive buffers full (Linux /proc/net/udp): requests and responses evsip never saw",
    (s) => s.transport.udpKernelDrops(),
  ),
  c(
    "evsip_transport_tcp_unsent_on_close_total",
    "TCP connections that failed (a reset, a broken pipe) with messages written to them not yet sent",
    (s) => s.transport.stats.tcpUnsentOnClose,
  ),
  c(
    "evsip_transport_tcp_discarded_total",
    "Messages read ahead from a TCP connection that was closed before they were handed on (a rejected message, a peer that did not read, a bug of ours)",
    (s) => s.transport.stats.tcpDiscarded,
  ),
  c(
    "evsip_transport_internal_errors_total",
    "Bugs of evsip's own: a message dropped because its handler threw (its TCP connection goes on), a TCP connection closed because its framing threw, or an async path of the engine that threw",
    (s) => s.transport.stats.internalErrors,
  ),
  c("evsip_transport_tcp_accepted_total", "Inbound TCP connections accepted", (s) => s.transport.stats.tcpAccepted),
  c("evsip_transport_tcp_outbound_total", "Outbound TCP connections opened", (s) => s.transport.stats.tcpOutbound),
  c("evsip_transport_tcp_rejected_total", "TCP connections refused at maxConnections", (s) => s.transport.stats.tcpRejected),
  c("evsip_transport_tcp_idle_closed_total", "TCP connections closed for idleness", (s) => s.transport.stats.idleClosed),
  // core engine
  c("evsip_core_requests_total", "Requests that reached the routing engine", (s) => s.engine.stats.requests),
  c("evsip_core_responses_total", "Responses that reached the routing engine", (s) => s.engine.stats.responses),
  c("evsip_core_route_errors_total", "Route runs that threw, by route name", (s) => s.engine.stats.routeErrors, "route"),
  c("evsip_core_events_run_total", "event_route runs", (s) => s.engine.stats.eventsRun),
  c(
    "evsip_core_admission_refused_total",
    "New requests refused with 503 + Retry-After, by reason",
    (s) => s.engine.admission.stats.refused,
    "reason",
  ),
  c(
    "evsip_core_admission_emergency_total",
    "Emergency calls (urn:service:sos) admitted while other new requests were refused for overload",
    (s) => s.engine.admission.stats.emergency,
  ),
  g(
    "evsip_core_lock_waiters",
    "Route runs waiting for a ctx.lock name now, all names together",
    (s) => s.engine.locks.stats.waiting,
  ),
  c(
    "evsip_core_lock_refused_total",
    "ctx.lock refusals by reason: busy (locks.maxWaiters already waiting), timeout (locks.waitTimeout ran out)",
    (s) => s.engine.locks.stats.refused,
    "reason",
  ),
  c(
    "evsip_core_bad_request_answered_total",
    "Malformed requests answered with a stateless 400 naming the problem, by code",
    (s) => s.engine.stats.badRequestAnswered,
    "reason",
  ),
  c(
    "evsip_core_drain_answered_total",
    "Transactions a graceful stop answered 503 (ERR_TM_SHUTDOWN)",
    (s) => s.engine.stats.drainAnswered,
  ),
  // sl
  c("evsip_sl_replies_total", "Stateless replies sent", (s) => s.engine.sl.stats.replies),
  c("evsip_sl_send_failures_total", "Stateless replies that could not be sent", (s) => s.engine.sl.stats.sendFailures),
  c("evsip_sl_acks_absorbed_total", "ACKs to stateless replies absorbed", (s) => s.engine.sl.stats.acksAbsorbed),
  // stateless forwarding and maxfwd
  c("evsip_forward_requests_total", "Requests forwarded statelessly", (s) => s.engine.forwarder.stats.requests),
  c("evsip_forward_responses_total", "Responses forwarded statelessly by Via", (s) => s.engine.forwarder.stats.responses),
  c(
    "evsip_forward_send_failures_total",
    "Stateless forwards that could not be sent",
    (s) => s.engine.forwarder.stats.sendFailures,
  ),
  c("evsip_forward_not_our_via_total", "Responses dropped: top Via not ours", (s) => s.engine.forwarder.stats.notOurVia),
  c(
    "evsip_forward_errors_total",
    "Stateless forwards refused, by error code",
    (s) => single("ERR_FORWARD_NO_TARGET", s.engine.forwarder.stats.noTarget),
    "reason",
  ),
  c(
    "evsip_maxfwd_errors_total",
    "Requests refused for Max-Forwards, by error code",
    (s) => single("ERR_MAXFWD_EXCEEDED", s.engine.forwarder.stats.maxfwdExceeded),
    "reason",
  ),
  // tm
  g("evsip_tm_server_transactions", "Server transactions alive now", (s) => s.engine.tu.stats.serverTransactions),
  g("evsip_tm_client_transactions", "Client transactions alive now", (s) => s.engine.tu.stats.clientTransactions),
  g("evsip_tm_suspended_transactions", "Transactions suspended now", (s) => s.engine.tu.stats.suspended),
  c("evsip_tm_created_total", "Server transactions created", (s) => s.engine.tu.stats.created),
  c(
    "evsip_tm_retransmissions_absorbed_total",
    "Retransmitted requests absorbed by a transaction",
    (s) => s.engine.tu.stats.retransmissionsAbsorbed,
  ),
  c("evsip_tm_retransmissions_sent_total", "Requests and responses re-sent by tm", (s) => s.engine.tu.stats.retransmissionsSent),
  c("evsip_tm_limit_rejected_total", "Transactions refused past maxTransactions", (s) => s.engine.tu.stats.limitRejected),
  c("evsip_tm_timeouts_total", "Local 408s (branch and suspension timeouts)", (s) => s.engine.tu.stats.timeouts),
  c("evsip_tm_cancelled_total", "INVITE transactions cancelled", (s) => s.engine.tu.stats.cancelled),
  c(
    "evsip_tm_local_requests_total",
    "Requests evsip sent on its own within a dialog (BYE, keepalive OPTIONS)",
    (s) => s.engine.tu.stats.localRequests,
  ),
  c(
    "evsip_tm_responses_unmatched_total",
    "Responses that matched no client transaction",
    (s) => s.engine.tu.stats.responsesUnmatched,
  ),
  c(
    "evsip_tm_held_back_total",
    "New requests held back from a server that asked for less (RFC 7339 oc), each answered by a local 503",
    (s) => s.engine.tu.stats.heldBack,
  ),
  c(
    "evsip_tm_remapped_503_total",
    "A server's 503 sent upstream as a 500 (tm.remap503, RFC 3261 §16.7 step 6)",
    (s) => s.engine.tu.stats.remapped503,
  ),
  g(
    "evsip_tm_downstream_reducing",
    "Servers relayed to that ask for less new work now (RFC 7339 oc)",
    (s) => s.engine.tu.stats.downstreamReducing,
  ),
  c("evsip_tm_errors_total", "Refused tm operations and hook failures, by error code", (s) => s.engine.tu.stats.errors, "reason"),
];
