// evsip's replies to the client's opt-in control messages other than durable delivery's
// (src/modules/evapi/README.md "Subscriptions" and "Decisions"): `events-ok` after an event
// subscription, `listening` after `{"evsip":"listen"}`, and the coded `error` notice evsip sends when it refuses a subscription or a
// decision. Only read when the client opted in, so a plain client's messages are never inspected.

const PREFIX = Buffer.from('{"evsip"');

/** A control reply from evsip. */
export type ControlReply =
  | { readonly type: "events-ok"; readonly names: readonly string[] }
  | { readonly type: "listening" }
  | { readonly type: "error"; readonly code: string; readonly detail: string; readonly fields: Record<string, unknown> };

/** The reply in `payload`, or undefined when it is not one (deliver it as an event). */
export function readControlReply(payload: Buffer): ControlReply | undefined {
  if (payload.length < PREFIX.length || payload.compare(PREFIX, 0, PREFIX.length, 0, PREFIX.length) !== 0) return undefined;
  let m: unknown;
  try {
    m = JSON.parse(payload.toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof m !== "object" || m === null) return undefined;
  const o = m as Record<string, unknown>;
  if (o.evsip === "events-ok" && Array.isArray(o.names)) return { type: "events-ok", names: o.names.map(String) };
  if (o.evsip === "listening") return { type: "listening" };
  if (o.evsip === "error") return { type: "error", code: String(o.code), detail: String(o.detail), fields: o };
  return undefined;
}

/** Declares the connection a listener: it watches, never answers (see `listenOnly`). */
export const LISTEN_MESSAGE = '{"evsip":"listen"}';

/** The subscription message for `names` (exact event names and `prefix*` patterns). */
export function eventsMessage(names: readonly string[]): string {
  return JSON.stringify({ evsip: "events", names });
}
