// What an authenticated evapi connection may do (README.md "Authentication"): the binding of the
// token it presented. A connection on a socket without tokens has no grants (undefined) and may do
// everything, as today. Every check takes `grants | undefined` so callers need no branch of their own;
// the subscription-pattern and decision checks are for the features that carry those (they import these).
import type { EvapiTokenSpec } from "./token-table.js";

/** The permissions of one authenticated connection, from its token. Unset lists mean "any". */
export interface EvapiGrants {
  /** The token's name (logs, `clients()`); never the secret. */
  readonly name: string;
  /** Tags the connection may carry (set at auth or by `setTag`); undefined = any. */
  readonly tags: readonly string[] | undefined;
  /** Durable consumer names it may subscribe as; undefined = any. */
  readonly consumers: readonly string[] | undefined;
  /** Event-name patterns it may subscribe to: exact names, or prefixes ending in `*`; undefined = any. */
  readonly events: readonly string[] | undefined;
  /** Whether it may send decisions that resume or end suspended transactions. */
  readonly decide: boolean;
}

/** The grants a token spec gives. */
export function grantsOf(spec: EvapiTokenSpec, index: number): EvapiGrants {
  return {
    name: spec.name ?? `token-${index}`,
    tags: spec.tags,
    consumers: spec.consumers,
    events: spec.events,
    decide: spec.decide ?? true,
  };
}

/** True when the connection may carry `tag` ("" untags, always allowed). */
export function mayUseTag(g: EvapiGrants | undefined, tag: string): boolean {
  return g?.tags === undefined || tag === "" || g.tags.includes(tag);
}

/** True when the connection may subscribe as durable consumer `name`. */
export function mayConsume(g: EvapiGrants | undefined, name: string): boolean {
  return g?.consumers === undefined || g.consumers.includes(name);
}

/**
 * True when the connection may subscribe to `pattern` (an exact event name or a prefix ending in
 * `*`): a granted exact name allows that name; a granted prefix `p*` allows every name and pattern
 * starting with `p`. So `"call:*"` allows `"call:start"` and `"call:*"`, never `"*"`.
 * @public for the subscription feature (part of issue 13, on another branch)
 */
export function maySubscribe(g: EvapiGrants | undefined, pattern: string): boolean {
  if (g?.events === undefined) return true;
  return g.events.some((p) => p === pattern || (p.endsWith("*") && pattern.startsWith(p.slice(0, -1))));
}

/**
 * True when the connection may send decisions (resume, reject or drop a suspended transaction).
 * @public for the decision API (part of issue 13, on another branch)
 */
export function mayDecide(g: EvapiGrants | undefined): boolean {
  return g === undefined || g.decide;
}
