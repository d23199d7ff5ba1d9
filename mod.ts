/**
 * OpenSSL 3.3's internal TLS session cache, re-made in TypeScript for Deno,
 * Bun and Node: `SSL_CTX_add_session`, `SSL_CTX_remove_session`,
 * `SSL_CTX_flush_sessions`, the size limit (and its N - 1 quirk), timeouts,
 * cache modes, the new/remove/get callbacks and the statistics, behaving
 * exactly as OpenSSL's do.
 *
 * Two layers:
 * - a pure core (`createCacheState`, `add`, `remove`, `flush`, `lookup`, ...)
 *   over an immutable {@linkcode CacheState}: no clock, no callbacks, no
 *   mutation, O(log n) per operation;
 * - an imperative shell, {@linkcode SessionCache}, that holds the current
 *   state, reads the clock and runs the callbacks.
 *
 * @example Sessions expire strictly after time + timeout
 * ```ts
 * import { SessionCache } from "./mod.ts";
 * const cache = new SessionCache({ cacheSize: 100 });
 * cache.add({ id: new Uint8Array([1]), time: 1000, timeout: 300 });
 * if (cache.flush(1300).length !== 0) throw new Error("expired at its expiry");
 * if (cache.flush(1301).length !== 1) throw new Error("not expired after it");
 * ```
 *
 * @module
 */

export * from "./src/modes.ts";
export * from "./src/session.ts";
export * from "./src/cache_state.ts";
export * from "./src/session_cache.ts";
export * from "./src/revise_session.ts";
export * from "./src/node_tls_server.ts";
export * from "./src/tls_client_cache.ts";
export * from "./src/redis_store.ts";
