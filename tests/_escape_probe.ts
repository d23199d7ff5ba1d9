/**
 * A deliberately escaping test file for tests/no_escape_test.ts: its one
 * test passes, and leaves a rejection nobody handles, which the escape guard
 * must catch (the guard's own check). Not a `*_test.ts` file: the suite never
 * runs it by itself.
 *
 * @module
 */

import { it } from "node:test";

it("passes, and leaves a rejection unhandled", async () => {
  void Promise.reject(new Error("deliberately unhandled"));
  await new Promise((r) => setTimeout(r, 10));
});
