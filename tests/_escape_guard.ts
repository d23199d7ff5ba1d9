/**
 * Preloaded into every test process by scripts/test_all.mjs, and into the
 * control run of tests/no_escape_test.ts (`node --import`, `deno test
 * --preload`, `bun test --preload`): watches the whole process for unhandled
 * rejections and uncaught exceptions (Node's and Bun's `process` events, and
 * the global `unhandledrejection` and `error` events that Deno's test runner
 * dispatches), even those that happen between tests or after the last one.
 * When the process exits it appends one JSON line `{ pid, escaped }` to the
 * file named by `ESCAPE_GUARD_FILE`, and makes the exit code 1 if anything
 * escaped; test_all fails the runtime's run then, or when no process
 * reported. (Bun's and Deno's test runners also fail the run themselves on
 * an unhandled rejection.) It marks the process with
 * `globalThis[Symbol.for("sesscache.escapeGuard")]`.
 *
 * @module
 */

import { appendFileSync } from "node:fs";
import process from "node:process";

const file = process.env["ESCAPE_GUARD_FILE"];
(globalThis as Record<symbol, unknown>)[Symbol.for("sesscache.escapeGuard")] = true;
const escaped: string[] = [];
let written = false;

function describe(kind: string, reason: unknown): string {
  try {
    return `${kind}: ${reason instanceof Error ? reason.stack ?? reason.message : String(reason)}`;
  } catch {
    return `${kind}: (a value that cannot be shown)`;
  }
}

function write(): void {
  if (written) return;
  written = true;
  if (file !== undefined) {
    appendFileSync(file, JSON.stringify({ pid: process.pid, escaped }) + "\n");
  }
  if (escaped.length > 0) process.exitCode = 1;
}

process.on("unhandledRejection", (reason) => {
  escaped.push(describe("unhandledRejection", reason));
});
process.on("uncaughtException", (error) => {
  escaped.push(describe("uncaughtException", error));
});
process.on("exit", write);

const events = globalThis as unknown as {
  addEventListener?: (type: string, listener: (event: Event) => void) => void;
};
if ("Deno" in globalThis && typeof events.addEventListener === "function") {
  events.addEventListener("unhandledrejection", (event) => {
    escaped.push(describe("unhandledrejection", (event as PromiseRejectionEvent).reason));
  });
  events.addEventListener("error", (event) => {
    escaped.push(describe("error", (event as ErrorEvent).error));
  });
  events.addEventListener("unload", write);
}
