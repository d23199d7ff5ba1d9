/**
 * The errors a {@linkcode RedisSessionStore} reports to its `onError` hook
 * (it never throws them into a handshake).
 *
 * @module
 */

/**
 * The error a store call reports to `onError` when it misses its deadline.
 *
 * @example The message names the operation and the deadline
 * ```ts
 * import assert from "node:assert/strict";
 * import { SessionStoreTimeoutError } from "@sesscache/openssl-session-cache/redis";
 *
 * const error = new SessionStoreTimeoutError("get", 50);
 * assert.equal(error.message, "Session store get timed out after 50 ms");
 * ```
 */
export class SessionStoreTimeoutError extends Error {
  /**
   * Makes the error for one timed-out call.
   *
   * @param operation The operation that timed out.
   * @param timeoutMs Its deadline.
   */
  constructor(operation: string, timeoutMs: number) {
    super(`Session store ${operation} timed out after ${timeoutMs} ms`);
    this.name = "SessionStoreTimeoutError";
  }
}

/**
 * The error reported to `onError` when the circuit breaker opens: Redis
 * failed too many times in a row and is left alone for a while.
 *
 * @example The message says for how long
 * ```ts
 * import assert from "node:assert/strict";
 * import { SessionStoreUnavailableError } from "@sesscache/openssl-session-cache/redis";
 *
 * const error = new SessionStoreUnavailableError(5, 1000);
 * assert.match(error.message, /skipping calls for 1000 ms/);
 * ```
 */
export class SessionStoreUnavailableError extends Error {
  /**
   * Makes the error for one opening of the breaker.
   *
   * @param failures How many calls failed in a row.
   * @param cooldownMs How long calls are skipped.
   */
  constructor(failures: number, cooldownMs: number) {
    super(
      `Session store unavailable: ${failures} calls failed in a row; skipping calls for ${cooldownMs} ms`,
    );
    this.name = "SessionStoreUnavailableError";
  }
}
