/**
 * Demo: a node:tls server on 127.0.0.1 whose TLS 1.2 sessions live in a
 * SessionCache (through attachSessionCache), and a few thousand real client
 * connections against it, in phases that each show one behaviour of
 * OpenSSL's session cache: storing new sessions, resuming them, expiry,
 * eviction when full, and a steady mix. Before each phase a legend says what
 * it does; after it, the counters that changed. It ends with OpenSSL's
 * counters, each beside the `SSL_CTX_sess_*` call that reads it.
 *
 * Every number printed comes from the cache (its `stats`, `removals`, `size`
 * and its remove callback) or from the clients' own handshakes; the demo
 * checks at the end that they agree. Output fits 80 columns.
 *
 * Run: `npm run demo` (= `node --import tsx demo/main.ts`); `--quick` runs
 * an eighth of the connections against a cache of size 33. Node only: Deno
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
import { type CacheStats, type RemovalCounts, SessionCache } from "../mod.ts";
import { attachSessionCache, TlsClientSessionCache } from "../node.ts";
import { handshake } from "./_client.ts";
import { median, Progress, table, wrap } from "./_report.ts";

if ("Deno" in globalThis || "Bun" in globalThis) {
  console.error(
    "This demo needs Node: Deno and Bun never call node:tls 'newSession'/'resumeSession'.\n" +
      "Run it with: npm run demo",
  );
  process.exit(1);
}

const QUICK = process.argv.includes("--quick");
const SCALE = QUICK ? 8 : 1; // --quick: an eighth of everything
const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "..", "tests", "fixtures");
const KEY = readFileSync(join(FIXTURES, "test_only_key.pem")); // TEST-ONLY key, see its README
const CERT = readFileSync(join(FIXTURES, "test_only_cert.pem"));

const HOLDS = 256 / SCALE; // sessions the cache keeps
const CACHE_SIZE = HOLDS + 1; // OpenSSL's quirk: a cache of size N holds N - 1 sessions
const SESSION_TIMEOUT = 300; // seconds, on the server and in the cache
const FIRST = 200 / SCALE; // clients of phase 1
const CLIENTS = 600 / SCALE; // all clients
// Rounds of phase 2. With --quick, 9 rounds put the 256th handshake inside phase 3, so that the
// automatic flush finds expired sessions there, as the 1280th does in the full run.
const ROUNDS = QUICK ? 9 : 5;
const BUDGET_MS = 45_000; // the steady phase stops early past this (slow machines)

const say = (text = "") => console.log(wrap(text));

// --- the server ---------------------------------------------------------------------------
// The cache's clock is simulated: it starts at the real time and the demo moves it by hand.
// Only the cache sees it; OpenSSL inside node:tls keeps the real clock.
let clock = Math.floor(Date.now() / 1000);
const errors: unknown[] = [];
// The demo never calls flush(), so every "expired" removal comes from the automatic flush that
// handshakeCompleted runs during every 256th completed handshake, as OpenSSL's
// ssl_update_cache does. The callback sees the committed state, so acceptGood is the number of
// the handshake that ran it.
const autoFlushes = new Map<number, number>(); // handshake number -> sessions it removed
const cache = new SessionCache({
  cacheSize: CACHE_SIZE,
  timeout: SESSION_TIMEOUT,
  now: () => clock,
  onRemoveSession: (_session, c, reason) => {
    if (reason !== "expired") return;
    const at = c.stats.acceptGood;
    autoFlushes.set(at, (autoFlushes.get(at) ?? 0) + 1);
  },
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
// The clients keep their sessions for a day, longer than the server, so they keep offering
// sessions the server's cache has dropped.
const clients: TlsClientSessionCache[] = [];
const client = (i: number): TlsClientSessionCache => {
  while (clients.length <= i) {
    clients.push(new TlsClientSessionCache({ now: () => clock, timeout: 86_400 }));
  }
  return clients[i]!;
};

interface Snapshot {
  readonly stats: CacheStats;
  readonly removals: RemovalCounts;
  readonly size: number;
  readonly flushRuns: number;
}
const snapshot = (): Snapshot => ({
  stats: cache.stats,
  removals: cache.removals,
  size: cache.size,
  flushRuns: autoFlushes.size,
});

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
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  return `  [${secs.padStart(4)} s] ${String(phase.connections).padStart(4)}/${planned}, ` +
    `${phase.resumed} resumed | cached ${cache.size} | ` +
    `hits ${cache.stats.hits}, misses ${cache.stats.misses}`;
}

/** What changed between two snapshots, as "name +n" items (only what changed). */
function changes(before: Snapshot, after: Snapshot): string {
  const items: string[] = [];
  for (const key of Object.keys(after.stats) as (keyof CacheStats)[]) {
    if (key === "number") continue;
    const d = after.stats[key] - before.stats[key];
    if (d !== 0) items.push(`${key} +${d}`);
  }
  // The demo calls neither remove() nor flush(0): "removed" sessions were found expired by a
  // lookup (and counted in timeouts), "expired" ones were removed by the automatic flush.
  const removals: Record<keyof RemovalCounts, string> = {
    expired: "flushed as expired",
    evicted: "evicted",
    removed: "dropped by a lookup",
    cleared: "cleared",
  };
  for (const key of Object.keys(after.removals) as (keyof RemovalCounts)[]) {
    const d = after.removals[key] - before.removals[key];
    if (d !== 0) items.push(`${removals[key]} +${d}`);
  }
  const runs = after.flushRuns - before.flushRuns;
  if (runs !== 0) items.push(`auto-flush runs that removed sessions +${runs}`);
  items.push(`cached ${before.size} -> ${after.size}`);
  return items.join(", ");
}

async function phase(
  name: string,
  legend: string,
  order: readonly number[],
  beforeEach?: (n: number) => void,
): Promise<PhaseResult> {
  say(`\n== ${name} ${"=".repeat(Math.max(0, 76 - name.length))}`);
  say(legend);
  const before = snapshot();
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
    if (name.startsWith("5") && performance.now() - started > BUDGET_MS) break;
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
  progress.done(status(result, order.length));
  say(
    `  Seen by the clients: ${result.connections} connections, ${result.offered} offered a ` +
      `session, ${result.resumed} resumed, ${result.connections - result.resumed} full.`,
  );
  say(`  The cache's counters changed by: ${changes(before, snapshot())}.`);
  return result;
}

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from }, (_, k) => from + k);

say(
  `A node:tls server on 127.0.0.1:${port} (TLS 1.2, tickets off) keeps its sessions in a ` +
    `SessionCache of size ${CACHE_SIZE}, which holds ${HOLDS} (OpenSSL's N - 1). Sessions ` +
    `live ${SESSION_TIMEOUT} s. ${CLIENTS} simulated clients, each with its own ` +
    `TlsClientSessionCache, make real TLS connections one at a time.`,
);
say(
  `The cache's clock is simulated: it starts at the real time, and the demo moves it ahead by ` +
    `hand. Only the cache sees that time pass.`,
);

// 1. New clients: full handshakes, each session stored.
await phase(
  `1 new clients`,
  `${FIRST} clients connect for the first time. They have no session to offer, so every ` +
    `handshake is full, and the server stores each new session in the cache ` +
    `(SSL_CTX_add_session through the new-session callback).`,
  range(0, FIRST),
);
say(
  `  Why misses when no client offered a session: a TLS 1.3-capable ClientHello carries a ` +
    `random 32-byte legacy session id, which the server looks up like any other; OpenSSL ` +
    `counts that as a miss too.`,
);

// 2. The same clients come back five times: every handshake resumes from the cache.
await phase(
  `2 resume x${ROUNDS}`,
  `The same ${FIRST} clients come back ${ROUNDS} times and offer their session. The cache finds ` +
    `each one (a hit), so the handshakes are abbreviated: no key exchange, no certificate.`,
  range(0, ROUNDS).flatMap(() => range(0, FIRST)),
);

// 3. The cache's clock jumps past the sessions' lifetime.
clock += SESSION_TIMEOUT + 1;
await phase(
  `3 after expiry (cache clock +${SESSION_TIMEOUT + 1} s)`,
  `The demo moves the cache's simulated clock ${SESSION_TIMEOUT + 1} s ahead, past the ` +
    `sessions' lifetime; OpenSSL inside node:tls still sees the real time. The clients offer ` +
    `their sessions again: a lookup that finds one expired counts a timeout and removes it, ` +
    `and the automatic flush (every 256th completed handshake) removes expired sessions before ` +
    `anyone asks for them. Either way: full handshakes, and new sessions.`,
  range(0, FIRST),
);

// 4. More clients than the cache holds: the soonest-expiring sessions are evicted.
await phase(
  `4a ${CLIENTS - FIRST} new clients`,
  `${CLIENTS - FIRST} new clients, more than the ${HOLDS} sessions the cache holds. When it ` +
    `is full, each new session evicts the one that expires soonest (cacheFull).`,
  range(FIRST, CLIENTS),
);
await phase(
  `4b all ${CLIENTS} return, newest first`,
  `All ${CLIENTS} clients come back, newest first. Those whose session is still cached ` +
    `resume; the evicted ones get a full handshake (a miss), and their new sessions evict ` +
    `others in turn.`,
  range(0, CLIENTS).reverse(),
);

// 5. A steady random mix over all clients, the clock moving 1 s every 10 connections.
let seed = 42;
const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
await phase(
  `5 steady random mix`,
  `${(1200 / SCALE).toFixed(0)} connections from clients picked at random; the cache's ` +
    `clock moves 1 s every 10 connections. Hits, misses, evictions and expiries mix as on a ` +
    `busy server.`,
  Array.from({ length: 1200 / SCALE }, () => Math.floor(random() * CLIENTS)),
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

say(`\n== Summary ${"=".repeat(68)}`);
say("\nPer phase (handshake times as the clients saw them, one connection at a time):\n");
console.log(table(
  ["phase", "conns", "offered", "resumed", "full", "full ms", "resumed ms"],
  phases.map((p) => [
    p.name.replace(/ \(.*\)$/, "").replace(/, newest first$/, ""),
    p.connections,
    p.offered,
    p.resumed,
    p.connections - p.resumed,
    ms(median(p.fullMs)),
    ms(median(p.resumedMs)),
  ]),
));

const mix = phases.at(-1)!;
const s = cache.stats;
const r = cache.removals;
const flushedAt = [...autoFlushes.keys()];
say(
  `\nThe automatic flush: OpenSSL runs it during every 256th completed handshake. The remove ` +
    `callback saw it remove expired sessions during ${autoFlushes.size} ` +
    `handshake${autoFlushes.size === 1 ? "" : "s"}` +
    (flushedAt.length > 0
      ? ` (number ${flushedAt.join(", ")}), ${r.expired} sessions in all. `
      : ". ") +
    `A run that finds nothing expired removes nothing, and leaves no trace in the callbacks.`,
);
say("\nTotals:\n");
console.log(table(["", "value"], [
  ["connections", total],
  ["resumed handshakes (client side)", clientResumed],
  ["resumed handshakes (server side)", serverResumed],
  ["median full handshake, ms", ms(median(all.full))],
  ["median resumed handshake, ms", ms(median(all.resumed))],
  // The mixed phase interleaves both kinds, so machine load affects them alike.
  ["full / resumed median, phase 5", (median(mix.fullMs) / median(mix.resumedMs)).toFixed(2)],
  ["sessions removed: expired (auto-flush)", r.expired],
  ["sessions removed: evicted (cache full)", r.evicted],
  ["sessions removed: found expired on lookup", r.removed],
  ["sessions cached at the end", cache.size],
  ["adapter errors", errors.length],
  ["elapsed, s", elapsed.toFixed(1)],
]));

say("\nOpenSSL's counters, each beside the call that reads it in C:\n");
const CALLS: readonly [keyof CacheStats, string, string][] = [
  ["number", "number", "sessions cached now"],
  ["connect", "connect", "client handshakes started"],
  ["connectGood", "connect_good", "client handshakes done"],
  ["connectRenegotiate", "connect_renegotiate", "client renegotiations"],
  ["accept", "accept", "server handshakes started"],
  ["acceptGood", "accept_good", "server handshakes done"],
  ["acceptRenegotiate", "accept_renegotiate", "server renegotiations"],
  ["hits", "hits", "sessions resumed"],
  ["cbHits", "cb_hits", "found by get_session_cb"],
  ["misses", "misses", "not in the cache"],
  ["timeouts", "timeouts", "found, but expired"],
  ["cacheFull", "cache_full", "evicted: cache full"],
];
console.log(table(
  ["SSL_CTX_sess_*(ctx)", "cache.stats.", "value", "counts"],
  CALLS.map(([key, call, what]) => [call, key, s[key], what]),
));
say(
  "\n(This server has no client side and no external cache, so connect* and cbHits stay 0; " +
    "Node has no event for renegotiations.)",
);

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
if (r.evicted !== s.cacheFull) problems.push(`evictions ${r.evicted} != cacheFull ${s.cacheFull}`);
if (flushedAt.some((n) => n % 256 !== 0)) {
  problems.push(`an automatic flush ran outside every 256th handshake: ${flushedAt.join(", ")}`);
}
if (errors.length > 0) problems.push(`adapter errors: ${String(errors[0])}`);
if (problems.length > 0) {
  console.error(wrap(`\nUNEXPECTED: ${problems.join("; ")}`));
  process.exitCode = 1;
} else {
  say(
    `\nOK: all ${clientResumed} resumptions came from the cache (cache hits = client ` +
      `resumptions = server resumptions), ${total} handshakes in ${elapsed.toFixed(1)} s.`,
  );
}
