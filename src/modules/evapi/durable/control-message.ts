// The durable-delivery control messages on the evapi wire (src/modules/evapi/README.md "Durable delivery"): a JSON
// object whose first key is "evsip". Client → evsip: subscribe (the opt-in, first message only)
// and ack. evsip → client: subscribed, event (the application's payload wrapped with its id), lost
// and error. Parsing never throws: a malformed message is a coded failure.
import type { ErrorCode } from "../../../errors.js";

/** Control messages larger than this are refused unparsed (a handshake or an ack is ~100 bytes). */
export const MAX_CONTROL_BYTES = 1024;

/** A consumer name: 1 to 63 visible ASCII characters (it is also the consumer's evapi tag). */
const CONSUMER_NAME = /^[\x21-\x7e]{1,63}$/;

/** Client → evsip. */
export type ControlMessage =
  | { readonly type: "subscribe"; readonly consumer: string | undefined; readonly resume: number | null }
  | { readonly type: "ack"; readonly id: number };

/** A control message that could not be read, with the code it is reported under. */
export interface ControlFailure {
  readonly type: "invalid";
  readonly code: ErrorCode;
  readonly detail: string;
}

/**
 * True when `msg` is a control message: after optional whitespace, `{`, optional whitespace and the
 * key `"evsip"`. Checked on every received message, so it reads a few bytes and parses nothing.
 */
export function isControl(msg: string): boolean {
  let i = skipWs(msg, 0);
  if (msg.charCodeAt(i) !== 0x7b) return false; // '{'
  i = skipWs(msg, i + 1);
  return msg.startsWith('"evsip"', i);
}

/** A control message's JSON object, or why it is not one (never throws). */
export function controlObject(msg: string): { readonly obj: Record<string, unknown> } | { readonly error: string } {
  try {
    const v: unknown = JSON.parse(msg);
    if (typeof v !== "object" || v === null || Array.isArray(v)) return { error: "not a JSON object" };
    return { obj: v as Record<string, unknown> };
  } catch {
    return { error: "not valid JSON" };
  }
}

/** Reads a control message; `subscribed` tells which code a malformed one is reported under. */
export function parseControl(msg: string, subscribed: boolean): ControlMessage | ControlFailure {
  const bad = (
    detail: string,
    code: ErrorCode = subscribed ? "ERR_EVAPI_BAD_ACK" : "ERR_EVAPI_BAD_HANDSHAKE",
  ): ControlFailure => ({
    type: "invalid",
    code,
    detail,
  });
  if (Buffer.byteLength(msg, "utf8") > MAX_CONTROL_BYTES) return bad(`control message larger than ${MAX_CONTROL_BYTES} bytes`);
  const parsed = controlObject(msg);
  if ("error" in parsed) return bad(parsed.error);
  const obj = parsed.obj;
  if (obj.evsip === "subscribe") return parseSubscribe(obj, subscribed);
  if (obj.evsip === "ack") {
    const id = obj.id;
    if (!isId(id)) return bad(`ack id must be a non-negative integer, got ${JSON.stringify(id)}`, "ERR_EVAPI_BAD_ACK");
    return { type: "ack", id };
  }
  return bad(`unknown control message ${JSON.stringify(String(obj.evsip)).slice(0, 40)}`);
}

function parseSubscribe(obj: Record<string, unknown>, subscribed: boolean): ControlMessage | ControlFailure {
  const fail = (code: ErrorCode, detail: string): ControlFailure => ({ type: "invalid", code, detail });
  if (subscribed) return fail("ERR_EVAPI_HANDSHAKE_NOT_FIRST", "already subscribed on this connection");
  const { consumer, resume } = obj;
  if (consumer !== undefined && (typeof consumer !== "string" || !CONSUMER_NAME.test(consumer))) {
    return fail("ERR_EVAPI_BAD_HANDSHAKE", "consumer must be 1-63 visible ASCII characters");
  }
  if (resume !== undefined && resume !== null && !isId(resume)) {
    return fail("ERR_EVAPI_BAD_HANDSHAKE", `resume must be a non-negative integer or null, got ${JSON.stringify(resume)}`);
  }
  return { type: "subscribe", consumer, resume: resume ?? null };
}

/** True for a name usable as a consumer (a handshake without `consumer` uses the connection's tag). */
export function isConsumerName(name: string): boolean {
  return CONSUMER_NAME.test(name);
}

/** The wire text of one event for a durable consumer; the application's payload is untouched. */
export function eventText(id: number, payload: string, isString: boolean): string {
  return isString
    ? `{"evsip":"event","id":${id},"text":${JSON.stringify(payload)}}`
    : `{"evsip":"event","id":${id},"event":${payload}}`;
}

/** Ids that the router can no longer deliver (released or dropped), reported to the consumer. */
export interface LostRange {
  readonly from: number;
  readonly to: number;
  readonly count: number;
}

/** The reply to a subscribe. */
export interface SubscribedReply {
  readonly evsip: "subscribed";
  readonly consumer: string;
  /** The router's ack point for this consumer after the handshake. */
  readonly acked: number;
  /** The id of the first event this connection will receive. */
  readonly next: number;
  /** The highest id assigned so far (0: none). */
  readonly last: number;
  /** What the resume position asked for and the router can no longer give; null when nothing. */
  readonly lost: LostRange | null;
  /** Set when the resume position was not usable (ERR_EVAPI_RESUME_AHEAD). */
  readonly error?: ErrorCode;
}

/** The `lost` notice sent mid-stream when retention dropped events before they were sent. */
export function lostText(range: LostRange): string {
  return JSON.stringify({ evsip: "lost", ...range });
}

/** The error notice for a refused control message. */
export function errorText(code: ErrorCode, detail: string): string {
  return JSON.stringify({ evsip: "error", code, detail });
}

function isId(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

function skipWs(s: string, i: number): number {
  while (i < s.length) {
    const ch = s.charCodeAt(i);
    if (ch !== 0x20 && ch !== 0x09 && ch !== 0x0a && ch !== 0x0d) break;
    i++;
  }
  return i;
}
