// The client's side of evsip's auth handshake (the router's src/modules/evapi/README.md
// "Authentication"): with a token, the first message on every connection is
// {"evsip":"auth","token":"…","tag":"…"}, and evsip answers {"evsip":"authenticated",…} or an error
// notice and closes. Kamailio has no such handshake: a client without a token never sends it.

/** evsip's answer to the auth message. */
export type AuthReply =
  | { readonly ok: true; readonly name: string; readonly tag: string }
  | { readonly ok: false; readonly code: string; readonly detail: string };

/** What the `authenticated` event carries: the token's name and the connection's tag ("" when none). */
export interface AuthenticatedInfo {
  readonly name: string;
  readonly tag: string;
}

/**
 * Refusals that the next attempt would meet again (the token or its grants are wrong): the client
 * gives up instead of reconnecting. A timeout or a full router is worth retrying.
 */
const FINAL_REFUSALS = new Set([
  "ERR_EVAPI_AUTH_FAILED",
  "ERR_EVAPI_BAD_AUTH",
  "ERR_EVAPI_NOT_ALLOWED",
  "ERR_EVAPI_TLS_CLIENT_CERT",
]);

/** The auth message text. */
export function authMessage(token: string, tag: string | undefined): string {
  return JSON.stringify(tag === undefined ? { evsip: "auth", token } : { evsip: "auth", token, tag });
}

/** Reads a frame received while waiting for the reply; undefined when it is not one. */
export function readAuthReply(text: string): AuthReply | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== "object" || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (o.evsip === "authenticated") return { ok: true, name: str(o.name), tag: str(o.tag) };
  if (o.evsip === "error") return { ok: false, code: str(o.code), detail: str(o.detail) };
  return undefined;
}

/** True when a refusal should end the client rather than be retried. */
export function isFinalRefusal(code: string): boolean {
  return FINAL_REFUSALS.has(code);
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}
