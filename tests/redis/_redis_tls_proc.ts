/**
 * A TLS server process for the two-process tests in tests/redis_store_test.ts:
 * a node:tls server (TLS 1.2, no tickets, fixed sessionIdContext) whose
 * SessionCache keeps sessions in Redis through a RedisSessionStore.
 *
 * Run as `node --import tsx tests/_redis_tls_proc.ts` with REDIS_URL set (and
 * CACHE_SIZE for the SessionCache's size, default OpenSSL's 20480).
 * Prints `{"ready":true,"port":N}` once it listens, then answers one JSON
 * command per stdin line (`{"seq":1,"cmd":"stats"}` → `{"seq":1,"result":…}`):
 *
 * - `stats`: `{ cache: cache.stats, store: store.stats, size: cache.size }`
 * - `remove` (arg: session id as hex): `cache.remove()` of that id; waits for the DEL
 * - `timeout` (arg: seconds): the lifetime of sessions made from now on
 * - `mode` (arg: number): the cache's mode, e.g. `SESS_CACHE_SERVER | SESS_CACHE_NO_INTERNAL`
 *
 * Exits when stdin closes. Node only (node:tls session events).
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { createInterface } from "node:readline";
import { constants } from "node:crypto";
import { createServer } from "node:tls";
import { fileURLToPath } from "node:url";
import { createClient } from "redis";
import { attachSessionCache } from "../../node.ts";
import { nodeRedisClient, RedisSessionStore } from "../../redis.ts";
import { SessionCache } from "../../mod.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
/** REDIS_TLS_DEBUG=1 prints every error the store and the adapter swallow to stderr. */
const debug = process.env["REDIS_TLS_DEBUG"]
  ? (where: string) => (error: unknown) =>
    process.stderr.write(`[${process.pid} ${where}] ${error}\n`)
  : undefined;
const SID_CTX = process.env["SID_CTX"] ?? "redis-store-test";
const TLS12 = 0x0303;

const redis = createClient({
  url: process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379",
  // Fail fast while Redis is away instead of queueing; reconnect every 50-200 ms.
  disableOfflineQueue: true,
  socket: { connectTimeout: 500, reconnectStrategy: (n: number) => Math.min(50 * (n + 1), 200) },
});
redis.on("error", () => {}); // counted by the store; must not crash the process
await redis.connect();

const store = new RedisSessionStore(nodeRedisClient(redis), {
  prefix: "test-tls:",
  sidCtx: SID_CTX,
  timeoutMs: Number(process.env["STORE_TIMEOUT_MS"] ?? 50),
  ...(debug && { onError: debug("store") }),
});
const cacheSize = process.env["CACHE_SIZE"];
const cache = new SessionCache({
  ...store.hooks,
  timeout: 300,
  ...(cacheSize !== undefined && { cacheSize: Number(cacheSize) }),
});

const server = createServer({
  key: readFileSync(join(HERE, "..", "fixtures", "test_only_key.pem")),
  cert: readFileSync(join(HERE, "..", "fixtures", "test_only_cert.pem")),
  minVersion: "TLSv1.2",
  maxVersion: "TLSv1.2",
  secureOptions: constants.SSL_OP_NO_TICKET,
  sessionIdContext: SID_CTX,
});
attachSessionCache(server, cache, { sidCtx: SID_CTX, ...(debug && { onError: debug("adapter") }) });
if (debug) {
  server.on("tlsClientError", (error) => debug("tlsClientError")(error));
}
// The client closes each connection once its handshake is done. The server must not end the
// socket itself right after the handshake: when a resumption was offered, answered late (a slow
// or hung store, >= ~30 ms) and refused, Node 20's TLS 1.2 client then often fails with "Client
// network socket disconnected before secure TLS connection was established" (measured: 5-11 of
// 20 such handshakes; none when the client closes). See /work/notes/bugs.md.
server.on("secureConnection", (socket) => {
  socket.on("error", () => {});
});
server.on("tlsClientError", () => {});

await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const address = server.address();
const port = typeof address === "object" && address !== null ? address.port : 0;
process.stdout.write(JSON.stringify({ ready: true, port }) + "\n");

function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

async function run(cmd: string, arg: unknown): Promise<unknown> {
  switch (cmd) {
    case "stats":
      return { cache: cache.stats, store: store.stats, size: cache.size };
    case "remove": {
      const id = fromHex(String(arg));
      const cached = cache.get(id, { version: TLS12 });
      cache.remove(
        cached ??
          { id, time: 0, timeout: 0, version: TLS12, sidCtx: new TextEncoder().encode(SID_CTX) },
      );
      await store.settled();
      return cached !== undefined;
    }
    case "timeout":
      cache.timeout = Number(arg);
      return cache.timeout;
    case "mode":
      cache.mode = Number(arg);
      return cache.mode;
  }
  throw new Error(`unknown command ${cmd}`);
}

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  let msg: { seq: number; cmd: string; arg?: unknown };
  try {
    msg = JSON.parse(line);
  } catch {
    return;
  }
  run(msg.cmd, msg.arg).then(
    (result) => process.stdout.write(JSON.stringify({ seq: msg.seq, result }) + "\n"),
    (error) => process.stdout.write(JSON.stringify({ seq: msg.seq, error: String(error) }) + "\n"),
  );
});
lines.on("close", () => {
  server.close();
  void store.settled().finally(() => {
    redis.destroy();
    process.exit(0);
  });
});
