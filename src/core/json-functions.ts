// Kamailio's json (`json_get_field`, `json_get_string`) and jansson (`jansson_get`, `jansson_set`,
// `jansson_append`) functions, for routes ported from a cfg. Arguments are values (pass
// ctx.evapi.msg, not "$evapi(msg)"); the destination is a pseudo-variable spec, as in Kamailio.
// Each returns false where Kamailio returns -1 (bad JSON, a path that does not resolve).
// JSON.parse stays the idiomatic way in TypeScript.
import type { JanssonApi, JsonApi } from "./context-types.js";
import type { RouteContext } from "./context.js";
import { jsonCText, janssonPath, janssonValue, jsonPathGet, jsonPathSet, parseJson, type Json } from "./tr/json-path.js";
import { strToInt } from "./tr/tr-string.js";

function field(json: string, name: string): Json | undefined {
  const doc = parseJson(json);
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return undefined;
  return Object.prototype.hasOwnProperty.call(doc, name) ? doc[name] : undefined;
}

export function createJsonApi(ctx: RouteContext): JsonApi {
  return {
    getField(json, name, dst) {
      const v = field(json, name);
      if (v === undefined) return false;
      // json_object_to_json_string: a string comes back quoted, as Kamailio's json_get_field gives it.
      ctx.setPv(dst, typeof v === "string" ? JSON.stringify(v).replace(/\//g, "\\/") : jsonCText(v));
      return true;
    },
    getString(json, name, dst) {
      const v = field(json, name);
      if (v === undefined) return false;
      ctx.setPv(dst, jsonCText(v));
      return true;
    },
  };
}

/** The value jansson_set adds for `type`; undefined for an unknown type or a value that does not parse. */
function typedValue(type: string, value: string): Json | undefined {
  switch (type) {
    case "object":
    case "obj":
    case "array": {
      const v = parseJson(value);
      const isArray = Array.isArray(v);
      const ok = typeof v === "object" && v !== null && (type === "array" ? isArray : !isArray);
      return ok ? v : undefined;
    }
    case "string":
    case "str":
      return value;
    case "integer":
    case "int":
      return strToInt(value);
    case "real": {
      const n = Number(value);
      return value.trim() !== "" && Number.isFinite(n) ? n : undefined;
    }
    case "true":
      return true;
    case "false":
      return false;
    case "null":
      return null;
    default:
      return undefined;
  }
}

export function createJanssonApi(ctx: RouteContext): JanssonApi {
  const set = (append: boolean, type: string, path: string, value: string, dst: string): boolean => {
    const v = typedValue(type, value);
    const steps = janssonPath(path);
    if (v === undefined || !steps) return false;
    const current = ctx.pv(dst);
    const doc = parseJson(typeof current === "string" ? current : "{}");
    if (doc === undefined || !jsonPathSet(doc, steps, v, append)) return false;
    ctx.setPv(dst, JSON.stringify(doc));
    return true;
  };
  return {
    get(path, json, dst) {
      const doc = parseJson(json);
      const steps = janssonPath(path);
      const v = doc === undefined || !steps ? undefined : jsonPathGet(doc, steps);
      if (v === undefined) return false;
      ctx.setPv(dst, janssonValue(v));
      return true;
    },
    set: (type, path, value, dst) => set(false, type, path, value, dst),
    append: (type, path, value, dst) => set(true, type, path, value, dst),
  };
}
