#!/usr/bin/env node
// Checks the import graph of the four entry points (mod.ts, core.ts, node.ts, redis.ts) as
// `deno info --json` reports it, type-only imports included:
// 1. it has no cycle;
// 2. the layers point one way: src/core/ imports nothing from src/shell/, src/node/ or
//    src/redis/; src/shell/ nothing from src/node/ or src/redis/; src/redis/ nothing from
//    src/node/ (and the shared files at src/ top level import no layer at all);
// 3. only src/node/ and src/redis/ (and their entry points) import `node:` modules.
//
// Usage: node scripts/check_layers.mjs   Exits non-zero, naming each offending edge.

import { execFileSync } from "node:child_process";
import { dirname, join, relative, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const ENTRIES = ["mod.ts", "core.ts", "node.ts", "redis.ts"];
const DENO = join(ROOT, "node_modules", ".bin", "deno");

/** The layer of a repository path: "core", "shell", "node", "redis", "shared" or "entry". */
function layerOf(path) {
  const m = /^src\/(core|shell|node|redis)\//.exec(path);
  if (m) return m[1];
  return path.startsWith("src/") ? "shared" : "entry";
}

/** Which layers each layer may import. */
const ALLOWED = {
  shared: new Set(["shared"]),
  core: new Set(["shared", "core"]),
  shell: new Set(["shared", "core", "shell"]),
  redis: new Set(["shared", "core", "shell", "redis"]),
  node: new Set(["shared", "core", "shell", "node"]),
  entry: new Set(["shared", "core", "shell", "node", "redis", "entry"]),
};
const NODE_ALLOWED = new Set(["node", "redis", "entry"]);

export function checkLayers() {
  const graph = new Map(); // repo path -> [repo path or "node:x"]
  for (const entry of ENTRIES) {
    const info = JSON.parse(
      execFileSync(DENO, ["info", "--json", entry], { cwd: ROOT, encoding: "utf8" }),
    );
    for (const m of info.modules) {
      if (!m.specifier.startsWith("file:")) continue;
      const from = relative(ROOT, fileURLToPath(m.specifier));
      const deps = [];
      for (const d of m.dependencies ?? []) {
        for (const target of [d.code?.specifier, d.type?.specifier]) {
          if (target === undefined) continue;
          deps.push(
            target.startsWith("file:") ? relative(ROOT, fileURLToPath(target)) : target,
          );
        }
      }
      graph.set(from, [...new Set(deps)]);
    }
  }
  const problems = [];
  for (const [from, deps] of graph) {
    const layer = layerOf(from);
    for (const to of deps) {
      if (to.startsWith("node:")) {
        if (!NODE_ALLOWED.has(layer)) problems.push(`${from} (${layer}) imports ${to}`);
        continue;
      }
      if (!graph.has(to)) continue; // npm packages and the like
      if (!ALLOWED[layer].has(layerOf(to))) {
        problems.push(`${from} (${layer}) imports ${to} (${layerOf(to)})`);
      }
    }
  }
  // Cycles: depth-first search with colours.
  const state = new Map();
  const stack = [];
  const visit = (node) => {
    state.set(node, 1);
    stack.push(node);
    for (const to of graph.get(node) ?? []) {
      if (!graph.has(to)) continue;
      if (state.get(to) === 1) {
        problems.push(`import cycle: ${[...stack.slice(stack.indexOf(to)), to].join(" -> ")}`);
      } else if (!state.has(to)) visit(to);
    }
    stack.pop();
    state.set(node, 2);
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return { problems, modules: graph.size };
}

if (
  process.argv[1] !== undefined && pathToFileURL(resolve(process.argv[1])).href === import.meta.url
) {
  const { problems, modules } = checkLayers();
  if (problems.length === 0) {
    console.log(`layer check: ${modules} modules, no cycle, every import points down the layers`);
  } else {
    console.error("layer check failed:");
    for (const p of problems) console.error(`  - ${p}`);
    process.exitCode = 1;
  }
}
