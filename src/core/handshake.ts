// This module is browser compatible.

/**
 * Handshakes in the pure core: the counters a handshake moves, and what a
 * completed one does to the cache (OpenSSL's `tls_finish_handshake` and
 * `ssl_update_cache`, with the automatic flush every 255 handshakes).
 *
 * @module
 */

import { asState, escape, transition } from "./_history.ts";
import { readFlag, readHandshake, readSide, readTime } from "./_input.ts";
import { checkOptions } from "../_validate.ts";
import type { Removal, Session } from "../session.ts";
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
 * @throws {TypeError} If `side` is neither or `renegotiate` is not a boolean.
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
  const action = "count handshake";
  const s = asState(cache, action);
  const server = readSide(action, side);
  const renegotiate = readFlag(action, checkOptions(action, options).renegotiate, "renegotiate");
  return escape(transition(s, (store) => store.handshakeStarted(server, renegotiate)).state);
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
   * own session, removed since a ticket is used once (`"removed"`). With a
   * flush budget, the rest of an unfinished automatic flush (`"expired"`)
   * comes first.
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
 * @throws {TypeError | RangeError} If the handshake or `now` is invalid; nothing changes.
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
  const action = "complete handshake";
  const s = asState(cache, action);
  const h = readHandshake(action, handshake);
  const now = readTime(action, options, "now");
  const removed: Removal[] = [];
  const flushed: Removal[] = [];
  const t = transition(s, (store) => {
    removed.length = flushed.length = 0;
    return store.handshakeCompleted(
      h.server,
      h.session,
      h.resumed,
      h.tls13,
      now,
      removed,
      flushed,
    );
  });
  return { cache: escape(t.state), removed, newSession: t.result, flushed };
}
