/**
 * Handshakes in the pure core: the counters a handshake moves, and what a
 * completed one does to the cache (OpenSSL's `tls_finish_handshake` and
 * `ssl_update_cache`, with the automatic flush every 255 handshakes).
 *
 * @module
 */

import { addTo, asState, commit, draftOf, findEntry, flushDraft, unlink } from "./_state.ts";
import {
  SESS_CACHE_CLIENT,
  SESS_CACHE_NO_AUTO_CLEAR,
  SESS_CACHE_NO_INTERNAL_STORE,
  SESS_CACHE_SERVER,
} from "../../src/modes.ts";
import type { Removal, Session } from "../../src/session.ts";
import type { CacheState } from "./cache_state.ts";

/** Which end of a handshake the cache serves. */
export type Side = "client" | "server";

/**
 * Counts a handshake that began: `accept` or `connect`, or for a
 * renegotiation `acceptRenegotiate` or `connectRenegotiate`.
 *
 * @param cache The cache.
 * @param side `"server"` or `"client"`.
 * @param options `renegotiate`: true for a renegotiation.
 * @returns The new cache.
 *
 * @example A server handshake begins
 * ```ts
 * import assert from "node:assert/strict";
 * import * as core from "@sesscache/openssl-session-cache/core";
 *
 * const cache = core.handshakeStarted(core.createCacheState(), "server");
 * assert.equal(cache.stats.accept, 1);
 * ```
 */
export function handshakeStarted(
  cache: CacheState,
  side: Side,
  options: { readonly renegotiate?: boolean } = {},
): CacheState {
  const d = draftOf(asState(cache));
  const server = side === "server";
  if (options.renegotiate === true) {
    if (server) d.stats.acceptRenegotiate += 1;
    else d.stats.connectRenegotiate += 1;
  } else if (server) d.stats.accept += 1;
  else d.stats.connect += 1;
  return commit(d);
}

/** A handshake that completed, as the shell's and the core's `handshakeCompleted` are told. */
export interface CompletedHandshake {
  /** Client or server. */
  readonly side: Side;
  /** The session it made or resumed; absent skips the cache update. */
  readonly session?: Session;
  /** Whether it resumed a session. */
  readonly resumed: boolean;
  /** Whether it was TLS 1.3 (which updates the cache elsewhere in OpenSSL). */
  readonly tls13?: boolean;
}

/** What {@linkcode handshakeCompleted} did. */
export interface HandshakeResult {
  /** The cache after the handshake. */
  readonly cache: CacheState;
  /**
   * Sessions for the remove callback that come before the new-session
   * callback: the add's evictions (`"evicted"`), or a TLS 1.3 client's
   * own session, removed since a ticket is used once (`"removed"`).
   */
  readonly removed: readonly Removal[];
  /** The session for the new-session callback (`new_session_cb`), if any. */
  readonly newSession: Session | undefined;
  /** Sessions removed by the automatic flush (`"expired"`), after the new-session callback. */
  readonly flushed: readonly Removal[];
}

/**
 * Records a completed handshake. Mirrors OpenSSL's `tls_finish_handshake`
 * and `ssl_update_cache`:
 * - when the mode has the side's bit and the handshake did not resume, the
 *   session is added (unless `NO_INTERNAL_STORE`) and handed to the
 *   new-session callback;
 * - unless `NO_AUTO_CLEAR`, when the side's good counter read **before** this
 *   handshake counts satisfies `(good & 0xff) === 0xff`, the cache is flushed:
 *   during the 256th, 512th, ... completed handshake. The flush time is
 *   `Math.floor(now)`, since OpenSSL 3.3 passes `time(NULL)` (whole seconds)
 *   there while it stamps sessions with its sub-second clock;
 * - then `acceptGood` (server) or `connectGood` (client, plus `hits` when it
 *   resumed) grows by one.
 *
 * A TLS 1.3 client handshake removes its session from a client cache
 * instead (tickets are used once); a TLS 1.3 server handshake stores its
 * session even when it resumed, since it issues a new ticket (OpenSSL does
 * this in `tls_construct_new_session_ticket`).
 *
 * @param cache The cache.
 * @param handshake What completed.
 * @param options `now`: the current time in seconds.
 * @returns The new cache and the callbacks to run.
 *
 * @example The first full handshake stores its session
 * ```ts
 * import assert from "node:assert/strict";
 * import * as core from "@sesscache/openssl-session-cache/core";
 *
 * const session = { id: new Uint8Array([1]), time: 100, timeout: 300 };
 * const r = core.handshakeCompleted(core.createCacheState(), {
 *   side: "server",
 *   session,
 *   resumed: false,
 * }, { now: 100 });
 * assert.equal(r.newSession, session);
 * assert.equal(r.cache.stats.acceptGood, 1);
 * ```
 */
export function handshakeCompleted(
  cache: CacheState,
  handshake: CompletedHandshake,
  options: { readonly now: number },
): HandshakeResult {
  const d = draftOf(asState(cache));
  const server = handshake.side === "server";
  const bit = server ? SESS_CACHE_SERVER : SESS_CACHE_CLIENT;
  const { session } = handshake;
  const { now } = options;
  let removed: Removal[] = [];
  let newSession: Session | undefined;
  let flushed: Removal[] = [];
  const resumable = session !== undefined && session.id.length > 0;
  if (!server && handshake.tls13 === true) {
    if (resumable && (d.mode & SESS_CACHE_CLIENT) !== 0) {
      const existing = findEntry(d, session.id, session.version);
      if (existing !== undefined) unlink(d, existing);
      removed.push({ session, reason: "removed" });
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
      flushed = flushDraft(d, Math.floor(now));
    }
  }
  if (server) d.stats.acceptGood += 1;
  else {
    if (handshake.resumed) d.stats.hits += 1;
    d.stats.connectGood += 1;
  }
  return { cache: commit(d), removed, newSession, flushed };
}
