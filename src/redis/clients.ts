/**
 * The Redis calls a {@linkcode RedisSessionStore} makes, and adapters from
 * real Redis clients to them.
 *
 * The store needs three commands on string keys and values (`GET`, `SET`
 * with an absolute expiry, `DEL`), described by
 * {@linkcode SessionStoreClient}. {@linkcode nodeRedisClient} adapts the
 * official `redis` package (node-redis); {@linkcode commandClient} adapts
 * anything that can send one raw command (ioredis' `call`, a cluster client).
 *
 * @module
 */

import { isUint8Array, show } from "../_validate.ts";

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
 * Builds a {@linkcode SessionStoreClient} from a function that sends one raw
 * Redis command and resolves with its reply. Works with any client:
 * node-redis' `(args) => client.sendCommand(args)` or ioredis'
 * `(args) => client.call(args[0], ...args.slice(1))`.
 *
 * @param send Sends a command such as `["SET", key, value, "PXAT", "1700000000000"]`.
 * @returns A client for `RedisSessionStore`.
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
 * assert.deepEqual(sent, [["SET", "k", "v", "PXAT", "1700000000000"]]);
 * ```
 */
export function commandClient(send: (args: string[]) => Promise<unknown>): SessionStoreClient {
  if (typeof send !== "function") {
    throw new TypeError(
      `Cannot adapt Redis client: send must be a function: received ${show(send)}`,
    );
  }
  return {
    get: async (key) => {
      const reply = await send(["GET", key]);
      if (reply === null || reply === undefined) return null;
      if (typeof reply === "string" || isUint8Array(reply)) return reply;
      throw new TypeError(
        `Cannot read session: GET reply must be a string or bytes: received ${show(reply)}`,
      );
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
 * Adapts a node-redis client (the `redis` npm package; tested with 6.3, and
 * 4 and 5 have the same `sendCommand`) to {@linkcode SessionStoreClient},
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
 * @returns A client for `RedisSessionStore`.
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
export function nodeRedisClient(client: NodeRedisLike): SessionStoreClient {
  const action = "adapt Redis client";
  if ((typeof client !== "object" && typeof client !== "function") || client === null) {
    throw new TypeError(`Cannot ${action}: client must be an object: received ${show(client)}`);
  }
  // Each method is read once: a getter cannot swap it after the check.
  const { sendCommand, on, listenerCount } = client;
  if (typeof sendCommand !== "function") {
    throw new TypeError(
      `Cannot ${action}: client.sendCommand must be a function: received ${show(sendCommand)}`,
    );
  }
  if (typeof on === "function") {
    const listeners = typeof listenerCount === "function" ? listenerCount.call(client, "error") : 0;
    if (listeners === 0) on.call(client, "error", () => {});
  }
  return commandClient((args) => sendCommand.call(client, args));
}
