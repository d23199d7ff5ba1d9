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

import * as core from "./cache_state.ts";
import type { CacheState, CacheStats, LookupResult, Side } from "./cache_state.ts";
import { SESS_CACHE_UPDATE_TIME } from "./modes.ts";
import type { Session } from "./session.ts";
import { originOf } from "./_entry.ts";
import {
  checkCacheSize,
  checkId,
  checkMode,
  checkSeconds,
  checkSession,
  checkSidCtx,
  checkVersion,
  show,
} from "./_validate.ts";
import { MAX_SESSION_ID_LENGTH } from "./session.ts";

/** What the external cache (`getSession`) is asked for. */
export interface ExternalLookup {
  /** The session id the client offered. */
  readonly id: Uint8Array;
  /** The protocol version (0 when not given). */
  readonly version: number;
  /** The server's session id context, if any. */
  readonly sidCtx: Uint8Array | undefined;
}

/** Options of {@linkcode SessionCache}. */
export interface SessionCacheOptions {
  /** Most sessions kept; 0 means unlimited. Default 20480 (OpenSSL's). Size N holds N - 1. */
  readonly cacheSize?: number;
  /** The `SESS_CACHE_*` mode bits. Default `SESS_CACHE_SERVER`. */
  readonly mode?: number;
  /** Default lifetime in seconds for sessions adapters create. Default 7200 (OpenSSL's code). */
  readonly timeout?: number;
  /** The clock, in seconds. Default `Math.floor(Date.now() / 1000)`, like `time(NULL)`. */
  readonly now?: () => number;
  /**
   * Called with each session stored by a handshake (OpenSSL's `new_session_cb`).
   * It may return a Promise (say, an external store's write), which
   * {@linkcode SessionCache.handshakeCompleted} then returns for the caller to await.
   */
  readonly onNewSession?: (session: Session, cache: SessionCache) => unknown;
  /** Called with each session removed, evicted, flushed or expired (OpenSSL's `remove_session_cb`). */
  readonly onRemoveSession?: (session: Session, cache: SessionCache) => void;
  /**
   * The external cache, asked on an internal miss (OpenSSL's `get_session_cb`).
   * May return a Promise; use {@linkcode SessionCache.lookup} then.
   */
  readonly getSession?: (
    request: ExternalLookup,
  ) => Session | undefined | Promise<Session | undefined>;
  /** Receives errors the cache swallows: a throwing or rejecting `getSession`, or a bad session it returned. */
  readonly onError?: (error: unknown) => void;
}

/** A server's resumption request to {@linkcode SessionCache.lookup}. */
export interface SessionLookup {
  /** The session id the client offered. */
  readonly id: Uint8Array;
  /** The negotiated protocol version; absent means 0. */
  readonly version?: number;
  /** The server's session id context; absent means empty. */
  readonly sidCtx?: Uint8Array;
}

/** What {@linkcode SessionCache.handshakeCompleted} is told. */
export interface CompletedHandshake {
  /** Client or server. */
  readonly side: Side;
  /** The session the handshake made or resumed. */
  readonly session?: Session;
  /** Whether it resumed. */
  readonly resumed: boolean;
  /** Whether it was TLS 1.3. */
  readonly tls13?: boolean;
}

function defaultNow(): number {
  return Math.floor(Date.now() / 1000);
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
 * import { SessionCache } from "./session_cache.ts";
 * const removed: number[] = [];
 * const cache = new SessionCache({
 *   cacheSize: 3,
 *   onRemoveSession: (s) => removed.push(s.id[0]!),
 * });
 * cache.add({ id: new Uint8Array([1]), time: 100, timeout: 10 });
 * cache.add({ id: new Uint8Array([2]), time: 101, timeout: 10 });
 * cache.add({ id: new Uint8Array([3]), time: 102, timeout: 5 });
 * cache.add({ id: new Uint8Array([4]), time: 103, timeout: 10 });
 * if (cache.size !== 2 || removed.join() !== "1,3") throw new Error("unexpected");
 * if (cache.flush(111).length !== 0) throw new Error("02 expires at exactly 111");
 * ```
 */
export class SessionCache implements Iterable<Session> {
  #state: CacheState;
  readonly #now: () => number;
  readonly #onNew: SessionCacheOptions["onNewSession"];
  readonly #onRemove: ((session: Session, cache: SessionCache) => void) | undefined;
  readonly #getSession: SessionCacheOptions["getSession"];
  readonly #onError: ((error: unknown) => void) | undefined;
  /** Sessions (by origin) that OpenSSL would have marked `not_resumable`. */
  readonly #spent = new WeakSet<object>();

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
    removed: readonly Session[],
    newSession?: Session,
    flushed: readonly Session[] = [],
  ): Promise<void> | undefined {
    if (removed.length === 0 && newSession === undefined && flushed.length === 0) return undefined;
    // OpenSSL marks every session it removes, evicts or flushes not resumable
    // before calling the remove callback (`not_resumable = 1`).
    for (const s of removed) this.#spent.add(originOf(s));
    for (const s of flushed) this.#spent.add(originOf(s));
    let failed = false;
    let first: unknown;
    const call = (
      f: ((s: Session, c: SessionCache) => unknown) | undefined,
      s: Session,
    ): unknown => {
      if (f === undefined) return undefined;
      try {
        return f(s, this);
      } catch (e) {
        if (!failed) first = e;
        failed = true;
        return undefined;
      }
    };
    for (const s of removed) call(this.#onRemove, s);
    let pending: Promise<void> | undefined;
    if (newSession !== undefined) {
      const r = call(this.#onNew, newSession);
      if (r instanceof Promise) {
        // Never an unhandled rejection, whether or not the caller awaits it.
        r.catch(() => {});
        pending = r.then(() => {});
      }
    }
    for (const s of flushed) call(this.#onRemove, s);
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
   * import { SessionCache } from "./session_cache.ts";
   * const cache = new SessionCache();
   * const s = { id: new Uint8Array([1]), time: 0, timeout: 300 };
   * if (!cache.add(s) || cache.add(s)) throw new Error("unexpected");
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
   * @example
   * ```ts
   * import { SessionCache } from "./session_cache.ts";
   * const seen: unknown[] = [];
   * const cache = new SessionCache({ onRemoveSession: (s) => seen.push(s) });
   * const s = { id: new Uint8Array([1]), time: 0, timeout: 300 };
   * cache.add(s);
   * if (!cache.remove(s) || cache.remove(s) || seen.length !== 2) throw new Error("unexpected");
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
   * @param tm The time in seconds; default `now()`. Note that 0 means "all",
   *   also when it comes from a clock that reads 0.
   * @returns The removed sessions, in removal order.
   * @throws {TypeError | RangeError} If `tm` is not a finite number >= 0.
   *
   * @example
   * ```ts
   * import { SessionCache } from "./session_cache.ts";
   * const cache = new SessionCache();
   * cache.add({ id: new Uint8Array([1]), time: 100, timeout: 10 });
   * if (cache.flush(110).length !== 0 || cache.flush(111).length !== 1) throw new Error("unexpected");
   * ```
   */
  flush(tm?: number): Session[] {
    const t = tm === undefined ? this.now() : tm;
    checkSeconds("flush sessions", "tm", t);
    const r = core.flush(this.#state, t);
    this.#state = r.cache;
    this.#notify(r.removed);
    return [...r.removed];
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
   * @example
   * ```ts
   * import { SessionCache } from "./session_cache.ts";
   * const cache = new SessionCache();
   * cache.add({ id: new Uint8Array([1]), time: 0, timeout: 300 });
   * if (cache.get(new Uint8Array([1]))?.timeout !== 300) throw new Error("unexpected");
   * ```
   */
  get(id: Uint8Array, options: { readonly version?: number } = {}): Session | undefined {
    if (!(id instanceof Uint8Array)) checkId("get session", id);
    checkVersion("get session", options.version);
    if (id.length === 0 || id.length > MAX_SESSION_ID_LENGTH) return undefined;
    return core.get(this.#state, { id, ...options });
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
   * @example
   * ```ts
   * import { SessionCache } from "./session_cache.ts";
   * const cache = new SessionCache();
   * const id = new Uint8Array([1]);
   * cache.add({ id, time: 0, timeout: 300 });
   * if (!cache.setTime(id, 50) || cache.get(id)?.time !== 50) throw new Error("unexpected");
   * ```
   */
  setTime(id: Uint8Array, time: number, options: { readonly version?: number } = {}): boolean {
    checkId("set session time", id);
    checkSeconds("set session time", "time", time);
    checkVersion("set session time", options.version);
    const r = core.setTime(this.#state, { id, time, ...options });
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
   * @example
   * ```ts
   * import { SessionCache } from "./session_cache.ts";
   * const cache = new SessionCache();
   * const id = new Uint8Array([1]);
   * cache.add({ id, time: 0, timeout: 300 });
   * if (!cache.setTimeout(id, 60) || cache.get(id)?.timeout !== 60) throw new Error("unexpected");
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
    const r = core.setTimeout(this.#state, { id, timeout, ...options });
    this.#state = r.cache;
    return r.session !== undefined;
  }

  /**
   * The sessions in `flush(0)` order: soonest expiry first, ties in
   * (re)insertion order. Iterates the state as it was when iteration began.
   *
   * @returns An iterator over the sessions.
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

  #external(request: SessionLookup): ExternalLookup {
    return { id: request.id, version: request.version ?? 0, sidCtx: request.sidCtx };
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
    return this.#apply(core.resumeExternal(this.#state, found, { ...request, now: this.now() }));
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
   * import { SessionCache } from "./session_cache.ts";
   * const cache = new SessionCache({ now: () => 100 });
   * const id = new Uint8Array([1]);
   * if (await cache.lookup({ id }) !== undefined) throw new Error("hit in empty cache");
   * cache.add({ id, time: 100, timeout: 300 });
   * if ((await cache.lookup({ id }))?.time !== 100) throw new Error("miss");
   * if (cache.stats.misses !== 1 || cache.stats.hits !== 1) throw new Error("counters");
   * ```
   */
  async lookup(
    request: SessionLookup,
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<Session | undefined> {
    this.#checkLookup(request);
    const r = core.lookup(this.#state, { ...request, now: this.now() });
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
   * @example
   * ```ts
   * import { SessionCache } from "./session_cache.ts";
   * const id = new Uint8Array([9]);
   * const cache = new SessionCache({
   *   now: () => 100,
   *   getSession: () => ({ id, time: 90, timeout: 300 }),
   * });
   * if (cache.lookupSync({ id }) === undefined || cache.stats.cbHits !== 1) throw new Error("unexpected");
   * ```
   */
  lookupSync(request: SessionLookup): Session | undefined {
    this.#checkLookup(request);
    const r = core.lookup(this.#state, { ...request, now: this.now() });
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
   * @example
   * ```ts
   * import { SessionCache } from "./session_cache.ts";
   * const cache = new SessionCache();
   * const s = { id: new Uint8Array([1]), time: 0, timeout: 300 };
   * cache.add(s);
   * cache.remove(s);
   * if (cache.isResumable(s)) throw new Error("a removed session stays resumable");
   * ```
   */
  isResumable(session: Session): boolean {
    return session.id.length > 0 && !this.#spent.has(originOf(session));
  }

  /**
   * Counts a handshake that began (`accept`/`connect`, or their
   * renegotiate counters).
   *
   * @param side `"server"` or `"client"`.
   * @param options `renegotiate`: true for a renegotiation.
   * @throws {TypeError} If `side` is neither.
   */
  handshakeStarted(side: Side, options: { readonly renegotiate?: boolean } = {}): void {
    if (side !== "server" && side !== "client") {
      throw new TypeError(
        `Cannot count handshake: side must be "server" or "client": received ${show(side)}`,
      );
    }
    this.#state = core.handshakeStarted(this.#state, { side, ...options });
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
   * import { SessionCache } from "./session_cache.ts";
   * const stored: unknown[] = [];
   * const cache = new SessionCache({ now: () => 100, onNewSession: (s) => stored.push(s) });
   * const session = { id: new Uint8Array([1]), time: 100, timeout: 300 };
   * cache.handshakeStarted("server");
   * cache.handshakeCompleted({ side: "server", session, resumed: false });
   * if (stored[0] !== session || cache.stats.acceptGood !== 1) throw new Error("unexpected");
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
    const r = core.handshakeCompleted(this.#state, { ...done, now: this.now() });
    this.#state = r.cache;
    return this.#notify(r.removed, r.newSession, r.flushed);
  }
}
