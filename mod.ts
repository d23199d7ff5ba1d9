// This module is browser compatible.

/**
 * OpenSSL 3.3's internal TLS session cache, re-made in TypeScript for Deno,
 * Bun and Node: `SSL_CTX_add_session`, `SSL_CTX_remove_session`,
 * `SSL_CTX_flush_sessions`, the size limit (and its N - 1 quirk), timeouts,
 * cache modes, the new/remove/get callbacks and the statistics, behaving
 * exactly as OpenSSL's do.
 *
 * Entry points, one per layer:
 * - `.` (this one): {@linkcode SessionCache}, the cache as a mutable object
 *   with a clock and callbacks; sessions, modes and statistics.
 * - `./core`: the pure functions over an immutable `CacheState` that
 *   `SessionCache` is built on.
 * - `./node`: `attachSessionCache` for `node:tls` servers and
 *   `TlsClientSessionCache` for clients.
 * - `./redis`: `RedisSessionStore`, an external cache shared by a fleet.
 *
 * This entry point and `./core` run anywhere JavaScript does, browsers
 * included; only `./node` and `./redis` need a server runtime.
 *
 * @example Sessions expire strictly after time + timeout
 * ```ts
 * import assert from "node:assert/strict";
 * import { SessionCache } from "@sesscache/openssl-session-cache";
 *
 * const cache = new SessionCache({ cacheSize: 100 });
 * cache.add({ id: new Uint8Array([1]), time: 1000, timeout: 300 });
 * assert.equal(cache.flush(1300).length, 0); // at its expiry it stays
 * assert.equal(cache.flush(1301).length, 1);
 * ```
 *
 * @module
 */

export * from "./src/modes.ts";
export * from "./src/session.ts";
export {
  type CacheState,
  type CacheStats,
  DEFAULT_CACHE_SIZE,
  DEFAULT_TIMEOUT,
} from "./src/core/cache_state.ts";
export type { SessionLookup } from "./src/core/lookup.ts";
export type { CompletedHandshake, Side } from "./src/core/handshake.ts";
export * from "./src/shell/session_cache.ts";
export * from "./src/shell/revise_session.ts";
export * from "./src/shell/metrics.ts";
