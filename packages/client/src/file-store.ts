// A DurableStore in one small file: the last handled id as decimal text, replaced atomically
// (write a temporary file, fsync it, rename it over the old one), so a consumer killed at any moment
// finds either the old id or the new one on restart, never a torn write.
import { open, readFile, rename } from "node:fs/promises";
import type { DurableStore } from "./durable-session.js";

/**
 * A DurableStore keeping the last handled id in the file at `path` (its directory must exist).
 * @example new EvapiClient({ port: 8448, durable: { consumer: "billing", store: fileDurableStore("/var/lib/billing/evsip.offset") } })
 */
export function fileDurableStore(path: string): DurableStore {
  const tmp = `${path}.tmp`;
  return {
    async load() {
      let text: string;
      try {
        text = await readFile(path, "utf8");
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw e;
      }
      const id = Number(text.trim());
      if (!Number.isSafeInteger(id) || id < 0)
        throw new Error(`${path} does not hold an id: ${JSON.stringify(text.slice(0, 40))}`);
      return id;
    },
    async save(id) {
      const fh = await open(tmp, "w");
      try {
        await fh.writeFile(`${id}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, path);
    },
  };
}
