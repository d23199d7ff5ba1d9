// This module is browser compatible.

/**
 * Session cache mode flags, with OpenSSL's names and values
 * (`SSL_SESS_CACHE_*` in `openssl/ssl.h`).
 *
 * A mode is a bit set: combine flags with `|`.
 *
 * @example Cache on the server side but never flush automatically
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   SESS_CACHE_NO_AUTO_CLEAR,
 *   SESS_CACHE_SERVER,
 *   SessionCache,
 * } from "@sesscache/openssl-session-cache";
 *
 * const cache = new SessionCache({ mode: SESS_CACHE_SERVER | SESS_CACHE_NO_AUTO_CLEAR });
 * assert.equal(cache.mode, 0x82);
 * ```
 *
 * @module
 */

/** No caching on either side (`SSL_SESS_CACHE_OFF`, 0x0). Add and flush still work. */
export const SESS_CACHE_OFF = 0x0;
/** Cache sessions of client handshakes (`SSL_SESS_CACHE_CLIENT`, 0x1). */
export const SESS_CACHE_CLIENT = 0x1;
/** Cache sessions of server handshakes (`SSL_SESS_CACHE_SERVER`, 0x2). The default. */
export const SESS_CACHE_SERVER = 0x2;
/** Both sides (`SSL_SESS_CACHE_BOTH`, 0x3). */
export const SESS_CACHE_BOTH = 0x3;
/** Do not flush every 255 completed handshakes (`SSL_SESS_CACHE_NO_AUTO_CLEAR`, 0x80). */
export const SESS_CACHE_NO_AUTO_CLEAR = 0x80;
/** Skip the internal table on server lookups (`SSL_SESS_CACHE_NO_INTERNAL_LOOKUP`, 0x100). */
export const SESS_CACHE_NO_INTERNAL_LOOKUP = 0x100;
/** Do not store new or external sessions internally (`SSL_SESS_CACHE_NO_INTERNAL_STORE`, 0x200). */
export const SESS_CACHE_NO_INTERNAL_STORE = 0x200;
/** `NO_INTERNAL_LOOKUP | NO_INTERNAL_STORE` (`SSL_SESS_CACHE_NO_INTERNAL`, 0x300). */
export const SESS_CACHE_NO_INTERNAL = 0x300;
/** Set a session's time to now on every add (`SSL_SESS_CACHE_UPDATE_TIME`, 0x400). */
export const SESS_CACHE_UPDATE_TIME = 0x400;
