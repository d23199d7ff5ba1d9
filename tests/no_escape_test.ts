/**
 * No path of the library produces an unhandled rejection or an uncaught
 * exception: the adapter and store suites (tests/node, tests/redis) run in a
 * child test process of the same runtime with tests/_escape_guard.ts
 * preloaded, which watches the whole process (Node: every test file's
 * process) and records anything that escapes. First a control: the guard
 * catches a deliberate unhandled rejection.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { run, RUNTIME } from "./_spawn.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..");

/** The adapter and store suites, and the hostile property. */
function suites(): string[] {
  const files: string[] = [];
  for (const dir of ["node", "redis"]) {
    for (const name of readdirSync(join(HERE, dir)).sort()) {
      if (name.endsWith("_test.ts")) files.push(`./tests/${dir}/${name}`);
    }
  }
  for (const name of readdirSync(HERE).sort()) {
    if (name.startsWith("hostile_") && name.endsWith("_test.ts")) files.push(`./tests/${name}`);
  }
  return files;
}

/** The test command of this runtime with the guard preloaded. */
function guardedTestCommand(files: readonly string[]): string[] {
  const exec = process.execPath;
  const guard = "./tests/_escape_guard.ts";
  if (RUNTIME === "deno") return [exec, "test", "-A", "--preload", guard, ...files];
  if (RUNTIME === "bun") return [exec, "test", "--timeout=120000", "--preload", guard, ...files];
  return [exec, "--import", "tsx", "--import", guard, "--test", "--test-reporter=spec", ...files];
}

interface GuardReport {
  readonly pid: number;
  readonly escaped: readonly string[];
}

async function guarded(files: readonly string[]) {
  const dir = mkdtempSync(join(tmpdir(), "escape-guard-"));
  const file = join(dir, "reports.jsonl");
  try {
    const finished = await run(guardedTestCommand(files), {
      cwd: ROOT,
      deadlineMs: 6 * 60_000,
      env: { ESCAPE_GUARD_FILE: file },
    });
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {
      // no process reported
    }
    const reports = text.split("\n").filter((l) => l !== "").map((l) =>
      JSON.parse(l) as GuardReport
    );
    return { finished, reports, escaped: reports.flatMap((r) => r.escaped) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe(`nothing escapes the adapters and the store (${RUNTIME}, whole test process watched)`, () => {
  it("control: a deliberate unhandled rejection is caught and fails the run", async () => {
    const { finished, reports, escaped } = await guarded(["./tests/_escape_probe.ts"]);
    assert.ok(reports.length >= 1, `the guard did not report: ${finished.stderr}`);
    // Node: the guard's process events. Deno: the guard's global event (and Deno's runner).
    // Bun: its test runner takes the rejection itself and fails the test with it.
    const caught = RUNTIME === "bun"
      ? (finished.stdout + finished.stderr).includes("deliberately unhandled")
      : escaped.some((e) => e.includes("deliberately unhandled"));
    assert.ok(caught, `not caught: ${JSON.stringify(escaped)}\n${finished.stderr}`);
    assert.notEqual(finished.code, 0);
  });

  it("the adapter and store suites run with no unhandled rejection and no uncaught exception", async () => {
    const files = suites();
    assert.ok(files.length >= 5, files.join(", "));
    const { finished, reports, escaped } = await guarded(files);
    assert.equal(finished.killed, false, "the guarded run did not finish in time");
    assert.ok(reports.length >= 1, `the guard did not report: ${finished.stderr.slice(-2000)}`);
    assert.deepEqual(escaped, []);
    // The suites did run: the runner's own summary counts passed tests.
    const output = finished.stdout + finished.stderr;
    const passed = Math.max(
      0,
      ...[...output.matchAll(/(?:^|\s)(?:ℹ pass (\d+)|(\d+) pass\b|(\d+) passed)/gm)].map((m) =>
        Number(m[1] ?? m[2] ?? m[3])
      ),
    );
    assert.ok(passed > 0, `no passed test in the guarded run's output:\n${output.slice(-2000)}`);
    assert.equal(
      finished.code,
      0,
      `the guarded suites failed:\n${(finished.stdout + finished.stderr).slice(-4000)}`,
    );
  });
});
