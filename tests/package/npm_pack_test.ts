/**
 * The npm package as a user gets it: the real `npm pack` (whose `prepack`
 * builds dist/ with scripts/build_npm.mjs), the tarball installed with
 * `npm install --offline` into a fresh project in a temporary directory, and
 * every entry point imported from there, with a small behaviour check each,
 * by plain `node` (ESM and CommonJS, no tsx), `bun`, and `deno` through
 * `npm:` specifiers; the declaration files type-checked by `tsc` as an ESM
 * and a CommonJS consumer would.
 *
 * Runs under the Node test runner only: it drives all three runtimes itself,
 * as child processes, so running it from each runtime would only repeat the
 * same work three times. Every child process has a timeout.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const BIN = join(ROOT, "node_modules", ".bin");
const NAME = "@sesscache/openssl-session-cache";
const RUNTIME = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const skip = RUNTIME === "node"
  ? false
  : `the npm package test drives node, bun and deno itself; it runs once, under the Node runner`;
if (skip) console.warn(`SKIPPED: ${skip}`);

/** The environment for child processes: no NODE_OPTIONS (so no tsx), no test-runner context. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" };
  delete env.NODE_OPTIONS;
  delete env.NODE_TEST_CONTEXT;
  return env;
}

function run(cmd: string, args: readonly string[], cwd: string, timeoutMs = 120_000): string {
  try {
    return execFileSync(cmd, args, {
      cwd,
      env: childEnv(),
      encoding: "utf8",
      timeout: timeoutMs,
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `${cmd} ${args.join(" ")} failed: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`,
    );
  }
}

/** The behaviour check every runtime runs against the installed package (ESM). */
const CHECK_ESM = `
import assert from "node:assert/strict";
import { SessionCache, formatMetrics } from "${NAME}";
import * as core from "${NAME}/core";
import { TlsClientSessionCache, attachSessionCache } from "${NAME}/node";
import { RedisSessionStore } from "${NAME}/redis";

const cache = new SessionCache({ cacheSize: 3 });
assert.equal(cache.add({ id: new Uint8Array([1]), time: 100, timeout: 10 }), true);
cache.add({ id: new Uint8Array([2]), time: 100, timeout: 20 });
cache.add({ id: new Uint8Array([3]), time: 100, timeout: 30 }); // size 3 holds 2: evicts 1
const flushed = cache.flush(121).length;

const s0 = core.createCacheState({ cacheSize: 10 });
const { cache: s1 } = core.add(s0, { id: new Uint8Array([9]), time: 0, timeout: 5 });
const coreRemoved = core.flush(s1, 6).removed.map((r) => r.reason);

const clients = new TlsClientSessionCache();
const offer = clients.connectOptions({ host: "127.0.0.1", port: 1 });

const map = new Map();
const client = {
  get: async (key) => map.get(key) ?? null,
  set: async (key, value) => void map.set(key, value),
  del: async (key) => map.delete(key),
};
const store = new RedisSessionStore(client, { sidCtx: "pack-test" });
const a = new SessionCache({ ...store.hooks });
const b = new SessionCache({ ...store.hooks });
const session = { id: new Uint8Array([7]), time: Date.now() / 1000, timeout: 300 };
await a.handshakeCompleted({ side: "server", session, resumed: false });
const shared = (await b.lookup({ id: session.id }))?.timeout;

const metrics = formatMetrics(cache).split("\\n").find((l) => l.startsWith("tls_session_cache_removals_total{cache=\\"default\\",reason=\\"evicted\\"}"));

console.log(JSON.stringify({
  evicted: cache.stats.cacheFull, flushed, size: cache.size, coreRemoved,
  offered: offer.session === undefined ? "none" : "some",
  attach: typeof attachSessionCache, shared, storeHits: store.stats.hits, metrics,
}));
`;

/** The same through require(): the CommonJS build, on Node. */
const CHECK_CJS = `
const assert = require("node:assert/strict");
const { SessionCache } = require("${NAME}");
const core = require("${NAME}/core");
const { TlsClientSessionCache } = require("${NAME}/node");
const { RedisSessionStore, commandClient } = require("${NAME}/redis");
const cache = new SessionCache({ cacheSize: 3 });
cache.add({ id: new Uint8Array([1]), time: 100, timeout: 10 });
const { removed } = core.flush(core.add(core.createCacheState(), { id: new Uint8Array([2]), time: 0, timeout: 1 }).cache, 0);
new TlsClientSessionCache();
new RedisSessionStore(commandClient(async () => null));
assert.equal(cache.size, 1);
console.log(JSON.stringify({ size: cache.size, cleared: removed.map((r) => r.reason) }));
`;

/** What a TypeScript user writes; type-checked against the installed declaration files. */
const CONSUMER_TS = `
import { SessionCache, type Session } from "${NAME}";
import { add, createCacheState, type CacheState } from "${NAME}/core";
import { TlsClientSessionCache, type TlsPeer } from "${NAME}/node";
import { RedisSessionStore, type SessionStoreClient } from "${NAME}/redis";
const session: Session = { id: new Uint8Array([1]), time: 0, timeout: 1 };
const state: CacheState = add(createCacheState(), session).cache;
const added: boolean = new SessionCache().add(session);
const peer: TlsPeer = { host: "h", port: 1 };
new TlsClientSessionCache().connectOptions(peer);
declare const client: SessionStoreClient;
new RedisSessionStore(client);
// @ts-expect-error a session needs an id
new SessionCache().add({ time: 0, timeout: 1 });
export { added, state };
`;

describe("the npm package", { skip }, () => {
  let dir = "";
  let tarball = "";
  let project = "";
  let expected = "";

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "npm-pack-test-"));
    const out = run("npm", ["pack", "--json", "--pack-destination", dir], ROOT, 240_000);
    const packed = JSON.parse(out.slice(out.indexOf("[")))[0] as { filename: string };
    tarball = join(dir, packed.filename);
    project = join(dir, "consumer");
    run("mkdir", ["-p", project], dir);
    writeFileSync(
      join(project, "package.json"),
      JSON.stringify({ name: "consumer", private: true, type: "module" }),
    );
    run("npm", ["install", "--no-audit", "--no-fund", "--offline", tarball], project, 120_000);
    writeFileSync(join(project, "check.mjs"), CHECK_ESM);
    writeFileSync(join(project, "check.cjs"), CHECK_CJS);
    writeFileSync(join(project, "consumer.ts"), CONSUMER_TS);
    writeFileSync(
      join(project, "consumer.cts"),
      CONSUMER_TS.replace("export { added, state };", "export = { added, state };"),
    );
  });

  after(() => {
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  it("holds only the build, README, LICENSE and package.json, under the manifests' version", () => {
    const out = run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], ROOT);
    const [info] = JSON.parse(out.slice(out.indexOf("["))) as [
      { name: string; version: string; files: { path: string }[] },
    ];
    const deno = JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8"));
    assert.equal(info.name, deno.name);
    assert.equal(info.version, deno.version);
    const paths = info.files.map((f) => f.path);
    const outside = paths.filter((p) =>
      !p.startsWith("dist/esm/") && !p.startsWith("dist/cjs/") &&
      !["package.json", "README.md", "LICENSE"].includes(p)
    );
    assert.deepEqual(outside, []);
    for (const p of ["README.md", "LICENSE"]) assert.ok(paths.includes(p), p);
    assert.ok(
      !paths.some((p) =>
        /(^|\/)(tests|bench|demo)\//.test(p) || p.endsWith(".ts") && !p.endsWith(".d.ts")
      ),
    );
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    for (const [entry, target] of Object.entries(pkg.exports)) {
      if (entry === "./package.json") continue;
      const t = target as Record<string, Record<string, string>>;
      for (
        const file of [t.import!.types!, t.import!.default!, t.require!.types!, t.require!.default!]
      ) {
        assert.ok(paths.includes(file.slice(2)), `${entry} -> ${file} is in the tarball`);
      }
    }
    assert.equal(pkg.dependencies, undefined, "no runtime dependencies");
  });

  it("imports every entry point on Node without tsx (ESM)", () => {
    expected = run(process.execPath, ["check.mjs"], project, 60_000).trim();
    const result = JSON.parse(expected);
    assert.deepEqual(result, {
      evicted: 1,
      flushed: 1,
      size: 1,
      coreRemoved: ["expired"],
      offered: "none",
      attach: "function",
      shared: 300,
      storeHits: 1,
      metrics: `tls_session_cache_removals_total{cache="default",reason="evicted"} 1`,
    });
  });

  it("requires every entry point on Node (CommonJS)", () => {
    const result = JSON.parse(run(process.execPath, ["check.cjs"], project, 60_000));
    assert.deepEqual(result, { size: 1, cleared: ["cleared"] });
  });

  it("imports every entry point on Bun, with the same results", () => {
    assert.notEqual(expected, "");
    assert.equal(run(join(BIN, "bun"), ["check.mjs"], project, 60_000).trim(), expected);
  });

  it("imports every entry point on Deno through npm: specifiers, offline", () => {
    assert.notEqual(expected, "");
    const source = readFileSync(join(project, "check.mjs"), "utf8")
      .replaceAll(`from "${NAME}`, `from "npm:${NAME}`);
    writeFileSync(join(project, "check_deno.mjs"), source);
    const out = run(
      join(BIN, "deno"),
      ["run", "--node-modules-dir=manual", "--no-lock", "--cached-only", "check_deno.mjs"],
      project,
      60_000,
    );
    assert.equal(out.trim(), expected);
  });

  it("type-checks as an ESM and a CommonJS TypeScript consumer", () => {
    const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
    const common = [
      "--noEmit",
      "--strict",
      "--module",
      "nodenext",
      "--moduleResolution",
      "nodenext",
      "--target",
      "es2022",
      "--typeRoots",
      join(ROOT, "node_modules", "@types"),
      "--types",
      "node",
    ];
    run(process.execPath, [tsc, ...common, "consumer.ts"], project, 120_000);
    run(process.execPath, [tsc, ...common, "consumer.cts"], project, 120_000);
  });
});
