/**
 * No path of the library produces an unhandled rejection or an uncaught
 * exception: scripts/test_all.mjs (npm test) preloads tests/_escape_guard.ts
 * into every test process of every runtime (Node: every test file's
 * process), which records anything that escapes, even between tests, and
 * test_all fails the runtime's run if anything did. Here, the controls: a
 * test_all run of a file that leaves a rejection unhandled fails, and this
 * very process is watched.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { run, RUNTIME } from "./_spawn.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

describe(`nothing escapes a test process (${RUNTIME}, the escape guard)`, () => {
  it("control: test_all fails a run whose test passes but leaves a rejection unhandled", async () => {
    // test_all is a Node script (Node is always there: it installs Deno and Bun).
    const node = RUNTIME === "node" ? process.execPath : "node";
    const finished = await run(
      [node, "scripts/test_all.mjs", `--only=${RUNTIME}`, "tests/_escape_probe.ts"],
      { cwd: ROOT, deadlineMs: 2 * 60_000, env: { TEST_FILTER: "", TEST_NAME: "" } },
    );
    const output = finished.stdout + finished.stderr;
    assert.equal(finished.killed, false, "the run did not finish in time");
    assert.notEqual(finished.code, 0, output.slice(-2000));
    assert.ok(output.includes("deliberately unhandled"), `not reported:\n${output.slice(-2000)}`);
    const last = finished.stdout.trim().split("\n").at(-1) ?? "";
    assert.match(last, /^\d+ passed, [1-9]\d* failed$/, "the summed line counts a failure");
    // Bun's runner fails the test itself; on Node and Deno the guard's report does it.
    if (RUNTIME !== "bun") assert.match(output, /unhandled rejection\(s\) or uncaught exception/);
  });

  it("this run is watched: the guard is loaded in this test process", {
    skip: process.env["ESCAPE_GUARD_FILE"] === undefined
      ? "not run by scripts/test_all.mjs (npm test), which preloads the guard"
      : false,
  }, () => {
    const marker = (globalThis as Record<symbol, unknown>)[Symbol.for("sesscache.escapeGuard")];
    assert.equal(marker, true, "tests/_escape_guard.ts is not preloaded into this process");
  });
});
