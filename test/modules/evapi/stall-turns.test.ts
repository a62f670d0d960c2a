// The turns a stall must span (producer-backpressure.ts) are loop turns in which the kernel could
// take bytes: reports made within one iteration, with no poll phase between them, count once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { currentTurn, turnPassed } from "../../../src/modules/evapi/producer-backpressure.js";

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test("three reports in one iteration are one turn; a report after a poll phase is the next", async () => {
  await nextTurn();
  const t0 = currentTurn();
  turnPassed(); // the flush
  turnPassed(); // an overflow
  turnPassed(); // the re-check timer
  assert.equal(currentTurn() - t0, 1);
  await nextTurn();
  turnPassed();
  assert.equal(currentTurn() - t0, 2);
});

test("a report while no poll phase has passed since the last does not count, however many come", async () => {
  await nextTurn();
  const t0 = currentTurn();
  for (let i = 0; i < 100; i++) turnPassed();
  await Promise.resolve(); // a microtask is not a turn
  turnPassed();
  assert.equal(currentTurn() - t0, 1);
});
