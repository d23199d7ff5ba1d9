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
 *    and the first error is rethrown when all have run.
 *
 * @module
 */

import * as core from "../core/cache_state.ts";
import { lookup as coreLookup, resumeExternal, type SessionLookup } from "../core/lookup.ts";
import {
  type CompletedHandshake,
  handshakeCompleted as coreHandshakeCompleted,
  handshakeStarted as coreHandshakeStarted,
  type Side,
} from "../core/handshake.ts";
import type { CacheState, CacheStats } from "../core/cache_state.ts";
import type { LookupResult } from "../core/lookup.ts";
import { SESS_CACHE_UPDATE_TIME } from "../modes.ts";
import {
  MAX_SESSION_ID_LENGTH,
  type Removal,
  type RemovalReason,
  type Session,
} from "../session.ts";
import { originOf } from "../core/_entry.ts";
import {
  checkCacheSize,
  checkId,
  checkMode,
  checkSeconds,
  checkSession,
  checkSidCtx,
  checkVersion,
  show,
} from "../_validate.ts";

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
  /** Receives errors the cache swallows: a throwing or rejecting `getSession`, or a bad session it returned. */
  readonly onError?: (error: unknown) => void;
}

/** Seconds since the epoch, to the millisecond: OpenSSL 3.3's `ossl_time_now()`, as near as `Date.now()` gets. */
function defaultNow(): number {
  return Date.now() / 1000;
}

/**
 * OpenSSL's internal TLS session cache, with its size limit, timeouts, modes,
 * callbacks and statistics, as a mutable object.
 *
 * Deliberate differences from OpenSSL, where its behaviour is a hazard:
 * empty ids, ids over 32 bytes, and negative, NaN or infinite times or
 * timeouts are refused with a `TypeError` or `RangeError` and change nothing;
 * an expiry beyond `Number.MAX_SAFE_INTEGER` never expires. Sessions are
 * values: `setTime`, `setTimeout` and `UPDATE_TIME` store an updated copy
 * (which still counts as the same session) and never change your object.
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
  #state: CacheState;
  readonly #now: () => number;
  readonly #onNew: SessionCacheOptions["onNewSession"];
  readonly #onRemove: SessionCacheOptions["onRemoveSession"];
  readonly #getSession: SessionCacheOptions["getSession"];
  readonly #onError: ((error: unknown) => void) | undefined;
  /** Sessions (by origin) that OpenSSL would have marked `not_resumable`. */
  readonly #notResumable = new WeakSet<object>();
  /** Removal callbacks so far, by reason. */
  readonly #removals: { -readonly [K in RemovalReason]: number } = {
    expired: 0,
    evicted: 0,
    removed: 0,
    cleared: 0,
  };

  /**
   * Creates an empty cache.
   *
   * @param options Settings, clock and callbacks.
   * @throws {TypeError | RangeError} If a setting is invalid.
   */
  constructor(options: SessionCacheOptions = {}) {
    const action = "create session cache";
    if (options.cacheSize !== undefined) checkCacheSize(action, options.cacheSize);
    if (options.mode !== undefined) checkMode(action, options.mode);
    if (options.timeout !== undefined) checkSeconds(action, "timeout", options.timeout);
    for (
      const name of ["now", "onNewSession", "onRemoveSession", "getSession", "onError"] as const
    ) {
      const f = options[name];
      if (f !== undefined && typeof f !== "function") {
        throw new TypeError(`Cannot ${action}: ${name} must be a function: received ${typeof f}`);
      }
    }
    const { cacheSize, mode, timeout } = options;
    this.#state = core.createCacheState({
      ...(cacheSize !== undefined && { cacheSize }),
      ...(mode !== undefined && { mode }),
      ...(timeout !== undefined && { timeout }),
    });
    this.#now = options.now ?? defaultNow;
    this.#onNew = options.onNewSession;
    this.#onRemove = options.onRemoveSession;
    this.#getSession = options.getSession;
    this.#onError = options.onError;
  }

  /** The current immutable state, for use with the pure functions of the core. */
  get state(): CacheState {
    return this.#state;
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
    this.#state = core.configure(this.#state, { cacheSize: size });
  }

  /** The `SESS_CACHE_*` mode bits (`SSL_CTX_set_session_cache_mode`). */
  get mode(): number {
    return this.#state.mode;
  }

  set mode(mode: number) {
    checkMode("set mode", mode);
    this.#state = core.configure(this.#state, { mode });
  }

  /** Default lifetime in seconds for sessions adapters create (`SSL_CTX_set_timeout`). */
  get timeout(): number {
    return this.#state.timeout;
  }

  set timeout(timeout: number) {
    checkSeconds("set timeout", "timeout", timeout);
    this.#state = core.configure(this.#state, { timeout });
  }

  /** The clock, in seconds. */
  now(): number {
    const t = this.#now();
    checkSeconds("read clock", "now()", t);
    return t;
  }

  /**
   * Runs callbacks in order; every one runs; the first error is rethrown at
   * the end. Returns what `onNewSession` returned when that is a Promise.
   */
  #notify(
    removed: readonly Removal[],
    newSession?: Session,
    flushed: readonly Removal[] = [],
  ): Promise<void> | undefined {
    if (removed.length === 0 && newSession === undefined && flushed.length === 0) return undefined;
    // OpenSSL marks every session it removes, evicts or flushes not resumable
    // before calling the remove callback (`not_resumable = 1`).
    for (const r of removed) {
      this.#notResumable.add(originOf(r.session));
      this.#removals[r.reason]++;
    }
    for (const r of flushed) {
      this.#notResumable.add(originOf(r.session));
      this.#removals[r.reason]++;
    }
    let failed = false;
    let first: unknown;
    const guard = (f: () => unknown): unknown => {
      try {
        return f();
      } catch (e) {
        if (!failed) first = e;
        failed = true;
        return undefined;
      }
    };
    const onRemove = this.#onRemove;
    if (onRemove !== undefined) {
      for (const r of removed) guard(() => onRemove(r.session, this, r.reason));
    }
    let pending: Promise<void> | undefined;
    const onNew = this.#onNew;
    if (newSession !== undefined && onNew !== undefined) {
      const r = guard(() => onNew(newSession, this));
      if (r instanceof Promise) {
        // Never an unhandled rejection, whether or not the caller awaits it.
        r.catch(() => {});
        pending = r.then(() => {});
      }
    }
    if (onRemove !== undefined) {
      for (const r of flushed) guard(() => onRemove(r.session, this, r.reason));
    }
    if (failed) throw first;
    return pending;
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
    checkSession("add session", session);
    const now = (this.#state.mode & SESS_CACHE_UPDATE_TIME) !== 0 ? this.now() : undefined;
    const r = core.add(this.#state, session, now === undefined ? {} : { now });
    this.#state = r.cache;
    this.#notify(r.removed);
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
    checkSession("remove session", session);
    const r = core.remove(this.#state, session);
    this.#state = r.cache;
    this.#notify(r.removed);
    return r.found;
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
    const r = core.flush(this.#state, t);
    this.#state = r.cache;
    this.#notify(r.removed);
    return r.removed.map((removal) => removal.session);
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
    if (!(id instanceof Uint8Array)) checkId("get session", id);
    checkVersion("get session", options.version);
    if (id.length === 0 || id.length > MAX_SESSION_ID_LENGTH) return undefined;
    return core.get(this.#state, { id, version: options.version ?? 0 });
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
    checkId("set session time", id);
    checkSeconds("set session time", "time", time);
    checkVersion("set session time", options.version);
    const r = core.setSessionTime(this.#state, { id, version: options.version ?? 0 }, { time });
    this.#state = r.cache;
    return r.session !== undefined;
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
    checkId("set session timeout", id);
    checkSeconds("set session timeout", "timeout", timeout);
    checkVersion("set session timeout", options.version);
    const r = core.setSessionTimeout(this.#state, { id, version: options.version ?? 0 }, {
      timeout,
    });
    this.#state = r.cache;
    return r.session !== undefined;
  }

  /**
   * The sessions in `flush(0)` order: soonest expiry first, ties in
   * (re)insertion order. Iterates the state as it was when iteration began.
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
    return core.sessions(this.#state);
  }

  #checkLookup(request: SessionLookup): void {
    if (typeof request !== "object" || request === null) {
      throw new TypeError(
        `Cannot look up session: request must be an object: received ${typeof request}`,
      );
    }
    checkId("look up session", request.id);
    checkVersion("look up session", request.version);
    checkSidCtx("look up session", request.sidCtx);
  }

  #apply(r: LookupResult): Session | undefined {
    this.#state = r.cache;
    this.#notify(r.removed);
    return r.session;
  }

  #external(request: SessionLookup): SessionLookup {
    const { id, version = 0, sidCtx } = request;
    return sidCtx === undefined ? { id, version } : { id, version, sidCtx };
  }

  /** Takes what the external cache returned; a bad value is reported and treated as a miss. */
  #resume(request: SessionLookup, found: Session | undefined): Session | undefined {
    if (found === undefined || found === null) return undefined;
    try {
      checkSession("resume external session", found);
    } catch (e) {
      this.#onError?.(e);
      return undefined;
    }
    // OpenSSL ignores a session from the external cache that is marked not
    // resumable: no cb-hit, nothing stored, a plain miss.
    if (!this.isResumable(found)) return undefined;
    return this.#apply(resumeExternal(this.#state, found, { request, now: this.now() }));
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
   * @param request The offered id, the version and the server's context.
   * @param options `signal`: cancels the wait for the external cache.
   * @returns The session to resume, or `undefined`.
   * @throws {TypeError | RangeError} If the request is invalid (the Promise rejects).
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
    this.#checkLookup(request);
    const r = coreLookup(this.#state, request, { now: this.now() });
    const hit = this.#apply(r);
    if (!r.consultExternal || this.#getSession === undefined) return hit;
    let found: Session | undefined;
    try {
      found = await this.#getSession(this.#external(request));
    } catch (e) {
      this.#onError?.(e);
      return undefined;
    }
    if (options.signal?.aborted === true) return undefined;
    return this.#resume(request, found);
  }

  /**
   * {@linkcode SessionCache.lookup} for a synchronous external cache.
   *
   * @param request The offered id, the version and the server's context.
   * @returns The session to resume, or `undefined`.
   * @throws {TypeError} If `getSession` returns a Promise (use `lookup`), or the request is invalid.
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
    this.#checkLookup(request);
    const r = coreLookup(this.#state, request, { now: this.now() });
    if (!r.consultExternal || this.#getSession === undefined) return this.#apply(r);
    // Ask the external cache before committing the miss, so that a refused
    // (asynchronous) answer leaves the cache exactly as it was.
    let found: Session | undefined | Promise<Session | undefined>;
    try {
      found = this.#getSession(this.#external(request));
    } catch (e) {
      this.#apply(r);
      this.#onError?.(e);
      return undefined;
    }
    if (found instanceof Promise) {
      found.catch(() => {});
      throw new TypeError(
        "Cannot look up session synchronously: getSession must not return a Promise: received a Promise",
      );
    }
    this.#apply(r);
    return this.#resume(request, found);
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
    return session.id.length > 0 && !this.#notResumable.has(originOf(session));
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
    if (side !== "server" && side !== "client") {
      throw new TypeError(
        `Cannot count handshake: side must be "server" or "client": received ${show(side)}`,
      );
    }
    this.#state = coreHandshakeStarted(this.#state, side, {
      renegotiate: options.renegotiate === true,
    });
  }

  /**
   * Records a completed handshake (OpenSSL's `ssl_update_cache`): a new
   * session is stored and handed to `onNewSession` when the mode has the
   * side's bit; every 256th completed handshake flushes expired sessions
   * unless `NO_AUTO_CLEAR`; the good counters grow.
   *
   * @param handshake The side, the session, and whether it resumed.
   * @returns The Promise `onNewSession` returned, if it returned one (already
   *   guarded against unhandled rejection), else `undefined`.
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
    const { side, session } = handshake;
    if (side !== "server" && side !== "client") {
      throw new TypeError(
        `Cannot complete handshake: side must be "server" or "client": received ${show(side)}`,
      );
    }
    if (session !== undefined) checkSession("complete handshake", session);
    // A session that is not resumable skips the cache update (and the
    // auto-flush) entirely, as in OpenSSL's ssl_update_cache.
    const { session: _, ...rest } = handshake;
    const done = session !== undefined && this.isResumable(session) ? handshake : rest;
    const r = coreHandshakeCompleted(this.#state, done, { now: this.now() });
    this.#state = r.cache;
    return this.#notify(r.removed, r.newSession, r.flushed);
  }
}
