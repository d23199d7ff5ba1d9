/**
 * Runs the benchmark suite: checks agreement first, then the selected
 * workloads, and returns every number (the report is printed from them).
 *
 * @module
 */

import { loadavg } from "node:os";
import { type Agreement, checkAgreement } from "./_check.ts";
import { type CoreShellResult, coreShellWorkload } from "./_core_shell.ts";
import {
  forceGc,
  gcHint,
  hrNow,
  machine,
  runtimeName,
  runtimeVersion,
  srcFingerprint,
} from "./_env.ts";
import { type FlushResult, flushWorkload } from "./_flush.ts";
import { type ImplKind, selectImpls } from "./_impls.ts";
import { libsslServerWorkload, wantsLibssl } from "./_libssl.ts";
import type { Timing } from "./_measure.ts";
import { type MemoryResult, memoryWorkload } from "./_memory.ts";
import { type OutOfOrderResult, outOfOrderWorkload } from "./_out_of_order.ts";
import { type PauseResult, pauseWorkload } from "./_pause.ts";
import { type ServerResult, serverWorkload } from "./_server.ts";

/** The workloads, by the names `--only` accepts. */
export const WORKLOADS = ["server", "flush", "ooo", "memory", "core", "pause"] as const;
export type Workload = typeof WORKLOADS[number];

/** Options of {@linkcode runBenchmarks}. */
export interface BenchOptions {
  /** Tiny sizes and minimal timing: checks that everything runs. */
  readonly smoke?: boolean;
  /** Workloads to run; default all. */
  readonly only?: readonly Workload[];
  /** Implementation name fragments; default all. */
  readonly impls?: readonly string[];
  /** Drop sizes above this. */
  readonly maxSize?: number;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

/** Everything a run measured. */
export interface BenchReport {
  readonly env: {
    readonly runtime: string;
    readonly runtimeName: string;
    readonly nproc: number;
    readonly cpu: string;
    readonly cpuinfo: string;
    readonly loadavg: readonly number[];
    readonly forcedGc: boolean;
    readonly gcHint: string;
    readonly date: string;
    /** Which src/ the run measured (see srcFingerprint). */
    readonly src: string;
    readonly mode: "smoke" | "full";
    readonly seconds: number;
  };
  readonly impls: readonly string[];
  readonly agreement: readonly Agreement[];
  readonly server: readonly ServerResult[];
  readonly flush: readonly FlushResult[];
  readonly outOfOrder: readonly OutOfOrderResult[];
  readonly memory: readonly MemoryResult[];
  readonly coreShell: readonly CoreShellResult[];
  /** Cohort flushes, the flush budget and old values (absent in reports of older runs). */
  readonly pause?: PauseResult;
}

/** Sizes and timings of a full run and of a smoke run. */
export function plan(smoke: boolean) {
  const t = (minCpuMs: number, minSamples: number, maxSamples: number): Timing => ({
    minCpuMs,
    minSamples,
    maxSamples,
  });
  return smoke
    ? {
      agreementAdds: 600,
      server: {
        capacities: [256],
        chunkOps: 256,
        latencyOps: 2000,
        latencyBudgetMs: 2000,
        timing: t(1, 2, 3),
      },
      flush: {
        sizes: [1000],
        fractions: [0, 0.01, 0.1],
        timing: t(1, 2, 3),
        bigTiming: t(1, 2, 3),
      },
      ooo: { sizes: [1000], timing: () => t(1, 2, 2), singleShotFrom: Infinity },
      memory: { sizes: [1000], isolate: false },
      core: { sizes: [1000], batch: 256, timing: t(1, 2, 3) },
      pause: {
        n: 2048,
        cohort: 256,
        samples: 3,
        budget: 20,
        oldN: 1000,
        oldDistances: [10, 100],
        oldSamples: 2,
        heldN: 500,
        heldDistances: [1000],
      },
    }
    : {
      agreementAdds: 10_000,
      server: {
        capacities: [20480, 1_000_000],
        chunkOps: 2048,
        latencyOps: 200_000,
        latencyBudgetMs: 10_000,
        timing: t(400, 8, 400),
      },
      flush: {
        sizes: [1e3, 1e4, 1e5, 1e6],
        fractions: [0, 0.01, 0.1],
        timing: t(200, 12, 10_000),
        bigTiming: t(100, 3, 10),
      },
      ooo: {
        sizes: [1e4, 1e5, 1e6],
        timing: (n: number) => (n >= 1e5 ? t(300, 3, 10) : t(300, 8, 100)),
        singleShotFrom: 1e6,
      },
      memory: { sizes: [1e5, 1e6] },
      core: { sizes: [1e5], batch: 4096, timing: t(300, 12, 10_000) },
      pause: {
        n: 1_000_000,
        cohort: 5000,
        samples: 21,
        budget: 1000,
        oldN: 1_000_000,
        oldDistances: [10, 100, 1000, 10_000],
        oldSamples: 15,
        heldN: 10_000,
        heldDistances: [1e4, 1e5, 1e6],
      },
    };
}

/** Runs the suite. */
export async function runBenchmarks(options: BenchOptions = {}): Promise<BenchReport> {
  const t0 = hrNow();
  const smoke = options.smoke ?? false;
  const log = options.log ?? (() => {});
  const p = plan(smoke);
  const only = new Set<Workload>(options.only ?? WORKLOADS);
  const max = options.maxSize ?? Infinity;
  const fit = (sizes: readonly number[]) => sizes.filter((n) => n <= max);
  const kinds: ImplKind[] = selectImpls(options.impls ?? []);
  const m = machine();
  const src = srcFingerprint();

  log(`correctness: replaying agreement traces (${p.agreementAdds} adds each)`);
  const agreement = await checkAgreement(kinds, p.agreementAdds);
  const bad = agreement.filter((a) => a.mismatches > 0);
  if (bad.length > 0) {
    throw new Error(
      `Cannot benchmark: implementations disagree on hits: ${
        bad.map((a) => `${a.impl} on "${a.trace}": ${a.firstMismatch}`).join("; ")
      }`,
    );
  }

  const server = only.has("server")
    ? await serverWorkload(kinds, { ...p.server, capacities: fit(p.server.capacities), log })
    : [];
  // The same server trace on OpenSSL 3.3.2's libssl, through a C driver (skipped rows without it).
  if (only.has("server") && wantsLibssl(options.impls ?? [])) {
    server.push(
      ...libsslServerWorkload({ ...p.server, capacities: fit(p.server.capacities), log }),
    );
  }
  const flush = only.has("flush")
    ? await flushWorkload(kinds, { ...p.flush, sizes: fit(p.flush.sizes), log })
    : [];
  const outOfOrder = only.has("ooo")
    ? await outOfOrderWorkload(kinds, { ...p.ooo, sizes: fit(p.ooo.sizes), log })
    : [];
  const memory = only.has("memory")
    ? await memoryWorkload(kinds, { ...p.memory, sizes: fit(p.memory.sizes), log })
    : [];
  const coreShell = only.has("core")
    ? await coreShellWorkload(kinds, { ...p.core, sizes: fit(p.core.sizes), log })
    : [];

  const pause = only.has("pause") && p.pause.n <= max
    ? await pauseWorkload(kinds, { ...p.pause, log })
    : undefined;

  return {
    env: {
      runtime: runtimeVersion(),
      runtimeName,
      nproc: m.nproc,
      cpu: m.cpu,
      cpuinfo: m.cpuinfo,
      loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
      forcedGc: forceGc !== undefined,
      gcHint,
      date: new Date().toISOString(),
      src,
      mode: smoke ? "smoke" : "full",
      seconds: (hrNow() - t0) / 1e9,
    },
    impls: kinds.map((k) => k.name),
    agreement,
    server,
    flush,
    outOfOrder,
    memory,
    coreShell,
    ...(pause && { pause }),
  };
}
