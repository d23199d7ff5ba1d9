// RedisSessionStore against hostile input (in memory, every runtime): fake and proxied byte
// arrays, getters and Proxies that answer differently on each read, garbage and oversized GET
// replies, throwing and rejecting clients and error hooks; and its limits: the in-flight cap,
// the one-probe half-open breaker, and delays above 2^31 - 1 ms.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  commandClient,
  nodeRedisClient,
  RedisSessionStore,
  type SessionStoreClient,
  type SessionStoreStats,
} from "../../redis.ts";
import type { Session } from "../../mod.ts";
import { SessionCache } from "../../mod.ts";
import { base64Length, fromBase64, MAX_RECORD_BYTES } from "../../src/redis/_record.ts";
import { MAX_VALUE_LENGTH } from "../../src/redis/_seal.ts";
import {
  countingReads,
  deferred,
  lyingLengthUint8Array,
  mostReads,
  prototypeOnlyUint8Array,
  proxiedUint8Array,
  revokedProxy,
  shifting,
  watchEscapes,
} from "../_hostile.ts";

const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);

/** An in-memory client. */
function mapClient(map = new Map<string, unknown>()): SessionStoreClient & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    get: (key) => {
      calls.push(`get ${key}`);
      return Promise.resolve((map.get(key) ?? null) as string | null);
    },
    set: (key, value) => {
      calls.push(`set ${key}`);
      map.set(key, value);
      return Promise.resolve("OK");
    },
    del: (key) => {
      calls.push(`del ${key}`);
      return Promise.resolve(map.delete(key) ? 1 : 0);
    },
  };
}

/** A client whose calls wait until released; `sent` counts them. */
function heldClient() {
  const held: ReturnType<typeof deferred<unknown>>[] = [];
  const call = () => {
    const d = deferred<unknown>();
    held.push(d);
    return d.promise;
  };
  const client: SessionStoreClient = {
    get: call as SessionStoreClient["get"],
    set: call,
    del: call,
  };
  return {
    client,
    held,
    get sent() {
      return held.length;
    },
    releaseAll(value: unknown = null) {
      for (const d of held.splice(0)) d.resolve(value);
    },
  };
}

const session = (over: Partial<Session> = {}): Session => ({
  id: bytes(1, 2, 3),
  time: 1_700_000_000,
  timeout: 300,
  ...over,
});

function assertCountsConsistent(stats: SessionStoreStats): void {
  assert.equal(stats.gets, stats.hits + stats.misses);
  for (const [name, n] of Object.entries(stats)) {
    assert.ok(Number.isSafeInteger(n) && n >= 0, `${name} = ${n}`);
  }
}

// The deadline timers are unref-ed; keep the loop alive while a test waits for one.
let keepAlive: ReturnType<typeof setInterval> | undefined;
before(() => {
  keepAlive = setInterval(() => {}, 1000);
});
after(() => clearInterval(keepAlive));

describe("RedisSessionStore: real Uint8Arrays only", () => {
  const fakes: [string, () => unknown][] = [
    ["an object inheriting Uint8Array.prototype", () => prototypeOnlyUint8Array(3)],
    ["a Proxy of a Uint8Array", () => proxiedUint8Array(bytes(1, 2, 3))],
  ];
  for (const [what, fake] of fakes) {
    it(`redisKey() refuses ${what} as id or sidCtx with a TypeError`, () => {
      const store = new RedisSessionStore(mapClient());
      assert.throws(
        () => store.redisKey(fake() as Uint8Array),
        /^TypeError: Cannot build session key: id must be a Uint8Array: received an object$/,
      );
      assert.throws(
        () => store.redisKey(bytes(1), fake() as Uint8Array),
        /^TypeError: Cannot build session key: sidCtx must be a Uint8Array: received an object$/,
      );
    });

    it(`the constructor refuses ${what} as sidCtx or raw key`, () => {
      assert.throws(
        () => new RedisSessionStore(mapClient(), { sidCtx: fake() as Uint8Array }),
        /^TypeError: Cannot create session store: sidCtx must be a string or a Uint8Array: received an object$/,
      );
      assert.throws(
        () =>
          new RedisSessionStore(mapClient(), { keys: [{ id: "k", key: fake() as Uint8Array }] }),
        /^TypeError: Cannot create session store: keys\[0\]\.key must be raw bytes or an AES-GCM CryptoKey/,
      );
    });

    it(`the hooks treat ${what} as an error: a miss, nothing written, nothing thrown`, async () => {
      const client = mapClient();
      const store = new RedisSessionStore(client);
      const watch = watchEscapes();
      assert.equal(await store.hooks.getSession({ id: fake() as Uint8Array }), undefined);
      await store.hooks.onNewSession(session({ id: fake() as Uint8Array }));
      await store.hooks.onNewSession(session({ data: fake() as Uint8Array }));
      store.hooks.onRemoveSession(session({ sidCtx: fake() as Uint8Array }));
      await store.settled();
      assert.deepEqual(await watch.stop(), []);
      assert.deepEqual(client.calls, [], "nothing sent to Redis");
      assert.equal(store.stats.errors, 4);
      assert.equal(store.stats.misses, 1);
    });

    it(`a GET reply that is ${what} is refused (rejected), not decoded`, async () => {
      const store = new RedisSessionStore({
        ...mapClient(),
        get: () => Promise.resolve(fake()) as never,
      });
      assert.equal(await store.hooks.getSession({ id: bytes(1) }), undefined);
      assert.equal(store.stats.rejected, 1);
      assert.equal(store.stats.errors, 0);
    });
  }

  it("a real Uint8Array whose own length lies is read by its true length", async () => {
    const client = mapClient();
    const store = new RedisSessionStore(client, { prefix: "p:" });
    assert.equal(store.redisKey(lyingLengthUint8Array(bytes(0xab, 0xcd), 1)), "p::abcd");
    await store.hooks.onNewSession(session({ id: lyingLengthUint8Array(bytes(7, 8), 40) }));
    assert.equal(store.stats.sets, 1);
    const back = await store.hooks.getSession({ id: bytes(7, 8) });
    assert.deepEqual(back && [...back.id], [7, 8]);
  });
});

describe("RedisSessionStore: every input is read once", () => {
  it("the constructor reads each option, breaker setting and client method exactly once", () => {
    const options = countingReads({
      prefix: "p:",
      sidCtx: "ctx",
      timeoutMs: 40,
      maxInFlight: 8,
      keys: [],
      onError: () => {},
      breaker: countingReads({ failures: 3, cooldownMs: 500 }).value,
      nowMs: () => 0,
    });
    const breaker = countingReads({ failures: 3, cooldownMs: 500 });
    const client = countingReads(mapClient());
    new RedisSessionStore(client.value, { ...options.value, breaker: breaker.value });
    // Spreading reads each option once; the store must not read any again.
    assert.equal(mostReads(options.reads), 1, JSON.stringify([...options.reads]));
    assert.equal(mostReads(breaker.reads), 1, JSON.stringify([...breaker.reads]));
    assert.equal(mostReads(client.reads), 1, JSON.stringify([...client.reads]));
  });

  it("a client method swapped by a getter after the check is never called", async () => {
    let reads = 0;
    const real = mapClient();
    const client = {
      get get() {
        return reads++ === 0 ? real.get : () => {
          throw new Error("the swapped method ran");
        };
      },
      set: real.set,
      del: real.del,
    };
    const store = new RedisSessionStore(client as SessionStoreClient);
    assert.equal(await store.hooks.getSession({ id: bytes(1) }), undefined);
    assert.equal(await store.hooks.getSession({ id: bytes(1) }), undefined);
    assert.equal(store.stats.errors, 0);
    assert.deepEqual(real.calls, ["get tls-session::01", "get tls-session::01"]);
  });

  it("a session whose id getter changes after the first read is written under the first id", async () => {
    const map = new Map<string, unknown>();
    const store = new RedisSessionStore(mapClient(map), { prefix: "p:" });
    const s = shifting(session(), "id", bytes(1), new Uint8Array(40));
    await store.hooks.onNewSession(s);
    assert.deepEqual([...map.keys()], ["p::01"]);
    const back = await store.hooks.getSession({ id: bytes(1) });
    assert.deepEqual(back && [...back.id], [1]);
    assert.equal(store.stats.errors, 0);
  });

  it("a session's fields are each read once by onNewSession, onRemoveSession and encode", async () => {
    const store = new RedisSessionStore(mapClient());
    for (
      const use of [
        (s: Session) => store.hooks.onNewSession(s),
        (s: Session) => store.hooks.onRemoveSession(s),
        (s: Session) => store.encode(s),
      ]
    ) {
      const s = countingReads(session({ sidCtx: bytes(9), data: bytes(1), version: 0x0303 }));
      await use(s.value);
      await store.settled();
      assert.equal(mostReads(s.reads), 1, JSON.stringify([...s.reads]));
    }
  });

  it("a lookup request's id and sidCtx are each read once", async () => {
    const store = new RedisSessionStore(mapClient());
    const request = countingReads({ id: bytes(1), sidCtx: bytes(2), version: 0x0303 });
    await store.hooks.getSession(request.value);
    assert.equal(mostReads(request.reads), 1, JSON.stringify([...request.reads]));
  });

  it("a keys list behind a Proxy is read once, entry by entry", () => {
    const entry = countingReads({ id: "k1", key: new Uint8Array(16) });
    const list = countingReads([entry.value]);
    new RedisSessionStore(mapClient(), { keys: list.value });
    assert.equal(mostReads(entry.reads), 1, JSON.stringify([...entry.reads]));
    assert.ok((list.reads.get("0") ?? 0) <= 1, JSON.stringify([...list.reads]));
  });
});

describe("RedisSessionStore: what comes back from Redis", () => {
  it("decode() never rejects, whatever it is given", async () => {
    const store = new RedisSessionStore(mapClient());
    const values: unknown[] = [
      undefined,
      null,
      42,
      {},
      revokedProxy(),
      bytes(1),
      Symbol("x"),
      "s1.AAAA",
    ];
    for (const value of values) {
      for (const key of ["k", 7, null]) {
        for (const id of [bytes(1), "1", prototypeOnlyUint8Array(1), revokedProxy()]) {
          assert.equal(
            await store.decode(value as string, key as string, id as Uint8Array),
            undefined,
          );
        }
      }
    }
  });

  it("a reply that is neither a string nor bytes is refused (rejected), not an error", async () => {
    // (A revoked Proxy cannot even be a promise's value: the client's promise rejects: an error.)
    for (const reply of [42, {}, [], true, Symbol("s")]) {
      const store = new RedisSessionStore({
        ...mapClient(),
        get: () => Promise.resolve(reply) as never,
      });
      assert.equal(await store.hooks.getSession({ id: bytes(1) }), undefined);
      assert.equal(store.stats.rejected, 1, `reply ${String(typeof reply)}`);
      assert.equal(store.stats.errors, 0);
      assertCountsConsistent(store.stats);
    }
  });

  it("a value longer than any the store writes is refused before decoding: string and bytes", async () => {
    const client = mapClient();
    const store = new RedisSessionStore(client);
    const key = store.redisKey(bytes(1));
    // A well-formed value padded past the limit with base64 that would decode.
    const tooLong = "s1." + "A".repeat(MAX_VALUE_LENGTH);
    for (const value of [tooLong, new TextEncoder().encode(tooLong)]) {
      const s = new RedisSessionStore({ ...client, get: () => Promise.resolve(value) as never });
      assert.equal(await s.hooks.getSession({ id: bytes(1) }), undefined);
      assert.equal(s.stats.rejected, 1);
    }
    void key;
  });

  it("fromBase64 refuses text longer than its byte limit without decoding it", () => {
    assert.deepEqual(fromBase64("AAEC", 3), bytes(0, 1, 2));
    assert.equal(fromBase64("AAECAw==", 3), undefined, "4 bytes over a limit of 3");
    assert.equal(
      fromBase64("A".repeat(base64Length(MAX_RECORD_BYTES) + 4), MAX_RECORD_BYTES),
      undefined,
    );
    // Canonical only: unused bits must be zero.
    assert.deepEqual(fromBase64("AQ==", 1), bytes(1));
    assert.equal(fromBase64("AR==", 1), undefined);
    assert.deepEqual(fromBase64("AAE=", 2), bytes(0, 1));
    assert.equal(fromBase64("AAF=", 2), undefined);
  });

  it("a record whose version is above 0xffff is a malformed value (a miss), not a session", async () => {
    const client = mapClient();
    const store = new RedisSessionStore(client);
    const id = bytes(1);
    const value = await store.encode(session({ id, version: 0x0303 }));
    // Patch the version field (after format, id length, id, flags, time, timeout).
    const record = fromBase64(value.slice(3), MAX_RECORD_BYTES)!;
    new DataView(record.buffer).setUint32(1 + 1 + 1 + 1 + 16, 0x10000);
    let b64 = "";
    for (const byte of record) b64 += String.fromCharCode(byte);
    const patched = "s1." + btoa(b64);
    assert.equal(await store.decode(patched, store.redisKey(id), id), undefined);
  });
});

describe("RedisSessionStore: nothing escapes", () => {
  it("error hooks that throw or reject, and clients that throw, reject or answer thenables", async () => {
    const watch = watchEscapes();
    const hostileThen = {
      then: () => {
        throw new Error("then throws");
      },
    };
    const badPromise = Promise.resolve("x");
    Object.defineProperty(badPromise, "constructor", {
      get() {
        throw new Error("constructor getter throws");
      },
    });
    const answers: (() => unknown)[] = [
      () => {
        throw new Error("sync throw");
      },
      () => Promise.reject(new Error("rejects")),
      () => hostileThen,
      () => badPromise,
      () => 5,
    ];
    for (const answer of answers) {
      for (
        const onError of [
          () => {
            throw new Error("hook throws");
          },
          () => Promise.reject(new Error("async hook rejects")),
          // deno-lint-ignore require-await
          async () => {
            throw new Error("async hook throws");
          },
        ]
      ) {
        const client: SessionStoreClient = {
          get: answer as SessionStoreClient["get"],
          set: answer as SessionStoreClient["set"],
          del: answer as SessionStoreClient["del"],
        };
        const store = new RedisSessionStore(client, { onError, timeoutMs: 20 });
        assert.equal(await store.hooks.getSession({ id: bytes(1) }), undefined);
        await store.hooks.onNewSession(session());
        store.hooks.onRemoveSession(session());
        store.hooks.onNewSession(session({ id: new Uint8Array(0) })); // refused: reported
        await store.settled();
        assertCountsConsistent(store.stats);
      }
    }
    assert.deepEqual(await watch.stop(), []);
  });

  it("the hooks never throw synchronously and their promises never reject, for any argument", async () => {
    const watch = watchEscapes();
    const store = new RedisSessionStore(mapClient());
    const args: unknown[] = [
      undefined,
      null,
      7,
      "s",
      {},
      revokedProxy(),
      { id: revokedProxy() },
      countingReads({
        get id(): never {
          throw new Error("id getter throws");
        },
      }).value,
    ];
    for (const arg of args) {
      await store.hooks.onNewSession(arg as Session);
      assert.equal(await store.hooks.getSession(arg as never), undefined);
      store.hooks.onRemoveSession(arg as Session);
      store.hooks.onRemoveSession(arg as Session, undefined, "bogus" as never);
    }
    await store.settled();
    assert.deepEqual(await watch.stop(), []);
    assertCountsConsistent(store.stats);
    assert.equal(store.stats.gets, args.length);
  });

  it("a removal with an unknown reason deletes (only evicted, expired and cleared are kept)", async () => {
    const client = mapClient();
    const store = new RedisSessionStore(client, { prefix: "p:" });
    for (const reason of ["evicted", "expired", "cleared", "bogus", undefined, "removed"]) {
      store.hooks.onRemoveSession(session(), undefined, reason as never);
    }
    await store.settled();
    assert.equal(store.stats.kept, 3);
    assert.deepEqual(client.calls, ["del p::010203", "del p::010203", "del p::010203"]);
  });

  it("nodeRedisClient and commandClient refuse fakes with the std grammar, and read methods once", async () => {
    assert.throws(
      () => nodeRedisClient(null as never),
      /^TypeError: Cannot adapt Redis client: client must be an object: received null$/,
    );
    assert.throws(
      () => nodeRedisClient({ sendCommand: 5 } as never),
      /^TypeError: Cannot adapt Redis client: client\.sendCommand must be a function: received 5$/,
    );
    assert.throws(
      () => commandClient("x" as never),
      /^TypeError: Cannot adapt Redis client: send must be a function: received "x"$/,
    );
    const sent: string[][] = [];
    const redis = countingReads({
      sendCommand: (args: string[]) => {
        sent.push(args);
        return Promise.resolve(prototypeOnlyUint8Array(2));
      },
      on: () => {},
      listenerCount: () => 0,
    });
    const client = nodeRedisClient(redis.value);
    await assert.rejects(
      client.get("k"),
      /GET reply must be a string or bytes: received an object/,
    );
    await client.del("k");
    assert.equal(mostReads(redis.reads), 1, JSON.stringify([...redis.reads]));
    assert.equal(sent.length, 2);
  });
});

describe("RedisSessionStore: a removal while a lookup waits", () => {
  it("a session removed while its GET was out is a miss, even when Redis answers with it", async () => {
    const map = new Map<string, unknown>();
    const held = heldClient();
    const store = new RedisSessionStore({ ...mapClient(map), get: held.client.get });
    const s = session();
    await store.hooks.onNewSession(s);
    const value = map.get(store.redisKey(s.id));
    const pending = store.hooks.getSession({ id: s.id });
    store.hooks.onRemoveSession(s, undefined, "removed");
    held.releaseAll(value); // Redis read it before the DEL landed
    assert.equal(await pending, undefined);
    assert.equal(store.stats.misses, 1);
    // Not removed: the same answer is a hit.
    await store.hooks.onNewSession(s);
    const again = store.hooks.getSession({ id: s.id });
    held.releaseAll(map.get(store.redisKey(s.id)));
    assert.equal((await again)?.timeout, 300);
    // An eviction of one process's cache is not a removal: the lookup still hits.
    const third = store.hooks.getSession({ id: s.id });
    store.hooks.onRemoveSession(s, undefined, "evicted");
    held.releaseAll(map.get(store.redisKey(s.id)));
    assert.equal((await third)?.timeout, 300);
  });
});

describe("RedisSessionStore: in-flight cap", () => {
  it("beyond maxInFlight calls waiting for Redis, lookups miss and writes are dropped at once", async () => {
    const held = heldClient();
    const store = new RedisSessionStore(held.client, { maxInFlight: 3, timeoutMs: 10_000 });
    const lookups = Array.from(
      { length: 10 },
      (_, i) => store.hooks.getSession({ id: bytes(i + 1) }),
    );
    const write = store.hooks.onNewSession(session({ id: bytes(99) }));
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(held.sent, 3);
    assert.equal(store.stats.dropped, 7 + 1);
    held.releaseAll();
    assert.deepEqual(await Promise.all(lookups), Array(10).fill(undefined));
    await write;
    assert.equal(store.stats.misses, 10);
    // Answered: the cap is free again.
    const again = store.hooks.getSession({ id: bytes(1) });
    assert.equal(held.sent, 1);
    held.releaseAll();
    await again;
    assertCountsConsistent(store.stats);
  });

  it("a call stays in flight past its deadline, until the client settles it", async () => {
    const held = heldClient();
    const store = new RedisSessionStore(held.client, {
      maxInFlight: 2,
      timeoutMs: 5,
      breaker: false,
    });
    await Promise.all([
      store.hooks.getSession({ id: bytes(1) }),
      store.hooks.getSession({ id: bytes(2) }),
    ]);
    assert.equal(store.stats.timeouts, 2);
    assert.equal(await store.hooks.getSession({ id: bytes(3) }), undefined);
    assert.equal(held.sent, 2, "a hung Redis holds both calls: the third is not sent");
    assert.equal(store.stats.dropped, 1);
    held.releaseAll();
    await new Promise((r) => setTimeout(r, 1));
    void store.hooks.getSession({ id: bytes(4) });
    assert.equal(held.sent, 1);
    held.releaseAll();
  });

  it("the default cap is 64; Infinity turns it off", async () => {
    for (const [options, sent] of [[{}, 64], [{ maxInFlight: Infinity }, 100]] as const) {
      const held = heldClient();
      const store = new RedisSessionStore(held.client, { ...options, timeoutMs: 10_000 });
      const all = Array.from(
        { length: 100 },
        (_, i) => store.hooks.getSession({ id: bytes(i + 1) }),
      );
      await new Promise((r) => setTimeout(r, 1));
      assert.equal(held.sent, sent);
      held.releaseAll();
      await Promise.all(all);
    }
  });
});

describe("RedisSessionStore: half-open breaker", () => {
  it("after the cooldown exactly one probe goes through; the rest skip until it answers", async () => {
    let t = 0;
    let up = false;
    const held = heldClient();
    const client: SessionStoreClient = {
      get: (key) => (up ? held.client.get(key) : Promise.reject(new Error("ECONNREFUSED"))),
      set: () => Promise.resolve("OK"),
      del: () => Promise.resolve(1),
    };
    const store = new RedisSessionStore(client, {
      breaker: { failures: 2, cooldownMs: 100 },
      nowMs: () => t,
    });
    await store.hooks.getSession({ id: bytes(1) });
    await store.hooks.getSession({ id: bytes(1) }); // opens
    assert.equal(store.stats.errors, 2);
    up = true;
    t = 100; // cooled down: half-open
    const burst = Array.from({ length: 10 }, () => store.hooks.getSession({ id: bytes(1) }));
    await new Promise((r) => setTimeout(r, 1));
    assert.equal(held.sent, 1, "one probe");
    assert.equal(store.stats.skipped, 9);
    const more = store.hooks.getSession({ id: bytes(1) });
    assert.equal(held.sent, 1, "still skipping while the probe is out");
    held.releaseAll(); // the probe answers: closed
    await Promise.all([...burst, more]);
    const after = Array.from({ length: 3 }, () => store.hooks.getSession({ id: bytes(1) }));
    assert.equal(held.sent, 3, "closed: every call goes through");
    held.releaseAll();
    await Promise.all(after);
  });

  it("a probe that fails opens the breaker for another cooldown", async () => {
    let t = 0;
    let sent = 0;
    const client: SessionStoreClient = {
      get: () => {
        sent++;
        return Promise.reject(new Error("down"));
      },
      set: () => Promise.resolve("OK"),
      del: () => Promise.resolve(1),
    };
    const store = new RedisSessionStore(client, {
      breaker: { failures: 1, cooldownMs: 10 },
      nowMs: () => t,
    });
    await store.hooks.getSession({ id: bytes(1) });
    t = 10;
    await Promise.all([
      store.hooks.getSession({ id: bytes(1) }),
      store.hooks.getSession({ id: bytes(1) }),
    ]);
    assert.equal(sent, 2, "one call, then one probe");
    t = 15;
    await store.hooks.getSession({ id: bytes(1) });
    assert.equal(sent, 2, "reopened until 20");
    t = 20;
    await store.hooks.getSession({ id: bytes(1) });
    assert.equal(sent, 3);
  });

  it("a breaker clock that throws or returns NaN never throws into a call", async () => {
    for (
      const nowMs of [() => NaN, () => {
        throw new Error("clock");
      }]
    ) {
      const store = new RedisSessionStore(
        { ...mapClient(), get: () => Promise.reject(new Error("down")) },
        { breaker: { failures: 1, cooldownMs: 1 }, nowMs: nowMs as () => number },
      );
      for (let i = 0; i < 3; i++) {
        assert.equal(await store.hooks.getSession({ id: bytes(1) }), undefined);
      }
      assertCountsConsistent(store.stats);
    }
  });
});

describe("RedisSessionStore: delays and counts", () => {
  const refusals: [string, Record<string, unknown>, RegExp][] = [
    [
      "timeoutMs above 2^31 - 1",
      { timeoutMs: 2 ** 31 },
      /^RangeError: Cannot create session store: timeoutMs must be a number > 0 and at most 2147483647 ms: received 2147483648$/,
    ],
    [
      "breaker.cooldownMs above 2^31 - 1",
      { breaker: { cooldownMs: 2 ** 31 } },
      /^RangeError: Cannot create session store: breaker\.cooldownMs must be a number > 0 and at most 2147483647 ms: received 2147483648$/,
    ],
    [
      "breaker.cooldownMs Infinity",
      { breaker: { cooldownMs: Infinity } },
      /^RangeError: Cannot create session store: breaker\.cooldownMs must be/,
    ],
    [
      "a fractional breaker.failures",
      { breaker: { failures: 2.5 } },
      /^RangeError: Cannot create session store: breaker\.failures must be an integer >= 1: received 2\.5$/,
    ],
    [
      "maxInFlight 0",
      { maxInFlight: 0 },
      /^RangeError: Cannot create session store: maxInFlight must be an integer >= 1: received 0$/,
    ],
    [
      "a string maxInFlight",
      { maxInFlight: "8" },
      /^TypeError: Cannot create session store: maxInFlight must be a number: received "8"$/,
    ],
    [
      "a breaker that is neither an object nor false",
      { breaker: true },
      /^TypeError: Cannot create session store: breaker must be an object or false: received true$/,
    ],
    [
      "options that are not an object",
      5 as never,
      /^TypeError: Cannot create session store: options must be an object: received 5$/,
    ],
  ];
  for (const [what, options, message] of refusals) {
    it(`refuses ${what}`, () => {
      assert.throws(() => new RedisSessionStore(mapClient(), options as never), message);
    });
  }

  it("accepts the largest delay, 2^31 - 1 ms", () => {
    new RedisSessionStore(mapClient(), {
      timeoutMs: 2 ** 31 - 1,
      breaker: { cooldownMs: 2 ** 31 - 1 },
    });
  });
});

describe("RedisSessionStore in a SessionCache: nothing escapes", () => {
  it("a store whose GET replies with garbage never breaks a lookup", async () => {
    const watch = watchEscapes();
    for (const reply of [42, {}, revokedProxy(), prototypeOnlyUint8Array(2), "s1.AAAA"]) {
      const store = new RedisSessionStore({
        ...mapClient(),
        get: () => Promise.resolve(reply) as never,
      });
      const cache = new SessionCache({ ...store.hooks });
      assert.equal(await cache.lookup({ id: bytes(1) }), undefined);
      assert.equal(cache.stats.cbHits, 0);
    }
    assert.deepEqual(await watch.stop(), []);
  });
});
