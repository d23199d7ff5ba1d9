/** Types of scripts/explore.mjs, for the tests that import it. */
import type { BrowserContext } from "playwright-core";

/** Where `build()` writes by default: explorer/dist/. */
export const DEFAULT_OUT: string;

/** Chromium's command-line flags for this machine's closed network. */
export const CHROMIUM_ARGS: readonly string[];

/** Builds the page into `out`. */
export function build(
  out?: string,
): Promise<{ out: string; files: string[]; inputs: string[] }>;

/** Serves `dir` on 127.0.0.1 (port 0: a free one). */
export function serve(
  dir?: string,
  options?: { port?: number; host?: string },
): Promise<{ url: string; close: () => Promise<void> }>;

/** Starts headless Chromium with a fresh profile; rejects with the reason it cannot. */
export function launchChromium(
  options?: { timeoutMs?: number },
): Promise<{ context: BrowserContext; close: () => Promise<void> }>;
