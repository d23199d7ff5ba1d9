#!/usr/bin/env node
// The explorer (explorer/): builds the page with esbuild (explorer/main.ts bundled with the pure
// core for the browser, plus index.html and style.css) and serves it from 127.0.0.1.
//
// Usage:
//   node scripts/explore.mjs                    build to explorer/dist/ and serve it; prints the
//                                               URL; Ctrl-C stops (npm run explore)
//   node scripts/explore.mjs --port=8080        another port (default 8437; 0 picks a free one)
//   node scripts/explore.mjs --build [--out=D]  only build, to D (default explorer/dist/): a
//                                               folder any static host can serve
//   node scripts/explore.mjs --screenshot=F [--scenario=NAME] [--at=N]
//                                               build, serve, open the page in headless Chromium
//                                               (playwright-core, /usr/bin/chromium or
//                                               $CHROMIUM_PATH) and save a PNG screenshot to F
//                                               (docs/explorer.png: --scenario=capacity --at=4)
//
// Plain Node ESM; the browser test (tests/explorer/browser_test.ts) imports build, serve and
// launchChromium from here, and it runs under Deno and Bun as well.

import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, extname, join, relative, resolve, sep } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SOURCE = join(ROOT, "explorer");
export const DEFAULT_OUT = join(SOURCE, "dist");
const DEFAULT_PORT = 8437;
const STATIC = ["index.html", "style.css"];
const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".png": "image/png",
  ".svg": "image/svg+xml",
};

/**
 * Builds the page into `out`: main.js (+ .map) bundled for the browser, index.html, style.css.
 * Fails if the bundle would need anything from outside the repository. Resolves with the list of
 * files written and the repository files bundled.
 */
export async function build(out = DEFAULT_OUT) {
  const { build: esbuild } = await import("esbuild");
  mkdirSync(out, { recursive: true });
  const outside = [];
  const result = await esbuild({
    entryPoints: [join(SOURCE, "main.ts")],
    outfile: join(out, "main.js"),
    bundle: true,
    // A classic script, not a module: the page then also works opened from disk (file://).
    format: "iife",
    platform: "browser",
    target: "es2022",
    sourcemap: "linked",
    metafile: true,
    logLevel: "silent",
    plugins: [{
      name: "repository-only",
      setup(b) {
        b.onResolve({ filter: /.*/ }, (args) => {
          if (args.kind === "entry-point") return undefined;
          if (!args.path.startsWith(".") && !args.path.startsWith("/")) {
            outside.push(`${relative(ROOT, args.importer)} imports "${args.path}"`);
            return { path: args.path, external: true };
          }
          return undefined;
        });
      },
    }],
  });
  if (outside.length > 0) {
    throw new Error(`The explorer must bundle only repository files:\n  ${outside.join("\n  ")}`);
  }
  for (const file of STATIC) copyFileSync(join(SOURCE, file), join(out, file));
  return {
    out,
    files: ["main.js", "main.js.map", ...STATIC],
    inputs: Object.keys(result.metafile.inputs),
  };
}

/**
 * Serves the files of `dir` (GET and HEAD only, nothing outside `dir`) on `host:port`. Resolves
 * with `{ url, close }` once listening; `port` 0 picks a free port.
 */
export function serve(dir = DEFAULT_OUT, { port = DEFAULT_PORT, host = "127.0.0.1" } = {}) {
  const root = resolve(dir);
  const server = createServer((req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD" }).end();
      return;
    }
    let path;
    try {
      path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    const file = resolve(root, `.${path.endsWith("/") ? `${path}index.html` : path}`);
    const type = TYPES[extname(file)];
    if (
      (file !== root && !file.startsWith(root + sep)) || type === undefined || !existsSync(file)
    ) {
      res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end("Not found\n");
      return;
    }
    const body = readFileSync(file);
    res.writeHead(200, {
      "Content-Type": type,
      "Content-Length": body.length,
      "Cache-Control": "no-store",
      "X-Content-Type-Options": "nosniff",
    });
    res.end(req.method === "HEAD" ? undefined : body);
  });
  return new Promise((resolvePromise, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const address = server.address();
      const url = `http://${host}:${typeof address === "object" && address ? address.port : port}/`;
      const close = () =>
        new Promise((done) => {
          server.close(() => done(undefined));
          server.closeAllConnections?.();
        });
      resolvePromise({ url, close });
    });
  });
}

/** The flags that keep Chromium off this machine's (closed) network and its first-run pages. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Starts headless Chromium through playwright-core with a fresh profile. Resolves with
 * `{ context, close }`, or rejects with the reason Chromium could not start (missing binary,
 * failed launch, timeout): callers that test turn that into a skip. `close` also deletes the
 * profile.
 */
export async function launchChromium({ timeoutMs = 30_000 } = {}) {
  const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  if (!existsSync(executablePath)) {
    throw new Error(`no Chromium at ${executablePath} (install the Debian package "chromium")`);
  }
  const { chromium } = await import("playwright-core");
  const profile = mkdtempSync(join(tmpdir(), "explorer-chromium-"));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      timeout: timeoutMs,
      args: CHROMIUM_ARGS,
      viewport: { width: 1366, height: 900 },
    });
    context.setDefaultTimeout(timeoutMs);
    return {
      context,
      close: async () => {
        await context.close().catch(() => {});
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
}

async function screenshot(file, { scenario, at }) {
  const out = mkdtempSync(join(tmpdir(), "explorer-build-"));
  await build(out);
  const server = await serve(out, { port: 0 });
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    await page.goto(server.url);
    await page.waitForSelector("body[data-ready]");
    if (scenario !== undefined) {
      await page.click(`button[data-scenario="${scenario}"]`);
      if (at !== undefined) {
        for (let i = 0; i < at; i++) await page.click("#forward");
      } else await page.click("#last");
    }
    await page.mouse.move(0, 0);
    mkdirSync(dirname(resolve(file)), { recursive: true });
    await page.screenshot({ path: file, fullPage: false });
    // Keep a committed PNG small: quantize it when pngquant (Debian package) is installed.
    const quantized = spawnSync("pngquant", [
      "--quality=60-85",
      "--speed=1",
      "--strip",
      "--force",
      "--output",
      file,
      file,
    ]);
    const note = quantized.status === 0 ? "quantized by pngquant" : "pngquant not available";
    console.log(`explore: saved ${file} (${statSync(file).size} bytes, ${note})`);
  } finally {
    await browser.close();
    await server.close();
    rmSync(out, { recursive: true, force: true });
  }
}

function option(args, name) {
  const hit = args.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (hit === undefined) return undefined;
  return hit.includes("=") ? hit.slice(hit.indexOf("=") + 1) : "";
}

async function main() {
  const args = process.argv.slice(2);
  const known = ["build", "out", "port", "screenshot", "scenario", "at", "help"];
  for (const a of args) {
    if (!known.some((k) => a === `--${k}` || a.startsWith(`--${k}=`))) {
      console.error(`explore: unknown option ${a}`);
      process.exit(2);
    }
  }
  if (option(args, "help") !== undefined) {
    console.log(
      readFileSync(fileURLToPath(import.meta.url), "utf8").split("\n").slice(1, 16)
        .map((l) => l.replace(/^\/\/ ?/, "")).join("\n"),
    );
    return;
  }
  const shot = option(args, "screenshot");
  if (shot !== undefined) {
    const at = option(args, "at");
    await screenshot(shot, {
      scenario: option(args, "scenario"),
      at: at === undefined ? undefined : Number(at),
    });
    return;
  }
  const out = resolve(option(args, "out") || DEFAULT_OUT);
  const built = await build(out);
  console.log(
    `explore: built ${built.files.join(", ")} in ${relative(process.cwd(), out) || "."} (${
      built.inputs.filter((f) => !f.startsWith("explorer/")).length
    } core files bundled)`,
  );
  if (option(args, "build") !== undefined) return;
  const portText = option(args, "port");
  const port = portText === undefined ? DEFAULT_PORT : Number(portText);
  const server = await serve(out, { port });
  const stop = async () => {
    await server.close();
    console.log("explore: stopped");
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  console.log(`explore: serving the explorer at ${server.url} (Ctrl-C stops)`);
}

if (
  process.argv[1] !== undefined && pathToFileURL(resolve(process.argv[1])).href === import.meta.url
) {
  main().catch((error) => {
    console.error(`explore: ${error instanceof Error ? error.message : error}`);
    process.exit(1);
  });
}
