// This module is browser compatible.

/**
 * The pure core of the session cache: OpenSSL's internal cache as an
 * immutable {@linkcode CacheState} and functions from one value to the next,
 * for `import * as core from "@sesscache/openssl-session-cache/core"`.
 *
 * Each function mirrors an OpenSSL call (`add` is `SSL_CTX_add_session`,
 * `flush` is `SSL_CTX_flush_sessions`, `setSessionTime` is
 * `SSL_SESSION_set_time` on a cached session, ...) and returns the next value
 * plus what happened, including every removal and its reason. None mutates
 * its input, reads a clock or calls a callback; when nothing changes, the
 * very same value comes back (`Object.is` tells "no change"). Time is always
 * a parameter. `SessionCache` in the main entry point is the imperative shell
 * over these functions.
 *
 * @example Stepping a cache by hand
 * ```ts
 * import assert from "node:assert/strict";
 * import * as core from "@sesscache/openssl-session-cache/core";
 *
 * const empty = core.createCacheState({ cacheSize: 100 });
 * const { cache } = core.add(empty, { id: new Uint8Array([1]), time: 1000, timeout: 300 });
 * assert.equal(core.flush(cache, 1300).cache, cache); // nothing expired: the same value
 * const { removed } = core.flush(cache, 1301);
 * assert.deepEqual(removed.map((r) => r.reason), ["expired"]);
 * assert.equal(empty.size, 0); // old values never change
 * ```
 *
 * @module
 */

export * from "./src/core/cache_state.ts";
export * from "./src/core/lookup.ts";
export * from "./src/core/handshake.ts";
export * from "./src/modes.ts";
export * from "./src/session.ts";
