/**
 * A Redis-backed external session store that plugs into a {@link SessionCache}
 * where OpenSSL's external cache sits: `sess_new_cb` (a new session is SET in
 * Redis with an absolute expiry, so Redis drops it by itself), `sess_get_cb`
 * (an internal miss asks Redis with GET) and `sess_remove_cb` (DEL).
 *
 * This file imports no Redis client. It talks to a tiny
 * {@link SessionStoreClient} (`get`, `set` with an absolute expiry, `del`, all
 * on strings), and {@link nodeRedisClient} / {@link commandClient} adapt a real
 * client to it: the official `redis` package (node-redis; tested with 6) or anything
 * that can send a raw command (ioredis' `call`).
 *
 * Bounded failure: every Redis call has a deadline (`timeoutMs`, default 50 ms).
 * A slow, broken or absent Redis turns lookups into misses (so handshakes fall
 * back to full ones) and writes into no-ops; nothing throws into the TLS stack
 * and no promise is left rejected without a handler. After 5 failures in a row
 * a circuit breaker skips Redis for a second (`breaker`), so an outage costs
 * no deadline per handshake. Errors, timeouts and skipped calls are counted in
 * {@link RedisSessionStore.stats} and reported to `onError`.
 *
 * Stored values hold session secrets (the master secret is inside the
 * serialized session). Give `keys` to encrypt them with AES-GCM (WebCrypto),
 * and run the Redis server without persistence (`--save "" --appendonly no`).
 *
 * @example A store shared by several server processes
 * ```ts ignore
 * import { createClient } from "redis";
 * import { nodeRedisClient, RedisSessionStore, SessionCache } from "@sesscache/openssl-session-cache";
 *
 * const redis = createClient({ url: "redis://127.0.0.1:6379", disableOfflineQueue: true });
 * await redis.connect();
 * const store = new RedisSessionStore(nodeRedisClient(redis), { sidCtx: "my-app" });
 * const cache = new SessionCache({ ...store.hooks });
 * ```
 *
 * @module
 */

import type { Session } from "./session.ts";
import { MAX_SESSION_ID_LENGTH, MAX_SID_CTX_LENGTH } from "./session.ts";

/**
 * The three Redis calls the store needs, on string keys and string values.
 * Adapt a real client with {@link nodeRedisClient} or {@link commandClient},
 * or implement it yourself (a `Map` makes a fine test double).
 *
 * Every method may reject or never settle: the store bounds each call with
 * its own deadline and handles every rejection.
 *
 * @example An in-memory client (ignores expiry)
 * ```ts
 * import type { SessionStoreClient } from "./redis_store.ts";
 * const map = new Map<string, string>();
 * const client: SessionStoreClient = {
 *   get: async (key) => map.get(key) ?? null,
 *   set: async (key, value) => void map.set(key, value),
 *   del: async (key) => map.delete(key),
 * };
 * await client.set("k", "v", undefined);
 * if ((await client.get("k")) !== "v") throw new Error("get");
 * ```
 */
export interface SessionStoreClient {
  /** `GET key`: the value, or `null`/`undefined` when absent. Bytes are decoded as UTF-8. */
  get(key: string): Promise<string | Uint8Array | null | undefined>;
  /**
   * `SET key value PXAT expireAtMs`: store the value until the absolute Unix
   * time `expireAtMs` (milliseconds). `undefined` means no expiry (`SET key value`).
   */
  set(key: string, value: string, expireAtMs: number | undefined): Promise<unknown>;
  /** `DEL key`. */
  del(key: string): Promise<unknown>;
}

/**
 * The part of a node-redis client (`createClient()` from the `redis` package;
 * tested with 6, and 4 and 5 have the same `sendCommand`) that {@link nodeRedisClient} uses.
 */
export interface NodeRedisLike {
  /** Sends a raw command, e.g. `["GET", "key"]`. */
  sendCommand(args: string[]): Promise<unknown>;
  /** Event subscription; `"error"` gets a listener when it has none, so a lost connection cannot crash the process. */
  on?(event: "error", listener: (error: unknown) => void): unknown;
  /** How many listeners an event has. */
  listenerCount?(event: "error"): number;
}

/**
 * Builds a {@link SessionStoreClient} from a function that sends one raw Redis
 * command and resolves with its reply. Works with any client:
 * node-redis' `(args) => client.sendCommand(args)` or ioredis'
 * `(args) => client.call(args[0], ...args.slice(1))`.
 *
 * @param send Sends a command such as `["SET", key, value, "PXAT", "1700000000000"]`.
 * @returns A client for {@link RedisSessionStore}.
 *
 * @example With a fake sender
 * ```ts
 * import { commandClient } from "./redis_store.ts";
 * const sent: string[][] = [];
 * const client = commandClient(async (args) => {
 *   sent.push(args);
 *   return "OK";
 * });
 * await client.set("k", "v", 1_700_000_000_000);
 * if (sent[0]?.join(" ") !== "SET k v PXAT 1700000000000") throw new Error(String(sent[0]));
 * ```
 */
export function commandClient(send: (args: string[]) => Promise<unknown>): SessionStoreClient {
  return {
    get: async (key) => {
      const reply = await send(["GET", key]);
      if (reply === null || reply === undefined) return null;
      if (typeof reply === "string" || reply instanceof Uint8Array) return reply;
      throw new TypeError(`Cannot read session: GET replied with ${typeof reply}`);
    },
    set: (key, value, expireAtMs) =>
      send(
        expireAtMs === undefined
          ? ["SET", key, value]
          : ["SET", key, value, "PXAT", String(expireAtMs)],
      ),
    del: (key) => send(["DEL", key]),
  };
}

/**
 * Adapts a node-redis client (the `redis` npm package; tested with 6.3, and 4 and 5 have the same `sendCommand`) to
 * {@link SessionStoreClient}, using its version-independent `sendCommand`.
 * If the client has no `"error"` listener, one that ignores errors is added:
 * without it, node-redis' `"error"` event would crash the process when Redis
 * goes away (the store counts the failed calls itself).
 *
 * Create the client with `disableOfflineQueue: true` so that commands issued
 * while Redis is unreachable fail at once instead of queueing, and with a
 * `socket.reconnectStrategy` that keeps retrying (the default does).
 *
 * @param client A node-redis client (connected, or connecting).
 * @returns A client for {@link RedisSessionStore}.
 *
 * @example
 * ```ts ignore
 * import { createClient } from "redis";
 * import { nodeRedisClient, RedisSessionStore } from "@sesscache/openssl-session-cache";
 * const redis = createClient({
 *   url: "redis://127.0.0.1:6379",
 *   disableOfflineQueue: true,
 *   socket: { connectTimeout: 1000, reconnectStrategy: (n) => Math.min(50 * n, 1000) },
 * });
 * await redis.connect();
 * const store = new RedisSessionStore(nodeRedisClient(redis));
 * ```
 */
export function nodeRedisClient(client: NodeRedisLike): SessionStoreClient {
  if (typeof client?.sendCommand !== "function") {
    throw new TypeError("Cannot adapt Redis client: it has no sendCommand method");
  }
  if (typeof client.on === "function" && (client.listenerCount?.("error") ?? 0) === 0) {
    client.on("error", () => {});
  }
  return commandClient((args) => client.sendCommand(args));
}

/** An AES-GCM key for {@link RedisSessionStoreOptions.keys}. */
export interface SessionStoreKey {
  /**
   * The key's name, written next to each value it encrypts so that the right
   * key decrypts it: 1 to 32 of `A-Z a-z 0-9 _ -`.
   */
  readonly id: string;
  /** 16, 24 or 32 raw bytes (AES-128/192/256), or an AES-GCM `CryptoKey` allowed to encrypt and decrypt. */
  readonly key: Uint8Array | CryptoKey;
}

/** What a failed or timed-out store call was doing, for {@link RedisSessionStoreOptions.onError}. */
export interface SessionStoreErrorContext {
  /** The operation: a lookup, a write of a new session, a removal, or encoding a session for a write. */
  readonly operation: "get" | "set" | "del" | "encode";
  /** The Redis key involved. */
  readonly key: string;
}

/** Options of {@link RedisSessionStore}. */
export interface RedisSessionStoreOptions {
  /** Prefix of every key. Default `"tls-session:"`. */
  prefix?: string;
  /**
   * The session id context that namespaces the keys (a string is UTF-8
   * encoded; at most 32 bytes). When given, every key uses it; otherwise each
   * key uses the session's own `sidCtx` (writes) or the lookup's (reads).
   */
  sidCtx?: Uint8Array | string;
  /** Deadline of each Redis call in milliseconds. Default 50. */
  timeoutMs?: number;
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
   * (default 5), calls are not sent for `cooldownMs` (default 1000): lookups
   * miss and writes are dropped at once, so a hung Redis costs no deadline per
   * handshake and no commands pile up in the client. After the cooldown,
   * calls go through again; one success closes the breaker, a failure opens
   * it for another cooldown. `false` turns it off.
   */
  breaker?: { readonly failures?: number; readonly cooldownMs?: number } | false;
  /** The breaker's clock in milliseconds. Default `performance.now`. */
  now?: () => number;
}

/** Counters of a {@link RedisSessionStore}. `gets = hits + misses`. */
export interface SessionStoreStats {
  /** Lookups asked of the store. */
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
  /** Calls that failed (the client rejected or threw, or a session could not be encoded). */
  readonly errors: number;
  /** Calls that missed their deadline. */
  readonly timeouts: number;
  /** Calls not sent because the circuit breaker was open (lookups counted as misses too). */
  readonly skipped: number;
}

/** What a {@link RedisSessionStore} gives to a `SessionCache` (spread into its options). */
export interface SessionStoreHooks {
  /**
   * `sess_new_cb`: writes the session to Redis. Returns a Promise that settles
   * (never rejects) when the write is done or has failed, which
   * `attachSessionCache` waits for, bounded by its `lookupTimeoutMs`, so that
   * another server asked right after the handshake finds the session.
   */
  readonly onNewSession: (session: Session) => Promise<void>;
  /** `sess_remove_cb`: deletes the session from Redis (fire and forget). */
  readonly onRemoveSession: (session: Session) => void;
  /** `sess_get_cb`: reads a session from Redis; resolves `undefined` on any failure. */
  readonly getSession: (
    request: { readonly id: Uint8Array; readonly sidCtx?: Uint8Array | undefined },
  ) => Promise<Session | undefined>;
}

const DEFAULT_PREFIX = "tls-session:";
const DEFAULT_TIMEOUT_MS = 50;
const DEFAULT_BREAKER_FAILURES = 5;
const DEFAULT_BREAKER_COOLDOWN_MS = 1000;
const FORMAT = 1;
const PLAIN_TAG = "s1.";
const SEALED_TAG = "e1.";
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const FLAG_VERSION = 1;
const FLAG_SID_CTX = 2;
const FLAG_DATA = 4;
const MAX_DATA_BYTES = 0x100000; // 1 MiB: far above any real session

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** The error a store call reports to `onError` when it misses its deadline. */
export class SessionStoreTimeoutError extends Error {
  /**
   * Makes the error for one timed-out call.
   *
   * @param operation The operation that timed out.
   * @param timeoutMs Its deadline.
   */
  constructor(operation: string, timeoutMs: number) {
    super(`Session store ${operation} timed out after ${timeoutMs} ms`);
    this.name = "SessionStoreTimeoutError";
  }
}

/**
 * The error reported to `onError` when the circuit breaker opens: Redis
 * failed too many times in a row and is left alone for a while.
 */
export class SessionStoreUnavailableError extends Error {
  /**
   * Makes the error for one opening of the breaker.
   *
   * @param failures How many calls failed in a row.
   * @param cooldownMs How long calls are skipped.
   */
  constructor(failures: number, cooldownMs: number) {
    super(
      `Session store unavailable: ${failures} calls failed in a row; skipping calls for ${cooldownMs} ms`,
    );
    this.name = "SessionStoreUnavailableError";
  }
}

interface MutableStats {
  gets: number;
  hits: number;
  misses: number;
  rejected: number;
  sets: number;
  dels: number;
  errors: number;
  timeouts: number;
  skipped: number;
}

type Outcome<T> = { ok: true; value: T } | { ok: false };

interface ImportedKey {
  readonly id: string;
  readonly key: Promise<CryptoKey>;
}

/**
 * A session store in Redis for {@link SessionCache}'s external-cache hooks,
 * mirroring what an OpenSSL server does with `SSL_CTX_sess_set_new_cb`,
 * `SSL_CTX_sess_set_get_cb` and `SSL_CTX_sess_set_remove_cb`.
 *
 * - New session: `SET <key> <value> PXAT <(time + timeout) * 1000>`, so Redis
 *   expires it at the session's own expiry (session times are Unix seconds).
 * - Lookup after an internal miss: `GET <key>`; the `SessionCache` then counts
 *   a `cbHits`, checks context and expiry, and copies it into the internal
 *   cache according to its mode.
 * - Removal (including internal evictions and flushes, as OpenSSL's
 *   `remove_session_cb` hears them): `DEL <key>`.
 *
 * Keys are `<prefix><sidCtx as hex>:<session id as hex>`. Values are a small
 * versioned binary record (id, time, timeout, version, sidCtx, data),
 * base64-encoded and optionally AES-GCM encrypted; anything malformed, a
 * value whose inner id is not the key's, or one that does not decrypt is a
 * miss.
 *
 * @example Two caches (think: two processes) sharing one store
 * ```ts
 * import { RedisSessionStore, type SessionStoreClient } from "./redis_store.ts";
 * const map = new Map<string, string>();
 * const client: SessionStoreClient = {
 *   get: async (key) => map.get(key) ?? null,
 *   set: async (key, value) => void map.set(key, value),
 *   del: async (key) => map.delete(key),
 * };
 * const store = new RedisSessionStore(client, { sidCtx: "app" });
 * const id = new Uint8Array([1, 2, 3]);
 * store.hooks.onNewSession({ id, time: Date.now() / 1000, timeout: 300, data: new Uint8Array([9]) });
 * await store.settled();
 * const found = await store.hooks.getSession({ id });
 * if (found?.data?.[0] !== 9) throw new Error("not found");
 * if (store.stats.hits !== 1) throw new Error("stats");
 * ```
 */
export class RedisSessionStore {
  readonly #client: SessionStoreClient;
  readonly #prefix: string;
  readonly #sidCtx: Uint8Array | undefined;
  readonly #timeoutMs: number;
  readonly #keys: readonly ImportedKey[];
  readonly #onError: ((error: unknown, context: SessionStoreErrorContext) => void) | undefined;
  readonly #stats: MutableStats = {
    gets: 0,
    hits: 0,
    misses: 0,
    rejected: 0,
    sets: 0,
    dels: 0,
    errors: 0,
    timeouts: 0,
    skipped: 0,
  };
  readonly #breakerFailures: number;
  readonly #breakerCooldownMs: number;
  readonly #now: () => number;
  #consecutiveFailures = 0;
  #openUntil = -Infinity;
  readonly #pending = new Set<Promise<void>>();
  /** The last write or removal issued per key: the next one for that key waits for it. */
  readonly #lastByKey = new Map<string, Promise<void>>();

  /** The hooks to spread into `new SessionCache({ ...store.hooks })`. */
  readonly hooks: SessionStoreHooks;

  /**
   * Makes a store on a client. Raw encryption keys are imported (WebCrypto)
   * in the background; nothing is sent to Redis until the hooks are called.
   *
   * @param client The Redis calls (see {@link nodeRedisClient}).
   * @param options Prefix, id context, deadline, encryption keys, error hook, circuit breaker.
   * @throws {TypeError} When the client lacks `get`/`set`/`del`, a key or its id is malformed, key ids repeat, or `onError`/`now` is not a function.
   * @throws {RangeError} When `timeoutMs` is not a positive finite number, `sidCtx` exceeds 32 bytes, a raw key is not 16, 24 or 32 bytes, or a breaker setting is not positive.
   */
  constructor(client: SessionStoreClient, options: RedisSessionStoreOptions = {}) {
    for (const method of ["get", "set", "del"] as const) {
      if (typeof client?.[method] !== "function") {
        throw new TypeError(`Cannot create session store: client has no ${method} method`);
      }
    }
    this.#client = client;
    this.#prefix = options.prefix ?? DEFAULT_PREFIX;
    if (typeof this.#prefix !== "string") {
      throw new TypeError(`Cannot create session store: prefix must be a string`);
    }
    const sidCtx = typeof options.sidCtx === "string"
      ? encoder.encode(options.sidCtx)
      : options.sidCtx;
    if (sidCtx !== undefined) {
      if (!(sidCtx instanceof Uint8Array)) {
        throw new TypeError("Cannot create session store: sidCtx must be a string or a Uint8Array");
      }
      if (sidCtx.length > MAX_SID_CTX_LENGTH) {
        throw new RangeError(
          `Cannot create session store: sidCtx must be at most ${MAX_SID_CTX_LENGTH} bytes: received ${sidCtx.length}`,
        );
      }
    }
    this.#sidCtx = sidCtx === undefined ? undefined : sidCtx.slice();
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (typeof timeoutMs !== "number" || !(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
      throw new RangeError(
        `Cannot create session store: timeoutMs must be a positive finite number: received ${timeoutMs}`,
      );
    }
    this.#timeoutMs = timeoutMs;
    const breaker = options.breaker ?? {};
    this.#breakerFailures = breaker === false
      ? Infinity
      : positive("breaker.failures", breaker.failures ?? DEFAULT_BREAKER_FAILURES);
    this.#breakerCooldownMs = breaker === false
      ? 0
      : positive("breaker.cooldownMs", breaker.cooldownMs ?? DEFAULT_BREAKER_COOLDOWN_MS);
    if (options.now !== undefined && typeof options.now !== "function") {
      throw new TypeError("Cannot create session store: now must be a function");
    }
    this.#now = options.now ?? (() => performance.now());
    this.#keys = importKeys(options.keys ?? []);
    if (options.onError !== undefined && typeof options.onError !== "function") {
      throw new TypeError("Cannot create session store: onError must be a function");
    }
    this.#onError = options.onError;
    this.hooks = Object.freeze({
      onNewSession: (session: Session) => this.#write(session),
      onRemoveSession: (session: Session) => this.#delete(session),
      getSession: (
        request: { readonly id: Uint8Array; readonly sidCtx?: Uint8Array | undefined },
      ) => this.#read(request),
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
   * @param id The session id.
   * @param sidCtx The session id context (ignored when the store has its own).
   * @returns The key.
   * @throws {TypeError} When `id` or `sidCtx` is not a Uint8Array.
   *
   * @example
   * ```ts
   * import { RedisSessionStore } from "./redis_store.ts";
   * const client = { get: async () => null, set: async () => {}, del: async () => {} };
   * const store = new RedisSessionStore(client, { prefix: "s:", sidCtx: "app" });
   * if (store.keyOf(new Uint8Array([0xab])) !== "s:617070:ab") throw new Error("key");
   * ```
   */
  keyOf(id: Uint8Array, sidCtx?: Uint8Array): string {
    return `${this.#prefix}${hex(this.#sidCtx ?? sidCtx ?? new Uint8Array())}:${hex(id)}`;
  }

  /**
   * Resolves when every write and removal started so far has finished
   * (acknowledged, failed or timed out: each is bounded by `timeoutMs`).
   * Useful before shutdown and in tests. Never rejects.
   *
   * @returns A promise that resolves once nothing is in flight.
   *
   * @example
   * ```ts
   * import { RedisSessionStore } from "./redis_store.ts";
   * const keys: string[] = [];
   * const client = { get: async () => null, set: async (k: string) => void keys.push(k), del: async () => {} };
   * const store = new RedisSessionStore(client);
   * store.hooks.onNewSession({ id: new Uint8Array([1]), time: 0, timeout: 1 });
   * await store.settled();
   * if (keys.length !== 1) throw new Error("not written");
   * ```
   */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  /**
   * Serializes a session to the value the store would write under `key`
   * (encrypted when keys are configured). Exposed for tests and tooling.
   *
   * Format: `s1.<base64 record>` in clear, or `e1.<key id>.<base64 iv|ciphertext|tag>`
   * sealed with AES-GCM, whose additional data binds the value to the key id
   * and the Redis key. The record is: format byte 1, id length, id, flags,
   * time and timeout (float64), then version (uint32), sidCtx and data when present.
   *
   * @param session The session.
   * @param key The Redis key the value is meant for (default: the session's key).
   * @returns The value.
   * @throws {TypeError} When the session cannot be serialized (the promise rejects).
   *
   * @example
   * ```ts
   * import { RedisSessionStore } from "./redis_store.ts";
   * const client = { get: async () => null, set: async () => {}, del: async () => {} };
   * const store = new RedisSessionStore(client);
   * const value = await store.encode({ id: new Uint8Array([1]), time: 0, timeout: 1 });
   * if (!value.startsWith("s1.")) throw new Error(value);
   * ```
   */
  async encode(
    session: Session,
    key: string = this.keyOf(session.id, session.sidCtx),
  ): Promise<string> {
    const record = encodeRecord(session);
    const sealing = this.#keys[0];
    if (sealing === undefined) return PLAIN_TAG + toBase64(record);
    const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
    const sealed = new Uint8Array(
      await crypto.subtle.encrypt(
        { name: "AES-GCM", iv, additionalData: aad(sealing.id, key) },
        await sealing.key,
        record,
      ),
    );
    const out = new Uint8Array(IV_BYTES + sealed.length);
    out.set(iv);
    out.set(sealed, IV_BYTES);
    return `${SEALED_TAG}${sealing.id}.${toBase64(out)}`;
  }

  /**
   * Reads a stored value back into a session, checking that it belongs to
   * `key` and session id `id`; `undefined` for anything malformed or
   * undecryptable. Exposed for tests and tooling.
   *
   * @param value The stored value.
   * @param key The Redis key it was read from.
   * @param id The session id it should hold.
   * @returns The session, or `undefined`. Never rejects.
   *
   * @example
   * ```ts
   * import { RedisSessionStore } from "./redis_store.ts";
   * const client = { get: async () => null, set: async () => {}, del: async () => {} };
   * const store = new RedisSessionStore(client);
   * const id = new Uint8Array([1]);
   * const value = await store.encode({ id, time: 0, timeout: 1 }, "k");
   * if ((await store.decode(value, "k", id))?.timeout !== 1) throw new Error("round trip");
   * if ((await store.decode("garbage", "k", id)) !== undefined) throw new Error("garbage");
   * ```
   */
  async decode(value: string, key: string, id: Uint8Array): Promise<Session | undefined> {
    let record: Uint8Array | undefined;
    if (value.startsWith(PLAIN_TAG)) {
      if (this.#keys.length > 0) return undefined;
      record = fromBase64(value.slice(PLAIN_TAG.length));
    } else if (value.startsWith(SEALED_TAG)) {
      const dot = value.indexOf(".", SEALED_TAG.length);
      if (dot < 0) return undefined;
      const keyId = value.slice(SEALED_TAG.length, dot);
      const entry = this.#keys.find((k) => k.id === keyId);
      const sealed = fromBase64(value.slice(dot + 1));
      if (entry === undefined || sealed === undefined) return undefined;
      if (sealed.length < IV_BYTES + TAG_BYTES) return undefined;
      try {
        record = new Uint8Array(
          await crypto.subtle.decrypt(
            {
              name: "AES-GCM",
              iv: sealed.subarray(0, IV_BYTES),
              additionalData: aad(keyId, key),
            },
            await entry.key,
            sealed.subarray(IV_BYTES),
          ),
        );
      } catch {
        return undefined;
      }
    }
    if (record === undefined) return undefined;
    const session = decodeRecord(record);
    if (session === undefined || !bytesEqual(session.id, id)) return undefined;
    return session;
  }

  /**
   * Issues a write or removal for `key` after the previous one for the same
   * key has finished, so that Redis sees them in the order the cache made
   * them (a session added then evicted at once must end up deleted, even
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
    try {
      this.#onError?.(error, context);
    } catch {
      // An error hook that throws must not break the store.
    }
  }

  /** Counts a failed call; opens the breaker after enough in a row. */
  #failed(operation: "get" | "set" | "del", key: string): void {
    this.#consecutiveFailures++;
    if (this.#consecutiveFailures >= this.#breakerFailures) {
      const wasOpen = this.#now() < this.#openUntil;
      this.#openUntil = this.#now() + this.#breakerCooldownMs;
      if (!wasOpen) {
        this.#report(
          new SessionStoreUnavailableError(this.#consecutiveFailures, this.#breakerCooldownMs),
          { operation, key },
        );
      }
    }
  }

  /** Runs one client call under the deadline (unless the breaker is open). Never rejects. */
  #call<T>(
    operation: "get" | "set" | "del",
    key: string,
    run: () => Promise<T>,
  ): Promise<Outcome<T>> {
    if (this.#consecutiveFailures >= this.#breakerFailures && this.#now() < this.#openUntil) {
      this.#stats.skipped++;
      return Promise.resolve({ ok: false });
    }
    let promise: Promise<T>;
    try {
      promise = Promise.resolve(run());
    } catch (error) {
      this.#stats.errors++;
      this.#report(error, { operation, key });
      this.#failed(operation, key);
      return Promise.resolve({ ok: false });
    }
    return new Promise<Outcome<T>>((resolve) => {
      let done = false;
      const timer = setTimeout(() => {
        if (done) return;
        done = true;
        this.#stats.timeouts++;
        this.#report(new SessionStoreTimeoutError(operation, this.#timeoutMs), { operation, key });
        this.#failed(operation, key);
        resolve({ ok: false });
      }, this.#timeoutMs);
      promise.then(
        (value) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          this.#consecutiveFailures = 0;
          resolve({ ok: true, value });
        },
        (error) => {
          if (done) return; // a late failure after the deadline: already counted as a timeout
          done = true;
          clearTimeout(timer);
          this.#stats.errors++;
          this.#report(error, { operation, key });
          this.#failed(operation, key);
          resolve({ ok: false });
        },
      );
    });
  }

  #write(session: Session): Promise<void> {
    let key = "";
    let value: Promise<string>;
    let expireAtMs: number | undefined;
    try {
      key = this.keyOf(session.id, session.sidCtx);
      value = this.encode(session, key);
      const at = Math.ceil((session.time + session.timeout) * 1000);
      expireAtMs = Number.isSafeInteger(at) ? at : undefined;
    } catch (error) {
      this.#encodeFailed(error, key);
      return Promise.resolve();
    }
    value.catch(() => {}); // handled below, once its turn comes
    return this.#enqueue(key, async () => {
      let text: string;
      try {
        text = await value;
      } catch (error) {
        this.#encodeFailed(error, key);
        return;
      }
      const outcome = await this.#call("set", key, () => this.#client.set(key, text, expireAtMs));
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
      key = this.keyOf(session.id, session.sidCtx);
    } catch (error) {
      this.#stats.errors++;
      this.#report(error, { operation: "del", key: "" });
      return;
    }
    this.#enqueue(key, async () => {
      const outcome = await this.#call("del", key, () => this.#client.del(key));
      if (outcome.ok) this.#stats.dels++;
    });
  }

  async #read(
    request: { readonly id: Uint8Array; readonly sidCtx?: Uint8Array | undefined },
  ): Promise<Session | undefined> {
    this.#stats.gets++;
    let session: Session | undefined;
    try {
      const key = this.keyOf(request.id, request.sidCtx);
      const outcome = await this.#call("get", key, () => this.#client.get(key));
      if (outcome.ok && outcome.value !== null && outcome.value !== undefined) {
        const text = typeof outcome.value === "string" ? outcome.value : utf8(outcome.value);
        session = text === undefined ? undefined : await this.decode(text, key, request.id);
        if (session === undefined) this.#stats.rejected++;
      }
    } catch (error) {
      this.#stats.errors++;
      this.#report(error, { operation: "get", key: "" });
      session = undefined;
    }
    if (session === undefined) this.#stats.misses++;
    else this.#stats.hits++;
    return session;
  }
}

function positive(name: string, value: unknown): number {
  if (typeof value !== "number" || !(value > 0) || Number.isNaN(value)) {
    throw new RangeError(
      `Cannot create session store: ${name} must be a positive number: received ${value}`,
    );
  }
  return value;
}

function importKeys(keys: readonly SessionStoreKey[]): readonly ImportedKey[] {
  if (!Array.isArray(keys)) {
    throw new TypeError("Cannot create session store: keys must be an array");
  }
  const seen = new Set<string>();
  const imported = keys.map((entry, index): ImportedKey => {
    const id = entry?.id;
    if (typeof id !== "string" || !KEY_ID.test(id)) {
      throw new TypeError(
        `Cannot create session store: key id must be 1 to 32 of A-Z a-z 0-9 _ -: received ${
          JSON.stringify(id)
        } at index ${index}`,
      );
    }
    if (seen.has(id)) {
      throw new TypeError(`Cannot create session store: key id "${id}" appears twice`);
    }
    seen.add(id);
    const key = entry.key;
    if (key instanceof Uint8Array) {
      if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
        throw new RangeError(
          `Cannot create session store: key "${id}" must be 16, 24 or 32 bytes: received ${key.length}`,
        );
      }
      const raw = key.slice();
      const promise = crypto.subtle.importKey("raw", raw, "AES-GCM", false, [
        "encrypt",
        "decrypt",
      ]);
      promise.catch(() => {}); // surfaced when used
      return { id, key: promise };
    }
    if (
      typeof key !== "object" || key === null || (key as CryptoKey).algorithm?.name !== "AES-GCM"
    ) {
      throw new TypeError(
        `Cannot create session store: key "${id}" must be raw bytes or an AES-GCM CryptoKey`,
      );
    }
    return { id, key: Promise.resolve(key) };
  });
  return Object.freeze(imported);
}

function aad(keyId: string, redisKey: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(`${SEALED_TAG}${keyId}.${redisKey}`);
}

function utf8(bytes: Uint8Array): string | undefined {
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

function hex(bytes: Uint8Array): string {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError("Cannot build session key: id and sidCtx must be Uint8Arrays");
  }
  let out = "";
  for (const byte of bytes) out += HEX[byte];
  return out;
}

// ---- the record -------------------------------------------------------------------------------
// format u8 (=1) | idLen u8 (1..32) | id | flags u8 (1 version, 2 sidCtx, 4 data)
// | time f64 BE | timeout f64 BE | [version u32 BE] | [ctxLen u8 (0..32) | ctx] | [dataLen u32 BE | data]
// The record must be consumed exactly: trailing or missing bytes make it malformed.

function encodeRecord(session: Session): Uint8Array<ArrayBuffer> {
  const { id, time, timeout, version, sidCtx, data } = session;
  if (!(id instanceof Uint8Array) || id.length < 1 || id.length > MAX_SESSION_ID_LENGTH) {
    throw new TypeError("Cannot store session: id must be 1 to 32 bytes");
  }
  if (!isTime(time) || !isTime(timeout)) {
    throw new TypeError(
      `Cannot store session: time and timeout must be finite and non-negative: received ${time}, ${timeout}`,
    );
  }
  if (
    version !== undefined && !(Number.isInteger(version) && version >= 0 && version <= 0xffffffff)
  ) {
    throw new TypeError(
      `Cannot store session: version must be a 32-bit unsigned integer: received ${version}`,
    );
  }
  if (
    sidCtx !== undefined && (!(sidCtx instanceof Uint8Array) || sidCtx.length > MAX_SID_CTX_LENGTH)
  ) {
    throw new TypeError("Cannot store session: sidCtx must be at most 32 bytes");
  }
  if (data !== undefined && (!(data instanceof Uint8Array) || data.length > MAX_DATA_BYTES)) {
    throw new TypeError(
      `Cannot store session: data must be a Uint8Array of at most ${MAX_DATA_BYTES} bytes`,
    );
  }
  const size = 1 + 1 + id.length + 1 + 16 + (version === undefined ? 0 : 4) +
    (sidCtx === undefined ? 0 : 1 + sidCtx.length) + (data === undefined ? 0 : 4 + data.length);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  out[at++] = FORMAT;
  out[at++] = id.length;
  out.set(id, at);
  at += id.length;
  out[at++] = (version === undefined ? 0 : FLAG_VERSION) |
    (sidCtx === undefined ? 0 : FLAG_SID_CTX) |
    (data === undefined ? 0 : FLAG_DATA);
  view.setFloat64(at, time);
  view.setFloat64(at + 8, timeout);
  at += 16;
  if (version !== undefined) {
    view.setUint32(at, version);
    at += 4;
  }
  if (sidCtx !== undefined) {
    out[at++] = sidCtx.length;
    out.set(sidCtx, at);
    at += sidCtx.length;
  }
  if (data !== undefined) {
    view.setUint32(at, data.length);
    out.set(data, at + 4);
  }
  return out;
}

function isTime(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}

function decodeRecord(bytes: Uint8Array): Session | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const need = (n: number): boolean => at + n <= bytes.length;
  if (!need(2) || bytes[at++] !== FORMAT) return undefined;
  const idLen = bytes[at++]!;
  if (idLen < 1 || idLen > MAX_SESSION_ID_LENGTH || !need(idLen + 1 + 16)) return undefined;
  const id = bytes.slice(at, at + idLen);
  at += idLen;
  const flags = bytes[at++]!;
  if ((flags & ~(FLAG_VERSION | FLAG_SID_CTX | FLAG_DATA)) !== 0) return undefined;
  const time = view.getFloat64(at);
  const timeout = view.getFloat64(at + 8);
  at += 16;
  if (!isTime(time) || !isTime(timeout)) return undefined;
  const session: { -readonly [K in keyof Session]: Session[K] } = { id, time, timeout };
  if (flags & FLAG_VERSION) {
    if (!need(4)) return undefined;
    session.version = view.getUint32(at);
    at += 4;
  }
  if (flags & FLAG_SID_CTX) {
    if (!need(1)) return undefined;
    const len = bytes[at++]!;
    if (len > MAX_SID_CTX_LENGTH || !need(len)) return undefined;
    session.sidCtx = bytes.slice(at, at + len);
    at += len;
  }
  if (flags & FLAG_DATA) {
    if (!need(4)) return undefined;
    const len = view.getUint32(at);
    at += 4;
    if (len > MAX_DATA_BYTES || !need(len)) return undefined;
    session.data = bytes.slice(at, at + len);
    at += len;
  }
  return at === bytes.length ? session : undefined;
}

// ---- strict base64 (standard alphabet, padded, canonical) -------------------------------------

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) B64_INDEX[B64.charCodeAt(i)] = i;

function toBase64(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + B64[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + "==";
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + "=";
  }
  return out;
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (text.length % 4 !== 0) return undefined;
  const pad = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    let n = 0;
    for (let j = 0; j < 4; j++) {
      const c = text.charCodeAt(i + j);
      const last = i + 4 === text.length;
      let v: number;
      if (c === 61 /* = */ && last && j >= 4 - pad) v = 0;
      else v = c < 128 ? B64_INDEX[c]! : -1;
      if (v < 0) return undefined;
      n = (n << 6) | v;
    }
    out[o++] = n >> 16;
    if (o < out.length) out[o++] = (n >> 8) & 0xff;
    if (o < out.length) out[o++] = n & 0xff;
  }
  // Canonical form only: unused bits in the last group must be zero.
  return toBase64(out) === text ? out : undefined;
}
