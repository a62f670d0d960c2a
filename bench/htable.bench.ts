// htable: get/set/inc on a table of 10 000 keys, with and without autoexpire (the wheel
// bookkeeping on each set), and one sweep over a table with nothing due. Keys are built outside.
import type { BenchCase } from "./types.js";
import { HashTable, type TableSpec } from "../src/modules/htable/index.js";

const spec = (autoexpire: number): TableSpec => ({ name: "a", size: 8, autoexpire, initval: 0, updateexpire: true });
const plain = new HashTable(spec(0), 1000);
const expiring = new HashTable(spec(3600), 1000);
const keys = Array.from({ length: 10_000 }, (_, i) => `calls-to::10.0.${i >> 8}.${i & 255}`);
for (const k of keys) {
  plain.set(k, 1);
  expiring.set(k, 1);
}
let i = 0;
let sink = 0;
const next = (): string => keys[(i = (i + 1) % keys.length)] as string;

export const benches: BenchCase[] = [
  { name: "htable get (10k keys)", fn: () => void (sink += Number(plain.get(next()))) },
  { name: "htable set (10k keys)", fn: () => plain.set(next(), 7) },
  { name: "htable inc (10k keys)", fn: () => void (sink += plain.add(next(), 1) ?? 0) },
  { name: "htable set with autoexpire (wheel move)", fn: () => expiring.set(next(), 7) },
  { name: "htable sweep, nothing due (10k scheduled)", fn: () => void (sink += expiring.sweep().length) },
];
