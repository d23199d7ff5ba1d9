/**
 * Workload 2, flush scaling: n sessions cached (expiries all distinct,
 * inserted in shuffled order), then one flush that finds k of them expired,
 * k = 0, 1 % and 10 % of n. Time per flush.
 *
 * The pure core flushes a persistent value, so the same state is flushed
 * again and again with nothing rebuilt. A mutable cache is restored between
 * timed flushes by re-adding the k removed sessions, untimed.
 *
 * @module
 */

import type { Session } from "../mod.ts";
import { simClock, withSimulatedGlobals } from "./_clock.ts";
import type { Impl, ImplKind } from "./_impls.ts";
import { fresh, hrNow, type Stats, timeFn, timeWithSetup, type Timing } from "./_measure.ts";
import { Rng } from "./_rng.ts";
import { sessionsOverTime } from "./_traces.ts";

/** Settings of the flush workload. */
export interface FlushOptions {
  readonly sizes: readonly number[];
  /** Fractions of n expired at the flush. */
  readonly fractions: readonly number[];
  readonly timing: Timing;
  /** Timing at n >= 1e5, where a flush (or its restore) can take a second. */
  readonly bigTiming: Timing;
  readonly log: (line: string) => void;
}

/** One implementation, one n, one k. */
export interface FlushResult {
  readonly n: number;
  readonly k: number;
  readonly impl: string;
  readonly role: string;
  readonly skipped?: string;
  /** ns per flush. */
  readonly time?: Stats;
  /** Whether the flush removed exactly k (size n - k after it). */
  readonly verified?: boolean;
}

const T0 = 1000;
const TIMEOUT = 300;

function build(
  kind: ImplKind,
  sessions: readonly Session[],
  order: readonly number[],
  clock: { sec: number },
): Impl {
  const impl = kind.make({
    capacity: sessions.length,
    timeout: TIMEOUT,
    uniformTimeout: true,
    inExpiryOrder: false,
    clock,
  });
  for (const i of order) {
    const s = sessions[i]!;
    clock.sec = s.time;
    impl.add(s);
  }
  return impl;
}

/** Runs the flush workload. */
export async function flushWorkload(
  kinds: readonly ImplKind[],
  o: FlushOptions,
): Promise<FlushResult[]> {
  const out: FlushResult[] = [];
  for (const n of o.sizes) {
    // Session i: time T0 + i, expiry T0 + 300 + i; flush at T0 + 300 + k removes i < k.
    const sessions = sessionsOverTime(n, { seed: 2, start: T0, rate: 1, timeout: TIMEOUT });
    const order = new Rng(3).shuffle(Array.from({ length: n }, (_, i) => i));
    for (const kind of kinds) {
      const base = { n, impl: kind.name, role: kind.role };
      if (!kind.purges) {
        for (const f of o.fractions) {
          out.push({ ...base, k: Math.round(f * n), skipped: "no purge call" });
        }
        continue;
      }
      if (n > kind.maxSize) {
        for (const f of o.fractions) {
          out.push({
            ...base,
            k: Math.round(f * n),
            skipped: `O(n) model: only up to ${kind.maxSize}`,
          });
        }
        continue;
      }
      const clock = simClock();
      const run = async () => {
        const t0 = hrNow();
        const impl = build(kind, sessions, order, clock);
        const buildSec = (hrNow() - t0) / 1e9;
        for (const f of o.fractions) {
          const k = Math.round(f * n);
          const tm = T0 + TIMEOUT + k;
          // Verify first: the flush removes exactly k.
          clock.sec = tm;
          const snapshot = impl.snapshot?.();
          impl.flush();
          const verified = impl.size() === n - k;
          const removed = order.filter((i) => i < k).map((i) => sessions[i]!);
          const reAdd = () => {
            for (const s of removed) {
              clock.sec = s.time;
              impl.add(s);
            }
          };
          if (snapshot) snapshot();
          else reAdd();
          const restored = impl.size() === n;
          // Every implementation is restored by re-adding the k removed
          // sessions. That leaves them in freshly allocated, cache-warm memory;
          // a persistent value can also flush the very same (cold) value again,
          // reported as "<name> (same value)".
          const modes: [string, () => void][] = k === 0
            ? [[kind.name, () => {}]]
            : snapshot
            ? [[kind.name, reAdd], [`${kind.name} (same value)`, snapshot]]
            : [[kind.name, reAdd]];
          for (const [name, restore] of modes) {
            let time: Stats;
            if (k === 0) {
              clock.sec = tm;
              const flushIt = fresh((c: Impl) => () => c.flush())(impl);
              time = await timeFn(flushIt, n >= 1e5 ? o.bigTiming : o.timing);
            } else {
              if (name !== kind.name) snapshot!(); // back to the value as built
              time = await timeWithSetup(
                () => {
                  restore();
                  clock.sec = tm;
                  return impl;
                },
                fresh((c: Impl) => c.flush()),
                n >= 1e5 ? o.bigTiming : o.timing,
              );
              restore();
            }
            out.push({ ...base, impl: name, k, time, verified: verified && restored });
            o.log(
              `  flush n=${n} k=${k} ${name}: ${(time.p50 / 1e3).toFixed(2)} us/flush (median)${
                verified && restored ? "" : " (NOT VERIFIED)"
              } (build ${buildSec.toFixed(1)} s)`,
            );
          }
        }
        impl.close();
      };
      if (kind.needsSimulatedGlobals) await withSimulatedGlobals(clock, run);
      else await run();
    }
  }
  return out;
}
