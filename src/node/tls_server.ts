/**
 * Plugs a {@linkcode SessionCache} into a `node:tls` (or `node:https`)
 * server, so that TLS 1.2 session-id resumption goes through the cache
 * exactly where OpenSSL's internal cache would sit.
 *
 * Node keeps OpenSSL's internal cache off and exposes its external-cache
 * callbacks as two server events, which this adapter answers:
 *
 * | OpenSSL                          | Node server event                  | adapter                                                |
 * | -------------------------------- | ---------------------------------- | ------------------------------------------------------ |
 * | `new_session_cb`                 | `'newSession'` (id, data, done)    | `cache.handshakeCompleted()` stores it, then `done()`  |
 * | `get_session_cb`                 | `'resumeSession'` (id, done)       | `cache.lookup()`, then `done(null, data \| null)`      |
 * | `sess_accept`                    | `'connection'`                     | `cache.handshakeStarted("server")`                     |
 * | `sess_accept_good` (+auto-flush) | `'secureConnection'`               | `cache.handshakeCompleted()` for the other handshakes  |
 *
 * Runtime support: only Node calls these listeners. Deno 2.9 and Bun 1.4
 * accept them but never call them, so on those runtimes the adapter attaches
 * without error and the cache sees nothing.
 *
 * @module
 */

import type { Server } from "node:tls";
import type { TLSSocket } from "node:tls";
import { Buffer } from "node:buffer";
import { MAX_SID_CTX_LENGTH, type Session, TLS1_2_VERSION, TLS1_3_VERSION } from "../session.ts";
import { SessionCache } from "../shell/session_cache.ts";
import { DEFAULT_TIMEOUT } from "../core/cache_state.ts";
import { hex } from "../_bytes.ts";
import { MAX_TIMER_MS, report as callHook, settleWithin } from "../_async.ts";
import { checkFunction, checkSeconds, show } from "../_validate.ts";
import { readSessionFields } from "./_ssl_session_der.ts";

/** How many ids of counted full handshakes are remembered until their `'secureConnection'`. */
const MAX_PENDING = 4096;

/** Options of {@linkcode attachSessionCache}. */
export interface AttachSessionCacheOptions {
  /**
   * Lifetime in seconds of the sessions the server makes. Default: the
   * server's `sessionTimeout` if it was given, else the cache's `timeout`.
   * OpenSSL enforces the server's own `sessionTimeout` (7200 s when not set)
   * on every session it resumes, so a longer lifetime here cannot extend it:
   * set `sessionTimeout` on the server to the same value.
   */
  readonly sessionTimeout?: number;
  /**
   * The session id context, as given to the server's `sessionIdContext`
   * (a string is taken as UTF-8). Default: the server's `sessionIdContext`
   * (Node derives one from the command line when it is not set). Servers
   * sharing one cache (or one external store) must all use the same one.
   */
  readonly sidCtx?: string | Uint8Array;
  /**
   * How long a lookup may take, in milliseconds, before the handshake goes
   * on as a full one (the lookup is then cancelled: a late answer counts and
   * stores nothing). Bounds a slow asynchronous `getSession`, and likewise
   * how long a new session's handshake waits for a Promise returned by
   * `onNewSession` (an external store's write). Default 50.
   */
  readonly lookupTimeoutMs?: number;
  /**
   * Receives every error the adapter swallows to keep handshakes going: a
   * throwing callback of the cache, a lookup that rejected or timed out, a
   * session Node refused. Default: errors are dropped.
   */
  readonly onError?: (error: unknown) => void;
}

/** What {@linkcode attachSessionCache} returns. */
export interface AttachedSessionCache {
  /**
   * Removes the adapter's listeners. Handshakes already waiting for an
   * answer still get it.
   */
  detach(): void;
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Attaches a session cache to a `node:tls` or `node:https` server: the
 * server's new sessions go into the cache and resumption requests are
 * answered from it (hits, misses, timeouts and expired sessions removed, the
 * external `getSession` consulted and awaited), the handshake counters are
 * fed from the server's events, and every 256th completed handshake flushes
 * expired sessions, as OpenSSL's own cache does.
 *
 * For resumption by session id, the server must not issue session tickets
 * and must speak TLS 1.2: `secureOptions: constants.SSL_OP_NO_TICKET`,
 * `maxVersion: "TLSv1.2"`. With TLS 1.3 allowed, Node resumes TLS 1.3
 * clients from its own tickets and still asks the cache for the random
 * legacy session id those clients send: each such lookup is a miss.
 * TLS 1.3 sessions are not stored (Node could never resume them by id).
 *
 * The callback contract always holds: every `'newSession'` and
 * `'resumeSession'` event is answered exactly once; an error anywhere
 * (a callback of the cache, `getSession`, a bad session) becomes a miss or
 * is ignored, and is reported to `onError`; a lookup that takes longer than
 * `lookupTimeoutMs` is answered as a miss. A handshake never hangs on the
 * cache.
 *
 * Differences from OpenSSL: renegotiations are not counted
 * (`acceptRenegotiate`): Node has no event for them. Sessions get their
 * time from the cache's clock and their lifetime from `sessionTimeout`.
 *
 * Works on Node. Deno 2.9 and Bun 1.4 never call the session listeners:
 * there the adapter attaches but the cache sees no handshake.
 *
 * @param server A `tls.Server` or `https.Server`. Only one cache per server.
 * @param cache The cache (mode `SESS_CACHE_SERVER`, the default, to store sessions).
 * @param options Lifetime, session id context, lookup deadline, error hook.
 * @returns A handle whose `detach()` removes the listeners.
 * @throws {TypeError} If `server` is not an event emitter, already has
 *   session listeners, or `cache` is not a `SessionCache`.
 * @throws {RangeError} If `sessionTimeout` or `lookupTimeoutMs` is negative
 *   or not finite, or `sidCtx` is longer than 32 bytes.
 *
 * @example Resumption by session id through the cache (Node)
 * ```ts ignore
 * import { constants } from "node:crypto";
 * import { readFileSync } from "node:fs";
 * import { createServer } from "node:tls";
 * import { SessionCache } from "@sesscache/openssl-session-cache";
 * import { attachSessionCache } from "@sesscache/openssl-session-cache/node";
 *
 * const cache = new SessionCache({ cacheSize: 10_000 });
 * const server = createServer({
 *   key: readFileSync("key.pem"),
 *   cert: readFileSync("cert.pem"),
 *   maxVersion: "TLSv1.2", // session ids are a TLS 1.2 mechanism
 *   secureOptions: constants.SSL_OP_NO_TICKET, // resume by id, not by ticket
 *   sessionIdContext: "my-service", // the same on every server sharing the cache
 *   sessionTimeout: 300,
 * });
 * attachSessionCache(server, cache);
 * server.listen(8443);
 * ```
 *
 * @example Attaching and detaching (no connection is made)
 * ```ts
 * import assert from "node:assert/strict";
 * import { createServer } from "node:tls";
 * import { SessionCache } from "@sesscache/openssl-session-cache";
 * import { attachSessionCache } from "@sesscache/openssl-session-cache/node";
 *
 * const server = createServer();
 * const handle = attachSessionCache(server, new SessionCache(), { sidCtx: "demo" });
 * assert.equal(server.listenerCount("resumeSession"), 1);
 * handle.detach();
 * assert.equal(server.listenerCount("resumeSession"), 0);
 * ```
 */
export function attachSessionCache(
  server: Server,
  cache: SessionCache,
  options: AttachSessionCacheOptions = {},
): AttachedSessionCache {
  const action = "attach session cache";
  if (
    typeof server !== "object" || server === null || typeof server.on !== "function" ||
    typeof server.removeListener !== "function" || typeof server.listenerCount !== "function"
  ) {
    throw new TypeError(
      `Cannot ${action}: server must be a node:tls Server: received ${show(server)}`,
    );
  }
  if (!(cache instanceof SessionCache)) {
    throw new TypeError(
      `Cannot ${action}: cache must be a SessionCache: received ${show(cache)}`,
    );
  }
  for (const event of ["newSession", "resumeSession"] as const) {
    const n = server.listenerCount(event);
    if (n > 0) {
      // Node destroys the connection when 'resumeSession' is answered twice.
      throw new TypeError(
        `Cannot ${action}: server must have no "${event}" listener (one cache per server): received ${n}`,
      );
    }
  }
  const { sessionTimeout, lookupTimeoutMs = 50, onError } = options;
  if (sessionTimeout !== undefined) checkSeconds(action, "sessionTimeout", sessionTimeout);
  if (typeof lookupTimeoutMs !== "number") {
    throw new TypeError(
      `Cannot ${action}: lookupTimeoutMs must be a number: received ${show(lookupTimeoutMs)}`,
    );
  }
  if (!(lookupTimeoutMs >= 0 && lookupTimeoutMs <= MAX_TIMER_MS)) {
    throw new RangeError(
      `Cannot ${action}: lookupTimeoutMs must be a number from 0 to ${MAX_TIMER_MS}: received ${
        show(lookupTimeoutMs)
      }`,
    );
  }
  checkFunction(action, "onError", onError);
  const fixedSidCtx = options.sidCtx === undefined
    ? undefined
    : encodeSidCtx(action, options.sidCtx);

  const report = (error: unknown): void => callHook(onError, error);

  // The context is read at each event: `server.setSecureContext()` may change it.
  const sidCtx = (): Uint8Array | undefined => {
    if (fixedSidCtx !== undefined) return fixedSidCtx;
    const s = (server as { sessionIdContext?: unknown }).sessionIdContext;
    if (typeof s !== "string" || s === "") return undefined;
    const bytes = new TextEncoder().encode(s);
    return bytes.length <= MAX_SID_CTX_LENGTH ? bytes : undefined;
  };
  const lifetime = (): number => {
    const t = sessionTimeout ?? (server as { sessionTimeout?: unknown }).sessionTimeout;
    const chosen = typeof t === "number" && Number.isFinite(t) && t >= 0 ? t : cache.timeout;
    // OpenSSL's ssl_get_new_session: a context timeout of 0 means "the
    // method's default" (7200 s for TLS), not "expire at once".
    return chosen === 0 ? DEFAULT_TIMEOUT : chosen;
  };

  // Ids of full handshakes already counted at 'newSession', so that their
  // 'secureConnection' does not count them again (Map: insertion order = age).
  const counted = new Map<string, true>();

  const onConnection = (): void => {
    try {
      cache.handshakeStarted("server");
    } catch (e) {
      report(e);
    }
  };

  const onNewSession = (id: Buffer, data: Buffer, done: () => void): void => {
    try {
      const fields = readSessionFields(data);
      const version = fields.version ?? TLS1_2_VERSION;
      // TLS 1.3 sessions (one per ticket) can never come back by id: Node
      // resumes TLS 1.3 from its own tickets. Their handshakes are counted
      // at 'secureConnection'.
      if (version < TLS1_3_VERSION && id.length > 0) {
        const ctx = sidCtx();
        const session: Session = {
          id: Uint8Array.from(id),
          time: cache.now(),
          timeout: lifetime(),
          version,
          ...(ctx !== undefined && { sidCtx: ctx }),
          data: Uint8Array.from(data),
        };
        const key = hex(id);
        counted.set(key, true);
        if (counted.size > MAX_PENDING) counted.delete(counted.keys().next().value as string);
        const stored = cache.handshakeCompleted({ side: "server", session, resumed: false });
        if (stored !== undefined) {
          // onNewSession returned a Promise (an external store's write): hold
          // the handshake until it settles, so that another server asked for
          // this session right after finds it, but never longer than
          // lookupTimeoutMs.
          finishAfter(stored, done);
          return;
        }
      }
    } catch (e) {
      report(e);
    }
    finish(done);
  };

  const finish = (done: () => void): void => {
    try {
      done();
    } catch (e) {
      report(e);
    }
  };

  const finishAfter = (stored: Promise<void>, done: () => void): void => {
    void settleWithin(stored, lookupTimeoutMs).then((settled) => {
      if (settled.status === "rejected") report(settled.reason);
      finish(done);
    });
  };

  const onResumeSession = (
    id: Buffer,
    done: (error: Error | null, data: Buffer | null) => void,
  ): void => {
    let answered = false;
    const answer = (data: Buffer | null): void => {
      if (answered) return;
      answered = true;
      try {
        done(null, data);
      } catch (e) {
        // Never answer twice: Node destroys the connection on a second call.
        report(e);
      }
    };
    let pending: Promise<Session | undefined>;
    // A lookup that outlives its handshake is cancelled: a late answer from a
    // slow external store must not count a hit for a full handshake.
    const abort = new AbortController();
    try {
      const ctx = sidCtx();
      pending = cache.lookup({
        id: Uint8Array.from(id),
        version: TLS1_2_VERSION,
        ...(ctx !== undefined && { sidCtx: ctx }),
      }, { signal: abort.signal });
    } catch (e) {
      report(e);
      answer(null);
      return;
    }
    void settleWithin(pending, lookupTimeoutMs).then((settled) => {
      if (settled.status === "fulfilled") {
        const data = settled.value?.data;
        answer(data !== undefined ? toBuffer(data) : null);
        return;
      }
      if (settled.status === "rejected") report(settled.reason);
      else {
        report(
          new Error(
            `Cannot resume session: the lookup did not answer within ${lookupTimeoutMs} ms`,
          ),
        );
        abort.abort();
      }
      answer(null);
    });
  };

  const onSecureConnection = (socket: TLSSocket): void => {
    try {
      const resumed = socket.isSessionReused();
      const tls13 = socket.getProtocol() === "TLSv1.3";
      if (tls13) {
        cache.handshakeCompleted({ side: "server", resumed, tls13 });
        return;
      }
      const der = socket.getSession();
      const fields = der === undefined ? {} : readSessionFields(der);
      const id = fields.id;
      if (!resumed) {
        // Counted at 'newSession' unless the session had no id (tickets).
        if (id !== undefined && id.length > 0 && counted.delete(hex(id))) return;
        cache.handshakeCompleted({ side: "server", resumed: false });
        return;
      }
      // A TLS 1.2 resumption: counted, not stored; the auto-flush check runs.
      const ctx = sidCtx();
      const session: Session | undefined = id !== undefined && id.length > 0
        ? {
          id,
          time: cache.now(),
          timeout: lifetime(),
          version: fields.version ?? TLS1_2_VERSION,
          ...(ctx !== undefined && { sidCtx: ctx }),
        }
        : undefined;
      cache.handshakeCompleted({
        side: "server",
        resumed: true,
        ...(session !== undefined && { session }),
      });
    } catch (e) {
      report(e);
    }
  };

  server.on("connection", onConnection);
  server.on("newSession", onNewSession);
  server.on("resumeSession", onResumeSession);
  server.on("secureConnection", onSecureConnection);

  let live = true;
  return {
    detach(): void {
      if (!live) return;
      live = false;
      server.removeListener("connection", onConnection);
      server.removeListener("newSession", onNewSession);
      server.removeListener("resumeSession", onResumeSession);
      server.removeListener("secureConnection", onSecureConnection);
      counted.clear();
    },
  };
}

function encodeSidCtx(action: string, sidCtx: unknown): Uint8Array {
  let bytes: Uint8Array;
  if (typeof sidCtx === "string") bytes = new TextEncoder().encode(sidCtx);
  else if (sidCtx instanceof Uint8Array) bytes = Uint8Array.from(sidCtx);
  else {
    throw new TypeError(
      `Cannot ${action}: sidCtx must be a string or a Uint8Array: received ${show(sidCtx)}`,
    );
  }
  if (bytes.length > MAX_SID_CTX_LENGTH) {
    throw new RangeError(
      `Cannot ${action}: sidCtx must be at most ${MAX_SID_CTX_LENGTH} bytes: received ${bytes.length}`,
    );
  }
  return bytes;
}
