// htable tables without a server: the param forms, values and initval, inc/dec, expiry per item and
// per table swept by the timer wheel (driven by an injected clock, so no waiting), updateexpire;
// keys and values that are a message's header text do not keep the message's head alive.
import { test } from "node:test";
import assert from "node:assert/strict";
import { HashTable, parseTables, type TableSpec } from "../../../src/modules/htable/index.js";
import { retainedPerItem, slicedCallId } from "../../support/retained.js";

function spec(over: Partial<TableSpec> = {}): TableSpec {
  return { name: "a", size: 4, autoexpire: 0, initval: undefined, updateexpire: true, ...over };
}

test("tables: Kamailio string, array of strings, objects", () => {
  const one = parseTables("a=>size=4;autoexpire=60;initval=0");
  assert.deepEqual(one, { ok: true, tables: [{ name: "a", size: 4, autoexpire: 60, initval: 0, updateexpire: true }] });
  const two = parseTables(["a=>size=4;", "b=>autoexpire=5;updateexpire=0"]);
  assert.ok(two.ok);
  assert.deepEqual(
    two.tables.map((t) => [t.name, t.autoexpire, t.updateexpire]),
    [
      ["a", 0, true],
      ["b", 5, false],
    ],
  );
  const obj = parseTables({ a: { size: 4, autoexpire: 60, initval: 0 } });
  assert.deepEqual(obj, one);
});

test("tables: bad definitions are refused with a reason", () => {
  for (const bad of [
    "a",
    "a=>size",
    "a=>size=x",
    "a=>size=40",
    "a=>dbtable=t",
    "a=>foo=1",
    "=>size=4",
    ["a=>", "a=>"],
    42,
    [1],
  ]) {
    const r = parseTables(bad);
    assert.equal(r.ok, false, JSON.stringify(bad));
    if (!r.ok) assert.equal(r.code, "ERR_HTABLE_BAD_SPEC");
  }
});

test("get/set/delete/exists, initval, inc/dec on ints and strings", () => {
  const t = new HashTable(spec({ initval: 0 }), 1000);
  assert.equal(t.get("missing"), 0, "initval");
  assert.equal(t.exists("missing"), false);
  assert.equal(t.add("calls", 1), 1);
  assert.equal(t.add("calls", 1), 2);
  assert.equal(t.add("calls", -5), -3);
  t.set("name", "bob");
  assert.equal(t.get("name"), "bob");
  assert.equal(t.add("name", 1), undefined, "inc on a string fails");
  assert.equal(t.delete("name"), true);
  assert.equal(t.delete("name"), false);
  assert.equal(new HashTable(spec(), 1000).get("x"), undefined);
});

test("autoexpire: items expire by the sweep, reads see them gone at once, updateexpire refreshes", () => {
  let now = 1_000_000;
  const t = new HashTable(spec({ autoexpire: 10 }), 1000, () => now);
  t.set("k1", 1);
  now += 5000;
  t.set("k2", 2);
  t.set("k1", 11); // updateexpire: k1 now expires at +15 s
  now += 6000;
  assert.deepEqual(t.sweep(), []);
  now += 5000; // k2 due (+16 > 15), k1 due at 16 s exactly
  assert.equal(t.get("k2"), undefined, "past expiry reads as absent before the sweep");
  const out = t.sweep();
  assert.deepEqual(out.map((e) => e.key).sort(), ["k1", "k2"]);
  assert.equal(t.size, 0);
  assert.equal(t.scheduled, 0);
  assert.equal(t.stats.expired, 2);
});

test("updateexpire=false keeps the first expiry; per-item setExpire and expiresIn", () => {
  let now = 0;
  const t = new HashTable(spec({ autoexpire: 10, updateexpire: false }), 100, () => now);
  t.set("k", 1);
  now = 9000;
  t.set("k", 2);
  assert.equal(t.expiresIn("k"), 1);
  now = 10_000;
  assert.deepEqual(t.sweep(), [{ key: "k", value: 2 }]);

  const u = new HashTable(spec(), 100, () => now);
  u.set("forever", "x");
  assert.equal(u.expiresIn("forever"), 0);
  assert.equal(u.setExpire("forever", 2), true);
  assert.equal(u.expiresIn("forever"), 2);
  assert.equal(u.setExpire("nope", 2), false);
  now += 1999;
  assert.deepEqual(u.sweep(), []);
  now += 1;
  assert.deepEqual(u.sweep(), [{ key: "forever", value: "x" }]);
  u.set("again", 1);
  u.setExpire("again", 1);
  u.setExpire("again", 0);
  now += 5000;
  assert.deepEqual(u.sweep(), []);
  assert.equal(u.get("again"), 1);
});

test("an expired item a set or a delete reaches before the sweep is still reported by the sweep", () => {
  let now = 0;
  const t = new HashTable(spec({ autoexpire: 1 }), 100, () => now);
  t.set("replaced", "old");
  t.set("deleted", "gone");
  t.set("kept", "fresh");
  now = 1500; // all three past their expiry, none swept yet
  t.set("replaced", "new");
  assert.equal(t.delete("deleted"), false, "already expired: not there to delete");
  const out = t.sweep();
  assert.deepEqual(
    out.map((e) => `${e.key}=${e.value}`).sort(),
    ["deleted=gone", "kept=fresh", "replaced=old"],
    "each expiry reported once, with the value it expired with",
  );
  assert.equal(t.stats.expired, 3);
  assert.equal(t.get("replaced"), "new");
  assert.equal(t.scheduled, 1, "only the new item waits");
  now = 3000;
  assert.deepEqual(t.sweep(), [{ key: "replaced", value: "new" }]);
});

test("the wheel holds no memory for deleted or overwritten items", () => {
  let now = 0;
  const t = new HashTable(spec({ autoexpire: 1 }), 10, () => now);
  for (let i = 0; i < 1000; i++) t.set(`k${i % 10}`, i);
  assert.equal(t.scheduled, 10);
  for (let i = 0; i < 10; i++) t.delete(`k${i}`);
  assert.equal(t.scheduled, 0);
  now += 5000;
  assert.deepEqual(t.sweep(), []);
});

test("a key or value read from a message is stored without the message's head", () => {
  const t = new HashTable(spec({ size: 16 }), 1000);
  const perEntry = retainedPerItem(2000, (i) => t.set(slicedCallId(i), slicedCallId(i + 1)));
  assert.equal(t.get(slicedCallId(0)), slicedCallId(1));
  // Two 4 KB heads per entry if the slices were kept; a Map entry and two short strings otherwise.
  assert.ok(perEntry < 1500, `${perEntry} B held per entry`);
});
