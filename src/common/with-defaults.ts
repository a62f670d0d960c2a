// Options objects whose defaults live in one constant: the options resolved against it, so a
// default is never written again as a `??` fallback next to each use.

/**
 * `defaults`, with each of its keys that `given` sets (to anything but undefined) taken from `given`.
 * Keys of `given` that `defaults` lacks are ignored.
 * @example withDefaults({ lines: 10, intervalMs: 10_000 }, { lines: 1 }) // { lines: 1, intervalMs: 10000 }
 */
export function withDefaults<D extends object>(defaults: D, given: Partial<D>): D {
  const out = { ...defaults };
  for (const k of Object.keys(defaults) as (keyof D)[]) {
    const v = given[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}
