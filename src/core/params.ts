// Param schemas for the server and for modules: each param has a default and a check that names
// what is wrong. Validation runs once at app load (and in `evsip check`), never on the hot path.
import type { ErrorCode } from "../errors.js";

/** One param: its default and a check returning an error message, or undefined when valid. */
export interface ParamSpec<T> {
  readonly default: T;
  readonly check: (value: unknown) => string | undefined;
  readonly doc?: string;
  /** The code of a failed check, when it has one more specific than ERR_CONFIG_INVALID. */
  readonly code?: ErrorCode;
}

export type ParamSchema<P> = { readonly [K in keyof P]: ParamSpec<P[K]> };

/** One problem found by validateParams, with the dotted param name. */
export interface ParamProblem {
  readonly param: string;
  readonly message: string;
  /** A code more specific than ERR_CONFIG_INVALID (ERR_EVENT_ROUTE_NAME, ERR_CONFIG_UNKNOWN_MODULE), if any. */
  readonly code?: ErrorCode;
}

export function intParam(def: number, min: number, max: number, doc?: string): ParamSpec<number> {
  return {
    default: def,
    doc,
    check: (v) =>
      typeof v === "number" && Number.isInteger(v) && v >= min && v <= max
        ? undefined
        : `must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`,
  };
}

export function boolParam(def: boolean, doc?: string): ParamSpec<boolean> {
  return { default: def, doc, check: (v) => (typeof v === "boolean" ? undefined : `must be true or false`) };
}

export function stringParam<T extends string | undefined>(def: T, doc?: string, pattern?: RegExp): ParamSpec<T> {
  return {
    default: def,
    doc,
    check: (v) => {
      if (typeof v !== "string") return `must be a string, got ${JSON.stringify(v)}`;
      if (pattern && !pattern.test(v)) return `has an invalid format: ${JSON.stringify(v)}`;
      return undefined;
    },
  };
}

export function oneOfParam<T extends string>(def: T, values: readonly T[], doc?: string): ParamSpec<T> {
  return {
    default: def,
    doc,
    check: (v) =>
      (values as readonly unknown[]).includes(v) ? undefined : `must be one of ${values.join(", ")}, got ${JSON.stringify(v)}`,
  };
}

/** A param checked by a custom function (objects, strings with a grammar). */
export function customParam<T>(def: T, check: (v: unknown) => string | undefined, doc?: string, code?: ErrorCode): ParamSpec<T> {
  return { default: def, doc, check, ...(code && { code }) };
}

/**
 * Fills defaults and checks every given value. Unknown names are problems too, so a typo in a
 * param name is reported instead of silently ignored.
 */
export function validateParams<P>(
  prefix: string,
  schema: ParamSchema<P>,
  given: unknown,
): { params: P; problems: ParamProblem[] } {
  const problems: ParamProblem[] = [];
  const out: Record<string, unknown> = {};
  const input = (given ?? {}) as Record<string, unknown>;
  if (typeof input !== "object" || Array.isArray(input)) {
    return { params: out as P, problems: [{ param: prefix, message: "must be an object" }] };
  }
  for (const key of Object.keys(schema) as (keyof P & string)[]) {
    const spec = schema[key];
    const v = input[key];
    if (v === undefined) {
      out[key] = spec.default;
      continue;
    }
    const err = spec.check(v);
    if (err) problems.push({ param: `${prefix}.${key}`, message: err, ...(spec.code && { code: spec.code }) });
    out[key] = v;
  }
  for (const key of Object.keys(input)) {
    if (!(key in schema)) problems.push({ param: `${prefix}.${key}`, message: "is not a known param" });
  }
  return { params: out as P, problems };
}
