/**
 * Benchmarks of openssl-session-cache against its peers, on Deno, Bun and
 * Node:
 *
 *   deno run -A --v8-flags=--expose-gc bench/main.ts
 *   bun bench/main.ts
 *   node --expose-gc --import tsx bench/main.ts
 *
 * Flags:
 *   --smoke              tiny sizes, minimal timing (checks everything runs)
 *   --only=a,b           workloads: server, flush, ooo, memory, core, pause
 *   --impls=a,b          implementations by name fragment (sessioncache,
 *                        core, naive, ttlcache, lru-cache, quick-lru, map,
 *                        libssl: OpenSSL 3.3.2 through bench/libssl/driver.c,
 *                        server workload only)
 *   --max-size=N         drop sizes above N (e.g. 1e5 for a quicker run)
 *   --json=PATH          also write every number as JSON
 *   --render=PATH        print the report of a saved --json file (runs nothing)
 *   --quiet              no progress lines
 *
 * @module
 */

import { readFileSync, writeFileSync } from "node:fs";
import { renderReport } from "./_report.ts";
import { type BenchReport, runBenchmarks, type Workload, WORKLOADS } from "./_run.ts";

interface ProcessLike {
  argv?: string[];
  exitCode?: number;
}
interface DenoLike {
  args: string[];
}

function args(): string[] {
  const deno = (globalThis as unknown as { Deno?: DenoLike }).Deno;
  if (deno) return deno.args;
  return ((globalThis as unknown as { process?: ProcessLike }).process?.argv ?? []).slice(2);
}

function parse(argv: readonly string[]) {
  const flags = new Map<string, string>();
  for (const a of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new TypeError(`Cannot parse arguments: unknown argument: received "${a}"`);
    flags.set(m[1]!, m[2] ?? "true");
  }
  const known = ["smoke", "only", "impls", "max-size", "json", "quiet", "render"];
  for (const k of flags.keys()) {
    if (!known.includes(k)) {
      throw new TypeError(`Cannot parse arguments: unknown flag: received "--${k}"`);
    }
  }
  const list = (k: string) => flags.get(k)?.split(",").filter((x) => x !== "");
  const only = list("only");
  for (const w of only ?? []) {
    if (!(WORKLOADS as readonly string[]).includes(w)) {
      throw new TypeError(
        `Cannot parse arguments: --only takes ${WORKLOADS.join(", ")}: received "${w}"`,
      );
    }
  }
  const maxSize = flags.has("max-size") ? Number(flags.get("max-size")) : undefined;
  if (maxSize !== undefined && !(maxSize > 0)) {
    throw new RangeError(
      `Cannot parse arguments: --max-size must be a positive number: received "${
        flags.get("max-size")
      }"`,
    );
  }
  return {
    smoke: flags.has("smoke"),
    only: only as Workload[] | undefined,
    impls: list("impls"),
    maxSize,
    json: flags.get("json"),
    render: flags.get("render"),
    quiet: flags.has("quiet"),
  };
}

const opts = parse(args());
if (opts.render !== undefined) {
  console.log(renderReport(JSON.parse(readFileSync(opts.render, "utf8")) as BenchReport));
} else {
  const report = await runBenchmarks({
    smoke: opts.smoke,
    ...(opts.only && { only: opts.only }),
    ...(opts.impls && { impls: opts.impls }),
    ...(opts.maxSize !== undefined && { maxSize: opts.maxSize }),
    log: opts.quiet ? () => {} : (line) => console.error(line),
  });
  console.log(renderReport(report));
  if (opts.json) writeFileSync(opts.json, JSON.stringify(report, null, 2));
}
