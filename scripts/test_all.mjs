#!/usr/bin/env node
// Runs the test suite (tests/**/*_test.ts) on Deno, Bun and Node, one child process per
// runtime, streaming each runner's own output. Deno also runs the JSDoc `@example` blocks of
// mod.ts and src/ (`deno test --doc`).
//
// The last line printed is always `N passed, N failed` summed over the runtimes that ran.
// Exits non-zero when a runtime fails, exits non-zero, times out or runs no test.
//
// Usage:
//   node scripts/test_all.mjs                       all three runtimes, all test files
//   node scripts/test_all.mjs --only=node,bun       some runtimes (or TEST_RUNTIMES=node,bun)
//   node scripts/test_all.mjs tests/foo_test.ts     some files (doc tests are then skipped)
//   TEST_FILTER=cache node scripts/test_all.mjs     files whose path contains "cache"
//   TEST_NAME='flush' node scripts/test_all.mjs     tests whose name matches (each runner's
//                                                   own flag; Deno matches describe names only)
//   TEST_TIMEOUT_MS=60000 node scripts/test_all.mjs per-runtime timeout (default 8 minutes)
//
// Plain Node ESM without dependencies; it also runs under Deno and Bun.

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve, sep } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const ALL_RUNTIMES = ["deno", "bun", "node"];
const NODE_CONCURRENCY = 2;
const DEFAULT_TIMEOUT_MS = 8 * 60 * 1000;
// Bun's default per-test timeout is 5 s; Node and Deno have none. Property and TLS tests can
// take longer, so give Bun a generous one (the per-runtime timeout still bounds the whole run).
const BUN_PER_TEST_TIMEOUT_MS = 120 * 1000;
// Files whose JSDoc examples Deno runs as doc tests (paths that do not exist are skipped).
const DOC_TEST_PATHS = ["mod.ts", "src"];

function usage() {
  return [
    "Usage: node scripts/test_all.mjs [--only=deno,bun,node] [--timeout=MS] [test files...]",
    "       [--filter=<substring of file path>] [--name=<test name pattern>]",
    "Env: TEST_RUNTIMES=deno,bun,node  TEST_FILTER=...  TEST_NAME=...  TEST_TIMEOUT_MS=MS",
  ].join("\n");
}

function parseArgs(argv) {
  const options = {
    runtimes: splitList(process.env.TEST_RUNTIMES) ?? ALL_RUNTIMES,
    timeoutMs: Number(process.env.TEST_TIMEOUT_MS ?? DEFAULT_TIMEOUT_MS),
    filter: process.env.TEST_FILTER ?? "",
    name: process.env.TEST_NAME ?? "",
    files: [],
  };
  for (const arg of argv) {
    if (arg === "-h" || arg === "--help") {
      console.log(usage());
      process.exit(0);
    } else if (arg.startsWith("--only=")) {
      options.runtimes = splitList(arg.slice("--only=".length)) ?? [];
    } else if (arg.startsWith("--timeout=")) {
      options.timeoutMs = Number(arg.slice("--timeout=".length));
    } else if (arg.startsWith("--filter=")) {
      options.filter = arg.slice("--filter=".length);
    } else if (arg.startsWith("--name=")) {
      options.name = arg.slice("--name=".length);
    } else if (arg.startsWith("-")) {
      fail(`Unknown option: ${arg}\n${usage()}`);
    } else {
      options.files.push(arg);
    }
  }
  for (const runtime of options.runtimes) {
    if (!ALL_RUNTIMES.includes(runtime)) {
      fail(`Unknown runtime: "${runtime}" (expected one of ${ALL_RUNTIMES.join(", ")})`);
    }
  }
  if (options.runtimes.length === 0) fail("No runtime selected");
  if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) {
    fail(`Invalid timeout: ${options.timeoutMs}`);
  }
  return options;
}

function splitList(value) {
  if (value === undefined || value.trim() === "") return undefined;
  return value.split(",").map((s) => s.trim().toLowerCase()).filter((s) => s !== "");
}

function fail(message) {
  console.error(`test_all: ${message}`);
  console.log("0 passed, 1 failed");
  process.exit(2);
}

/** Test files under tests/ (recursively) named *_test.ts, as sorted POSIX relative paths. */
function findTestFiles(dir) {
  const found = [];
  const walk = (abs) => {
    for (const entry of readdirSync(abs, { withFileTypes: true })) {
      const path = join(abs, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== "node_modules" && !entry.name.startsWith(".")) walk(path);
      } else if (/_test\.(ts|mts|tsx)$/.test(entry.name)) {
        found.push(relative(ROOT, path).split(sep).join("/"));
      }
    }
  };
  if (existsSync(dir)) walk(dir);
  return found.sort();
}

function selectFiles(options) {
  let files;
  if (options.files.length > 0) {
    files = options.files.map((f) => {
      const abs = resolve(f);
      if (!existsSync(abs)) fail(`No such test file: ${f}`);
      return statSync(abs).isDirectory()
        ? findTestFiles(abs)
        : [relative(ROOT, abs).split(sep).join("/")];
    }).flat();
  } else {
    files = findTestFiles(join(ROOT, "tests"));
  }
  if (options.filter !== "") files = files.filter((f) => f.includes(options.filter));
  return [...new Set(files)];
}

/**
 * The escape guard, preloaded into every test process of every runtime: it records any unhandled
 * rejection or uncaught exception of the whole process (not only of a test), one JSON line
 * `{ pid, escaped }` per process, and the run fails if anything escaped or no process reported.
 */
const GUARD = existsSync(join(ROOT, "tests", "_escape_guard.ts")) ? "./tests/_escape_guard.ts" : "";

/** What the guard's processes wrote: how many reported, and everything that escaped. */
function readGuard(file) {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return { processes: 0, escaped: [] };
  }
  const reports = text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
  return { processes: reports.length, escaped: reports.flatMap((r) => r.escaped) };
}

function bin(name) {
  const local = join(ROOT, "node_modules", ".bin", name);
  if (existsSync(local)) return local;
  console.error(`test_all: ${local} not found (run "npm ci"); falling back to "${name}" on PATH`);
  return name;
}

/** Per-runtime command lines. `report` is a scratch directory for machine-readable reports. */
function commandFor(runtime, files, options, report) {
  const withDocTests = options.files.length === 0 && options.filter === "" && options.name === "";
  const relFiles = files.map((f) => `./${f}`);
  switch (runtime) {
    case "deno": {
      const docPaths = withDocTests ? DOC_TEST_PATHS.filter((p) => existsSync(join(ROOT, p))) : [];
      // --parallel: one test file per core at a time (two here), as Node's runner does below.
      const args = ["test", "-A", "--parallel", ...(GUARD ? [`--preload=${GUARD}`] : [])];
      if (docPaths.length > 0) args.push("--doc");
      if (options.name !== "") args.push(`--filter=${options.name}`);
      args.push(`--junit-path=${join(report, "deno.xml")}`, ...relFiles, ...docPaths);
      return { cmd: bin("deno"), args };
    }
    case "bun":
      return {
        cmd: bin("bun"),
        args: [
          "test",
          `--timeout=${BUN_PER_TEST_TIMEOUT_MS}`,
          ...(GUARD ? ["--preload", GUARD] : []),
          ...(options.name !== "" ? [`--test-name-pattern=${options.name}`] : []),
          ...relFiles,
        ],
      };
    case "node":
      return {
        cmd: process.release?.name === "node" ? process.execPath : "node",
        args: [
          "--import",
          "tsx",
          ...(GUARD ? ["--import", GUARD] : []),
          "--test",
          // Two files at a time: most of the slow ones wait on sockets and child processes.
          `--test-concurrency=${NODE_CONCURRENCY}`,
          "--test-reporter=spec",
          ...(options.name !== "" ? [`--test-name-pattern=${options.name}`] : []),
          ...relFiles,
        ],
      };
  }
  throw new Error(`unreachable: ${runtime}`);
}

// deno-lint-ignore no-control-regex
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;

/** Counts from the runner's own summary lines (last occurrence wins). */
function parseSummary(runtime, text) {
  const plain = text.replace(ANSI, "");
  const last = (re) => {
    let value;
    for (const m of plain.matchAll(re)) value = Number(m[1]);
    return value;
  };
  if (runtime === "deno") {
    // "ok | 4 passed (3 steps) | 0 failed | 1 ignored (1 step) (546ms)"
    const line = [...plain.matchAll(/^(?:ok|FAILED) \| .*$/gm)].at(-1)?.[0];
    if (line === undefined) return undefined;
    const count = (word) => {
      const m = line.match(new RegExp(`(\\d+) ${word}(?: \\((\\d+) steps?\\))?`));
      return m ? { tests: Number(m[1]), steps: Number(m[2] ?? 0) } : { tests: 0, steps: 0 };
    };
    const passed = count("passed");
    const failed = count("failed");
    const ignored = count("ignored");
    return {
      passed: passed.tests + passed.steps,
      failed: failed.tests + failed.steps,
      skipped: ignored.tests + ignored.steps,
      raw: line.replace(/\s*\(\d[\d.]*m?s\)\s*$/, "").trim(),
    };
  }
  if (runtime === "bun") {
    // " 6 pass\n 1 skip\n 1 todo\n 1 fail\nRan 9 tests across 2 files."
    const passed = last(/^\s*(\d+) pass$/gm);
    const failed = last(/^\s*(\d+) fail$/gm);
    if (passed === undefined && failed === undefined) return undefined;
    const skipped = (last(/^\s*(\d+) skip$/gm) ?? 0) + (last(/^\s*(\d+) todo$/gm) ?? 0);
    const ran = plain.match(/^Ran \d+ tests? across \d+ files?\..*$/m)?.[0];
    return {
      passed: passed ?? 0,
      failed: failed ?? 0,
      skipped,
      raw: (ran ?? "").replace(/\s*\[[\d.]+m?s\]\s*$/, ""),
    };
  }
  // node, spec reporter: "ℹ tests 9\nℹ pass 6\nℹ fail 1\nℹ cancelled 0\nℹ skipped 1\nℹ todo 1"
  // (the TAP reporter prints the same lines with "#").
  const passed = last(/^[ℹ#] pass (\d+)$/gm);
  const failed = last(/^[ℹ#] fail (\d+)$/gm);
  if (passed === undefined && failed === undefined) return undefined;
  const cancelled = last(/^[ℹ#] cancelled (\d+)$/gm) ?? 0;
  const skipped = (last(/^[ℹ#] skipped (\d+)$/gm) ?? 0) + (last(/^[ℹ#] todo (\d+)$/gm) ?? 0);
  return {
    passed: passed ?? 0,
    failed: (failed ?? 0) + cancelled,
    skipped,
    raw: `tests ${last(/^[ℹ#] tests (\d+)$/gm) ?? "?"}, suites ${
      last(/^[ℹ#] suites (\d+)$/gm) ?? "?"
    }, pass ${passed ?? 0}, fail ${failed ?? 0}, cancelled ${cancelled}`,
  };
}

/**
 * Deno counts a `describe` as a test and each `it` inside it as a step, while Bun and Node count
 * only the `it`s. To make the numbers comparable, count the leaf test cases of Deno's JUnit
 * report: a test case is a leaf unless another one is named "<its name> > ...".
 */
function parseDenoJunit(path) {
  if (!existsSync(path)) return undefined;
  const xml = readFileSync(path, "utf8");
  const cases = [];
  for (const m of xml.matchAll(/<testcase name="([^"]*)"[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const body = m[3] ?? "";
    cases.push({
      name: m[1],
      failed: /<(failure|error)\b/.test(body),
      skipped: /<skipped\b/.test(body),
    });
  }
  const parents = new Set();
  for (const c of cases) {
    const parts = c.name.split(" &gt; ");
    for (let i = 1; i < parts.length; i++) parents.add(parts.slice(0, i).join(" &gt; "));
  }
  const leaves = cases.filter((c) => !parents.has(c.name));
  return {
    passed: leaves.filter((c) => !c.failed && !c.skipped).length,
    failed: leaves.filter((c) => c.failed).length,
    skipped: leaves.filter((c) => c.skipped).length,
  };
}

const running = new Set();

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    for (const child of running) killGroup(child, "SIGKILL");
    process.exit(130);
  });
}

function run(runtime, cmd, args, timeoutMs, guardFile) {
  return new Promise((resolvePromise) => {
    const env = { ...process.env };
    if (guardFile !== undefined) env.ESCAPE_GUARD_FILE = guardFile;
    else delete env.ESCAPE_GUARD_FILE;
    // Keep CI logs readable: no colour codes when our own output is not a terminal.
    if (!process.stdout.isTTY && env.FORCE_COLOR === undefined) env.NO_COLOR = "1";
    delete env.NODE_TEST_CONTEXT; // would make a nested `node --test` report to its parent
    let child;
    try {
      child = spawn(cmd, args, {
        cwd: ROOT,
        env,
        stdio: ["ignore", "pipe", "pipe"],
        detached: process.platform !== "win32",
      });
    } catch (error) {
      resolvePromise({ code: null, error, output: "", timedOut: false });
      return;
    }
    running.add(child);
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
      process.stdout.write(chunk);
    });
    child.stderr.on("data", (chunk) => {
      output += chunk;
      process.stderr.write(chunk);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      console.error(`\ntest_all: ${runtime} timed out after ${timeoutMs} ms; killing it`);
      killGroup(child, "SIGTERM");
      setTimeout(() => killGroup(child, "SIGKILL"), 5000).unref();
    }, timeoutMs);
    let spawnError;
    child.on("error", (error) => {
      spawnError = error;
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolvePromise({ code, signal, error: spawnError, output, timedOut });
    });
  });
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const files = selectFiles(options);
  if (files.length === 0) fail("No test files matched (looked for tests/**/*_test.ts)");

  const report = mkdtempSync(join(tmpdir(), "test_all-"));
  const results = [];
  try {
    for (const runtime of options.runtimes) {
      const { cmd, args } = commandFor(runtime, files, options, report);
      const shown = [cmd.startsWith(ROOT) ? relative(ROOT, cmd) : cmd, ...args]
        .map((a) => a.replaceAll(report, "<tmp>"))
        .join(" ");
      console.log(`\n=== ${runtime}: ${shown}\n`);
      const started = Date.now();
      const guardFile = GUARD ? join(report, `${runtime}-escapes.jsonl`) : undefined;
      const outcome = await run(runtime, cmd, args, options.timeoutMs, guardFile);
      const guard = guardFile === undefined ? undefined : readGuard(guardFile);
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      const summary = parseSummary(runtime, outcome.output);
      const leaves = runtime === "deno" ? parseDenoJunit(join(report, "deno.xml")) : undefined;
      const counts = leaves ?? summary ?? { passed: 0, failed: 0, skipped: 0 };
      const problems = [];
      if (outcome.error) problems.push(`could not start ${cmd}: ${outcome.error.message}`);
      if (outcome.timedOut) problems.push(`timed out after ${options.timeoutMs} ms`);
      if (outcome.code !== 0 && !outcome.timedOut && !outcome.error) {
        problems.push(`exited with ${outcome.signal ?? `code ${outcome.code}`}`);
      }
      if (summary === undefined) problems.push("printed no summary line");
      if (counts.passed + counts.failed === 0) problems.push("ran no test");
      if (counts.failed > 0) problems.push(`${counts.failed} failed`);
      if (guard !== undefined && guard.processes === 0) {
        problems.push("the escape guard (tests/_escape_guard.ts) did not report");
      }
      if (guard !== undefined && guard.escaped.length > 0) {
        problems.push(`${guard.escaped.length} unhandled rejection(s) or uncaught exception(s)`);
        console.error(`\ntest_all: escaped in the ${runtime} run:\n${guard.escaped.join("\n")}`);
      }
      // A runtime that went wrong without a failing test (crash, type error, timeout, no tests)
      // still counts as one failure, so the summed line never reads "0 failed" on a red run.
      const failed = problems.length > 0 && counts.failed === 0 ? 1 : counts.failed;
      results.push({ runtime, passed: counts.passed, failed, problems });
      const detail = summary?.raw ? ` [${summary.raw}]` : "";
      const skipped = counts.skipped > 0 ? `, ${counts.skipped} skipped` : "";
      console.log(
        `\n--- ${runtime}: ${counts.passed} passed, ${counts.failed} failed${skipped} in ${seconds}s` +
          `${detail}${problems.length > 0 ? ` -- FAILED: ${problems.join("; ")}` : ""}`,
      );
    }
  } finally {
    rmSync(report, { recursive: true, force: true });
  }

  console.log("\n=== summary");
  for (const r of results) {
    const status = r.problems.length === 0 ? "ok    " : "FAILED";
    const why = r.problems.length > 0 ? ` (${r.problems.join("; ")})` : "";
    console.log(`${status} ${r.runtime.padEnd(4)}  ${r.passed} passed, ${r.failed} failed${why}`);
  }
  const passed = results.reduce((n, r) => n + r.passed, 0);
  const failed = results.reduce((n, r) => n + r.failed, 0);
  const bad = results.filter((r) => r.problems.length > 0).map((r) => r.runtime);
  if (bad.length > 0) console.log(`FAILED on: ${bad.join(", ")}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = bad.length > 0 ? 1 : 0;
}

await main();
