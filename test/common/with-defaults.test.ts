// withDefaults: given values win, undefined ones fall back, unknown keys stay out, and the frozen
// defaults constant is never written to.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withDefaults } from "../../src/common/with-defaults.js";

test("given values win over defaults; undefined falls back; other keys are ignored", () => {
  const DEFAULTS: Readonly<{ a: number; b: string; c: boolean }> = Object.freeze({ a: 1, b: "x", c: true });
  const given = { a: 0, b: undefined, c: false, extra: 9 };
  assert.deepEqual(withDefaults(DEFAULTS, given), { a: 0, b: "x", c: false });
  assert.deepEqual(withDefaults(DEFAULTS, {}), { a: 1, b: "x", c: true });
  assert.notEqual(withDefaults(DEFAULTS, {}), DEFAULTS, "a copy, so callers may not share it by accident");
  assert.deepEqual(DEFAULTS, { a: 1, b: "x", c: true });
});
