/**
 * The demo as a learner sees it: `demo/main.ts --quick` (an eighth of the
 * connections, real TLS handshakes on 127.0.0.1) run as a child process.
 * Every line fits 80 columns, each phase opens with its legend, and the
 * numbers agree with each other: the per-phase counter changes add up to
 * the closing table of OpenSSL's counters, and the automatic flush runs it
 * reports fall on multiples of 256 handshakes.
 *
 * Node only (the demo needs Node's server session events). The child has a
 * timeout.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const RUNTIME = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const skip = RUNTIME === "node"
  ? false
  : `${RUNTIME} never calls node:tls 'newSession'/'resumeSession' listeners (the demo is Node-only)`;
if (skip) console.warn(`SKIPPED: ${skip}`);

function runDemo(): string {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  delete env.NODE_TEST_CONTEXT;
  return execFileSync(process.execPath, ["--import", "tsx", "demo/main.ts", "--quick"], {
    cwd: ROOT,
    env,
    encoding: "utf8",
    timeout: 120_000,
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** The output as one line: wrapped lines joined again, so sentences can be matched. */
function flat(text: string): string {
  return text.replace(/\n\s*/g, " ");
}

describe("npm run demo", { skip }, () => {
  const output = skip ? "" : runDemo();
  const lines = output.split("\n");

  it("fits 80 columns", () => {
    const wide = lines.filter((l) => l.length > 80);
    assert.deepEqual(wide, []);
  });

  it("opens each phase with a legend and names the simulated clock", () => {
    const heads = lines.filter((l) => l.startsWith("== "));
    assert.deepEqual(
      heads.map((h) => h.split(" ")[1]),
      ["1", "2", "3", "4a", "4b", "5", "Summary"],
    );
    for (const [i, line] of lines.entries()) {
      if (/^== \d/.test(line)) assert.match(lines[i + 1]!, /^\S/, `a legend after ${line}`);
    }
    assert.match(output, /The cache's clock is simulated/);
    assert.match(output, /== 3 after expiry \(cache clock \+301 s\)/);
    assert.match(flat(output), /TLS 1\.3-capable ClientHello carries a random 32-byte legacy/);
  });

  it("reports counter changes per phase that add up to OpenSSL's counters at the end", () => {
    const sums = new Map<string, number>();
    const changes = [...flat(output).matchAll(/counters changed by: (.*?), cached \d+ -> \d+\./g)];
    assert.equal(changes.length, 6, "one line of changes per phase");
    for (const m of changes) {
      for (const item of m[1]!.split(", ")) {
        const d = /^(.*) \+(\d+)$/.exec(item);
        if (d) sums.set(d[1]!, (sums.get(d[1]!) ?? 0) + Number(d[2]));
      }
    }
    const closing = new Map<string, number>();
    for (const line of lines) {
      const m = /^([a-z_]+)\s+([a-zA-Z]+)\s+(\d+)\s+\S/.exec(line);
      if (m) closing.set(m[2]!, Number(m[3]));
    }
    assert.equal(closing.size, 12, "the closing table has OpenSSL's 12 figures");
    for (const key of ["accept", "acceptGood", "hits", "misses", "timeouts", "cacheFull"]) {
      assert.equal(sums.get(key) ?? 0, closing.get(key), key);
    }
    assert.ok((closing.get("hits") ?? 0) > 0 && (closing.get("cacheFull") ?? 0) > 0);
    // Evictions and lookups that found a session expired are the cache's own removals.
    assert.equal(sums.get("evicted"), closing.get("cacheFull"));
    assert.equal(sums.get("dropped by a lookup"), closing.get("timeouts"));
  });

  it("observes the automatic flush on multiples of 256 handshakes, from the remove callback", () => {
    const text = flat(output);
    const m =
      /expired sessions during (\d+) handshakes? \(number ([\d, ]+)\), (\d+) sessions in all/
        .exec(text);
    assert.ok(m, "the summary names the handshakes that flushed");
    const at = m[2]!.split(", ").map(Number);
    assert.equal(at.length, Number(m[1]));
    for (const n of at) assert.equal(n % 256, 0);
    const flushed = [...text.matchAll(/flushed as expired \+(\d+)/g)].reduce(
      (n, x) => n + Number(x[1]),
      0,
    );
    assert.equal(flushed, Number(m[3]));
    assert.match(output, /^OK: all \d+ resumptions came from the cache/m);
  });
});
