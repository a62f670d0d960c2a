// Whether a socket that failed lost what it had taken to write, and the bytes Node still held then
// (often 0: Node clears what is buffered as it handles the error). A write that failed (a broken
// pipe, or a reset the write ran into) lost at least its own bytes. What the kernel had taken and
// the peer never read, Node cannot see, and a reset seen on the read side with nothing left to
// write looks the same as one that lost nothing.
import type { Socket } from "node:net";

/** The bytes Node still held for `s` when `err` came (often 0), or undefined when no loss shows. */
export function unsentAtError(s: Socket, err: NodeJS.ErrnoException): number | undefined {
  const held = s.writableLength;
  return held > 0 || err.syscall === "write" ? held : undefined;
}
