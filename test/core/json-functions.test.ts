// Kamailio's json and jansson functions on the route context: seed 001's
// jansson_get("tm_trans.tm_index", "$evapi(msg)", "$var(t_index)"), value shapes, set/append, and
// false (Kamailio's -1) for bad JSON and paths that do not resolve; fast-check for hostile paths.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { routeContext } from "../support/route-context.js";

const MSG = '{"tm_trans":{"tm_index":4711,"tm_label":"99"},"list":[1,2.5,{"k":true}],"s":"a/b","z":null}';

test("jansson.get reads Kamailio's paths into a pseudo-variable", () => {
  const c = routeContext();
  const get = (path: string) => (c.jansson.get(path, MSG, "$var(out)") ? c.pv("$var(out)") : "failed");
  assert.equal(get("tm_trans.tm_index"), 4711);
  assert.equal(get("tm_trans.tm_label"), "99");
  assert.equal(get("list[1]"), "2.5");
  assert.equal(get("list[2].k"), 1);
  assert.equal(get("list"), '[1,2.5,{"k":true}]');
  assert.equal(get("s"), "a/b");
  assert.equal(get("z"), null);
  assert.equal(get("missing"), "failed");
  assert.equal(get("list[9]"), "failed");
  assert.equal(get("list[x]"), "failed");
  assert.equal(c.jansson.get("a", "{not json", "$var(out)"), false);
});

test("jansson.set and append build a document in the destination", () => {
  const c = routeContext();
  assert.equal(c.jansson.set("string", "call.from", "alice", "$var(doc)"), true);
  assert.equal(c.jansson.set("int", "call.n", "7", "$var(doc)"), true);
  assert.equal(c.jansson.set("array", "call.tags", "[]", "$var(doc)"), true);
  assert.equal(c.jansson.append("str", "call.tags", "x", "$var(doc)"), true);
  assert.equal(c.jansson.set("true", "ok", "", "$var(doc)"), true);
  assert.equal(c.pv("$var(doc)"), '{"call":{"from":"alice","n":7,"tags":["x"]},"ok":true}');
  assert.equal(c.jansson.set("int", "x", "7a", "$var(doc)"), false);
  assert.equal(c.jansson.set("nope", "x", "1", "$var(doc)"), false);
  assert.equal(c.jansson.set("int", "call.tags[3]", "1", "$var(doc)"), false, "arrays are not grown by set");
});

test("json.getField gives the field as JSON text, getString a string bare", () => {
  const c = routeContext();
  assert.equal(c.json.getField(MSG, "s", "$var(f)"), true);
  assert.equal(c.pv("$var(f)"), '"a\\/b"');
  assert.equal(c.json.getString(MSG, "s", "$var(f)"), true);
  assert.equal(c.pv("$var(f)"), "a/b");
  assert.equal(c.json.getField(MSG, "tm_trans", "$var(f)"), true);
  assert.equal(c.pv("$var(f)"), '{ "tm_index": 4711, "tm_label": "99" }');
  assert.equal(c.json.getField(MSG, "tm_trans.tm_index", "$var(f)"), false, "json_get_field takes a field name, not a path");
  assert.equal(c.json.getField("[1]", "0", "$var(f)"), false);
});

test("property: jansson.get on any path and any text answers true or false, never throws", () => {
  const c = routeContext();
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom("a", ".", "[", "]", "0", "1", "-", "x") }), fc.json(), (path, json) => {
      assert.equal(typeof c.jansson.get(path, json, "$var(o)"), "boolean");
      assert.equal(typeof c.jansson.set("int", path, "1", "$var(o)"), "boolean");
    }),
    { numRuns: 1000 },
  );
});
