// The entry points `.` (mod.ts) and `./core` (core.ts) run in browsers and Workers: bundled for
// the browser platform by esbuild, they need no Node built-in and no package, and every file
// they pull in says so in its first line. The same check must catch a file that imports a Node
// built-in, or it proves nothing.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
// @ts-types="./_check_browser.d.ts"
import { checkBrowserEntry } from "../scripts/check_browser.mjs";

describe("browser compatibility (esbuild, platform browser)", () => {
  for (const entry of ["mod.ts", "core.ts"]) {
    it(`${entry} bundles for the browser without Node built-ins`, async () => {
      const { ok, problems, files } = await checkBrowserEntry(entry);
      assert.deepEqual(problems, []);
      assert.ok(ok);
      assert.ok(files.some((f: string) => f.startsWith("src/")), "the bundle holds the sources");
    });
  }

  it("the check catches a file that imports node:buffer", async () => {
    const { ok, problems } = await checkBrowserEntry("tests/fixtures/not_browser.ts");
    assert.equal(ok, false);
    assert.deepEqual(problems, [
      'tests/fixtures/not_browser.ts imports the Node built-in "node:buffer"',
    ]);
  });

  it("the node entry point is not browser compatible (it imports node:buffer)", async () => {
    const { ok, problems } = await checkBrowserEntry("node.ts");
    assert.equal(ok, false);
    assert.ok(problems.some((p: string) => p.includes('"node:buffer"')));
  });
});
