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

/**
 * Why a {@linkcode RedisTicketKeys} could not hand over a period's ticket
 * key: a Redis call failed (`cause` holds the client's error) or missed its
 * deadline, or the value in Redis does not open with any of the sealing
 * keys. Never holds key bytes.
 *
 * @example The message names the period and what went wrong
 * ```ts
 * import assert from "node:assert/strict";
 * import { TicketKeyError } from "@sesscache/openssl-session-cache/redis";
 *
 * const error = new TicketKeyError(12, "GET timed out after 1000 ms");
 * assert.equal(error.message, "Ticket key of period 12 unavailable: GET timed out after 1000 ms");
 * assert.equal(error.period, 12);
 * ```
 */
export class TicketKeyError extends Error {
  /** The index of the period whose key was asked for. */
  readonly period: number;

  /**
   * Makes the error for one failed request.
   *
   * @param period The index of the period.
   * @param reason What went wrong.
   * @param options `cause`: the client's error, if any.
   */
  constructor(period: number, reason: string, options?: { readonly cause?: unknown }) {
    super(
      `Ticket key of period ${period} unavailable: ${reason}`,
      options && "cause" in options ? { cause: options.cause } : undefined,
    );
    this.name = "TicketKeyError";
    this.period = period;
  }
}
