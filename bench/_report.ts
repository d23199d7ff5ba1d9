/**
 * Turns a {@linkcode BenchReport} into Markdown: ratios first, absolute
 * numbers beside them, and the targets checked (reported, never asserted).
 *
 * @module
 */

import type { BenchReport } from "./_run.ts";

const SHELL = "SessionCache";
const CORE = "core";

/** A Markdown table; `left` columns are left-aligned, the rest right-aligned. */
function table(head: readonly string[], rows: readonly (readonly string[])[], left = 1): string[] {
  return [
    `| ${head.join(" | ")} |`,
    `|${head.map((_, i) => (i < left ? "---" : "---:")).join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ];
}

const fx = (
  x: number | undefined,
  d = 2,
) => (x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(d));
const us = (
  ns: number | undefined,
) => (ns === undefined || !Number.isFinite(ns)
  ? "–"
  : ns >= 1e5
  ? (ns / 1e3).toFixed(0)
  : (ns / 1e3).toFixed(1));
const ratio = (
  a: number | undefined,
  b: number | undefined,
) => (a === undefined || b === undefined || b === 0 ? undefined : a / b);
const rx = (
  x: number | undefined,
) => (x === undefined || !Number.isFinite(x) ? "–" : `${x >= 10 ? x.toFixed(0) : x.toFixed(2)}×`);
const kops = (x: number | undefined) => (x === undefined ? "–" : (x / 1e3).toFixed(0));
const kib = (x: number | undefined) => (x === undefined ? "–" : (x / 1024).toFixed(0));
const pow10 = (n: number) => {
  const e = Math.log10(n);
  return Number.isInteger(e) ? `10^${e}` : String(n);
};

/** A target's verdict. */
export interface Verdict {
  readonly target: string;
  readonly value: string;
  readonly met: boolean | undefined;
}

/** Checks the targets of the benchmark issue against the numbers. */
export function verdicts(r: BenchReport): Verdict[] {
  const out: Verdict[] = [];
  // Flush: nothing expired, 10^6 vs 10^3.
  for (const impl of [CORE, `${CORE} (same value)`, SHELL]) {
    const at = (n: number, k: number) =>
      r.flush.find((f) => f.impl === impl && f.n === n && f.k === k)?.time?.p50;
    const sizes = [...new Set(r.flush.map((f) => f.n))].sort((a, b) => a - b);
    if (sizes.length < 2) continue;
    const lo = sizes[0]!, hi = sizes[sizes.length - 1]!;
    const x = ratio(at(hi, 0), at(lo, 0));
    if (x !== undefined) {
      out.push({
        target: `${impl}: flush with nothing expired at ${pow10(hi)} costs <= 2× ${pow10(lo)}`,
        value: rx(x),
        met: x <= 2,
      });
    }
    // Same k, n ten times larger: (10n, 1%) vs (n, 10%).
    const pairs: string[] = [];
    let worst = 0;
    for (const n of sizes) {
      const a = at(n, Math.round(0.1 * n));
      const b = at(n * 10, Math.round(0.01 * n * 10));
      if (a === undefined || b === undefined) continue;
      pairs.push(`k=${Math.round(0.1 * n)}: ${rx(b / a)}`);
      worst = Math.max(worst, b / a);
    }
    if (pairs.length > 0) {
      out.push({
        target:
          `${impl}: flush of k expired grows with k, not n (same k, n ×10: ratio ≈ 1, <= 2 accepted)`,
        value: pairs.join(", "),
        met: worst <= 2,
      });
    }
  }
  // Server throughput (issue 10: >= 1.5× Map and >= 2× ttlcache, the pure API >= core v0.1),
  // libssl, and the worst single operation against Map's.
  const caps = [...new Set(r.server.map((s) => s.capacity))];
  for (const cap of caps) {
    const rows = r.server.filter((s) => s.capacity === cap && s.opsPerSec !== undefined);
    const named = (impl: string) => rows.find((s) => s.impl === impl);
    const shell = named(SHELL);
    for (const [peer, want] of [["Map", 1.5], ["@isaacs/ttlcache", 2]] as const) {
      const other = named(peer);
      if (!shell || !other) continue;
      const x = shell.opsPerSec! / other.opsPerSec!;
      out.push({
        target: `server cap ${cap}: SessionCache throughput >= ${want}× ${peer}`,
        value: `${rx(x)} (${kops(shell.opsPerSec)}k vs ${kops(other.opsPerSec)}k ops/s)`,
        met: x >= want,
      });
    }
    const pure = named(CORE), v01 = named(`${CORE} v0.1`);
    if (pure && v01) {
      const x = pure.opsPerSec! / v01.opsPerSec!;
      out.push({
        target: `server cap ${cap}: the pure core's throughput >= the v0.1 core's`,
        value: `${rx(x)} (${kops(pure.opsPerSec)}k vs ${kops(v01.opsPerSec)}k ops/s)`,
        met: x >= 1,
      });
    }
    const libssl = rows.find((s) => s.role === "libssl");
    if (shell && libssl) {
      const x = libssl.opsPerSec! / shell.opsPerSec!;
      out.push({
        target: `server cap ${cap}: SessionCache within 1.5× of ${libssl.impl} on the same trace`,
        value: `libssl ${rx(x)} as fast (${kops(libssl.opsPerSec)}k vs ${
          kops(shell.opsPerSec)
        }k ops/s)`,
        met: x <= 1.5,
      });
    }
    const map = named("Map");
    if (shell && map && cap >= 1e6) {
      const x = shell.latency!.max / map.latency!.max;
      out.push({
        target: `server cap ${cap}: SessionCache's worst single op <= 1.5× Map's worst`,
        value: `${rx(x)}: max ${us(shell.latency!.max)} vs ${us(map.latency!.max)} µs (p99.9 ${
          us(shell.latency!.p999)
        } vs ${us(map.latency!.p999)} µs; flushing adds remove ${
          fx(shell.flushRemoved?.mean, 0)
        } on average, at most ${shell.flushRemoved?.max})`,
        met: x <= 1.5,
      });
    }
  }
  // Memory: at most lru-cache's bytes per session.
  for (const n of [...new Set(r.memory.map((m) => m.n))]) {
    const shell = r.memory.find((m) => m.n === n && m.impl === SHELL)?.bytesPerSession;
    const lru = r.memory.find((m) => m.n === n && m.impl === "lru-cache")?.bytesPerSession;
    const x = ratio(shell, lru);
    if (x !== undefined) {
      out.push({
        target: `memory n=${pow10(n)}: SessionCache bytes per session <= lru-cache's`,
        value: `${rx(x)} (${fx(shell, 0)} vs ${fx(lru, 0)} B)`,
        met: x <= 1,
      });
    }
  }
  // Out-of-order adds: O(log n).
  const ooo = (n: number) =>
    r.outOfOrder.find((o) => o.impl === SHELL && o.n === n && o.timeouts === "random")?.perAdd
      ?.avg;
  const oooSizes = [...new Set(r.outOfOrder.map((o) => o.n))].sort((a, b) => a - b);
  if (oooSizes.length >= 2) {
    const lo = oooSizes[0]!, hi = oooSizes[oooSizes.length - 1]!;
    const x = ratio(ooo(hi), ooo(lo));
    if (x !== undefined) {
      out.push({
        target: `out-of-order adds stay O(log n): SessionCache per add at ${pow10(hi)} <= 3× at ${
          pow10(lo)
        }`,
        value: `${rx(x)} (${fx(ooo(hi), 0)} vs ${fx(ooo(lo), 0)} ns)`,
        met: x <= 3,
      });
    }
  }
  // Pauses and old values.
  const p = r.pause;
  if (p !== undefined) {
    const shell = p.flush.find((f) => f.impl === SHELL)?.time;
    const map = p.flush.find((f) => f.impl === "Map")?.time;
    if (shell) {
      out.push({
        target: `a flush removing ${p.cohort} sessions at ${pow10(p.n)}: median <= 2 ms`,
        value: `${us(shell.p50)} µs median, max ${us(shell.max)} µs (${
          fx(shell.p50 / p.cohort, 0)
        } ns per removal, callback included)${
          map ? `; Map ${us(map.p50)} µs, max ${us(map.max)} µs` : ""
        }`,
        met: shell.p50 <= 2e6,
      });
    }
    const budgeted = p.budget.find((b) => b.budget > 0);
    if (budgeted) {
      out.push({
        target: `with flushBudget ${budgeted.budget}: a handshake that flushes <= 0.5 ms`,
        value: `${us(budgeted.removing.p50)} µs median, max ${
          us(budgeted.removing.max)
        } µs (at most ${budgeted.maxRemoved} removed by one)`,
        met: budgeted.removing.p50 <= 5e5,
      });
    }
    const old = p.oldReads.find((o) => o.distance === 1000);
    if (old) {
      out.push({
        target: `first read of an old value 1000 operations back (n=${pow10(old.n)}) <= 0.5 ms`,
        value: `${us(old.back.p50)} µs median, max ${us(old.back.max)} µs; the newest again ${
          us(old.forward.p50)
        } µs`,
        met: old.back.p50 <= 5e5,
      });
    }
    const held = p.held.filter((h) => h.bytes !== undefined);
    if (held.length >= 2) {
      // Bounded means a plateau: 10× more operations since the old value hold no more memory
      // (what it holds grows while the operations touch more of the cache, then stops).
      const prev = held[held.length - 2]!, last = held[held.length - 1]!;
      out.push({
        target: `memory an old value holds is bounded (n=${pow10(last.n)}; ${
          pow10(last.distance)
        } ops later <= 1.5× ${pow10(prev.distance)} ops later)`,
        value: held.map((h) => `${pow10(h.distance)}: ${kib(h.bytes)} KiB`).join(", "),
        met: last.bytes! <= 1.5 * Math.max(prev.bytes!, 64 * 1024),
      });
    }
  }
  return out;
}

/** The report as Markdown lines. */
export function renderReport(r: BenchReport): string {
  const L: string[] = [];
  const e = r.env;
  L.push(`# openssl-session-cache benchmarks (${e.mode})`, "");
  L.push(`- runtime: ${e.runtime}`);
  L.push(
    `- machine: ${e.nproc} CPUs, ${e.cpu} (${e.cpuinfo}); load average at the end ${
      e.loadavg.join(" / ")
    }`,
  );
  L.push(`- forced GC: ${e.forcedGc ? "yes" : `no (memory skipped; run \`${e.gcHint}\`)`}`);
  L.push(
    `- date: ${e.date}; took ${e.seconds.toFixed(0)} s; src/ fingerprint ${e.src ?? "unknown"}`,
  );
  L.push(`- implementations: ${r.impls.join(", ")}`);
  L.push("");

  L.push("## Correctness before timing", "");
  L.push(
    "Every implementation replays the same traces; lookups must return the very session objects the reference expects.",
    "",
  );
  L.push(...table(
    ["trace", "implementation", "lookups", "hits", "mismatches"],
    r.agreement.map((
      a,
    ) => [
      a.trace,
      a.impl,
      String(a.lookups),
      a.skipped ? "–" : String(a.hits),
      a.skipped ? `skipped: ${a.skipped}` : String(a.mismatches),
    ]),
    2,
  ));
  L.push("");

  const v = verdicts(r);
  if (v.length > 0) {
    L.push("## Targets (reported, not asserted)", "");
    L.push(
      ...table(
        ["target", "measured", "met"],
        v.map((x) => [x.target, x.value, x.met === undefined ? "–" : x.met ? "yes" : "**no**"]),
        2,
      ),
    );
    L.push("");
  }

  if (r.server.length > 0) {
    L.push("## 1. Server workload", "");
    L.push(
      "Half adds of new sessions, half lookups of recent ids (hit, expired or evicted), timeout 300 s, flush every 256 adds. " +
        "Throughput is relative to SessionCache (higher is faster). Latencies in µs, every operation timed alone; " +
        '"flushing add" is the add that also flushes (every 256th); "removed per flush" counts what it removed ' +
        "(with integer-second clocks a flush removes the whole cohort of sessions made in one second, 300 s earlier).",
      "",
    );
    if (r.server.some((s) => s.role === "libssl")) {
      L.push(
        "The libssl row replays the same operations in C (bench/libssl/driver.c) on OpenSSL 3.3.2's static " +
          "libraries as ../shared/openssl/build.sh builds them, sessions built outside the timed loops; its hits, " +
          "misses and final size are checked against SessionCache's before it is reported.",
        "",
      );
    }
    for (const cap of [...new Set(r.server.map((s) => s.capacity))]) {
      const rows = r.server.filter((s) => s.capacity === cap);
      const shell = rows.find((s) => s.impl === SHELL)?.opsPerSec;
      L.push(`### capacity ${cap}`, "");
      L.push(...table(
        [
          "implementation",
          "throughput ÷ SessionCache",
          "k ops/s",
          "p50",
          "p99",
          "p99.9",
          "max",
          "flushing add p50",
          "flushing add max",
          "removed per flush (mean / max)",
          "hit rate",
          "size",
        ],
        rows.map((s) =>
          s.skipped ? [s.impl, `skipped: ${s.skipped}`, "", "", "", "", "", "", "", "", "", ""] : [
            s.impl,
            rx(ratio(s.opsPerSec, shell)),
            kops(s.opsPerSec),
            us(s.latency!.p50),
            us(s.latency!.p99),
            us(s.latency!.p999),
            us(s.latency!.max),
            us(s.flushLatency!.p50),
            us(s.flushLatency!.max),
            s.flushRemoved ? `${fx(s.flushRemoved.mean, 0)} / ${s.flushRemoved.max}` : "–",
            fx(s.hitRate, 3),
            String(s.size),
          ]
        ),
      ));
      L.push("");
    }
  }

  if (r.flush.length > 0) {
    L.push("## 2. Flush scaling", "");
    L.push(
      "n sessions (distinct expiries, inserted shuffled); one flush finds k expired. µs per flush (median of the samples: steadier than the mean on a shared machine); " +
        "`÷ 10^3` is the k = 0 flush relative to the same implementation at n = 10^3.",
      "",
    );
    const sizes = [...new Set(r.flush.map((f) => f.n))].sort((a, b) => a - b);
    const impls = [...new Set(r.flush.map((f) => f.impl))];
    const rows: string[][] = [];
    for (const impl of impls) {
      const at = (n: number, k: number) =>
        r.flush.find((f) => f.impl === impl && f.n === n && f.k === k);
      for (const n of sizes) {
        const fs = r.flush.filter((f) => f.impl === impl && f.n === n);
        if (fs.length === 0) continue;
        if (fs[0]!.skipped) {
          rows.push([impl, pow10(n), `skipped: ${fs[0]!.skipped}`, "", "", "", ""]);
          continue;
        }
        const k0 = fs.find((f) => f.k === 0)?.time?.p50;
        const base = at(sizes[0]!, 0)?.time?.p50;
        const k1 = fs.find((f) => f.k === Math.round(0.01 * n));
        const k10 = fs.find((f) => f.k === Math.round(0.1 * n));
        rows.push([
          impl,
          pow10(n),
          us(k0),
          rx(ratio(k0, base)),
          us(k1?.time?.p50),
          us(k10?.time?.p50),
          fs.every((f) => f.verified) ? "yes" : "**no**",
        ]);
      }
    }
    L.push(
      ...table([
        "implementation",
        "n",
        "k = 0",
        "k = 0 ÷ 10^3",
        "k = 1 %",
        "k = 10 %",
        "removed exactly k",
      ], rows),
    );
    L.push("");
    L.push("Flush time relative to SessionCache at the same n and k (lower is faster):", "");
    const rel: string[][] = [];
    for (const n of sizes) {
      for (const k of [...new Set(r.flush.filter((f) => f.n === n).map((f) => f.k))]) {
        const shell = r.flush.find((f) => f.impl === SHELL && f.n === n && f.k === k)?.time?.p50;
        rel.push([
          `${pow10(n)}, k=${k}`,
          ...impls.map((impl) =>
            rx(
              ratio(
                r.flush.find((f) => f.impl === impl && f.n === n && f.k === k)?.time?.p50,
                shell,
              ),
            )
          ),
        ]);
      }
    }
    L.push(...table(["n, k", ...impls], rel));
    L.push("");
  }

  if (r.outOfOrder.length > 0) {
    L.push("## 3. Out-of-order expiries", "");
    L.push(
      "Filling an empty cache with n sessions whose timeouts are random (60 s .. 24 h), so expiries arrive out of order. " +
        "ns per add (mean), and relative to SessionCache; `uniform` is the same fill with one timeout (in order), for reference.",
      "",
    );
    const sizes = [...new Set(r.outOfOrder.map((o) => o.n))].sort((a, b) => a - b);
    const impls = [...new Set(r.outOfOrder.map((o) => o.impl))];
    const rows: string[][] = [];
    for (const impl of impls) {
      const cells: string[] = [];
      for (const n of sizes) {
        const o = r.outOfOrder.find((x) => x.impl === impl && x.n === n && x.timeouts === "random");
        const shell = r.outOfOrder.find((x) =>
          x.impl === SHELL && x.n === n && x.timeouts === "random"
        );
        const uni = r.outOfOrder.find((x) =>
          x.impl === impl && x.n === n && x.timeouts === "uniform"
        );
        cells.push(
          o?.skipped
            ? "skipped"
            : `${fx(o?.perAdd?.avg, 0)} (${rx(ratio(o?.perAdd?.avg, shell?.perAdd?.avg))})${
              uni?.perAdd ? `; uniform ${fx(uni.perAdd.avg, 0)}` : ""
            }${o?.size !== undefined && o.size !== n ? ` [size ${o.size}]` : ""}`,
        );
      }
      const lo = r.outOfOrder.find((x) =>
        x.impl === impl && x.n === sizes[0] && x.timeouts === "random"
      )?.perAdd?.avg;
      const hi = r.outOfOrder.find((x) =>
        x.impl === impl && x.n === sizes[sizes.length - 1] && x.timeouts === "random"
      )?.perAdd?.avg;
      rows.push([impl, ...cells, rx(ratio(hi, lo))]);
    }
    L.push(
      ...table([
        "implementation",
        ...sizes.map((n) => `n = ${pow10(n)}`),
        `${pow10(sizes[sizes.length - 1]!)} ÷ ${pow10(sizes[0]!)}`,
      ], rows),
    );
    L.push("");
  }

  if (r.memory.length > 0) {
    L.push("## 4. Memory", "");
    L.push(
      "Heap retained per cached session (after forced GC), the session objects themselves excluded; relative to lru-cache holding the same sessions.",
      "",
    );
    const sizes = [...new Set(r.memory.map((m) => m.n))].sort((a, b) => a - b);
    const impls = [...new Set(r.memory.map((m) => m.impl))];
    const rows = impls.map((impl) => [
      impl,
      ...sizes.map((n) => {
        const m = r.memory.find((x) => x.impl === impl && x.n === n);
        const lru = r.memory.find((x) => x.impl === "lru-cache" && x.n === n)?.bytesPerSession;
        return m?.skipped
          ? `skipped: ${m.skipped}`
          : `${fx(m?.bytesPerSession, 0)} B (${rx(ratio(m?.bytesPerSession, lru))})`;
      }),
    ]);
    L.push(...table(["implementation", ...sizes.map((n) => `n = ${pow10(n)}`)], rows));
    L.push("");
  }

  if (r.coreShell.length > 0 || r.server.length > 0) {
    L.push("## 5. Pure core vs shell", "");
    L.push(
      "What the immutable core costs, and what the shell adds on top. Ratios are SessionCache ÷ core (time) unless stated.",
      "",
    );
    const rows: string[][] = [];
    for (const cap of [...new Set(r.server.map((s) => s.capacity))]) {
      const s = r.server.find((x) => x.capacity === cap && x.impl === SHELL)?.opsPerSec;
      const c = r.server.find((x) => x.capacity === cap && x.impl === CORE)?.opsPerSec;
      const map = r.server.find((x) => x.capacity === cap && x.impl === "Map")?.opsPerSec;
      rows.push([
        `server cap ${cap}: time per op`,
        rx(ratio(c, s)),
        `core is ${rx(ratio(map, c))} slower than Map (throughput)`,
      ]);
    }
    for (const f of r.flush.filter((x) => x.impl === CORE && x.time)) {
      const s = r.flush.find((x) => x.impl === SHELL && x.n === f.n && x.k === f.k)?.time?.p50;
      rows.push([`flush n=${pow10(f.n)} k=${f.k}`, rx(ratio(s, f.time!.p50)), ""]);
    }
    for (const o of r.outOfOrder.filter((x) => x.impl === CORE && x.perAdd)) {
      const s = r.outOfOrder.find((x) =>
        x.impl === SHELL && x.n === o.n && x.timeouts === o.timeouts
      )?.perAdd?.avg;
      const map = r.outOfOrder.find((x) =>
        x.impl === "Map" && x.n === o.n && x.timeouts === o.timeouts
      )?.perAdd?.avg;
      rows.push([
        `add (${o.timeouts} timeouts) n=${pow10(o.n)}`,
        rx(ratio(s, o.perAdd!.avg)),
        map ? `core ÷ Map.set ${rx(ratio(o.perAdd!.avg, map))}` : "",
      ]);
    }
    for (const m of r.memory.filter((x) => x.impl === CORE && x.bytesPerSession !== undefined)) {
      const s = r.memory.find((x) => x.impl === SHELL && x.n === m.n)?.bytesPerSession;
      const map = r.memory.find((x) => x.impl === "Map" && x.n === m.n)?.bytesPerSession;
      rows.push([
        `memory n=${pow10(m.n)} (bytes)`,
        rx(ratio(s, m.bytesPerSession)),
        `core ÷ Map ${rx(ratio(m.bytesPerSession, map))}`,
      ]);
    }
    L.push(
      ...table(["measure", "SessionCache ÷ core", "note"], rows.map(([a, b, c]) => [a!, b!, c!])),
    );
    L.push("");
    if (r.coreShell.length > 0) {
      for (const n of [...new Set(r.coreShell.map((c) => c.n))]) {
        const rows2 = r.coreShell.filter((c) => c.n === n);
        const base = rows2.find((c) => c.variant === "core lookup()")?.perLookup.avg;
        L.push(
          `Lookup hits on a cache of ${
            pow10(n)
          } sessions (shuffled ids, fresh id copies), ns per lookup and relative to core lookup():`,
          "",
        );
        L.push(
          ...table(
            ["variant", "ns", "÷ core lookup()"],
            rows2.map((c) => [c.variant, fx(c.perLookup.avg, 0), rx(ratio(c.perLookup.avg, base))]),
          ),
        );
        L.push("");
      }
    }
  }
  const p = r.pause;
  if (p !== undefined) {
    L.push("## 6. Pauses and old values", "");
    L.push(
      `A cache of ${
        pow10(p.n)
      } sessions made ${p.cohort} per second (timeout 300 s): every timed flush finds one ` +
        "second's sessions expired, the worst flush of the server workload. SessionCache has an onRemoveSession " +
        "callback. µs per flush, median and max of the samples.",
      "",
    );
    L.push(...table(
      ["implementation", "median", "max", "removed per flush", "ns per removal (median)"],
      p.flush.map((f) =>
        f.skipped ? [f.impl, `skipped: ${f.skipped}`, "", "", ""] : [
          f.impl,
          us(f.time!.p50),
          us(f.time!.max),
          String(f.removed),
          fx(f.time!.p50 / p.cohort, 0),
        ]
      ),
    ));
    L.push("");
    if (p.budget.length > 0) {
      L.push(
        "The same cache behind completed handshakes (`handshakeCompleted`, 256 per second, so one automatic flush " +
          "per second). µs per handshake; the removing ones are the automatic flush and, with a budget, the " +
          "handshakes that finish it.",
        "",
      );
      L.push(...table(
        [
          "flushBudget",
          "removing handshakes: median",
          "max",
          "most removed by one",
          "all handshakes: median",
          "max",
        ],
        p.budget.map((b) => [
          b.budget === 0 ? "0 (OpenSSL)" : String(b.budget),
          us(b.removing.p50),
          us(b.removing.max),
          String(b.maxRemoved),
          us(b.all.p50),
          us(b.all.max),
        ]),
      ));
      L.push("");
    }
    if (p.oldReads.length > 0) {
      L.push(
        `Old values of the pure core (n = ${
          pow10(p.oldReads[0]!.n)
        }): the caller keeps a value, goes on for k ` +
          "operations on the newest (half adds, half lookups), then reads the old value once and the newest once " +
          "(µs, median and max).",
        "",
      );
      L.push(...table(
        ["k", "old value's first read", "max", "the newest again", "max"],
        p.oldReads.map((o) => [
          String(o.distance),
          us(o.back.p50),
          us(o.back.max),
          us(o.forward.p50),
          us(o.forward.max),
        ]),
      ));
      L.push("");
    }
    if (p.held.length > 0) {
      L.push(
        `Memory one old value keeps alive (KiB, after forced GC), for a cache of ${
          pow10(p.held[0]!.n)
        } sessions, k adds after it was taken:`,
        "",
      );
      L.push(...table(
        ["k", "held"],
        p.held.map((h) => [pow10(h.distance), h.skipped ? `skipped: ${h.skipped}` : kib(h.bytes)]),
      ));
      L.push("");
    }
  }
  return L.join("\n");
}
