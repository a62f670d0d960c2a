// JSON-RPC 2.0 over netstrings as jsonrpcc speaks it (docs/jsonrpcc.md "Wire"):
// requests keep Kamailio's key order {"id","jsonrpc","method","params"}, one netstring each;
// responses are classified without throwing (peer input) and the result text follows json-c's
// json_object_get_string: strings without quotes, numbers/booleans as text, containers as JSON.
import { encodeNetstring } from "evsip-client/netstring";
import { parseLenientJson } from "./lenient-json.js";

/** What `params` may be: a value, or a string parsed leniently (json-c style). */
export type JsonRpcParams = Record<string, unknown> | unknown[] | string | number | boolean | null | undefined;

/** Normalises params: strings are parsed leniently (unparsable → null), undefined → null. */
export function normaliseParams(params: JsonRpcParams): unknown {
  if (params === undefined) return null;
  return typeof params === "string" ? parseLenientJson(params) : params;
}

/** One request frame: `<len>:{"id":N,"jsonrpc":"2.0","method":M,"params":P},`. */
export function encodeRequest(id: number, method: string, params: unknown): Buffer {
  return encodeNetstring(`{"id":${id},"jsonrpc":"2.0","method":${JSON.stringify(method)},"params":${stringify(params)}}`);
}

/** One notification frame: the request without `id`. */
export function encodeNotification(method: string, params: unknown): Buffer {
  return encodeNetstring(`{"jsonrpc":"2.0","method":${JSON.stringify(method)},"params":${stringify(params)}}`);
}

function stringify(v: unknown): string {
  try {
    return JSON.stringify(v) ?? "null";
  } catch {
    return "null"; // a cycle or a BigInt: send null, as json-c sends null for what it cannot read
  }
}

/** A classified incoming frame. */
export type Incoming =
  | { readonly kind: "result"; readonly id: number; readonly value: unknown }
  | { readonly kind: "error"; readonly id: number; readonly error: unknown }
  | { readonly kind: "bad"; readonly detail: string };

/**
 * Classifies one incoming payload. `"result": null` is a success; an `error` that is not null wins
 * over `result`; a numeric-string id matches as Kamailio's json_object_get_int does. Never throws.
 */
export function classifyResponse(payload: Buffer): Incoming {
  let obj: unknown;
  try {
    obj = JSON.parse(payload.toString("utf8"));
  } catch {
    return { kind: "bad", detail: "not JSON" };
  }
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) return { kind: "bad", detail: "not a JSON object" };
  const o = obj as Record<string, unknown>;
  const id = toId(o.id);
  if (id === undefined) return { kind: "bad", detail: "no usable id" };
  if (o.error !== undefined && o.error !== null) return { kind: "error", id, error: o.error };
  if ("result" in o) return { kind: "result", id, value: o.result };
  return { kind: "bad", detail: "neither a result nor an error" };
}

function toId(v: unknown): number | undefined {
  if (typeof v === "number") return Number.isSafeInteger(v) ? v : undefined;
  if (typeof v === "string" && /^-?\d{1,15}$/.test(v)) return Number(v);
  return undefined;
}

/**
 * The text a result variable receives (json-c json_object_get_string): a string as is, a number or
 * boolean as text, null as "null", an object or array as compact JSON.
 *
 * @example
 * resultText("gw1"); // "gw1"      resultText({ a: 1 }); // '{"a":1}'
 */
export function resultText(v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (v === null || v === undefined) return "null";
  return stringify(v);
}
