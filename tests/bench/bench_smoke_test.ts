// The benchmarks, run at tiny sizes: every workload runs on this runtime, and every
// implementation (this library's shell and core, the naive model, the peers) returns the same
// hits on the shared agreement traces. No timing is asserted: timings on a shared CI machine
// are noise; the real numbers come from `deno task bench` and friends (see the README).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { agreementTraces, replay } from "../../bench/_check.ts";
import { TTLCache } from "@isaacs/ttlcache";
import { idKey, type ImplKind, IMPLS } from "../../bench/_impls.ts";
import type { Session } from "../../mod.ts";
import { runBenchmarks } from "../../bench/_run.ts";
import { renderReport } from "../../bench/_report.ts";
import {
  LIBSSL_IMPL,
  libsslDriver,
  libsslServerRun,
  writeServerTrace,
} from "../../bench/_libssl.ts";
import { openssl33Prefix } from "../conformance/libssl/_openssl.ts";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

describe("benchmarks (smoke mode)", () => {
  it("every implementation returns the same hits as the reference on the shared traces", async () => {
    const traces = agreementTraces(400);
    let compared = 0;
    for (const trace of traces) {
      assert.ok(trace.expected.some((s) => s !== undefined), `${trace.name}: no hits`);
      assert.ok(trace.expected.some((s) => s === undefined), `${trace.name}: no misses`);
      for (const kind of IMPLS) {
        const a = await replay(kind, trace);
        if (a.skipped !== undefined) {
          // Only LRU peers sit out, and only the trace that evicts.
          assert.ok(
            trace.evicts && !kind.evictsSoonestExpiry,
            `${kind.name} skipped ${trace.name}`,
          );
          continue;
        }
        assert.equal(a.mismatches, 0, `${kind.name} on "${trace.name}": ${a.firstMismatch}`);
        compared++;
      }
    }
    assert.ok(compared >= 3 * IMPLS.length - 2);
  });

  it("a peer with a non-strict expiry test is caught by the agreement traces", async () => {
    // @isaacs/ttlcache treats an entry as expired at now >= expiry; OpenSSL at now > expiry. The
    // bench gives it ttl + 1 ms for that reason. Without the + 1 the traces must notice.
    const ttl = IMPLS.find((k) => k.name === "@isaacs/ttlcache")!;
    const early: ImplKind = {
      ...ttl,
      name: "ttlcache without the + 1 ms",
      make: ({ capacity, timeout }) => {
        const c = new TTLCache<string, Session>({
          max: capacity,
          ttl: timeout * 1000,
          checkAgeOnGet: true,
        });
        return {
          add: (s) => void c.set(idKey(s.id), s),
          lookup: (id) => c.get(idKey(id)),
          flush: () => c.purgeStale(),
          size: () => c.size,
          close: () => c.cancelTimer(),
        };
      },
    };
    const a = await replay(early, agreementTraces(400)[0]!);
    assert.ok(a.mismatches > 0, "expected mismatches at the expiry boundary");
  });

  it("every workload runs at tiny sizes and reports finite numbers", async () => {
    const report = await runBenchmarks({ smoke: true });
    assert.equal(report.env.mode, "smoke");
    assert.ok(report.server.length > 0 && report.server.some((s) => s.opsPerSec! > 0));
    for (const s of report.server.filter((x) => x.skipped === undefined)) {
      assert.ok(Number.isFinite(s.opsPerSec) && s.opsPerSec! > 0, `${s.impl}: throughput`);
      assert.ok(
        s.latency!.max >= s.latency!.p999 && s.latency!.p999 >= s.latency!.p50,
        `${s.impl}: latency order`,
      );
      assert.ok(s.hitRate! > 0 && s.hitRate! < 1, `${s.impl}: hit rate ${s.hitRate}`);
    }
    for (const f of report.flush.filter((x) => x.skipped === undefined)) {
      assert.equal(f.verified, true, `${f.impl} flush n=${f.n} k=${f.k} did not remove exactly k`);
      assert.ok(Number.isFinite(f.time!.avg));
    }
    for (const o of report.outOfOrder.filter((x) => x.skipped === undefined)) {
      assert.equal(o.size, o.n, `${o.impl} holds ${o.size} of ${o.n} after the fill`);
    }
    for (const c of report.coreShell) {
      assert.ok(c.hits > 0, `${c.variant}: no hits`);
    }
    for (const m of report.memory.filter((x) => x.skipped === undefined)) {
      assert.ok(Number.isFinite(m.bytesPerSession), `${m.impl}: memory`);
    }
    // Cohort flushes remove exactly one cohort; the budget bounds what one handshake removes.
    const pause = report.pause!;
    for (const f of pause.flush.filter((x) => x.skipped === undefined)) {
      assert.equal(f.removed, pause.cohort, `${f.impl}: a cohort flush removed ${f.removed}`);
    }
    assert.ok(pause.flush.some((f) => f.impl === "SessionCache" && f.skipped === undefined));
    const [unbounded, budgeted] = pause.budget;
    assert.equal(
      unbounded!.maxRemoved,
      pause.cohort,
      "without a budget one flush takes the cohort",
    );
    assert.equal(
      budgeted!.maxRemoved,
      budgeted!.budget,
      "with one, a handshake removes at most it",
    );
    for (const r of pause.oldReads) assert.ok(r.back.count > 0 && Number.isFinite(r.back.p50));
    for (const h of pause.held.filter((x) => x.skipped === undefined)) {
      assert.ok(Number.isFinite(h.bytes), "held memory is a number");
    }
    // The libssl row is there, measured, or skipped with the reason when there is no driver.
    const libssl = report.server.filter((s) => s.impl === LIBSSL_IMPL);
    assert.equal(libssl.length, 1);
    assert.equal(libssl[0]!.skipped === undefined, "path" in libsslDriver());
    const text = renderReport(report);
    assert.match(text, /## 1\. Server workload/);
    assert.match(text, /## Correctness before timing/);
    assert.match(text, /## 6\. Pauses and old values/);
  });
});

// Without OpenSSL 3.3.2's source at all the driver cannot be built: skipped. A source that is
// there but does not build, or a driver that does not compile, fails.
const noOpenssl = (() => {
  const found = openssl33Prefix();
  return "skip" in found ? found.skip : false;
})();

describe("the libssl 3.3.2 C driver of the server workload", { skip: noOpenssl }, () => {
  const driver = (): string => {
    const d = libsslDriver();
    if ("why" in d) assert.fail(d.why);
    return d.path;
  };

  it("replays the server trace to the same hits, misses and size as SessionCache", () => {
    // libsslServerRun throws when the driver's digest differs from SessionCache's.
    const r = libsslServerRun(driver(), 256, {
      latencyOps: 3000,
      throughputOps: 1024,
      chunkOps: 256,
    });
    assert.ok(r.opsPerSec! > 0);
    assert.ok(r.hitRate! > 0 && r.hitRate! < 1, `hit rate ${r.hitRate}`);
    assert.equal(r.latency!.count, 3000);
    assert.ok(r.flushLatency!.count > 0 && r.flushRemoved!.max > 0);
    assert.ok(r.size! > 0 && r.size! <= 256);
  });

  it("reports a different digest when it replays something else", () => {
    const dir = mkdtempSync(join(tmpdir(), "libssl-driver-test-"));
    try {
      const file = join(dir, "trace");
      const w = writeServerTrace(file, 256, {
        latencyOps: 1000,
        throughputOps: 512,
        chunkOps: 256,
      });
      const run = () => {
        const out = spawnSync(driver(), [file, join(dir, "lat")], { encoding: "utf8" });
        assert.equal(out.status, 0, out.stderr);
        return /digest=([0-9a-f]{8})/.exec(out.stdout)?.[1];
      };
      assert.equal(run(), w.digest);
      // Cache size 2 instead of 257 (header word 7): other evictions, other hits.
      const bytes = readFileSync(file);
      bytes.writeUInt32LE(2, 28);
      writeFileSync(file, bytes);
      assert.notEqual(run(), w.digest);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
