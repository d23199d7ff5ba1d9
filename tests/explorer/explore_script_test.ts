// scripts/explore.mjs: the build bundles only repository files for the browser, and the static
// server answers on 127.0.0.1 with the built files and nothing else.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
// @ts-types="./_explore.d.ts"
import { build, serve } from "../../scripts/explore.mjs";

describe("npm run explore: build and serve", () => {
  const parent = mkdtempSync(join(tmpdir(), "explorer-test-"));
  const out = join(parent, "site");
  let built: Awaited<ReturnType<typeof build>>;
  let server: Awaited<ReturnType<typeof serve>>;

  before(async () => {
    built = await build(out);
    // A file beside the served folder: the server must never hand it out.
    writeFileSync(join(parent, "outside.html"), "outside");
    server = await serve(out, { port: 0 });
  });
  after(async () => {
    await server?.close();
    rmSync(parent, { recursive: true, force: true });
  });

  it("writes index.html, style.css and one bundled script that bundles the core", () => {
    for (const f of ["index.html", "style.css", "main.js", "main.js.map"]) {
      assert.ok(existsSync(join(out, f)), f);
    }
    const js = readFileSync(join(out, "main.js"), "utf8");
    assert.doesNotMatch(js, /^\s*import\s/m, "no import is left for the browser to fetch");
    assert.ok(built.inputs.includes("core.ts"));
    assert.ok(built.inputs.includes("src/core/cache_state.ts"));
    assert.ok(built.inputs.every((f) => !f.startsWith("node_modules/")), "nothing from npm");
  });

  it("the explorer's sources import only each other and the public ./core entry point", () => {
    const dir = join(import.meta.dirname ?? ".", "..", "..", "explorer");
    const sources = readdirSync(dir).filter((f) => f.endsWith(".ts"));
    assert.ok(sources.includes("main.ts") && sources.includes("model.ts"));
    for (const file of sources) {
      const text = readFileSync(join(dir, file), "utf8");
      const specs = [...text.matchAll(/^\s*(?:import|export)[^;]*?from\s+"([^"]+)"/gm)].map((m) =>
        m[1] as string
      );
      for (const spec of specs) {
        assert.ok(
          /^\.\/[a-z_]+\.ts$/.test(spec) || spec === "../core.ts",
          `${file} imports ${spec}`,
        );
      }
    }
    const bundled = built.inputs.filter((f) => !f.startsWith("explorer/"));
    assert.ok(bundled.every((f) => f === "core.ts" || f.startsWith("src/")), bundled.join(", "));
  });

  it("the page refers only to files in its own folder", () => {
    const html = readFileSync(join(out, "index.html"), "utf8");
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string);
    assert.deepEqual(refs.filter((r) => !r.startsWith("#")).sort(), [
      "data:,",
      "main.js",
      "style.css",
    ]);
  });

  it("serves the page on 127.0.0.1", async () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(server.url);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
    assert.match(await page.text(), /OpenSSL's session cache, step by step/);
    const js = await fetch(new URL("main.js", server.url));
    assert.match(js.headers.get("content-type") ?? "", /^text\/javascript/);
    assert.equal((await js.text()).length, readFileSync(join(out, "main.js"), "utf8").length);
  });

  it("answers 404 outside the folder or for unknown files, and 405 for anything but GET and HEAD", async () => {
    // "%2f" is not a path separator to fetch, so "..%2f" reaches the server undecoded.
    for (const path of ["..%2foutside.html", "%2e%2e%2foutside.html", "nope.html", "x.ts"]) {
      const r = await fetch(`${server.url}${path}`);
      assert.equal(r.status, 404, path);
      await r.body?.cancel();
    }
    const post = await fetch(server.url, { method: "POST", body: "x" });
    assert.equal(post.status, 405);
    await post.body?.cancel();
  });
});
