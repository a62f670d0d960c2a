// Ending a peer's socket on purpose: after what was written (and a last frame, if any) it is given a
// while to reach the peer, then destroyed, so a peer that never reads cannot hold it for ever. evapi
// closing a client with a notice or after its FIN, jsonrpcc stopping.
import type { Socket } from "node:net";

/** How long a peer refused or closed with a coded notice gets to read it. */
export const NOTICE_LINGER_MS = 1000;

/**
 * Ends `s` after `lastFrame` (if given) and destroys it `lingerMs` later if it is still open;
 * `onCut` then hears how many bytes the peer left unread, if any, so that they are not lost silently.
 */
export function endAndLinger(s: Socket, lingerMs: number, lastFrame?: Buffer, onCut?: (unsent: number) => void): void {
  if (lastFrame) s.end(lastFrame);
  else if (!s.writableEnded) s.end();
  setTimeout(() => {
    if (s.destroyed) return;
    const unsent = s.writableLength;
    s.destroy();
    if (unsent > 0) onCut?.(unsent);
  }, lingerMs).unref();
}
