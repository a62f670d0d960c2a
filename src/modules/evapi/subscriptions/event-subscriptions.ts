// Per-connection event subscriptions (src/modules/evapi/README.md "Subscriptions"): the control
// message `{"evsip":"events","names":[…]}` sets (or, sent again, replaces) the names and prefix
// patterns a connection wants; evsip answers `{"evsip":"events-ok","names":[…]}` or an error notice
// with a stable code, and the connection stays open either way (its previous set is kept). A
// connection that never sends it has no filter and receives every event, exactly as before.
import type { Logger } from "pino";
import type { ErrorCode } from "../../../errors.js";
import type { RateLimitedLog } from "../../../common/rate-limited-log.js";
import type { EvapiConnection } from "../connection.js";
import { bump, type EvapiStats } from "../stats.js";
import { controlObject, errorText, isControl } from "../durable/control-message.js";
import { compilePatterns, covers, type EventFilter } from "./event-patterns.js";
import type { GrantsLookup } from "./grants.js";

/** An `events` message is bigger than a durable handshake: 64 patterns of up to 64 characters. */
export const MAX_EVENTS_MESSAGE_BYTES = 8192;

/** `{"evsip":"events"` with optional whitespace: the verb is read from the text, before any parse. */
const EVENTS_VERB = /^\s*\{\s*"evsip"\s*:\s*"events"/;
const LISTEN_MESSAGE = /^\s*\{\s*"evsip"\s*:\s*"listen"\s*\}\s*$/;

/** What subscriptions need from the evapi service. */
export interface SubscriptionLink {
  readonly stats: EvapiStats;
  readonly logger: Logger;
  /** Refusals are logged through it: a peer repeating a bad message cannot flood the log. */
  readonly log: RateLimitedLog;
  encode(text: string): Buffer;
  push(c: EvapiConnection, frame: Buffer): void;
  /** Called when a connection's filter changes (the table counts filtered connections). */
  setFilter(c: EvapiConnection, f: EventFilter): void;
}

export class EventSubscriptions {
  /** Replaced by whoever authenticates connections (see grants.ts). */
  grantsOf: GrantsLookup;
  private readonly link: SubscriptionLink;
  /** Compiled grant patterns, cached per grant list (tokens share them). */
  private readonly grantCache = new WeakMap<readonly string[], EventFilter | null>();

  constructor(link: SubscriptionLink, grantsOf: GrantsLookup) {
    this.link = link;
    this.grantsOf = grantsOf;
  }

  /**
   * Offered every received message before the durable hub; true when it was an `events` message
   * (one that starts `{"evsip":"events"`, so an oversize or broken one is refused here, coded,
   * without closing the connection).
   */
  onMessage(c: EvapiConnection, msg: string): boolean {
    if (!isControl(msg)) return false;
    if (LISTEN_MESSAGE.test(msg)) {
      c.listenOnly = true;
      this.link.push(c, this.link.encode('{"evsip":"listening"}'));
      return true;
    }
    if (!EVENTS_VERB.test(msg)) return false;
    if (Buffer.byteLength(msg, "utf8") > MAX_EVENTS_MESSAGE_BYTES) {
      this.refuse(c, "ERR_EVAPI_BAD_PATTERN", `events message larger than ${MAX_EVENTS_MESSAGE_BYTES} bytes`);
      return true;
    }
    const parsed = controlObject(msg);
    if ("error" in parsed) {
      this.refuse(c, "ERR_EVAPI_BAD_PATTERN", `events message: ${parsed.error}`);
      return true;
    }
    const r = compilePatterns(parsed.obj.names);
    if (!r.ok) {
      this.refuse(c, r.code, r.detail, r.pattern);
      return true;
    }
    const outside = this.outsideGrants(c, r.filter.patterns);
    if (outside !== undefined) {
      this.refuse(c, "ERR_EVAPI_PATTERN_TOO_BROAD", "pattern outside what this connection is granted", outside);
      return true;
    }
    this.link.setFilter(c, r.filter);
    this.link.stats.eventSubscriptions++;
    this.link.logger.info({ conidx: c.conidx, names: r.filter.patterns }, "evapi client subscribed to events");
    this.link.push(c, this.link.encode(JSON.stringify({ evsip: "events-ok", names: r.filter.patterns })));
    return true;
  }

  /**
   * Call once a connection has authenticated: when its grants limit the patterns, it starts
   * subscribed to exactly those, so a client that never sends `events` cannot receive more than
   * it was granted (without grants, or with `patterns` undefined, nothing changes).
   */
  applyGrants(c: EvapiConnection): void {
    const allowed = this.grantsOf(c).patterns;
    if (allowed === undefined) return;
    const g = compilePatterns(allowed);
    // Grants that do not compile select nothing: a configuration error must not widen access.
    this.link.setFilter(c, g.ok ? g.filter : { patterns: [], exact: new Set(), prefixes: [] });
  }

  /** The first requested pattern the connection's grants do not cover, if any. */
  private outsideGrants(c: EvapiConnection, patterns: readonly string[]): string | undefined {
    const allowed = this.grantsOf(c).patterns;
    if (allowed === undefined) return undefined;
    let grant = this.grantCache.get(allowed);
    if (grant === undefined) {
      const g = compilePatterns(allowed);
      grant = g.ok ? g.filter : null;
      this.grantCache.set(allowed, grant);
    }
    for (const p of patterns) if (grant === null || !covers(grant, p)) return p;
    return undefined;
  }

  private refuse(c: EvapiConnection, code: ErrorCode, detail: string, pattern?: string): void {
    bump(this.link.stats.errors, code);
    this.link.log.warn(code, "evapi events refused", { conidx: c.conidx, peer: `${c.srcaddr}:${c.srcport}`, detail, pattern });
    const notice = pattern === undefined ? errorText(code, detail) : errorText(code, `${detail}: ${JSON.stringify(pattern)}`);
    this.link.push(c, this.link.encode(notice));
  }
}
