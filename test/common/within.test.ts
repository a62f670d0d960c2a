// within(): a bounded wait that says which came first, and passes a rejection on.
import { test } from "node:test";
import assert from "node:assert/strict";
import { within } from "../../src/common/within.js";

test("within: true when the promise fulfils in time, false when the time runs out first, a rejection passed on", async () => {
  assert.equal(await within(Promise.resolve("x"), 1000), true);
  assert.equal(await within(new Promise(() => undefined), 20), false);
  await assert.rejects(within(Promise.reject(new Error("boom")), 1000), /boom/);
});
