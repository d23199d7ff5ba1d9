/**
 * Finds OpenSSL 3.3.2's static libraries (libssl.a, libcrypto.a and their headers), which
 * `../shared/openssl/build.sh` builds once per machine, and compiles C files against them. Used
 * by the libssl differential test and by the bench's C driver (bench/_libssl.ts).
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** A prefix, or why there is none: `skip` when the source is nowhere, `error` when it failed. */
export type Located = { prefix: string } | { skip: string } | { error: string };

function complete(prefix: string): boolean {
  return ["include/openssl/ssl.h", "lib/libssl.a", "lib/libcrypto.a"].every((f) =>
    existsSync(join(prefix, f))
  );
}

let located: Located | undefined;

/**
 * The install prefix: `$OPENSSL_3_3_PREFIX` (.ci/run sets it after building), else the prefix
 * `build.sh` prints (instant when already built: it keeps a stamp; a first build takes
 * minutes), with the source found as `$OPENSSL_3_3_SRC` (a directory holding build.sh),
 * `<repo>/../shared/openssl` or `/work/shared/openssl`. Looked up once per process.
 */
export function openssl33Prefix(): Located {
  return located ??= locate();
}

function locate(): Located {
  const given = process.env.OPENSSL_3_3_PREFIX;
  if (given !== undefined && given !== "") {
    return complete(given) ? { prefix: given } : {
      error: `OPENSSL_3_3_PREFIX=${given} lacks include/openssl/ssl.h or lib/lib{ssl,crypto}.a`,
    };
  }
  const candidates = [
    ...(process.env.OPENSSL_3_3_SRC ? [process.env.OPENSSL_3_3_SRC] : []),
    resolve(REPO, "..", "shared", "openssl"),
    "/work/shared/openssl",
  ];
  const src = candidates.find((d) => existsSync(join(d, "build.sh")));
  if (src === undefined) {
    return {
      skip: `OpenSSL 3.3.2's source not found (no build.sh in $OPENSSL_3_3_SRC, ${
        candidates.slice(-2).join(", ")
      }) and OPENSSL_3_3_PREFIX unset`,
    };
  }
  const run = spawnSync("bash", [join(src, "build.sh")], { encoding: "utf8" });
  const prefix = run.stdout?.trim().split("\n").pop() ?? "";
  if (run.error !== undefined || run.status !== 0 || !complete(prefix)) {
    return {
      error: `${join(src, "build.sh")} failed: ${
        run.error?.message ?? run.stderr.trim().split("\n").slice(-3).join(" | ")
      }`,
    };
  }
  return { prefix };
}

const dirs: string[] = [];
let cleanup = false;

/**
 * Compiles `source` with `gcc <flags> <source> <libs>` into a temporary directory (removed when
 * the process exits); the executable's path, or gcc's complaint.
 */
export function compileC(
  source: string,
  options: { flags?: readonly string[]; libs?: readonly string[] } = {},
): { path: string } | { why: string } {
  const dir = mkdtempSync(join(tmpdir(), "libssl-c-"));
  const path = join(dir, "a.out");
  const cc = spawnSync(
    "gcc",
    [...(options.flags ?? []), "-o", path, source, ...(options.libs ?? [])],
    { encoding: "utf8" },
  );
  if (cc.error !== undefined || cc.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return {
      why: cc.error !== undefined
        ? `gcc not runnable (${cc.error.message})`
        : `gcc failed: ${cc.stderr.trim().split("\n").slice(0, 3).join(" | ")}`,
    };
  }
  dirs.push(dir);
  if (!cleanup) {
    cleanup = true;
    process.on("exit", () => {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });
  }
  return { path };
}

/** gcc arguments that link OpenSSL 3.3.2 statically from `prefix`: flags and libs. */
export function staticOpenssl(prefix: string): { flags: string[]; libs: string[] } {
  return {
    flags: [`-I${join(prefix, "include")}`],
    libs: [
      join(prefix, "lib", "libssl.a"),
      join(prefix, "lib", "libcrypto.a"),
      "-lpthread",
      "-ldl",
    ],
  };
}
