// What the two append-only journals (the dialog store and the evapi durable store) do the same way
// with their files: give up on a file after a failed write, fsync a directory so a renamed or new
// file survives a power loss, and name an fs error by its code.
import { closeSync, fdatasyncSync, ftruncateSync, openSync } from "node:fs";

/** An fs error's code ("ENOSPC"), or its text. */
export function errCode(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? String(e);
}

/**
 * Stops appending to `fd` after a failed write: the file is cut back to `size`, the bytes known to
 * be whole, so no torn record stays at its end (if that fails too, recovery finds the torn record by
 * its checksum), then closed. Returns -1, the "no file" descriptor, for the caller to keep.
 */
export function abandonFile(fd: number, size: number): -1 {
  if (fd < 0) return -1;
  try {
    ftruncateSync(fd, size);
  } catch {
    // the torn tail, if any, is found by its checksum on recovery
  }
  try {
    closeSync(fd);
  } catch {
    // nothing more to do with it
  }
  return -1;
}

/** fsync of a directory, so a file just created or renamed in it survives a power loss. */
export function syncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
