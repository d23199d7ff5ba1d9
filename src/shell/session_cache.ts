// This module is browser compatible.

/**
 * The imperative shell: a mutable session cache that holds the current
 * {@linkcode CacheState}, reads the clock, applies the core's results and
 * runs the callbacks.
 *
 * Callback policy (as `disposeAfter` in node-lru-cache, and as OpenSSL
 * master, which moved its callbacks out of the cache lock):
 * 1. The new state is committed before any callback runs, so a callback sees
 *    the cache as it is after the operation.
 * 2. Callbacks run in the order the core reports (removal order).
 * 3. A callback may call back into the cache (re-entrancy); its changes are
 *    applied at once and its own callbacks run inside it.
 * 4. If callbacks throw, the rest still run, the cache stays as committed,
 *    and the first error is rethrown when all have run. A callback that
 *    returns a rejected Promise is reported to `onError`, never left unhandled.
 * 5. The clock (`now`) and `getSession` may call back into the cache too:
 *    the cache reads the clock before it computes anything, and asks the
 *    external cache only after it committed the internal lookup, so no change
 *    made meanwhile is ever undone.
 *
 * Inputs are read exactly once, into plain values, and checked before
 * anything changes (the same readers as the pure core's, so no call is
 * checked twice). The shell owns its store: as long as its value is not
 * handed out (`state`), operations change the store in place.
 *
 * @module
 */

import { RemovedMarks } from "./_marks.ts";
import type { CacheState, CacheStats } from "../core/cache_state.ts";
import type { SessionLookup } from "../core/lookup.ts";
import type { CompletedHandshake, Side } from "../core/handshake.ts";
import { advance, branchOf, escape, History, moveTo, sessionsOf, State } from "../core/_history.ts";
import {
  CACHE_SIZE,
  keyString,
  type Looked,
  MODE,
  newStore,
  REMOVED_KEYS,
  type Store,
  TIMEOUT,
} from "../core/_store.ts";
import {
  type LookupInput,
  originOf,
  readFlag,
  readHandshake,
  readKey,
  readLookup,
  readSession,
  readSettings,
  readSide,
  type SessionInput,
} from "../core/_input.ts";
import { SESS_CACHE_UPDATE_TIME } from "../modes.ts";
import type { Removal, RemovalReason, Session } from "../session.ts";
import {
  byteLength,
  checkCacheSize,
  checkFunction,
  checkId,
  checkMode,
  checkOptions,
  checkSeconds,
  isUint8Array,
  show,
} from "../_validate.ts";
import { sameBytes } from "../_bytes.ts";
import { CURRENT_STATE } from "./_internals.ts";

/**
 * How many sessions left a {@linkcode SessionCache}, by reason, since it was
 * created. OpenSSL counts only evictions (`cache_full`) and expired sessions
 * met on lookup (`timeouts`); these count every removal callback.
 */
export interface RemovalCounts {
  /** Removed by a flush past their expiry (including the automatic flush). */
  readonly expired: number;
  /** Evicted because the cache was full (equals `stats.cacheFull`). */
  readonly evicted: number;
  /** Removed by `remove()`, by a lookup that found them expired, or by a TLS 1.3 client. */
  readonly removed: number;
  /** Removed by `flush(0)`. */
  readonly cleared: number;
}

/** Options of {@linkcode SessionCache}. */
export interface SessionCacheOptions {
  /** Most sessions kept; 0 means unlimited. Default 20480 (OpenSSL's). Size N holds N - 1. */
  readonly cacheSize?: number;
  /** The `SESS_CACHE_*` mode bits. Default `SESS_CACHE_SERVER`. */
  readonly mode?: number;
  /** Default lifetime in seconds for sessions adapters create. Default 7200 (OpenSSL's code). */
  readonly timeout?: number;
  /**
   * The clock, in seconds since the epoch. Default `Date.now() / 1000`, a
   * sub-second clock like OpenSSL 3.3's `ossl_time_now()`, which stamps new
   * sessions (in the adapters) and checks expiry on lookup; the automatic
   * flush and `flush()` without an argument use whole seconds,
   * `Math.floor(now())`, as 3.3 passes `time(NULL)` there.
   */
  readonly now?: () => number;
  /**
   * Called with each session stored by a handshake (OpenSSL's `new_session_cb`).
   * It may return a Promise (say, an external store's write), which
   * {@linkcode SessionCache.handshakeCompleted} then returns for the caller to await.
   */
  readonly onNewSession?: (session: Session, cache: SessionCache) => unknown;
  /**
   * Called with each session removed, evicted, flushed or expired (OpenSSL's
   * `remove_session_cb`), and why (a third argument OpenSSL does not give;
   * callbacks that take two arguments work unchanged).
   */
  readonly onRemoveSession?: (
    session: Session,
    cache: SessionCache,
    reason: RemovalReason,
  ) => void;
  /**
   * The external cache, asked on an internal miss (OpenSSL's `get_session_cb`).
   * May return a Promise; use {@linkcode SessionCache.lookup} then.
   */
  readonly getSession?: (
    request: SessionLookup,
  ) => Session | undefined | Promise<Session | undefined>;
  /**
   * Receives errors the cache swallows: a throwing or rejecting `getSession`,
   * a bad session it returned (or one for another id), a callback's rejected
   * Promise. Never called for errors the cache throws. An `onError` that
   * throws is ignored.
   */
  readonly onError?: (error: unknown) => void;
  /**
   * Most expired sessions one completed handshake removes: its automatic
   * flush stops there, and the following handshakes remove the rest, up to
   * as many each (a handshake that goes on with an unfinished flush and is
   * also due for the next one still removes at most that many; the later
   * flush time is kept). Default 0: no limit, as in OpenSSL. A deliberate deviation when set, to bound the pause a flush
   * causes: the sessions OpenSSL's flush (every 255 handshakes) would remove
   * at once leave over several handshakes instead, with their remove
   * callbacks then; until they have, `stats.number` is higher, an add may
   * evict one of them (`cacheFull` + 1, reason `"evicted"` instead of
   * `"expired"`), and a lookup may meet one (`timeouts` + 1 and reason
   * `"removed"`, where OpenSSL counts a miss and asks the external cache).
   */
  readonly flushBudget?: number;
}

/** Seconds since the epoch, to the millisecond: OpenSSL 3.3's `ossl_time_now()`, as near as `Date.now()` gets. */
function defaultNow(): number {
  return Date.now() / 1000;
}

/** No removals. */
const NONE: readonly Removal[] = Object.freeze([]);

/** Whether a value is a Promise or another thenable (read once). */
function thenable(value: unknown): value is PromiseLike<unknown> {
  if (value instanceof Promise) return true;
  if ((typeof value !== "object" && typeof value !== "function") || value === null) return false;
  try {
    return typeof (value as { then?: unknown }).then === "function";
  } catch {
    return false;
  }
}

/**
 * OpenSSL's internal TLS session cache, with its size limit, timeouts, modes,
 * callbacks and statistics, as a mutable object.
 *
 * Deliberate differences from OpenSSL, where its behaviour is a hazard:
 * empty ids, ids over 32 bytes, and negative, NaN or infinite times, and
 * times or timeouts above `MAX_TIME` (where OpenSSL 3.3 wraps around) are
 * refused with a `TypeError` or `RangeError` and change nothing; a session
 * the external cache returns for another id is a miss. Sessions are values:
 * `setTime`, `setTimeout` and `UPDATE_TIME` store an updated copy (which
 * still counts as the same session) and never change your object.
 *
 * @example A cache of size 3 keeps 2 sessions, as OpenSSL's does
 * ```ts
 * import assert from "node:assert/strict";
 * import { SessionCache } from "@sesscache/openssl-session-cache";
 *
 * const removed: string[] = [];
 * const cache = new SessionCache({
 *   cacheSize: 3,
 *   onRemoveSession: (s, _cache, reason) => removed.push(`${s.id[0]} ${reason}`),
 * });
 * cache.add({ id: new Uint8Array([1]), time: 100, timeout: 10 });
 * cache.add({ id: new Uint8Array([2]), time: 101, timeout: 10 });
 * cache.add({ id: new Uint8Array([3]), time: 102, timeout: 5 });
 * cache.add({ id: new Uint8Array([4]), time: 103, timeout: 10 });
 * assert.equal(cache.size, 2);
 * assert.deepEqual(removed, ["1 evicted", "3 evicted"]);
 * assert.deepEqual(cache.flush(111), []); // session 2 expires at exactly 111: it stays
 * ```
 */
export class SessionCache implements Iterable<Session> {
  #state: State;
  readonly #now: () => number;
  readonly #onNew: SessionCacheOptions["onNewSession"];
  readonly #onRemove: SessionCacheOptions["onRemoveSession"];
  readonly #getSession: SessionCacheOptions["getSession"];
  readonly #onError: ((error: unknown) => void) | undefined;
  /** Sessions (by origin) that OpenSSL would have marked `not_resumable`. */
  readonly #notResumable = new RemovedMarks();
  /** Removal callbacks so far, by reason. */
  readonly #removals: { -readonly [K in RemovalReason]: number } = {
    expired: 0,
    evicted: 0,
    removed: 0,
    cleared: 0,
  };
  /** Where store operations put their removals (taken out before any callback runs). */
  readonly #out: Removal[] = [];
  readonly #outAfter: Removal[] = [];
  /** Keys the external cache is being asked for (lookups awaiting `getSession`), and how many. */
  readonly #waiting = new Map<string, number>();
  /** For waited-on keys: the number of the latest explicit removal of that key. */
  readonly #removedWhileWaiting = new Map<string, number>();
  #removalNumber = 0;

  /**
   * Creates an empty cache.
   *
   * @param options Settings, clock and callbacks.
   * @throws {TypeError | RangeError} If an option is invalid.
   */
  constructor(options: SessionCacheOptions = {}) {
    const action = "create session cache";
    // Each option is read once, then checked.
    const {
      cacheSize,
      mode,
      timeout,
      now,
      onNewSession,
      onRemoveSession,
      getSession,
      onError,
      flushBudget,
    } = checkOptions(action, options) as Record<keyof SessionCacheOptions, unknown>;
    const settings = readSettings(action, { cacheSize, mode, timeout, flushBudget });
    checkFunction(action, "now", now);
    checkFunction(action, "onNewSession", onNewSession);
    checkFunction(action, "onRemoveSession", onRemoveSession);
    checkFunction(action, "getSession", getSession);
    checkFunction(action, "onError", onError);
    const store = newStore(settings);
    this.#state = new History(store, false).latest!;
    this.#now = (now as (() => number) | undefined) ?? defaultNow;
    this.#onNew = onNewSession as SessionCacheOptions["onNewSession"];
    this.#onRemove = onRemoveSession as SessionCacheOptions["onRemoveSession"];
    this.#getSession = getSession as SessionCacheOptions["getSession"];
    this.#onError = onError as ((error: unknown) => void) | undefined;
    CURRENT_STATE.set(this, () => this.#state);
  }

  /**
   * The current immutable value, for the pure functions of `./core`. It stays
   * valid (and unchanged) however the cache goes on; while a handed-out value
   * may be alive, the cache records its changes to keep it so (bounded: see
   * the core's design notes).
   */
  get state(): CacheState {
    return escape(this.#state);
  }

  /** Sessions cached now (`SSL_CTX_sess_number`). */
  get size(): number {
    return this.#state.size;
  }

  /** A snapshot of the counters (`SSL_CTX_sess_*`). */
  get stats(): CacheStats {
    return this.#state.stats;
  }

  /**
   * A snapshot of how many sessions left the cache, by reason (a fresh object
   * each time): what an operator watches next to the counters.
   *
   * @example Evictions and expiries counted apart
   * ```ts
   * import assert from "node:assert/strict";
   * import { SessionCache } from "@sesscache/openssl-session-cache";
   *
   * const cache = new SessionCache({ cacheSize: 2 });
   * cache.add({ id: new Uint8Array([1]), time: 0, timeout: 10 });
   * cache.add({ id: new Uint8Array([2]), time: 0, timeout: 20 }); // size 2 holds 1: evicts 1
   * cache.flush(21);
   * assert.deepEqual(cache.removals, { expired: 1, evicted: 1, removed: 0, cleared: 0 });
   * ```
   */
  get removals(): RemovalCounts {
    return { ...this.#removals };
  }

  /**
   * Most sessions kept; 0 means unlimited. Mirrors `SSL_CTX_sess_set_cache_size`:
   * shrinking evicts nothing until the next add. A cache of size N holds at
   * most N - 1 sessions when N >= 2 (an OpenSSL quirk).
   */
  get cacheSize(): number {
    return this.#state.cacheSize;
  }

  set cacheSize(size: number) {
    checkCacheSize("set cache size", size);
    this.#store().set(CACHE_SIZE, size);
    this.#commit();
  }

  /** The `SESS_CACHE_*` mode bits (`SSL_CTX_set_session_cache_mode`). */
  get mode(): number {
    return this.#state.mode;
  }

  set mode(mode: number) {
    checkMode("set mode", mode);
    this.#store().set(MODE, mode);
    this.#commit();
  }

  /** Default lifetime in seconds for sessions adapters create (`SSL_CTX_set_timeout`). */
  get timeout(): number {
    return this.#state.timeout;
  }

  set timeout(timeout: number) {
    checkSeconds("set timeout", "timeout", timeout);
    this.#store().set(TIMEOUT, timeout);
    this.#commit();
  }

  /** The clock, in seconds. */
  now(): number {
    const t = this.#now();
    checkSeconds("read clock", "now()", t);
    return t;
  }

  /**
   * The store to change for the next operation, at the current value: in
   * place when the cache owns its value alone; recording when the value was
   * handed out (`state`); on a copy of its own when a pure function moved the
   * value's history on. Pair with `#commit()`; nothing in between may call
   * user code.
   */
  #store(): Store {
    let s = this.#state;
    if (s !== State.historyOf(s).latest) this.#state = s = branchOf(s);
    const h = State.historyOf(s);
    moveTo(h, h.head);
    if (h.escaped) h.store.log = h.log;
    return h.store;
  }

  /** Ends the operation `#store()` began: the value after it. */
  #commit(): void {
    const s = this.#state;
    const h = State.historyOf(s);
    if (h.store.log === null) {
      State.refresh(s);
      return;
    }
    h.store.log = null;
    this.#state = advance(h);
  }

  /**
   * The removals the last store operation put in `buffer`, as an array of
   * their own (so that a callback that calls back into the cache, reusing the
   * buffer, cannot disturb them); the shared empty array when there are none.
   */
  #take(buffer: Removal[]): readonly Removal[] {
    return buffer.length === 0 ? NONE : buffer.splice(0);
  }

  /** Reports a swallowed error to `onError` (which must not throw into the cache). */
  #report(error: unknown): void {
    const onError = this.#onError;
    if (onError === undefined) return;
    try {
      onError(error);
    } catch {
      // An error hook that throws is ignored.
    }
  }

  /** Guards a Promise a remove callback returned (nobody awaits it): its rejection goes to `onError`. */
  #guard(value: unknown): Promise<void> | undefined {
    if (!thenable(value)) return undefined;
    return Promise.resolve(value).then(() => {}, (e) => this.#report(e));
  }

  /**
   * Runs callbacks in order; every one runs; the first error is rethrown at
   * the end. Returns the guarded Promise `onNewSession` returned, if any.
   */
  #notify(
    removed: readonly Removal[],
    newSession?: Session,
    flushed: readonly Removal[] = NONE,
  ): Promise<void> | undefined {
    if (removed.length === 0 && newSession === undefined && flushed.length === 0) return undefined;
    // OpenSSL marks every session it removes, evicts or flushes not resumable
    // before calling the remove callback (`not_resumable = 1`).
    for (let i = 0; i < removed.length; i++) this.#noteRemoval(removed[i]!);
    for (let i = 0; i < flushed.length; i++) this.#noteRemoval(flushed[i]!);
    const errors: { first?: unknown } = {};
    this.#callRemove(removed, errors);
    let pending: Promise<void> | undefined;
    const onNew = this.#onNew;
    if (newSession !== undefined && onNew !== undefined) {
      let result: unknown;
      try {
        result = onNew(newSession, this);
      } catch (e) {
        if (!("first" in errors)) errors.first = e;
      }
      if (thenable(result)) {
        // The caller may await it (the server adapter holds the handshake until
        // the store's write is done, and reports a failure); a caller that does
        // not is never left with an unhandled rejection.
        pending = Promise.resolve(result).then(() => {});
        pending.catch(() => {});
      }
    }
    this.#callRemove(flushed, errors);
    if ("first" in errors) throw errors.first;
    return pending;
  }

  /** Calls `onRemoveSession` for each removal, every one; keeps the first error. */
  #callRemove(removals: readonly Removal[], errors: { first?: unknown }): void {
    const onRemove = this.#onRemove;
    if (onRemove === undefined) return;
    for (let i = 0; i < removals.length; i++) {
      const r = removals[i]!;
      try {
        const result = onRemove(r.session, this, r.reason);
        if (result !== undefined) this.#guard(result);
      } catch (e) {
        if (!("first" in errors)) errors.first = e;
      }
    }
  }

  #noteRemoval(r: Removal): void {
    this.#notResumable.mark(originOf(r.session));
    this.#removals[r.reason]++;
    if (this.#waiting.size > 0 && r.reason === "removed") {
      const key = REMOVED_KEYS.get(r);
      if (key !== undefined && this.#waiting.has(key)) {
        this.#removedWhileWaiting.set(key, ++this.#removalNumber);
      }
    }
  }

  /**
   * Adds a session. Mirrors `SSL_CTX_add_session`: `false` when this very
   * session (or the cache's updated copy of it) is already cached, which
   * re-sorts it; a different session with the same id silently replaces the
   * cached one (no remove callback); evictions call `onRemoveSession`.
   *
   * @param session The session.
   * @returns `true` (1) or `false` (0) as OpenSSL.
   * @throws {TypeError | RangeError} If the session is invalid; nothing changes.
   *
   * @example Re-adding the same object returns false
   * ```ts
   * import assert from "node:assert/strict";
   * import { SessionCache } from "@sesscache/openssl-session-cache";
   *
   * const cache = new SessionCache();
   * const s = { id: new Uint8Array([1]), time: 0, timeout: 300 };
   * assert.equal(cache.add(s), true);
   * assert.equal(cache.add(s), false);
   * ```
   */
  add(session: Session): boolean {
    const input = readSession("add session", session);
    const now = (this.#state.mode & SESS_CACHE_UPDATE_TIME) !== 0 ? this.now() : undefined;
    const r = this.#store().add(input, now, this.#out);
    this.#commit();
    this.#notify(this.#take(this.#out));
    return r.added;
  }

  /**
   * Removes the session with this session's id and version. Mirrors
   * `SSL_CTX_remove_session`: `onRemoveSession` receives this very object
   * even when nothing was cached, so an external cache hears of every removal.
   *
   * @param session The session to remove.
   * @returns Whether a session was cached under that key.
   * @throws {TypeError | RangeError} If the session is invalid; nothing changes.
   *
   * @example Removing twice: the callback hears both
   * ```ts
   * import assert from "node:assert/strict";
   * import { SessionCache } from "@sesscache/openssl-session-cache";
   *
   * const seen: unknown[] = [];
   * const cache = new SessionCache({ onRemoveSession: (s) => seen.push(s) });
   * const s = { id: new Uint8Array([1]), time: 0, timeout: 300 };
   * cache.add(s);
   * assert.equal(cache.remove(s), true);
   * assert.equal(cache.remove(s), false);
   * assert.deepEqual(seen, [s, s]);
   * ```
   */
  remove(session: Session): boolean {
    const input = readSession("remove session", session);
    const found = this.#store().remove(input, this.#out);
    this.#commit();
    this.#notify(this.#take(this.#out));
    return found;
  }

  /**
   * Removes expired sessions: those with `tm > time + timeout`, soonest
   * expiry first; `tm === 0` removes all. Mirrors `SSL_CTX_flush_sessions`.
   *
   * @param tm The time in seconds; default `Math.floor(now())` (OpenSSL's
   *   callers pass `time(NULL)`). Note that 0 means "all", also when it comes
   *   from a clock that reads less than 1.
   * @returns The removed sessions, in removal order.
   * @throws {TypeError | RangeError} If `tm` is not a finite number >= 0.
   *
   * @example Strictly after the expiry
   * ```ts
   * import assert from "node:assert/strict";
   * import { SessionCache } from "@sesscache/openssl-session-cache";
   *
   * const cache = new SessionCache();
   * cache.add({ id: new Uint8Array([1]), time: 100, timeout: 10 });
   * assert.equal(cache.flush(110).length, 0);
   * assert.equal(cache.flush(111).length, 1);
   * ```
   */
  flush(tm?: number): Session[] {
    const t = tm === undefined ? Math.floor(this.now()) : tm;
    checkSeconds("flush sessions", "tm", t);
    const store = this.#store();
    if (store.wouldFlush(t)) store.flush(t, this.#out);
    this.#commit();
    const removed = this.#take(this.#out);
    this.#notify(removed);
    return removed.map((removal) => removal.session);
  }

  /**
   * The cached session with this id, or `undefined`. Counts nothing and does
   * not check expiry.
   *
   * @param id The session id.
   * @param options `version`: the protocol version (default 0).
   * @returns The session as cached.
   * @throws {TypeError} If `id` is not a Uint8Array.
   *
   * @example Looking up by id, without counting
   * ```ts
   * import assert from "node:assert/strict";
   * import { SessionCache } from "@sesscache/openssl-session-cache";
   *
   * const cache = new SessionCache();
   * cache.add({ id: new Uint8Array([1]), time: 0, timeout: 300 });
   * assert.equal(cache.get(new Uint8Array([1]))?.timeout, 300);
   * assert.equal(cache.stats.hits, 0);
   * ```
   */
  get(id: Uint8Array, options: { readonly version?: number } = {}): Session | undefined {
    const action = "get session";
    const { version } = checkOptions(action, options);
    const key = readKey(action, { id, version }, false);
    return State.storeOf(this.#state).get(key);
  }

  /**
   * Sets a cached session's time and re-sorts it (even to the same value).
   * Mirrors `SSL_SESSION_set_time` on a cached session.
   *
   * @param id The session id.
   * @param time The new time in seconds.
   * @param options `version`: the protocol version (default 0).
   * @returns `false` when no such session is cached.
   * @throws {TypeError | RangeError} If an argument is invalid; nothing changes.
   *
   * @example Moving a cached session's time
   * ```ts
   * import assert from "node:assert/strict";
   * import { SessionCache } from "@sesscache/openssl-session-cache";
   *
   * const cache = new SessionCache();
   * const id = new Uint8Array([1]);
   * cache.add({ id, time: 0, timeout: 300 });
   * assert.equal(cache.setTime(id, 50), true);
   * assert.equal(cache.get(id)?.time, 50);
   * ```
   */
  setTime(id: Uint8Array, time: number, options: { readonly version?: number } = {}): boolean {
    const action = "set session time";
    checkId(action, id);
    checkSeconds(action, "time", time);
    const key = readKey(action, { id, version: checkOptions(action, options).version });
    const updated = this.#store().update(key, time, undefined);
    this.#commit();
    return updated !== undefined;
  }

  /**
   * Sets a cached session's timeout and re-sorts it (even to the same value).
   * Mirrors `SSL_SESSION_set_timeout` on a cached session.
   *
   * @param id The session id.
   * @param timeout The new timeout in seconds.
   * @param options `version`: the protocol version (default 0).
   * @returns `false` when no such session is cached.
   * @throws {TypeError | RangeError} If an argument is invalid; nothing changes.
   *
   * @example Shortening a cached session's lifetime
   * ```ts
   * import assert from "node:assert/strict";
   * import { SessionCache } from "@sesscache/openssl-session-cache";
   *
   * const cache = new SessionCache();
   * const id = new Uint8Array([1]);
   * cache.add({ id, time: 0, timeout: 300 });
   * assert.equal(cache.setTimeout(id, 60), true);
   * assert.equal(cache.get(id)?.timeout, 60);
   * ```
   */
  setTimeout(
    id: Uint8Array,
    timeout: number,
    options: { readonly version?: number } = {},
  ): boolean {
    const action = "set session timeout";
    checkId(action, id);
    checkSeconds(action, "timeout", timeout);
    const key = readKey(action, { id, version: checkOptions(action, options).version });
    const updated = this.#store().update(key, undefined, timeout);
    this.#commit();
    return updated !== undefined;
  }

  /**
   * The sessions in `flush(0)` order: soonest expiry first, ties in
   * (re)insertion order. Iterates the cache as it was when the iterator was
   * made: a snapshot, O(n), so the cache may change meanwhile.
   *
   * @returns An iterator over the sessions.
   *
   * @example Soonest expiry first
   * ```ts
   * import assert from "node:assert/strict";
   * import { SessionCache } from "@sesscache/openssl-session-cache";
   *
   * const cache = new SessionCache();
   * cache.add({ id: new Uint8Array([1]), time: 0, timeout: 20 });
   * cache.add({ id: new Uint8Array([2]), time: 0, timeout: 10 });
   * assert.deepEqual([...cache].map((s) => s.id[0]), [2, 1]);
   * ```
   */
  [Symbol.iterator](): Iterator<Session> {
    return sessionsOf(this.#state).values();
  }

  #external(request: LookupInput): SessionLookup {
    const { id, version, sidCtx } = request;
    return sidCtx === undefined ? { id, version } : { id, version, sidCtx };
  }

  /**
   * Takes what the external cache returned for `request`: a bad value, or a
   * session for another id, is reported and treated as a miss; a session
   * that is not resumable, or that was removed while the lookup waited
   * (`since`: the removal number when it began), is a plain miss.
   */
  #resume(request: LookupInput, found: unknown, since: number): Session | undefined {
    if (found === undefined || found === null) return undefined;
    const action = "resume external session";
    let input: SessionInput;
    try {
      input = readSession(action, found);
    } catch (e) {
      this.#report(e);
      return undefined;
    }
    if (!sameBytes(input.id, request.id)) {
      this.#report(
        new TypeError(
          `Cannot ${action}: the session's id must be the id looked up: received another id (${
            byteLength(input.id)
          } bytes)`,
        ),
      );
      return undefined;
    }
    // OpenSSL ignores a session from the external cache that is marked not
    // resumable: no cb-hit, nothing stored, a plain miss. A session removed
    // while the lookup waited counts as such, whatever copy the store sends.
    if (this.#notResumable.has(input.origin)) return undefined;
    const removedAt = this.#removedWhileWaiting.get(keyString(request.version, request.id));
    if (removedAt !== undefined && removedAt > since) return undefined;
    const now = this.now();
    const r = this.#store().resumeExternal(input, request, now, this.#out);
    this.#commit();
    this.#notify(this.#take(this.#out));
    return r.session;
  }

  /** The internal part of a lookup, committed, its callbacks run. */
  #lookupInternal(req: LookupInput): Looked {
    const now = this.now();
    const looked = this.#store().lookup(req, now, this.#out);
    this.#commit();
    this.#notify(this.#take(this.#out));
    return looked;
  }

  /**
   * The server's resumption lookup (OpenSSL's `ssl_get_prev_session`): the
   * internal table unless `NO_INTERNAL_LOOKUP` (a miss counts `misses`), then
   * on a miss the external `getSession` (awaited; a hit counts `cbHits` and
   * is stored unless `NO_INTERNAL_STORE`); a session under another version
   * or context is a silent miss; an expired one counts `timeouts` and is
   * removed; else `hits` grows and the session is returned.
   *
   * A `getSession` that throws or rejects is a miss (reported to `onError`).
   * When `signal` aborts before `getSession` answers, the answer is dropped:
   * nothing more is counted or stored, and the result is `undefined` (the
   * handshake went ahead without it).
   *
   * A session the lookup's own removal of it (`remove`, or a lookup that
   * found it expired) removed while `getSession` was pending is not resumed,
   * even when the store answers with a fresh copy of it.
   *
   * @param request The offered id, the version and the server's context.
   * @param options `signal`: cancels the wait for the external cache.
   * @returns The session to resume, or `undefined`.
   * @throws {TypeError | RangeError} If the request or the options are
   *   invalid (the Promise rejects, and nothing changed).
   *
   * @example A miss, then a hit
   * ```ts
   * import assert from "node:assert/strict";
   * import { SessionCache } from "@sesscache/openssl-session-cache";
   *
   * const cache = new SessionCache({ now: () => 100 });
   * const id = new Uint8Array([1]);
   * assert.equal(await cache.lookup({ id }), undefined);
   * cache.add({ id, time: 100, timeout: 300 });
   * assert.equal((await cache.lookup({ id }))?.time, 100);
   * assert.equal(cache.stats.misses, 1);
   * assert.equal(cache.stats.hits, 1);
   * ```
   */
  async lookup(
    request: SessionLookup,
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<Session | undefined> {
    const action = "look up session";
    const { signal } = checkOptions(action, options);
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw new TypeError(
        `Cannot ${action}: signal must be an AbortSignal: received ${show(signal)}`,
      );
    }
    const req = readLookup(action, request);
    const looked = this.#lookupInternal(req);
    const getSession = this.#getSession;
    if (!looked.consultExternal || getSession === undefined) return looked.session;
    const key = keyString(req.version, req.id);
    const since = this.#beginWait(key);
    try {
      let found: unknown;
      try {
        found = await getSession(this.#external(req));
      } catch (e) {
        this.#report(e);
        return undefined;
      }
      if (signal?.aborted === true) return undefined;
      return this.#resume(req, found, since);
    } finally {
      this.#endWait(key);
    }
  }

  #beginWait(key: string): number {
    this.#waiting.set(key, (this.#waiting.get(key) ?? 0) + 1);
    return this.#removalNumber;
  }

  #endWait(key: string): void {
    const n = this.#waiting.get(key)! - 1;
    if (n > 0) {
      this.#waiting.set(key, n);
    } else {
      this.#waiting.delete(key);
      this.#removedWhileWaiting.delete(key);
    }
  }

  /**
   * {@linkcode SessionCache.lookup} for a synchronous external cache.
   *
   * @param request The offered id, the version and the server's context.
   * @returns The session to resume, or `undefined`.
   * @throws {TypeError | RangeError} If the request is invalid, or if
   *   `getSession` returns a Promise (use `lookup`; the miss it counted is
   *   taken back, so the refused call changes nothing of its own).
   *
   * @example An external hit counts a miss and a cb-hit
   * ```ts
   * import assert from "node:assert/strict";
   * import { SessionCache } from "@sesscache/openssl-session-cache";
   *
   * const id = new Uint8Array([9]);
   * const cache = new SessionCache({
   *   now: () => 100,
   *   getSession: () => ({ id, time: 90, timeout: 300 }),
   * });
   * assert.equal(cache.lookupSync({ id })?.time, 90);
   * assert.equal(cache.stats.misses, 1);
   * assert.equal(cache.stats.cbHits, 1);
   * ```
   */
  lookupSync(request: SessionLookup): Session | undefined {
    const action = "look up session synchronously";
    const req = readLookup("look up session", request);
    const looked = this.#lookupInternal(req);
    const getSession = this.#getSession;
    if (!looked.consultExternal || getSession === undefined) return looked.session;
    // The internal miss is committed first: whatever getSession does to the
    // cache (it may call back into it) stays done.
    let found: unknown;
    try {
      found = getSession(this.#external(req));
    } catch (e) {
      this.#report(e);
      return undefined;
    }
    if (thenable(found)) {
      this.#guard(found);
      if (looked.missCounted === true) {
        this.#store().uncountMiss();
        this.#commit();
      }
      throw new TypeError(
        `Cannot ${action}: getSession must not return a Promise: received a Promise`,
      );
    }
    return this.#resume(req, found, this.#removalNumber);
  }

  /**
   * Whether a session can still be resumed (OpenSSL's
   * `SSL_SESSION_is_resumable`, for the cache's part): `false` once this
   * cache has removed, evicted, flushed or expired it, or `remove` was
   * called with it. Copies the cache made of a session share its status.
   * Such a session is ignored when the external cache returns it, and a
   * handshake with it does not update the cache.
   *
   * @param session The session.
   * @returns Whether it is resumable.
   *
   * @example A removed session is no longer resumable
   * ```ts
   * import assert from "node:assert/strict";
   * import { SessionCache } from "@sesscache/openssl-session-cache";
   *
   * const cache = new SessionCache();
   * const s = { id: new Uint8Array([1]), time: 0, timeout: 300 };
   * cache.add(s);
   * assert.equal(cache.isResumable(s), true);
   * cache.remove(s);
   * assert.equal(cache.isResumable(s), false);
   * ```
   */
  isResumable(session: Session): boolean {
    if (typeof session !== "object" || session === null) return false;
    let id: unknown;
    try {
      id = session.id;
    } catch {
      return false;
    }
    return isUint8Array(id) && byteLength(id) > 0 && !this.#notResumable.has(originOf(session));
  }

  /**
   * Counts a handshake that began (`accept`/`connect`, or their
   * renegotiate counters).
   *
   * @param side `"server"` or `"client"`.
   * @param options `renegotiate`: true for a renegotiation.
   * @throws {TypeError} If `side` is neither.
   *
   * @example Counting a client handshake and a renegotiation
   * ```ts
   * import assert from "node:assert/strict";
   * import { SessionCache } from "@sesscache/openssl-session-cache";
   *
   * const cache = new SessionCache();
   * cache.handshakeStarted("client");
   * cache.handshakeStarted("client", { renegotiate: true });
   * assert.equal(cache.stats.connect, 1);
   * assert.equal(cache.stats.connectRenegotiate, 1);
   * ```
   */
  handshakeStarted(side: Side, options: { readonly renegotiate?: boolean } = {}): void {
    const action = "count handshake";
    const server = readSide(action, side);
    const renegotiate = readFlag(action, checkOptions(action, options).renegotiate, "renegotiate");
    this.#store().handshakeStarted(server, renegotiate);
    this.#commit();
  }

  /**
   * Records a completed handshake (OpenSSL's `ssl_update_cache`): a new
   * session is stored and handed to `onNewSession` when the mode has the
   * side's bit; every 256th completed handshake flushes expired sessions
   * unless `NO_AUTO_CLEAR`; the good counters grow.
   *
   * @param handshake The side, the session, and whether it resumed.
   * @returns A Promise that settles as the Promise `onNewSession` returned
   *   settles (it rejects with the same error, yet never goes unhandled,
   *   whether or not you await it), if it returned one; else `undefined`.
   * @throws {TypeError | RangeError} If an argument is invalid; nothing changes.
   *
   * @example A server's first full handshake
   * ```ts
   * import assert from "node:assert/strict";
   * import { SessionCache } from "@sesscache/openssl-session-cache";
   *
   * const stored: unknown[] = [];
   * const cache = new SessionCache({ now: () => 100, onNewSession: (s) => stored.push(s) });
   * const session = { id: new Uint8Array([1]), time: 100, timeout: 300 };
   * cache.handshakeStarted("server");
   * cache.handshakeCompleted({ side: "server", session, resumed: false });
   * assert.deepEqual(stored, [session]);
   * assert.equal(cache.stats.accept, 1);
   * assert.equal(cache.stats.acceptGood, 1);
   * ```
   */
  handshakeCompleted(handshake: CompletedHandshake): Promise<void> | undefined {
    const h = readHandshake("complete handshake", handshake);
    // A session that is not resumable skips the cache update (and the
    // auto-flush) entirely, as in OpenSSL's ssl_update_cache.
    const session = h.session !== undefined && !this.#notResumable.has(h.session.origin)
      ? h.session
      : undefined;
    const now = this.now();
    const store = this.#store();
    const newSession = store.handshakeCompleted(
      h.server,
      session,
      h.resumed,
      h.tls13,
      now,
      this.#out,
      this.#outAfter,
    );
    this.#commit();
    return this.#notify(this.#take(this.#out), newSession, this.#take(this.#outAfter));
  }
}
