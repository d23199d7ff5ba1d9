// The explorer in a real browser: headless Chromium (the Debian package, driven by playwright-core)
// loads the built page from 127.0.0.1, runs two scenarios and some form steps, and every rendered
// counter, list order and explanation is compared with a second, independent run of the core on
// the same steps (written here against the public core, not through the page's model). Then it
// steps back, replays a shared link and saves a screenshot.
//
// Skipped, with the reason printed, only where Chromium cannot start.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Page } from "playwright-core";
import * as core from "../../core.ts";
import { scenarioNamed } from "../../explorer/scenarios.ts";
import type { Step } from "../../explorer/steps.ts";
// @ts-types="./_explore.d.ts"
import { build, launchChromium, serve } from "../../scripts/explore.mjs";

// ---------------------------------------------------------------------------------------------
// The independent run: the steps of the two scenarios, straight against the core.

/** What the page must show after a step. */
interface Expected {
  readonly cache: core.CacheState;
  readonly now: number;
  /** The first call line, for the steps whose return value is shown there. */
  readonly call?: string;
  /** `reason key` of every session that left, in order. */
  readonly removed: readonly string[];
  readonly replaced: readonly string[];
}

function key(s: { id: Uint8Array; version?: number }): string {
  const hex = Array.from(s.id, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${(s.version ?? 0).toString(16).padStart(4, "0")}:${hex}`;
}

function bytes(hex: string): Uint8Array {
  return new Uint8Array((hex.match(/../g) ?? []).map((h) => parseInt(h, 16)));
}

function independentRun(steps: readonly Step[]): Expected[] {
  let cache = core.createCacheState();
  const now = 1000;
  const held = new Map<string, core.Session>(); // the SSL_SESSION pointers a caller would hold
  const out: Expected[] = [{ cache, now, removed: [], replaced: [] }];
  const pairs = (removed: readonly core.Removal[]) =>
    removed.map((r) => `${r.reason} ${key(r.session)}`);
  for (const step of steps) {
    switch (step.op) {
      case "size":
        cache = core.configure(cache, { cacheSize: step.cacheSize });
        out.push({ cache, now, removed: [], replaced: [] });
        break;
      case "mode":
        cache = core.configure(cache, { mode: step.mode });
        out.push({ cache, now, removed: [], replaced: [] });
        break;
      case "add":
      case "readd": {
        const k = key({ id: bytes(step.id), ...(step.version ? { version: step.version } : {}) });
        const session = step.op === "add"
          ? { id: bytes(step.id), time: step.time, timeout: step.timeout }
          : core.get(cache, { id: bytes(step.id) }) ?? held.get(k);
        assert.ok(session, `the test holds a session for ${k}`);
        const r = core.add(cache, session, { now });
        cache = r.cache;
        held.set(k, r.session);
        out.push({
          cache,
          now,
          call: `SSL_CTX_add_session(ctx, s) → ${r.added ? 1 : 0}`,
          removed: pairs(r.removed),
          replaced: r.replaced === undefined ? [] : [key(r.replaced)],
        });
        break;
      }
      case "setTime":
      case "setTimeout": {
        const r = step.op === "setTime"
          ? core.setSessionTime(cache, { id: bytes(step.id) }, { time: step.time })
          : core.setSessionTimeout(cache, { id: bytes(step.id) }, { timeout: step.timeout });
        cache = r.cache;
        if (r.session !== undefined) held.set(key(r.session), r.session);
        out.push({ cache, now, removed: [], replaced: [] });
        break;
      }
      case "flush": {
        const r = core.flush(cache, step.tm);
        cache = r.cache;
        for (const x of r.removed) held.set(key(x.session), x.session);
        out.push({
          cache,
          now,
          call: `SSL_CTX_flush_sessions(ctx, ${step.tm}) (void): ${r.removed.length} removed`,
          removed: pairs(r.removed),
          replaced: [],
        });
        break;
      }
      default:
        throw new Error(`the independent run does not cover ${step.op}: extend it`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reading the page

interface Shown {
  at: number;
  counters: Record<string, number>;
  list: { key: string; expiry: string; text: string }[];
  table: string[];
  settings: Record<string, string>;
  calls: string[];
  changes: { kind: string; key: string; text: string }[];
  rules: string[];
}

// Plain JavaScript in a string: the test runners' TypeScript transforms may add helpers (such as
// esbuild's __name) to a function's source, and the page has none of them.
const READ = `(() => {
  const all = (sel) => [...document.querySelectorAll(sel)];
  return {
    at: Number(document.body.dataset.at),
    counters: Object.fromEntries(
      all("[data-counter]").map((el) => [el.dataset.counter, Number(el.textContent)]),
    ),
    list: all("#expiry-list li[data-key]").map((li) => ({
      key: li.dataset.key,
      expiry: li.dataset.expiry,
      text: li.textContent,
    })),
    table: all("#hash-table tr[data-key]").map((tr) => tr.dataset.key),
    settings: Object.fromEntries(
      all("[data-setting]").map((el) => [el.dataset.setting, el.querySelector("strong").textContent]),
    ),
    calls: all("#exp-calls li").map((li) => li.textContent),
    changes: all("#exp-changes li").map((li) => ({
      kind: li.dataset.kind,
      key: li.dataset.key ?? "",
      text: li.textContent,
    })),
    rules: all("#exp-rules li[data-rule]").map((li) => li.dataset.rule),
  };
})()`;

const COMPARED = `(() => ({
  a: document.querySelector("[data-only=a]").dataset.keys,
  b: document.querySelector("[data-only=b]").dataset.keys,
  same: document.querySelector("[data-compare=same]").dataset.same,
}))()`;

function headToTail(cache: core.CacheState): string[] {
  return [...core.sessions(cache)].reverse().map(key);
}

function read(page: Page): Promise<Shown> {
  return page.evaluate(READ) as Promise<Shown>;
}

/** Asserts that what the page shows is the independent run's state after a step. */
function assertShows(shown: Shown, expected: Expected, what: string): void {
  const { cache } = expected;
  assert.deepEqual(shown.counters, { ...cache.stats }, `${what}: the 12 counters`);
  const list = [...core.sessions(cache)].reverse();
  assert.deepEqual(shown.list.map((l) => l.key), list.map(key), `${what}: the list, head to tail`);
  assert.deepEqual(
    shown.list.map((l) => l.expiry),
    list.map((s) => String(core.expiryOf(s)).replace("Infinity", "∞")),
    `${what}: expiries`,
  );
  list.forEach((s, i) => {
    assert.ok(
      shown.list[i]?.text.includes(`time ${s.time} + timeout ${s.timeout}`),
      `${what}: the times of ${key(s)}`,
    );
  });
  assert.deepEqual(shown.table, list.map(key).sort(), `${what}: the hash table`);
  assert.equal(shown.settings.cacheSize, String(cache.cacheSize), `${what}: the cache size`);
  assert.equal(shown.settings.now, String(expected.now), `${what}: the clock`);
  if (expected.call !== undefined) assert.equal(shown.calls[0], expected.call, `${what}: the call`);
  const left = shown.changes
    .filter((c) => ["evicted", "expired", "cleared"].includes(c.kind))
    .map((c) => `${c.kind} ${c.key}`);
  assert.deepEqual(left, expected.removed, `${what}: what left the cache, and why`);
  assert.deepEqual(
    shown.changes.filter((c) => c.kind === "replaced").map((c) => c.key),
    expected.replaced,
    `${what}: silent replacements`,
  );
  const reasons = new Set(expected.removed.map((r) => r.split(" ")[0]));
  if (reasons.has("evicted")) {
    assert.ok(shown.rules.includes("capacity"), `${what}: the N − 1 rule`);
  }
  if (reasons.has("cleared")) assert.ok(shown.rules.includes("flushZero"), `${what}: flush(0)`);
  if (reasons.has("expired")) assert.ok(shown.rules.includes("strict"), `${what}: tm > expiry`);
  if (expected.replaced.length > 0) assert.ok(shown.rules.includes("silentReplace"));
}

async function goTo(page: Page, index: number): Promise<void> {
  await page.click(`#history button[data-index="${index}"]`);
  await page.waitForSelector(`body[data-at="${index}"]`);
}

// ---------------------------------------------------------------------------------------------
// Setup: build, serve, start Chromium (or say why not)

const out = mkdtempSync(join(tmpdir(), "explorer-browser-"));
await build(out);
const server = await serve(out, { port: 0 });
let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
let skip: string | false = false;
try {
  browser = await launchChromium({ timeoutMs: 30_000 });
} catch (error) {
  skip = `Chromium cannot start: ${error instanceof Error ? error.message.split("\n")[0] : error}`;
  console.log(`browser_test: skipped: ${skip}`);
}

const problems: string[] = [];
let pageCount = 0;
async function openPage(url = server.url): Promise<Page> {
  const page = await (browser as NonNullable<typeof browser>).context.newPage();
  pageCount++;
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console error: ${m.text()}`);
  });
  page.on("request", (r) => {
    if (!r.url().startsWith(server.url)) problems.push(`request outside the server: ${r.url()}`);
  });
  await page.goto(url);
  await page.waitForSelector("body[data-ready]");
  return page;
}

after(async () => {
  await browser?.close();
  await server.close();
  rmSync(out, { recursive: true, force: true });
});

describe("the explorer in headless Chromium", () => {
  for (const name of ["test_session_timeout", "capacity"]) {
    it(`scenario ${name}: every step shows the core's counters, list order and explanation`, {
      skip,
    }, async () => {
      const sc = scenarioNamed(name);
      assert.ok(sc);
      const expected = independentRun(sc.steps);
      const page = await openPage();
      await page.click(`button[data-scenario="${name}"]`);
      await page.waitForSelector(`body[data-steps="${sc.steps.length}"][data-at="0"]`);
      for (let i = 0; i < expected.length; i++) {
        await goTo(page, i);
        assertShows(await read(page), expected[i] as Expected, `${name}, step ${i}`);
      }
      // Step back with the button and with the keyboard: the earlier states come back.
      const n = sc.steps.length;
      await page.click("#back");
      await page.waitForSelector(`body[data-at="${n - 1}"]`);
      assertShows(await read(page), expected[n - 1] as Expected, `${name}, back to ${n - 1}`);
      await page.locator("h1").click();
      await page.keyboard.press("ArrowLeft");
      await page.waitForSelector(`body[data-at="${n - 2}"]`);
      assertShows(await read(page), expected[n - 2] as Expected, `${name}, ← to ${n - 2}`);
      await page.keyboard.press("End");
      await page.waitForSelector(`body[data-at="${n}"]`);
      assertShows(await read(page), expected[n] as Expected, `${name}, End`);
      // Compare two states: any two entries of the history, against the independent run.
      for (const [a, b] of [[0, n], [n - 2, n - 1], [n - 1, n]]) {
        await page.selectOption("#compare-a", String(a));
        await page.selectOption("#compare-b", String(b));
        const shown = await page.evaluate(COMPARED) as { a: string; b: string; same: string };
        const ka = headToTail((expected[a as number] as Expected).cache);
        const kb = headToTail((expected[b as number] as Expected).cache);
        assert.deepEqual(shown.a.split(" ").filter(Boolean), ka.filter((k) => !kb.includes(k)));
        assert.deepEqual(shown.b.split(" ").filter(Boolean), kb.filter((k) => !ka.includes(k)));
        const same = Object.is(
          (expected[a as number] as Expected).cache,
          (expected[b as number] as Expected).cache,
        );
        assert.equal(shown.same, String(same), `${name}: states ${a} and ${b} are the same value`);
      }
      await page.close();
    });
  }

  it("the forms drive the core: add, flush, and an empty id the core refuses", {
    skip,
  }, async () => {
    const page = await openPage();
    const form = page.locator("#form-session");
    await page.fill("#form-context input[name=cacheSize]", "2");
    await page.click("#form-context button[value=size]");
    for (const [id, timeout] of [["0a", "5"], ["0b", "50"], ["0c", "20"]] as const) {
      await form.locator("input[name=id]").fill(id);
      await form.locator("input[name=time]").fill("1000");
      await form.locator("input[name=timeout]").fill(timeout);
      await form.locator("button[value=add]").click();
    }
    await page.fill("#form-flush input[name=tm]", "1021");
    await page.click("#form-flush button[value=flush]");
    const steps: Step[] = [
      { op: "size", cacheSize: 2 },
      { op: "add", id: "0a", time: 1000, timeout: 5 },
      { op: "add", id: "0b", time: 1000, timeout: 50 },
      { op: "add", id: "0c", time: 1000, timeout: 20 },
      { op: "flush", tm: 1021 },
    ];
    const expected = independentRun(steps);
    await page.waitForSelector(`body[data-at="${steps.length}"]`);
    assertShows(await read(page), expected[5] as Expected, "after the form steps");
    await goTo(page, 4);
    assertShows(await read(page), expected[4] as Expected, "the third add");

    // An empty id: the core refuses it, and the page says so with the core's own message.
    await page.click("#last");
    await form.locator("input[name=id]").fill("");
    await form.locator("button[value=add]").click();
    await page.waitForSelector(`body[data-at="${steps.length + 1}"]`);
    const shown = await read(page);
    const before = (expected[5] as Expected).cache;
    let refused: Error | undefined;
    try {
      core.add(before, { id: new Uint8Array(0), time: 1000, timeout: 5 });
    } catch (error) {
      refused = error as Error;
    }
    assert.ok(refused, "the core refuses an empty id");
    assert.ok(shown.changes.some((c) => c.kind === "refused" && c.text.includes(refused.message)));
    assert.deepEqual(shown.rules, ["refused", "emptyIdRefused"]);
    const { call: _call, ...unchanged } = expected[5] as Expected;
    assertShows(shown, { ...unchanged, removed: [] }, "refused: the state before");
    await page.close();
  });

  it("a shared link replays the same steps and shows the same step", { skip }, async () => {
    const page = await openPage();
    await page.click('button[data-scenario="capacity"]');
    await goTo(page, 4);
    const link = await page.inputValue("#share-url");
    assert.match(link, /#steps=size:3;add:01,1000,10;/);
    const shown = await read(page);
    const again = await openPage(link);
    await again.waitForSelector('body[data-at="4"]');
    assert.deepEqual(await read(again), shown);
    await again.close();
    await page.close();
  });

  it("the built folder also works opened from disk (file://), without a server", {
    skip,
  }, async () => {
    const page = await (browser as NonNullable<typeof browser>).context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(pathToFileURL(join(out, "index.html")).href);
    await page.waitForSelector("body[data-ready]");
    await page.click('button[data-scenario="capacity"]');
    await page.click("#last");
    const sc = scenarioNamed("capacity");
    assert.ok(sc);
    await page.waitForSelector(`body[data-at="${sc.steps.length}"]`);
    assertShows(await read(page), independentRun(sc.steps).at(-1) as Expected, "from file://");
    assert.deepEqual(errors, []);
    await page.close();
  });

  it("saves a screenshot of a scenario", { skip }, async () => {
    const page = await openPage();
    await page.click('button[data-scenario="capacity"]');
    await goTo(page, 4);
    const file = join(out, "explorer.png");
    await page.screenshot({ path: file });
    const png = readFileSync(file);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    console.log(`browser_test: screenshot of ${png.length} bytes taken`);
    await page.close();
  });

  it("no page error, no console error, no request outside 127.0.0.1", { skip }, () => {
    assert.ok(pageCount >= 5, "the tests above opened their pages");
    assert.deepEqual(problems, []);
  });
});
