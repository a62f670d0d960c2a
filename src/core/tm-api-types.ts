// The shape of ctx.tm and ctx.rr (Kamailio tm/tmx and rr functions), separate from their
// implementation so route-context types do not pull in the transaction layer.

/** Transaction identifiers ($T(id_index), $T(id_label)). */
export interface TransactionId {
  readonly index: number;
  readonly label: number;
}

/** ctx.tm: stateful processing. */
export interface TmApi {
  /** t_newtran: creates the server transaction; false when the limit refused it (503 sent). */
  newTran(): boolean;
  /** t_reply: stateful reply (creates the transaction if needed). */
  reply(code: number, reason: string): boolean;
  /** t_relay: stateful forward to `target`, else $du, else the Request-URI. */
  relay(target?: string): boolean;
  /** t_on_reply: named route run for each response of this transaction's branches. */
  onReply(route: string): void;
  /** t_on_failure: named route run when a branch ends with a negative final response or times out. */
  onFailure(route: string): void;
  /** t_suspend: holds the transaction; undefined when it was cancelled or already answered. */
  suspend(): TransactionId | undefined;
  /**
   * Ends a suspension started by suspend() without answering (for an event that could not be
   * sent after all); the route then replies or relays itself. False when nothing was suspended.
   */
  unsuspend(): boolean;
  /**
   * t_continue: resumes a suspended transaction in route `route`; false for unknown, finished or
   * not suspended transactions and unknown routes. Accepts numbers or decimal strings.
   */
  continue(index: number | string, label: number | string, route: string): boolean;
  /**
   * Holds the transaction while `promise` settles (creating it if needed, so retransmissions are
   * absorbed); rejects with TransactionError ERR_TM_TIMEOUT after min(timeout, frTimer) or
   * ERR_TM_CANCELLED on CANCEL.
   */
  hold<T>(promise: Promise<T>, opts?: { timeout?: number }): Promise<T>;
  /** The current transaction's identifiers, if there is one. */
  id(): TransactionId | undefined;
}

/** ctx.rr: record-routing and loose routing (Kamailio rr module). */
export interface RrApi {
  /** record_route: adds a Record-Route (two when bridging UDP and TCP) to what relay/forward sends. */
  recordRoute(): boolean;
  /** loose_route: true when the request had a Route set naming us; the next hop is set. */
  looseRoute(): boolean;
}
