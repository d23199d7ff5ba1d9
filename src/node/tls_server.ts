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
 * accept them but never call them, so on those runtimes the cache is never
 * consulted: the adapter says so once, in its `status` and `warnings` and
 * through `onError`, and never fails a connection over it. The same goes for
 * server setups that route resumption around the cache (session tickets on,
 * TLS 1.3).
 *
 * @module
 */

import { DEFAULT_MAX_VERSION, DEFAULT_MIN_VERSION, type Server, type TLSSocket } from "node:tls";
import { Buffer } from "node:buffer";
import { MAX_SID_CTX_LENGTH, type Session, TLS1_2_VERSION, TLS1_3_VERSION } from "../session.ts";
import { SessionCache } from "../shell/session_cache.ts";
import { DEFAULT_TIMEOUT } from "../core/cache_state.ts";
import { hex, sameBytes } from "../_bytes.ts";
import { report as callHook, settleWithin } from "../_async.ts";
import {
  byteLength,
  checkDelayMs,
  checkFunction,
  checkOptions,
  checkSeconds,
  copyBytes,
  isUint8Array,
  show,
} from "../_validate.ts";
import { readSessionFields } from "./_ssl_session_der.ts";

/** How many ids of counted full handshakes are remembered until their `'secureConnection'`. */
const MAX_PENDING = 4096;
/** OpenSSL's `SSL_OP_NO_TICKET` (the same value in every OpenSSL since 0.9.8). */
const SSL_OP_NO_TICKET = 0x4000;
/** The most session id bytes OpenSSL asks about. */
const MAX_ID_BYTES = 32;

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
   * `onNewSession` (an external store's write). From 0 to 2^31 - 1; 0 waits
   * for nothing that needs a timer or I/O: the internal cache still answers,
   * and so does an external store that answers within the same turn.
   * Default 50.
   */
  readonly lookupTimeoutMs?: number;
  /**
   * Receives every error the adapter swallows to keep handshakes going: a
   * throwing callback of the cache, a lookup that rejected or timed out, a
   * session Node refused or that holds another session id; and, once each,
   * the {@linkcode SessionCacheWarning}s of a setup where the cache is not
   * consulted. Default: errors are dropped.
   */
  readonly onError?: (error: unknown) => void;
}

/**
 * Why the cache is not consulted for some or all resumptions on a server:
 * - `"runtime"`: the runtime's `node:tls` server never emits the session
 *   events (Deno, Bun): the cache is never consulted;
 * - `"tickets"`: session tickets are on, so TLS 1.2 clients that support
 *   them (all common ones do) resume from tickets, never from the cache;
 * - `"tls13"`: TLS 1.3 is allowed, and TLS 1.3 clients resume from tickets
 *   (or, with `SSL_OP_NO_TICKET`, not at all), never from the cache;
 * - `"tls13-only"`: TLS 1.2 is not allowed: the cache is never consulted.
 */
export type SessionCacheWarningCode = "runtime" | "tickets" | "tls13" | "tls13-only";

/**
 * How much the cache is consulted on a server: `"active"` for every TLS 1.2
 * resumption by session id; `"limited"` for some clients only (with tickets
 * on, TLS 1.2 clients that use no tickets; with TLS 1.3 allowed, TLS 1.2
 * clients); `"inactive"`: never (Deno and Bun, or TLS 1.2 not allowed).
 */
export type AttachedStatus = "active" | "limited" | "inactive";

/**
 * A setup where the cache is not consulted, found by
 * {@linkcode attachSessionCache} when it attaches (the runtime, the server's
 * options) or at a connection (what the handshakes show). Each is listed in
 * `warnings` and reported to `onError` once.
 *
 * @example The code and the message
 * ```ts
 * import assert from "node:assert/strict";
 * import { SessionCacheWarning } from "@sesscache/openssl-session-cache/node";
 *
 * const warning = new SessionCacheWarning("tickets", "Session tickets are on");
 * assert.equal(warning.code, "tickets");
 * assert.equal(warning.name, "SessionCacheWarning");
 * assert.ok(warning instanceof Error);
 * ```
 */
export class SessionCacheWarning extends Error {
  /** Which setup it is. */
  readonly code: SessionCacheWarningCode;

  /**
   * Makes a warning.
   *
   * @param code Which setup it is.
   * @param message What happens, and how to change it.
   */
  constructor(code: SessionCacheWarningCode, message: string) {
    super(message);
    this.name = "SessionCacheWarning";
    this.code = code;
  }
}

/** What {@linkcode attachSessionCache} returns. */
export interface AttachedSessionCache {
  /**
   * Removes the adapter's listeners. Handshakes already waiting for an
   * answer still get it.
   */
  detach(): void;
  /**
   * How much the cache is consulted, as far as the adapter can tell so far
   * (it learns more at the first connections): `"inactive"` when a warning
   * says it is never consulted (`runtime`, `tls13-only`), `"limited"` with
   * `tickets` or `tls13` warnings only, else `"active"`.
   */
  readonly status: AttachedStatus;
  /** The setups found where the cache is not consulted, in the order found. */
  readonly warnings: readonly SessionCacheWarning[];
}

const INACTIVE: ReadonlySet<SessionCacheWarningCode> = new Set(["runtime", "tls13-only"]);

const VERSIONS: Readonly<Record<string, number>> = {
  "TLSv1": 1,
  "TLSv1.1": 2,
  "TLSv1.2": 3,
  "TLSv1.3": 4,
};

/** The runtime, when it is one whose `node:tls` server never emits the session events. */
function sessionlessRuntime(): string | undefined {
  const g = globalThis as { Deno?: { version?: { deno?: unknown } }; Bun?: { version?: unknown } };
  if (typeof g.Deno?.version?.deno === "string") return `Deno ${g.Deno.version.deno}`;
  if (typeof g.Bun?.version === "string") return `Bun ${g.Bun.version}`;
  return undefined;
}

/** A brand check: a real SessionCache (a Proxy of one, or a look-alike, fails). */
function isSessionCache(value: unknown): value is SessionCache {
  if (!(value instanceof SessionCache)) return false;
  try {
    Object.getOwnPropertyDescriptor(SessionCache.prototype, "size")!.get!.call(value);
    return true;
  } catch {
    return false;
  }
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
 * Setups where the cache is not consulted are detected, when attaching
 * (Deno and Bun, whose servers never emit the session events; tickets left
 * on; TLS 1.3 allowed) and at the first connections (a full TLS 1.2
 * handshake that made no session id, a TLS 1.3 handshake, a handshake that
 * no session event preceded): each is listed in the returned `warnings`,
 * sums up in `status`, and is reported to `onError` once, never per
 * connection.
 *
 * The callback contract always holds: every `'newSession'` and
 * `'resumeSession'` event is answered exactly once; an error anywhere
 * (a callback of the cache, `getSession`, a bad session, a session whose
 * data holds another session id) becomes a miss or is ignored, and is
 * reported to `onError`; a lookup that takes longer than `lookupTimeoutMs`
 * is answered as a miss. A handshake never hangs on the cache, and nothing
 * the adapter starts can end in an unhandled rejection.
 *
 * Every option is read once, when attaching, and checked before anything is
 * attached. What Node hands the listeners (ids, session bytes, socket
 * answers) is read once and checked before use.
 *
 * Differences from OpenSSL: renegotiations are not counted
 * (`acceptRenegotiate`): Node has no event for them. Sessions get their
 * time from the cache's clock and their lifetime from `sessionTimeout`.
 *
 * @param server A `tls.Server` or `https.Server`. Only one cache per server.
 * @param cache The cache (mode `SESS_CACHE_SERVER`, the default, to store sessions).
 * @param options Lifetime, session id context, lookup deadline, error hook.
 * @returns A handle: `detach()` removes the listeners; `status` and `warnings` tell
 *   whether the cache is consulted on this server.
 * @throws {TypeError} If `server` is not an event emitter, already has
 *   session listeners, `cache` is not a `SessionCache`, or an option has the wrong type.
 * @throws {RangeError} If `sessionTimeout` is negative, not finite or above
 *   `MAX_TIME`, `lookupTimeoutMs` is negative, NaN or above 2^31 - 1, or
 *   `sidCtx` is longer than 32 bytes.
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
 * const attached = attachSessionCache(server, cache, { onError: console.error });
 * console.log(attached.status); // "active" on Node
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
 *
 * @example The diagnosis of a server left with tickets on
 * ```ts
 * import assert from "node:assert/strict";
 * import { createServer } from "node:tls";
 * import { SessionCache } from "@sesscache/openssl-session-cache";
 * import { attachSessionCache } from "@sesscache/openssl-session-cache/node";
 *
 * const reported: unknown[] = [];
 * const server = createServer({ maxVersion: "TLSv1.2" }); // tickets on, by default
 * const handle = attachSessionCache(server, new SessionCache(), {
 *   onError: (e) => reported.push(e),
 * });
 * // On Node, clients without tickets still resume through the cache: "limited".
 * const onNode = !("Deno" in globalThis) && !("Bun" in globalThis);
 * assert.equal(handle.status, onNode ? "limited" : "inactive");
 * // On Node: "tickets"; on Deno and Bun: "runtime", the one thing that matters there.
 * assert.equal(handle.warnings.length, 1);
 * assert.deepEqual(reported, handle.warnings);
 * handle.detach();
 * ```
 */
export function attachSessionCache(
  server: Server,
  cache: SessionCache,
  options: AttachSessionCacheOptions = {},
): AttachedSessionCache {
  const action = "attach session cache";
  if (typeof server !== "object" || server === null) {
    throw new TypeError(
      `Cannot ${action}: server must be a tls.Server: received ${show(server)}`,
    );
  }
  // The server's methods are read once; the listeners are added and removed with those.
  const { on, removeListener, listenerCount } = server as unknown as Record<string, unknown>;
  if (
    typeof on !== "function" || typeof removeListener !== "function" ||
    typeof listenerCount !== "function"
  ) {
    throw new TypeError(
      `Cannot ${action}: server must be a tls.Server: received ${show(server)}`,
    );
  }
  if (!isSessionCache(cache)) {
    throw new TypeError(
      `Cannot ${action}: cache must be a SessionCache: received ${show(cache)}`,
    );
  }
  // Each option is read once, checked, then used.
  const o = checkOptions(action, options);
  const { sessionTimeout, sidCtx: sidCtxOption, lookupTimeoutMs: deadline, onError } = o;
  if (sessionTimeout !== undefined) checkSeconds(action, "sessionTimeout", sessionTimeout);
  const lookupTimeoutMs = checkDelayMs(action, "lookupTimeoutMs", deadline ?? 50, true);
  checkFunction(action, "onError", onError);
  const fixedSidCtx = sidCtxOption === undefined ? undefined : encodeSidCtx(action, sidCtxOption);
  for (const event of ["newSession", "resumeSession"] as const) {
    const n = listenerCount.call(server, event);
    if (n !== 0) {
      // Node destroys the connection when 'resumeSession' is answered twice.
      throw new TypeError(
        `Cannot ${action}: server must have no "${event}" listener (one cache per server): received ${
          show(n)
        }`,
      );
    }
  }

  const report = (error: unknown): void =>
    callHook(onError as ((error: unknown) => void) | undefined, error);

  // ---- diagnosis: where the cache is not consulted --------------------------------------------

  const warnings: SessionCacheWarning[] = [];
  const has = (code: SessionCacheWarningCode): boolean => warnings.some((w) => w.code === code);
  const warn = (code: SessionCacheWarningCode, message: string): void => {
    if (has(code) || has("runtime")) return; // once each; the runtime makes the rest moot
    const warning = new SessionCacheWarning(code, message);
    warnings.push(warning);
    report(warning);
  };
  const warnRuntime = (what: string): void =>
    warn(
      "runtime",
      `${what} never emits the node:tls 'newSession' and 'resumeSession' events: the session cache is never consulted on this server (run it on Node for resumption through the cache)`,
    );
  const warnTickets = (): void =>
    warn(
      "tickets",
      "Session tickets are on: TLS 1.2 clients that support tickets (all common ones) resume from tickets, never from the session cache; set secureOptions: constants.SSL_OP_NO_TICKET on the server",
    );
  const warnTls13 = (): void =>
    warn(
      "tls13",
      'TLS 1.3 is allowed: TLS 1.3 clients resume from tickets (or not at all with SSL_OP_NO_TICKET), never from the session cache, which serves TLS 1.2 clients only; set maxVersion: "TLSv1.2" on the server to resume every client by session id',
    );
  const diagnoseSetup = (): void => {
    const runtime = sessionlessRuntime();
    if (runtime !== undefined) {
      warnRuntime(`The ${runtime} node:tls server`);
      return;
    }
    // Node keeps the server's TLS options on the server object; each is read once.
    const { secureOptions, maxVersion, minVersion, secureProtocol } = server as unknown as Record<
      string,
      unknown
    >;
    let max = VERSIONS[typeof maxVersion === "string" ? maxVersion : DEFAULT_MAX_VERSION] ?? 4;
    let min = VERSIONS[typeof minVersion === "string" ? minVersion : DEFAULT_MIN_VERSION] ?? 1;
    if (typeof secureProtocol === "string" && /^TLSv1_2_/.test(secureProtocol)) max = min = 3;
    if (min > 3) {
      warn(
        "tls13-only",
        "TLS 1.2 is not allowed (minVersion): TLS 1.3 clients resume from tickets, never from the session cache, so it is never consulted",
      );
      return;
    }
    const options = typeof secureOptions === "number" ? secureOptions : 0;
    if ((options & SSL_OP_NO_TICKET) === 0) warnTickets();
    if (max > 3) warnTls13();
  };
  try {
    diagnoseSetup();
  } catch (e) {
    report(e); // a server object with hostile getters: the connections will tell
  }

  // Whether the server has emitted any session event: a TLS 1.2 full
  // handshake without one means the runtime never emits them.
  let sawSessionEvent = false;

  // ---- the session events ---------------------------------------------------------------------

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

  const finish = (done: unknown): void => {
    try {
      if (typeof done === "function") done();
    } catch (e) {
      report(e);
    }
  };

  const onNewSession = (idArg: unknown, dataArg: unknown, done: unknown): void => {
    sawSessionEvent = true;
    try {
      // Node's arguments, read once: the id and the session bytes, copied.
      if (!isUint8Array(idArg) || !isUint8Array(dataArg)) {
        throw new TypeError(
          `Cannot store session: the id and data of 'newSession' must be Uint8Arrays: received ${
            show(idArg)
          }, ${show(dataArg)}`,
        );
      }
      const id = copyBytes(idArg);
      const data = copyBytes(dataArg);
      // No serialized session (a detached array, say): nothing Node could resume.
      if (data.length === 0) {
        throw new TypeError(
          "Cannot store session: the data of 'newSession' must not be empty: received 0 bytes",
        );
      }
      const fields = readSessionFields(data);
      const version = fields.version ?? TLS1_2_VERSION;
      // TLS 1.3 sessions (one per ticket) can never come back by id: Node
      // resumes TLS 1.3 from its own tickets. Their handshakes are counted
      // at 'secureConnection'.
      if (version < TLS1_3_VERSION && id.length > 0 && id.length <= MAX_ID_BYTES) {
        const ctx = sidCtx();
        const session: Session = {
          id,
          time: cache.now(),
          timeout: lifetime(),
          version,
          ...(ctx !== undefined && { sidCtx: ctx }),
          data,
        };
        const key = hex(id);
        counted.set(key, true);
        if (counted.size > MAX_PENDING) counted.delete(counted.keys().next().value as string);
        const good = cache.stats.acceptGood;
        let stored: Promise<void> | undefined;
        try {
          stored = cache.handshakeCompleted({ side: "server", session, resumed: false });
        } catch (e) {
          // Refused before it counted (not a callback that threw afterwards):
          // leave the handshake to be counted at its 'secureConnection'.
          if (cache.stats.acceptGood === good) counted.delete(key);
          throw e;
        }
        if (stored !== undefined) {
          // onNewSession returned a Promise (an external store's write): hold
          // the handshake until it settles, so that another server asked for
          // this session right after finds it, but never longer than
          // lookupTimeoutMs. settleWithin handles its rejection.
          void settleWithin(stored, lookupTimeoutMs).then((settled) => {
            if (settled.status === "rejected") report(settled.reason);
            finish(done);
          });
          return;
        }
      }
    } catch (e) {
      report(e);
    }
    finish(done);
  };

  const onResumeSession = (idArg: unknown, done: unknown): void => {
    sawSessionEvent = true;
    let answered = false;
    const answer = (data: Buffer | null): void => {
      if (answered) return;
      answered = true;
      try {
        if (typeof done === "function") done(null, data);
      } catch (e) {
        // Never answer twice: Node destroys the connection on a second call.
        report(e);
      }
    };
    let id: Uint8Array;
    let pending: Promise<Session | undefined>;
    // A lookup that outlives its handshake is cancelled: a late answer from a
    // slow external store must not count a hit for a full handshake.
    const abort = new AbortController();
    try {
      // Node's id, read once and copied; OpenSSL asks about 1 to 32 bytes.
      if (!isUint8Array(idArg) || byteLength(idArg) === 0 || byteLength(idArg) > MAX_ID_BYTES) {
        throw new TypeError(
          `Cannot resume session: the id of 'resumeSession' must be 1 to 32 bytes: received ${
            show(idArg)
          }`,
        );
      }
      id = copyBytes(idArg);
      const ctx = sidCtx();
      pending = cache.lookup({
        id,
        version: TLS1_2_VERSION,
        ...(ctx !== undefined && { sidCtx: ctx }),
      }, { signal: abort.signal });
    } catch (e) {
      report(e);
      answer(null);
      return;
    }
    void settleWithin(pending, lookupTimeoutMs).then((settled) => {
      try {
        if (settled.status === "fulfilled") {
          answer(sessionData(settled.value, id));
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
      } catch (e) {
        report(e); // nothing here may reject the chain
      }
      answer(null);
    });
  };

  /**
   * The bytes to hand Node for a found session, or `null`: its `data`, read
   * once, when it is a real Uint8Array whose DER session id (when readable)
   * is the one asked about. OpenSSL does not compare that id: a session for
   * another id would fail the handshake instead of making it a full one.
   */
  const sessionData = (found: unknown, id: Uint8Array): Buffer | null => {
    try {
      if (typeof found !== "object" || found === null) return null;
      const data = (found as { data?: unknown }).data;
      if (data === undefined) return null;
      if (!isUint8Array(data)) {
        throw new TypeError(
          `Cannot resume session: its data must be a Uint8Array: received ${show(data)}`,
        );
      }
      const bytes = copyBytes(data);
      const inner = readSessionFields(bytes).id;
      if (inner !== undefined && !sameBytes(inner, id)) {
        throw new TypeError(
          `Cannot resume session: its data must hold the session id asked for (${
            hex(id)
          }): received ${hex(inner) || "an empty id"}`,
        );
      }
      return Buffer.from(bytes.buffer, 0, bytes.length);
    } catch (e) {
      report(e);
      return null;
    }
  };

  /** Calls a socket method once; a throw is reported and answers `undefined`. */
  const ask = (question: () => unknown): unknown => {
    try {
      return question();
    } catch (e) {
      report(e);
      return undefined;
    }
  };

  const onSecureConnection = (socket: TLSSocket): void => {
    try {
      // Each answer of the socket is asked once and checked.
      const resumed = ask(() => socket.isSessionReused()) === true;
      const tls13 = ask(() => socket.getProtocol()) === "TLSv1.3";
      if (tls13) {
        warnTls13();
        cache.handshakeCompleted({ side: "server", resumed, tls13 });
        return;
      }
      // Deno answers null, Bun a DER session: anything but bytes is no session.
      const der = ask(() => socket.getSession());
      const fields = isUint8Array(der) ? readSessionFields(copyBytes(der)) : {};
      const id = fields.id;
      if (!resumed) {
        // Counted at 'newSession' unless the session had no id (tickets).
        if (id !== undefined && id.length > 0 && counted.delete(hex(id))) return;
        if (fields.version !== undefined && id !== undefined && id.length === 0) warnTickets();
        else if (!sawSessionEvent) warnRuntime("This server");
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
          version: fields.version !== undefined && fields.version <= 0xffff
            ? fields.version
            : TLS1_2_VERSION,
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

  const listeners = [
    ["connection", onConnection],
    ["newSession", onNewSession],
    ["resumeSession", onResumeSession],
    ["secureConnection", onSecureConnection],
  ] as const;
  for (const [event, listener] of listeners) on.call(server, event, listener);

  let live = true;
  return {
    detach(): void {
      if (!live) return;
      live = false;
      for (const [event, listener] of listeners) removeListener.call(server, event, listener);
      counted.clear();
    },
    get status(): AttachedStatus {
      if (warnings.some((w) => INACTIVE.has(w.code))) return "inactive";
      return warnings.length > 0 ? "limited" : "active";
    },
    get warnings(): readonly SessionCacheWarning[] {
      return [...warnings];
    },
  };
}

function encodeSidCtx(action: string, sidCtx: unknown): Uint8Array {
  let bytes: Uint8Array;
  if (typeof sidCtx === "string") bytes = new TextEncoder().encode(sidCtx);
  else if (isUint8Array(sidCtx)) bytes = copyBytes(sidCtx);
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
