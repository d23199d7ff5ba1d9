/**
 * Workload 4, memory: heap retained per cached session, the sessions
 * themselves excluded (every implementation holds the very same session
 * objects, built and kept alive before the baseline is read). Keys and all
 * other structure the cache makes count, on the heap and off it (typed
 * array backing stores). Needs forced GC.
 *
 * Each measurement runs in a fresh child process by default: in one long
 * process, a cache measured earlier can stay reachable for a while through
 * a suspended async frame's stale registers and be freed in the middle of
 * the next measurement, which then reads low or even negative.
 *
 * @module
 */

import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Session } from "../mod.ts";
import { simClock, withSimulatedGlobals } from "./_clock.ts";
import { forceGc, heapUsed, hrNow, runtimeName, settleHeap } from "./_env.ts";
import { type Impl, type ImplKind, IMPLS } from "./_impls.ts";
import { sessionsOverTime } from "./_traces.ts";

/** Settings of the memory workload. */
export interface MemoryOptions {
  readonly sizes: readonly number[];
  /** Measure each implementation in its own child process (default true). */
  readonly isolate?: boolean;
  readonly log: (line: string) => void;
}

/** One implementation at one size. */
export interface MemoryResult {
  readonly n: number;
  readonly impl: string;
  readonly role: string;
  readonly skipped?: string;
  /** Bytes retained per cached session. */
  readonly bytesPerSession?: number;
  readonly size?: number;
  /** "child process" or "in process". */
  readonly how?: string;
}

/** Measures one implementation at one size, in this process. */
export async function measureMemory(kind: ImplKind, n: number): Promise<MemoryResult> {
  const base = { n, impl: kind.name, role: kind.role };
  if (!forceGc) return { ...base, skipped: "no forced GC in this runtime configuration" };
  if (n > kind.maxSize) return { ...base, skipped: `O(n) model: only up to ${kind.maxSize}` };
  const sessions: readonly Session[] = sessionsOverTime(n, { seed: 5, rate: 1000, timeout: 300 });
  const clock = simClock();
  const fill = (capacity: number, count: number): Impl => {
    const impl = kind.make({
      capacity,
      timeout: 300,
      uniformTimeout: true,
      inExpiryOrder: true,
      clock,
    });
    for (let i = 0; i < count; i++) {
      clock.sec = sessions[i]!.time;
      impl.add(sessions[i]!);
    }
    return impl;
  };
  const run = async (): Promise<MemoryResult> => {
    // Warm up first, so compiled code and type feedback are not counted.
    fill(1000, Math.min(1000, n)).close();
    await settleHeap();
    const before = heapUsed();
    const impl = fill(n, n);
    await settleHeap();
    const after = heapUsed();
    const size = impl.size();
    impl.close();
    return { ...base, bytesPerSession: (after - before) / n, size, how: "in process" };
  };
  return kind.needsSimulatedGlobals ? await withSimulatedGlobals(clock, run) : await run();
}

function childCommand(): { file: string; args: string[] } | undefined {
  const child = fileURLToPath(new URL("./_memory_child.ts", import.meta.url));
  const g = globalThis as unknown as {
    Deno?: { execPath(): string };
    process?: { execPath: string; execArgv: string[] };
  };
  if (runtimeName === "deno") {
    return { file: g.Deno!.execPath(), args: ["run", "-A", "--v8-flags=--expose-gc", child] };
  }
  const p = g.process;
  if (p === undefined) return undefined;
  if (runtimeName === "bun") return { file: p.execPath, args: [child] };
  const execArgv = p.execArgv.includes("--expose-gc") ? p.execArgv : ["--expose-gc", ...p.execArgv];
  return { file: p.execPath, args: [...execArgv, child] };
}

/** Runs the memory workload. */
export async function memoryWorkload(
  kinds: readonly ImplKind[],
  o: MemoryOptions,
): Promise<MemoryResult[]> {
  const out: MemoryResult[] = [];
  const cmd = o.isolate === false ? undefined : childCommand();
  for (const n of o.sizes) {
    for (const kind of kinds) {
      const t0 = hrNow();
      let r: MemoryResult;
      if (cmd !== undefined && n <= kind.maxSize) {
        try {
          const text = execFileSync(cmd.file, [...cmd.args, kind.name, String(n)], {
            encoding: "utf8",
            stdio: ["ignore", "pipe", "pipe"],
            maxBuffer: 1 << 20,
          });
          r = {
            ...(JSON.parse(text.trim().split("\n").pop()!) as MemoryResult),
            how: "child process",
          };
        } catch (e) {
          o.log(
            `  memory: child process failed (${String(e).slice(0, 200)}); measuring in process`,
          );
          r = await measureMemory(kind, n);
        }
      } else {
        r = await measureMemory(kind, n);
      }
      out.push(r);
      o.log(
        `  memory n=${n} ${kind.name}: ${
          r.skipped ?? `${r.bytesPerSession!.toFixed(0)} B/session, ${r.how}`
        } (${((hrNow() - t0) / 1e9).toFixed(1)} s)`,
      );
    }
  }
  return out;
}

/** Finds an implementation by its exact name. */
export function implNamed(name: string): ImplKind {
  const kind = IMPLS.find((k) => k.name === name);
  if (kind === undefined) {
    throw new TypeError(`Cannot measure memory: unknown implementation: received "${name}"`);
  }
  return kind;
}
