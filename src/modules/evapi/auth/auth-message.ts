// The auth handshake on the evapi wire (README.md "Authentication"): the client's first message
// `{"evsip":"auth","token":"…","tag":"…"}` and evsip's reply `{"evsip":"authenticated",…}`. It goes
// in the connection's framing, like the durable control messages, and shares their size cap.
// Parsing never throws: anything else is a coded failure.
import type { ErrorCode } from "../../../errors.js";
import { controlObject, isControl, MAX_CONTROL_BYTES } from "../durable/control-message.js";

/** A parsed auth message: the secret and the tag the client asks for (if any). */
export interface AuthRequest {
  readonly ok: true;
  readonly token: string;
  readonly tag: string | undefined;
}

/** Why a first message is not a usable auth message. */
export interface AuthRefusal {
  readonly ok: false;
  readonly code: ErrorCode;
  readonly detail: string;
}

const TAG = /^[\x21-\x7e]{1,63}$/;

/** Reads a connection's first message as an auth message. */
export function parseAuth(msg: string): AuthRequest | AuthRefusal {
  const bad = (detail: string): AuthRefusal => ({ ok: false, code: "ERR_EVAPI_BAD_AUTH", detail });
  if (Buffer.byteLength(msg, "utf8") > MAX_CONTROL_BYTES) return bad(`auth message larger than ${MAX_CONTROL_BYTES} bytes`);
  if (!isControl(msg)) return bad('the first message must be {"evsip":"auth",…}');
  const parsed = controlObject(msg);
  if ("error" in parsed) return bad(parsed.error);
  const obj = parsed.obj;
  if (obj.evsip !== "auth") return bad(`expected "auth", got ${JSON.stringify(String(obj.evsip)).slice(0, 40)}`);
  if (typeof obj.token !== "string" || obj.token === "") return bad("token must be a non-empty string");
  if (obj.tag !== undefined && (typeof obj.tag !== "string" || !TAG.test(obj.tag))) {
    return bad("tag must be 1-63 visible ASCII characters");
  }
  return { ok: true, token: obj.token, tag: obj.tag };
}

/** The reply to a successful auth: the token's name and the connection's tag ("" when untagged). */
export function authenticatedText(name: string, tag: string): string {
  return JSON.stringify({ evsip: "authenticated", name, tag });
}
