/**
 * Workload 5, the pure core alone against the shell, to show what
 * immutability costs. The report sets the core beside the shell in every
 * other workload; this one adds lookup hits on a warm cache of n sessions,
 * where the core must return a new value (the hit counter changes) and the
 * shell must also validate the request and commit the value.
 *
 * @module
 */

import * as core from "../core.ts";
import { SessionCache } from "../mod.ts";
import { simClock, withSimulatedGlobals } from "./_clock.ts";
import type { ImplKind } from "./_impls.ts";
import { fresh, type Stats, timeFn, type Timing } from "./_measure.ts";
import { Rng } from "./_rng.ts";
import { sessionsOverTime } from "./_traces.ts";

/** Settings of the core-versus-shell workload. */
export interface CoreShellOptions {
  readonly sizes: readonly number[];
  /** Lookups per timed call. */
  readonly batch: number;
  readonly timing: Timing;
  readonly log: (line: string) => void;
}

/** One variant at one size. */
export interface CoreShellResult {
  readonly n: number;
  readonly variant: string;
  /** ns per lookup. */
  readonly perLookup: Stats;
  /** Hits per batch (must be the batch size). */
  readonly hits: number;
}

/** A timed body looking up every id with `f`, compiled afresh per variant (see `fresh`). */
function lookupAll(f: (id: Uint8Array) => unknown, ids: readonly Uint8Array[]): () => number {
  return fresh((g: (id: Uint8Array) => unknown, list: readonly Uint8Array[]) => () => {
    let h = 0;
    for (let i = 0; i < list.length; i++) if (g(list[i]!) !== undefined) h++;
    return h;
  })(f, ids);
}

/** Runs the lookup-hit comparison. */
export async function coreShellWorkload(
  kinds: readonly ImplKind[],
  o: CoreShellOptions,
): Promise<CoreShellResult[]> {
  const out: CoreShellResult[] = [];
  for (const n of o.sizes) {
    const sessions = sessionsOverTime(n, { seed: 6, rate: 1000, timeout: 300 });
    const rng = new Rng(7);
    const ids = Array.from({ length: o.batch }, () => sessions[rng.int(n)]!.id.slice());
    const now = sessions[n - 1]!.time; // nothing expired
    const clock = simClock(now);
    const perOp = (s: Stats): Stats => ({
      ...s,
      avg: s.avg / o.batch,
      p50: s.p50 / o.batch,
      min: s.min / o.batch,
      max: s.max / o.batch,
    });
    const record = (variant: string, stats: Stats, hits: number) => {
      const r = { n, variant, perLookup: perOp(stats), hits };
      out.push(r);
      o.log(
        `  lookup hit n=${n} ${variant}: ${r.perLookup.avg.toFixed(0)} ns${
          hits === o.batch ? "" : ` (only ${hits}/${o.batch} hits)`
        }`,
      );
    };

    // The core and the shell, through their own APIs.
    let state = core.createCacheState({ cacheSize: n + 1, timeout: 300 });
    for (const s of sessions) state = core.add(state, s).cache;
    const shell = new SessionCache({ cacheSize: n + 1, timeout: 300, now: () => clock.sec });
    for (const s of sessions) shell.add(s);
    const countHits = (f: (id: Uint8Array) => unknown) =>
      ids.reduce((h, id) => h + (f(id) === undefined ? 0 : 1), 0);

    const coreLookup = (id: Uint8Array) => {
      const r = core.lookup(state, { id }, { now });
      state = r.cache;
      return r.session;
    };
    const variants: [string, (id: Uint8Array) => unknown][] = [
      ["core get()", (id) => core.get(state, { id })],
      ["core lookup()", coreLookup],
      ["SessionCache.get()", (id) => shell.get(id)],
      ["SessionCache.lookupSync()", (id) => shell.lookupSync({ id })],
    ];
    for (const [name, f] of variants) {
      const hits = countHits(f);
      record(
        name,
        await timeFn(lookupAll(f, ids), o.timing),
        hits,
      );
    }

    // Peers' lookups on the same sessions, for scale.
    for (const kind of kinds) {
      if (kind.role !== "peer") continue;
      const run = async () => {
        const impl = kind.make({
          capacity: n + 1,
          timeout: 300,
          uniformTimeout: true,
          inExpiryOrder: true,
          clock,
        });
        for (const s of sessions) {
          clock.sec = s.time;
          impl.add(s);
        }
        clock.sec = now;
        const hits = countHits((id) => impl.lookup(id));
        const stats = await timeFn(lookupAll((id) => impl.lookup(id), ids), o.timing);
        impl.close();
        record(`${kind.name} get()`, stats, hits);
      };
      if (kind.needsSimulatedGlobals) await withSimulatedGlobals(clock, run);
      else await run();
    }
  }
  return out;
}
