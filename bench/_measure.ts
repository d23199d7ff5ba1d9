/**
 * Timing helpers on top of mitata's `measure`, and the settings of a full
 * run versus a smoke run.
 *
 * @module
 */

import { measure } from "mitata";
import { forceGc, hrNow } from "./_env.ts";

/** How long mitata keeps sampling one benchmark. */
export interface Timing {
  /** Minimum timed CPU time per benchmark, ms. */
  readonly minCpuMs: number;
  readonly minSamples: number;
  readonly maxSamples: number;
}

/** What one measurement gives (times in ns per sample). */
export interface Stats {
  readonly avg: number;
  readonly p50: number;
  readonly min: number;
  readonly max: number;
  readonly samples: number;
}

type MitataStats = {
  avg: number;
  p50: number;
  min: number;
  max: number;
  samples: number[];
  ticks: number;
};
type MitataOptions = {
  batch_threshold?: number;
  gc?: boolean | (() => void);
  inner_gc?: boolean;
  min_cpu_time?: number;
  min_samples?: number;
  max_samples?: number;
};
const mitataMeasure = measure as unknown as (
  f: unknown,
  opts: MitataOptions,
) => Promise<MitataStats>;

function stats(r: MitataStats): Stats {
  return { avg: r.avg, p50: r.p50, min: r.min, max: r.max, samples: r.samples.length };
}

function options(t: Timing, extra: MitataOptions = {}): MitataOptions {
  return {
    // mitata's fallback "gc" allocates 1 GiB: pass false when none is exposed.
    gc: forceGc ?? false,
    min_cpu_time: t.minCpuMs * 1e6,
    min_samples: t.minSamples,
    max_samples: t.maxSamples,
    ...extra,
  };
}

/**
 * Times a stateless `fn` (mitata may batch calls). ns per call.
 */
export async function timeFn(fn: () => unknown, t: Timing): Promise<Stats> {
  return stats(await mitataMeasure(fn, options(t)));
}

/**
 * Times `bench(setup())`, where `setup` runs untimed right before each timed
 * call, in order (mitata's computed parameters, batching off, so that the
 * setup of call i+1 never runs before call i). ns per call.
 */
export async function timeWithSetup<P>(
  setup: () => P,
  bench: (p: P) => unknown,
  t: Timing,
  extra: { innerGc?: boolean } = {},
): Promise<Stats> {
  const gen = function* () {
    yield { [0]: setup, bench };
  };
  return stats(
    await mitataMeasure(
      gen,
      options(t, { batch_threshold: 0, ...(extra.innerGc && forceGc ? { inner_gc: true } : {}) }),
    ),
  );
}

/** Percentiles of per-operation latencies, in ns. */
export interface Latency {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/** Percentiles of the first `count` values of `ns` (sorted in place). */
export function latency(ns: Float64Array, count: number): Latency {
  const v = ns.subarray(0, count).sort();
  const at = (q: number) => (count === 0 ? NaN : v[Math.min(count - 1, Math.floor(q * count))]!);
  return {
    count,
    p50: at(0.5),
    p99: at(0.99),
    p999: at(0.999),
    max: count === 0 ? NaN : v[count - 1]!,
  };
}

export { hrNow };

/**
 * A freshly compiled copy of `fn`, with its own type feedback. Benchmark
 * harness loops are recompiled per implementation, so that no
 * implementation is measured through call sites another one made
 * polymorphic (V8 and JSC share feedback between closures of one function
 * literal). `fn` must be self-contained: no free variables, no nested
 * functions. Falls back to `fn` itself where `new Function` is unavailable.
 */
export function fresh<F extends (...args: never[]) => unknown>(fn: F): F {
  try {
    return new Function(`"use strict"; return (${fn.toString()});`)() as F;
  } catch {
    return fn;
  }
}
