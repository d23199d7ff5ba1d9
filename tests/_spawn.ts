/**
 * Runs a TypeScript file in a child process of the runtime that runs the
 * tests (Node with tsx, Deno, or Bun), with a deadline, and collects its
 * exit code and output. Used by the tests that need a process of their own:
 * timers that must not keep it alive, and a process that watches for
 * unhandled rejections.
 *
 * @module
 */

import { spawn } from "node:child_process";
import process from "node:process";

/** Which runtime runs the tests. */
export const RUNTIME: "deno" | "bun" | "node" = "Deno" in globalThis
  ? "deno"
  : "Bun" in globalThis
  ? "bun"
  : "node";

/** The command line that runs `file` (with `args`) on the current runtime. */
export function runtimeCommand(file: string, args: readonly string[] = []): string[] {
  const exec = process.execPath;
  if (RUNTIME === "deno") return [exec, "run", "-A", file, ...args];
  if (RUNTIME === "bun") return [exec, file, ...args];
  return [exec, "--import", "tsx", file, ...args];
}

/** How a child process ended. */
export interface Finished {
  /** Its exit code, or `null` when a signal (or the deadline) ended it. */
  readonly code: number | null;
  /** Whether the deadline killed it. */
  readonly killed: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end, or kills it after `deadlineMs`. */
export function run(
  command: readonly string[],
  options: {
    readonly deadlineMs: number;
    readonly env?: Record<string, string>;
    readonly cwd?: string;
  },
): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const [exec, ...args] = command;
    const env: Record<string, string | undefined> = { ...process.env, ...options.env };
    // A nested `node --test` would otherwise report to this test runner, not to its output.
    delete env["NODE_TEST_CONTEXT"];
    const child = spawn(exec!, args, {
      cwd: options.cwd,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill("SIGKILL");
    }, options.deadlineMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, killed, stdout, stderr });
    });
  });
}
