/**
 * A fleet of two Node server processes (tests/redis/_fleet_proc.ts) on one
 * Redis, then on a Redis Cluster of three masters: TLS 1.2 and TLS 1.3 with
 * tickets on, session ids through a RedisSessionStore, the ticket key from a
 * TicketKeyRotation over RedisTicketKeys (a 2 s rotation here).
 *
 * - TLS 1.3: `openssl s_client -tls1_3 -sess_out` against one server and
 *   `-sess_in` against the other resumes with shared keys, not with
 *   different keys (another prefix); after a rotation, a ticket of the
 *   previous period no longer resumes and a new one does;
 * - TLS 1.2: session ids (`-no_ticket`) resume across through the store,
 *   tickets through the shared key;
 * - measured: cross-server resumption rates (node:tls clients, N rounds),
 *   and a full handshake against a resumed one;
 * - Redis down (one Redis killed; one master of the cluster killed): every
 *   handshake completes, the servers keep the key they have (the same on
 *   both, so TLS 1.3 still resumes across), and pick up the current key
 *   when Redis is back.
 *
 * Node only (the runner of the other runtimes skips it, saying why): the
 * servers are Node processes, and the client that measures them is Node's
 * too. Skipped under tests/no_escape_test.ts's guard as well, which watches
 * only this process (the library runs in the servers). Needs redis-server,
 * redis-cli and openssl; without them it skips with a message, except
 * under CI, where it fails.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import {
  median,
  type RedisCluster,
  redisClusterSkipReason,
  type RedisServer,
  startRedis,
  startRedisCluster,
} from "./_redis.ts";
import {
  crossRounds,
  type FleetBackend,
  type FleetServer,
  freshPeriod,
  inOnePeriod,
  opensslSkipReason,
  periodAt,
  sClient,
  startFleetServer,
} from "./_fleet.ts";

const ROTATION_MS = 2000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const isNode = !("Deno" in globalThis) && !("Bun" in globalThis);
const skip = !isNode
  ? "runs once, under the Node runner: the fleet's servers are Node processes, and so is the client that measures them"
  : (redisClusterSkipReason() ?? opensslSkipReason());
if (skip !== undefined) console.warn(`SKIPPED (a fleet of Node servers): ${skip}`);

// The session files of s_client, in a directory made at the first one (none when skipped).
let dir: string | undefined;
let files = 0;
const sessionFile = () =>
  join(dir ??= mkdtempSync(join(tmpdir(), "fleet-test-")), `s${files++}.pem`);
const removeDir = () => dir !== undefined && rmSync(dir, { recursive: true, force: true });
after(removeDir);

const SEAL_KEY_HEX = Array.from(
  crypto.getRandomValues(new Uint8Array(32)),
  (b) => b.toString(16).padStart(2, "0"),
).join("");

/** Two servers sharing keys (`a`, `b`), and one with keys of its own (`c`: another prefix). */
interface Fleet {
  readonly a: FleetServer;
  readonly b: FleetServer;
  readonly c: FleetServer;
}

async function startFleet(backend: FleetBackend): Promise<Fleet> {
  const env = { SEAL_KEY_HEX, ROTATION_MS: String(ROTATION_MS), RETRY_MS: "100" };
  const [a, b, c] = await Promise.all([
    startFleetServer(backend, { ...env, PREFIX: "fleet:" }),
    startFleetServer(backend, { ...env, PREFIX: "fleet:" }),
    startFleetServer(backend, { ...env, PREFIX: "other:" }),
  ]);
  return { a, b, c };
}

async function stopFleet(fleet: Fleet | undefined): Promise<void> {
  if (fleet === undefined) return;
  await Promise.all([fleet.a.stop(), fleet.b.stop(), fleet.c.stop()]);
}

// ---- the checks both suites run -----------------------------------------------------------------

async function tls13Shared({ a, b }: Fleet): Promise<void> {
  const { value } = await inOnePeriod(ROTATION_MS, [a, b], 1200, async () => {
    const file = sessionFile();
    const first = await sClient(a.port, { version: "tls1_3", sessOut: file });
    const onB = await sClient(b.port, { version: "tls1_3", sessIn: file });
    const onA = await sClient(a.port, { version: "tls1_3", sessIn: file });
    return { first, onB, onA };
  });
  assert.equal(value.first.line.startsWith("New, TLSv1.3"), true, value.first.line);
  assert.equal(value.onB.reused, true, `on the other server: ${value.onB.line}`);
  assert.equal(value.onB.protocol, "TLSv1.3");
  assert.equal(value.onA.reused, true, `on the same server: ${value.onA.line}`);
}

async function tls13Different({ a, c }: Fleet): Promise<void> {
  const { value } = await inOnePeriod(ROTATION_MS, [a, c], 1200, async () => {
    const fromA = sessionFile();
    const fromC = sessionFile();
    await sClient(a.port, { version: "tls1_3", sessOut: fromA });
    const onC = await sClient(c.port, { version: "tls1_3", sessIn: fromA });
    await sClient(c.port, { version: "tls1_3", sessOut: fromC });
    const ownOnC = await sClient(c.port, { version: "tls1_3", sessIn: fromC });
    return { onC, ownOnC };
  });
  assert.equal(value.onC.reused, false, `resumed with another key: ${value.onC.line}`);
  assert.equal(value.ownOnC.reused, true, `control: its own ticket: ${value.ownOnC.line}`);
}

async function tls13Rotation({ a, b }: Fleet): Promise<void> {
  const old = sessionFile();
  const before = await inOnePeriod(ROTATION_MS, [a, b], 800, async () => {
    await sClient(a.port, { version: "tls1_3", sessOut: old });
    return await sClient(b.port, { version: "tls1_3", sessIn: old });
  });
  assert.equal(before.value.reused, true, `control, before the rotation: ${before.value.line}`);
  // Past the boundary: the servers switch keys at once (the next key was fetched ahead).
  await sleep((before.period + 1) * ROTATION_MS - Date.now());
  const fresh = sessionFile();
  const afterwards = await inOnePeriod(ROTATION_MS, [a, b], 1500, async () => {
    const oldOnB = await sClient(b.port, { version: "tls1_3", sessIn: old });
    const oldOnA = await sClient(a.port, { version: "tls1_3", sessIn: old });
    await sClient(a.port, { version: "tls1_3", sessOut: fresh });
    const freshOnB = await sClient(b.port, { version: "tls1_3", sessIn: fresh });
    return { oldOnB, oldOnA, freshOnB };
  });
  assert.ok(afterwards.period > before.period);
  assert.equal(afterwards.value.oldOnB.reused, false, "an old ticket resumed on the other server");
  assert.equal(afterwards.value.oldOnA.reused, false, "an old ticket resumed where it was issued");
  assert.equal(
    afterwards.value.freshOnB.reused,
    true,
    `a new ticket: ${afterwards.value.freshOnB.line}`,
  );
  const stats = await Promise.all([a.stats(), b.stats()]);
  for (const s of stats) {
    assert.ok(s.rotation.installs >= 2);
    assert.deepEqual(s.errors, []);
  }
}

async function tls12Both({ a, b }: Fleet): Promise<void> {
  const before = await b.stats();
  const { value } = await inOnePeriod(ROTATION_MS, [a, b], 1200, async () => {
    const ids = sessionFile();
    const tickets = sessionFile();
    await sClient(a.port, { version: "tls1_2", noTicket: true, sessOut: ids });
    const byId = await sClient(b.port, { version: "tls1_2", noTicket: true, sessIn: ids });
    const afterId = await b.stats();
    await sClient(a.port, { version: "tls1_2", sessOut: tickets });
    const byTicket = await sClient(b.port, { version: "tls1_2", sessIn: tickets });
    return { byId, afterId, byTicket };
  });
  const after = await b.stats();
  assert.equal(value.byId.reused, true, `TLS 1.2 by session id: ${value.byId.line}`);
  assert.equal(value.byId.protocol, "TLSv1.2");
  assert.equal(value.byTicket.reused, true, `TLS 1.2 by ticket: ${value.byTicket.line}`);
  // The id came from the store (an external hit on B); the ticket never asked it.
  assert.equal(value.afterId.cache.cbHits! - before.cache.cbHits!, 1);
  assert.equal(after.cache.cbHits, value.afterId.cache.cbHits);
}

async function measure(name: string, { a, b }: Fleet): Promise<void> {
  const tls13 = await crossRounds(ROTATION_MS, [a, b], 100, { version: "TLSv1.3" });
  const tickets12 = await crossRounds(ROTATION_MS, [a, b], 50, { version: "TLSv1.2" });
  const ids12 = await crossRounds(ROTATION_MS, [a, b], 50, {
    version: "TLSv1.2",
    noTicket: true,
  });
  const line = (what: string, r: typeof tls13) =>
    `${what} ${r.reused}/${r.attempts} resumed (${r.redone} rounds redone at a boundary), median full ${
      median(r.fullMs).toFixed(2)
    } ms, resumed ${median(r.resumedMs).toFixed(2)} ms`;
  console.log(`# fleet on ${name}, across servers: ${line("TLS 1.3 tickets", tls13)}`);
  console.log(`# fleet on ${name}, across servers: ${line("TLS 1.2 tickets", tickets12)}`);
  console.log(`# fleet on ${name}, across servers: ${line("TLS 1.2 session ids", ids12)}`);
  for (const r of [tls13, tickets12, ids12]) assert.equal(r.failed, 0, r.errors.join("; "));
  assert.equal(tls13.reused, tls13.attempts, "every TLS 1.3 ticket resumed on the other server");
  assert.equal(tickets12.reused, tickets12.attempts);
  // Session ids race the store's SET (see tests/redis/store_test.ts, RACE): rarely a full one.
  assert.ok(ids12.reused >= 0.95 * ids12.attempts, `${ids12.reused}/${ids12.attempts}`);
}

/** The checks both suites run, on the fleet `fleet()` returns once started. */
function sharedChecks(backend: string, fleet: () => Fleet): void {
  it("TLS 1.3: a ticket from one server resumes on the other (s_client -sess_out, then -sess_in)", () =>
    tls13Shared(fleet()));
  it("TLS 1.3: with different ticket keys, a ticket from one server does not resume on the other", () =>
    tls13Different(fleet()));
  it("TLS 1.3: after a rotation, a ticket of the previous period no longer resumes, a new one does", () =>
    tls13Rotation(fleet()));
  it("TLS 1.2: a session id resumes across through the store, a ticket through the shared key", () =>
    tls12Both(fleet()));
  it("measures cross-server resumption (node:tls clients), TLS 1.3 and TLS 1.2", () =>
    measure(backend, fleet()));
}

/** Waits (bounded) until both servers hold the current period's key again. */
async function bothCurrent(servers: readonly FleetServer[], ms = 8000): Promise<void> {
  const until = Date.now() + ms;
  let stats = await Promise.all(servers.map((s) => s.stats()));
  while (stats.some((s) => s.status !== "current") && Date.now() < until) {
    await sleep(50);
    stats = await Promise.all(servers.map((s) => s.stats()));
  }
  assert.deepEqual(stats.map((s) => s.status), servers.map(() => "current"));
}

// ---- one Redis --------------------------------------------------------------------------------

describe("a fleet of two Node servers on one Redis", { skip: skip ?? false }, () => {
  let redis: RedisServer;
  let fleet: Fleet | undefined;
  before(async () => {
    redis = await startRedis();
    fleet = await startFleet({ url: redis.url });
  });
  after(async () => {
    await stopFleet(fleet);
    await redis?.stop();
  });

  sharedChecks("one Redis", () => fleet!);

  it("Redis killed: handshakes complete, both servers keep the same key past the boundary (TLS 1.3 still resumes across); Redis back: the current key", async () => {
    const { a, b } = fleet!;
    await freshPeriod(ROTATION_MS, [a, b], 1500);
    await redis.kill();
    const down = periodAt(ROTATION_MS);
    // Into the next period: its key cannot be fetched.
    await sleep((down + 1) * ROTATION_MS - Date.now() + 300);
    const stats = await Promise.all([a.stats(), b.stats()]);
    assert.deepEqual(stats.map((s) => s.status), ["stale", "stale"]);
    assert.deepEqual(stats.map((s) => s.rotation.period), [down, down], "both keep one key");
    for (const s of stats) assert.ok(s.errors.some((e) => e.startsWith(`fetch ${down + 1}: `)));
    const file = sessionFile();
    await sClient(a.port, { version: "tls1_3", sessOut: file });
    const across = await sClient(b.port, { version: "tls1_3", sessIn: file });
    assert.equal(across.reused, true, `with the stale key: ${across.line}`);
    const ids = await crossRounds(ROTATION_MS, [a, b], 6, {
      version: "TLSv1.2",
      noTicket: true,
      anyKey: true,
    });
    assert.equal(ids.failed, 0, ids.errors.join("; "));
    assert.equal(ids.reused, 0, "a session id resumed across while Redis was down");
    console.log(
      `# one Redis down: TLS 1.2 by id across servers ${ids.reused}/${ids.attempts} (full), median ${
        median(ids.fullMs).toFixed(2)
      } ms; TLS 1.3 across with the stale key: resumed`,
    );
    await redis.restart(); // same port, empty
    await bothCurrent([a, b]);
    await tls13Shared(fleet!);
  });
});

// ---- a Redis Cluster --------------------------------------------------------------------------

describe(
  "a fleet of two Node servers on a Redis Cluster (3 masters)",
  { skip: skip ?? false },
  () => {
    let cluster: RedisCluster;
    let fleet: Fleet | undefined;
    before(async () => {
      cluster = await startRedisCluster({ nodeTimeoutMs: 1000 });
      fleet = await startFleet({ cluster: cluster.rootNodes.map((n) => n.url) });
    });
    after(async () => {
      await stopFleet(fleet);
      await cluster?.stop();
    });

    sharedChecks("a Redis Cluster", () => fleet!);

    it("a master killed mid-run: every handshake completes, its sessions go full, TLS 1.3 resumes; the period whose key it holds keeps the old key; restarted, all comes back", async () => {
      const { a, b } = fleet!;
      // The master that holds the key of the period after next: killed during the next one.
      const now = periodAt(ROTATION_MS);
      const target = now + 2;
      const keyName = `fleet:ticket-key:${ROTATION_MS}:${target}`;
      const victim = await cluster.nodeOf(keyName);
      await sleep((now + 1) * ROTATION_MS - Date.now() + 100);
      await freshPeriod(ROTATION_MS, [a, b], 0, { settleMs: 100 });
      assert.equal(periodAt(ROTATION_MS), target - 1, "the machine is too slow for this test");
      const running = crossRounds(ROTATION_MS, [a, b], 30, {
        version: "TLSv1.2",
        noTicket: true,
        anyKey: true,
      }, 0);
      await sleep(20);
      await cluster.nodes[victim]!.kill();
      const ids = await running;
      const tls13 = await crossRounds(
        ROTATION_MS,
        [a, b],
        10,
        { version: "TLSv1.3", anyKey: true },
        0,
      );
      assert.equal(ids.failed + tls13.failed, 0, [...ids.errors, ...tls13.errors].join("; "));
      assert.ok(ids.reused < ids.attempts, "no session id landed on the dead master");
      assert.equal(tls13.reused, tls13.attempts, "TLS 1.3 needs no Redis within a period");
      // Into the target period: its key lives on the dead master, so both keep the previous one.
      await sleep(target * ROTATION_MS - Date.now() + 300);
      const stats = await Promise.all([a.stats(), b.stats()]);
      assert.equal(periodAt(ROTATION_MS), target, "the machine is too slow for this test");
      assert.deepEqual(stats.map((s) => s.status), ["stale", "stale"]);
      assert.deepEqual(stats.map((s) => s.rotation.period), [target - 1, target - 1]);
      const file = sessionFile();
      await sClient(a.port, { version: "tls1_3", sessOut: file });
      const across = await sClient(b.port, { version: "tls1_3", sessIn: file });
      assert.equal(across.reused, true, `with the kept key: ${across.line}`);
      console.log(
        `# cluster, a master down: TLS 1.2 by id across servers ${ids.reused}/${ids.attempts} resumed (sessions on the dead master go full), handshakes median ${
          median([...ids.fullMs, ...ids.resumedMs]).toFixed(2)
        } ms, max ${
          Math.max(...ids.fullMs, ...ids.resumedMs).toFixed(1)
        } ms; TLS 1.3 ${tls13.reused}/${tls13.attempts}; the period whose key is on it: both servers kept the previous key`,
      );
      await cluster.nodes[victim]!.restart();
      await cluster.waitState("ok");
      await bothCurrent([a, b]);
      await tls13Shared(fleet!);
      const back = await crossRounds(ROTATION_MS, [a, b], 20, {
        version: "TLSv1.2",
        noTicket: true,
      });
      assert.ok(back.reused >= 19, `session ids after the restart: ${back.reused}/20`);
      assert.equal(a.crashed || b.crashed, false);
    });
  },
);

process.on("exit", removeDir);
