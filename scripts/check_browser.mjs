#!/usr/bin/env node
// Proves that the entry points meant for browsers and Workers (`.` = mod.ts and `./core` =
// core.ts) need no Node built-in: bundles each one for the browser platform with esbuild
// (already in the dependency tree, through tsx) and fails if the bundle imports `node:*` or
// a bare built-in module name (`buffer`, `fs`, ...), or anything outside the repository.
// Also checks that every file the bundle pulls in says so in its first line
// (`// This module is browser compatible.`, the denoland/std convention).
//
// Usage: node scripts/check_browser.mjs [entry.ts ...]   (default: mod.ts core.ts)
// Exits non-zero, naming the offending import, when a check fails. Plain Node ESM; the test
// tests/browser_compat_test.ts imports `checkBrowserEntry` from here.

import { builtinModules } from "node:module";
import { readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const MARKER = "// This module is browser compatible.";
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/**
 * Bundles `entry` for the browser. Resolves with `{ ok, problems, files }`: `problems` lists
 * every forbidden import and every bundled file without the marker line.
 */
export async function checkBrowserEntry(entry, { root = ROOT } = {}) {
  const { build } = await import("esbuild");
  const problems = [];
  const forbid = {
    name: "forbid-node-builtins",
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === "entry-point") return undefined;
        const spec = args.path;
        if (spec.startsWith("node:") || BUILTINS.has(spec) || BUILTINS.has(spec.split("/")[0])) {
          problems.push(`${relative(root, args.importer)} imports the Node built-in "${spec}"`);
          return { path: spec, external: true };
        }
        if (!spec.startsWith(".") && !spec.startsWith("/")) {
          problems.push(`${relative(root, args.importer)} imports the package "${spec}"`);
          return { path: spec, external: true };
        }
        return undefined;
      });
    },
  };
  const result = await build({
    entryPoints: [resolve(root, entry)],
    bundle: true,
    write: false,
    platform: "browser",
    format: "esm",
    metafile: true,
    logLevel: "silent",
    plugins: [forbid],
  });
  const files = Object.keys(result.metafile.inputs);
  for (const file of files) {
    const first = readFileSync(resolve(root, file), "utf8").split("\n", 1)[0];
    if (first.trim() !== MARKER) problems.push(`${file} does not start with "${MARKER}"`);
  }
  return { ok: problems.length === 0, problems, files };
}

async function main() {
  const entries = process.argv.slice(2);
  let failed = false;
  for (const entry of entries.length > 0 ? entries : ["mod.ts", "core.ts"]) {
    const { ok, problems, files } = await checkBrowserEntry(entry);
    if (ok) {
      console.log(`browser check: ${entry} bundles for the browser (${files.length} files)`);
    } else {
      failed = true;
      console.error(`browser check: ${entry} is not browser compatible:`);
      for (const p of problems) console.error(`  - ${p}`);
    }
  }
  process.exitCode = failed ? 1 : 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
