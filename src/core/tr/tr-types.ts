// The shape of one transformation: how many parameters it takes and what it does to a non-null
// value. Parameters arrive expanded (a `$var(x)` parameter is already its value, as text).
import type { PvValue } from "../pv-registry.js";

export interface TrDef {
  readonly min: number;
  readonly max: number;
  apply(value: string | number, params: readonly string[]): PvValue;
}
