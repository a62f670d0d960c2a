// Frames handed to a stream one piece at a time. Node reports a write's progress (`drain`, a
// falling writableLength) only when all of it is taken by the kernel, and the kernel wakes a writer
// only once about a third of its send buffer is free. A peer handed megabytes in one write by a
// burst therefore shows no progress until it has read them all, and a stall rule reading that
// progress closes a peer that is reading, only slower than the burst came. Handed at most a piece
// at a time, with the rest kept in the owner's queue until `drain`, progress shows at every wake-up
// the kernel gives: as often as Linux lets a process see it. evapi's clients and jsonrpcc's
// servers are written this way.
import type { SendQueue } from "./send-queue.js";

/** The most Node holds for one peer (beyond one frame) before the writer waits for `drain`. */
export const PIECE_BYTES = 64 * 1024;

/** What a piece-wise write needs of a stream: a net or TLS socket, given by its owner. */
export interface CorkableStream {
  cork(): void;
  uncork(): void;
  write(chunk: Buffer): boolean;
  readonly writableLength: number;
  readonly writableHighWaterMark: number;
}

/**
 * Hands frames from `queue` to `s`, one batch (one write, or one corked writev) at a time, while
 * Node holds less than a piece for it. The rest stays queued: call again on `drain`. Returns the
 * bytes handed over. A turn's usual batch is far smaller than a piece, so the common case is still
 * one write.
 */
export function writePieces(s: CorkableStream, queue: SendQueue): number {
  // Never less than the stream's own mark, so stopping here means a write returned false and
  // `drain` will come.
  const limit = Math.max(PIECE_BYTES, s.writableHighWaterMark);
  let written = 0;
  while (queue.length > 0 && s.writableLength < limit) written += writeBatch(s, queue, limit);
  return written;
}

/**
 * Hands everything queued to `s` in one corked write, for a close that ends the socket right after
 * (a farewell, a stop): no `drain` will be waited for. Returns the bytes handed over; none once the
 * socket has ended or been destroyed, when the frames stay queued for the caller to count.
 */
export function writeAll(
  s: CorkableStream & { readonly destroyed: boolean; readonly writableEnded: boolean },
  queue: SendQueue,
): number {
  if (s.destroyed || s.writableEnded || queue.length === 0) return 0;
  let written = 0;
  s.cork();
  for (let f = queue.shift(); f !== undefined; f = queue.shift()) {
    written += f.length;
    s.write(f);
  }
  s.uncork();
  return written;
}

/** One corked batch of frames until Node holds `limit` bytes (at least one frame). */
function writeBatch(s: CorkableStream, queue: SendQueue, limit: number): number {
  // One frame (a request arriving alone) goes straight to the socket: cork/uncork would only add
  // the stream's buffering and writev machinery around the same single write.
  const single = queue.length === 1;
  if (!single) s.cork();
  let written = 0;
  do {
    const frame = queue.shift() as Buffer;
    written += frame.length;
    s.write(frame);
  } while (queue.length > 0 && s.writableLength < limit);
  if (!single) s.uncork();
  return written;
}
