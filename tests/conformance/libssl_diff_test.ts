// Differential test: random traces of cache operations replayed through the system's real
// libssl (tests/libssl/harness.c, built here with gcc) and through SessionCache; every result,
// every remove-callback call (in order) and the counters must agree line by line.
//
// Needs gcc and libssl's headers (Debian: libssl-dev). Without them the suite is skipped
// locally and FAILS in CI (CI=true), so a missing package never hides as a green run.
//
// Environment (optional): LIBSSL_DIFF_SEED first seed (default 1), LIBSSL_DIFF_TRACES number
// of traces (default 200), LIBSSL_DIFF_OPS operations per trace (default 300). A failure
// prints its seed and a shrunk trace; replay it with LIBSSL_DIFF_SEED=<seed>
// LIBSSL_DIFF_TRACES=1.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import {
  firstMismatch,
  formatMismatch,
  generateTrace,
  type Mismatch,
  replayLibssl,
  replayOurs,
  shrink,
  type Trace,
} from "./libssl/_trace.ts";

const HERE = dirname(fileURLToPath(import.meta.url));

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`Cannot read ${name}: expected a non-negative integer: received "${raw}"`);
  }
  return n;
}

/** Compiles the harness into a temporary directory; the binary path, or why it cannot be. */
function buildHarness(): { path: string; dir: string } | { skip: string } {
  const dir = mkdtempSync(join(tmpdir(), "libssl-harness-"));
  const path = join(dir, "harness");
  const cc = spawnSync(
    "gcc",
    ["-O1", "-o", path, join(HERE, "libssl", "harness.c"), "-lssl", "-lcrypto"],
    { encoding: "utf8" },
  );
  if (cc.error !== undefined || cc.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    const why = cc.error !== undefined
      ? `gcc not runnable (${cc.error.message})`
      : `gcc failed (is libssl-dev installed?): ${
        cc.stderr.trim().split("\n").slice(0, 3).join(" | ")
      }`;
    return { skip: why };
  }
  return { path, dir };
}

const built = buildHarness();
const skip = "skip" in built
  ? `libssl differential test needs gcc and libssl-dev: ${built.skip}`
  : undefined;
if (skip !== undefined) {
  if (process.env.CI) throw new Error(`${skip} (CI must install libssl-dev)`);
  console.warn(`SKIPPED: ${skip}`);
}
const harness = "path" in built ? built.path : "";

/** Runs traces on both sides; the shrunk mismatches (at most `limit`, first ones first). */
function compare(
  traces: readonly { seed: number | string; trace: Trace }[],
  limit = 3,
): Mismatch[] {
  const theirs = replayLibssl(harness, traces.map((t) => t.trace));
  const found: Mismatch[] = [];
  for (let k = 0; k < traces.length && found.length < limit; k++) {
    const { seed, trace } = traces[k] as { seed: number | string; trace: Trace };
    if (firstMismatch(replayOurs(trace), theirs[k] as string[]) < 0) continue;
    const small = shrink(harness, trace, { budgetMs: 20_000 });
    const [libssl] = replayLibssl(harness, [small]);
    found.push({ seed, trace: small, libssl: libssl as string[], ours: replayOurs(small) });
  }
  return found;
}

function assertAgree(traces: readonly { seed: number | string; trace: Trace }[]): void {
  const found = compare(traces);
  if (found.length > 0) {
    assert.fail(
      `SessionCache disagrees with libssl on ${found.length}+ trace(s):\n\n` +
        found.map(formatMismatch).join("\n\n"),
    );
  }
}

const hand = (name: string, lines: string): { seed: string; trace: Trace } => ({
  seed: `hand trace "${name}"`,
  trace: lines.trim().split("\n").map((l) => l.trim()),
});

describe("SessionCache against the system libssl (differential)", () => {
  const options = { skip: skip ?? false };

  it("the harness reproduces spec §10 rows 1-2 on libssl itself", options, () => {
    const [lines] = replayLibssl(harness, [
      hand(
        "spec §10",
        `
        size 3
        new s1 01 100 10 0
        new s2 02 101 10 0
        new s3 03 102 5 0
        new s4 04 103 10 0
        add s1
        add s2
        add s3
        add s4
        flush 111`,
      ).trace,
    ]);
    assert.deepEqual(lines, [
      "prev=20480 rm=[] n=0 full=0",
      "ok rm=[] n=0 full=0",
      "ok rm=[] n=0 full=0",
      "ok rm=[] n=0 full=0",
      "ok rm=[] n=0 full=0",
      "ret=1 t=100 rm=[] n=1 full=0",
      "ret=1 t=101 rm=[] n=2 full=0",
      "ret=1 t=102 rm=[s1:01@0:100+10] n=2 full=1",
      "ret=1 t=103 rm=[s3:03@0:102+5] n=2 full=2",
      "ok rm=[] n=2 full=2",
    ]);
  });

  it("hand traces of cache operations agree with libssl", options, () => {
    assertAgree([
      hand(
        "re-add and replace",
        `
        new s0 01 10 5 0
        new s1 01 10 5 0
        add s0
        add s0
        add s1
        remove s0
        remove s0
        stats`,
      ),
      hand(
        "set_time on a cached session re-sorts it",
        `
        new s0 01 1 1 0
        new s1 02 1 1 0
        add s0
        add s1
        settime s0 1
        add s0
        flush 0`,
      ),
      hand(
        "set_time on an uncached object changes a later add",
        `
        size 2
        new s0 01 1 10 0
        new s1 02 5 10 0
        add s0
        remove s0
        settime s0 50
        add s0
        add s1
        flush 0`,
      ),
      hand(
        "UPDATE_TIME",
        `
        mode 402
        clock 500
        new s0 01 100 10 304
        add s0
        clock 600
        add s0
        has 01 304
        has 01 303
        flush 609
        flush 611`,
      ),
    ]);
  });

  it("hand traces with real handshakes agree with libssl", options, () => {
    assertAgree([
      hand(
        "hit, miss, expiry on lookup",
        `
        clock 100
        hs s0 - -
        hs s1 s0 -
        new s2 01 100 50 303
        hs s3 s2 -
        add s2
        hs s4 s2 -
        clock 151
        hs s5 s2 -
        stats`,
      ),
      hand(
        "external cache: resumable, then removed (ignored), NO_INTERNAL",
        `
        clock 10
        new s0 01 10 50 303
        hs s1 s0 s0
        hs s2 s0 s0
        remove s0
        hs s3 s0 s0
        mode 302
        new s4 02 10 50 303
        hs s5 s4 s4
        hs s6 s4 s4`,
      ),
      hand(
        "a removed session re-added is resumed but skips the cache update",
        `
        clock 10
        hs s0 - -
        remove s0
        add s0
        hs s1 s0 -
        stats`,
      ),
      hand(
        "session id context mismatch is a silent miss",
        `
        sidctx aa
        new s0 01 0 50 303 bbbb
        add s0
        hs s1 s0 -
        new s2 02 0 50 303 aa
        add s2
        hs s3 s2 -`,
      ),
      hand(
        "mode without SERVER: the server sends an empty session id",
        `
        mode 1
        hs s0 - -
        hs s1 s0 -
        stats`,
      ),
      {
        seed: 'hand trace "auto-flush during the 256th handshake"',
        trace: [
          "ctxtimeout 5",
          "clock 0",
          ...Array.from({ length: 255 }, (_, k) => `hs s${k} - -`),
          "clock 100",
          "hs s255 - -",
          "hs s256 - -",
          "stats",
        ],
      },
    ]);
  });

  it("random traces: every result, callback and counter matches libssl", options, () => {
    const first = envInt("LIBSSL_DIFF_SEED", 1);
    const count = envInt("LIBSSL_DIFF_TRACES", 200);
    const ops = envInt("LIBSSL_DIFF_OPS", 300);
    const traces = Array.from({ length: count }, (_, k) => ({
      seed: first + k,
      trace: generateTrace(first + k, { ops }),
    }));
    assertAgree(traces);
  });
});

process.on("exit", () => {
  if ("dir" in built) rmSync(built.dir, { recursive: true, force: true });
});
