// This module is browser compatible.

/**
 * Changing a session that is not cached, the way OpenSSL's
 * `SSL_SESSION_set_time` and `SSL_SESSION_set_timeout` change one.
 *
 * @module
 */

import { deriveSession, readSession } from "../core/_input.ts";
import type { Session } from "../session.ts";
import { checkOptions, checkSeconds, copyBytes } from "../_validate.ts";

/** The fields {@linkcode reviseSession} can change. */
export interface SessionRevision {
  /** The new time in seconds. */
  readonly time?: number;
  /** The new timeout in seconds. */
  readonly timeout?: number;
}

/**
 * A copy of `session` with a new time or timeout that still **is** the same
 * session to every cache: re-adding it counts as re-adding the original
 * (`add` returns `false` while it is cached), and it stays not resumable once
 * a cache has removed it. This is what OpenSSL's `SSL_SESSION_set_time` /
 * `SSL_SESSION_set_timeout` do to a session object that is not cached (they
 * change it in place). For a cached session use `SessionCache.setTime`, which
 * also re-sorts it. A plain `{ ...session, time }` is a new session instead.
 *
 * @param session The session.
 * @param changes The new `time` and/or `timeout`.
 * @returns A frozen copy with the changes (the Session fields only).
 * @throws {TypeError | RangeError} If the session or a change is invalid.
 *
 * @example A re-timed copy re-added is the same session
 * ```ts
 * import assert from "node:assert/strict";
 * import { reviseSession, SessionCache } from "@sesscache/openssl-session-cache";
 *
 * const cache = new SessionCache();
 * const s = { id: new Uint8Array([1]), time: 100, timeout: 300 };
 * cache.add(s);
 * assert.equal(cache.add(reviseSession(s, { time: 200 })), false); // not a new session
 * assert.equal(cache.add({ ...s, time: 200 }), true); // a plain copy is a new one
 * ```
 */
export function reviseSession(session: Session, changes: SessionRevision): Session {
  const action = "revise session";
  const input = readSession(action, session);
  const { time, timeout } = checkOptions(action, changes);
  if (time !== undefined) checkSeconds(action, "time", time);
  if (timeout !== undefined) checkSeconds(action, "timeout", timeout);
  return deriveSession({
    id: copyBytes(input.id),
    time: (time as number | undefined) ?? input.time,
    timeout: (timeout as number | undefined) ?? input.timeout,
    version: input.version,
    sidCtx: input.sidCtx === undefined ? undefined : copyBytes(input.sidCtx),
    data: input.data,
  }, input.origin);
}
