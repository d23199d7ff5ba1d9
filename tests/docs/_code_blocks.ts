/**
 * Extracts the fenced code blocks of Markdown files and checks each one as
 * written (the convention is explained in docs/testing.md):
 *
 * - ` ```ts ` / ` ```js `: type-checked with `deno check`, then run with
 *   `deno run -A`; it passes when it exits 0 (blocks assert with
 *   node:assert/strict). Imports of `@sesscache/openssl-session-cache` and
 *   its subpaths resolve to the local files through deno.json, as in the
 *   JSDoc examples; other packages come from node_modules.
 * - ` ```ts check-only `: type-checked only (a block that needs a TLS
 *   handshake, a network server or files it does not make).
 * - ` ```sh `: `bash -n` (syntax), and every `npm run <script>` or
 *   `npm test` in it must be a script of package.json and every
 *   `node <file>` / `deno run <file>` a file of the repository.
 * - Any other info string (`text`, `console`, ...) is not code: skipped.
 *
 * The blocks are written to a scratch directory inside the repository (so
 * that the package names resolve) and removed afterwards.
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import process from "node:process";

/** One fenced block. */
export interface CodeBlock {
  /** The Markdown file, relative to the root. */
  readonly file: string;
  /** The 1-based line of the opening fence. */
  readonly line: number;
  /** The language: `ts`, `js` or `sh`. */
  readonly lang: "ts" | "js" | "sh";
  /** Whether the fence says `check-only`. */
  readonly checkOnly: boolean;
  /** The code. */
  readonly code: string;
}

/** The outcome of one block. */
export interface BlockResult {
  readonly block: CodeBlock;
  /** Empty when the block passed; else what went wrong. */
  readonly problem: string;
}

const LANGS: Record<string, "ts" | "js" | "sh"> = {
  ts: "ts",
  typescript: "ts",
  js: "js",
  javascript: "js",
  sh: "sh",
  bash: "sh",
  shell: "sh",
};

/** The ts/js/sh blocks of one Markdown file. */
export function extractBlocks(root: string, path: string): CodeBlock[] {
  const lines = readFileSync(path, "utf8").split("\n");
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)\s*(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, info, rest] = open;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i]!.trim().startsWith(fence!); i++) {
      body.push(lines[i]!.slice(indent!.length));
    }
    const lang = LANGS[info!.toLowerCase()];
    if (lang === undefined) continue;
    blocks.push({
      file: relative(root, path).split("\\").join("/"),
      line: start + 1,
      lang,
      checkOnly: /\bcheck-only\b/.test(rest!),
      code: body.join("\n") + "\n",
    });
  }
  return blocks;
}

/** Runs a command; `""` when it exits 0, else the command and its output. */
function run(cmd: string, args: readonly string[], cwd: string, timeoutMs: number): string {
  const r = runOutput(cmd, args, cwd, timeoutMs);
  return r.ok ? "" : `${cmd} ${args.join(" ")}: ${r.output}`;
}

function runOutput(
  cmd: string,
  args: readonly string[],
  cwd: string,
  timeoutMs: number,
): { ok: boolean; output: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" };
  delete env.NODE_TEST_CONTEXT;
  delete env.NODE_OPTIONS;
  const r = spawnSync(cmd, args, { cwd, env, encoding: "utf8", timeout: timeoutMs });
  const output = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim();
  if (r.error) return { ok: false, output: `could not run: ${r.error.message}` };
  if (r.status !== 0) return { ok: false, output: `exited ${r.status ?? r.signal}: ${output}` };
  return { ok: true, output };
}

/** Problems of a shell block that bash -n does not see: unknown scripts and files. */
function shellReferences(root: string, code: string): string[] {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const scripts = new Set(Object.keys(pkg.scripts ?? {}));
  const problems: string[] = [];
  for (const m of code.matchAll(/\bnpm (?:run (?:--silent )?([\w:-]+)|(test)\b)/g)) {
    const name = m[1] ?? m[2]!;
    if (!scripts.has(name)) problems.push(`npm script "${name}" is not in package.json`);
  }
  for (
    const m of code.matchAll(
      /\b(?:node|deno run(?: -A)?|bun)\s+((?:scripts|bench|demo|tests)\/[\w./-]+)/g,
    )
  ) {
    if (!existsSync(join(root, m[1]!))) problems.push(`${m[1]} does not exist`);
  }
  return problems;
}

/**
 * Checks blocks as the module header says. `deno` is the Deno binary. Every
 * child process has a timeout.
 */
export function checkBlocks(
  root: string,
  deno: string,
  blocks: readonly CodeBlock[],
): BlockResult[] {
  const dir = mkdtempSync(join(root, ".tmp-code-blocks-"));
  try {
    const files = blocks.map((b, i) => {
      const name = `${b.file.replace(/[^\w]+/g, "_")}_L${b.line}_${i}.${
        b.lang === "sh" ? "sh" : b.lang
      }`;
      const path = join(dir, name);
      writeFileSync(path, b.code);
      return path;
    });
    // One `deno check` for all the TypeScript and JavaScript blocks (a type error names its
    // file), then a run of each block that is not check-only.
    const code = files.filter((_, i) => blocks[i]!.lang !== "sh");
    const checked = code.length > 0
      ? runOutput(deno, ["check", "--quiet", ...code], root, 240_000)
      : { ok: true, output: "" };
    // Deno's diagnostics, one per "TSxxxx [ERROR]" (each names the file it is in).
    const diagnostics = checked.ok ? [] : checked.output.split(/(?=^TS\d+ \[ERROR\])/m);
    return blocks.map((block, i) => {
      const path = files[i]!;
      let problem = "";
      if (block.lang === "sh") {
        problem = run("bash", ["-n", path], root, 10_000) ||
          shellReferences(root, block.code).join("; ");
      } else {
        if (!checked.ok) {
          const mine = diagnostics.filter((d) => d.includes(`${path}:`));
          // A failure that names no block (say, a crash of deno itself) counts against every one.
          const named = files.some((f) => checked.output.includes(`${f}:`));
          if (mine.length > 0) problem = `deno check: ${mine.join("\n")}`;
          else if (!named) problem = `deno check: ${checked.output}`;
        }
        if (problem === "" && !block.checkOnly) {
          problem = run(deno, ["run", "-A", "--quiet", path], root, 60_000);
        }
      }
      return { block, problem: problem.replaceAll(path, `${block.file}:${block.line}`) };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
