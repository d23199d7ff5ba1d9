/**
 * Small helpers shared by the example tests: building ids and sessions,
 * reading ids back as numbers, an injected clock, and a snapshot of a
 * `SessionCache` for "nothing changed" checks.
 *
 * @module
 */

import type { Session } from "../mod.ts";
import type { SessionCache } from "../mod.ts";
import type { CacheStats } from "../core.ts";

/**
 * Builds a session id from its bytes.
 *
 * @example
 * ```ts
 * sid(1, 2); // Uint8Array [1, 2]
 * ```
 */
export function sid(...bytes: number[]): Uint8Array {
  return new Uint8Array(bytes);
}

/**
 * The id of session number `n`, big-endian on two bytes, so that more than
 * 256 distinct ids can be made and `idNumber` reads `n` back.
 */
export function nid(n: number): Uint8Array {
  return sid((n >> 8) & 0xff, n & 0xff);
}

/**
 * A session whose id is the single byte `idByte`.
 *
 * @example
 * ```ts
 * session(1, 100, 10); // { id: [1], time: 100, timeout: 10 }, expiry 110
 * session(1, 100, 10, { version: 0x0303 });
 * ```
 */
export function session(
  idByte: number,
  time: number,
  timeout: number,
  extra: Partial<Session> = {},
): Session {
  return { id: sid(idByte), time, timeout, ...extra };
}

/** Reads an id back as a big-endian number: `sid(3)` is 3, `nid(300)` is 300. */
export function idNumber(session: { readonly id: Uint8Array }): number {
  let n = 0;
  for (const byte of session.id) n = n * 256 + byte;
  return n;
}

/** The ids of some sessions, as numbers, in order: the compact way to assert an order. */
export function ids(sessions: Iterable<{ readonly id: Uint8Array }>): number[] {
  return Array.from(sessions, idNumber);
}

/** An injected clock for `SessionCache`'s `now` option. */
export interface ManualClock {
  /** The current time in seconds (pass this as `now`). */
  readonly now: () => number;
  /** Moves the clock to `t`. */
  set(t: number): void;
  /** Moves the clock forward by `dt`. */
  advance(dt: number): void;
}

/** A clock that only moves when told to. */
export function manualClock(start = 1_000): ManualClock {
  let t = start;
  return {
    now: () => t,
    set(value: number) {
      t = value;
    },
    advance(dt: number) {
      t += dt;
    },
  };
}

/** Everything observable about a `SessionCache`, as plain data. */
export interface CacheSnapshot {
  readonly size: number;
  readonly cacheSize: number;
  readonly mode: number;
  readonly timeout: number;
  readonly stats: CacheStats;
  readonly sessions: readonly Session[];
}

/**
 * Everything observable about a cache. Compare two snapshots with
 * `assert.deepEqual`; the `sessions` array keeps the cached objects, so
 * also compare them with `Object.is` when identity matters.
 */
export function snapshot(cache: SessionCache): CacheSnapshot {
  return {
    size: cache.size,
    cacheSize: cache.cacheSize,
    mode: cache.mode,
    timeout: cache.timeout,
    stats: { ...cache.stats },
    sessions: [...cache],
  };
}

/** A stats object with every counter 0 except those given. */
export function statsWith(counters: Partial<CacheStats> = {}): CacheStats {
  return {
    number: 0,
    connect: 0,
    connectGood: 0,
    connectRenegotiate: 0,
    accept: 0,
    acceptGood: 0,
    acceptRenegotiate: 0,
    hits: 0,
    cbHits: 0,
    misses: 0,
    timeouts: 0,
    cacheFull: 0,
    ...counters,
  };
}
