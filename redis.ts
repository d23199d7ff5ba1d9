/**
 * Sessions shared by a fleet through Redis: {@linkcode RedisSessionStore}
 * plugs into a `SessionCache` where OpenSSL's external cache sits (the new,
 * get and remove session callbacks), with sealed values, deadlines and a
 * circuit breaker, and the client adapters connect it to a Redis client.
 *
 * @example Two caches sharing one store (an in-memory client stands in for Redis)
 * ```ts
 * import assert from "node:assert/strict";
 * import { SessionCache } from "@sesscache/openssl-session-cache";
 * import { RedisSessionStore, type SessionStoreClient } from "@sesscache/openssl-session-cache/redis";
 *
 * const map = new Map<string, string>();
 * const client: SessionStoreClient = {
 *   get: async (key) => map.get(key) ?? null,
 *   set: async (key, value) => void map.set(key, value),
 *   del: async (key) => map.delete(key),
 * };
 * const store = new RedisSessionStore(client, { sidCtx: "my-service" });
 * const a = new SessionCache({ ...store.hooks });
 * const b = new SessionCache({ ...store.hooks });
 * const session = { id: new Uint8Array([1]), time: Date.now() / 1000, timeout: 300 };
 * await a.handshakeCompleted({ side: "server", session, resumed: false });
 * assert.equal((await b.lookup({ id: session.id }))?.timeout, 300);
 * ```
 *
 * @module
 */

export * from "./src/redis/store.ts";
export * from "./src/redis/clients.ts";
export * from "./src/redis/errors.ts";
export * from "./src/redis/ticket_keys.ts";
