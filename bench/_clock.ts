/**
 * The simulated clock every benchmark runs on.
 *
 * Sessions live 300 s, so a real clock would make expiry unobservable in a
 * benchmark of a few seconds. Each implementation is given the same clock:
 * `SessionCache` and the core read seconds through `now()` / a `now`
 * argument, lru-cache takes it through its `perf` option. @isaacs/ttlcache
 * reads `performance.now()` and quick-lru `Date.now()`, and neither can be
 * told otherwise, so while a benchmark runs those two globals are replaced
 * by the simulated clock ({@linkcode withSimulatedGlobals}); timings use
 * `hrNow` from `_env.ts`, bound before the patch.
 *
 * @module
 */

/** Simulated time, in whole or fractional seconds. */
export interface SimClock {
  sec: number;
}

/** A clock at `sec` seconds. Keep `sec * 1000 < 2 ** 32 - 1`: ttlcache keys its buckets by integer ms. */
export function simClock(sec = 1000): SimClock {
  return { sec };
}

let current: SimClock | undefined;
let depth = 0;
let savedPerfNow: (() => number) | undefined;
let savedDateNow: (() => number) | undefined;
let perfNowWasOwn = false;

/**
 * Runs `fn` with `performance.now()` and `Date.now()` reading `clock` (in
 * ms), and restores both afterwards, even if `fn` throws or rejects.
 */
export async function withSimulatedGlobals<T>(
  clock: SimClock,
  fn: () => Promise<T> | T,
): Promise<T> {
  const previous = current;
  current = clock;
  if (depth++ === 0) {
    savedPerfNow = performance.now;
    perfNowWasOwn = Object.hasOwn(performance, "now");
    savedDateNow = Date.now;
    const readMs = (): number => current!.sec * 1000;
    (performance as unknown as { now: () => number }).now = readMs;
    Date.now = readMs;
  }
  try {
    return await fn();
  } finally {
    current = previous;
    if (--depth === 0) {
      Date.now = savedDateNow!;
      if (perfNowWasOwn) (performance as unknown as { now: () => number }).now = savedPerfNow!;
      // Otherwise the patch is an own property shadowing the prototype's
      // method: deleting it brings the native method back.
      else delete (performance as unknown as { now?: unknown }).now;
    }
  }
}
