// A string that keeps nothing else alive. A message's header values are slices of its decoded
// head (src/sip/header-table.ts), and in V8 a slice of 13 characters or more is a view on its
// parent: a Call-ID kept by a dialog for an hour, or set into an htable, would hold the whole
// head (hundreds of bytes) with it. Joining the string to another and slicing that makes V8 copy
// the characters into a string of their own; the result is equal to the input.

/**
 * An equal string with characters of its own, for strings that outlive the message they came from.
 * @example ownCopy(msg.callId) === msg.callId // true
 */
export function ownCopy(s: string): string {
  return s.length < 13 ? s : ` ${s}`.slice(1);
}
