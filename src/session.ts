/**
 * The session value the cache stores, and the rules that make one valid.
 *
 * A session is a plain readonly object. Times are whole or fractional seconds,
 * like OpenSSL's `time_t`: `time` is when the session was made, `timeout` its
 * lifetime, and `time + timeout` its expiry.
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
 * import type { Session } from "./session.ts";
 * const session: Session = {
 *   id: new Uint8Array([1, 2, 3]),
 *   time: 1_700_000_000,
 *   timeout: 300,
 * };
 * if (session.time + session.timeout !== 1_700_000_300) throw new Error("expiry");
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
 * @example Looking a session up by id alone (version 0)
 * ```ts
 * import type { SessionKey } from "./session.ts";
 * const key: SessionKey = { id: new Uint8Array([1, 2, 3]) };
 * if (key.version !== undefined) throw new Error("version");
 * ```
 */
export interface SessionKey {
  /** The session id. */
  readonly id: Uint8Array;
  /** The protocol version; absent means 0. */
  readonly version?: number;
}

/**
 * A session's expiry, `time + timeout`, in seconds. A sum beyond
 * `Number.MAX_SAFE_INTEGER` is `Infinity`: such a session never expires,
 * as OpenSSL 3.3's saturating time arithmetic makes it.
 *
 * Where the versions part: OpenSSL 3.0 keeps `time_t` sums (exact up to
 * 2^63), which this cache matches for every sum up to 2^53. OpenSSL 3.3 keeps
 * unsigned 64-bit nanoseconds, so its sum saturates ("never expires") from
 * about 18,446,744,074 s (the year 2554), and a single time or timeout above
 * that wraps. For sums between that and 2^53 this cache, like 3.0, keeps a
 * finite expiry where 3.3 has none.
 *
 * @param session The session.
 * @returns `session.time + session.timeout`, or `Infinity` beyond `Number.MAX_SAFE_INTEGER`.
 *
 * @example
 * ```ts
 * import { expiryOf } from "./session.ts";
 * if (expiryOf({ time: 100, timeout: 10 }) !== 110) throw new Error("expiry");
 * if (expiryOf({ time: Number.MAX_SAFE_INTEGER, timeout: 1 }) !== Infinity) {
 *   throw new Error("saturation");
 * }
 * ```
 */
export function expiryOf(session: { readonly time: number; readonly timeout: number }): number {
  const sum = session.time + session.timeout;
  return sum > Number.MAX_SAFE_INTEGER ? Infinity : sum;
}
