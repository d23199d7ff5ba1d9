/**
 * A server's resumption lookup in the pure core: OpenSSL's
 * `lookup_sess_in_cache` and `ssl_get_prev_session`, split where the
 * external cache (`get_session_cb`) is asked, since asking it is the shell's
 * business: {@linkcode lookup} does the internal part, and
 * {@linkcode resumeExternal} takes what the external cache returned.
 *
 * @module
 */

import { addTo, asState, commit, type Draft, draftOf, findEntry, unlink } from "./_state.ts";
import { SESS_CACHE_NO_INTERNAL_LOOKUP, SESS_CACHE_NO_INTERNAL_STORE } from "../../src/modes.ts";
import { expiryOf, type Removal, type Session } from "../../src/session.ts";
import { sameBytes } from "../../src/_bytes.ts";
import type { CacheState } from "./cache_state.ts";

/**
 * A server's resumption request: the session id the client offered, the
 * negotiated protocol version and the server's session id context. The shell's
 * `lookup` takes one, and the external cache (`getSession`) is handed one.
 */
export interface SessionLookup {
  /** The session id the client offered. */
  readonly id: Uint8Array;
  /** The negotiated protocol version; absent means 0. */
  readonly version?: number | undefined;
  /** The server's session id context; absent means empty. */
  readonly sidCtx?: Uint8Array | undefined;
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
  /**
   * Sessions for the remove callback, in order: evictions of an external
   * session's add (`"evicted"`), then an expired session (`"removed"`, as
   * OpenSSL calls `SSL_CTX_remove_session` for it).
   */
  readonly removed: readonly Removal[];
  /** True when the internal table had nothing: the shell should ask the external cache. */
  readonly consultExternal: boolean;
}

/** Steps 3 to 5 of the lookup on a session already retrieved: context, expiry, hit. */
function admit(
  d: Draft,
  session: Session,
  request: SessionLookup,
  now: number,
  removed: Removal[],
): { outcome: LookupOutcome; session: Session | undefined } {
  if ((session.version ?? 0) !== (request.version ?? 0)) {
    return { outcome: "mismatch", session: undefined };
  }
  if (!sameBytes(session.sidCtx, request.sidCtx)) {
    return { outcome: "mismatch", session: undefined };
  }
  if (now > expiryOf(session)) {
    d.stats.timeouts += 1;
    const existing = findEntry(d, session.id, session.version);
    if (existing !== undefined) unlink(d, existing);
    removed.push({ session, reason: "removed" });
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
 * @param request The offered id, the server's version and context.
 * @param options `now`: the current time in seconds (OpenSSL 3.3 checks
 *   expiry here against `ossl_time_now()`, a sub-second clock).
 * @returns The new cache and the outcome.
 *
 * @example A hit, then a timeout
 * ```ts
 * import assert from "node:assert/strict";
 * import * as core from "@sesscache/openssl-session-cache/core";
 *
 * const id = new Uint8Array([1]);
 * const cache = core.add(core.createCacheState(), { id, time: 100, timeout: 10 }).cache;
 * assert.equal(core.lookup(cache, { id }, { now: 105 }).outcome, "hit");
 * const late = core.lookup(cache, { id }, { now: 110.5 });
 * assert.equal(late.outcome, "expired");
 * assert.equal(late.cache.stats.timeouts, 1);
 * ```
 */
export function lookup(
  cache: CacheState,
  request: SessionLookup,
  options: { readonly now: number },
): LookupResult {
  const s = asState(cache);
  if ((s.mode & SESS_CACHE_NO_INTERNAL_LOOKUP) !== 0) {
    return { cache: s, outcome: "miss", session: undefined, removed: [], consultExternal: true };
  }
  const d = draftOf(s);
  const found = findEntry(s, request.id, request.version);
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
  const removed: Removal[] = [];
  const r = admit(d, found.session, request, options.now, removed);
  const next = r.outcome === "mismatch" ? s : commit(d);
  return { cache: next, ...r, removed, consultExternal: false };
}

/**
 * Takes a session the external cache (OpenSSL's `get_session_cb`) returned
 * after an internal miss: `cbHits + 1`, stored with full add semantics
 * (eviction, `UPDATE_TIME`) unless `NO_INTERNAL_STORE`, then checked like an
 * internal hit (version, context, expiry). So an external hit counts both a
 * miss and a cb-hit, as in OpenSSL.
 *
 * @param cache The cache.
 * @param session The session the external cache returned.
 * @param options `request`: the lookup it answers; `now`: the current time in seconds.
 * @returns The new cache and the outcome.
 *
 * @example An external hit is stored
 * ```ts
 * import assert from "node:assert/strict";
 * import * as core from "@sesscache/openssl-session-cache/core";
 *
 * const id = new Uint8Array([1]);
 * const missed = core.lookup(core.createCacheState(), { id }, { now: 100 });
 * assert.equal(missed.consultExternal, true);
 * const found = { id, time: 100, timeout: 10 };
 * const r = core.resumeExternal(missed.cache, found, { request: { id }, now: 100 });
 * assert.equal(r.outcome, "hit");
 * assert.equal(r.cache.size, 1);
 * assert.equal(r.cache.stats.misses, 1);
 * assert.equal(r.cache.stats.cbHits, 1);
 * ```
 */
export function resumeExternal(
  cache: CacheState,
  session: Session,
  options: { readonly request: SessionLookup; readonly now: number },
): LookupResult {
  const d = draftOf(asState(cache));
  d.stats.cbHits += 1;
  const removed: Removal[] = [];
  let current = session;
  if ((d.mode & SESS_CACHE_NO_INTERNAL_STORE) === 0) {
    const r = addTo(d, session, options.now);
    removed.push(...r.removed);
    current = r.session;
  }
  const r = admit(d, current, options.request, options.now, removed);
  return { cache: commit(d), ...r, removed, consultExternal: false };
}
