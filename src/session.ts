// This module is browser compatible.

import { expiryMicros, expirySeconds } from "./_time.ts";

/**
 * The session value the cache stores, and the rules that make one valid.
 *
 * A session is a plain readonly object. Times are whole or fractional seconds
 * since the epoch, from 0 to {@linkcode MAX_TIME} (OpenSSL 3.3 keeps them as
 * nanoseconds): `time` is when the session was made, `timeout` its lifetime,
 * and `time + timeout` its expiry.
 *
 * @module
 */

/** OpenSSL's `SSL_MAX_SSL_SESSION_ID_LENGTH`: a session id holds at most 32 bytes. */
export const MAX_SESSION_ID_LENGTH = 32;

/** OpenSSL's `SSL_MAX_SID_CTX_LENGTH`: a session id context holds at most 32 bytes. */
export const MAX_SID_CTX_LENGTH = 32;

/**
 * A TLS session as the cache sees it (the parts of OpenSSL's `SSL_SESSION`
 * that the cache reads).
 *
 * @example A session made now that lives five minutes
 * ```ts
 * import assert from "node:assert/strict";
 * import { expiryOf, type Session } from "@sesscache/openssl-session-cache";
 *
 * const session: Session = {
 *   id: new Uint8Array([1, 2, 3]),
 *   time: 1_700_000_000,
 *   timeout: 300,
 * };
 * assert.equal(expiryOf(session), 1_700_000_300);
 * ```
 */
export interface Session {
  /**
   * The session id: 1 to 32 bytes. A Node `Buffer` works too. The cache keys
   * the session by a snapshot of these bytes taken when it is added (as
   * OpenSSL copies the id); do not change the bytes of a cached session's id.
   */
  readonly id: Uint8Array;
  /** When the session was made, in seconds (`SSL_SESSION_get_time`). */
  readonly time: number;
  /** Its lifetime in seconds (`SSL_SESSION_get_timeout`). */
  readonly timeout: number;
  /**
   * The protocol version (e.g. `0x0303` for TLS 1.2). OpenSSL keys its table
   * by version and id: the same id under two versions is two entries.
   * Absent means 0.
   */
  readonly version?: number;
  /**
   * The session id context the session was made under. A server looking the
   * session up under another context treats it as a miss. Absent means empty.
   */
  readonly sidCtx?: Uint8Array;
  /** The serialized session (what `i2d_SSL_SESSION` gives), opaque to the cache. */
  readonly data?: Uint8Array;
}

/**
 * What identifies a cached session: its id and protocol version.
 *
 * @example The same id under two versions is two keys
 * ```ts
 * import assert from "node:assert/strict";
 * import * as core from "@sesscache/openssl-session-cache/core";
 *
 * const id = new Uint8Array([1, 2, 3]);
 * const key: core.SessionKey = { id }; // version 0
 * const cache = core.add(core.createCacheState(), { id, time: 0, timeout: 10 }).cache;
 * assert.equal(core.get(cache, key)?.timeout, 10);
 * assert.equal(core.get(cache, { id, version: core.TLS1_2_VERSION }), undefined);
 * ```
 */
export interface SessionKey {
  /** The session id. */
  readonly id: Uint8Array;
  /** The protocol version; absent means 0. */
  readonly version?: number;
}

/**
 * The largest time, timeout or flush time OpenSSL 3.3 can hold, in seconds:
 * 18446744073, the whole seconds in 2^64 - 1 nanoseconds. 3.3 keeps times as
 * unsigned 64-bit nanosecond counts (`OSSL_TIME`) and converts seconds by
 * multiplying by 10^9 without saturating, so a larger value wraps around
 * (`SSL_SESSION_set_time(s, 20000000000)` reads back 1553255926). The cache
 * refuses such values instead.
 */
export const MAX_TIME = 18446744073;

/**
 * A session's expiry, `time + timeout`, in seconds, as OpenSSL 3.3 computes
 * it (`ssl_session_calculate_timeout`): a saturating sum of two 64-bit
 * nanosecond counts, so a sum beyond 2^64 - 1 ns (18446744073.709551615 s) is
 * `Infinity`. Such a session never expires by flush (only `flush(0)` removes
 * it) and sorts after every finite expiry; sessions at `Infinity` tie, first
 * in first out.
 *
 * OpenSSL's times are whole microseconds (its clock is `gettimeofday`), and
 * so are the cache's: each time is rounded to the nearest microsecond and the
 * sum is exact. This function returns that exact sum as the nearest number.
 *
 * (OpenSSL 3.0 kept `time_t` sums with an overflow flag instead, so it agrees
 * with 3.3 for every sum up to 18446744073 s and differs above.)
 *
 * @param session The session (only `time` and `timeout` are read).
 * @returns `session.time + session.timeout`, or `Infinity` beyond 2^64 - 1 ns.
 *
 * @example Saturation at OpenSSL 3.3's limit
 * ```ts
 * import assert from "node:assert/strict";
 * import { expiryOf, MAX_TIME } from "@sesscache/openssl-session-cache";
 *
 * assert.equal(expiryOf({ time: 100, timeout: 10 }), 110);
 * assert.equal(expiryOf({ time: MAX_TIME, timeout: 0 }), MAX_TIME);
 * assert.equal(expiryOf({ time: MAX_TIME, timeout: 1 }), Infinity);
 * ```
 */
export function expiryOf(session: { readonly time: number; readonly timeout: number }): number {
  const { time, timeout } = session;
  const seconds = expirySeconds(time, timeout);
  return seconds === Infinity ? Infinity : seconds + expiryMicros(time, timeout) / 1e6;
}

/**
 * Why a session left the cache, as every removal callback is told:
 * - `"expired"`: a flush found it past its expiry (`SSL_CTX_flush_sessions`
 *   with a time, or the automatic flush every 255 handshakes);
 * - `"evicted"`: the cache was full and an add made room (`cache_full`);
 * - `"removed"`: `SSL_CTX_remove_session` was called for it, directly, by a
 *   server lookup that found it expired, or by a TLS 1.3 client using its ticket;
 * - `"cleared"`: `flush(0)`, which empties the cache (`SSL_CTX_free` does this).
 *
 * OpenSSL's `remove_session_cb` is not told; the reason lets an external
 * store tell a fleet-wide removal from one process's own housekeeping.
 */
export type RemovalReason = "expired" | "evicted" | "removed" | "cleared";

/** A session that left the cache, and why. */
export interface Removal {
  /** The session as the remove callback receives it. */
  readonly session: Session;
  /** Why it left. */
  readonly reason: RemovalReason;
}

/** `TLS1_2_VERSION`: the protocol version of TLS 1.2 sessions (the ones resumed by id). */
export const TLS1_2_VERSION = 0x0303;
/** `TLS1_3_VERSION`: the protocol version of TLS 1.3 sessions (resumed by ticket). */
export const TLS1_3_VERSION = 0x0304;
