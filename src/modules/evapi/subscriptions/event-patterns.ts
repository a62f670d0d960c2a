// Event names and the subscription patterns that select them (src/modules/evapi/README.md
// "Subscriptions"). A name is 1-64 visible ASCII characters without `*`; a pattern is a name, or a
// prefix of at least MIN_PREFIX characters followed by one `*` at the end. Matching is one Set
// lookup plus a startsWith per prefix: a connection holds at most MAX_PATTERNS of them.
import type { ErrorCode } from "../../../errors.js";

/** Patterns one connection may hold. */
export const MAX_PATTERNS = 64;
/** A prefix pattern shorter than this ("*", "c*") would select nearly everything: refused as too broad. */
export const MIN_PREFIX = 2;

const NAME = /^[\x21-\x29\x2b-\x7e]{1,64}$/;

/** True for a usable event name (the explicit `event` option, or the JSON `event` field). */
export function isEventName(v: unknown): v is string {
  return typeof v === "string" && NAME.test(v);
}

/** The compiled patterns of one connection. */
export interface EventFilter {
  /** The patterns as declared (for the reply and clients()). */
  readonly patterns: readonly string[];
  readonly exact: ReadonlySet<string>;
  readonly prefixes: readonly string[];
}

/** A pattern that was refused, with its code. */
export interface PatternFailure {
  readonly ok: false;
  readonly code: ErrorCode;
  readonly detail: string;
  readonly pattern?: string;
}

/** Checks and compiles `patterns`; never throws on peer input. */
export function compilePatterns(patterns: unknown): { ok: true; filter: EventFilter } | PatternFailure {
  if (!Array.isArray(patterns)) return { ok: false, code: "ERR_EVAPI_BAD_PATTERN", detail: "names must be an array of strings" };
  if (patterns.length > MAX_PATTERNS) {
    return { ok: false, code: "ERR_EVAPI_BAD_PATTERN", detail: `at most ${MAX_PATTERNS} patterns, got ${patterns.length}` };
  }
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const p of patterns as unknown[]) {
    const bad = checkPattern(p);
    if (bad) return bad;
    const s = p as string;
    if (s.endsWith("*")) prefixes.push(s.slice(0, -1));
    else exact.add(s);
  }
  return { ok: true, filter: { patterns: [...(patterns as string[])], exact, prefixes } };
}

function checkPattern(p: unknown): PatternFailure | undefined {
  const shown = typeof p === "string" ? p.slice(0, 80) : JSON.stringify(p)?.slice(0, 80);
  if (typeof p !== "string")
    return { ok: false, code: "ERR_EVAPI_BAD_PATTERN", detail: "a pattern must be a string", pattern: shown };
  const star = p.indexOf("*");
  if (star >= 0 && star !== p.length - 1) {
    return { ok: false, code: "ERR_EVAPI_BAD_PATTERN", detail: "`*` may only end a pattern", pattern: shown };
  }
  const body = star >= 0 ? p.slice(0, -1) : p;
  if (star >= 0 && body.length < MIN_PREFIX) {
    return {
      ok: false,
      code: "ERR_EVAPI_PATTERN_TOO_BROAD",
      detail: `a prefix pattern needs at least ${MIN_PREFIX} characters before \`*\` (to get every event, do not subscribe)`,
      pattern: shown,
    };
  }
  if (!NAME.test(body)) {
    return {
      ok: false,
      code: "ERR_EVAPI_BAD_PATTERN",
      detail: "1-64 visible ASCII characters, `*` only at the end",
      pattern: shown,
    };
  }
  return undefined;
}

/** True when `name` is selected by `f`. */
export function matches(f: EventFilter, name: string): boolean {
  if (f.exact.has(name)) return true;
  for (const p of f.prefixes) if (name.startsWith(p)) return true;
  return false;
}

/**
 * True when every event `pattern` selects is also selected by `grant`: an exact name the grant
 * matches, or a prefix that starts with one of the grant's prefixes. Used to hold a connection to
 * the patterns its token grants (ConnectionGrants.patterns).
 */
export function covers(grant: EventFilter, pattern: string): boolean {
  if (!pattern.endsWith("*")) return matches(grant, pattern);
  const prefix = pattern.slice(0, -1);
  for (const g of grant.prefixes) if (prefix.startsWith(g)) return true;
  return false;
}

/**
 * The name an event is selected by: the explicit `event` option, else the `event` field of object
 * data when it is a usable name. String data is never parsed (that would cost a JSON.parse per
 * event): name it with the option.
 */
export function eventNameOf(data: unknown, explicit: string | undefined): string | undefined {
  if (explicit !== undefined) return explicit;
  if (typeof data !== "object" || data === null) return undefined;
  const v = (data as { event?: unknown }).event;
  return isEventName(v) ? v : undefined;
}
