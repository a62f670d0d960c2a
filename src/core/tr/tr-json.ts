// {json.parse,path} of Kamailio's json module: the value at `path` ("a.b[1]") of the JSON text,
// as json-c prints it; null when the text is not JSON or the path does not resolve.
import type { TrDef } from "./tr-types.js";
import { jsonCText, jsonModulePath, jsonPathGet, parseJson } from "./json-path.js";

export const JSON_TRS: ReadonlyArray<[string, TrDef]> = [
  [
    "json.parse",
    {
      min: 1,
      max: 1,
      apply: (v, p) => {
        const doc = parseJson(String(v));
        if (doc === undefined || !p[0]) return null;
        const found = jsonPathGet(doc, jsonModulePath(p[0], "."));
        return found === undefined || found === null ? null : jsonCText(found);
      },
    },
  ],
];
