// The hook through which an authenticated connection's rights reach subscriptions and decisions.
// evapi itself authenticates nobody: whoever authenticates a connection (a token handshake, a
// client certificate) sets `grantsOf` on the module, and these two checks then ask it. Without a
// hook every connection may subscribe to any valid pattern and send decisions, as today.
import type { EvapiConnection } from "../connection.js";

/** What one connection may do with subscriptions and decisions. */
export interface ConnectionGrants {
  /**
   * Patterns the connection may subscribe to (exact names and `prefix*`); a requested pattern must
   * lie within one of them, else it is refused with ERR_EVAPI_PATTERN_TOO_BROAD. undefined: any.
   */
  readonly patterns?: readonly string[];
  /** False: decisions from this connection are refused with ERR_EVAPI_DECIDE_FORBIDDEN. Default true. */
  readonly mayDecide?: boolean;
}

/** Looks up a connection's grants; the default grants everything. */
export type GrantsLookup = (c: EvapiConnection) => ConnectionGrants;

/** Everything: the behaviour without an authentication layer. */
export const ALL_GRANTS: ConnectionGrants = Object.freeze({});
