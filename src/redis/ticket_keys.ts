/**
 * TLS ticket keys shared by a fleet through Redis: the 48-byte key of each
 * rotation period lives at one Redis key, created once by whichever server
 * asks first (`SET NX`) and read by the others, sealed with AES-GCM like the
 * store's sessions. It is the key source of `TicketKeyRotation` from
 * `./node`, which installs the keys on Node servers.
 *
 * @module
 */

import { settleWithin } from "../_async.ts";
import { checkDelayMs, checkOptions, show } from "../_validate.ts";
import type { TicketKeyStoreClient } from "./clients.ts";
import { TicketKeyError } from "./errors.ts";
import type { SessionStoreKey } from "./store.ts";
import { importKeys, seal, type SealingKey, unseal, valueText } from "./_seal.ts";

const TICKET_KEY_BYTES = 48;
const DEFAULT_PREFIX = "tls-session:";
const DEFAULT_GRACE_MS = 300_000;
const DEFAULT_TIMEOUT_MS = 1000;
const ACTION = "create ticket key source";

/** Options of {@linkcode RedisTicketKeys}. Every server of a fleet must use the same ones. */
export interface RedisTicketKeysOptions {
  /**
   * The AES-GCM keys that seal the ticket keys in Redis (required, at least
   * one): the first seals, any of them opens (by its id), as the store's
   * `keys`. Every server needs them; Redis never holds a ticket key in clear.
   */
  readonly keys: readonly SessionStoreKey[];
  /** Prefix of the Redis keys: `<prefix>ticket-key:<rotationMs>:<period>`. Default `"tls-session:"`. */
  readonly prefix?: string;
  /**
   * How long a period's key stays in Redis after the period ends, in
   * milliseconds (0 to 2^31 - 1). It must exceed the clock skew between the
   * servers and Redis: a server whose clock lags still reads the key its
   * period had, instead of creating another. Default 300 000 (5 minutes).
   */
  readonly graceMs?: number;
  /** Deadline of each Redis call in milliseconds (more than 0, at most 2^31 - 1). Default 1000. */
  readonly timeoutMs?: number;
}

/** Counters of a {@linkcode RedisTicketKeys}. No key bytes, ever. */
export interface RedisTicketKeysStats {
  /** Keys read from Redis (created by another server, or earlier by this one). */
  readonly read: number;
  /** Keys this process created (its `SET NX` won). */
  readonly created: number;
  /** `SET NX` calls another server had won (the key was then read). */
  readonly raced: number;
  /** Values in Redis refused: not sealed by one of `keys`, or not 48 bytes. */
  readonly rejected: number;
  /** Redis calls that failed. */
  readonly errors: number;
  /** Redis calls that missed their deadline. */
  readonly timeouts: number;
}

type Counts = { -readonly [K in keyof RedisTicketKeysStats]: number };

/** A period as {@linkcode RedisTicketKeys.ticketKey} reads it (`TicketKeyPeriod` of `./node`). */
export interface RedisTicketKeyPeriod {
  /** `floor(startMs / (endMs - startMs))`: an integer >= 0. */
  readonly index: number;
  /** Where the period starts (Unix time, ms). */
  readonly startMs: number;
  /** Where it ends (Unix time, ms), after `startMs`. */
  readonly endMs: number;
}

/**
 * Ticket keys in Redis, one per rotation period: the source for
 * `TicketKeyRotation` (`./node`).
 *
 * `ticketKey(period)` resolves the period's 48 bytes, the same on every
 * server: `GET <prefix>ticket-key:<rotationMs>:<index>`; when absent, 48
 * random bytes (WebCrypto) are sealed and written with `SET ... NX PXAT
 * <endMs + graceMs>`; when another server won that race, its key is read.
 * So the key of a period is made once, by whoever asks first, with no
 * coordinator, and Redis drops it `graceMs` after its period. The length of
 * the period is part of the Redis key, so servers configured with another
 * `rotationMs` never share (or clobber) a key.
 *
 * Values are sealed with AES-GCM under the first of `keys` (any listed key
 * opens them, by id), and the additional data binds each to its Redis key: a
 * value copied under another period's key does not open. Every Redis call
 * has a deadline (`timeoutMs`); concurrent requests for one period share
 * one round of calls. A failure rejects with a {@linkcode TicketKeyError}
 * (which the rotation reports to its `onError`); no message ever holds key bytes.
 *
 * @example Two servers asking for the same period get the same key (an in-memory client stands in for Redis)
 * ```ts
 * import assert from "node:assert/strict";
 * import { RedisTicketKeys, type TicketKeyStoreClient } from "@sesscache/openssl-session-cache/redis";
 *
 * const map = new Map<string, string>();
 * const client: TicketKeyStoreClient = {
 *   get: async (key) => map.get(key) ?? null,
 *   setIfAbsent: async (key, value) => !map.has(key) && map.set(key, value) !== undefined,
 * };
 * const sealing = [{ id: "k1", key: crypto.getRandomValues(new Uint8Array(32)) }];
 * const a = new RedisTicketKeys(client, { keys: sealing });
 * const b = new RedisTicketKeys(client, { keys: sealing });
 * const period = { index: 480_000, startMs: 480_000 * 3_600_000, endMs: 480_001 * 3_600_000 };
 * const key = await a.ticketKey(period);
 * assert.equal(key.length, 48);
 * assert.deepEqual(await b.ticketKey(period), key);
 * assert.deepEqual([a.stats.created, b.stats.read], [1, 1]);
 * assert.match(map.get(a.redisKey(period))!, /^e1\.k1\./); // sealed
 * ```
 */
export class RedisTicketKeys {
  readonly #get: (key: string) => unknown;
  readonly #setIfAbsent: (key: string, value: string, expireAtMs: number) => unknown;
  readonly #keys: readonly SealingKey[];
  readonly #prefix: string;
  readonly #graceMs: number;
  readonly #timeoutMs: number;
  readonly #counts: Counts = { read: 0, created: 0, raced: 0, rejected: 0, errors: 0, timeouts: 0 };
  /** Requests out, per Redis key: a second caller for the same period shares the first's. */
  readonly #pending = new Map<string, Promise<Uint8Array>>();

  /**
   * Makes a key source on a client. Every option (and each client method)
   * is read once and checked; raw sealing keys are imported in the
   * background. Nothing is sent to Redis until `ticketKey()` is called.
   *
   * @param client `GET` and `SET NX PXAT` (any adapter of this module, e.g. `nodeRedisClusterClient`).
   * @param options Sealing keys (required), prefix, grace, deadline.
   * @throws {TypeError} When the client lacks `get`/`setIfAbsent`, `keys` is missing or malformed,
   *   key ids repeat, or an option has the wrong type.
   * @throws {RangeError} When `keys` is empty, a raw key is not 16, 24 or 32 bytes, `graceMs` is
   *   not from 0 to 2^31 - 1, or `timeoutMs` is not more than 0 and at most 2^31 - 1.
   */
  constructor(client: TicketKeyStoreClient, options: RedisTicketKeysOptions) {
    if ((typeof client !== "object" && typeof client !== "function") || client === null) {
      throw new TypeError(`Cannot ${ACTION}: client must be an object: received ${show(client)}`);
    }
    // Each method is read once: a getter cannot swap it after the check.
    const { get, setIfAbsent } = client;
    for (const [name, method] of [["get", get], ["setIfAbsent", setIfAbsent]] as const) {
      if (typeof method !== "function") {
        throw new TypeError(
          `Cannot ${ACTION}: client.${name} must be a function: received ${show(method)}`,
        );
      }
    }
    if (options === undefined) {
      throw new TypeError(`Cannot ${ACTION}: options must be an object: received undefined`);
    }
    const o = checkOptions(ACTION, options);
    const { keys, prefix, graceMs, timeoutMs } = o;
    if (prefix !== undefined && typeof prefix !== "string") {
      throw new TypeError(`Cannot ${ACTION}: prefix must be a string: received ${show(prefix)}`);
    }
    const grace = checkDelayMs(ACTION, "graceMs", graceMs ?? DEFAULT_GRACE_MS, true);
    const deadline = checkDelayMs(ACTION, "timeoutMs", timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const sealing = importKeys(ACTION, keys);
    if (sealing.length === 0) {
      throw new RangeError(
        `Cannot ${ACTION}: keys must hold at least one key (ticket keys are always sealed): received 0`,
      );
    }
    // Everything is checked: keep it.
    this.#get = (key) => (get as TicketKeyStoreClient["get"]).call(client, key);
    this.#setIfAbsent = (key, value, at) =>
      (setIfAbsent as TicketKeyStoreClient["setIfAbsent"]).call(client, key, value, at);
    this.#keys = sealing;
    this.#prefix = prefix ?? DEFAULT_PREFIX;
    this.#graceMs = grace;
    this.#timeoutMs = deadline;
  }

  /**
   * A snapshot of the counters (a fresh plain object each time; never key bytes).
   *
   * @returns The counters.
   */
  get stats(): RedisTicketKeysStats {
    return { ...this.#counts };
  }

  /**
   * The Redis key of a period's ticket key (for inspection and tests):
   * `<prefix>ticket-key:<endMs - startMs>:<index>`.
   *
   * @param period The period (read once and checked).
   * @returns The key.
   * @throws {TypeError | RangeError} When the period is malformed.
   *
   * @example The key of a one-hour period
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisTicketKeys } from "@sesscache/openssl-session-cache/redis";
   *
   * const client = { get: async () => null, setIfAbsent: async () => true };
   * const keys = [{ id: "k1", key: new Uint8Array(32) }];
   * const source = new RedisTicketKeys(client, { keys, prefix: "app:" });
   * const period = { index: 5, startMs: 5 * 3_600_000, endMs: 6 * 3_600_000 };
   * assert.equal(source.redisKey(period), "app:ticket-key:3600000:5");
   * ```
   */
  redisKey(period: RedisTicketKeyPeriod): string {
    const { index, startMs, endMs } = readPeriod("build ticket key name", period);
    return this.#keyOf(index, endMs - startMs);
  }

  #keyOf(index: number, rotationMs: number): string {
    return `${this.#prefix}ticket-key:${rotationMs}:${index}`;
  }

  /**
   * The 48-byte ticket key of `period`, the same for every caller: read
   * from Redis, or created there (`SET NX PXAT <endMs + graceMs>`) when no
   * server has made it yet. A fresh copy each time.
   *
   * @param period The period (`TicketKeyPeriod` of `./node`), read once and checked.
   * @returns The key.
   * @throws {TypeError | RangeError} When the period is malformed (the promise rejects).
   * @throws {TicketKeyError} When Redis fails, times out, or holds a value that does not open.
   *
   * @example Redis down: a TicketKeyError naming the period, the client's error as its cause
   * ```ts
   * import assert from "node:assert/strict";
   * import { RedisTicketKeys, TicketKeyError } from "@sesscache/openssl-session-cache/redis";
   *
   * const down = new Error("connect ECONNREFUSED");
   * const client = { get: () => Promise.reject(down), setIfAbsent: () => Promise.reject(down) };
   * const source = new RedisTicketKeys(client, { keys: [{ id: "k1", key: new Uint8Array(32) }] });
   * const period = { index: 3, startMs: 3000, endMs: 4000 };
   * await assert.rejects(source.ticketKey(period), (error: unknown) => {
   *   assert.ok(error instanceof TicketKeyError);
   *   assert.equal(error.message, "Ticket key of period 3 unavailable: GET failed");
   *   assert.equal(error.cause, down);
   *   return true;
   * });
   * assert.equal(source.stats.errors, 1);
   * ```
   */
  async ticketKey(period: RedisTicketKeyPeriod): Promise<Uint8Array> {
    const { index, startMs, endMs } = readPeriod("fetch ticket key", period);
    const redisKey = this.#keyOf(index, endMs - startMs);
    let pending = this.#pending.get(redisKey);
    if (pending === undefined) {
      pending = this.#fetch(index, redisKey, endMs + this.#graceMs);
      this.#pending.set(redisKey, pending);
      const done = () => {
        if (this.#pending.get(redisKey) === pending) this.#pending.delete(redisKey);
      };
      pending.then(done, done);
    }
    return new Uint8Array(await pending);
  }

  async #fetch(index: number, redisKey: string, expireAtMs: number): Promise<Uint8Array> {
    const stored = await this.#open(index, redisKey, await this.#call(index, "GET", redisKey));
    if (stored !== undefined) {
      this.#counts.read++;
      return stored;
    }
    const key = crypto.getRandomValues(new Uint8Array(TICKET_KEY_BYTES));
    const value = await seal(key, this.#keys[0], redisKey);
    const won = await this.#call(
      index,
      "SET NX",
      redisKey,
      () => this.#setIfAbsent(redisKey, value, expireAtMs),
    );
    if (won === true) {
      this.#counts.created++;
      return key;
    }
    this.#counts.raced++;
    const theirs = await this.#open(index, redisKey, await this.#call(index, "GET", redisKey));
    if (theirs !== undefined) {
      this.#counts.read++;
      return theirs;
    }
    throw new TicketKeyError(index, "the key was neither stored by SET NX nor found by GET");
  }

  /** The key in a GET reply, `undefined` when absent; throws when present but refused. */
  async #open(index: number, redisKey: string, reply: unknown): Promise<Uint8Array | undefined> {
    if (reply === null || reply === undefined) return undefined;
    const text = valueText(reply);
    const key = text === undefined ? undefined : await unseal(text, this.#keys, redisKey);
    if (key === undefined || key.length !== TICKET_KEY_BYTES) {
      this.#counts.rejected++;
      throw new TicketKeyError(
        index,
        "the value in Redis is not a ticket key sealed with one of the keys",
      );
    }
    return key;
  }

  /** One Redis call under the deadline; throws a TicketKeyError on failure. */
  async #call(
    index: number,
    what: "GET" | "SET NX",
    redisKey: string,
    run: () => unknown = () => this.#get(redisKey),
  ): Promise<unknown> {
    let answer: unknown;
    try {
      answer = run();
    } catch (error) {
      answer = Promise.reject(error);
    }
    const settled = await settleWithin(answer, this.#timeoutMs);
    if (settled.status === "fulfilled") return settled.value;
    if (settled.status === "timedOut") {
      this.#counts.timeouts++;
      throw new TicketKeyError(index, `${what} timed out after ${this.#timeoutMs} ms`);
    }
    this.#counts.errors++;
    throw new TicketKeyError(index, `${what} failed`, { cause: settled.reason });
  }
}

/** A period read once (`index`, `startMs`, `endMs`) and checked. */
function readPeriod(action: string, period: unknown): RedisTicketKeyPeriod {
  if (typeof period !== "object" || period === null) {
    throw new TypeError(`Cannot ${action}: period must be an object: received ${show(period)}`);
  }
  const { index, startMs, endMs } = period as Record<string, unknown>;
  for (const [name, value] of [["index", index], ["startMs", startMs], ["endMs", endMs]]) {
    if (typeof value !== "number") {
      throw new TypeError(
        `Cannot ${action}: period.${name} must be a number: received ${show(value)}`,
      );
    }
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(
        `Cannot ${action}: period.${name} must be an integer >= 0: received ${show(value)}`,
      );
    }
  }
  if ((endMs as number) <= (startMs as number)) {
    throw new RangeError(
      `Cannot ${action}: period.endMs must be after period.startMs (${startMs}): received ${endMs}`,
    );
  }
  return { index: index as number, startMs: startMs as number, endMs: endMs as number };
}
