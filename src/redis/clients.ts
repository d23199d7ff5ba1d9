/**
 * The Redis calls a {@linkcode RedisSessionStore} and a
 * {@linkcode RedisTicketKeys} make, and adapters from real Redis clients to
 * them.
 *
 * The store needs three commands on string keys and values (`GET`, `SET`
 * with an absolute expiry, `DEL`), described by
 * {@linkcode SessionStoreClient}; the ticket keys need `GET` and `SET NX`
 * with an absolute expiry ({@linkcode TicketKeyStoreClient}). Every adapter
 * gives both ({@linkcode RedisCommandClient}). {@linkcode nodeRedisClient}
 * adapts the official `redis` package (node-redis),
 * {@linkcode nodeRedisClusterClient} its Redis Cluster client, and
 * {@linkcode commandClient} anything that can send one raw command (ioredis'
 * `call`). Every command names exactly one key, so each goes to the one
 * cluster node that owns that key's slot: no command ever spans slots, and
 * the keys need no hash tags.
 *
 * @module
 */

import { copyBytes, isUint8Array, show } from "../_validate.ts";

/**
 * The three Redis calls the store needs, on string keys and string values.
 * Adapt a real client with {@linkcode nodeRedisClient} or
 * {@linkcode commandClient}, or implement it yourself (a `Map` makes a fine
 * test double).
 *
 * Every method may reject or never settle: the store bounds each call with
 * its own deadline and handles every rejection.
 *
 * @example An in-memory client (ignores expiry)
 * ```ts
 * import assert from "node:assert/strict";
 * import type { SessionStoreClient } from "@sesscache/openssl-session-cache/redis";
 *
 * const map = new Map<string, string>();
 * const client: SessionStoreClient = {
 *   get: async (key) => map.get(key) ?? null,
 *   set: async (key, value) => void map.set(key, value),
 *   del: async (key) => map.delete(key),
 * };
 * await client.set("k", "v", undefined);
 * assert.equal(await client.get("k"), "v");
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
 * The two Redis calls {@linkcode RedisTicketKeys} needs: `GET`, and `SET`
 * only if the key is absent, with an absolute expiry. Every adapter of this
 * module gives them; a `Map` makes a fine test double.
 *
 * @example An in-memory client (ignores expiry)
 * ```ts
 * import assert from "node:assert/strict";
 * import type { TicketKeyStoreClient } from "@sesscache/openssl-session-cache/redis";
 *
 * const map = new Map<string, string>();
 * const client: TicketKeyStoreClient = {
 *   get: async (key) => map.get(key) ?? null,
 *   setIfAbsent: async (key, value) => !map.has(key) && map.set(key, value) !== undefined,
 * };
 * assert.equal(await client.setIfAbsent("k", "first", Date.now() + 1000), true);
 * assert.equal(await client.setIfAbsent("k", "second", Date.now() + 1000), false);
 * assert.equal(await client.get("k"), "first");
 * ```
 */
export interface TicketKeyStoreClient {
  /** `GET key`: the value, or `null`/`undefined` when absent. Bytes are decoded as UTF-8. */
  get(key: string): Promise<string | Uint8Array | null | undefined>;
  /**
   * `SET key value NX PXAT expireAtMs`: stores the value until the absolute
   * Unix time `expireAtMs` (milliseconds), unless the key exists. Resolves
   * `true` when it stored the value, `false` when the key was already there.
   */
  setIfAbsent(key: string, value: string, expireAtMs: number): Promise<boolean>;
}

/**
 * What the adapters of this module return: the calls of both
 * {@linkcode SessionStoreClient} (for `RedisSessionStore`) and
 * {@linkcode TicketKeyStoreClient} (for `RedisTicketKeys`), so one adapted
 * client serves both.
 *
 * @example One adapted client for the store and the ticket keys
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   commandClient,
 *   type RedisCommandClient,
 *   RedisSessionStore,
 *   RedisTicketKeys,
 * } from "@sesscache/openssl-session-cache/redis";
 *
 * const client: RedisCommandClient = commandClient(async () => null);
 * const store = new RedisSessionStore(client);
 * const tickets = new RedisTicketKeys(client, { keys: [{ id: "k1", key: new Uint8Array(32) }] });
 * assert.equal(store.stats.gets + tickets.stats.read, 0);
 * ```
 */
export interface RedisCommandClient extends SessionStoreClient, TicketKeyStoreClient {}

/**
 * The part of a node-redis client (`createClient()` from the `redis` package;
 * tested with 6, and 4 and 5 have the same `sendCommand`) that
 * {@linkcode nodeRedisClient} uses.
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
 * The part of a node-redis cluster client (`createCluster()` from the
 * `redis` package; tested with 6.3) that {@linkcode nodeRedisClusterClient}
 * uses.
 */
export interface NodeRedisClusterLike {
  /**
   * Sends a raw command to the node that owns `firstKey`'s slot (a replica
   * may answer when `isReadonly` and the cluster uses replicas), following
   * `MOVED` and `ASK` redirections.
   */
  sendCommand(firstKey: string, isReadonly: boolean, args: string[]): Promise<unknown>;
  /** Event subscription; `"error"` gets a listener when it has none, so a failed topology refresh cannot crash the process. */
  on?(event: "error", listener: (error: unknown) => void): unknown;
  /** How many listeners an event has. */
  listenerCount?(event: "error"): number;
}

/**
 * Builds a {@linkcode RedisCommandClient} from a function that sends one raw
 * Redis command and resolves with its reply. Works with any client:
 * node-redis' `(args) => client.sendCommand(args)` or ioredis'
 * `(args) => client.call(args[0], ...args.slice(1))`.
 *
 * @param send Sends a command such as `["SET", key, value, "PXAT", "1700000000000"]`.
 * @returns A client for `RedisSessionStore` and `RedisTicketKeys`.
 * @throws {TypeError} If `send` is not a function.
 *
 * @example The commands it sends
 * ```ts
 * import assert from "node:assert/strict";
 * import { commandClient } from "@sesscache/openssl-session-cache/redis";
 *
 * const sent: string[][] = [];
 * const client = commandClient(async (args) => {
 *   sent.push(args);
 *   return "OK";
 * });
 * await client.set("k", "v", 1_700_000_000_000);
 * assert.equal(await client.setIfAbsent("t", "v", 1_700_000_000_000), true);
 * assert.deepEqual(sent, [
 *   ["SET", "k", "v", "PXAT", "1700000000000"],
 *   ["SET", "t", "v", "NX", "PXAT", "1700000000000"],
 * ]);
 * ```
 */
export function commandClient(send: (args: string[]) => Promise<unknown>): RedisCommandClient {
  if (typeof send !== "function") {
    throw new TypeError(
      `Cannot adapt Redis client: send must be a function: received ${show(send)}`,
    );
  }
  return keyedClient((_key, _readonly, args) => send(args));
}

/**
 * The commands on one key each, sent through `send` with the key they name
 * and whether they only read (a cluster client routes by both).
 */
function keyedClient(
  send: (key: string, readonly: boolean, args: string[]) => Promise<unknown>,
): RedisCommandClient {
  return {
    get: async (key) => {
      const reply = await send(key, true, ["GET", key]);
      if (reply === null || reply === undefined) return null;
      if (typeof reply === "string" || isUint8Array(reply)) return reply;
      throw new TypeError(
        `Cannot read value: GET reply must be a string or bytes: received ${show(reply)}`,
      );
    },
    set: (key, value, expireAtMs) =>
      send(
        key,
        false,
        expireAtMs === undefined
          ? ["SET", key, value]
          : ["SET", key, value, "PXAT", String(expireAtMs)],
      ),
    del: (key) => send(key, false, ["DEL", key]),
    setIfAbsent: async (key, value, expireAtMs) => {
      const reply = await send(key, false, ["SET", key, value, "NX", "PXAT", String(expireAtMs)]);
      if (reply === null || reply === undefined) return false;
      if (reply === "OK" || (isUint8Array(reply) && isOk(reply))) return true;
      throw new TypeError(
        `Cannot write value: SET NX reply must be "OK" or null: received ${show(reply)}`,
      );
    },
  };
}

/** Whether bytes read once are the two bytes of "OK". */
function isOk(bytes: Uint8Array): boolean {
  const copy = copyBytes(bytes);
  return copy.length === 2 && copy[0] === 0x4f && copy[1] === 0x4b;
}

/**
 * Reads a client's `sendCommand`, `on` and `listenerCount` once, checks
 * them, and gives its `"error"` event a listener when it has none.
 */
function adoptEmitter(
  client: unknown,
  action: string,
): (...args: unknown[]) => Promise<unknown> {
  if ((typeof client !== "object" && typeof client !== "function") || client === null) {
    throw new TypeError(`Cannot ${action}: client must be an object: received ${show(client)}`);
  }
  // Each method is read once: a getter cannot swap it after the check.
  const { sendCommand, on, listenerCount } = client as Record<string, unknown>;
  if (typeof sendCommand !== "function") {
    throw new TypeError(
      `Cannot ${action}: client.sendCommand must be a function: received ${show(sendCommand)}`,
    );
  }
  if (typeof on === "function") {
    const listeners = typeof listenerCount === "function" ? listenerCount.call(client, "error") : 0;
    if (listeners === 0) on.call(client, "error", () => {});
  }
  return (...args) => sendCommand.apply(client, args);
}

/**
 * Adapts a node-redis client (the `redis` npm package; tested with 6.3, and
 * 4 and 5 have the same `sendCommand`) to {@linkcode RedisCommandClient},
 * using its version-independent `sendCommand`. If the client has no `"error"`
 * listener, one that ignores errors is added: without it, node-redis'
 * `"error"` event would crash the process when Redis goes away (the store
 * counts the failed calls itself).
 *
 * Create the client with `disableOfflineQueue: true` so that commands issued
 * while Redis is unreachable fail at once instead of queueing, and with a
 * `socket.reconnectStrategy` that keeps retrying (the default does).
 *
 * @param client A node-redis client (connected, or connecting).
 * @returns A client for `RedisSessionStore` and `RedisTicketKeys`.
 * @throws {TypeError} If `client` has no `sendCommand` method.
 *
 * @example Adapting a client (without connecting it)
 * ```ts
 * import assert from "node:assert/strict";
 * import { createClient } from "redis";
 * import { nodeRedisClient, RedisSessionStore } from "@sesscache/openssl-session-cache/redis";
 *
 * const redis = createClient({ url: "redis://127.0.0.1:6379", disableOfflineQueue: true });
 * const store = new RedisSessionStore(nodeRedisClient(redis), { sidCtx: "my-service" });
 * assert.equal(store.stats.gets, 0);
 * ```
 */
export function nodeRedisClient(client: NodeRedisLike): RedisCommandClient {
  const send = adoptEmitter(client, "adapt Redis client");
  return keyedClient((_key, _readonly, args) => send(args));
}

/**
 * Adapts a node-redis cluster client (`createCluster()` from the `redis` npm
 * package; tested with 6.3 against Redis Cluster 7.0) to
 * {@linkcode RedisCommandClient}: each command goes through
 * `cluster.sendCommand(key, isReadonly, args)`, so it is routed to the
 * master that owns its key's slot (`GET` is marked read-only: with
 * `useReplicas: true` a replica may answer it). Every command names a
 * single key, so none ever crosses slots and the keys need no hash tags.
 * As with {@linkcode nodeRedisClient}, an `"error"` listener that ignores
 * errors is added when the cluster has none (a failed topology refresh
 * emits `"error"`).
 *
 * Give the cluster's node connections `defaults: { disableOfflineQueue:
 * true }` so that commands for a node that is down fail at once instead of
 * queueing, and a `socket.reconnectStrategy` that keeps retrying. While a
 * master is down, the keys of its slots are unreachable: lookups of those
 * sessions miss (full handshakes), the rest resume as before.
 *
 * @param cluster A node-redis cluster client (connected, or connecting).
 * @returns A client for `RedisSessionStore` and `RedisTicketKeys`.
 * @throws {TypeError} If `cluster` has no `sendCommand` method.
 *
 * @example Adapting a cluster client (without connecting it)
 * ```ts
 * import assert from "node:assert/strict";
 * import { createCluster } from "redis";
 * import {
 *   nodeRedisClusterClient,
 *   RedisSessionStore,
 * } from "@sesscache/openssl-session-cache/redis";
 *
 * const cluster = createCluster({
 *   rootNodes: [{ url: "redis://127.0.0.1:7000" }, { url: "redis://127.0.0.1:7001" }],
 *   defaults: { disableOfflineQueue: true },
 * });
 * const store = new RedisSessionStore(nodeRedisClusterClient(cluster), { sidCtx: "my-service" });
 * assert.equal(store.stats.gets, 0);
 * assert.equal(cluster.listenerCount("error"), 1); // added: an "error" event cannot crash
 * ```
 */
export function nodeRedisClusterClient(cluster: NodeRedisClusterLike): RedisCommandClient {
  const send = adoptEmitter(cluster, "adapt Redis cluster client");
  return keyedClient((key, readonly, args) => send(key, readonly, args));
}
