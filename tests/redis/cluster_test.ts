/**
 * Redis Cluster (every runtime): `nodeRedisClusterClient` routes each
 * command by its key (a stand-in cluster: what it is sent, read once,
 * refusals in the std grammar, an `"error"` listener added), then the store
 * and the ticket keys on a real local cluster of three masters started here
 * (`cluster-enabled yes`, created with `redis-cli --cluster create`):
 * sessions spread over the masters, two caches share them, each period's
 * ticket key is made once; and a master killed mid-run: lookups of its
 * slots miss, the others still hit, nothing hangs, and a restart brings its
 * slots back.
 *
 * The real-cluster suite needs `redis-server` and `redis-cli` on PATH;
 * without them it skips with a message, except under CI, where it fails.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createCluster } from "redis";
import {
  nodeRedisClusterClient,
  RedisSessionStore,
  RedisTicketKeys,
  type SessionStoreErrorContext,
} from "../../redis.ts";
import { type Session, SessionCache } from "../../mod.ts";
import { countingReads, mostReads } from "../_hostile.ts";
import {
  HEALTHY_REDIS_TIMEOUT_MS,
  median,
  type RedisCluster,
  redisClusterSkipReason,
  startRedisCluster,
} from "./_redis.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SEAL = [{ id: "k1", key: new Uint8Array(32).fill(5) }];

function session(n: number, timeout = 300): Session {
  return {
    id: new Uint8Array([n >> 8, n & 0xff, 0xc1]),
    time: Math.floor(Date.now() / 1000),
    timeout,
    version: 0x0303,
    data: new Uint8Array([n & 0xff, 1, 2, 3]),
  };
}

describe("nodeRedisClusterClient", () => {
  it("sends each command with the key it names, GET as read-only, SET NX for ticket keys", async () => {
    const sent: unknown[][] = [];
    const cluster = {
      sendCommand: (key: string, readonly: boolean, args: string[]) => {
        sent.push([key, readonly, args]);
        return Promise.resolve(args[0] === "GET" ? "v" : args.includes("NX") ? null : "OK");
      },
    };
    const client = nodeRedisClusterClient(cluster);
    assert.equal(await client.get("a"), "v");
    await client.set("b", "x", 1_700_000_000_000);
    await client.set("c", "y", undefined);
    await client.del("d");
    assert.equal(await client.setIfAbsent("e", "z", 1_700_000_000_001), false);
    assert.deepEqual(sent, [
      ["a", true, ["GET", "a"]],
      ["b", false, ["SET", "b", "x", "PXAT", "1700000000000"]],
      ["c", false, ["SET", "c", "y"]],
      ["d", false, ["DEL", "d"]],
      ["e", false, ["SET", "e", "z", "NX", "PXAT", "1700000000001"]],
    ]);
  });

  it("reads the cluster's methods once, adds an error listener only when there is none, refuses odd replies", async () => {
    let listeners = 0;
    const cluster = countingReads({
      sendCommand: (_key: string, _readonly: boolean, args: string[]) =>
        Promise.resolve(args[0] === "GET" ? 42 : "QUEUED"),
      on: (_event: string, _listener: unknown) => void listeners++,
      listenerCount: () => listeners,
    });
    const client = nodeRedisClusterClient(cluster.value);
    assert.equal(listeners, 1);
    nodeRedisClusterClient(cluster.value);
    assert.equal(listeners, 1, "a second adapter adds none: the cluster has one");
    await assert.rejects(
      client.get("k"),
      /^TypeError: Cannot read value: GET reply must be a string or bytes: received 42$/,
    );
    await assert.rejects(
      client.setIfAbsent("k", "v", 1),
      /^TypeError: Cannot write value: SET NX reply must be "OK" or null: received "QUEUED"$/,
    );
    assert.equal(mostReads(cluster.reads), 2, "each method read once per adapter");
  });

  it("refuses a value that is not a cluster client (std grammar)", () => {
    assert.throws(
      () => nodeRedisClusterClient(undefined as never),
      /^TypeError: Cannot adapt Redis cluster client: client must be an object: received undefined$/,
    );
    assert.throws(
      () => nodeRedisClusterClient({ sendCommand: "no" } as never),
      /^TypeError: Cannot adapt Redis cluster client: client\.sendCommand must be a function: received "no"$/,
    );
  });
});

const skip = redisClusterSkipReason();
if (skip !== undefined) console.warn(`SKIPPED (Redis Cluster): ${skip}`);

describe("the store and the ticket keys on a real Redis Cluster (3 masters)", {
  skip: skip ?? false,
}, () => {
  let cluster: RedisCluster;
  const T = HEALTHY_REDIS_TIMEOUT_MS;
  const clients: { destroy(): void }[] = [];
  const connect = async () => {
    const client = createCluster({
      rootNodes: cluster.rootNodes.map((node) => ({ ...node })),
      // Commands for a node that is down fail at once instead of queueing; reconnect quickly.
      defaults: {
        disableOfflineQueue: true,
        socket: {
          connectTimeout: 500,
          reconnectStrategy: (n: number) => Math.min(50 * (n + 1), 200),
        },
      },
    });
    const adapted = nodeRedisClusterClient(client); // before connect: its "error" event is covered
    await client.connect();
    clients.push(client);
    return adapted;
  };

  before(async () => {
    cluster = await startRedisCluster({ nodeTimeoutMs: 1000 });
  });
  after(async () => {
    for (const c of clients) {
      try {
        c.destroy();
      } catch {
        // already closed
      }
    }
    await cluster?.stop();
  });

  it("sessions spread over the three masters: each SET, GET and DEL goes to the master of its key's slot", async () => {
    const store = new RedisSessionStore(await connect(), {
      prefix: "spread:",
      sidCtx: "c",
      timeoutMs: T,
    });
    const sessions = Array.from({ length: 60 }, (_, i) => session(i));
    await Promise.all(sessions.map((s) => store.hooks.onNewSession(s)));
    const sizes = await Promise.all(
      cluster.nodes.map(async (node) => Number((await node.command("DBSIZE")).slice(1))),
    );
    assert.equal(sizes.reduce((a, b) => a + b, 0), 60);
    assert.ok(sizes.every((n) => n > 0), `keys per master: ${sizes}`);
    for (const s of sessions) {
      assert.equal((await store.hooks.getSession({ id: s.id }))?.data?.[0], s.data![0]);
    }
    for (const s of sessions.slice(0, 30)) store.hooks.onRemoveSession(s, undefined, "removed");
    await store.settled();
    assert.deepEqual(
      { sets: store.stats.sets, hits: store.stats.hits, dels: store.stats.dels },
      { sets: 60, hits: 60, dels: 30 },
    );
    assert.equal(store.stats.errors + store.stats.timeouts, 0);
  });

  it("two SessionCaches (two servers) share sessions through the cluster", async () => {
    const [a, b] = [
      new RedisSessionStore(await connect(), { prefix: "share:", sidCtx: "c", timeoutMs: T }),
      new RedisSessionStore(await connect(), {
        prefix: "share:",
        sidCtx: "c",
        keys: SEAL,
        timeoutMs: T,
      }),
    ];
    const sealed = new RedisSessionStore(await connect(), {
      prefix: "share:",
      sidCtx: "c",
      keys: SEAL,
      timeoutMs: T,
    });
    const cacheA = new SessionCache({ ...sealed.hooks });
    const cacheB = new SessionCache({ ...b.hooks });
    for (let i = 0; i < 20; i++) {
      await cacheA.handshakeCompleted({
        side: "server",
        session: session(1000 + i),
        resumed: false,
      });
    }
    let found = 0;
    await sealed.settled();
    for (let i = 0; i < 20; i++) {
      if (await cacheB.lookup({ id: session(1000 + i).id, version: 0x0303 })) found++;
    }
    assert.equal(found, 20);
    assert.equal(cacheB.stats.cbHits, 20);
    // A store without the sealing key refuses the sealed values: misses, not errors.
    assert.equal(await a.hooks.getSession({ id: session(1000).id }), undefined);
    assert.equal(a.stats.rejected, 1);
  });

  it("RedisTicketKeys: each period's key is made once and read by every server; successive periods live on different masters", async () => {
    const sources = [
      new RedisTicketKeys(await connect(), { keys: SEAL, prefix: "tk:", timeoutMs: T }),
      new RedisTicketKeys(await connect(), { keys: SEAL, prefix: "tk:", timeoutMs: T }),
      new RedisTicketKeys(await connect(), { keys: SEAL, prefix: "tk:", timeoutMs: T }),
    ];
    const owners = new Set<number>();
    const base = Math.floor(Date.now() / 60_000);
    for (let index = base; index < base + 12; index++) {
      const period = { index, startMs: index * 60_000, endMs: (index + 1) * 60_000 };
      const keys = await Promise.all(sources.map((s) => s.ticketKey(period)));
      assert.equal(new Set(keys.map((k) => k.join())).size, 1, `period ${index}: one key`);
      owners.add(await cluster.nodeOf(sources[0]!.redisKey(period)));
    }
    assert.equal(sources.reduce((n, s) => n + s.stats.created, 0), 12);
    assert.ok(owners.size >= 2, `12 periods' keys all on master ${[...owners]}`);
  });

  it("a master killed mid-run: lookups of its slots miss at once, the others still hit, nothing hangs; restarted, its slots come back", async () => {
    const errors: SessionStoreErrorContext[] = [];
    const store = new RedisSessionStore(await connect(), {
      prefix: "kill:",
      sidCtx: "c",
      timeoutMs: T, // a dead master's commands fail at once (no offline queue), not at the deadline
      onError: (_error, context) => void errors.push(context),
    });
    const sessions = Array.from({ length: 90 }, (_, i) => session(2000 + i));
    for (const s of sessions) await store.hooks.onNewSession(s); // within maxInFlight
    assert.equal(store.stats.sets, 90);
    const victim = 1;
    const owner = await Promise.all(
      sessions.map((s) => cluster.nodeOf(store.redisKey(s.id))),
    );
    const onVictim = owner.filter((o) => o === victim).length;
    assert.ok(onVictim > 0 && onVictim < 90, `${onVictim} of 90 on the victim`);

    // Lookups run while the master dies under them.
    const lookups: { hit: boolean; skipped: boolean; ms: number; onVictim: boolean }[] = [];
    const lookupAll = async () => {
      for (let i = 0; i < sessions.length; i++) {
        const skippedBefore = store.stats.skipped;
        const started = performance.now();
        const found = await store.hooks.getSession({ id: sessions[i]!.id });
        lookups.push({
          hit: found !== undefined,
          skipped: store.stats.skipped > skippedBefore,
          ms: performance.now() - started,
          onVictim: owner[i] === victim,
        });
      }
    };
    const running = lookupAll();
    await sleep(5);
    await cluster.nodes[victim]!.kill();
    await running;
    const during = lookups.splice(0);
    // Then a full pass with the master down (the breaker may skip a few: misses too).
    await sleep(1100); // past any cooldown of the breaker
    await lookupAll();
    const down = lookups.splice(0);
    const survivors = down.filter((l) => !l.onVictim);
    const dead = down.filter((l) => l.onVictim);
    console.log(
      `# cluster, a master down: ${
        survivors.filter((l) => l.hit).length
      }/${survivors.length} hits on the live masters, ${
        dead.filter((l) => l.hit).length
      }/${dead.length} on the dead one; lookup median ${
        median(down.map((l) => l.ms)).toFixed(2)
      } ms, max ${Math.max(...down.map((l) => l.ms)).toFixed(1)} ms (live slots: median ${
        median(survivors.map((l) => l.ms)).toFixed(2)
      } ms; dead slots: median ${median(dead.map((l) => l.ms)).toFixed(2)} ms); during the kill: ${
        during.filter((l) => l.hit).length
      }/${during.length} hits; store errors ${store.stats.errors}, timeouts ${store.stats.timeouts}, skipped by the breaker ${store.stats.skipped}`,
    );
    assert.equal(dead.filter((l) => l.hit).length, 0, "a session on the dead master resumed");
    // A live master's session is found, unless the store's breaker skipped Redis for that lookup
    // (it opens after 5 failures in a row, whichever masters they came from).
    assert.deepEqual(survivors.filter((l) => !l.hit && !l.skipped), [], "a live session missed");
    assert.ok(errors.some((e) => e.operation === "get"), "the failed lookups were reported");

    await cluster.nodes[victim]!.restart(); // same port and config file: it takes its slots back, empty
    await cluster.waitState("ok");
    const fresh = session(4000);
    const until = Date.now() + 5000;
    let back = false;
    while (!back && Date.now() < until) {
      await store.hooks.onNewSession(fresh);
      back = (await store.hooks.getSession({ id: fresh.id })) !== undefined;
      if (!back) await sleep(100);
    }
    assert.ok(back, "writes and reads work again after the restart");
    for (let i = 0; i < 30; i++) {
      const s = session(5000 + i);
      await store.hooks.onNewSession(s);
      assert.ok(await store.hooks.getSession({ id: s.id }), `session ${i} after the restart`);
    }
  });
});
