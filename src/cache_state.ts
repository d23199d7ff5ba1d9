/**
 * The pure core: OpenSSL's internal session cache as an immutable value and
 * functions from one value to the next.
 *
 * Every function here takes a {@linkcode CacheState} and returns a new one
 * plus what happened; none mutates its input, reads a clock or calls a
 * callback, and when nothing changes the very same `cache` object comes back,
 * so `Object.is(result.cache, cache)` tells "no change". The imperative shell
 * ({@linkcode SessionCache}) reads the clock, keeps the current value and
 * runs the callbacks.
 *
 * Structure: a persistent hash trie (the table, OpenSSL's `LHASH`) and a
 * persistent weight-balanced tree ordered by `(expiry, seq)` (OpenSSL's
 * expiry-sorted linked list). Both copy one path per change and share the
 * rest, so a new value shares all untouched structure with the old one.
 *
 * Invariants:
 * 1. The table and the order hold the same entries; `size` counts them.
 * 2. Order is ascending `(expiry, seq)`: soonest expiry first, ties in
 *    (re)insertion order. That is OpenSSL's list read from tail to head.
 * 3. `seq` of a (re)inserted entry exceeds every `seq` before it.
 * 4. Counters only grow (but `number`, which is `size`).
 * 5. `first` is the soonest expiry in the order (`Infinity` when empty).
 *
 * | operation                      | cost                                  |
 * |--------------------------------|---------------------------------------|
 * | get                            | O(log32 n)                            |
 * | add (any expiry order)         | O(log n), + O(k + log n) for k evicted|
 * | remove, setTime, setTimeout    | O(log n)                              |
 * | flush(tm), nothing expired     | O(1): the soonest expiry is kept      |
 * | flush(tm), k expired           | O(k log32 n + log n), one bulk delete |
 * | flush(0)                       | O(n): it removes all n                |
 * | lookup, resumeExternal         | O(log n)                              |
 * | sessions()                     | O(n) to iterate all                   |
 *
 * @module
 */

import {
  EMPTY_TABLE,
  hashKey,
  type Table,
  tableGet,
  tableRemove,
  tableRemoveAll,
  tableSet,
} from "./_hamt.ts";
import {
  type Order,
  orderDropBelow,
  orderDropFirst,
  orderEntries,
  orderInsert,
  orderMin,
  orderRemove,
} from "./_order.ts";
import { derive, type Entry, keyOf, makeEntry, originOf } from "./_entry.ts";
import {
  SESS_CACHE_CLIENT,
  SESS_CACHE_NO_AUTO_CLEAR,
  SESS_CACHE_NO_INTERNAL_LOOKUP,
  SESS_CACHE_NO_INTERNAL_STORE,
  SESS_CACHE_SERVER,
  SESS_CACHE_UPDATE_TIME,
} from "./modes.ts";
import { expiryOf, type Session, type SessionKey } from "./session.ts";

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

/** The value behind the public {@linkcode CacheState} interface. */
class State implements CacheState {
  constructor(
    readonly cacheSize: number,
    readonly mode: number,
    readonly timeout: number,
    readonly stats: CacheStats,
    readonly table: Table<Entry>,
    readonly order: Order<Entry>,
    readonly nextSeq: number,
    /** The soonest expiry cached (`Infinity` when empty): a flush that would remove nothing is O(1). */
    readonly first: number,
  ) {
    Object.freeze(this);
  }

  get size(): number {
    return this.stats.number;
  }
}

/** A mutable draft of the next state: lives only inside one core function. */
interface Draft {
  cacheSize: number;
  mode: number;
  timeout: number;
  stats: { -readonly [K in keyof CacheStats]: CacheStats[K] };
  table: Table<Entry>;
  order: Order<Entry>;
  nextSeq: number;
  first: number;
  /** Set when an entry at the soonest expiry left the order: `first` is recomputed at commit. */
  firstStale: boolean;
}

function draftOf(s: State): Draft {
  return {
    cacheSize: s.cacheSize,
    mode: s.mode,
    timeout: s.timeout,
    stats: { ...s.stats },
    table: s.table,
    order: s.order,
    nextSeq: s.nextSeq,
    first: s.first,
    firstStale: false,
  };
}

/** Notes that `e` left the order. */
function left(d: Draft, e: Entry): void {
  if (e.expiry <= d.first) d.firstStale = true;
}

/** Notes that `e` joined the order. */
function joined(d: Draft, e: Entry): void {
  if (e.expiry < d.first) d.first = e.expiry;
}

function commit(d: Draft): State {
  return new State(
    d.cacheSize,
    d.mode,
    d.timeout,
    Object.freeze(d.stats),
    d.table,
    d.order,
    d.nextSeq,
    d.firstStale ? (orderMin(d.order)?.expiry ?? Infinity) : d.first,
  );
}

const ZERO_STATS: CacheStats = Object.freeze({
  number: 0,
  connect: 0,
  connectGood: 0,
  connectRenegotiate: 0,
  accept: 0,
  acceptGood: 0,
  acceptRenegotiate: 0,
  hits: 0,
  cbHits: 0,
  misses: 0,
  timeouts: 0,
  cacheFull: 0,
});

function asState(cache: CacheState): State {
  if (!(cache instanceof State)) {
    throw new TypeError(
      "Cannot use cache state: value was not made by createCacheState",
    );
  }
  return cache;
}

/**
 * Creates an empty cache value. Defaults are OpenSSL's: size 20480, mode
 * `SESS_CACHE_SERVER`, timeout 7200 s.
 *
 * Like `SSL_CTX_new` for the cache part of a context. The core does not
 * validate settings; {@linkcode SessionCache} does.
 *
 * @param options The settings.
 * @returns An empty cache.
 *
 * @example An empty cache with room for 100 sessions
 * ```ts
 * import { createCacheState } from "./cache_state.ts";
 * const cache = createCacheState({ cacheSize: 100 });
 * if (cache.size !== 0 || cache.cacheSize !== 100) throw new Error("unexpected");
 * ```
 */
export function createCacheState(options: CacheStateOptions = {}): CacheState {
  return new State(
    options.cacheSize ?? DEFAULT_CACHE_SIZE,
    options.mode ?? SESS_CACHE_SERVER,
    options.timeout ?? DEFAULT_TIMEOUT,
    ZERO_STATS,
    EMPTY_TABLE,
    null,
    0,
    Infinity,
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
 * @example Shrinking the cache
 * ```ts
 * import { configure, createCacheState } from "./cache_state.ts";
 * const cache = configure(createCacheState(), { cacheSize: 2 });
 * if (cache.cacheSize !== 2) throw new Error("unexpected");
 * ```
 */
export function configure(cache: CacheState, options: CacheStateOptions): CacheState {
  const s = asState(cache);
  const cacheSize = options.cacheSize ?? s.cacheSize;
  const mode = options.mode ?? s.mode;
  const timeout = options.timeout ?? s.timeout;
  if (cacheSize === s.cacheSize && mode === s.mode && timeout === s.timeout) return s;
  return new State(cacheSize, mode, timeout, s.stats, s.table, s.order, s.nextSeq, s.first);
}

/** What {@linkcode add} did. */
export interface AddResult {
  /** The cache after the add. */
  readonly cache: CacheState;
  /** `SSL_CTX_add_session`'s result: `false` when this very session was already cached. */
  readonly added: boolean;
  /** The session as cached (a copy with the time set to now under `UPDATE_TIME`). */
  readonly session: Session;
  /** Sessions evicted to make room, in eviction order: the remove callback receives these. */
  readonly removed: readonly Session[];
  /** A different session with the same key that was silently dropped (no remove callback). */
  readonly replaced: Session | undefined;
}

function getEntry(s: State | Draft, key: string, hash: number = hashKey(key)): Entry | undefined {
  return tableGet(s.table, hash, key);
}

function unlink(d: Draft, e: Entry): void {
  d.table = tableRemove(d.table, e.hash, e.key);
  d.order = orderRemove(d.order, e);
  left(d, e);
  d.stats.number -= 1;
}

/** Re-inserts an already cached session as `session`: the entry moves to the head side of its tie group. */
function relink(d: Draft, old: Entry, session: Session): Entry {
  const e = makeEntry(session, old.origin, d.nextSeq++, old.key, old.hash);
  d.order = orderInsert(orderRemove(d.order, old), e);
  left(d, old);
  joined(d, e);
  d.table = tableSet(d.table, e);
  return e;
}

/** `SSL_CTX_add_session` on a draft; see {@linkcode add}. */
function addTo(
  d: Draft,
  session: Session,
  now: number | undefined,
): { added: boolean; session: Session; removed: Session[]; replaced: Session | undefined } {
  const key = keyOf(session.id, session.version);
  const hash = hashKey(key);
  const existing = getEntry(d, key, hash);
  const origin = originOf(session);
  const updateTime = (d.mode & SESS_CACHE_UPDATE_TIME) !== 0;
  if (updateTime && now === undefined) {
    throw new TypeError("Cannot add session: now is required when the mode has UPDATE_TIME");
  }
  if (existing !== undefined && existing.origin === origin) {
    // The same session again: OpenSSL re-sorts it and returns 0. The cached
    // copy is the current state of "that object", so it is the one kept.
    const current = updateTime ? derive(existing.session, { time: now! }) : existing.session;
    relink(d, existing, current);
    return { added: false, session: current, removed: [], replaced: undefined };
  }
  const cached = updateTime ? derive(session, { time: now! }) : session;
  let replaced: Session | undefined;
  if (existing !== undefined) {
    // Same key, another object: OpenSSL unlinks the old one without a callback.
    replaced = existing.session;
    unlink(d, existing);
  }
  const entry = makeEntry(cached, origin, d.nextSeq++, key, hash);
  d.table = tableSet(d.table, entry);
  d.stats.number += 1;
  const removed: Session[] = [];
  if (d.cacheSize > 0 && d.stats.number >= d.cacheSize) {
    // `while (number >= cache_size) evict tail`, counted with the new session
    // in the table but not yet in the list: size N keeps N - 1 (N >= 2).
    const linked = d.stats.number - 1;
    const evict = Math.min(linked, d.stats.number - d.cacheSize + 1);
    const out: Entry[] = [];
    d.order = orderDropFirst(d.order, evict, out);
    if (out.length > 0) d.firstStale = true;
    d.table = tableRemoveAll(d.table, out);
    for (const e of out) removed.push(e.session);
    d.stats.number -= out.length;
    d.stats.cacheFull += out.length;
  }
  d.order = orderInsert(d.order, entry);
  joined(d, entry);
  return { added: true, session: cached, removed, replaced };
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
 * (`setTime`, `setTimeout`, `UPDATE_TIME`), since OpenSSL changes the object in
 * place where this cache makes a copy.
 *
 * @param cache The cache.
 * @param session The session to add.
 * @param options `now`: the current time, required under `UPDATE_TIME`.
 * @returns The new cache and what happened.
 * @throws {TypeError} If the mode has `UPDATE_TIME` and `now` is missing.
 *
 * @example Size 3 holds 2 sessions
 * ```ts
 * import { add, createCacheState } from "./cache_state.ts";
 * let cache = createCacheState({ cacheSize: 3 });
 * for (const b of [1, 2, 3]) {
 *   cache = add(cache, { id: new Uint8Array([b]), time: 99 + b, timeout: 10 }).cache;
 * }
 * if (cache.size !== 2 || cache.stats.cacheFull !== 1) throw new Error("unexpected");
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
  /** What the remove callback receives: always the argument, found or not. */
  readonly removed: readonly Session[];
}

/**
 * Removes the session with `session`'s key. Mirrors `SSL_CTX_remove_session`,
 * including its quirk that the remove callback fires with the argument even
 * when nothing was cached: `removed` is always `[session]`.
 *
 * @param cache The cache.
 * @param session The session to remove (matched by version and id).
 * @returns The new cache and what happened.
 *
 * @example Removing twice
 * ```ts
 * import { add, createCacheState, remove } from "./cache_state.ts";
 * const s = { id: new Uint8Array([1]), time: 0, timeout: 10 };
 * const first = remove(add(createCacheState(), s).cache, s);
 * const second = remove(first.cache, s);
 * if (!first.found || second.found || second.removed[0] !== s) throw new Error("unexpected");
 * ```
 */
export function remove(cache: CacheState, session: Session): RemoveResult {
  const s = asState(cache);
  const existing = getEntry(s, keyOf(session.id, session.version));
  if (existing === undefined) return { cache: s, found: false, removed: [session] };
  const d = draftOf(s);
  unlink(d, existing);
  return { cache: commit(d), found: true, removed: [session] };
}

/**
 * The cached session with this key, or `undefined`. Counts nothing and does
 * not check expiry (like the internal table lookup in OpenSSL).
 *
 * @param cache The cache.
 * @param key The session id and version (absent version: 0).
 * @returns The session as cached.
 *
 * @example
 * ```ts
 * import { add, createCacheState, get } from "./cache_state.ts";
 * const s = { id: new Uint8Array([7]), time: 0, timeout: 10 };
 * const cache = add(createCacheState(), s).cache;
 * if (get(cache, { id: new Uint8Array([7]) }) !== s) throw new Error("unexpected");
 * ```
 */
export function get(cache: CacheState, key: SessionKey): Session | undefined {
  return getEntry(asState(cache), keyOf(key.id, key.version))?.session;
}

/** What {@linkcode flush} did. */
export interface FlushResult {
  /** The cache after the flush; the same object when nothing expired. */
  readonly cache: CacheState;
  /** Removed sessions in removal order (soonest expiry first, ties first-added first). */
  readonly removed: readonly Session[];
}

function flushDraft(d: Draft, tm: number): Session[] {
  const out: Entry[] = [];
  if (tm === 0) {
    for (const e of orderEntries(d.order)) out.push(e);
    d.order = null;
    d.table = EMPTY_TABLE;
  } else {
    // Nothing expires before the soonest expiry: O(1) for the common flush.
    if (!d.firstStale && !(d.first < tm)) return [];
    d.order = orderDropBelow(d.order, tm, out);
    d.table = tableRemoveAll(d.table, out);
  }
  if (out.length > 0) d.firstStale = true;
  d.stats.number -= out.length;
  return out.map((e) => e.session);
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
 * import { add, createCacheState, flush } from "./cache_state.ts";
 * const cache = add(createCacheState(), { id: new Uint8Array([1]), time: 100, timeout: 10 }).cache;
 * if (flush(cache, 110).cache !== cache) throw new Error("expired too early");
 * if (flush(cache, 111).removed.length !== 1) throw new Error("not expired");
 * ```
 */
export function flush(cache: CacheState, tm: number): FlushResult {
  const s = asState(cache);
  if (s.order === null || (tm !== 0 && !(s.first < tm))) return { cache: s, removed: [] };
  const d = draftOf(s);
  const removed = flushDraft(d, tm);
  return removed.length === 0 ? { cache: s, removed } : { cache: commit(d), removed };
}

/** What {@linkcode setTime} and {@linkcode setTimeout} did. */
export interface UpdateResult {
  /** The cache after the change; the same object when the session is not cached. */
  readonly cache: CacheState;
  /** The updated cached session (a new object), or `undefined` when not cached. */
  readonly session: Session | undefined;
}

function update(
  cache: CacheState,
  key: SessionKey,
  changes: Partial<Pick<Session, "time" | "timeout">>,
): UpdateResult {
  const s = asState(cache);
  const existing = getEntry(s, keyOf(key.id, key.version));
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
 * @param change The key (`id`, `version`) and the new `time`.
 * @returns The new cache and the updated session.
 *
 * @example
 * ```ts
 * import { add, createCacheState, setTime } from "./cache_state.ts";
 * const id = new Uint8Array([1]);
 * const cache = add(createCacheState(), { id, time: 100, timeout: 10 }).cache;
 * if (setTime(cache, { id, time: 200 }).session?.time !== 200) throw new Error("unexpected");
 * ```
 */
export function setTime(
  cache: CacheState,
  change: SessionKey & { readonly time: number },
): UpdateResult {
  return update(cache, change, { time: change.time });
}

/**
 * Sets a cached session's timeout and re-sorts it, like `setTime`. Mirrors
 * `SSL_SESSION_set_timeout` on a cached session.
 *
 * @param cache The cache.
 * @param change The key (`id`, `version`) and the new `timeout`.
 * @returns The new cache and the updated session.
 *
 * @example
 * ```ts
 * import { add, createCacheState, setTimeout } from "./cache_state.ts";
 * const id = new Uint8Array([1]);
 * const cache = add(createCacheState(), { id, time: 100, timeout: 10 }).cache;
 * if (setTimeout(cache, { id, timeout: 60 }).session?.timeout !== 60) throw new Error("unexpected");
 * ```
 */
export function setTimeout(
  cache: CacheState,
  change: SessionKey & { readonly timeout: number },
): UpdateResult {
  return update(cache, change, { timeout: change.timeout });
}

/**
 * The cached sessions in `flush(0)` order: soonest expiry first, ties in
 * the order they were (re)inserted. This is OpenSSL's list from tail to head.
 *
 * @param cache The cache.
 * @returns An iterator over the sessions.
 *
 * @example
 * ```ts
 * import { add, createCacheState, sessions } from "./cache_state.ts";
 * let cache = createCacheState();
 * cache = add(cache, { id: new Uint8Array([1]), time: 0, timeout: 20 }).cache;
 * cache = add(cache, { id: new Uint8Array([2]), time: 0, timeout: 10 }).cache;
 * const ids = [...sessions(cache)].map((s) => s.id[0]);
 * if (ids.join() !== "2,1") throw new Error("unexpected");
 * ```
 */
export function* sessions(cache: CacheState): Generator<Session, void, undefined> {
  for (const e of orderEntries(asState(cache).order)) yield e.session;
}

/** A server's resumption request: the id the client offered, and the server's context. */
export interface LookupRequest {
  /** The session id the client offered. */
  readonly id: Uint8Array;
  /** The negotiated protocol version; absent means 0. */
  readonly version?: number;
  /** The server's session id context; absent means empty. */
  readonly sidCtx?: Uint8Array;
  /** The current time in seconds. */
  readonly now: number;
}

/**
 * How a lookup ended: `"hit"` (resume), `"miss"` (nothing found),
 * `"expired"` (found but timed out: removed), `"mismatch"` (found under
 * another version or session id context: a silent miss).
 */
export type LookupOutcome = "hit" | "miss" | "expired" | "mismatch";

/** What {@linkcode lookup} and {@linkcode resumeExternal} did. */
export interface LookupResult {
  /** The cache after the lookup. */
  readonly cache: CacheState;
  /** How the lookup ended. */
  readonly outcome: LookupOutcome;
  /** The session to resume, set only on `"hit"`. */
  readonly session: Session | undefined;
  /** Sessions for the remove callback, in order (evictions, then an expired session). */
  readonly removed: readonly Session[];
  /** True when the internal table had nothing: the shell should ask the external cache. */
  readonly consultExternal: boolean;
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  const la = a?.length ?? 0;
  if (la !== (b?.length ?? 0)) return false;
  for (let i = 0; i < la; i++) if (a![i] !== b![i]) return false;
  return true;
}

/** Steps 3 to 5 of the lookup (spec §6) on a session already retrieved. */
function vet(
  d: Draft,
  session: Session,
  request: LookupRequest,
  removed: Session[],
): { outcome: LookupOutcome; session: Session | undefined } {
  if ((session.version ?? 0) !== (request.version ?? 0)) {
    return { outcome: "mismatch", session: undefined };
  }
  if (!sameBytes(session.sidCtx, request.sidCtx)) {
    return { outcome: "mismatch", session: undefined };
  }
  if (request.now > expiryOf(session)) {
    d.stats.timeouts += 1;
    const existing = getEntry(d, keyOf(session.id, session.version));
    if (existing !== undefined) unlink(d, existing);
    removed.push(session);
    return { outcome: "expired", session: undefined };
  }
  d.stats.hits += 1;
  return { outcome: "hit", session };
}

/**
 * The internal part of a server's resumption lookup (OpenSSL's
 * `lookup_sess_in_cache` and `ssl_get_prev_session`):
 * 1. unless `NO_INTERNAL_LOOKUP`, look the id up; on a miss, `misses + 1`;
 * 2. nothing found: `consultExternal` is true (the shell then calls the
 *    external cache and {@linkcode resumeExternal});
 * 3. another version or session id context: a silent miss;
 * 4. `now > expiry`: `timeouts + 1` and the session is removed (remove callback);
 * 5. else `hits + 1`: resume.
 *
 * @param cache The cache.
 * @param request The offered id, the server's version and context, and now.
 * @returns The new cache and the outcome.
 *
 * @example A hit, then a timeout
 * ```ts
 * import { add, createCacheState, lookup } from "./cache_state.ts";
 * const id = new Uint8Array([1]);
 * const cache = add(createCacheState(), { id, time: 100, timeout: 10 }).cache;
 * if (lookup(cache, { id, now: 105 }).outcome !== "hit") throw new Error("no hit");
 * if (lookup(cache, { id, now: 111 }).cache.stats.timeouts !== 1) throw new Error("no timeout");
 * ```
 */
export function lookup(cache: CacheState, request: LookupRequest): LookupResult {
  const s = asState(cache);
  if ((s.mode & SESS_CACHE_NO_INTERNAL_LOOKUP) !== 0) {
    return { cache: s, outcome: "miss", session: undefined, removed: [], consultExternal: true };
  }
  const d = draftOf(s);
  const found = getEntry(s, keyOf(request.id, request.version));
  if (found === undefined) {
    d.stats.misses += 1;
    return {
      cache: commit(d),
      outcome: "miss",
      session: undefined,
      removed: [],
      consultExternal: true,
    };
  }
  const removed: Session[] = [];
  const r = vet(d, found.session, request, removed);
  const next = r.outcome === "mismatch" ? s : commit(d);
  return { cache: next, ...r, removed, consultExternal: false };
}

/**
 * Takes a session the external cache (OpenSSL's `get_session_cb`) returned
 * after an internal miss: `cbHits + 1`, stored with full add semantics
 * (eviction, `UPDATE_TIME`) unless `NO_INTERNAL_STORE`, then vetted like an
 * internal hit (version, context, expiry). So an external hit counts both a
 * miss and a cb-hit, as in OpenSSL.
 *
 * @param cache The cache.
 * @param session The session the external cache returned.
 * @param request The lookup request it answers.
 * @returns The new cache and the outcome.
 *
 * @example An external hit is stored
 * ```ts
 * import { createCacheState, lookup, resumeExternal } from "./cache_state.ts";
 * const id = new Uint8Array([1]);
 * const missed = lookup(createCacheState(), { id, now: 100 });
 * const r = resumeExternal(missed.cache, { id, time: 100, timeout: 10 }, { id, now: 100 });
 * if (r.outcome !== "hit" || r.cache.size !== 1 || r.cache.stats.cbHits !== 1) {
 *   throw new Error("unexpected");
 * }
 * ```
 */
export function resumeExternal(
  cache: CacheState,
  session: Session,
  request: LookupRequest,
): LookupResult {
  const d = draftOf(asState(cache));
  d.stats.cbHits += 1;
  const removed: Session[] = [];
  let current = session;
  if ((d.mode & SESS_CACHE_NO_INTERNAL_STORE) === 0) {
    const r = addTo(d, session, request.now);
    removed.push(...r.removed);
    current = r.session;
  }
  const r = vet(d, current, request, removed);
  return { cache: commit(d), ...r, removed, consultExternal: false };
}

/** Which end of a handshake the cache serves. */
export type Side = "client" | "server";

/** A handshake that began. */
export interface HandshakeStart {
  /** Client or server. */
  readonly side: Side;
  /** True for a renegotiation (counted only as `*Renegotiate`). */
  readonly renegotiate?: boolean;
}

/**
 * Counts a handshake that began: `accept` or `connect`, or for a
 * renegotiation `acceptRenegotiate` or `connectRenegotiate`.
 *
 * @param cache The cache.
 * @param handshake The side and whether it renegotiates.
 * @returns The new cache.
 *
 * @example
 * ```ts
 * import { createCacheState, handshakeStarted } from "./cache_state.ts";
 * const cache = handshakeStarted(createCacheState(), { side: "server" });
 * if (cache.stats.accept !== 1) throw new Error("unexpected");
 * ```
 */
export function handshakeStarted(cache: CacheState, handshake: HandshakeStart): CacheState {
  const d = draftOf(asState(cache));
  const server = handshake.side === "server";
  if (handshake.renegotiate === true) {
    if (server) d.stats.acceptRenegotiate += 1;
    else d.stats.connectRenegotiate += 1;
  } else if (server) d.stats.accept += 1;
  else d.stats.connect += 1;
  return commit(d);
}

/** A handshake that completed. */
export interface HandshakeDone {
  /** Client or server. */
  readonly side: Side;
  /** The session it made or resumed; absent (or not resumable) skips the cache update. */
  readonly session?: Session;
  /** Whether it resumed a session. */
  readonly resumed: boolean;
  /** Whether it was TLS 1.3 (which updates the cache elsewhere in OpenSSL). */
  readonly tls13?: boolean;
  /** The current time in seconds (for `UPDATE_TIME` and the auto-flush). */
  readonly now: number;
}

/** What {@linkcode handshakeCompleted} did. */
export interface HandshakeResult {
  /** The cache after the handshake. */
  readonly cache: CacheState;
  /** Sessions for the remove callback that come before the new-session callback (evictions). */
  readonly removed: readonly Session[];
  /** The session for the new-session callback (`new_session_cb`), if any. */
  readonly newSession: Session | undefined;
  /** Sessions removed by the auto-flush, after the new-session callback. */
  readonly flushed: readonly Session[];
}

/**
 * Records a completed handshake. Mirrors OpenSSL's `tls_finish_handshake`
 * and `ssl_update_cache`:
 * - when the mode has the side's bit and the handshake did not resume, the
 *   session is added (unless `NO_INTERNAL_STORE`) and handed to the
 *   new-session callback;
 * - unless `NO_AUTO_CLEAR`, when the side's good counter read **before** this
 *   handshake counts satisfies `(good & 0xff) === 0xff`, the cache is flushed
 *   at `now`: during the 256th, 512th, ... completed handshake;
 * - then `acceptGood` (server) or `connectGood` (client, plus `hits` when it
 *   resumed) grows by one.
 * A TLS 1.3 client handshake removes its session from a client cache
 * instead (tickets are used once); a TLS 1.3 server handshake stores its
 * session even when it resumed, since it issues a new ticket (OpenSSL does
 * this in `tls_construct_new_session_ticket`).
 *
 * @param cache The cache.
 * @param handshake What completed.
 * @returns The new cache and the callbacks to run.
 *
 * @example The first full handshake stores its session
 * ```ts
 * import { createCacheState, handshakeCompleted } from "./cache_state.ts";
 * const session = { id: new Uint8Array([1]), time: 100, timeout: 300 };
 * const r = handshakeCompleted(createCacheState(), {
 *   side: "server", session, resumed: false, now: 100,
 * });
 * if (r.newSession !== session || r.cache.stats.acceptGood !== 1) throw new Error("unexpected");
 * ```
 */
export function handshakeCompleted(cache: CacheState, handshake: HandshakeDone): HandshakeResult {
  const d = draftOf(asState(cache));
  const server = handshake.side === "server";
  const bit = server ? SESS_CACHE_SERVER : SESS_CACHE_CLIENT;
  const { session, now } = handshake;
  let removed: Session[] = [];
  let newSession: Session | undefined;
  let flushed: Session[] = [];
  const resumable = session !== undefined && session.id.length > 0;
  if (!server && handshake.tls13 === true) {
    if (resumable && (d.mode & SESS_CACHE_CLIENT) !== 0) {
      const existing = getEntry(d, keyOf(session.id, session.version));
      if (existing !== undefined) unlink(d, existing);
      removed.push(session);
    }
  } else if (resumable) {
    // A TLS 1.3 server stores every handshake's session, resumed or not (it
    // sends new tickets); OpenSSL does that while building the ticket, before
    // counting the handshake good, which is the order followed here.
    if ((d.mode & bit) !== 0 && (!handshake.resumed || handshake.tls13 === true)) {
      newSession = session;
      if ((d.mode & SESS_CACHE_NO_INTERNAL_STORE) === 0) {
        const r = addTo(d, session, now);
        removed = r.removed;
        newSession = r.session;
      }
    }
    const good = server ? d.stats.acceptGood : d.stats.connectGood;
    if (
      (d.mode & SESS_CACHE_NO_AUTO_CLEAR) === 0 && (d.mode & bit) !== 0 && (good & 0xff) === 0xff
    ) {
      flushed = flushDraft(d, now);
    }
  }
  if (server) d.stats.acceptGood += 1;
  else {
    if (handshake.resumed) d.stats.hits += 1;
    d.stats.connectGood += 1;
  }
  return { cache: commit(d), removed, newSession, flushed };
}
