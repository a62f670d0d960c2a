// App text written into a message goes out as latin1: one byte per character, its low byte. So a
// character past U+00FF whose low byte is CR or LF (U+010A, U+020D…) ends a line on the wire as
// surely as "\n" does, and every check that keeps app text to one line must look at low bytes.

/** True for a character that goes out as CR or LF. */
export function endsLine(code: number): boolean {
  const low = code & 0xff;
  return low === 0x0a || low === 0x0d;
}

/** True when some character of text goes out as CR or LF. */
export function hasLineEnd(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (endsLine(text.charCodeAt(i))) return true;
  return false;
}
