/**
 * The machine and runtime a benchmark runs on, a high-resolution timer that
 * no simulated clock can touch, forced garbage collection and heap size, on
 * Deno, Bun and Node alike.
 *
 * @module
 */

import { cpus } from "node:os";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

interface RuntimeGlobals {
  Deno?: {
    version: { deno: string; v8: string };
    memoryUsage(): { heapUsed: number; external: number };
  };
  Bun?: { version: string; gc(force: boolean): void; nanoseconds(): number };
  gc?: () => void;
  process?: {
    versions: Record<string, string | undefined>;
    memoryUsage(): { heapUsed: number; external: number };
  };
}

const g = globalThis as unknown as RuntimeGlobals;

/** Which runtime runs this code. */
export const runtimeName: "deno" | "bun" | "node" = g.Deno ? "deno" : g.Bun ? "bun" : "node";

/** The runtime and engine versions, e.g. `node 20.20.2 (V8 11.3)`. */
export function runtimeVersion(): string {
  if (g.Deno) return `deno ${g.Deno.version.deno} (V8 ${g.Deno.version.v8})`;
  if (g.Bun) return `bun ${g.Bun.version} (JavaScriptCore)`;
  const v = g.process?.versions ?? {};
  return `node ${v.node} (V8 ${v.v8})`;
}

/** CPU count and model, read from `/proc/cpuinfo` where it exists. */
export function machine(): { nproc: number; cpu: string; cpuinfo: string } {
  let cpu = cpus()[0]?.model ?? "unknown";
  let cpuinfo = "unavailable";
  try {
    const text = readFileSync("/proc/cpuinfo", "utf8");
    const model = /^model name\s*:\s*(.*)$/m.exec(text)?.[1];
    const mhz = /^cpu MHz\s*:\s*(.*)$/m.exec(text)?.[1];
    const cache = /^cache size\s*:\s*(.*)$/m.exec(text)?.[1];
    if (model) cpu = model;
    cpuinfo = `model name: ${model}; cpu MHz: ${mhz}; cache size: ${cache}`;
  } catch {
    // not Linux: os.cpus() is all there is
  }
  return { nproc: cpus().length, cpu, cpuinfo };
}

const perf = performance;
const perfNow = perf.now.bind(perf);
const bunNs = g.Bun ? g.Bun.nanoseconds.bind(g.Bun) : undefined;

/**
 * Nanoseconds from an arbitrary origin. Bound before any simulated clock is
 * installed, so patching `performance.now` never affects it.
 */
export const hrNow: () => number = bunNs ?? (() => perfNow() * 1e6);

/** Forces a full garbage collection, if the runtime exposes one. */
export const forceGc: (() => void) | undefined = g.Bun
  ? () => g.Bun!.gc(true)
  : typeof g.gc === "function"
  ? () => g.gc!()
  : undefined;

/** How to expose forced GC on this runtime (for messages). */
export const gcHint: string = runtimeName === "deno"
  ? "deno run -A --v8-flags=--expose-gc bench/main.ts"
  : runtimeName === "node"
  ? "node --expose-gc --import tsx bench/main.ts"
  : "bun bench/main.ts";

/**
 * Bytes in use: the JavaScript heap plus external memory (typed array
 * backing stores live outside the heap: lru-cache keeps its bookkeeping in
 * preallocated typed arrays).
 */
export function heapUsed(): number {
  const m = g.Deno ? g.Deno.memoryUsage() : g.process!.memoryUsage();
  return m.heapUsed + m.external;
}

/**
 * Collects garbage until the bytes in use settle (backing stores are freed
 * by background tasks, so it also yields to the event loop in between).
 */
export async function settleHeap(): Promise<void> {
  if (!forceGc) return;
  let last = Infinity;
  for (let i = 0; i < 10; i++) {
    forceGc();
    await new Promise((resolve) => setTimeout(resolve, 10));
    const now = heapUsed();
    if (Math.abs(now - last) < 64 * 1024) return;
    last = now;
  }
}

/**
 * Identifies the library code a run measured: an FNV-1a hash of every
 * `.ts` file under `src/` (by path, in sorted order), and the time of the
 * newest change. Reports from runs of different code then never get mixed
 * up.
 */
export function srcFingerprint(): string {
  try {
    const root = fileURLToPath(new URL("../src/", import.meta.url));
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(root + dir, { withFileTypes: true })) {
        if (entry.isDirectory()) walk(`${dir}${entry.name}/`);
        else if (entry.name.endsWith(".ts")) files.push(dir + entry.name);
      }
    };
    walk("");
    let h = 0x811c9dc5;
    let newest = 0;
    for (const name of files.sort()) {
      const text = name + "\0" + readFileSync(root + name, "utf8");
      for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
      newest = Math.max(newest, statSync(root + name).mtimeMs);
    }
    return `${(h >>> 0).toString(16).padStart(8, "0")} (newest change ${
      new Date(newest).toISOString()
    })`;
  } catch {
    return "unknown";
  }
}
