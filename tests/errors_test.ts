// Every refusal of the public API: its class (RangeError for out-of-range numbers and lengths,
// TypeError for wrong shapes and misuse), its message in the std grammar
// (`Cannot add session: id must be at most 32 bytes: received 33`), and that the refused call
// changed nothing: same size, counters, settings, order, session objects, and no callback.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { SessionCache, type SessionCacheOptions } from "../mod.ts";
import type { Session } from "../mod.ts";
import { MAX_TIME, SESS_CACHE_SERVER, SESS_CACHE_UPDATE_TIME } from "../mod.ts";
import { type CacheSnapshot, session, sid, snapshot } from "./_helpers.ts";
import { EventEmitter } from "node:events";
import type { Server } from "node:tls";
import { attachSessionCache, TlsClientSessionCache } from "../node.ts";
import { commandClient, nodeRedisClient, RedisSessionStore } from "../redis.ts";

/** The std grammar: `Cannot <action>: <what> must <rule>: received <value>`, no trailing period. */
const GRAMMAR = /^Cannot [a-z][^:]*: [^:]+ must [^:]+: received [^\n]*[^.\n]$/;

type ErrorClass = typeof TypeError | typeof RangeError;

/**
 * A populated cache with counters, callbacks that count, and an injected clock that reads 105
 * during the set-up and `clock` afterwards.
 */
function populated(options: SessionCacheOptions = {}, clock = 105) {
  const calls = { new: 0, remove: 0, get: 0 };
  let t = 105;
  const cache = new SessionCache({
    cacheSize: 10,
    now: () => t,
    onNewSession: () => calls.new++,
    onRemoveSession: () => calls.remove++,
    getSession: () => {
      calls.get++;
      return undefined;
    },
    ...options,
  });
  cache.add(session(1, 100, 10));
  cache.add(session(2, 100, 20, { version: 0x0303 }));
  cache.add(session(3, 100, 5, { sidCtx: sid(7) }));
  cache.lookupSync({ id: sid(1) });
  cache.lookup({ id: sid(9) }); // a miss; its getSession may be async, and nothing awaits it
  cache.handshakeStarted("server");
  calls.new = calls.remove = calls.get = 0;
  t = clock;
  return { cache, calls };
}

function assertUnchanged(
  cache: SessionCache,
  before: CacheSnapshot,
  calls: { new: number; remove: number; get: number },
) {
  const after = snapshot(cache);
  assert.deepEqual(after, before);
  assert.equal(after.sessions.length, before.sessions.length);
  for (let i = 0; i < before.sessions.length; i++) {
    assert.equal(after.sessions[i], before.sessions[i], "the very same session objects");
  }
  assert.deepEqual(calls, { new: 0, remove: 0, get: 0 }, "no callback ran");
}

interface Refusal {
  /** What is refused, in words (the test name). */
  readonly what: string;
  /** The refused call. */
  readonly call: (cache: SessionCache) => unknown;
  readonly error: ErrorClass;
  /** The exact message. */
  readonly message: string;
  /** Settings of the cache the call is made on. */
  readonly options?: SessionCacheOptions;
  /** What the cache's clock reads during the call (default 105). */
  readonly clock?: number;
}

function refuses(r: Refusal) {
  it(`${r.what}: ${r.error.name} "${r.message}"`, () => {
    const { cache, calls } = populated(r.options, r.clock);
    const before = snapshot(cache);
    assert.throws(() => r.call(cache), (e: unknown) => {
      assert.ok(e instanceof r.error, `expected a ${r.error.name}, got ${String(e)}`);
      assert.equal(e.constructor, r.error);
      assert.equal(e.message, r.message);
      assert.match(e.message, GRAMMAR);
      return true;
    });
    assertUnchanged(cache, before, calls);
  });
}

const id33 = new Uint8Array(33);
const ok = (extra: Partial<Record<keyof Session, unknown>> = {}) =>
  ({ id: sid(5), time: 100, timeout: 10, ...extra }) as never;

describe("add() refuses", () => {
  refuses({
    what: "a session that is not an object",
    call: (c) => c.add(null as never),
    error: TypeError,
    message: "Cannot add session: session must be an object: received null",
  });
  refuses({
    what: "an id that is not a Uint8Array",
    call: (c) => c.add(ok({ id: [1, 2] })),
    error: TypeError,
    message: "Cannot add session: id must be a Uint8Array: received an array",
  });
  refuses({
    what: "an id given as a string",
    call: (c) => c.add(ok({ id: "abc" })),
    error: TypeError,
    message: 'Cannot add session: id must be a Uint8Array: received "abc"',
  });
  refuses({
    what: "a missing id",
    call: (c) => c.add(ok({ id: undefined })),
    error: TypeError,
    message: "Cannot add session: id must be a Uint8Array: received undefined",
  });
  refuses({
    what: "an empty id",
    call: (c) => c.add(ok({ id: sid() })),
    error: RangeError,
    message: "Cannot add session: id must not be empty: received 0 bytes",
  });
  refuses({
    what: "an id of 33 bytes",
    call: (c) => c.add(ok({ id: id33 })),
    error: RangeError,
    message: "Cannot add session: id must be at most 32 bytes: received 33",
  });
  refuses({
    what: "a negative time",
    call: (c) => c.add(ok({ time: -1 })),
    error: RangeError,
    message: "Cannot add session: time must be a finite number >= 0: received -1",
  });
  refuses({
    what: "a NaN time",
    call: (c) => c.add(ok({ time: NaN })),
    error: RangeError,
    message: "Cannot add session: time must be a finite number >= 0: received NaN",
  });
  refuses({
    what: "a time in milliseconds (above OpenSSL 3.3's 18446744073 s, where it wraps around)",
    call: (c) => c.add(ok({ time: 1_700_000_000_000 })),
    error: RangeError,
    message:
      "Cannot add session: time must be at most 18446744073 seconds (milliseconds, as from Date.now(), are 1000 times too large): received 1700000000000",
  });
  refuses({
    what: "a timeout one second above MAX_TIME",
    call: (c) => c.add(ok({ timeout: MAX_TIME + 1 })),
    error: RangeError,
    message:
      "Cannot add session: timeout must be at most 18446744073 seconds (milliseconds, as from Date.now(), are 1000 times too large): received 18446744074",
  });
  refuses({
    what: "an infinite time",
    call: (c) => c.add(ok({ time: Infinity })),
    error: RangeError,
    message: "Cannot add session: time must be a finite number >= 0: received Infinity",
  });
  refuses({
    what: "a time that is not a number",
    call: (c) => c.add(ok({ time: "100" })),
    error: TypeError,
    message: 'Cannot add session: time must be a number: received "100"',
  });
  refuses({
    what: "a negative timeout",
    call: (c) => c.add(ok({ timeout: -5 })),
    error: RangeError,
    message: "Cannot add session: timeout must be a finite number >= 0: received -5",
  });
  refuses({
    what: "a NaN timeout",
    call: (c) => c.add(ok({ timeout: NaN })),
    error: RangeError,
    message: "Cannot add session: timeout must be a finite number >= 0: received NaN",
  });
  refuses({
    what: "an infinite timeout",
    call: (c) => c.add(ok({ timeout: -Infinity })),
    error: RangeError,
    message: "Cannot add session: timeout must be a finite number >= 0: received -Infinity",
  });
  refuses({
    what: "a sidCtx of 33 bytes",
    call: (c) => c.add(ok({ sidCtx: id33 })),
    error: RangeError,
    message: "Cannot add session: sidCtx must be at most 32 bytes: received 33",
  });
  refuses({
    what: "a sidCtx that is not a Uint8Array",
    call: (c) => c.add(ok({ sidCtx: "ctx" })),
    error: TypeError,
    message: 'Cannot add session: sidCtx must be a Uint8Array: received "ctx"',
  });
  refuses({
    what: "a version out of 0..65535",
    call: (c) => c.add(ok({ version: 0x10303 })),
    error: RangeError,
    message: "Cannot add session: version must be an integer from 0 to 65535: received 66307",
  });
  refuses({
    what: "a fractional version",
    call: (c) => c.add(ok({ version: 1.5 })),
    error: RangeError,
    message: "Cannot add session: version must be an integer from 0 to 65535: received 1.5",
  });
  refuses({
    what: "data that is not a Uint8Array",
    call: (c) => c.add(ok({ data: [1] })),
    error: TypeError,
    message: "Cannot add session: data must be a Uint8Array: received an array",
  });
  refuses({
    what: "a clock that returns NaN in UPDATE_TIME mode",
    options: { mode: SESS_CACHE_SERVER | SESS_CACHE_UPDATE_TIME },
    clock: NaN,
    call: (c) => c.add(ok()),
    error: RangeError,
    message: "Cannot read clock: now() must be a finite number >= 0: received NaN",
  });

  it("a 32-byte id and a 32-byte sidCtx are accepted (the limits themselves)", () => {
    const cache = new SessionCache();
    assert.equal(
      cache.add({ id: new Uint8Array(32), time: 0, timeout: 0, sidCtx: new Uint8Array(32) }),
      true,
    );
    assert.equal(cache.size, 1);
  });

  it("time and timeout 0, and a time and timeout of MAX_TIME whose sum saturates, are accepted", () => {
    const cache = new SessionCache();
    assert.equal(cache.add(session(1, 0, 0)), true);
    assert.equal(cache.add(session(2, MAX_TIME, MAX_TIME)), true);
    assert.equal(cache.size, 2);
    assert.equal(cache.flush(MAX_TIME).length, 1, "the session expiring at 0 goes");
    assert.equal(cache.size, 1, "an expiry beyond 2^64 - 1 ns never comes");
  });
});

describe("remove() refuses", () => {
  refuses({
    what: "an empty id",
    call: (c) => c.remove(ok({ id: sid() })),
    error: RangeError,
    message: "Cannot remove session: id must not be empty: received 0 bytes",
  });
  refuses({
    what: "an id of 33 bytes",
    call: (c) => c.remove(ok({ id: id33 })),
    error: RangeError,
    message: "Cannot remove session: id must be at most 32 bytes: received 33",
  });
  refuses({
    what: "an id that is not a Uint8Array",
    call: (c) => c.remove(ok({ id: 1 })),
    error: TypeError,
    message: "Cannot remove session: id must be a Uint8Array: received 1",
  });
  refuses({
    what: "a session that is not an object",
    call: (c) => c.remove(undefined as never),
    error: TypeError,
    message: "Cannot remove session: session must be an object: received undefined",
  });
});

describe("flush() refuses", () => {
  refuses({
    what: "a negative tm",
    call: (c) => c.flush(-1),
    error: RangeError,
    message: "Cannot flush sessions: tm must be a finite number >= 0: received -1",
  });
  refuses({
    what: "a NaN tm",
    call: (c) => c.flush(NaN),
    error: RangeError,
    message: "Cannot flush sessions: tm must be a finite number >= 0: received NaN",
  });
  refuses({
    what: "an infinite tm",
    call: (c) => c.flush(Infinity),
    error: RangeError,
    message: "Cannot flush sessions: tm must be a finite number >= 0: received Infinity",
  });
  refuses({
    what: "a tm that is not a number",
    call: (c) => c.flush("0" as never),
    error: TypeError,
    message: 'Cannot flush sessions: tm must be a number: received "0"',
  });
  refuses({
    what: "a clock that returns a negative time",
    clock: -1,
    call: (c) => c.flush(),
    error: RangeError,
    message: "Cannot read clock: now() must be a finite number >= 0: received -1",
  });
});

describe("get() refuses", () => {
  refuses({
    what: "an id that is not a Uint8Array",
    call: (c) => c.get([1] as never),
    error: TypeError,
    message: "Cannot get session: id must be a Uint8Array: received an array",
  });
  refuses({
    what: "a version out of range",
    call: (c) => c.get(sid(1), { version: -1 }),
    error: RangeError,
    message: "Cannot get session: version must be an integer from 0 to 65535: received -1",
  });
});

describe("setTime() and setTimeout() refuse", () => {
  refuses({
    what: "setTime() with an empty id",
    call: (c) => c.setTime(sid(), 1),
    error: RangeError,
    message: "Cannot set session time: id must not be empty: received 0 bytes",
  });
  refuses({
    what: "setTime() with an id of 33 bytes",
    call: (c) => c.setTime(id33, 1),
    error: RangeError,
    message: "Cannot set session time: id must be at most 32 bytes: received 33",
  });
  refuses({
    what: "setTime() with a negative time",
    call: (c) => c.setTime(sid(1), -1),
    error: RangeError,
    message: "Cannot set session time: time must be a finite number >= 0: received -1",
  });
  refuses({
    what: "setTime() with a NaN time",
    call: (c) => c.setTime(sid(1), NaN),
    error: RangeError,
    message: "Cannot set session time: time must be a finite number >= 0: received NaN",
  });
  refuses({
    what: "setTime() with a bad version",
    call: (c) => c.setTime(sid(1), 1, { version: 2.5 }),
    error: RangeError,
    message: "Cannot set session time: version must be an integer from 0 to 65535: received 2.5",
  });
  refuses({
    what: "setTimeout() with an id that is not a Uint8Array",
    call: (c) => c.setTimeout("01" as never, 1),
    error: TypeError,
    message: 'Cannot set session timeout: id must be a Uint8Array: received "01"',
  });
  refuses({
    what: "setTimeout() with a negative timeout",
    call: (c) => c.setTimeout(sid(1), -1),
    error: RangeError,
    message: "Cannot set session timeout: timeout must be a finite number >= 0: received -1",
  });
  refuses({
    what: "setTimeout() with an infinite timeout",
    call: (c) => c.setTimeout(sid(1), Infinity),
    error: RangeError,
    message: "Cannot set session timeout: timeout must be a finite number >= 0: received Infinity",
  });
  refuses({
    what: "setTimeout() with a timeout that is not a number",
    call: (c) => c.setTimeout(sid(1), null as never),
    error: TypeError,
    message: "Cannot set session timeout: timeout must be a number: received null",
  });
});

describe("the settings refuse", () => {
  refuses({
    what: "a negative cacheSize",
    call: (c) => (c.cacheSize = -1),
    error: RangeError,
    message: "Cannot set cache size: cache size must be a non-negative integer: received -1",
  });
  refuses({
    what: "a fractional cacheSize",
    call: (c) => (c.cacheSize = 2.5),
    error: RangeError,
    message: "Cannot set cache size: cache size must be a non-negative integer: received 2.5",
  });
  refuses({
    what: "a NaN cacheSize",
    call: (c) => (c.cacheSize = NaN),
    error: RangeError,
    message: "Cannot set cache size: cache size must be a non-negative integer: received NaN",
  });
  refuses({
    what: "a cacheSize that is not a number",
    call: (c) => (c.cacheSize = "5" as never),
    error: TypeError,
    message: 'Cannot set cache size: cache size must be a number: received "5"',
  });
  refuses({
    what: "a negative mode",
    call: (c) => (c.mode = -1),
    error: RangeError,
    message: "Cannot set mode: mode must be an integer from 0 to 0xffffffff: received -1",
  });
  refuses({
    what: "a fractional mode",
    call: (c) => (c.mode = 1.5),
    error: RangeError,
    message: "Cannot set mode: mode must be an integer from 0 to 0xffffffff: received 1.5",
  });
  refuses({
    what: "a mode beyond 32 bits",
    call: (c) => (c.mode = 2 ** 32),
    error: RangeError,
    message: "Cannot set mode: mode must be an integer from 0 to 0xffffffff: received 4294967296",
  });
  refuses({
    what: "a mode that is not a number",
    call: (c) => (c.mode = "2" as never),
    error: TypeError,
    message: 'Cannot set mode: mode must be a number: received "2"',
  });
  refuses({
    what: "a negative timeout",
    call: (c) => (c.timeout = -1),
    error: RangeError,
    message: "Cannot set timeout: timeout must be a finite number >= 0: received -1",
  });
  refuses({
    what: "a NaN timeout",
    call: (c) => (c.timeout = NaN),
    error: RangeError,
    message: "Cannot set timeout: timeout must be a finite number >= 0: received NaN",
  });

  it("the largest 32-bit mode and cacheSize 0 are accepted", () => {
    const cache = new SessionCache();
    cache.mode = 0xffffffff;
    assert.equal(cache.mode, 0xffffffff);
    cache.cacheSize = 0;
    assert.equal(cache.cacheSize, 0);
  });
});

describe("the constructor refuses", () => {
  const cases: [string, SessionCacheOptions, ErrorClass, string][] = [
    [
      "a negative cacheSize",
      { cacheSize: -1 },
      RangeError,
      "Cannot create session cache: cache size must be a non-negative integer: received -1",
    ],
    [
      "a fractional cacheSize",
      { cacheSize: 0.5 },
      RangeError,
      "Cannot create session cache: cache size must be a non-negative integer: received 0.5",
    ],
    [
      "a negative mode",
      { mode: -2 },
      RangeError,
      "Cannot create session cache: mode must be an integer from 0 to 0xffffffff: received -2",
    ],
    [
      "a NaN timeout",
      { timeout: NaN },
      RangeError,
      "Cannot create session cache: timeout must be a finite number >= 0: received NaN",
    ],
    [
      "a `now` that is not a function",
      { now: 5 as never },
      TypeError,
      "Cannot create session cache: now must be a function: received 5",
    ],
    [
      "an onRemoveSession that is not a function",
      { onRemoveSession: "x" as never },
      TypeError,
      'Cannot create session cache: onRemoveSession must be a function: received "x"',
    ],
    [
      "a getSession that is not a function",
      { getSession: {} as never },
      TypeError,
      "Cannot create session cache: getSession must be a function: received an object",
    ],
  ];
  for (const [what, options, error, message] of cases) {
    it(`${what}: ${error.name} "${message}"`, () => {
      assert.throws(() => new SessionCache(options), (e: unknown) => {
        assert.ok(e instanceof error);
        assert.equal(e.constructor, error);
        assert.equal(e.message, message);
        assert.match(e.message, GRAMMAR);
        return true;
      });
    });
  }
});

describe("lookup() and lookupSync() refuse", () => {
  refuses({
    what: "lookupSync() with an empty id",
    call: (c) => c.lookupSync({ id: sid() }),
    error: RangeError,
    message: "Cannot look up session: id must not be empty: received 0 bytes",
  });
  refuses({
    what: "lookupSync() with an id of 33 bytes",
    call: (c) => c.lookupSync({ id: id33 }),
    error: RangeError,
    message: "Cannot look up session: id must be at most 32 bytes: received 33",
  });
  refuses({
    what: "lookupSync() with a sidCtx of 33 bytes",
    call: (c) => c.lookupSync({ id: sid(1), sidCtx: id33 }),
    error: RangeError,
    message: "Cannot look up session: sidCtx must be at most 32 bytes: received 33",
  });
  refuses({
    what: "lookupSync() with a bad version",
    call: (c) => c.lookupSync({ id: sid(1), version: 70_000 }),
    error: RangeError,
    message: "Cannot look up session: version must be an integer from 0 to 65535: received 70000",
  });
  refuses({
    what: "lookupSync() with a request that is not an object",
    call: (c) => c.lookupSync(7 as never),
    error: TypeError,
    message: "Cannot look up session: request must be an object: received 7",
  });
  refuses({
    what: "lookupSync() with a clock that returns Infinity",
    clock: Infinity,
    call: (c) => c.lookupSync({ id: sid(1) }),
    error: RangeError,
    message: "Cannot read clock: now() must be a finite number >= 0: received Infinity",
  });
  refuses({
    what: "lookupSync() when getSession returns a Promise",
    options: { getSession: () => Promise.resolve(undefined) },
    call: (c) => c.lookupSync({ id: sid(9) }),
    error: TypeError,
    message:
      "Cannot look up session synchronously: getSession must not return a Promise: received a Promise",
  });

  it('lookup() rejects with a RangeError "Cannot look up session: id must be at most 32 bytes: received 33" and changes nothing', async () => {
    const { cache, calls } = populated();
    const before = snapshot(cache);
    await assert.rejects(cache.lookup({ id: id33 }), (e: unknown) => {
      assert.ok(e instanceof RangeError);
      assert.equal(e.message, "Cannot look up session: id must be at most 32 bytes: received 33");
      return true;
    });
    await assert.rejects(cache.lookup({ id: "x" as never }), TypeError);
    await assert.rejects(cache.lookup({ id: sid(1), sidCtx: [1] as never }), TypeError);
    assertUnchanged(cache, before, calls);
  });
});

describe("handshakeStarted() and handshakeCompleted() refuse", () => {
  refuses({
    what: "handshakeStarted() with a side that is neither",
    call: (c) => c.handshakeStarted("both" as never),
    error: TypeError,
    message: 'Cannot count handshake: side must be "server" or "client": received "both"',
  });
  refuses({
    what: "handshakeCompleted() with a side that is neither",
    call: (c) => c.handshakeCompleted({ side: "peer" as never, resumed: false }),
    error: TypeError,
    message: 'Cannot complete handshake: side must be "server" or "client": received "peer"',
  });
  refuses({
    what: "handshakeCompleted() with an empty session id",
    call: (c) =>
      c.handshakeCompleted({ side: "server", session: ok({ id: sid() }), resumed: false }),
    error: RangeError,
    message: "Cannot complete handshake: id must not be empty: received 0 bytes",
  });
  refuses({
    what: "handshakeCompleted() with a negative session time",
    call: (c) =>
      c.handshakeCompleted({ side: "server", session: ok({ time: -1 }), resumed: false }),
    error: RangeError,
    message: "Cannot complete handshake: time must be a finite number >= 0: received -1",
  });
  refuses({
    what: "handshakeCompleted() with a clock that returns NaN",
    clock: NaN,
    call: (c) => c.handshakeCompleted({ side: "server", session: ok(), resumed: false }),
    error: RangeError,
    message: "Cannot read clock: now() must be a finite number >= 0: received NaN",
  });
});

describe("absence is not an error", () => {
  it("a miss returns undefined and removing, re-timing or looking up an absent id returns false / undefined", async () => {
    const cache = new SessionCache({ now: () => 100 });
    assert.equal(cache.get(sid(1)), undefined);
    assert.equal(cache.remove(session(1, 0, 0)), false);
    assert.equal(cache.setTime(sid(1), 0), false);
    assert.equal(cache.setTimeout(sid(1), 0), false);
    assert.equal(cache.lookupSync({ id: sid(1) }), undefined);
    assert.equal(await cache.lookup({ id: sid(1) }), undefined);
    assert.deepEqual(cache.flush(0), []);
  });
});

// ---- the adapters: the same checks and grammar as the shell ----------------------------------

/** Asserts the class, the exact message and the grammar of a refusal. */
function refusedWith(call: () => unknown, error: ErrorClass, message: string): void {
  assert.throws(call, (e: unknown) => {
    assert.ok(e instanceof error, `expected a ${error.name}, got ${String(e)}`);
    assert.equal(e.constructor, error);
    assert.equal(e.message, message);
    assert.match(e.message, GRAMMAR);
    return true;
  });
}

describe("attachSessionCache() refuses, attaching nothing", () => {
  const server = () => new EventEmitter() as unknown as Server & EventEmitter;
  const cases: [string, (s: Server) => unknown, ErrorClass, string][] = [
    [
      "a server that is not an event emitter",
      () => attachSessionCache({} as Server, new SessionCache()),
      TypeError,
      "Cannot attach session cache: server must be a tls.Server: received an object",
    ],
    [
      "a cache that is not a SessionCache",
      (s) => attachSessionCache(s, {} as SessionCache),
      TypeError,
      "Cannot attach session cache: cache must be a SessionCache: received an object",
    ],
    [
      "options that are not an object",
      (s) => attachSessionCache(s, new SessionCache(), 7 as never),
      TypeError,
      "Cannot attach session cache: options must be an object: received 7",
    ],
    [
      "a negative sessionTimeout",
      (s) => attachSessionCache(s, new SessionCache(), { sessionTimeout: -1 }),
      RangeError,
      "Cannot attach session cache: sessionTimeout must be a finite number >= 0: received -1",
    ],
    [
      "a lookupTimeoutMs above 2^31 - 1",
      (s) => attachSessionCache(s, new SessionCache(), { lookupTimeoutMs: 2 ** 31 }),
      RangeError,
      "Cannot attach session cache: lookupTimeoutMs must be a number >= 0 and at most 2147483647 ms: received 2147483648",
    ],
    [
      "a lookupTimeoutMs that is a string",
      (s) => attachSessionCache(s, new SessionCache(), { lookupTimeoutMs: "9" as never }),
      TypeError,
      'Cannot attach session cache: lookupTimeoutMs must be a number: received "9"',
    ],
    [
      "a sidCtx of 33 bytes",
      (s) => attachSessionCache(s, new SessionCache(), { sidCtx: "x".repeat(33) }),
      RangeError,
      "Cannot attach session cache: sidCtx must be at most 32 bytes: received 33",
    ],
    [
      "a sidCtx that is a number",
      (s) => attachSessionCache(s, new SessionCache(), { sidCtx: 5 as never }),
      TypeError,
      "Cannot attach session cache: sidCtx must be a string or a Uint8Array: received 5",
    ],
    [
      "an onError that is not a function",
      (s) => attachSessionCache(s, new SessionCache(), { onError: {} as never }),
      TypeError,
      "Cannot attach session cache: onError must be a function: received an object",
    ],
  ];
  for (const [what, call, error, message] of cases) {
    it(`${what}: ${error.name} "${message}"`, () => {
      const s = server();
      refusedWith(() => call(s), error, message);
      assert.equal((s as EventEmitter).eventNames().length, 0);
    });
  }

  it('a second cache on a server: TypeError "… must have no "newSession" listener …: received 1"', () => {
    const s = server();
    const first = attachSessionCache(s, new SessionCache());
    refusedWith(
      () => attachSessionCache(s, new SessionCache()),
      TypeError,
      'Cannot attach session cache: server must have no "newSession" listener (one cache per server): received 1',
    );
    first.detach();
  });
});

describe("the TlsClientSessionCache constructor and methods refuse", () => {
  const cases: [string, () => unknown, ErrorClass, string][] = [
    [
      "a maxPeers of 0",
      () => new TlsClientSessionCache({ maxPeers: 0 }),
      RangeError,
      "Cannot create client session cache: maxPeers must be an integer >= 1: received 0",
    ],
    [
      "a timeout in milliseconds",
      () => new TlsClientSessionCache({ timeout: 1.7e12 }),
      RangeError,
      "Cannot create client session cache: timeout must be at most 18446744073 seconds (milliseconds, as from Date.now(), are 1000 times too large): received 1700000000000",
    ],
    [
      "a now that is not a function",
      () => new TlsClientSessionCache({ now: 1 as never }),
      TypeError,
      "Cannot create client session cache: now must be a function: received 1",
    ],
    [
      "store() with a peer port out of range",
      () => new TlsClientSessionCache().store({ host: "h", port: -1 }, new Uint8Array(1)),
      RangeError,
      "Cannot store session: peer.port must be an integer from 0 to 65535: received -1",
    ],
    [
      "store() with data that is an array",
      () => new TlsClientSessionCache().store({ host: "h", port: 1 }, [1] as never),
      TypeError,
      "Cannot store session: data must be a Uint8Array: received an array",
    ],
    [
      "connectOptions() with a host that is not a string",
      () => new TlsClientSessionCache().connectOptions({ host: 1 as never, port: 1 }),
      TypeError,
      "Cannot offer session: peer.host must be a non-empty string: received 1",
    ],
  ];
  for (const [what, call, error, message] of cases) {
    it(`${what}: ${error.name} "${message}"`, () => refusedWith(call, error, message));
  }
});

describe("the RedisSessionStore constructor and the client adapters refuse", () => {
  const client = {
    get: () => Promise.resolve(null),
    set: () => Promise.resolve(),
    del: () => Promise.resolve(),
  };
  const cases: [string, () => unknown, ErrorClass, string][] = [
    [
      "a prefix that is a number",
      () => new RedisSessionStore(client, { prefix: 5 as never }),
      TypeError,
      "Cannot create session store: prefix must be a string: received 5",
    ],
    [
      "a client without get",
      () => new RedisSessionStore({ ...client, get: undefined } as never),
      TypeError,
      "Cannot create session store: client.get must be a function: received undefined",
    ],
    [
      "a timeoutMs of 0",
      () => new RedisSessionStore(client, { timeoutMs: 0 }),
      RangeError,
      "Cannot create session store: timeoutMs must be a number > 0 and at most 2147483647 ms: received 0",
    ],
    [
      "a breaker.cooldownMs above 2^31 - 1",
      () => new RedisSessionStore(client, { breaker: { cooldownMs: 2 ** 31 } }),
      RangeError,
      "Cannot create session store: breaker.cooldownMs must be a number > 0 and at most 2147483647 ms: received 2147483648",
    ],
    [
      "a breaker.failures of 0",
      () => new RedisSessionStore(client, { breaker: { failures: 0 } }),
      RangeError,
      "Cannot create session store: breaker.failures must be an integer >= 1: received 0",
    ],
    [
      "a maxInFlight of 1.5",
      () => new RedisSessionStore(client, { maxInFlight: 1.5 }),
      RangeError,
      "Cannot create session store: maxInFlight must be an integer >= 1: received 1.5",
    ],
    [
      "a sidCtx of 33 bytes",
      () => new RedisSessionStore(client, { sidCtx: new Uint8Array(33) }),
      RangeError,
      "Cannot create session store: sidCtx must be at most 32 bytes: received 33",
    ],
    [
      "keys that are not an array",
      () => new RedisSessionStore(client, { keys: {} as never }),
      TypeError,
      "Cannot create session store: keys must be an array: received an object",
    ],
    [
      "a raw key of 15 bytes",
      () => new RedisSessionStore(client, { keys: [{ id: "k", key: new Uint8Array(15) }] }),
      RangeError,
      "Cannot create session store: keys[0].key must be 16, 24 or 32 bytes: received 15",
    ],
    [
      "an nowMs that is not a function",
      () => new RedisSessionStore(client, { nowMs: 0 as never }),
      TypeError,
      "Cannot create session store: nowMs must be a function: received 0",
    ],
    [
      "redisKey() with an empty id",
      () => new RedisSessionStore(client).redisKey(new Uint8Array(0)),
      RangeError,
      "Cannot build session key: id must not be empty: received 0 bytes",
    ],
    [
      "nodeRedisClient() without sendCommand",
      () => nodeRedisClient({} as never),
      TypeError,
      "Cannot adapt Redis client: client.sendCommand must be a function: received undefined",
    ],
    [
      "commandClient() without a function",
      () => commandClient(null as never),
      TypeError,
      "Cannot adapt Redis client: send must be a function: received null",
    ],
  ];
  for (const [what, call, error, message] of cases) {
    it(`${what}: ${error.name} "${message}"`, () => refusedWith(call, error, message));
  }
});
