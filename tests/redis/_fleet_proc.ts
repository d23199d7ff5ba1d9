/**
 * One server of a fleet, for tests/redis/fleet_test.ts: a node:tls server
 * that allows TLS 1.2 and TLS 1.3 with tickets on, whose
 *
 * - TLS 1.2 session ids go through a SessionCache and a RedisSessionStore
 *   (`attachSessionCache`), and whose
 * - ticket key (TLS 1.3 tickets, and TLS 1.2 tickets) is the fleet's shared
 *   key of the current period, from a TicketKeyRotation fed by RedisTicketKeys,
 *
 * both on one Redis (`REDIS_URL`) or on a Redis Cluster (`REDIS_CLUSTER`: the
 * comma-separated URLs of its masters, through `nodeRedisClusterClient`).
 *
 * Environment: `PREFIX` (store and ticket keys; a different prefix means
 * different ticket keys), `ROTATION_MS`, `RETRY_MS`, `SEAL_KEY_HEX` (32 bytes:
 * the AES-GCM key that seals both in Redis), `SID_CTX`.
 *
 * Prints `{"ready":true,"port":N}` once it listens (after `rotation.ready()`),
 * then answers one JSON command per stdin line:
 *
 * - `stats`: `{ cache, store, rotation, status, tickets, errors }`, where
 *   `errors` lists the messages the rotation reported to `onError` (never key
 *   bytes: the test checks that too).
 *
 * Exits when stdin closes. Node only.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { createInterface } from "node:readline";
import { createServer } from "node:tls";
import { fileURLToPath } from "node:url";
import { createClient, createCluster } from "redis";
import { attachSessionCache, TicketKeyRotation } from "../../node.ts";
import {
  nodeRedisClient,
  nodeRedisClusterClient,
  type RedisCommandClient,
  RedisSessionStore,
  RedisTicketKeys,
} from "../../redis.ts";
import { SessionCache } from "../../mod.ts";
import { HEALTHY_REDIS_TIMEOUT_MS } from "./_redis.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
const env = process.env;
const SID_CTX = env["SID_CTX"] ?? "fleet-test";
const PREFIX = env["PREFIX"] ?? "fleet:";
const sealKey = Uint8Array.from(
  (env["SEAL_KEY_HEX"] ?? "00".repeat(32)).match(/../g)!,
  (h) => parseInt(h, 16),
);
// Reconnect every 50-200 ms; fail at once while a node is away instead of queueing.
const socket = {
  connectTimeout: 500,
  reconnectStrategy: (n: number) => Math.min(50 * (n + 1), 200),
};

let client: RedisCommandClient;
let close: () => void;
if (env["REDIS_CLUSTER"]) {
  const cluster = createCluster({
    rootNodes: env["REDIS_CLUSTER"].split(",").map((url) => ({ url })),
    defaults: { disableOfflineQueue: true, socket },
  });
  client = nodeRedisClusterClient(cluster); // adds an "error" listener: no crash
  await cluster.connect();
  close = () => void cluster.destroy();
} else {
  const redis = createClient({
    url: env["REDIS_URL"] ?? "redis://127.0.0.1:6379",
    disableOfflineQueue: true,
    socket,
  });
  client = nodeRedisClient(redis);
  await redis.connect();
  close = () => void redis.destroy();
}

const keys = [{ id: "fleet-test", key: sealKey }];
// A dead Redis fails at once (no offline queue), so the long deadline never slows the outage tests.
const timeoutMs = Number(env["STORE_TIMEOUT_MS"] ?? HEALTHY_REDIS_TIMEOUT_MS);
const store = new RedisSessionStore(client, { prefix: PREFIX, sidCtx: SID_CTX, keys, timeoutMs });
const cache = new SessionCache({ ...store.hooks, timeout: 300 });
const tickets = new RedisTicketKeys(client, { prefix: PREFIX, keys, timeoutMs });
const errors: string[] = [];
const rotation = new TicketKeyRotation(tickets, {
  rotationMs: Number(env["ROTATION_MS"] ?? 2000),
  retryMs: Number(env["RETRY_MS"] ?? 200),
  onError: (error, { operation, period }) =>
    errors.push(`${operation} ${period}: ${error}${describeCause(error)}`),
});

function describeCause(error: unknown): string {
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  return cause === undefined ? "" : ` (cause: ${cause})`;
}

const server = createServer({
  key: readFileSync(join(HERE, "..", "fixtures", "test_only_key.pem")),
  cert: readFileSync(join(HERE, "..", "fixtures", "test_only_cert.pem")),
  minVersion: "TLSv1.2",
  maxVersion: "TLSv1.3",
  sessionIdContext: SID_CTX, // tickets and session ids are bound to it: the same on every server
  sessionTimeout: 300,
});
attachSessionCache(server, cache, { sidCtx: SID_CTX });
rotation.attach(server);
server.on("secureConnection", (tlsSocket) => {
  tlsSocket.on("error", () => {});
});
server.on("tlsClientError", () => {});

await rotation.ready();
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const address = server.address();
const port = typeof address === "object" && address !== null ? address.port : 0;
process.stdout.write(JSON.stringify({ ready: true, port }) + "\n");

function run(cmd: string): unknown {
  if (cmd === "stats") {
    return {
      cache: cache.stats,
      store: store.stats,
      rotation: rotation.stats,
      status: rotation.status,
      tickets: tickets.stats,
      errors,
    };
  }
  throw new Error(`unknown command ${cmd}`);
}

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  let msg: { seq: number; cmd: string };
  try {
    msg = JSON.parse(line);
  } catch {
    return;
  }
  try {
    process.stdout.write(JSON.stringify({ seq: msg.seq, result: run(msg.cmd) }) + "\n");
  } catch (error) {
    process.stdout.write(JSON.stringify({ seq: msg.seq, error: String(error) }) + "\n");
  }
});
lines.on("close", () => {
  rotation.stop();
  server.close();
  void store.settled().finally(() => {
    close();
    process.exit(0);
  });
});
