/**
 * A process that starts every timer the library starts, each with the
 * longest delay (2^31 - 1 ms), and then has nothing else to do: a lookup of
 * the server adapter waiting for a `getSession` that never answers, a new
 * session's handshake waiting for an `onNewSession` that never settles, and
 * the Redis store's calls to a client that never answers. It prints
 * `waiting` and must then exit by itself, at once: the timers are unref-ed.
 *
 * Run by tests/node/unref_timers_test.ts on the runtime of the tests.
 *
 * @module
 */

import { EventEmitter } from "node:events";
import type { Server } from "node:tls";
import process from "node:process";
import { attachSessionCache } from "../../node.ts";
import { RedisSessionStore, type SessionStoreClient } from "../../redis.ts";
import { SESS_CACHE_NO_INTERNAL, SESS_CACHE_SERVER, SessionCache } from "../../mod.ts";
import { sessionDer } from "./_tls.ts";

const LONGEST = 2 ** 31 - 1;
const never = (): Promise<never> => new Promise<never>(() => {});

const server = new EventEmitter() as unknown as Server & EventEmitter;
const cache = new SessionCache({
  mode: SESS_CACHE_SERVER | SESS_CACHE_NO_INTERNAL,
  getSession: never,
  onNewSession: never,
});
attachSessionCache(server, cache, { lookupTimeoutMs: LONGEST });
const id = new Uint8Array([1, 2, 3]);
server.emit("resumeSession", id, () => {});
server.emit("newSession", id, sessionDer(0x0303, id), () => {});

const client: SessionStoreClient = { get: never, set: never, del: never };
const store = new RedisSessionStore(client, {
  timeoutMs: LONGEST,
  breaker: { cooldownMs: LONGEST, failures: 1 },
});
void store.hooks.getSession({ id });
void store.hooks.onNewSession({ id, time: Date.now() / 1000, timeout: 300 });
store.hooks.onRemoveSession({ id, time: 0, timeout: 0 });

process.stdout.write("waiting\n");
