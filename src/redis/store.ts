/**
 * A Redis-backed external session store that plugs into a `SessionCache`
 * where OpenSSL's external cache sits: `sess_new_cb` (a new session is SET in
 * Redis with an absolute expiry, so Redis drops it by itself), `sess_get_cb`
 * (an internal miss asks Redis with GET) and `sess_remove_cb` (DEL, for
 * explicit removals only: see {@linkcode SessionStoreHooks.onRemoveSession}).
 *
 * This file imports no Redis client. It talks to a tiny
 * `SessionStoreClient` (`get`, `set` with an absolute expiry, `del`, all on
 * strings), which `nodeRedisClient` / `commandClient` in `clients.ts` build
 * from a real client.
 *
 * Bounded failure: every Redis call has a deadline (`timeoutMs`, default 50 ms).
 * A slow, broken or absent Redis turns lookups into misses (so handshakes fall
 * back to full ones) and writes into no-ops; nothing throws into the TLS stack
 * and no promise is left rejected without a handler. At most `maxInFlight`
 * calls (default 64) wait for Redis at once; beyond that, lookups miss and
 * writes are dropped at once. After 5 failures in a row a circuit breaker
 * skips Redis for a second (`breaker`), then lets one probe through, so an
 * outage costs no deadline per handshake. A value read back is checked for
 * its length before any decoding. Errors, timeouts, skipped and dropped calls
 * are counted in {@linkcode RedisSessionStore.stats} and reported to `onError`.
 *
 * Stored values hold session secrets (the master secret is inside the
 * serialized session). Give `keys` to encrypt them with AES-GCM (WebCrypto),
 * and run the Redis server without persistence (`--save "" --appendonly no`).
 *
 * @module
 */

import { expiryOf, type RemovalReason, type Session } from "../session.ts";
import type { SessionLookup } from "../core/lookup.ts";
import { hex, sameBytes } from "../_bytes.ts";
import { report, settleWithin } from "../_async.ts";
import {
  checkCount,
  checkDelayMs,
  checkFunction,
  checkId,
  checkOptions,
  checkSidCtx,
  copyBytes,
  copySession,
  isUint8Array,
  show,
} from "../_validate.ts";
import type { SessionStoreClient } from "./clients.ts";
import { SessionStoreTimeoutError, SessionStoreUnavailableError } from "./errors.ts";
import { decodeRecord, encodeRecord } from "./_record.ts";
import { importKeys, seal, type SealingKey, unseal, valueText } from "./_seal.ts";
import { CircuitBreaker } from "./_breaker.ts";

/** An AES-GCM key for {@linkcode RedisSessionStoreOptions.keys}. */
export interface SessionStoreKey {
  /**
   * The key's name, written next to each value it encrypts so that the right
   * key decrypts it: 1 to 32 of `A-Z a-z 0-9 _ -`.
   */
  readonly id: string;
  /** 16, 24 or 32 raw bytes (AES-128/192/256), or an AES-GCM `CryptoKey` allowed to encrypt and decrypt. */
  readonly key: Uint8Array | CryptoKey;
}

/** What a failed or timed-out store call was doing, for {@linkcode RedisSessionStoreOptions.onError}. */
export interface SessionStoreErrorContext {
  /** The operation: a lookup, a write of a new session, a removal, or encoding a session for a write. */
  readonly operation: "get" | "set" | "del" | "encode";
  /** The Redis key involved. */
  readonly key: string;
}

/** Options of {@linkcode RedisSessionStore}. */
export interface RedisSessionStoreOptions {
  /** Prefix of every key. Default `"tls-session:"`. */
  prefix?: string;
  /**
   * The session id context that namespaces the keys (a string is UTF-8
   * encoded; at most 32 bytes). When given, every key uses it; otherwise each
   * key uses the session's own `sidCtx` (writes) or the lookup's (reads).
   */
  sidCtx?: Uint8Array | string;
  /** Deadline of each Redis call in milliseconds: more than 0, at most 2^31 - 1. Default 50. */
  timeoutMs?: number;
  /**
   * Most Redis calls waiting for an answer at once (a call counts until the
   * client settles it, even past its deadline, as a hung Redis still holds
   * it). Beyond it, lookups miss and writes and removals are dropped at once,
   * counted in `dropped`, so a hung Redis cannot pile up commands in the
   * client. An integer >= 1, or `Infinity` for no cap. Default 64.
   */
  maxInFlight?: number;
  /**
   * Encryption keys. When given (non-empty), values are encrypted with
   * AES-GCM under the first key, and values are read with any key of the
   * list (by its id). Plaintext values are then refused (read as misses).
   */
  keys?: readonly SessionStoreKey[];
  /** Called with every error and timeout of a store call (never throws into the caller). */
  onError?: (error: unknown, context: SessionStoreErrorContext) => void;
  /**
   * Circuit breaker: after `failures` consecutive failed or timed-out calls
   * (an integer >= 1, default 5), calls are not sent for `cooldownMs` (more
   * than 0, at most 2^31 - 1; default 1000): lookups miss and writes are
   * dropped at once, so a hung Redis costs no deadline per handshake and no
   * commands pile up in the client. After the cooldown exactly one call, the
   * probe, goes through while the others are still skipped; its success
   * closes the breaker, its failure opens it for another cooldown. `false`
   * turns it off.
   */
  breaker?: { readonly failures?: number; readonly cooldownMs?: number } | false;
  /** The breaker's clock in milliseconds. Default `performance.now`. */
  nowMs?: () => number;
}

/** Counters of a {@linkcode RedisSessionStore}. `gets = hits + misses`. */
export interface SessionStoreStats {
  /** Lookups the store has answered (one still waiting for Redis is not counted yet). */
  readonly gets: number;
  /** Lookups that returned a session. */
  readonly hits: number;
  /** Lookups that returned nothing: absent, refused, failed or timed out. */
  readonly misses: number;
  /** Values read but refused: malformed, wrong id, undecryptable, unknown key, plaintext when encrypting. */
  readonly rejected: number;
  /** New sessions written (SET acknowledged by Redis). */
  readonly sets: number;
  /** Removals acknowledged by Redis. */
  readonly dels: number;
  /** Removals not forwarded to Redis: evictions, expiries and clears of one process's cache. */
  readonly kept: number;
  /** Calls that failed (the client rejected or threw, or a session could not be encoded). */
  readonly errors: number;
  /** Calls that missed their deadline. */
  readonly timeouts: number;
  /** Calls not sent because the circuit breaker was open (lookups counted as misses too). */
  readonly skipped: number;
  /** Calls not sent because `maxInFlight` calls were already waiting for Redis (lookups counted as misses too). */
  readonly dropped: number;
}

/** What a {@linkcode RedisSessionStore} gives to a `SessionCache` (spread into its options). */
export interface SessionStoreHooks {
  /**
   * `sess_new_cb`: writes the session to Redis. Returns a Promise that settles
   * (never rejects) when the write is done or has failed, which
   * `attachSessionCache` waits for, bounded by its `lookupTimeoutMs`, so that
   * another server asked right after the handshake finds the session.
   */
  readonly onNewSession: (session: Session) => Promise<void>;
  /**
   * `sess_remove_cb`: deletes the session from Redis (fire and forget) when
   * the fleet should forget it: an explicit removal (reason `"removed"`, no
   * reason given, or any other value). Evictions from one process's full
   * cache (`"evicted"`), flushes of expired sessions (`"expired"`: Redis
   * expires its copy by itself) and `flush(0)` (`"cleared"`) leave the shared
   * copy for the other processes and count `kept`. Never throws.
   */
  readonly onRemoveSession: (session: Session, cache?: unknown, reason?: RemovalReason) => void;
  /** `sess_get_cb`: reads a session from Redis; resolves `undefined` on any failure, never rejects. */
  readonly getSession: (request: SessionLookup) => Promise<Session | undefined>;
}

const DEFAULT_PREFIX = "tls-session:";
const DEFAULT_TIMEOUT_MS = 50;
const DEFAULT_BREAKER_FAILURES = 5;
const DEFAULT_BREAKER_COOLDOWN_MS = 1000;
const DEFAULT_MAX_IN_FLIGHT = 64;
const ACTION = "create session store";

const encoder = new TextEncoder();

type Counts = { -readonly [K in keyof SessionStoreStats]: number };

type Outcome<T> = { ok: true; value: T } | { ok: false };

type Operation = "get" | "set" | "del";

/**
 * A session store in Redis for `SessionCache`'s external-cache hooks,
 * mirroring what an OpenSSL server does with `SSL_CTX_sess_set_new_cb`,
 * `SSL_CTX_sess_set_get_cb` and `SSL_CTX_sess_set_remove_cb`.
 *
 * - New session: `SET <key> <value> PXAT <(time + timeout) * 1000>`, so Redis
 *   expires it at the session's own expiry (session times are Unix seconds).
 * - Lookup after an internal miss: `GET <key>`; the `SessionCache` then counts
 *   a `cbHits`, checks context and expiry, and copies it into the internal
 *   cache according to its mode.
 * - Removal: `DEL <key>` for an explicit removal (`remove`, a session found
 *   expired on lookup). A session one process evicts, flushes or clears stays
 *   in Redis for the rest of the fleet (it expires there at its own expiry).
 *
 * Keys are `<prefix><sidCtx as hex>:<session id as hex>`. Values are a small
 * versioned binary record (id, time, timeout, version, sidCtx, data),
 * base64-encoded and optionally AES-GCM encrypted; anything malformed, a
 * value whose inner id is not the key's, or one that does not decrypt is a
 * miss.
 *
 * @example Two caches (think: two processes) sharing one store
 * ```ts
 * import assert from "node:assert/strict";
 * import { RedisSessionStore, type SessionStoreClient } from "@sesscache/openssl-session-cache/redis";
 *
 * const map = new Map<string, string>();
 * const client: SessionStoreClient = {
 *   get: async (key) => map.get(key) ?? null,
 *   set: async (key, value) => void map.set(key, value),
 *   del: async (key) => map.delete(key),
 * };
 * const store = new RedisSessionStore(client, { sidCtx: "app" });
 * const id = new Uint8Array([1, 2, 3]);
 * await store.hooks.onNewSession({ id, time: Date.now() / 1000, timeout: 300, data: new Uint8Array([9]) });
 * const found = await store.hooks.getSession({ id });
 * assert.equal(found?.data?.[0], 9);
 * assert.equal(store.stats.hits, 1);
 * ```
 */
export class RedisSessionStore {
  readonly #get: (key: string) => unknown;
  readonly #set: (key: string, value: string, expireAtMs: number | undefined) => unknown;
  readonly #del: (key: string) => unknown;
  readonly #prefix: string;
  readonly #sidCtx: Uint8Array | undefined;
  readonly #timeoutMs: number;
  readonly #maxInFlight: number;
  readonly #keys: readonly SealingKey[];
  readonly #onError: ((error: unknown, context: SessionStoreErrorContext) => void) | undefined;
  readonly #stats: Counts = {
    gets: 0,
    hits: 0,
    misses: 0,
    rejected: 0,
    sets: 0,
    dels: 0,
    kept: 0,
    errors: 0,
    timeouts: 0,
    skipped: 0,
    dropped: 0,
  };
  readonly #breaker: CircuitBreaker;
  /** Client calls sent and not yet settled by the client (past their deadline too). */
  #inFlight = 0;
  readonly #pending = new Set<Promise<void>>();
  /** The last write or removal issued per key: the next one for that key waits for it. */
  readonly #lastByKey = new Map<string, Promise<void>>();
  /**
   * Lookups waiting for Redis, per key; a removal of that key marks them, so
   * that a value read before the DEL landed is not handed back as a hit.
   */
  readonly #reading = new Map<string, Set<{ removed: boolean }>>();

  /** The hooks to spread into `new SessionCache({ ...store.hooks })`. */
  readonly hooks: SessionStoreHooks;

  /**
   * Makes a store on a client. Every option (and each client method) is read
   * once, here, and checked before anything is kept. Raw encryption keys are
   * imported (WebCrypto) in the background; nothing is sent to Redis until
   * the hooks are called.
   *
   * @param client The Redis calls (see `nodeRedisClient`).
   * @param options Prefix, id context, deadline, in-flight cap, encryption keys, error hook, circuit breaker.
   * @throws {TypeError} When the client lacks `get`/`set`/`del`, an option has the wrong type, a key or its id is malformed, key ids repeat, or `onError`/`nowMs` is not a function.
   * @throws {RangeError} When `timeoutMs` or `breaker.cooldownMs` is not more than 0 and at most 2^31 - 1, `maxInFlight` or `breaker.failures` is not an integer >= 1, `sidCtx` exceeds 32 bytes, or a raw key is not 16, 24 or 32 bytes.
   */
  constructor(client: SessionStoreClient, options: RedisSessionStoreOptions = {}) {
    if ((typeof client !== "object" && typeof client !== "function") || client === null) {
      throw new TypeError(`Cannot ${ACTION}: client must be an object: received ${show(client)}`);
    }
    // Each method is read once: a getter cannot swap it after the check.
    const { get, set, del } = client;
    for (const [name, method] of [["get", get], ["set", set], ["del", del]] as const) {
      if (typeof method !== "function") {
        throw new TypeError(
          `Cannot ${ACTION}: client.${name} must be a function: received ${show(method)}`,
        );
      }
    }
    const o = checkOptions(ACTION, options);
    const { prefix, sidCtx, timeoutMs, maxInFlight, keys, onError, breaker, nowMs } = o;
    if (prefix !== undefined && typeof prefix !== "string") {
      throw new TypeError(`Cannot ${ACTION}: prefix must be a string: received ${show(prefix)}`);
    }
    const ctx = sidCtx === undefined ? undefined : encodeSidCtx(ACTION, sidCtx);
    const deadline = checkDelayMs(ACTION, "timeoutMs", timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const cap = maxInFlight === Infinity
      ? Infinity
      : checkCount(ACTION, "maxInFlight", maxInFlight ?? DEFAULT_MAX_IN_FLIGHT);
    checkFunction(ACTION, "nowMs", nowMs);
    checkFunction(ACTION, "onError", onError);
    let failures = Infinity;
    let cooldownMs = 0;
    if (breaker !== false) {
      if (breaker !== undefined && (typeof breaker !== "object" || breaker === null)) {
        throw new TypeError(
          `Cannot ${ACTION}: breaker must be an object or false: received ${show(breaker)}`,
        );
      }
      const b = (breaker ?? {}) as { failures?: unknown; cooldownMs?: unknown };
      const { failures: f, cooldownMs: c } = b;
      failures = checkCount(ACTION, "breaker.failures", f ?? DEFAULT_BREAKER_FAILURES);
      cooldownMs = checkDelayMs(ACTION, "breaker.cooldownMs", c ?? DEFAULT_BREAKER_COOLDOWN_MS);
    }
    const sealing = importKeys(ACTION, keys ?? []);
    // Everything is checked: keep it.
    this.#get = (key) => (get as SessionStoreClient["get"]).call(client, key);
    this.#set = (key, value, at) => (set as SessionStoreClient["set"]).call(client, key, value, at);
    this.#del = (key) => (del as SessionStoreClient["del"]).call(client, key);
    this.#prefix = prefix ?? DEFAULT_PREFIX;
    this.#sidCtx = ctx;
    this.#timeoutMs = deadline;
    this.#maxInFlight = cap;
    this.#keys = sealing;
    this.#onError = onError as RedisSessionStoreOptions["onError"];
    this.#breaker = new CircuitBreaker(
      failures,
      cooldownMs,
      (nowMs as (() => number) | undefined) ?? (() => performance.now()),
    );
    this.hooks = Object.freeze({
      onNewSession: (session: Session) => this.#write(session),
      onRemoveSession: (session: Session, _cache?: unknown, reason?: RemovalReason) => {
        if (reason === "evicted" || reason === "expired" || reason === "cleared") {
          this.#stats.kept++;
        } else this.#delete(session);
      },
      getSession: (request: SessionLookup) => this.#read(request),
    });
  }

  /**
   * A snapshot of the counters (a fresh plain object each time).
   *
   * @returns The counters.
   */
  get stats(): SessionStoreStats {
    return { ...this.#stats };
  }

  /**
   * The Redis key under which a session id lives (for inspection and tests):
   * `<prefix><sidCtx as hex>:<id as hex>`, where the store's `sidCtx` option,
   * when given, takes the place of the argument.
   *
   * @param id The session id: 1 to 32 bytes.
   * @param sidCtx The session id context, at most 32 bytes (ignored when the store has its own).
   * @returns The key.
   * @throws {TypeError} When `id` or `sidCtx` is not a Uint8Array.
   * @throws {RangeError} When `id` is empty or longer than 32 bytes, or `sidCtx` longer than 32.
   *
   * @example The key of a session id
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisSessionStore } from "@sesscache/openssl-session-cache/redis";
   *
   * const client = { get: async () => null, set: async () => {}, del: async () => {} };
   * const store = new RedisSessionStore(client, { prefix: "s:", sidCtx: "app" });
   * assert.equal(store.redisKey(new Uint8Array([0xab])), "s:617070:ab");
   * ```
   */
  redisKey(id: Uint8Array, sidCtx?: Uint8Array): string {
    checkId("build session key", id);
    checkSidCtx("build session key", sidCtx);
    return this.#keyOf(copyBytes(id), sidCtx === undefined ? undefined : copyBytes(sidCtx));
  }

  /** The key of checked (copied) bytes. */
  #keyOf(id: Uint8Array, sidCtx: Uint8Array | undefined): string {
    return `${this.#prefix}${hex(this.#sidCtx ?? sidCtx ?? new Uint8Array())}:${hex(id)}`;
  }

  /**
   * Resolves when every write and removal started so far has finished
   * (acknowledged, failed or timed out: each is bounded by `timeoutMs`).
   * Useful before shutdown and in tests. Never rejects.
   *
   * @returns A promise that resolves once nothing is in flight.
   *
   * @example Waiting for a write
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisSessionStore } from "@sesscache/openssl-session-cache/redis";
   *
   * const keys: string[] = [];
   * const client = {
   *   get: async () => null,
   *   set: async (key: string) => void keys.push(key),
   *   del: async () => {},
   * };
   * const store = new RedisSessionStore(client);
   * store.hooks.onNewSession({ id: new Uint8Array([1]), time: 0, timeout: 1 });
   * await store.settled();
   * assert.equal(keys.length, 1);
   * ```
   */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  /**
   * Serializes a session to the value the store would write under `key`
   * (encrypted when keys are configured). Exposed for tests and tooling. The
   * session is read once and checked as `SessionCache.add` checks it.
   *
   * Format: `s1.<base64 record>` in clear, or `e1.<key id>.<base64 iv|ciphertext|tag>`
   * sealed with AES-GCM, whose additional data binds the value to the key id
   * and the Redis key. The record is: format byte 1, id length, id, flags,
   * time and timeout (float64), then version (uint32), sidCtx and data when present.
   *
   * @param session The session (data at most 1 MiB).
   * @param key The Redis key the value is meant for (default: the session's key).
   * @returns The value.
   * @throws {TypeError | RangeError} When the session is invalid or too large (the promise rejects).
   *
   * @example A value in clear
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisSessionStore } from "@sesscache/openssl-session-cache/redis";
   *
   * const client = { get: async () => null, set: async () => {}, del: async () => {} };
   * const store = new RedisSessionStore(client);
   * const value = await store.encode({ id: new Uint8Array([1]), time: 0, timeout: 1 });
   * assert.match(value, /^s1\./);
   * ```
   */
  async encode(session: Session, key?: string): Promise<string> {
    const s = copySession("encode session", session);
    if (key !== undefined && typeof key !== "string") {
      throw new TypeError(`Cannot encode session: key must be a string: received ${show(key)}`);
    }
    return await seal(encodeRecord(s), this.#keys[0], key ?? this.#keyOf(s.id, s.sidCtx));
  }

  /**
   * Reads a stored value back into a session, checking that it belongs to
   * `key` and session id `id`; `undefined` for anything malformed, too long,
   * undecryptable, or not a string. Exposed for tests and tooling.
   *
   * @param value The stored value.
   * @param key The Redis key it was read from.
   * @param id The session id it should hold.
   * @returns The session, or `undefined`. Never rejects, whatever the arguments.
   *
   * @example A round trip
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisSessionStore } from "@sesscache/openssl-session-cache/redis";
   *
   * const client = { get: async () => null, set: async () => {}, del: async () => {} };
   * const store = new RedisSessionStore(client);
   * const id = new Uint8Array([1]);
   * const value = await store.encode({ id, time: 0, timeout: 1 }, "k");
   * assert.equal((await store.decode(value, "k", id))?.timeout, 1);
   * assert.equal(await store.decode("garbage", "k", id), undefined);
   * assert.equal(await store.decode(42 as never, "k", id), undefined);
   * ```
   */
  async decode(value: string, key: string, id: Uint8Array): Promise<Session | undefined> {
    try {
      if (typeof value !== "string" || typeof key !== "string" || !isUint8Array(id)) {
        return undefined;
      }
      return await this.#decode(value, key, copyBytes(id));
    } catch {
      return undefined;
    }
  }

  async #decode(value: string, key: string, id: Uint8Array): Promise<Session | undefined> {
    const record = await unseal(value, this.#keys, key);
    if (record === undefined) return undefined;
    const session = decodeRecord(record);
    if (session === undefined || !sameBytes(session.id, id)) return undefined;
    return session;
  }

  /**
   * Issues a write or removal for `key` after the previous one for the same
   * key has finished, so that Redis sees them in the order the cache made
   * them (a session added then removed at once must end up deleted, even
   * though encrypting the value takes a few microtasks).
   */
  #enqueue(key: string, work: () => Promise<void>): Promise<void> {
    const previous = this.#lastByKey.get(key);
    const next = previous === undefined ? work() : previous.then(work);
    const settled = next.catch(() => {});
    this.#lastByKey.set(key, settled);
    this.#pending.add(settled);
    void settled.then(() => {
      this.#pending.delete(settled);
      if (this.#lastByKey.get(key) === settled) this.#lastByKey.delete(key);
    });
    return settled;
  }

  #report(error: unknown, context: SessionStoreErrorContext): void {
    report(this.#onError, error, context);
  }

  /**
   * Runs one client call under the deadline, unless `maxInFlight` calls are
   * already out or the breaker is open. Never rejects, never throws.
   */
  async #call<T>(operation: Operation, key: string, run: () => unknown): Promise<Outcome<T>> {
    if (this.#inFlight >= this.#maxInFlight) {
      this.#stats.dropped++;
      return { ok: false };
    }
    const admission = this.#breaker.admit();
    if (admission === "skip") {
      this.#stats.skipped++;
      return { ok: false };
    }
    const probe = admission === "probe";
    // The client's answer, whatever it is (a value, a thenable, a throw), as one promise of ours.
    let promise: Promise<T>;
    try {
      const answer = run();
      promise = new Promise<T>((resolve) => resolve(answer as T));
    } catch (error) {
      promise = Promise.reject(error);
    }
    this.#inFlight++;
    const release = (): void => {
      this.#inFlight--;
    };
    promise.then(release, release);
    const settled = await settleWithin(promise, this.#timeoutMs);
    if (settled.status === "fulfilled") {
      this.#breaker.succeeded(probe);
      return { ok: true, value: settled.value };
    }
    if (settled.status === "timedOut") {
      this.#stats.timeouts++;
      this.#report(new SessionStoreTimeoutError(operation, this.#timeoutMs), { operation, key });
    } else {
      this.#stats.errors++;
      this.#report(settled.reason, { operation, key });
    }
    if (this.#breaker.failed(probe)) {
      this.#report(
        new SessionStoreUnavailableError(this.#breaker.failedInARow, this.#breaker.cooldownMs),
        { operation, key },
      );
    }
    return { ok: false };
  }

  #write(session: Session): Promise<void> {
    let key = "";
    let record: Uint8Array<ArrayBuffer>;
    let expireAtMs: number | undefined;
    try {
      const s = copySession("store session", session);
      key = this.#keyOf(s.id, s.sidCtx);
      record = encodeRecord(s);
      // Redis drops the value at the session's expiry; one that never expires
      // (OpenSSL 3.3's saturated expiry) is stored without one.
      const expiry = expiryOf(s);
      expireAtMs = expiry === Infinity ? undefined : Math.ceil(expiry * 1000);
    } catch (error) {
      this.#encodeFailed(error, key);
      return Promise.resolve();
    }
    const value = seal(record, this.#keys[0], key);
    value.catch(() => {}); // handled below, once its turn comes
    return this.#enqueue(key, async () => {
      let text: string;
      try {
        text = await value;
      } catch (error) {
        this.#encodeFailed(error, key);
        return;
      }
      const outcome = await this.#call("set", key, () => this.#set(key, text, expireAtMs));
      if (outcome.ok) this.#stats.sets++;
    });
  }

  #encodeFailed(error: unknown, key: string): void {
    this.#stats.errors++;
    this.#report(error, { operation: "encode", key });
  }

  #delete(session: Session): void {
    let key: string;
    try {
      key = this.#keyOfSession("remove session", session);
    } catch (error) {
      this.#stats.errors++;
      this.#report(error, { operation: "del", key: "" });
      return;
    }
    // A lookup of this key still waiting for Redis must not resume what is now removed.
    for (const read of this.#reading.get(key) ?? []) read.removed = true;
    void this.#enqueue(key, async () => {
      const outcome = await this.#call("del", key, () => this.#del(key));
      if (outcome.ok) this.#stats.dels++;
    });
  }

  /** The key of a session or lookup request, its `id` and `sidCtx` each read once and checked. */
  #keyOfSession(action: string, value: unknown): string {
    if (typeof value !== "object" || value === null) {
      throw new TypeError(`Cannot ${action}: session must be an object: received ${show(value)}`);
    }
    const { id, sidCtx } = value as { id?: unknown; sidCtx?: unknown };
    checkId(action, id);
    checkSidCtx(action, sidCtx);
    return this.#keyOf(copyBytes(id), sidCtx === undefined ? undefined : copyBytes(sidCtx));
  }

  async #read(request: SessionLookup): Promise<Session | undefined> {
    let session: Session | undefined;
    let key = "";
    try {
      // The request's id is read once; the value read back must hold that very id.
      const r = request as unknown;
      if (typeof r !== "object" || r === null) {
        throw new TypeError(
          `Cannot look up session: request must be an object: received ${show(r)}`,
        );
      }
      const { id: rid, sidCtx } = r as { id?: unknown; sidCtx?: unknown };
      checkId("look up session", rid);
      checkSidCtx("look up session", sidCtx);
      const ownId = copyBytes(rid);
      key = this.#keyOf(ownId, sidCtx === undefined ? undefined : copyBytes(sidCtx));
      const k = key;
      const read = { removed: false };
      let reads = this.#reading.get(k);
      if (reads === undefined) this.#reading.set(k, reads = new Set());
      reads.add(read);
      try {
        const outcome = await this.#call<unknown>("get", k, () => this.#get(k));
        if (outcome.ok && outcome.value !== null && outcome.value !== undefined) {
          const text = valueText(outcome.value);
          session = text === undefined ? undefined : await this.#decode(text, k, ownId);
          if (session === undefined) this.#stats.rejected++;
        }
      } finally {
        reads.delete(read);
        if (reads.size === 0 && this.#reading.get(k) === reads) this.#reading.delete(k);
      }
      // Removed while Redis was asked: a miss, whatever the value read.
      if (read.removed) session = undefined;
    } catch (error) {
      this.#stats.errors++;
      this.#report(error, { operation: "get", key });
      session = undefined;
    }
    // Counted once answered, so that gets = hits + misses at every moment.
    this.#stats.gets++;
    if (session === undefined) this.#stats.misses++;
    else this.#stats.hits++;
    return session;
  }
}

function encodeSidCtx(action: string, sidCtx: unknown): Uint8Array {
  if (typeof sidCtx === "string") {
    const bytes = encoder.encode(sidCtx);
    checkSidCtx(action, bytes);
    return bytes;
  }
  if (!isUint8Array(sidCtx)) {
    throw new TypeError(
      `Cannot ${action}: sidCtx must be a string or a Uint8Array: received ${show(sidCtx)}`,
    );
  }
  const bytes = copyBytes(sidCtx);
  checkSidCtx(action, bytes);
  return bytes;
}
