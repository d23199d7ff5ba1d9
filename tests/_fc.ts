/**
 * Shared fast-check settings for every property test, so a failing property can be replayed
 * on Deno, Bun and Node alike from environment variables:
 *
 * | variable          | effect                                                              |
 * | ----------------- | ------------------------------------------------------------------- |
 * | `FC_SEED`         | seed printed by the failing run (an integer)                        |
 * | `FC_PATH`         | path printed by the failing run (needs `FC_SEED`)                   |
 * | `FC_NUM_RUNS`     | number of runs, overriding the caller's default                     |
 * | `FC_REPLAY_PATH`  | `replayPath` printed for a failing `fc.commands` run (optional)     |
 * | `FC_END_ON_FAILURE` | `1`/`true` stops at the first failure without shrinking           |
 *
 * With `FC_PATH` set, `endOnFailure` defaults to `true`, so the run replays only the minimal
 * counterexample. The variables apply to every property of the run: narrow the run to the
 * failing file (and test name) when replaying; see "Replaying a failing property" in README.md.
 *
 * @example Usage in a property test
 * ```ts ignore
 * import fc from "fast-check";
 * import { fcParams } from "./_fc.ts";
 *
 * fc.assert(fc.property(fc.nat(), (n) => n >= 0), fcParams({ numRuns: 200 }));
 * ```
 *
 * @module
 */
import type fc from "fast-check";

/** Options for {@linkcode fcParams}: defaults that environment variables may override. */
export interface FcParamsOptions {
  /** Runs when `FC_NUM_RUNS` is not set (fast-check's own default is 100). */
  numRuns?: number;
}

function env(name: string): string | undefined {
  // `process` exists on Node and Bun, and on Deno (as a global for npm compatibility).
  const value = (globalThis as { process?: { env?: Record<string, string | undefined> } })
    .process?.env?.[name];
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

function envInteger(name: string, min: number): number | undefined {
  const raw = env(name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(
      `Cannot read ${name}: expected an integer of at least ${min}: received "${raw}"`,
    );
  }
  return value;
}

function envBoolean(name: string): boolean | undefined {
  const raw = env(name);
  if (raw === undefined) return undefined;
  if (/^(1|true|yes)$/i.test(raw)) return true;
  if (/^(0|false|no)$/i.test(raw)) return false;
  throw new TypeError(`Cannot read ${name}: expected 1/true or 0/false: received "${raw}"`);
}

/**
 * Parameters for `fc.assert`, from the caller's defaults and the `FC_*` environment variables.
 *
 * @param options Defaults for this property, such as its number of runs.
 * @returns fast-check parameters with `seed`, `path`, `numRuns` and `endOnFailure` set where
 * known.
 * @throws {RangeError} When `FC_SEED` or `FC_NUM_RUNS` is not an integer.
 * @throws {TypeError} When `FC_PATH` is set without `FC_SEED`.
 */
export function fcParams<T = unknown>(options: FcParamsOptions = {}): fc.Parameters<T> {
  const params: fc.Parameters<T> = {};
  // Seeds printed by fast-check are 32-bit signed integers.
  const seed = envInteger("FC_SEED", -(2 ** 31));
  const path = env("FC_PATH");
  const numRuns = envInteger("FC_NUM_RUNS", 1) ?? options.numRuns;
  const endOnFailure = envBoolean("FC_END_ON_FAILURE") ?? (path !== undefined ? true : undefined);
  if (path !== undefined && seed === undefined) {
    throw new TypeError(`Cannot replay FC_PATH: FC_SEED must be set too: received "${path}"`);
  }
  if (seed !== undefined) params.seed = seed;
  if (path !== undefined) params.path = path;
  if (numRuns !== undefined) params.numRuns = numRuns;
  if (endOnFailure !== undefined) params.endOnFailure = endOnFailure;
  return params;
}

/**
 * Constraints for `fc.commands`, adding the `replayPath` from `FC_REPLAY_PATH` when set.
 *
 * @param constraints The suite's own constraints, such as `{ size: "+1" }`.
 * @returns The constraints, with `replayPath` when replaying.
 */
export function fcCommandsConstraints(
  constraints: fc.CommandsContraints = {},
): fc.CommandsContraints {
  const replayPath = env("FC_REPLAY_PATH");
  return replayPath === undefined ? constraints : { ...constraints, replayPath };
}
