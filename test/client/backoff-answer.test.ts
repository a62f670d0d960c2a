// Pure parts of the client: jittered exponential backoff bounds (property) and the tindex/tlabel
// echo of answer(). Neither is exported by evsip-client, so they are imported from its source.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { backoffDelay, resolveReconnect } from "../../packages/client/src/backoff.js";
import { echoCorrelation } from "../../packages/client/src/answer.js";

test("backoff: delay lies in [d/2, d] with d = min(maxDelay, initial * factor^(n-1))", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 1000 }),
      fc.integer({ min: 1, max: 60000 }),
      fc.integer({ min: 1, max: 50 }),
      fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      (initialDelay, maxDelay, attempt, r) => {
        const p = resolveReconnect({ initialDelay, maxDelay });
        const d = Math.min(p.maxDelay, initialDelay * 2 ** (attempt - 1));
        const got = backoffDelay(p, attempt, () => r);
        assert.ok(got >= Math.floor(d / 2) && got <= Math.ceil(d), `${got} not in [${d / 2}, ${d}]`);
      },
    ),
    { numRuns: 300 },
  );
});

test("backoff: defaults, and false disables reconnecting", () => {
  assert.deepEqual(resolveReconnect(undefined), { initialDelay: 100, maxDelay: 30000, maxAttempts: Infinity, factor: 2 });
  assert.equal(resolveReconnect(false).maxAttempts, 0);
  assert.equal(resolveReconnect({ maxAttempts: 3 }).maxAttempts, 3);
});

test("echoCorrelation: copies present fields, keeps the reply's own, ignores non-objects", () => {
  assert.deepEqual(echoCorrelation({ tindex: 1, tlabel: 2, x: 3 }, { a: 1 }), { a: 1, tindex: 1, tlabel: 2 });
  assert.deepEqual(echoCorrelation({ tindex: 1 }, { tindex: 9 }), { tindex: 9 });
  assert.deepEqual(echoCorrelation({ id: 5 }, { a: 1 }, ["id"]), { a: 1, id: 5 });
  assert.equal(echoCorrelation("text", "reply"), "reply");
  assert.deepEqual(echoCorrelation({ tindex: 1 }, [1]), [1]);
});
