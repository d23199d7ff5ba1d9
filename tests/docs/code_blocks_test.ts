/**
 * Every code block of README.md and docs/*.md runs (or type-checks) as
 * written, by the convention of tests/docs/_code_blocks.ts (explained in
 * docs/testing.md); a fixture of planted broken blocks proves that the check
 * fails when a block is broken. Also: the README stays under 250 lines and
 * every relative link in these files points at a file that exists.
 *
 * Runs under the Node test runner only: it runs the blocks with Deno as
 * child processes, which would only be repeated by the other runtimes.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { checkBlocks, extractBlocks } from "./_code_blocks.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const DENO = join(ROOT, "node_modules", ".bin", "deno");
const RUNTIME = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const skip = RUNTIME === "node"
  ? false
  : "the code blocks are run with Deno child processes, once, under the Node runner";
if (skip) console.warn(`SKIPPED: ${skip}`);

const DOCS = [
  join(ROOT, "README.md"),
  ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) =>
    join(ROOT, "docs", f)
  ),
];

describe("README and docs code blocks", { skip }, () => {
  it("all run or type-check as written", () => {
    const blocks = DOCS.flatMap((path) => extractBlocks(ROOT, path));
    assert.ok(blocks.filter((b) => b.lang === "ts" && !b.checkOnly).length >= 10);
    const failed = checkBlocks(ROOT, DENO, blocks).filter((r) => r.problem !== "");
    assert.deepEqual(
      failed.map((r) => `${r.block.file}:${r.block.line}: ${r.problem.slice(0, 2000)}`),
      [],
    );
  });

  it("fail when a block is broken (planted in tests/fixtures/docs_broken.md)", () => {
    const blocks = extractBlocks(ROOT, join(ROOT, "tests", "fixtures", "docs_broken.md"));
    const results = checkBlocks(ROOT, DENO, blocks);
    assert.deepEqual(
      results.map((r) => [r.block.lang, r.block.checkOnly, r.problem === "" ? "ok" : "failed"]),
      [
        ["ts", false, "ok"],
        ["ts", false, "failed"],
        ["ts", false, "failed"],
        ["ts", true, "failed"],
        ["sh", false, "failed"],
        ["sh", false, "failed"],
      ],
    );
    assert.match(results[1]!.problem, /TS2322/); // the type error, attributed to its block
    assert.match(results[2]!.problem, /AssertionError/);
    assert.match(results[5]!.problem, /"no-such-script" is not in package\.json/);
  });
});

describe("README and docs", () => {
  it("the README is under 250 lines", () => {
    const lines = readFileSync(join(ROOT, "README.md"), "utf8").split("\n").length;
    assert.ok(lines < 250, `README.md has ${lines} lines`);
  });

  it("every relative link points at a file that exists", () => {
    const broken: string[] = [];
    for (const path of DOCS) {
      const text = readFileSync(path, "utf8");
      for (const m of text.matchAll(/\]\((?!https?:|#|mailto:)([^)\s#]+)(?:#[^)]*)?\)/g)) {
        if (!existsSync(resolve(dirname(path), m[1]!))) broken.push(`${path}: ${m[1]}`);
      }
    }
    assert.deepEqual(broken, []);
  });
});
