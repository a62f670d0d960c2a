// The header edits a route makes on the message it passes on (Kamailio textops append_hf and
// remove_hf, ctx.appendHeader/removeHeader), and the lines it adds to the replies evsip itself
// sends for the request (append_to_reply, ctx.appendToReply). Kept apart from the evapi
// decision's extraHeaders, which go on both a relayed request and a stateful reply: Kamailio's
// append_hf never reaches a local reply, and append_to_reply never reaches a forwarded request.
import type { Rewrite } from "../sip/types.js";
import { hasLineEnd } from "../sip/index.js";

// Modules see the SIP layer through core: an evapi decision's header lines get the same check.
export { hasLineEnd };

/** Edits of the message being forwarded: lines to append, header names to remove. */
export interface HeaderEdits {
  readonly append: string[];
  readonly remove: string[];
}

/** A header name: an RFC 3261 token. */
const NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** A header line's start: its name, optional blanks, the colon (RFC 3261 HCOLON). */
const HEADER_START = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+[ \t]*:/;

/**
 * The header lines of `text` as Kamailio's functions take them ("Name: value\r\n", several lines
 * allowed, the last CRLF optional), without their CRLF; undefined when a line is not a header
 * (no name, or a bare CR or LF inside that would smuggle something else into the message).
 */
export function headerLines(text: string): string[] | undefined {
  const body = text.endsWith("\r\n") ? text.slice(0, -2) : text.endsWith("\n") ? text.slice(0, -1) : text;
  if (body === "") return undefined;
  const lines = body.split(/\r?\n/);
  // hasLineEnd: also a character that goes out as CR or LF (U+010A is written as LF).
  for (const line of lines) if (!HEADER_START.test(line) || hasLineEnd(line)) return undefined;
  return lines;
}

/** Whether `name` can name a header (for remove). */
export function isHeaderName(name: string): boolean {
  return NAME.test(name);
}

/** A copy, so a later route run's edits stay its own. */
export function copyEdits(e: HeaderEdits | undefined): HeaderEdits | undefined {
  return e && { append: [...e.append], remove: [...e.remove] };
}

/** `edits` merged into the rewrite of a forwarded message (after what `base` appends and removes). */
export function withEdits(base: Rewrite, edits: HeaderEdits | undefined): Rewrite {
  if (!edits) return base;
  return {
    ...base,
    ...(edits.append.length > 0 && { append: [...(base.append ?? []), ...edits.append] }),
    ...(edits.remove.length > 0 && { remove: [...(base.remove ?? []), ...edits.remove] }),
  };
}
