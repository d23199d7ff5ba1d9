/**
 * Correctness before timing: every implementation replays the same
 * agreement traces and must return the same hits (the same session objects)
 * as the trace's plain reference answer.
 *
 * @module
 */

import { simClock, withSimulatedGlobals } from "./_clock.ts";
import type { ImplKind } from "./_impls.ts";
import { type AgreementTrace, agreementTrace } from "./_traces.ts";

/** The outcome of one implementation on one trace. */
export interface Agreement {
  readonly trace: string;
  readonly impl: string;
  readonly lookups: number;
  readonly hits: number;
  /** Lookups whose answer differs from the reference; 0 when it agrees. */
  readonly mismatches: number;
  /** The first mismatch, described. */
  readonly firstMismatch?: string;
  /** Why the trace was not replayed on this implementation. */
  readonly skipped?: string;
}

/** The agreement traces, sized by `adds`. */
export function agreementTraces(adds: number): AgreementTrace[] {
  return [
    agreementTrace({ name: "uniform timeout, no eviction", adds, seed: 11, timeout: 300 }),
    agreementTrace({ name: "random timeouts, no eviction", adds, seed: 12, timeout: "random" }),
    agreementTrace({
      name: "uniform timeout, evicting (capacity adds/8)",
      adds,
      seed: 13,
      timeout: 300,
      capacity: Math.max(4, Math.floor(adds / 8)),
    }),
  ];
}

/** Replays `trace` on `kind`. */
export async function replay(kind: ImplKind, trace: AgreementTrace): Promise<Agreement> {
  const base = { trace: trace.name, impl: kind.name, lookups: trace.expected.length };
  if (trace.evicts && !kind.evictsSoonestExpiry) {
    return { ...base, hits: 0, mismatches: 0, skipped: "evicts by recency, not expiry" };
  }
  if (trace.steps.filter((s) => s.op === "add").length > kind.maxSize) {
    return { ...base, hits: 0, mismatches: 0, skipped: `O(n) model: only up to ${kind.maxSize}` };
  }
  const clock = simClock();
  const run = () => {
    const impl = kind.make({
      capacity: trace.capacity,
      timeout: trace.timeout,
      uniformTimeout: trace.uniformTimeout,
      inExpiryOrder: trace.inExpiryOrder,
      clock,
    });
    let j = 0;
    let hits = 0;
    let mismatches = 0;
    let firstMismatch: string | undefined;
    for (const step of trace.steps) {
      clock.sec = step.now;
      if (step.op === "add") impl.add(step.session);
      else if (step.op === "flush") impl.flush();
      else {
        const got = impl.lookup(step.id);
        const want = trace.expected[j++];
        if (got !== undefined) hits++;
        if (got !== want) {
          mismatches++;
          firstMismatch ??= `lookup #${j - 1} at t=${step.now}: expected ${
            want === undefined
              ? "a miss"
              : `the session added at t=${want.time} (timeout ${want.timeout})`
          }, received ${
            got === undefined
              ? "a miss"
              : `a session added at t=${got.time} (timeout ${got.timeout})`
          }`;
        }
      }
    }
    impl.close();
    return { ...base, hits, mismatches, ...(firstMismatch !== undefined && { firstMismatch }) };
  };
  return kind.needsSimulatedGlobals ? await withSimulatedGlobals(clock, run) : run();
}

/** Replays every agreement trace on every implementation. */
export async function checkAgreement(
  kinds: readonly ImplKind[],
  adds: number,
): Promise<Agreement[]> {
  const out: Agreement[] = [];
  for (const trace of agreementTraces(adds)) {
    for (const kind of kinds) out.push(await replay(kind, trace));
  }
  return out;
}
