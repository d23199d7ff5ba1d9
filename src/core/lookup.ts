// This module is browser compatible.

/**
 * A server's resumption lookup in the pure core: OpenSSL's
 * `lookup_sess_in_cache` and `ssl_get_prev_session`, split where the
 * external cache (`get_session_cb`) is asked, since asking it is the shell's
 * business: {@linkcode lookup} does the internal part, and
 * {@linkcode resumeExternal} takes what the external cache returned.
 *
 * @module
 */

import { asState, escape, transition } from "./_history.ts";
import { readLookup, readSession, readTime } from "./_input.ts";
import { checkOptions } from "../_validate.ts";
import type { Removal, Session } from "../session.ts";
import type { CacheState } from "./cache_state.ts";
import { sameBytes } from "../_bytes.ts";

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
 * @throws {TypeError | RangeError} If the request or `now` is invalid.
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
  const action = "look up session";
  const s = asState(cache, action);
  const req = readLookup(action, request);
  const now = readTime(action, options, "now");
  const removed: Removal[] = [];
  const t = transition(s, (store) => {
    removed.length = 0;
    return store.lookup(req, now, removed);
  });
  const { outcome, session, consultExternal } = t.result;
  return { cache: escape(t.state), outcome, session, removed, consultExternal };
}

/**
 * Takes a session the external cache (OpenSSL's `get_session_cb`) returned
 * after an internal miss: `cbHits + 1`, stored with full add semantics
 * (eviction, `UPDATE_TIME`) unless `NO_INTERNAL_STORE`, then checked like an
 * internal hit (version, context, expiry). So an external hit counts both a
 * miss and a cb-hit, as in OpenSSL.
 *
 * One deliberate difference: a session whose id is not the requested id is
 * refused (`outcome: "miss"`, nothing counted or stored). OpenSSL takes it,
 * counts a cb-hit and hands it to the handshake, which then fails; a store
 * that answers with the wrong session is broken, and a full handshake is
 * the right answer to it. Another version or session id context is OpenSSL's
 * silent miss (counted and stored, then not resumed).
 *
 * @param cache The cache.
 * @param session The session the external cache returned.
 * @param options `request`: the lookup it answers; `now`: the current time in seconds.
 * @returns The new cache and the outcome.
 * @throws {TypeError | RangeError} If the session, the request or `now` is invalid.
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
  const action = "resume external session";
  const s = asState(cache, action);
  const input = readSession(action, session);
  const req = readLookup(action, checkOptions(action, options).request);
  const now = readTime(action, options, "now");
  if (!sameBytes(input.id, req.id)) {
    return { cache: s, outcome: "miss", session: undefined, removed: [], consultExternal: false };
  }
  const removed: Removal[] = [];
  const t = transition(s, (store) => {
    removed.length = 0;
    return store.resumeExternal(input, req, now, removed);
  });
  const { outcome, consultExternal } = t.result;
  return { cache: escape(t.state), outcome, session: t.result.session, removed, consultExternal };
}
