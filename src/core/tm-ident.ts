// Transaction identifiers arrive from external applications as numbers or decimal strings
// ($T(id_index) echoed back through JSON); anything else is rejected before a lookup.

/** A non-negative integer from a number or a decimal string, else undefined. */
export function parseIdentArg(v: number | string): number | undefined {
  if (typeof v === "number") return Number.isSafeInteger(v) && v >= 0 ? v : undefined;
  if (typeof v !== "string" || !/^\s*\d{1,15}\s*$/.test(v)) return undefined;
  return Number(v.trim());
}
