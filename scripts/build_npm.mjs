#!/usr/bin/env node
// Builds the npm package into dist/ from the same sources JSR publishes (mod.ts, core.ts,
// node.ts, redis.ts and src/), with the pinned TypeScript compiler:
//   dist/esm/  ES modules: .js + .d.ts          (the "import" condition of package.json exports)
//   dist/cjs/  CommonJS:   .cjs + .d.cts        (the "require" condition)
// `rewriteRelativeImportExtensions` turns the sources' `./x.ts` imports into `./x.js` in the
// JavaScript; the declaration files keep `.ts`, so this script rewrites them (and every
// specifier of the CommonJS copy) to the extension of the file that actually ships.
//
// It first checks that package.json and deno.json carry the same version: npm and JSR must
// never publish different code under one version number.
//
// Usage: node scripts/build_npm.mjs          (run by `npm run build` and by `prepack`)
// Plain Node ESM without dependencies besides node_modules/typescript.

import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const DIST = join(ROOT, "dist");
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");

/** Throws unless package.json and deno.json agree on name and version. */
export function checkManifests(root = ROOT) {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const deno = JSON.parse(readFileSync(join(root, "deno.json"), "utf8"));
  const problems = [];
  if (pkg.version !== deno.version) {
    problems.push(`version: package.json ${pkg.version} != deno.json ${deno.version}`);
  }
  if (pkg.name !== deno.name) {
    problems.push(`name: package.json ${pkg.name} != deno.json ${deno.name}`);
  }
  const npmEntries = Object.keys(pkg.exports ?? {}).filter((k) => k !== "./package.json").sort()
    .join(", ");
  const jsrEntries = Object.keys(deno.exports ?? {}).sort().join(", ");
  if (npmEntries !== jsrEntries) {
    problems.push(`exports: package.json has ${npmEntries}, deno.json has ${jsrEntries}`);
  }
  if (problems.length > 0) {
    throw new Error(`package.json and deno.json disagree: ${problems.join("; ")}`);
  }
  return { name: pkg.name, version: pkg.version };
}

function tsc(args) {
  execFileSync(process.execPath, [TSC, "-p", "tsconfig.build.json", ...args], {
    cwd: ROOT,
    stdio: "inherit",
  });
}

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else yield path;
  }
}

/** Rewrites relative specifiers ending in `.ts` or `.js` to end in `ext`. */
function rewriteSpecifiers(text, ext) {
  return text.replace(
    /((?:from|import|require\()\s*["'])(\.{1,2}\/[^"']*?)\.(?:ts|js)(["'])/g,
    (_, head, path, quote) => `${head}${path}${ext}${quote}`,
  );
}

function edit(path, change) {
  writeFileSync(path, change(readFileSync(path, "utf8")));
}

export function build() {
  const { name, version } = checkManifests();
  rmSync(DIST, { recursive: true, force: true });

  tsc(["--outDir", "dist/esm"]);
  for (const path of files(join(DIST, "esm"))) {
    if (path.endsWith(".d.ts")) edit(path, (t) => rewriteSpecifiers(t, ".js"));
  }

  tsc(["--outDir", "dist/cjs", "--module", "commonjs", "--moduleResolution", "node10"]);
  for (const path of files(join(DIST, "cjs"))) {
    if (path.endsWith(".d.ts")) {
      edit(path, (t) => rewriteSpecifiers(t, ".cjs"));
      renameSync(path, path.replace(/\.d\.ts$/, ".d.cts"));
    } else if (path.endsWith(".js")) {
      edit(path, (t) => rewriteSpecifiers(t, ".cjs"));
      renameSync(path, path.replace(/\.js$/, ".cjs"));
    }
  }
  console.error(`build_npm: ${name}@${version} built into dist/esm and dist/cjs`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    build();
  } catch (error) {
    console.error(`build_npm: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
