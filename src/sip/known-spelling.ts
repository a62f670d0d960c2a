// Strings a message spells the same way nearly every time (methods, transports, parameter names)
// are taken as shared constants instead of per-message slices.

/**
 * The one of `spellings` that text[s, e) spells exactly, or undefined. A constant instead of a
 * slice: nothing is copied, and a string used as a Map key has its hash computed once for the
 * process, not once per message.
 */
export function knownSpelling(text: string, s: number, e: number, spellings: readonly string[]): string | undefined {
  const n = e - s;
  next: for (const known of spellings) {
    if (known.length !== n) continue;
    for (let k = 0; k < n; k++) if (text.charCodeAt(s + k) !== known.charCodeAt(k)) continue next;
    return known;
  }
  return undefined;
}
