// What a socket that failed had taken to write and had not sent, read when its "error" comes: by its
// "close" Node has emptied its buffer. A write that failed (a broken pipe, or a reset the write ran
// into) lost at least its own bytes, which Node has already taken off its count; what the kernel had
// taken and the peer never read, Node cannot see.
import type { Socket } from "node:net";

/** The bytes Node still held for `s` when `err` came, or undefined when nothing written was lost. */
export function unsentAtError(s: Socket, err: NodeJS.ErrnoException): number | undefined {
  const held = s.writableLength;
  return held > 0 || err.syscall === "write" ? held : undefined;
}
