/**
 * RedisTicketKeys (every runtime): with an in-memory client, the key of a
 * period is created once (`SET NX PXAT <end + grace>`) and read by every
 * other caller, a lost `SET NX` race reads the winner's key, concurrent
 * requests share one round of calls, values are sealed and bound to their
 * Redis key, failures and timeouts reject with a TicketKeyError that holds
 * no key bytes, refusals follow the std grammar; then against a real
 * redis-server: the commands, the expiry, and two sources sharing keys.
 *
 * The real-Redis suite needs `redis-server` on PATH; without it, it skips
 * with a message, except under CI, where tests/redis/_redis.ts fails loudly.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createClient } from "redis";
import {
  commandClient,
  nodeRedisClient,
  RedisTicketKeys,
  type RedisTicketKeysOptions,
  TicketKeyError,
  type TicketKeyStoreClient,
} from "../../redis.ts";
import { countingReads, deferred, mostReads, watchEscapes } from "../_hostile.ts";
import {
  HEALTHY_REDIS_TIMEOUT_MS,
  type RedisServer,
  redisSkipReason,
  startRedis,
} from "./_redis.ts";

const HOUR = 3_600_000;
const SEAL = [{ id: "k1", key: new Uint8Array(32).fill(7) }];

/** The period of index `index` for a rotation of `rotationMs`. */
function period(index: number, rotationMs = HOUR) {
  return { index, startMs: index * rotationMs, endMs: (index + 1) * rotationMs };
}

/** An in-memory client that logs each call, with the expiry it was given. */
function mapClient(map = new Map<string, string>()) {
  const calls: string[] = [];
  const client: TicketKeyStoreClient = {
    get: (key) => {
      calls.push(`GET ${key}`);
      return Promise.resolve(map.get(key) ?? null);
    },
    setIfAbsent: (key, value, expireAtMs) => {
      calls.push(`SET ${key} NX PXAT ${expireAtMs}`);
      if (map.has(key)) return Promise.resolve(false);
      map.set(key, value);
      return Promise.resolve(true);
    },
  };
  return { client, map, calls };
}

function hexOf(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

describe("RedisTicketKeys: one key per period, made once", () => {
  it("the first caller creates the key with SET NX PXAT <end + grace>; the others read it", async () => {
    const { client, calls } = mapClient();
    const a = new RedisTicketKeys(client, { keys: SEAL, prefix: "p:", graceMs: 1234 });
    const b = new RedisTicketKeys(client, { keys: SEAL, prefix: "p:" });
    const p = period(100);
    const key = await a.ticketKey(p);
    assert.equal(key.length, 48);
    assert.deepEqual(calls, [
      `GET p:ticket-key:${HOUR}:100`,
      `SET p:ticket-key:${HOUR}:100 NX PXAT ${p.endMs + 1234}`,
    ]);
    assert.equal(hexOf(await b.ticketKey(p)), hexOf(key));
    assert.equal(hexOf(await a.ticketKey(p)), hexOf(key), "asked again: read again, the same");
    assert.equal(calls.length, 4);
    assert.deepEqual(a.stats, {
      read: 1,
      created: 1,
      raced: 0,
      rejected: 0,
      errors: 0,
      timeouts: 0,
    });
    assert.deepEqual(b.stats, {
      read: 1,
      created: 0,
      raced: 0,
      rejected: 0,
      errors: 0,
      timeouts: 0,
    });
    // Each period has its own key; another rotation length, another name.
    const next = await a.ticketKey(period(101));
    assert.notEqual(hexOf(next), hexOf(key));
    assert.equal(a.redisKey(period(100, 60_000)), "p:ticket-key:60000:100");
  });

  it("a caller that loses the SET NX race reads the winner's key", async () => {
    const map = new Map<string, string>();
    const gate = deferred<void>();
    let gets = 0;
    const client: TicketKeyStoreClient = {
      // Both callers see no key at first (they ask at the same moment).
      get: async (key) => {
        if (gets++ < 2) {
          await gate.promise;
          return null;
        }
        return map.get(key) ?? null;
      },
      setIfAbsent: (key, value) => {
        if (map.has(key)) return Promise.resolve(false);
        map.set(key, value);
        return Promise.resolve(true);
      },
    };
    const a = new RedisTicketKeys(client, { keys: SEAL });
    const b = new RedisTicketKeys(client, { keys: SEAL });
    const both = Promise.all([a.ticketKey(period(5)), b.ticketKey(period(5))]);
    gate.resolve();
    const [ka, kb] = await both;
    assert.equal(hexOf(ka), hexOf(kb));
    assert.equal(a.stats.created + b.stats.created, 1);
    assert.equal(a.stats.raced + b.stats.raced, 1);
  });

  it("concurrent requests for one period share one round of calls; each gets its own copy", async () => {
    const { client, calls } = mapClient();
    const source = new RedisTicketKeys(client, { keys: SEAL });
    const keys = await Promise.all([1, 2, 3].map(() => source.ticketKey(period(9))));
    assert.equal(calls.length, 2, calls.join("\n"));
    assert.equal(new Set(keys.map(hexOf)).size, 1);
    keys[0]!.fill(0);
    assert.notEqual(hexOf(keys[1]!), hexOf(keys[0]!), "a caller's copy is its own");
  });
});

describe("RedisTicketKeys: sealed values", () => {
  it("Redis holds no key bytes in clear: the value is sealed under the first key, and any listed key opens it", async () => {
    const { client, map } = mapClient();
    const older = { id: "k0", key: new Uint8Array(32).fill(3) };
    const a = new RedisTicketKeys(client, { keys: [SEAL[0]!, older] });
    const p = period(1);
    const key = await a.ticketKey(p);
    const value = map.get(a.redisKey(p))!;
    assert.match(value, /^e1\.k1\./);
    assert.ok(!value.includes(Buffer.from(key).toString("base64")));
    assert.ok(!value.includes(hexOf(key)));
    // A server that has the same sealing key among others opens it.
    const b = new RedisTicketKeys(client, { keys: [older, SEAL[0]!] });
    assert.equal(hexOf(await b.ticketKey(p)), hexOf(key));
  });

  it("a value that does not open (unknown sealing key, plaintext, copied from another period, garbage) is refused: a TicketKeyError, not a new key", async () => {
    const { client, map } = mapClient();
    const a = new RedisTicketKeys(client, { keys: SEAL });
    await a.ticketKey(period(1));
    const stranger = new RedisTicketKeys(client, {
      keys: [{ id: "k1", key: new Uint8Array(32).fill(8) }],
    });
    await assert.rejects(stranger.ticketKey(period(1)), (error: unknown) => {
      assert.ok(error instanceof TicketKeyError);
      assert.equal(
        error.message,
        "Ticket key of period 1 unavailable: the value in Redis is not a ticket key sealed with one of the keys",
      );
      assert.equal(error.period, 1);
      return true;
    });
    // Copied under period 2's key: the additional data binds it to period 1's.
    map.set(a.redisKey(period(2)), map.get(a.redisKey(period(1)))!);
    for (const value of [null, "s1.AAAA", "garbage", "e1.k1.AAAA", "x".repeat(10_000_000)]) {
      if (value !== null) map.set(a.redisKey(period(2)), value);
      await assert.rejects(a.ticketKey(period(2)), TicketKeyError);
    }
    assert.equal(a.stats.rejected, 5);
    assert.equal(stranger.stats.rejected, 1);
    assert.equal(a.stats.created, 1, "no key was made over a refused value");
  });
});

describe("RedisTicketKeys: failures", () => {
  it("a rejecting, throwing or garbage-answering client rejects with a TicketKeyError holding the cause, never key bytes", async () => {
    const watch = watchEscapes();
    const cause = new Error("connection refused");
    const cases: [TicketKeyStoreClient, RegExp][] = [
      [
        { get: () => Promise.reject(cause), setIfAbsent: () => Promise.resolve(true) },
        /GET failed/,
      ],
      [{
        get: () => {
          throw cause;
        },
        setIfAbsent: () => Promise.resolve(true),
      }, /GET failed/],
      [
        { get: () => Promise.resolve(null), setIfAbsent: () => Promise.reject(cause) },
        /SET NX failed/,
      ],
      [
        { get: () => Promise.resolve(null), setIfAbsent: () => Promise.resolve(false) },
        /neither stored by SET NX nor found by GET/,
      ],
      [commandClient(() => Promise.resolve(42)), /GET failed/],
    ];
    for (const [client, message] of cases) {
      const source = new RedisTicketKeys(client, { keys: SEAL });
      await assert.rejects(source.ticketKey(period(3)), (error: unknown) => {
        assert.ok(error instanceof TicketKeyError, String(error));
        assert.match(error.message, message);
        return true;
      });
    }
    const failing = new RedisTicketKeys(
      { get: () => Promise.reject(cause), setIfAbsent: () => Promise.resolve(true) },
      { keys: SEAL },
    );
    const error = await failing.ticketKey(period(3)).catch((e: unknown) => e);
    assert.equal((error as { cause?: unknown }).cause, cause);
    assert.deepEqual(failing.stats, {
      read: 0,
      created: 0,
      raced: 0,
      rejected: 0,
      errors: 1,
      timeouts: 0,
    });
    assert.deepEqual(await watch.stop(), []);
  });

  it("a call that never answers times out after timeoutMs", async () => {
    const source = new RedisTicketKeys({
      get: () => new Promise(() => {}),
      setIfAbsent: () => Promise.resolve(true),
    }, { keys: SEAL, timeoutMs: 20 });
    const keepAlive = setInterval(() => {}, 1000); // the deadline's timer is unref-ed
    try {
      await assert.rejects(
        source.ticketKey(period(4)),
        /^TicketKeyError: Ticket key of period 4 unavailable: GET timed out after 20 ms$/,
      );
    } finally {
      clearInterval(keepAlive);
    }
    assert.equal(source.stats.timeouts, 1);
  });

  it("the key it created is never in a message, even when the SET NX reply is lost", async () => {
    const { map } = mapClient();
    let created: string | undefined;
    const client: TicketKeyStoreClient = {
      get: (key) => Promise.resolve(map.get(key) ?? null),
      setIfAbsent: (key, value) => {
        created = value;
        map.set(key, value);
        return Promise.reject(new Error("reply lost"));
      },
    };
    const source = new RedisTicketKeys(client, { keys: SEAL });
    const error = await source.ticketKey(period(6)).catch((e: unknown) => e);
    assert.ok(error instanceof TicketKeyError);
    // Asked again, the stored key is read back: the fleet converges on what Redis holds.
    const key = await source.ticketKey(period(6));
    assert.ok(created !== undefined);
    for (const form of [hexOf(key), Buffer.from(key).toString("base64")]) {
      assert.ok(!String(error).includes(form) && !JSON.stringify(source.stats).includes(form));
    }
  });
});

describe("RedisTicketKeys refuses bad arguments (std grammar)", () => {
  const { client } = mapClient();
  const cases: [string, () => unknown, ErrorConstructor, string][] = [
    [
      "no client",
      () => new RedisTicketKeys(null as never, { keys: SEAL }),
      TypeError,
      "Cannot create ticket key source: client must be an object: received null",
    ],
    [
      "a client without setIfAbsent",
      () => new RedisTicketKeys({ get: client.get } as never, { keys: SEAL }),
      TypeError,
      "Cannot create ticket key source: client.setIfAbsent must be a function: received undefined",
    ],
    [
      "no options",
      () => new RedisTicketKeys(client, undefined as never),
      TypeError,
      "Cannot create ticket key source: options must be an object: received undefined",
    ],
    [
      "no keys",
      () => new RedisTicketKeys(client, {} as RedisTicketKeysOptions),
      TypeError,
      "Cannot create ticket key source: keys must be an array: received undefined",
    ],
    [
      "empty keys",
      () => new RedisTicketKeys(client, { keys: [] }),
      RangeError,
      "Cannot create ticket key source: keys must hold at least one key (ticket keys are always sealed): received 0",
    ],
    [
      "a raw sealing key of 15 bytes",
      () => new RedisTicketKeys(client, { keys: [{ id: "k", key: new Uint8Array(15) }] }),
      RangeError,
      "Cannot create ticket key source: keys[0].key must be 16, 24 or 32 bytes: received 15",
    ],
    [
      "a prefix that is not a string",
      () => new RedisTicketKeys(client, { keys: SEAL, prefix: 1 as never }),
      TypeError,
      "Cannot create ticket key source: prefix must be a string: received 1",
    ],
    [
      "graceMs -1",
      () => new RedisTicketKeys(client, { keys: SEAL, graceMs: -1 }),
      RangeError,
      "Cannot create ticket key source: graceMs must be a number >= 0 and at most 2147483647 ms: received -1",
    ],
    [
      "timeoutMs 0",
      () => new RedisTicketKeys(client, { keys: SEAL, timeoutMs: 0 }),
      RangeError,
      "Cannot create ticket key source: timeoutMs must be a number > 0 and at most 2147483647 ms: received 0",
    ],
    [
      "redisKey() of a period with a negative index",
      () =>
        new RedisTicketKeys(client, { keys: SEAL }).redisKey({ index: -1, startMs: 0, endMs: 1 }),
      RangeError,
      "Cannot build ticket key name: period.index must be an integer >= 0: received -1",
    ],
    [
      "redisKey() of a period that ends before it starts",
      () =>
        new RedisTicketKeys(client, { keys: SEAL }).redisKey({ index: 1, startMs: 5, endMs: 5 }),
      RangeError,
      "Cannot build ticket key name: period.endMs must be after period.startMs (5): received 5",
    ],
    [
      "redisKey() of a period that is not an object",
      () => new RedisTicketKeys(client, { keys: SEAL }).redisKey(7 as never),
      TypeError,
      "Cannot build ticket key name: period must be an object: received 7",
    ],
  ];
  for (const [what, call, error, message] of cases) {
    it(`${what}: ${error.name} "${message}"`, () => {
      assert.throws(call, (e: unknown) => {
        assert.ok(e instanceof error, String(e));
        assert.equal((e as Error).message, message);
        return true;
      });
    });
  }

  it("reads the client's methods, each option and each period once", async () => {
    const { client } = mapClient();
    const counted = countingReads(client);
    const options = countingReads({ keys: SEAL, prefix: "p:", graceMs: 10, timeoutMs: 100 });
    const source = new RedisTicketKeys(counted.value, options.value);
    const p = countingReads(period(8));
    await source.ticketKey(p.value);
    source.redisKey(p.value);
    assert.equal(mostReads(counted.reads), 1);
    assert.equal(mostReads(options.reads), 1);
    assert.equal(mostReads(p.reads), 2, "once per call");
  });

  it("ticketKey() of a malformed period rejects (TypeError), sending nothing", async () => {
    const { client, calls } = mapClient();
    const source = new RedisTicketKeys(client, { keys: SEAL });
    await assert.rejects(
      source.ticketKey({ index: "1", startMs: 0, endMs: 1 } as never),
      /^TypeError: Cannot fetch ticket key: period\.index must be a number: received "1"$/,
    );
    assert.deepEqual(calls, []);
  });
});

const skip = redisSkipReason();
if (skip !== undefined) console.warn(`SKIPPED (RedisTicketKeys against redis-server): ${skip}`);

describe("RedisTicketKeys against a real redis-server", { skip: skip ?? false }, () => {
  let redis: RedisServer;
  const clients: { destroy(): void }[] = [];
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await redis?.stop();
  });
  const open = async () => {
    const c = createClient({ url: redis.url, disableOfflineQueue: true });
    c.on("error", () => {});
    await c.connect();
    clients.push(c);
    return c;
  };

  it("two processes' sources share each period's key; Redis drops it graceMs after the period", async () => {
    const [ca, cb] = [await open(), await open()];
    const a = new RedisTicketKeys(nodeRedisClient(ca), {
      keys: SEAL,
      graceMs: 5000,
      timeoutMs: HEALTHY_REDIS_TIMEOUT_MS,
    });
    const b = new RedisTicketKeys(nodeRedisClient(cb), {
      keys: SEAL,
      graceMs: 5000,
      timeoutMs: HEALTHY_REDIS_TIMEOUT_MS,
    });
    const index = Math.floor(Date.now() / HOUR);
    const [ka, kb] = await Promise.all([a.ticketKey(period(index)), b.ticketKey(period(index))]);
    assert.equal(hexOf(ka), hexOf(kb));
    assert.equal(a.stats.created + b.stats.created, 1);
    const name = a.redisKey(period(index));
    assert.equal(
      Number(await ca.sendCommand(["PEXPIRETIME", name])),
      period(index).endMs + 5000,
    );
    // A period that ended long ago: its key expires at once.
    await a.ticketKey(period(3, 1000));
    assert.equal(Number(await ca.sendCommand(["EXISTS", a.redisKey(period(3, 1000))])), 0);
  });

  it("SET NX on an existing key stores nothing: nodeRedisClient's setIfAbsent answers false", async () => {
    const c = nodeRedisClient(await open());
    assert.equal(await c.setIfAbsent("nx-test", "one", Date.now() + 60_000), true);
    assert.equal(await c.setIfAbsent("nx-test", "two", Date.now() + 60_000), false);
    assert.equal(await c.get("nx-test"), "one");
  });
});
