/**
 * The pure core: OpenSSL's internal session cache as an immutable value and
 * functions from one value to the next.
 *
 * Every function here takes a {@linkcode CacheState} and returns a new one
 * plus what happened; none mutates its input, reads a clock or calls a
 * callback, and when nothing changes the very same `cache` object comes back,
 * so `Object.is(result.cache, cache)` tells "no change". The imperative shell
 * (`SessionCache`) reads the clock, keeps the current value and runs the
 * callbacks.
 *
 * Structure: a persistent hash trie (the table, OpenSSL's `LHASH`) and a
 * persistent weight-balanced tree ordered by `(expiry, seq)` (OpenSSL's
 * expiry-sorted linked list). Both copy one path per change and share the
 * rest, so a new value shares all untouched structure with the old one.
 *
 * Invariants (checked after every model command by `tests/_check.ts`):
 * 1. The table and the order hold the same entries; `size` counts them.
 * 2. Order is ascending `(expiry, seq)`: soonest expiry first, ties in
 *    (re)insertion order. That is OpenSSL's list read from tail to head.
 * 3. `seq` of a (re)inserted entry exceeds every `seq` before it.
 * 4. Counters only grow (but `number`, which is `size`).
 * 5. `soonestExpiry` is the soonest expiry in the order (`Infinity` when empty).
 *
 * | operation                                 | cost                                   |
 * |-------------------------------------------|----------------------------------------|
 * | get                                       | O(log32 n)                             |
 * | add (any expiry order)                    | O(log n), + O(k + log n) for k evicted |
 * | remove, setSessionTime, setSessionTimeout | O(log n)                               |
 * | flush(tm), nothing expired                | O(1): the soonest expiry is kept       |
 * | flush(tm), k expired                      | O(k log32 n + log n), one bulk delete  |
 * | flush(0)                                  | O(n): it removes all n                 |
 * | lookup, resumeExternal                    | O(log n)                               |
 * | sessions()                                | O(n) to iterate all                    |
 *
 * @module
 */

import {
  addTo,
  asState,
  commit,
  draftOf,
  emptyState,
  entriesOf,
  findEntry,
  flushDraft,
  relink,
  unlink,
  withSettings,
} from "./_state.ts";
import { derive } from "./_entry.ts";
import { SESS_CACHE_SERVER } from "../../src/modes.ts";
import type { Removal, Session, SessionKey } from "../../src/session.ts";

/** OpenSSL's default cache size, `SSL_SESSION_CACHE_MAX_SIZE_DEFAULT` (1024 * 20). */
export const DEFAULT_CACHE_SIZE = 20480;
/** The default session timeout OpenSSL's code sets on a context: 7200 s (its man pages say 300). */
export const DEFAULT_TIMEOUT = 7200;

/**
 * The statistics OpenSSL keeps per context (`SSL_CTX_sess_number`,
 * `SSL_CTX_sess_hits`, ...), with the same meanings.
 */
export interface CacheStats {
  /** Sessions cached now (`SSL_CTX_sess_number`). */
  readonly number: number;
  /** Client handshakes started (`SSL_CTX_sess_connect`). */
  readonly connect: number;
  /** Client handshakes completed (`SSL_CTX_sess_connect_good`). */
  readonly connectGood: number;
  /** Client renegotiations started (`SSL_CTX_sess_connect_renegotiate`). */
  readonly connectRenegotiate: number;
  /** Server handshakes started (`SSL_CTX_sess_accept`). */
  readonly accept: number;
  /** Server handshakes completed (`SSL_CTX_sess_accept_good`). */
  readonly acceptGood: number;
  /** Server renegotiations started (`SSL_CTX_sess_accept_renegotiate`). */
  readonly acceptRenegotiate: number;
  /** Sessions resumed (`SSL_CTX_sess_hits`). */
  readonly hits: number;
  /** Sessions supplied by the external cache (`SSL_CTX_sess_cb_hits`). */
  readonly cbHits: number;
  /** Lookups that missed the internal table (`SSL_CTX_sess_misses`). */
  readonly misses: number;
  /** Expired sessions met on lookup (`SSL_CTX_sess_timeouts`). */
  readonly timeouts: number;
  /** Sessions evicted because the cache was full (`SSL_CTX_sess_cache_full`). */
  readonly cacheFull: number;
}

/**
 * An immutable session cache: settings, sessions and counters.
 *
 * Create one with {@linkcode createCacheState}; every other function of the
 * core returns a new value and leaves this one as it was.
 */
export interface CacheState {
  /** Most sessions kept; 0 means unlimited (`SSL_CTX_sess_get_cache_size`). */
  readonly cacheSize: number;
  /** The `SESS_CACHE_*` mode bits (`SSL_CTX_get_session_cache_mode`). */
  readonly mode: number;
  /** Default lifetime in seconds for new sessions (`SSL_CTX_get_timeout`). */
  readonly timeout: number;
  /** Sessions cached now. */
  readonly size: number;
  /** The counters. */
  readonly stats: CacheStats;
}

/** Settings of a {@linkcode CacheState}. */
export interface CacheStateOptions {
  /** Most sessions kept; 0 means unlimited. Default 20480. */
  readonly cacheSize?: number;
  /** The `SESS_CACHE_*` mode bits. Default `SESS_CACHE_SERVER`. */
  readonly mode?: number;
  /** Default lifetime in seconds for new sessions. Default 7200. */
  readonly timeout?: number;
}

/**
 * Creates an empty cache value. Defaults are OpenSSL's: size 20480, mode
 * `SESS_CACHE_SERVER`, timeout 7200 s. Like `SSL_CTX_new` for the cache part
 * of a context.
 *
 * @param options The settings.
 * @returns An empty cache.
 *
 * @example An empty cache with room for 100 sessions
 * ```ts
 * import assert from "node:assert/strict";
 * import * as core from "@sesscache/openssl-session-cache/core";
 *
 * const cache = core.createCacheState({ cacheSize: 100 });
 * assert.equal(cache.size, 0);
 * assert.equal(cache.cacheSize, 100);
 * ```
 */
export function createCacheState(options: CacheStateOptions = {}): CacheState {
  return emptyState(
    options.cacheSize ?? DEFAULT_CACHE_SIZE,
    options.mode ?? SESS_CACHE_SERVER,
    options.timeout ?? DEFAULT_TIMEOUT,
  );
}

/**
 * Changes the settings. Evicts nothing: like `SSL_CTX_sess_set_cache_size`,
 * a smaller size takes effect at the next add, which then evicts down to it
 * in one go. Returns the same object when nothing changes.
 *
 * @param cache The cache.
 * @param options The settings to change; absent ones are kept.
 * @returns The cache with the new settings.
 *
 * @example Shrinking the cache evicts nothing yet
 * ```ts
 * import assert from "node:assert/strict";
 * import * as core from "@sesscache/openssl-session-cache/core";
 *
 * let cache = core.createCacheState();
 * cache = core.add(cache, { id: new Uint8Array([1]), time: 0, timeout: 10 }).cache;
 * cache = core.configure(cache, { cacheSize: 1 });
 * assert.equal(cache.cacheSize, 1);
 * assert.equal(cache.size, 1);
 * ```
 */
export function configure(cache: CacheState, options: CacheStateOptions): CacheState {
  const s = asState(cache);
  const cacheSize = options.cacheSize ?? s.cacheSize;
  const mode = options.mode ?? s.mode;
  const timeout = options.timeout ?? s.timeout;
  if (cacheSize === s.cacheSize && mode === s.mode && timeout === s.timeout) return s;
  return withSettings(s, cacheSize, mode, timeout);
}

/** What {@linkcode add} did. */
export interface AddResult {
  /** The cache after the add. */
  readonly cache: CacheState;
  /** `SSL_CTX_add_session`'s result: `false` when this very session was already cached. */
  readonly added: boolean;
  /** The session as cached (a copy with the time set to now under `UPDATE_TIME`). */
  readonly session: Session;
  /** Sessions evicted to make room (reason `"evicted"`), in eviction order. */
  readonly removed: readonly Removal[];
  /** A different session with the same key that was silently dropped (no remove callback). */
  readonly replaced: Session | undefined;
}

/**
 * Adds a session. Mirrors `SSL_CTX_add_session`:
 * - the same session already cached: re-sorted, `added: false`, no eviction;
 * - another session with the same key: silently replaced (`replaced`, no
 *   remove callback), `added: true`;
 * - otherwise `added: true`.
 *
 * For a new or replacing add with `cacheSize > 0`, sessions are evicted from
 * the soonest-expiry end while `number >= cacheSize`, counting the new
 * session but before it is linked: so a cache of size N holds at most N - 1
 * sessions when N >= 2 (an OpenSSL quirk since 3.0.6), and a new session with
 * the soonest expiry survives its own add. The mode is ignored except
 * `SESS_CACHE_UPDATE_TIME`, which sets the session's time to `now`.
 *
 * "The same session" is the same object, or a copy the cache made of it
 * (`setSessionTime`, `setSessionTimeout`, `UPDATE_TIME`), since OpenSSL
 * changes the object in place where this cache makes a copy.
 *
 * @param cache The cache.
 * @param session The session to add.
 * @param options `now`: the current time in seconds, required under `UPDATE_TIME`.
 * @returns The new cache and what happened.
 * @throws {TypeError} If the mode has `UPDATE_TIME` and `now` is missing.
 *
 * @example A cache of size 3 holds 2 sessions
 * ```ts
 * import assert from "node:assert/strict";
 * import * as core from "@sesscache/openssl-session-cache/core";
 *
 * let cache = core.createCacheState({ cacheSize: 3 });
 * for (const b of [1, 2, 3]) {
 *   cache = core.add(cache, { id: new Uint8Array([b]), time: 99 + b, timeout: 10 }).cache;
 * }
 * assert.equal(cache.size, 2);
 * assert.equal(cache.stats.cacheFull, 1);
 * ```
 */
export function add(
  cache: CacheState,
  session: Session,
  options: { readonly now?: number } = {},
): AddResult {
  const d = draftOf(asState(cache));
  const r = addTo(d, session, options.now);
  return { cache: commit(d), ...r };
}

/** What {@linkcode remove} did. */
export interface RemoveResult {
  /** The cache after the removal; the same object when nothing was found. */
  readonly cache: CacheState;
  /** `SSL_CTX_remove_session`'s result: whether an entry with that key was cached. */
  readonly found: boolean;
  /** What the remove callback receives: always the argument (reason `"removed"`), found or not. */
  readonly removed: readonly Removal[];
}

/**
 * Removes the session with `session`'s key. Mirrors `SSL_CTX_remove_session`,
 * including its quirk that the remove callback fires with the argument even
 * when nothing was cached: `removed` always holds `session`.
 *
 * @param cache The cache.
 * @param session The session to remove (matched by version and id).
 * @returns The new cache and what happened.
 *
 * @example Removing twice
 * ```ts
 * import assert from "node:assert/strict";
 * import * as core from "@sesscache/openssl-session-cache/core";
 *
 * const s = { id: new Uint8Array([1]), time: 0, timeout: 10 };
 * const first = core.remove(core.add(core.createCacheState(), s).cache, s);
 * const second = core.remove(first.cache, s);
 * assert.equal(first.found, true);
 * assert.equal(second.found, false);
 * assert.deepEqual(second.removed, [{ session: s, reason: "removed" }]);
 * ```
 */
export function remove(cache: CacheState, session: Session): RemoveResult {
  const s = asState(cache);
  const removed: Removal[] = [{ session, reason: "removed" }];
  const existing = findEntry(s, session.id, session.version);
  if (existing === undefined) return { cache: s, found: false, removed };
  const d = draftOf(s);
  unlink(d, existing);
  return { cache: commit(d), found: true, removed };
}

/**
 * The cached session with this key, or `undefined`. Counts nothing and does
 * not check expiry (like the internal table lookup in OpenSSL).
 *
 * @param cache The cache.
 * @param key The session id and version (absent version: 0).
 * @returns The session as cached.
 *
 * @example Looking up by id
 * ```ts
 * import assert from "node:assert/strict";
 * import * as core from "@sesscache/openssl-session-cache/core";
 *
 * const s = { id: new Uint8Array([7]), time: 0, timeout: 10 };
 * const cache = core.add(core.createCacheState(), s).cache;
 * assert.equal(core.get(cache, { id: new Uint8Array([7]) }), s);
 * assert.equal(core.get(cache, { id: new Uint8Array([7]), version: 0x0303 }), undefined);
 * ```
 */
export function get(cache: CacheState, key: SessionKey): Session | undefined {
  return findEntry(asState(cache), key.id, key.version)?.session;
}

/** What {@linkcode flush} did. */
export interface FlushResult {
  /** The cache after the flush; the same object when nothing expired. */
  readonly cache: CacheState;
  /**
   * Removed sessions in removal order (soonest expiry first, ties first-added
   * first), with reason `"expired"`, or `"cleared"` for `flush(cache, 0)`.
   */
  readonly removed: readonly Removal[];
}

/**
 * Removes expired sessions. Mirrors `SSL_CTX_flush_sessions(ctx, tm)`:
 * a session is expired iff `tm > time + timeout` (at `tm` equal to the
 * expiry it stays), and `tm === 0` removes every session. Ignores the mode
 * and counts no `timeouts`.
 *
 * @param cache The cache.
 * @param tm The time in seconds; 0 for "everything".
 * @returns The new cache and the removed sessions in order.
 *
 * @example Strictly after the expiry
 * ```ts
 * import assert from "node:assert/strict";
 * import * as core from "@sesscache/openssl-session-cache/core";
 *
 * const s = { id: new Uint8Array([1]), time: 100, timeout: 10 };
 * const cache = core.add(core.createCacheState(), s).cache;
 * assert.equal(core.flush(cache, 110).cache, cache); // at its expiry: kept
 * assert.deepEqual(core.flush(cache, 111).removed, [{ session: s, reason: "expired" }]);
 * assert.deepEqual(core.flush(cache, 0).removed, [{ session: s, reason: "cleared" }]);
 * ```
 */
export function flush(cache: CacheState, tm: number): FlushResult {
  const s = asState(cache);
  if (s.size === 0 || (tm !== 0 && !(s.soonestExpiry < tm))) return { cache: s, removed: [] };
  const d = draftOf(s);
  const removed = flushDraft(d, tm);
  return removed.length === 0 ? { cache: s, removed } : { cache: commit(d), removed };
}

/** What {@linkcode setSessionTime} and {@linkcode setSessionTimeout} did. */
export interface UpdateResult {
  /** The cache after the change; the same object when the session is not cached. */
  readonly cache: CacheState;
  /** The updated cached session (a new object), or `undefined` when not cached. */
  readonly session: Session | undefined;
}

function update(
  cache: CacheState,
  key: SessionKey,
  changes: { readonly time?: number; readonly timeout?: number },
): UpdateResult {
  const s = asState(cache);
  const existing = findEntry(s, key.id, key.version);
  if (existing === undefined) return { cache: s, session: undefined };
  const d = draftOf(s);
  const e = relink(d, existing, derive(existing.session, changes));
  return { cache: commit(d), session: e.session };
}

/**
 * Sets a cached session's time and re-sorts it, even when the value is
 * unchanged (it then moves behind its ties). Mirrors `SSL_SESSION_set_time`
 * on a cached session. The cache stores an updated copy; your object is not
 * changed.
 *
 * @param cache The cache.
 * @param key The key (`id`, `version`) of the cached session.
 * @param options `time`: the new time in seconds.
 * @returns The new cache and the updated session.
 *
 * @example Moving a session's time
 * ```ts
 * import assert from "node:assert/strict";
 * import * as core from "@sesscache/openssl-session-cache/core";
 *
 * const id = new Uint8Array([1]);
 * const cache = core.add(core.createCacheState(), { id, time: 100, timeout: 10 }).cache;
 * assert.equal(core.setSessionTime(cache, { id }, { time: 200 }).session?.time, 200);
 * ```
 */
export function setSessionTime(
  cache: CacheState,
  key: SessionKey,
  options: { readonly time: number },
): UpdateResult {
  return update(cache, key, { time: options.time });
}

/**
 * Sets a cached session's timeout and re-sorts it, like
 * {@linkcode setSessionTime}. Mirrors `SSL_SESSION_set_timeout` on a cached
 * session.
 *
 * @param cache The cache.
 * @param key The key (`id`, `version`) of the cached session.
 * @param options `timeout`: the new timeout in seconds.
 * @returns The new cache and the updated session.
 *
 * @example Extending a session's lifetime
 * ```ts
 * import assert from "node:assert/strict";
 * import * as core from "@sesscache/openssl-session-cache/core";
 *
 * const id = new Uint8Array([1]);
 * const cache = core.add(core.createCacheState(), { id, time: 100, timeout: 10 }).cache;
 * assert.equal(core.setSessionTimeout(cache, { id }, { timeout: 60 }).session?.timeout, 60);
 * ```
 */
export function setSessionTimeout(
  cache: CacheState,
  key: SessionKey,
  options: { readonly timeout: number },
): UpdateResult {
  return update(cache, key, { timeout: options.timeout });
}

/**
 * The cached sessions in `flush(0)` order: soonest expiry first, ties in
 * the order they were (re)inserted. This is OpenSSL's list from tail to head.
 *
 * @param cache The cache.
 * @returns An iterator over the sessions.
 *
 * @example Soonest expiry first
 * ```ts
 * import assert from "node:assert/strict";
 * import * as core from "@sesscache/openssl-session-cache/core";
 *
 * let cache = core.createCacheState();
 * cache = core.add(cache, { id: new Uint8Array([1]), time: 0, timeout: 20 }).cache;
 * cache = core.add(cache, { id: new Uint8Array([2]), time: 0, timeout: 10 }).cache;
 * assert.deepEqual([...core.sessions(cache)].map((s) => s.id[0]), [2, 1]);
 * ```
 */
export function* sessions(cache: CacheState): Generator<Session, void, undefined> {
  for (const e of entriesOf(asState(cache))) yield e.session;
}
