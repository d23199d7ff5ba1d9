/**
 * Demo: a node:tls server on 127.0.0.1 whose TLS 1.2 sessions live in a
 * SessionCache (through attachSessionCache), and a few thousand real client
 * connections against it: new clients, resumptions, resumptions after the
 * sessions expired (the cache's clock jumps), resumptions after eviction
 * (the cache is smaller than the client population), and a steady random mix.
 * It ends with a table of what happened and OpenSSL's counters.
 *
 * Run: `npm run demo` (= `node --import tsx demo/main.ts`). Node only: Deno
 * and Bun never call the server's session events. Uses the TEST-ONLY
 * certificate from tests/fixtures.
 *
 * @module
 */

import { constants } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { createServer } from "node:tls";
import { fileURLToPath } from "node:url";
import { attachSessionCache } from "../node.ts";
import { SessionCache } from "../mod.ts";
import { TlsClientSessionCache } from "../node.ts";
import { handshake } from "./_client.ts";
import { median, Progress, table } from "./_report.ts";

if ("Deno" in globalThis || "Bun" in globalThis) {
  console.error(
    "This demo needs Node: Deno and Bun never call node:tls 'newSession'/'resumeSession'.\n" +
      "Run it with: npm run demo",
  );
  process.exit(1);
}

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "..", "tests", "fixtures");
const KEY = readFileSync(join(FIXTURES, "test_only_key.pem")); // TEST-ONLY key, see its README
const CERT = readFileSync(join(FIXTURES, "test_only_cert.pem"));

const CACHE_SIZE = 257; // OpenSSL's quirk: a cache of size N holds N - 1 = 256 sessions
const SESSION_TIMEOUT = 300; // seconds, on the server and in the cache
const BUDGET_MS = 45_000; // the steady phase stops early past this (slow machines)

// --- the server ---------------------------------------------------------------------------
let clock = Math.floor(Date.now() / 1000); // the cache's clock, moved by hand below
const removed = { total: 0 };
const errors: unknown[] = [];
const cache = new SessionCache({
  cacheSize: CACHE_SIZE,
  timeout: SESSION_TIMEOUT,
  now: () => clock,
  onRemoveSession: () => removed.total++,
});
const server = createServer({
  key: KEY,
  cert: CERT,
  maxVersion: "TLSv1.2", // resumption by session id is a TLS 1.2 mechanism
  secureOptions: constants.SSL_OP_NO_TICKET, // no tickets: every resumption goes through the cache
  sessionIdContext: "session-cache-demo",
  sessionTimeout: SESSION_TIMEOUT,
});
attachSessionCache(server, cache, { onError: (e) => errors.push(e) });
let serverResumed = 0;
server.on("secureConnection", (socket) => {
  if (socket.isSessionReused()) serverResumed++;
  socket.on("error", () => {});
  socket.end();
});
server.on("tlsClientError", (e) => errors.push(e));
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const address = server.address();
const port = typeof address === "object" && address !== null ? address.port : 0;

// --- the clients: each has its own client-side session cache -------------------------------
// The clients' sessions outlive the server's (a day), so they keep offering expired ones.
const clients: TlsClientSessionCache[] = [];
const client = (i: number): TlsClientSessionCache => {
  while (clients.length <= i) {
    clients.push(new TlsClientSessionCache({ now: () => clock, timeout: 86_400 }));
  }
  return clients[i]!;
};

interface PhaseResult {
  readonly name: string;
  connections: number;
  offered: number;
  resumed: number;
  readonly fullMs: number[];
  readonly resumedMs: number[];
}
const phases: PhaseResult[] = [];
const started = performance.now();
const progress = new Progress();
let total = 0;

function status(phase: PhaseResult, planned: number): string {
  const s = cache.stats;
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  return `[${secs.padStart(4)}s] ${phase.name.padEnd(24)} ${
    String(phase.connections).padStart(4)
  }/${planned} resumed ${phase.resumed} | cache ${cache.size} | hits ${s.hits} misses ${s.misses}` +
    ` timeouts ${s.timeouts} evicted ${s.cacheFull}`;
}

async function phase(name: string, order: readonly number[], beforeEach?: (n: number) => void) {
  const result: PhaseResult = {
    name,
    connections: 0,
    offered: 0,
    resumed: 0,
    fullMs: [],
    resumedMs: [],
  };
  phases.push(result);
  for (const [n, i] of order.entries()) {
    if (name.startsWith("steady") && performance.now() - started > BUDGET_MS) break;
    beforeEach?.(n);
    const h = await handshake(port, CERT, client(i));
    result.connections++;
    total++;
    if (h.offered) result.offered++;
    if (h.resumed) {
      result.resumed++;
      result.resumedMs.push(h.ms);
    } else {
      result.fullMs.push(h.ms);
    }
    progress.update(status(result, order.length));
  }
  progress.done(status(result, order.length)); // each phase's last line stays
}

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from }, (_, k) => from + k);

console.log(
  `TLS 1.2 server on 127.0.0.1:${port}, sessions in a SessionCache of size ${CACHE_SIZE} ` +
    `(holds ${CACHE_SIZE - 1}), session lifetime ${SESSION_TIMEOUT} s\n`,
);

// 1. 200 new clients: full handshakes, each session stored.
await phase("1 new clients", range(0, 200));
// 2. The same clients come back five times: every handshake resumes from the cache.
await phase("2 resume x5", [0, 1, 2, 3, 4].flatMap(() => range(0, 200)));
// 3. The clock jumps past the sessions' lifetime: lookups find them expired (timeouts) or the
//    auto-flush (every 256th handshake) has already removed them; full handshakes follow.
clock += SESSION_TIMEOUT + 1;
await phase("3 after expiry (+301 s)", range(0, 200));
// 4. 400 more clients than the cache holds: the soonest-expiring sessions are evicted. Then
//    all 600 return, newest first: the 255 or so still cached resume, the evicted do not.
await phase("4a 400 new clients", range(200, 600));
await phase("4b all return (evicted?)", range(0, 600).reverse());
// 5. A steady random mix over the 600 clients, the clock moving 1 s every 10 connections.
let seed = 42;
const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
await phase(
  "5 steady random mix",
  Array.from({ length: 1200 }, () => Math.floor(random() * 600)),
  (n) => {
    if (n % 10 === 9) clock += 1;
  },
);
await new Promise<void>((r) => server.close(() => r()));

// --- the report -----------------------------------------------------------------------------
const ms = (v: number) => (Number.isNaN(v) ? "-" : v.toFixed(2));
const all = { full: [] as number[], resumed: [] as number[] };
for (const p of phases) {
  all.full.push(...p.fullMs);
  all.resumed.push(...p.resumedMs);
}
const elapsed = (performance.now() - started) / 1000;
const clientResumed = all.resumed.length;

console.log("\nPer phase (times are client-observed handshake durations):\n");
console.log(table(
  [
    "phase",
    "connections",
    "offered a session",
    "resumed",
    "full",
    "median full ms",
    "median resumed ms",
  ],
  phases.map((p) => [
    p.name,
    p.connections,
    p.offered,
    p.resumed,
    p.connections - p.resumed,
    ms(median(p.fullMs)),
    ms(median(p.resumedMs)),
  ]),
));

const mix = phases.at(-1)!;
const mixRatio = (median(mix.fullMs) / median(mix.resumedMs)).toFixed(2);
const s = cache.stats;
const flushed = removed.total - s.cacheFull - s.timeouts;
console.log("\nTotals:\n");
console.log(table(["", "value"], [
  ["connections", total],
  ["full handshakes", total - clientResumed],
  ["resumed handshakes", clientResumed],
  ["median full handshake (ms)", ms(median(all.full))],
  ["median resumed handshake (ms)", ms(median(all.resumed))],
  // The mixed phase interleaves both kinds, so machine load affects them alike.
  ["full / resumed median, mixed phase (×)", mixRatio],
  ["handshakes per second (one at a time)", (total / elapsed).toFixed(0)],
  ["evictions (cacheFull)", s.cacheFull],
  ["expired on lookup (timeouts)", s.timeouts],
  ["auto-flush runs (every 256th handshake)", Math.floor(s.acceptGood / 256)],
  ["sessions removed by auto-flush", flushed],
  ["sessions cached at the end", cache.size],
  ["adapter errors", errors.length],
  ["elapsed (s)", elapsed.toFixed(1)],
]));

console.log("\nOpenSSL counters (SSL_CTX_sess_*):\n");
console.log(table(
  ["counter", "value"],
  Object.entries(s).map(([k, v]) => [k, v as number]),
));

// Every resumption must have come from the cache, and both ends must agree.
const problems: string[] = [];
if (s.hits !== clientResumed) {
  problems.push(`cache hits ${s.hits} != client resumptions ${clientResumed}`);
}
if (serverResumed !== clientResumed) {
  problems.push(`server resumptions ${serverResumed} != client resumptions ${clientResumed}`);
}
if (s.accept !== total || s.acceptGood !== total) {
  problems.push(`accept ${s.accept} / acceptGood ${s.acceptGood} != connections ${total}`);
}
if (errors.length > 0) problems.push(`adapter errors: ${String(errors[0])}`);
if (problems.length > 0) {
  console.error(`\nUNEXPECTED: ${problems.join("; ")}`);
  process.exitCode = 1;
} else {
  console.log(
    `\nOK: all ${clientResumed} resumptions came from the cache (hits = client = server), ` +
      `${total} handshakes in ${elapsed.toFixed(1)} s.`,
  );
}
