// Placeholder suite so the runner has something to run on every runtime until the real suites
// land. It checks the toolchain itself: node:test, node:assert, fast-check and tests/_fc.ts.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { fcCommandsConstraints, fcParams } from "./_fc.ts";

describe("smoke", () => {
  it("node:test and node:assert/strict work on this runtime", () => {
    assert.deepEqual({ a: [1, 2] }, { a: [1, 2] });
    assert.throws(() => assert.equal(1, 2), assert.AssertionError);
  });

  it("fcParams() keeps the caller's numRuns unless FC_NUM_RUNS is set", () => {
    const params = fcParams({ numRuns: 7 });
    if (globalThis.process?.env["FC_NUM_RUNS"] === undefined) assert.equal(params.numRuns, 7);
    assert.equal(fcCommandsConstraints({ size: "+1" }).size, "+1");
  });

  it("a fast-check property runs with fcParams()", () => {
    let runs = 0;
    fc.assert(
      fc.property(fc.integer(), fc.integer(), (a, b) => {
        runs++;
        return a + b === b + a;
      }),
      fcParams({ numRuns: 50 }),
    );
    assert.ok(runs > 0);
  });
});
