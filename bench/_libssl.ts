/**
 * The server workload on the real libssl: OpenSSL 3.3.2's session cache, driven by a small C
 * program (bench/libssl/driver.c, linked statically against ../shared/openssl's build) through
 * SSL_CTX_add_session, the server's lookup path and SSL_CTX_flush_sessions. Reported as the
 * row "libssl 3.3.2 (C)" of the server workload.
 *
 * The very same operations as bench/_server.ts: its ServerTrace (same seed, capacity, timeout
 * 300 s), an untimed prefill of adds up to 1.05 x capacity and a flush, 8192 warm-up operations,
 * then `latencyOps` operations timed one by one and `maxSamples x chunkOps` timed in chunks,
 * with a flush every 256 adds. This module writes the trace to a file, replays it through
 * `SessionCache` (configured as the bench's SessionCache row) for the expected results, runs
 * the driver, and refuses a run whose digest of hits and misses (and final size) differs, so
 * both sides are known to have run the same trace to the same answers. All SSL_SESSION objects
 * are built by the driver outside its timed loops, as the bench builds sessions outside its.
 *
 * Without OpenSSL 3.3.2 (see tests/conformance/libssl/_openssl.ts) or gcc the rows say why
 * they were skipped, and the bench runs on.
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SessionCache } from "../mod.ts";
import { compileC, openssl33Prefix, staticOpenssl } from "../tests/conformance/libssl/_openssl.ts";
import { hrNow, latency, type Timing } from "./_measure.ts";
import type { ServerResult } from "./_server.ts";
import { ADD, ServerTrace } from "./_traces.ts";

/** The row's name. */
export const LIBSSL_IMPL = "libssl 3.3.2 (C)";

/** bench/_server.ts's trace seed and session timeout. */
const SEED = 1;
const TIMEOUT = 300;
const FLUSH_EVERY = 256;
const WARM_OPS = 8192;

const REC = 48; // bytes per record, see driver.c
const K_ADD = 0, K_ADD_FLUSH = 1, K_LOOKUP = 2, K_FLUSH = 3;

/** Settings of {@linkcode libsslServerWorkload} (those of the server workload). */
export interface LibsslServerOptions {
  readonly capacities: readonly number[];
  readonly chunkOps: number;
  readonly latencyOps: number;
  /** `maxSamples` chunks of `chunkOps` operations are timed for throughput. */
  readonly timing: Timing;
  readonly log: (line: string) => void;
}

/** True when the `--impls` fragments select the libssl row (none given: all rows). */
export function wantsLibssl(fragments: readonly string[]): boolean {
  return fragments.length === 0 ||
    fragments.some((f) => LIBSSL_IMPL.toLowerCase().includes(f.toLowerCase()));
}

let built: { path: string } | { why: string } | undefined;

/** The compiled driver, or why there is none (compiled once per process). */
export function libsslDriver(): { path: string } | { why: string } {
  if (built !== undefined) return built;
  const found = openssl33Prefix();
  if (!("prefix" in found)) return built = { why: "skip" in found ? found.skip : found.error };
  const { flags, libs } = staticOpenssl(found.prefix);
  const source = fileURLToPath(new URL("./libssl/driver.c", import.meta.url));
  return built = compileC(source, { flags: ["-O2", ...flags], libs });
}

/** FNV-1a, 32 bits, byte by byte: the driver's digest. */
class Digest {
  h = 0x811c9dc5;
  byte(b: number): void {
    this.h = Math.imul(this.h ^ b, 16777619) >>> 0;
  }
  u32(x: number): void {
    for (let k = 0; k < 4; k++) this.byte((x >>> (8 * k)) & 0xff);
  }
  get hex(): string {
    return this.h.toString(16).padStart(8, "0");
  }
}

/** What {@linkcode writeServerTrace} knows of the trace it wrote. */
export interface WrittenTrace {
  /** The digest SessionCache gives: each lookup's hit (1) or miss (0), then its final size. */
  readonly digest: string;
  readonly size: number;
  /** Per operation of the latency phase: 1 where it is an add that flushes. */
  readonly flushing: Uint8Array;
}

/**
 * Writes the server trace for `capacity` to `file` (the format of driver.c) and replays it
 * through SessionCache, the expected answers.
 */
export function writeServerTrace(
  file: string,
  capacity: number,
  o: { latencyOps: number; throughputOps: number; chunkOps: number },
): WrittenTrace {
  const trace = new ServerTrace({ capacity, seed: SEED });
  let clock = 0;
  const cache = new SessionCache({ cacheSize: capacity + 1, timeout: TIMEOUT, now: () => clock });
  const digest = new Digest();
  const fd = openSync(file, "w");
  try {
    const buf = new Uint8Array(REC * 8192);
    const view = new DataView(buf.buffer);
    let inBuf = 0;
    let written = 0;
    const flushBuf = () => {
      if (inBuf > 0) writeSync(fd, buf, 0, inBuf * REC, 64 + (written - inBuf) * REC);
      inBuf = 0;
    };
    const record = (kind: number, time: number, id?: Uint8Array) => {
      const at = inBuf * REC;
      buf.fill(0, at, at + REC);
      view.setFloat64(at, time, true);
      buf[at + 8] = kind;
      if (id !== undefined) buf.set(id, at + 16);
      inBuf++;
      written++;
      if (inBuf * REC === buf.length) flushBuf();
    };
    let adds = 0;
    // Prefill, as bench/_server.ts: adds only, up to 1.05 x capacity, then one flush.
    while (trace.adds < 1.05 * capacity) {
      const c = trace.next(8192);
      for (let i = 0; i < c.length; i++) {
        if (c.kinds[i] !== ADD) continue;
        clock = c.times[i]!;
        cache.add(c.sessions[i]!);
        adds++;
        record(K_ADD, clock, c.sessions[i]!.id);
      }
    }
    cache.flush(clock);
    record(K_FLUSH, clock);
    const warmFrom = written;
    const phase = (ops: number, flushing?: Uint8Array) => {
      const c = trace.next(ops);
      for (let i = 0; i < c.length; i++) {
        clock = c.times[i]!;
        if (c.kinds[i] === ADD) {
          cache.add(c.sessions[i]!);
          const flush = ++adds % FLUSH_EVERY === 0;
          if (flush) cache.flush(clock);
          if (flushing !== undefined && flush) flushing[i] = 1;
          record(flush ? K_ADD_FLUSH : K_ADD, clock, c.sessions[i]!.id);
        } else {
          digest.byte(cache.lookupSync({ id: c.ids[i]! }) === undefined ? 0 : 1);
          record(K_LOOKUP, clock, c.ids[i]!);
        }
      }
    };
    phase(WARM_OPS);
    const latencyFrom = written;
    const flushing = new Uint8Array(o.latencyOps);
    phase(o.latencyOps, flushing);
    const throughputFrom = written;
    phase(o.throughputOps);
    flushBuf();
    digest.u32(cache.size);
    const head = new Uint8Array(64);
    const hv = new DataView(head.buffer);
    head.set([0x53, 0x43, 0x42, 0x54]); // "SCBT"
    [1, written, warmFrom, latencyFrom, throughputFrom, o.chunkOps, capacity + 1, TIMEOUT]
      .forEach((x, k) => hv.setUint32(4 + 4 * k, x, true));
    writeSync(fd, head, 0, 64, 0);
    return { digest: digest.hex, size: cache.size, flushing };
  } finally {
    closeSync(fd);
  }
}

/** What the driver printed, parsed. */
function parseLine(line: string): Map<string, string> {
  return new Map(line.trim().split(" ").map((kv) => kv.split("=", 2) as [string, string]));
}

/** Runs the driver on the server trace at `capacity`; the row, or throws on a wrong digest. */
export function libsslServerRun(
  driver: string,
  capacity: number,
  o: { latencyOps: number; throughputOps: number; chunkOps: number },
): ServerResult {
  const dir = mkdtempSync(join(tmpdir(), "libssl-bench-"));
  try {
    const file = join(dir, "trace"), latFile = join(dir, "latency");
    const w = writeServerTrace(file, capacity, o);
    const run = spawnSync(driver, [file, latFile], { encoding: "utf8" });
    if (run.error !== undefined) throw run.error;
    if (run.status !== 0) throw new Error(`driver exited with ${run.status}: ${run.stderr}`);
    const out = parseLine(run.stdout);
    const num = (k: string) => Number(out.get(k));
    if (out.get("version") !== "30300020") {
      throw new Error(`driver runs OpenSSL ${out.get("version")}, not 3.3.2 (30300020)`);
    }
    if (out.get("digest") !== w.digest || num("size") !== w.size) {
      throw new Error(
        `Cannot benchmark ${LIBSSL_IMPL}: its hits, misses and size (digest ${
          out.get("digest")
        }, size ${
          num("size")
        }) differ from SessionCache's on the same trace (digest ${w.digest}, size ${w.size})`,
      );
    }
    const bytes = readFileSync(latFile);
    const all = new Float64Array(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
    );
    const flushes = all.filter((_, i) => w.flushing[i] === 1);
    return {
      capacity,
      impl: LIBSSL_IMPL,
      role: "libssl",
      opsPerSec: num("ops") / num("ns") * 1e9,
      latency: latency(all, all.length),
      flushLatency: latency(flushes, flushes.length),
      flushRemoved: {
        mean: num("flushes") === 0 ? NaN : num("removed_sum") / num("flushes"),
        max: num("removed_max"),
      },
      hitRate: num("lookups") === 0 ? NaN : num("hits") / num("lookups"),
      size: num("size"),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The libssl rows of the server workload: one per capacity, measured or skipped with why. */
export function libsslServerWorkload(o: LibsslServerOptions): ServerResult[] {
  const driver = libsslDriver();
  return o.capacities.map((capacity) => {
    if ("why" in driver) {
      o.log(`  server cap=${capacity} ${LIBSSL_IMPL}: skipped (${driver.why})`);
      return { capacity, impl: LIBSSL_IMPL, role: "libssl", skipped: `no C driver: ${driver.why}` };
    }
    const t0 = hrNow();
    const r = libsslServerRun(driver.path, capacity, {
      latencyOps: o.latencyOps,
      throughputOps: o.timing.maxSamples * o.chunkOps,
      chunkOps: o.chunkOps,
    });
    o.log(
      `  server cap=${capacity} ${LIBSSL_IMPL}: ${Math.round(r.opsPerSec!)} ops/s, p99.9 ${
        (r.latency!.p999 / 1e3).toFixed(1)
      } us, max ${(r.latency!.max / 1e3).toFixed(1)} us (${((hrNow() - t0) / 1e9).toFixed(1)} s)`,
    );
    return r;
  });
}
