/**
 * Workload 1, a TLS server: half the operations add a new session, half
 * look up a recent id (hit, expired or evicted), a flush every 256 adds
 * (OpenSSL flushes during every 256th completed handshake). Throughput from
 * mitata; per-operation latency (p50 .. max) from a separate pass that
 * times every operation, since a flush pause stalls every handshake queued
 * behind it.
 *
 * @module
 */

import { simClock, withSimulatedGlobals } from "./_clock.ts";
import type { Impl, ImplKind } from "./_impls.ts";
import {
  fresh,
  hrNow,
  type Latency,
  latency,
  type Stats,
  timeWithSetup,
  type Timing,
} from "./_measure.ts";
import { type Chunk, ServerTrace } from "./_traces.ts";

/** Settings of the server workload. */
export interface ServerOptions {
  readonly capacities: readonly number[];
  /** Operations per timed sample. */
  readonly chunkOps: number;
  /** Operations timed one by one in the latency pass. */
  readonly latencyOps: number;
  /** Wall-clock budget of the latency pass, ms: it stops early past this. */
  readonly latencyBudgetMs: number;
  readonly timing: Timing;
  readonly log: (line: string) => void;
}

/** One implementation at one capacity. */
export interface ServerResult {
  readonly capacity: number;
  readonly impl: string;
  readonly role: string;
  readonly skipped?: string;
  /** Mean operations per second (mitata). */
  readonly opsPerSec?: number;
  readonly throughput?: Stats;
  /** All operations of the latency pass. */
  readonly latency?: Latency;
  /** The adds that flushed (every 256th). */
  readonly flushLatency?: Latency;
  /** Sessions removed by a flushing add (its flush and any eviction): mean and max. */
  readonly flushRemoved?: { readonly mean: number; readonly max: number };
  /** Lookups that returned a session / all lookups, in the latency pass. */
  readonly hitRate?: number;
  /** Entries held after the run. */
  readonly size?: number;
}

const SEED = 1;
const FLUSH_EVERY = 256;

/**
 * Replays a chunk; returns the hits. Self-contained (see `fresh`): 0 is
 * ADD, and a flush runs every 256 adds.
 */
function replay(
  impl: Impl,
  chunk: Chunk,
  clock: { sec: number },
  counter: { adds: number },
): number {
  let hits = 0;
  const { kinds, times, sessions, ids } = chunk;
  for (let i = 0; i < chunk.length; i++) {
    clock.sec = times[i]!;
    if (kinds[i] === 0) {
      impl.add(sessions[i]!);
      if (++counter.adds % 256 === 0) impl.flush();
    } else if (impl.lookup(ids[i]!) !== undefined) {
      hits++;
    }
  }
  return hits;
}

/** Replays only the adds of a chunk, without flushing: the untimed prefill. Self-contained. */
function prefill(
  impl: Impl,
  chunk: Chunk,
  clock: { sec: number },
  counter: { adds: number },
): void {
  const { kinds, times, sessions } = chunk;
  for (let i = 0; i < chunk.length; i++) {
    if (kinds[i] !== 0) continue;
    clock.sec = times[i]!;
    impl.add(sessions[i]!);
    counter.adds++;
  }
}

/** What the latency pass accumulates. */
interface LatencyState {
  n: number;
  nf: number;
  hits: number;
  lookups: number;
  removedSum: number;
  removedMax: number;
  readonly all: Float64Array;
  readonly flushes: Float64Array;
}

/** Replays a chunk timing every operation alone. Self-contained (see `fresh`). */
function timeEach(
  impl: Impl,
  chunk: Chunk,
  clock: { sec: number },
  counter: { adds: number },
  st: LatencyState,
  now: () => number,
): void {
  const { kinds, times, sessions, ids } = chunk;
  for (let i = 0; i < chunk.length; i++) {
    clock.sec = times[i]!;
    if (kinds[i] === 0) {
      const flush = ++counter.adds % 256 === 0;
      const before = flush ? impl.size() : 0;
      const t0 = now();
      impl.add(sessions[i]!);
      if (flush) impl.flush();
      const dt = now() - t0;
      st.all[st.n++] = dt;
      if (flush) {
        st.flushes[st.nf++] = dt;
        const removed = before + 1 - impl.size();
        st.removedSum += removed;
        if (removed > st.removedMax) st.removedMax = removed;
      }
    } else {
      const t0 = now();
      const got = impl.lookup(ids[i]!);
      st.all[st.n++] = now() - t0;
      st.lookups++;
      if (got !== undefined) st.hits++;
    }
  }
}

async function one(kind: ImplKind, capacity: number, o: ServerOptions): Promise<ServerResult> {
  const base = { capacity, impl: kind.name, role: kind.role };
  if (capacity > kind.maxSize) {
    return { ...base, skipped: `O(n) per add: run only up to ${kind.maxSize}` };
  }
  const clock = simClock();
  const run = async (): Promise<ServerResult> => {
    const trace = new ServerTrace({ capacity, seed: SEED });
    const impl = kind.make({
      capacity,
      timeout: 300,
      uniformTimeout: true,
      inExpiryOrder: true,
      clock,
    });
    const counter = { adds: 0 };
    // Harness loops compiled afresh for this implementation (see `fresh`).
    const replayHere = fresh(replay);
    const prefillHere = fresh(prefill);
    const timeEachHere = fresh(timeEach);
    // Reach steady state untimed, replaying only the adds. Flushing once at
    // the end leaves the same sessions as flushing every 256 adds would have
    // (the expired sessions are the soonest-expiring ones, which eviction
    // takes first anyway) and spares an O(n)-per-purge peer minutes of prefill.
    while (trace.adds < 1.05 * capacity) prefillHere(impl, trace.next(8192), clock, counter);
    impl.flush();
    // Warm the lookup path too (prefill ran only adds): 8192 operations,
    // cut short after 2 s for a peer whose purge takes half a second.
    const warmUntil = hrNow() + 2e9;
    for (let w = 0; w < 8192 && hrNow() < warmUntil; w += 512) {
      replay(impl, trace.next(512), clock, counter);
    }
    // Latency pass first, every operation timed on its own: so every
    // implementation meets exactly the same operations here.
    const st: LatencyState = {
      n: 0,
      nf: 0,
      hits: 0,
      lookups: 0,
      removedSum: 0,
      removedMax: 0,
      all: new Float64Array(o.latencyOps),
      flushes: new Float64Array(Math.ceil(o.latencyOps / FLUSH_EVERY) + 1),
    };
    const deadline = hrNow() + o.latencyBudgetMs * 1e6;
    while (st.n < o.latencyOps && hrNow() < deadline) {
      timeEachHere(
        impl,
        trace.next(Math.min(4096, o.latencyOps - st.n)),
        clock,
        counter,
        st,
        hrNow,
      );
    }
    // Then throughput, with mitata, on the operations that follow.
    const throughput = await timeWithSetup(
      () => trace.next(o.chunkOps),
      (chunk) => replayHere(impl, chunk, clock, counter),
      o.timing,
    );
    const size = impl.size();
    impl.close();
    return {
      ...base,
      opsPerSec: (o.chunkOps / throughput.avg) * 1e9,
      throughput,
      latency: latency(st.all, st.n),
      flushLatency: latency(st.flushes, st.nf),
      // A peer without a purge call removes nothing on flush; its size says nothing either.
      ...(kind.purges &&
        { flushRemoved: { mean: st.nf === 0 ? NaN : st.removedSum / st.nf, max: st.removedMax } }),
      hitRate: st.lookups === 0 ? NaN : st.hits / st.lookups,
      size,
    };
  };
  return kind.needsSimulatedGlobals ? await withSimulatedGlobals(clock, run) : await run();
}

/** Runs the server workload for every capacity and implementation. */
export async function serverWorkload(
  kinds: readonly ImplKind[],
  o: ServerOptions,
): Promise<ServerResult[]> {
  const out: ServerResult[] = [];
  for (const capacity of o.capacities) {
    for (const kind of kinds) {
      const t0 = hrNow();
      const r = await one(kind, capacity, o);
      o.log(
        `  server cap=${capacity} ${kind.name}: ${
          r.skipped ??
            `${Math.round(r.opsPerSec!)} ops/s, p99.9 ${
              (r.latency!.p999 / 1e3).toFixed(1)
            } us, max ${(r.latency!.max / 1e3).toFixed(1)} us, flush removes ${
              r.flushRemoved?.mean.toFixed(0)
            } (max ${r.flushRemoved?.max})`
        } (${((hrNow() - t0) / 1e9).toFixed(1)} s)`,
      );
      out.push(r);
    }
  }
  return out;
}
