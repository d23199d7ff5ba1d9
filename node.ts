/**
 * The session cache in Node's TLS stack: {@linkcode attachSessionCache}
 * answers a `node:tls` (or `node:https`) server's session events from a
 * `SessionCache`, where OpenSSL's internal cache would sit, and
 * {@linkcode TlsClientSessionCache} keeps the sessions a TLS client is handed,
 * per server, to offer them again.
 *
 * @example A server whose TLS 1.2 sessions resume through the cache
 * ```ts
 * import assert from "node:assert/strict";
 * import { createServer } from "node:tls";
 * import { SessionCache } from "@sesscache/openssl-session-cache";
 * import { attachSessionCache } from "@sesscache/openssl-session-cache/node";
 *
 * const server = createServer();
 * const attached = attachSessionCache(server, new SessionCache(), { sidCtx: "my-service" });
 * assert.equal(server.listenerCount("resumeSession"), 1);
 * attached.detach();
 * ```
 *
 * @module
 */

export * from "./src/node/tls_server.ts";
export * from "./src/node/tls_client_cache.ts";
export * from "./src/node/ticket_key_rotation.ts";
