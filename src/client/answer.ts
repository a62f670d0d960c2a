// The async convention of the event API (EVAPI.md "The async flow"): a reply echoes the event's
// transaction index and label. This copies those fields (names configurable, since integrations
// such as CGRateS use their own) from the event into the reply.

/** Default correlation fields: what `ctx.evapi.asyncRelay` examples and `ctx.evapi.request` use. */
export const DEFAULT_ANSWER_FIELDS: readonly string[] = ["tindex", "tlabel"];

/**
 * Returns `reply` with each of `fields` copied from `event` when the event has it and the reply
 * does not set it. Non-object events or replies are returned unchanged.
 */
export function echoCorrelation(event: unknown, reply: unknown, fields: readonly string[] = DEFAULT_ANSWER_FIELDS): unknown {
  if (event === null || typeof event !== "object" || reply === null || typeof reply !== "object" || Array.isArray(reply)) {
    return reply;
  }
  const src = event as Record<string, unknown>;
  const out: Record<string, unknown> = { ...(reply as Record<string, unknown>) };
  for (const f of fields) {
    if (Object.hasOwn(src, f) && !Object.hasOwn(out, f)) out[f] = src[f];
  }
  return out;
}
