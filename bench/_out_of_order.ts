/**
 * Workload 3, out-of-order expiries: sessions with random per-session
 * timeouts (60 s .. 24 h), so each new session's expiry lands anywhere in
 * the order. OpenSSL's insert walks its sorted list from the head, O(n) per
 * add here; this project's core should stay O(log n). Time per add, filling
 * an empty cache (capacity n) with n sessions. For reference, this
 * project's shell and core also fill with one uniform timeout (in order).
 *
 * @module
 */

import type { Session } from "../mod.ts";
import { simClock, withSimulatedGlobals } from "./_clock.ts";
import { settleHeap } from "./_env.ts";
import type { Impl, ImplKind } from "./_impls.ts";
import { fresh, hrNow, type Stats, timeWithSetup, type Timing } from "./_measure.ts";
import { sessionsOverTime } from "./_traces.ts";

/** Settings of the out-of-order workload. */
export interface OutOfOrderOptions {
  readonly sizes: readonly number[];
  /** Timing per size (a sample adds n sessions). */
  readonly timing: (n: number) => Timing;
  /** From this size on, time one fill (after a warm-up fill of n / 10) instead of mitata samples. */
  readonly singleShotFrom: number;
  readonly log: (line: string) => void;
}

/** One implementation, one n, one timeout pattern. */
export interface OutOfOrderResult {
  readonly n: number;
  readonly impl: string;
  readonly role: string;
  readonly timeouts: "random" | "uniform";
  readonly skipped?: string;
  /** ns per add. */
  readonly perAdd?: Stats;
  /** Sessions held after a fill (must be n). */
  readonly size?: number;
}

function perOp(s: Stats, n: number): Stats {
  return { avg: s.avg / n, p50: s.p50 / n, min: s.min / n, max: s.max / n, samples: s.samples };
}

/** Adds the first `count` sessions, the clock at each one's time. Self-contained (see `fresh`). */
function fillWith(
  impl: Impl,
  sessions: readonly Session[],
  clock: { sec: number },
  count: number,
): Impl {
  for (let i = 0; i < count; i++) {
    const s = sessions[i]!;
    clock.sec = s.time;
    impl.add(s);
  }
  return impl;
}

/** Times filling a fresh cache with all of `sessions`; returns ns per fill and the size reached. */
async function timeFills(
  make: () => Impl,
  sessions: readonly Session[],
  clock: { sec: number },
  timing: Timing,
  singleShot: boolean,
): Promise<{ time: Stats; size: number }> {
  // Compiled afresh for this implementation (see `fresh`).
  const fillHere = fresh(fillWith);
  const fill = (impl: Impl, count: number): Impl => fillHere(impl, sessions, clock, count);
  const n = sessions.length;
  if (singleShot) {
    // One timed fill after an untimed warm-up fill of n / 10: a fill takes
    // seconds here, and mitata's repeated samples would take minutes.
    fill(make(), Math.ceil(n / 10)).close();
    await settleHeap();
    const impl = make();
    const t0 = hrNow();
    fill(impl, n);
    const dt = hrNow() - t0;
    const size = impl.size();
    impl.close();
    return { time: { avg: dt, p50: dt, min: dt, max: dt, samples: 1 }, size };
  }
  let last: Impl | undefined;
  const time = await timeWithSetup(
    () => {
      last?.close();
      return (last = make());
    },
    (impl) => fill(impl, n),
    timing,
    { innerGc: true },
  );
  const size = last!.size();
  last!.close();
  return { time, size };
}

/** Runs the out-of-order workload. */
export async function outOfOrderWorkload(
  kinds: readonly ImplKind[],
  o: OutOfOrderOptions,
): Promise<OutOfOrderResult[]> {
  const out: OutOfOrderResult[] = [];
  for (const n of o.sizes) {
    for (const timeouts of ["random", "uniform"] as const) {
      // 1000 sessions per simulated second.
      const sessions = sessionsOverTime(n, {
        seed: 4,
        rate: 1000,
        timeout: timeouts === "random" ? "random" : 300,
      });
      for (const kind of kinds) {
        const base = { n, impl: kind.name, role: kind.role, timeouts };
        // The in-order reference: this project only, and not at the single-shot sizes.
        if (timeouts === "uniform" && (kind.role !== "project" || n >= o.singleShotFrom)) continue;
        if (n > kind.maxSize) {
          out.push({ ...base, skipped: `O(n) model: only up to ${kind.maxSize}` });
          continue;
        }
        const clock = simClock();
        const run = async (): Promise<OutOfOrderResult> => {
          const t0 = hrNow();
          const make = () =>
            kind.make({
              capacity: n,
              timeout: 300,
              uniformTimeout: timeouts === "uniform",
              inExpiryOrder: timeouts === "uniform",
              clock,
            });
          const { time, size } = await timeFills(
            make,
            sessions,
            clock,
            o.timing(n),
            n >= o.singleShotFrom,
          );
          const r = { ...base, perAdd: perOp(time, n), size };
          o.log(
            `  out-of-order n=${n} ${timeouts} ${kind.name}: ${r.perAdd.avg.toFixed(0)} ns/add${
              size === n ? "" : ` (size ${size}, expected ${n})`
            } (${((hrNow() - t0) / 1e9).toFixed(1)} s)`,
          );
          return r;
        };
        out.push(kind.needsSimulatedGlobals ? await withSimulatedGlobals(clock, run) : await run());
      }
    }
  }
  return out;
}
