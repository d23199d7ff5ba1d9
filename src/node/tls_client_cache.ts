/**
 * A client-side TLS session cache for `node:tls` clients on Node, Deno and
 * Bun: it keeps the sessions a server hands out (`'session'` events) per
 * peer and offers one on the next connection to that peer.
 *
 * OpenSSL's client cache (`SSL_SESS_CACHE_CLIENT`) stores client sessions
 * but never looks them up: choosing the session for a connection is left to
 * the application. This class is that application part, a peer index, over
 * a {@linkcode SessionCache} in client mode that holds the sessions (so the
 * counters are OpenSSL's `connect`, `connectGood` and `hits`, and expiry and
 * removal follow OpenSSL's rules).
 *
 * @module
 */

import type { TLSSocket } from "node:tls";
import { Buffer } from "node:buffer";
import { SESS_CACHE_CLIENT } from "../modes.ts";
import {
  expiryOf,
  MAX_SESSION_ID_LENGTH,
  type Session,
  TLS1_2_VERSION,
  TLS1_3_VERSION,
} from "../session.ts";
import type { CacheStats } from "../core/cache_state.ts";
import { SessionCache } from "../shell/session_cache.ts";
import { report } from "../_async.ts";
import {
  checkCount,
  checkFunction,
  checkOptions,
  checkSeconds,
  copyBytes,
  isUint8Array,
  show,
} from "../_validate.ts";
import { readSessionFields } from "./_ssl_session_der.ts";

/** RFC 8446 §4.6.1: a ticket lifetime is at most seven days. */
const MAX_TICKET_LIFETIME = 604800;
/** Sessions kept per peer: TLS 1.3 servers send two tickets per handshake. */
const MAX_SESSIONS_PER_PEER = 4;

/** The server a client connects to: what tells its sessions apart. */
export interface TlsPeer {
  /** Host name or address connected to. */
  readonly host: string;
  /** TCP port. */
  readonly port: number;
  /** The SNI server name, if it differs from `host`. */
  readonly servername?: string;
}

/** Options of {@linkcode TlsClientSessionCache}. */
export interface TlsClientSessionCacheOptions {
  /** The clock, in seconds. Default `Math.floor(Date.now() / 1000)`. */
  readonly now?: () => number;
  /**
   * Lifetime in seconds of a session whose server sent no lifetime (TLS 1.2
   * session ids; tickets with a hint of 0). The client cannot learn a
   * server's `sessionTimeout`: set this to it when known. Default 7200,
   * OpenSSL's default session timeout.
   */
  readonly timeout?: number;
  /** Most peers remembered; the least recently used is forgotten first. Default 1000. */
  readonly maxPeers?: number;
  /** Receives errors from `'session'` events that could not be stored. */
  readonly onError?: (error: unknown) => void;
}

/** What {@linkcode TlsClientSessionCache.connectOptions} returns. */
export interface TlsSessionOption {
  /** The session to offer, for `tls.connect({ session })`; absent when none. */
  readonly session?: Buffer;
}

interface Stored {
  readonly session: Session;
  readonly ticket: boolean; // TLS 1.3: offered once
}

/** A peer read once and checked, with the key its sessions are indexed by. */
interface Peer {
  readonly peer: TlsPeer;
  readonly key: string;
}

function randomId(): Uint8Array {
  const id = new Uint8Array(32);
  crypto.getRandomValues(id);
  return id;
}

/**
 * Reads a peer argument once into a plain value and checks it: `host`,
 * `port` and `servername` are each read exactly once, so a getter or a Proxy
 * cannot slip another peer past the check.
 */
function readPeer(action: string, peer: unknown): Peer {
  if (typeof peer !== "object" || peer === null) {
    throw new TypeError(`Cannot ${action}: peer must be an object: received ${show(peer)}`);
  }
  const { host, port, servername } = peer as Record<string, unknown>;
  if (typeof host !== "string" || host === "") {
    throw new TypeError(
      `Cannot ${action}: peer.host must be a non-empty string: received ${show(host)}`,
    );
  }
  if (typeof port !== "number") {
    throw new TypeError(`Cannot ${action}: peer.port must be a number: received ${show(port)}`);
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(
      `Cannot ${action}: peer.port must be an integer from 0 to 65535: received ${show(port)}`,
    );
  }
  if (servername !== undefined && typeof servername !== "string") {
    throw new TypeError(
      `Cannot ${action}: peer.servername must be a string: received ${show(servername)}`,
    );
  }
  const plain: TlsPeer = servername === undefined ? { host, port } : { host, port, servername };
  return { peer: plain, key: `${servername ?? host}\0${host}\0${port}` };
}

/** The bytes of a session argument (a real Uint8Array), copied once. */
function readData(action: string, data: unknown): Uint8Array<ArrayBuffer> {
  if (!isUint8Array(data)) {
    throw new TypeError(`Cannot ${action}: data must be a Uint8Array: received ${show(data)}`);
  }
  return copyBytes(data);
}

/**
 * A client-side session cache for `node:tls`: sessions are kept per peer
 * (host, port, server name), offered on the next connection, dropped when
 * their lifetime ends, and TLS 1.3 tickets are offered only once
 * (RFC 8446 §C.4).
 *
 * Lifetimes: a TLS 1.3 ticket or TLS 1.2 ticket lives as long as the
 * server's lifetime hint says (at most 7 days); a TLS 1.2 session id, which
 * carries no hint, lives `timeout` seconds.
 *
 * Runtimes: on Node and Bun the sessions are the real serialized sessions.
 * Deno 2.9 hands out opaque tokens (`deno-tls12-session:host:port`) and
 * keeps the real sessions in its own process-wide store; offering the token
 * is what turns resumption on, so this cache works there too. Deno 2.9.6
 * resumed only connections without a custom `ca` option in our tests.
 *
 * @example Nothing to offer for a peer never seen
 * ```ts
 * import assert from "node:assert/strict";
 * import { TlsClientSessionCache } from "@sesscache/openssl-session-cache/node";
 *
 * const sessions = new TlsClientSessionCache({ timeout: 300 });
 * const peer = { host: "127.0.0.1", port: 8443, servername: "localhost" };
 * assert.deepEqual(sessions.connectOptions(peer), {});
 * assert.equal(sessions.size, 0);
 * ```
 *
 * @example Use with tls.connect (needs a server)
 * ```ts ignore
 * import { connect } from "node:tls";
 * import { TlsClientSessionCache } from "@sesscache/openssl-session-cache/node";
 * const sessions = new TlsClientSessionCache();
 * const peer = { host: "example.com", port: 443 };
 * const socket = connect({ ...peer, ...sessions.connectOptions(peer) });
 * sessions.track(socket, peer); // stores the sessions the server sends
 * ```
 */
export class TlsClientSessionCache {
  readonly #cache: SessionCache;
  readonly #maxPeers: number;
  readonly #onError: ((error: unknown) => void) | undefined;
  /** Peer key to its sessions, oldest first; Map order = least recently used first. */
  readonly #peers = new Map<string, Stored[]>();
  /** Each stored session's bytes to its peer key (to unindex removals). */
  readonly #owner = new Map<Uint8Array, string>();

  /**
   * Creates an empty cache.
   *
   * @param options Clock, default lifetime, peer limit, error hook.
   * @throws {TypeError | RangeError} If an option is invalid.
   */
  constructor(options: TlsClientSessionCacheOptions = {}) {
    const action = "create client session cache";
    // Each option is read once, checked, then used.
    const { now, timeout, maxPeers, onError } = checkOptions(action, options);
    checkFunction(action, "now", now);
    if (timeout !== undefined) checkSeconds(action, "timeout", timeout);
    const peers = checkCount(action, "maxPeers", maxPeers ?? 1000);
    checkFunction(action, "onError", onError);
    this.#maxPeers = peers;
    this.#onError = onError as ((error: unknown) => void) | undefined;
    this.#cache = new SessionCache({
      mode: SESS_CACHE_CLIENT,
      cacheSize: 0, // bounded by maxPeers × MAX_SESSIONS_PER_PEER instead
      ...(timeout !== undefined && { timeout }),
      ...(now !== undefined && { now: now as () => number }),
      onRemoveSession: (session) => this.#unindex(session),
    });
  }

  /** Sessions held, over all peers. */
  get size(): number {
    return this.#cache.size;
  }

  /** Peers with at least one session. */
  get peers(): number {
    return this.#peers.size;
  }

  /**
   * OpenSSL's client counters: `connect` (tracked connections), `connectGood`
   * (completed handshakes), `hits` (resumed ones), `number` (sessions held).
   */
  get stats(): CacheStats {
    return this.#cache.stats;
  }

  /** The default lifetime in seconds of sessions without a lifetime hint. */
  get timeout(): number {
    return this.#cache.timeout;
  }

  set timeout(timeout: number) {
    this.#cache.timeout = timeout;
  }

  /**
   * The options to spread into `tls.connect()` for this peer: the newest
   * live session, or nothing. A TLS 1.3 ticket is removed as it is offered
   * (a ticket is used once); a TLS 1.2 session stays for later connections.
   * Expired sessions are dropped on the way.
   *
   * @param peer The host, port and server name about to be connected to.
   * @returns `{ session }`, or `{}` when there is nothing to offer.
   * @throws {TypeError | RangeError} If `peer` is invalid.
   *
   * @example Spread into the connect options
   * ```ts
   * import assert from "node:assert/strict";
   * import { TlsClientSessionCache } from "@sesscache/openssl-session-cache/node";
   *
   * const sessions = new TlsClientSessionCache();
   * const peer = { host: "127.0.0.1", port: 443 };
   * const options = { ...peer, ...sessions.connectOptions(peer) };
   * assert.equal("session" in options, false); // nothing stored yet
   * ```
   */
  connectOptions(peer: TlsPeer): TlsSessionOption {
    const { key } = readPeer("offer session", peer);
    // The clock first: it is the caller's code and may call back into this cache.
    const now = this.#cache.now();
    // flush(0) would empty the cache (OpenSSL's rule); at 0 nothing can have expired.
    if (now > 0) this.#cache.flush(now);
    const list = this.#peers.get(key);
    if (list === undefined) return {};
    for (let i = list.length - 1; i >= 0; i--) {
      const stored = list[i]!;
      const { session } = stored;
      const data = session.data!;
      const cached = this.#cache.get(session.id, { version: session.version ?? 0 });
      if (cached?.data !== data) {
        // Replaced in the SessionCache by a session with the same id (no callback then).
        list.splice(i, 1);
        this.#owner.delete(data);
        continue;
      }
      if (now > expiryOf(cached)) continue;
      if (stored.ticket) this.#cache.remove(cached); // used once; unindexed by the callback
      else this.#touch(key, list);
      // A copy: what the caller does with it cannot change the stored session.
      return { session: Buffer.from(data) };
    }
    if (list.length === 0) this.#peers.delete(key);
    return {};
  }

  /**
   * Follows a connecting socket: counts its handshake (`connect`,
   * `connectGood`, `hits`) and stores every session the server sends for
   * this peer. Call it right after `tls.connect()`.
   *
   * @param socket The socket `tls.connect()` returned.
   * @param peer The peer it connects to (as given to `connectOptions`).
   * @returns The socket.
   * @throws {TypeError | RangeError} If `peer` is invalid or `socket` is not an event emitter.
   *
   * @example Resuming on the second connection (needs a server)
   * ```ts ignore
   * import { connect } from "node:tls";
   * import { TlsClientSessionCache } from "@sesscache/openssl-session-cache/node";
   * const sessions = new TlsClientSessionCache();
   * const peer = { host: "example.com", port: 443 };
   * for (let i = 0; i < 2; i++) {
   *   const socket = sessions.track(connect({ ...peer, ...sessions.connectOptions(peer) }), peer);
   *   await new Promise((done) => socket.once("secureConnect", done));
   *   console.log(socket.isSessionReused()); // false, then true
   *   socket.end();
   *   await new Promise((done) => socket.once("close", done));
   * }
   * ```
   */
  track<T extends TLSSocket>(socket: T, peer: TlsPeer): T {
    const action = "track socket";
    const { peer: fixed } = readPeer(action, peer);
    if (typeof socket !== "object" || socket === null) {
      throw new TypeError(`Cannot ${action}: socket must be a TLSSocket: received ${show(socket)}`);
    }
    // The socket's methods are read once and checked before anything is attached or counted.
    const { on, once } = socket as unknown as Record<string, unknown>;
    if (typeof on !== "function" || typeof once !== "function") {
      throw new TypeError(
        `Cannot ${action}: socket must be a TLSSocket (with on and once): received ${show(socket)}`,
      );
    }
    on.call(socket, "session", (data: unknown) => {
      try {
        this.store(fixed, data as Uint8Array);
      } catch (e) {
        this.#report(e);
      }
    });
    once.call(socket, "secureConnect", () => {
      // Each answer of the socket is asked once; one that throws or is not
      // what Node answers counts as "no" (the handshake still completed).
      const reused = this.#ask(() => socket.isSessionReused()) === true;
      const tls13 = this.#ask(() => socket.getProtocol()) === "TLSv1.3";
      try {
        this.#cache.handshakeCompleted({ side: "client", resumed: reused, tls13 });
      } catch (e) {
        this.#report(e);
      }
    });
    this.#cache.handshakeStarted("client");
    return socket;
  }

  /** Calls a socket method; a throw is reported and answers `undefined`. */
  #ask(question: () => unknown): unknown {
    try {
      return question();
    } catch (e) {
      this.#report(e);
      return undefined;
    }
  }

  /**
   * Stores a serialized session for a peer (what a `'session'` event
   * carries); {@linkcode TlsClientSessionCache.track} calls it for you.
   *
   * @param peer The peer the session belongs to.
   * @param data The session bytes.
   * @returns Whether it was stored (`false` for an empty buffer or a lifetime of 0).
   * @throws {TypeError | RangeError} If an argument is invalid.
   *
   * @example A TLS 1.2 session is offered again and again
   * ```ts
   * import assert from "node:assert/strict";
   * import { TlsClientSessionCache } from "@sesscache/openssl-session-cache/node";
   *
   * let now = 1000;
   * const sessions = new TlsClientSessionCache({ now: () => now, timeout: 300 });
   * const peer = { host: "localhost", port: 443 };
   * // Deno's token for a TLS 1.2 session (Node and Bun give the DER session).
   * sessions.store(peer, new TextEncoder().encode("deno-tls12-session:localhost:443"));
   * assert.ok(sessions.connectOptions(peer).session, "first offer");
   * assert.ok(sessions.connectOptions(peer).session, "second offer");
   * now += 301;
   * assert.equal(sessions.connectOptions(peer).session, undefined, "expired");
   * ```
   */
  store(peer: TlsPeer, data: Uint8Array): boolean {
    const action = "store session";
    // Read and check everything, and build the session, before changing anything.
    const { key } = readPeer(action, peer);
    const bytes = readData(action, data);
    if (bytes.length === 0) return false;
    const fields = readSessionFields(bytes);
    // A version no TLS session has is an unreadable one (the session is kept, as version 0).
    let version = fields.version !== undefined && fields.version <= 0xffff
      ? fields.version
      : undefined;
    let ticket = fields.hasTicket === true;
    if (version === undefined) {
      // Deno's tokens: "deno-tls12-session:…", "deno-tls13-session-ticket-N:…".
      const text = new TextDecoder().decode(bytes.subarray(0, 32));
      if (text.startsWith("deno-tls13-session-ticket")) {
        version = TLS1_3_VERSION;
        ticket = true;
      } else if (text.startsWith("deno-tls12")) version = TLS1_2_VERSION;
      else if (text.startsWith("deno-tls13")) return false; // the dummy session
    }
    const tls13 = version !== undefined && version >= TLS1_3_VERSION;
    const hint = fields.ticketLifetimeHint;
    const timeout = ticket && hint !== undefined && hint > 0
      ? Math.min(hint, MAX_TICKET_LIFETIME)
      : this.#cache.timeout;
    if (timeout === 0) return false;
    const id = fields.id !== undefined && fields.id.length > 0 &&
        fields.id.length <= MAX_SESSION_ID_LENGTH
      ? fields.id
      : randomId();
    // The clock is the caller's code and may call back into this cache: ask
    // it before reading the peer's list, so that the list is the current one.
    const time = this.#cache.now();
    const session: Session = { id, time, timeout, version: version ?? 0, data: bytes };
    const list = this.#peers.get(key) ?? [];
    // A TLS 1.2 session supersedes everything older; tickets pile up to a limit.
    const keep = tls13 ? MAX_SESSIONS_PER_PEER - 1 : 0;
    while (list.length > keep) this.#drop(list.shift()!);
    // The add cannot refuse a session built and checked as above; it goes
    // first, and the session is indexed only once it is held.
    this.#cache.add(session);
    list.push({ session, ticket: tls13 });
    this.#owner.set(bytes, key);
    this.#touch(key, list);
    while (this.#peers.size > this.#maxPeers) {
      const [oldest, sessions] = this.#peers.entries().next().value as [string, Stored[]];
      this.#peers.delete(oldest);
      for (const s of sessions) this.#drop(s);
    }
    return true;
  }

  /**
   * Forgets every session of a peer (e.g. after its certificate changed).
   *
   * @param peer The peer.
   * @returns How many sessions were dropped.
   * @throws {TypeError | RangeError} If `peer` is invalid.
   *
   * @example Forgetting a peer
   * ```ts
   * import assert from "node:assert/strict";
   * import { TlsClientSessionCache } from "@sesscache/openssl-session-cache/node";
   *
   * const sessions = new TlsClientSessionCache();
   * const peer = { host: "localhost", port: 443 };
   * sessions.store(peer, new TextEncoder().encode("deno-tls12-session:localhost:443"));
   * assert.equal(sessions.forget(peer), 1);
   * assert.equal(sessions.size, 0);
   * ```
   */
  forget(peer: TlsPeer): number {
    const { key } = readPeer("forget peer", peer);
    const list = this.#peers.get(key);
    if (list === undefined) return 0;
    this.#peers.delete(key);
    for (const s of list) this.#drop(s);
    return list.length;
  }

  /**
   * Forgets every session.
   *
   * @example Forgetting everything
   * ```ts
   * import assert from "node:assert/strict";
   * import { TlsClientSessionCache } from "@sesscache/openssl-session-cache/node";
   *
   * const sessions = new TlsClientSessionCache();
   * sessions.store({ host: "a", port: 1 }, new TextEncoder().encode("deno-tls12-session:a:1"));
   * sessions.clear();
   * assert.equal(sessions.size, 0);
   * assert.equal(sessions.peers, 0);
   * ```
   */
  clear(): void {
    this.#peers.clear();
    this.#owner.clear();
    this.#cache.flush(0);
  }

  #touch(key: string, list: Stored[]): void {
    this.#peers.delete(key);
    this.#peers.set(key, list);
  }

  /** Removes a session the index no longer holds from the SessionCache. */
  #drop(stored: Stored): void {
    this.#owner.delete(stored.session.data!);
    this.#cache.remove(stored.session);
  }

  /** Called for every session leaving the SessionCache: drops it from its peer's list. */
  #unindex(session: Session): void {
    const data = session.data;
    if (data === undefined) return;
    const key = this.#owner.get(data);
    if (key === undefined) return;
    this.#owner.delete(data);
    const list = this.#peers.get(key);
    if (list === undefined) return;
    const i = list.findIndex((s) => s.session.data === data);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#peers.delete(key);
  }

  /** Reports an error; a hook that throws or rejects must not break a connection. */
  #report(error: unknown): void {
    report(this.#onError, error);
  }
}
