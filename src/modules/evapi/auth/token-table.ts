// The evapi `tokens` param and the lookup of a presented secret. Secrets are compared as SHA-256
// digests with timingSafeEqual against every configured token (no early exit), so neither the
// length nor the position of a match shows in the timing. The param check refuses short secrets
// and unknown keys at load, so a typo ("tag" for "tags") never silently widens a token.
import { createHash, timingSafeEqual } from "node:crypto";
import { grantsOf, type EvapiGrants } from "./grants.js";

/** One entry of the evapi `tokens` param: a shared secret and what a connection using it may do. */
export interface EvapiTokenSpec {
  /** The shared secret the client sends in its auth message: 16 to 256 characters. */
  readonly token: string;
  /** A name for logs and `clients()` (never the secret); default `token-<index>`. */
  readonly name?: string;
  /** Tags the connection may carry; unset = any. With exactly one, it is set at auth. */
  readonly tags?: readonly string[];
  /** Durable consumer names it may subscribe as; unset = any. */
  readonly consumers?: readonly string[];
  /** Event-name patterns it may subscribe to (exact, or a prefix ending in `*`); unset = any. */
  readonly events?: readonly string[];
  /** Whether it may send decisions on suspended transactions; default true. */
  readonly decide?: boolean;
}

const MIN_TOKEN = 16;
const MAX_TOKEN = 256;
const KEYS = new Set(["token", "name", "tags", "consumers", "events", "decide"]);

/** The param check of `tokens`: a message naming the first problem, or undefined. */
export function checkTokens(v: unknown): string | undefined {
  if (!Array.isArray(v)) return "must be an array of { token, name?, tags?, consumers?, events?, decide? }";
  const seen = new Set<string>();
  for (const [i, t] of v.entries()) {
    const at = `tokens[${i}]`;
    if (typeof t !== "object" || t === null || Array.isArray(t)) return `${at} must be an object`;
    const o = t as Record<string, unknown>;
    const extra = Object.keys(o).find((k) => !KEYS.has(k));
    if (extra !== undefined) return `${at} has an unknown key ${JSON.stringify(extra)}`;
    if (typeof o.token !== "string" || o.token.length < MIN_TOKEN || o.token.length > MAX_TOKEN) {
      return `${at}.token must be a string of ${MIN_TOKEN} to ${MAX_TOKEN} characters`;
    }
    if (seen.has(o.token)) return `${at}.token repeats an earlier token`;
    seen.add(o.token);
    if (o.name !== undefined && (typeof o.name !== "string" || !/^[\x21-\x7e]{1,63}$/.test(o.name))) {
      return `${at}.name must be 1-63 visible ASCII characters`;
    }
    for (const key of ["tags", "consumers", "events"] as const) {
      const list = o[key];
      if (list !== undefined && !(Array.isArray(list) && list.every((s) => typeof s === "string" && s !== ""))) {
        return `${at}.${key} must be an array of non-empty strings`;
      }
    }
    if (o.decide !== undefined && typeof o.decide !== "boolean") return `${at}.decide must be true or false`;
  }
  return undefined;
}

/** The configured tokens, ready for lookup. */
export class TokenTable {
  private readonly digests: Buffer[];
  private readonly grants: EvapiGrants[];

  constructor(specs: readonly EvapiTokenSpec[]) {
    this.digests = specs.map((s) => digest(s.token));
    this.grants = specs.map((s, i) => grantsOf(s, i));
  }

  /** The grants of the token `secret` matches, or undefined. Constant time in the secret. */
  match(secret: string): EvapiGrants | undefined {
    const d = digest(secret);
    let found: EvapiGrants | undefined;
    for (let i = 0; i < this.digests.length; i++) {
      if (timingSafeEqual(d, this.digests[i] as Buffer) && found === undefined) found = this.grants[i];
    }
    return found;
  }
}

function digest(s: string): Buffer {
  return createHash("sha256").update(s, "utf8").digest();
}
