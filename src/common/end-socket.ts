// Ending a peer's socket on purpose: after what was written (and a last frame, if any) it is given a
// while to reach the peer, then destroyed, so a peer that never reads cannot hold it for ever. evapi
// closing a client with a notice or after its FIN, jsonrpcc stopping.
import type { Socket } from "node:net";
import { unsentAtError } from "./unsent-at-error.js";

/** How long a peer refused or closed with a coded notice gets to read it. */
export const NOTICE_LINGER_MS = 1000;

/** How a lingering socket lost what it still held: the peer reset it, or its linger ran out. */
export type CutBy = "reset" | "linger";

/**
 * Ends `s` after `lastFrame` (if given) and destroys it `lingerMs` later if it is still open;
 * `onCut` then hears how many bytes the peer left unread, if any, so that they are not lost silently.
 * A peer that resets the connection meanwhile (a consumer killed while it was being closed) makes
 * Node discard what it held at once: `onCut` hears of that too, with the bytes Node still held (0
 * when only the write in flight failed).
 */
export function endAndLinger(s: Socket, lingerMs: number, lastFrame?: Buffer, onCut?: (unsent: number, by: CutBy) => void): void {
  s.once("error", (err: NodeJS.ErrnoException) => {
    // An ended socket also knows whether its last write reached the kernel: a reset seen on the
    // read side before "finish" lost what was still on its way there.
    const unsent = unsentAtError(s, err) ?? (s.writableFinished ? undefined : 0);
    if (unsent !== undefined) onCut?.(unsent, "reset");
  });
  if (lastFrame) s.end(lastFrame);
  else if (!s.writableEnded) s.end();
  setTimeout(() => {
    if (s.destroyed) return;
    const unsent = s.writableLength;
    s.destroy();
    if (unsent > 0) onCut?.(unsent, "linger");
  }, lingerMs).unref();
}
