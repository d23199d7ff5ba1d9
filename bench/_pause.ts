/**
 * Workload 6, pauses and old values: what one operation can cost at 10^6
 * sessions, and what a caller pays for holding on to an old value of the
 * pure core.
 *
 * 1. **The cohort flush.** A cache of n sessions made in cohorts of c per
 *    second (all with timeout 300 s), so that one flush finds exactly one
 *    cohort expired: c removals, the worst flush of the server workload
 *    (with whole-second clocks, the sessions of one second expire
 *    together). Every sample times one flush on its own; between samples
 *    the next cohort is added, untimed, so the size stays n. `SessionCache`
 *    runs with an `onRemoveSession` callback (callbacks included), the
 *    core through `flush()`, the peers through their purge.
 * 2. **The flush budget.** The same cache behind completed handshakes: 256
 *    per simulated second, so one automatic flush per second, each timed on
 *    its own, with and without `flushBudget`.
 * 3. **Old values.** The core holds a value, the caller goes on for k
 *    operations (adds and lookups) on the newest one, then reads the old
 *    value once (`get`: its first read moves the store back k records) and
 *    the newest once again (forward k records).
 * 4. **Memory an old value holds.** Bytes retained by one old value of a
 *    cache of n sessions after k further operations, after forced GC
 *    (bounded: the history is split when it grows past 4 records per
 *    session, so the old value keeps at most a copy and that much log).
 *
 * @module
 */

import * as core from "../core.ts";
import { SessionCache } from "../mod.ts";
import type { Session } from "../mod.ts";
import { simClock, withSimulatedGlobals } from "./_clock.ts";
import { forceGc, heapUsed, hrNow, settleHeap } from "./_env.ts";
import type { ImplKind } from "./_impls.ts";
import { randomId, Rng } from "./_rng.ts";

/** Settings of the pause workload. */
export interface PauseOptions {
  /** Sessions in the cache. */
  readonly n: number;
  /** Sessions per cohort (made in the same second). */
  readonly cohort: number;
  /** Timed flushes per implementation. */
  readonly samples: number;
  /** `flushBudget` of the budgeted run. */
  readonly budget: number;
  /** Old-value reads: cache size and distances (operations since the value). */
  readonly oldN: number;
  readonly oldDistances: readonly number[];
  readonly oldSamples: number;
  /** Memory held by an old value: cache size and distances. */
  readonly heldN: number;
  readonly heldDistances: readonly number[];
  readonly log: (line: string) => void;
}

/** Median, maximum and count of some timings, ns. */
export interface Spread {
  readonly p50: number;
  readonly max: number;
  readonly count: number;
}

/** A cohort flush of one implementation. */
export interface CohortFlush {
  readonly impl: string;
  readonly skipped?: string;
  readonly time?: Spread;
  /** Sessions each timed flush removed (must be the cohort). */
  readonly removed?: number;
}

/** Automatic flushes behind completed handshakes. */
export interface BudgetRun {
  readonly budget: number;
  /** The handshakes that removed sessions (the automatic flush and, budgeted, its continuations). */
  readonly removing: Spread;
  /** All timed handshakes. */
  readonly all: Spread;
  /** Most sessions one handshake removed. */
  readonly maxRemoved: number;
}

/** First reads of an old value k operations back. */
export interface OldRead {
  readonly n: number;
  readonly distance: number;
  /** The old value's first read. */
  readonly back: Spread;
  /** The newest value's next read. */
  readonly forward: Spread;
}

/** Bytes one old value keeps alive. */
export interface HeldMemory {
  readonly n: number;
  readonly distance: number;
  readonly skipped?: string;
  readonly bytes?: number;
}

/** Everything the workload measured. */
export interface PauseResult {
  readonly n: number;
  readonly cohort: number;
  readonly flush: readonly CohortFlush[];
  readonly budget: readonly BudgetRun[];
  readonly oldReads: readonly OldRead[];
  readonly held: readonly HeldMemory[];
}

const TIMEOUT = 300;
const START = 1000;

function spread(ns: number[]): Spread {
  const v = [...ns].sort((a, b) => a - b);
  return { p50: v[Math.floor(v.length / 2)] ?? NaN, max: v[v.length - 1] ?? NaN, count: v.length };
}

/** The sessions of cohort `i`: `size` sessions with time START + i. */
function cohortOf(rng: Rng, i: number, size: number): Session[] {
  const out: Session[] = new Array(size);
  for (let j = 0; j < size; j++) out[j] = { id: randomId(rng), time: START + i, timeout: TIMEOUT };
  return out;
}

/**
 * Cohort `i` of a run, made when it is added (so that removed sessions die,
 * as in a server, instead of staying reachable from a prebuilt array); the
 * same sessions for every implementation.
 */
type Cohorts = (i: number) => Session[];

function cohorts(seed: number, size: number): Cohorts {
  return (i) => cohortOf(new Rng(seed * 1_000_003 + i), i, size);
}

async function cohortFlush(
  kind: ImplKind | "SessionCache" | "core",
  all: Cohorts,
  o: PauseOptions,
): Promise<CohortFlush> {
  const held = o.n / o.cohort; // cohorts in the cache at once
  const name = typeof kind === "string" ? kind : kind.name;
  if (typeof kind !== "string" && (!kind.purges || kind.maxSize < o.n)) {
    return { impl: name, skipped: kind.purges ? "O(n) per add" : "no purge call" };
  }
  const clock = simClock(START);
  const run = (): CohortFlush => {
    let add: (s: Session) => void;
    let flush: () => void;
    let size: () => number;
    if (kind === "SessionCache") {
      const counted = { removed: 0 };
      const cache = new SessionCache({
        cacheSize: o.n + o.cohort + 1,
        timeout: TIMEOUT,
        now: () => clock.sec,
        onRemoveSession: () => void counted.removed++,
      });
      add = (s) => void cache.add(s);
      flush = () => void cache.flush(clock.sec);
      size = () => cache.size;
    } else if (kind === "core") {
      let state = core.createCacheState({ cacheSize: o.n + o.cohort + 1, timeout: TIMEOUT });
      add = (s) => void (state = core.add(state, s).cache);
      flush = () => void (state = core.flush(state, clock.sec).cache);
      size = () => state.size;
    } else {
      const impl = kind.make({
        capacity: o.n + o.cohort,
        timeout: TIMEOUT,
        uniformTimeout: true,
        inExpiryOrder: true,
        clock,
      });
      add = (s) => impl.add(s);
      flush = () => impl.flush();
      size = () => impl.size();
    }
    const addCohort = (i: number) => {
      clock.sec = START + i;
      for (const s of all(i)) add(s);
    };
    for (let i = 0; i < held; i++) addCohort(i);
    const times: number[] = [];
    let removed = -1;
    for (let s = 0; s < o.samples; s++) {
      // Cohort s expires now: START + s + TIMEOUT < tm.
      clock.sec = START + s + TIMEOUT + 1;
      const before = size();
      const t0 = hrNow();
      flush();
      times.push(hrNow() - t0);
      const gone = before - size();
      if (removed === -1) removed = gone;
      else if (removed !== gone) removed = NaN;
      addCohort(held + s);
    }
    return { impl: name, time: spread(times), removed };
  };
  return typeof kind !== "string" && kind.needsSimulatedGlobals
    ? await withSimulatedGlobals(clock, run)
    : run();
}

function budgetRun(all: Cohorts, o: PauseOptions, budget: number): BudgetRun {
  const held = o.n / o.cohort;
  const clock = simClock(START);
  let removedCount = 0;
  const cache = new SessionCache({
    cacheSize: o.n + 2 * o.cohort + 1,
    timeout: TIMEOUT,
    now: () => clock.sec,
    onRemoveSession: () => void removedCount++,
    ...(budget > 0 && { flushBudget: budget }),
  });
  for (let i = 0; i < held; i++) {
    clock.sec = START + i;
    for (const s of all(i)) cache.add(s);
  }
  const removing: number[] = [];
  const every: number[] = [];
  let maxRemoved = 0;
  for (let s = 0; s < o.samples; s++) {
    // One second: 256 handshakes make sessions (the first 256 of the next cohort, via the
    // handshake), one of them flushes automatically; the rest of the cohort is added untimed.
    clock.sec = START + s + TIMEOUT + 1;
    const next = all(held + s);
    for (let j = 0; j < next.length; j++) {
      if (j >= 256) {
        cache.add(next[j]!);
        continue;
      }
      const before = removedCount;
      const t0 = hrNow();
      cache.handshakeCompleted({ side: "server", session: next[j]!, resumed: false });
      const dt = hrNow() - t0;
      every.push(dt);
      const gone = removedCount - before;
      if (gone > 0) {
        removing.push(dt);
        if (gone > maxRemoved) maxRemoved = gone;
      }
    }
  }
  return { budget, removing: spread(removing), all: spread(every), maxRemoved };
}

function oldReads(o: PauseOptions, distance: number): OldRead {
  const rng = new Rng(11);
  let state = core.createCacheState({ cacheSize: o.oldN + 1, timeout: TIMEOUT });
  const ids: Uint8Array[] = [];
  for (let i = 0; i < o.oldN; i++) {
    const s = { id: randomId(rng), time: START, timeout: TIMEOUT };
    ids.push(s.id);
    state = core.add(state, s).cache;
  }
  const back: number[] = [];
  const forward: number[] = [];
  let t = START;
  for (let s = 0; s < o.oldSamples; s++) {
    const old = state;
    const key = { id: ids[rng.int(ids.length)]! };
    // k operations on the newest value: half adds (each evicts, the cache is full), half lookups.
    for (let i = 0; i < distance; i++) {
      if (i % 2 === 0) {
        const session = { id: randomId(rng), time: ++t, timeout: TIMEOUT };
        state = core.add(state, session).cache;
        ids.push(session.id);
      } else {
        state = core.lookup(state, { id: ids[rng.int(ids.length)]! }, { now: t }).cache;
      }
    }
    const t0 = hrNow();
    core.get(old, key);
    const t1 = hrNow();
    core.get(state, key);
    const t2 = hrNow();
    back.push(t1 - t0);
    forward.push(t2 - t1);
  }
  return { n: o.oldN, distance, back: spread(back), forward: spread(forward) };
}

async function heldMemory(o: PauseOptions, distance: number): Promise<HeldMemory> {
  const base = { n: o.heldN, distance };
  if (!forceGc) return { ...base, skipped: "no forced GC in this runtime configuration" };
  const rng = new Rng(12);
  let state = core.createCacheState({ cacheSize: o.heldN + 1, timeout: TIMEOUT });
  let t = START;
  for (let i = 0; i < o.heldN; i++) {
    state = core.add(state, { id: randomId(rng), time: t, timeout: TIMEOUT }).cache;
  }
  let old: core.CacheState | undefined = state;
  core.get(old, { id: new Uint8Array([1]) }); // the old value escapes: it is now recorded
  for (let i = 0; i < distance; i++) {
    state = core.add(state, { id: randomId(rng), time: ++t, timeout: TIMEOUT }).cache;
  }
  core.get(state, { id: new Uint8Array([1]) });
  await settleHeap();
  const withOld = heapUsed();
  if (old.size !== o.heldN) throw new Error("unreachable: the old value changed");
  old = undefined;
  await settleHeap();
  const without = heapUsed();
  if (state.size !== o.heldN) throw new Error("unreachable: the newest value changed");
  return { ...base, bytes: withOld - without };
}

/** Runs the pause workload. */
export async function pauseWorkload(
  kinds: readonly ImplKind[],
  o: PauseOptions,
): Promise<PauseResult> {
  const held = o.n / o.cohort;
  if (!Number.isInteger(held)) {
    throw new RangeError(
      `Cannot run the pause workload: n must be a multiple of the cohort: received ${o.n}`,
    );
  }
  const all = cohorts(5, o.cohort);
  const flush: CohortFlush[] = [];
  const targets: (ImplKind | "SessionCache" | "core")[] = [];
  for (const k of kinds) {
    if (k.name === "SessionCache" || k.name === "core") targets.push(k.name);
    else if (k.role === "peer") targets.push(k);
  }
  for (const k of targets) {
    const t0 = hrNow();
    const r = await cohortFlush(k, all, o);
    o.log(
      `  cohort flush n=${o.n} c=${o.cohort} ${r.impl}: ${
        r.skipped ??
          `p50 ${(r.time!.p50 / 1e3).toFixed(0)} us, max ${
            (r.time!.max / 1e3).toFixed(0)
          } us, removed ${r.removed}`
      } (${((hrNow() - t0) / 1e9).toFixed(1)} s)`,
    );
    flush.push(r);
  }
  const budget: BudgetRun[] = [];
  if (kinds.some((k) => k.name === "SessionCache")) {
    for (const b of [0, o.budget]) {
      const r = budgetRun(all, o, b);
      o.log(
        `  auto-flush n=${o.n} flushBudget=${b}: removing handshakes p50 ${
          (r.removing.p50 / 1e3).toFixed(0)
        } us, max ${(r.removing.max / 1e3).toFixed(0)} us, at most ${r.maxRemoved} removed`,
      );
      budget.push(r);
    }
  }
  const reads: OldRead[] = [];
  const heldBytes: HeldMemory[] = [];
  if (kinds.some((k) => k.name === "core")) {
    for (const d of o.oldDistances) {
      const r = oldReads(o, d);
      o.log(
        `  old value n=${o.oldN} ${d} ops back: first read p50 ${
          (r.back.p50 / 1e3).toFixed(1)
        } us, max ${(r.back.max / 1e3).toFixed(1)} us`,
      );
      reads.push(r);
    }
    for (const d of o.heldDistances) {
      const r = await heldMemory(o, d);
      o.log(
        `  old value held n=${o.heldN} ${d} ops back: ${
          r.skipped ?? `${((r.bytes ?? 0) / 1024).toFixed(0)} KiB`
        }`,
      );
      heldBytes.push(r);
    }
  }
  return { n: o.n, cohort: o.cohort, flush, budget, oldReads: reads, held: heldBytes };
}
