#!/usr/bin/env node
// Makes sure the dev toolchain in node_modules is installed and current, so `npm test` and
// `npm run demo` work on a fresh clone with only Node and npm. Runs `npm ci` when node_modules
// is missing, lacks deno/bun/tsx, or is older than package-lock.json; then checks that the
// deno and bun binaries actually start, running their postinstall by hand if npm skipped it.
//
// Plain Node ESM without dependencies. Used by the "pre*" hooks in package.json.

import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const BIN = join(ROOT, "node_modules", ".bin");
const TOOLS = ["deno", "bun", "tsx"];

function log(message) {
  console.error(`ensure_deps: ${message}`);
}

function staleReason() {
  const marker = join(ROOT, "node_modules", ".package-lock.json");
  if (!existsSync(join(ROOT, "node_modules"))) return "node_modules is missing";
  for (const tool of TOOLS) {
    if (!existsSync(join(BIN, tool))) return `node_modules/.bin/${tool} is missing`;
  }
  if (!existsSync(marker)) return "node_modules/.package-lock.json is missing";
  if (statSync(join(ROOT, "package-lock.json")).mtimeMs > statSync(marker).mtimeMs) {
    return "package-lock.json is newer than node_modules";
  }
  return undefined;
}

function npm(args) {
  // Inside an npm script, npm_execpath points at npm's own CLI; otherwise use npm from PATH.
  const execPath = process.env.npm_execpath;
  const [cmd, argv] = execPath && /npm-cli\.c?js$/.test(execPath)
    ? [process.execPath, [execPath, ...args]]
    : [process.platform === "win32" ? "npm.cmd" : "npm", args];
  log(`running: npm ${args.join(" ")}`);
  const result = spawnSync(cmd, argv, { cwd: ROOT, stdio: ["ignore", 2, 2] });
  if (result.status !== 0) {
    throw new Error(`npm ${args.join(" ")} failed (${result.error?.message ?? result.status})`);
  }
}

function starts(tool) {
  try {
    execFileSync(join(BIN, tool), ["--version"], { cwd: ROOT, stdio: "pipe", timeout: 60_000 });
    return true;
  } catch {
    return false;
  }
}

/** If npm skipped a package's postinstall (blocked install scripts), run it by hand. */
function repair(tool, script) {
  if (starts(tool)) return;
  const dir = join(ROOT, "node_modules", tool);
  log(`${tool} does not start; running its postinstall (node ${script})`);
  const result = spawnSync(process.execPath, [script], { cwd: dir, stdio: ["ignore", 2, 2] });
  if (result.status !== 0 || !starts(tool)) {
    throw new Error(`node_modules/.bin/${tool} does not start even after its postinstall`);
  }
}

try {
  const reason = staleReason();
  if (reason !== undefined) {
    log(`${reason}; installing the dev toolchain`);
    npm(["ci", "--no-audit", "--no-fund"]);
  }
  repair("deno", "install.cjs");
  repair("bun", "install.js");
} catch (error) {
  log(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
