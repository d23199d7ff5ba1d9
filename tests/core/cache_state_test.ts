// The pure core (src/cache_state.ts) is a value: it never mutates its input, never reads a
// clock, never calls a callback, and returns the very same state object when nothing changes.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  add,
  type CacheState,
  configure,
  createCacheState,
  flush,
  get,
  handshakeCompleted,
  handshakeStarted,
  lookup,
  remove,
  resumeExternal,
  sessions,
  setSessionTime,
  setSessionTimeout,
} from "../../core.ts";
import type { Session } from "../../mod.ts";
import {
  SESS_CACHE_BOTH,
  SESS_CACHE_NO_INTERNAL_LOOKUP,
  SESS_CACHE_SERVER,
  SESS_CACHE_UPDATE_TIME,
} from "../../mod.ts";
import { ids, nid, session, sid, statsWith } from "../_helpers.ts";

/** A session frozen the deepest JavaScript allows (a non-empty Uint8Array cannot be frozen). */
function frozen(
  idByte: number,
  time: number,
  timeout: number,
  extra: Partial<Session> = {},
): Session {
  return Object.freeze(session(idByte, time, timeout, extra));
}

/** Everything observable about a state, as plain data (sessions by identity). */
function observe(state: CacheState) {
  const list = [...sessions(state)];
  return {
    cacheSize: state.cacheSize,
    mode: state.mode,
    timeout: state.timeout,
    size: state.size,
    stats: { ...state.stats },
    list,
    byKey: list.map((s) =>
      get(state, { id: s.id, ...(s.version === undefined ? {} : { version: s.version }) })
    ),
    ids: ids(list),
    times: list.map((s) => [s.time, s.timeout]),
  };
}

/** Asserts that `state` still looks exactly as `before` recorded it. */
function assertStill(state: CacheState, before: ReturnType<typeof observe>, message?: string) {
  const now = observe(state);
  assert.deepEqual(now.ids, before.ids, message);
  assert.deepEqual(now.times, before.times, message);
  assert.deepEqual(now.stats, before.stats, message);
  assert.equal(now.size, before.size, message);
  assert.equal(now.cacheSize, before.cacheSize, message);
  assert.equal(now.mode, before.mode, message);
  assert.equal(now.timeout, before.timeout, message);
  for (let i = 0; i < before.list.length; i++) {
    assert.equal(now.list[i], before.list[i], message);
    assert.equal(now.byKey[i], before.byKey[i], message);
  }
}

/** Runs `fn` with every clock the core could read made to throw. */
function withoutClock<T>(fn: () => T): T {
  const RealDate = globalThis.Date;
  const perf = globalThis.performance;
  const realPerfNow = perf?.now;
  const boom = () => {
    throw new Error("the pure core read a clock");
  };
  const FakeDate = function () {
    boom();
  } as unknown as DateConstructor;
  FakeDate.now = boom;
  globalThis.Date = FakeDate;
  if (perf) Object.defineProperty(perf, "now", { value: boom, configurable: true, writable: true });
  try {
    return fn();
  } finally {
    globalThis.Date = RealDate;
    if (perf) {
      // Remove the own property so the prototype's method shows through again (Node, Bun),
      // or put the original back where it was an own property (Deno).
      delete (perf as { now?: unknown }).now;
      if (perf.now !== realPerfNow) {
        Object.defineProperty(perf, "now", {
          value: realPerfNow,
          configurable: true,
          writable: true,
        });
      }
    }
  }
}

/** A tiny deterministic generator, so the persistence test is reproducible. */
function lcg(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

describe("createCacheState()", () => {
  it("starts empty with OpenSSL's defaults: size 20480, mode SERVER, timeout 7200", () => {
    const state = createCacheState();
    assert.equal(state.cacheSize, 20480);
    assert.equal(state.mode, SESS_CACHE_SERVER);
    assert.equal(state.timeout, 7200);
    assert.equal(state.size, 0);
    assert.deepEqual({ ...state.stats }, statsWith());
    assert.deepEqual([...sessions(state)], []);
  });

  it("takes cacheSize, mode and timeout from its options", () => {
    const state = createCacheState({ cacheSize: 3, mode: SESS_CACHE_BOTH, timeout: 300 });
    assert.equal(state.cacheSize, 3);
    assert.equal(state.mode, SESS_CACHE_BOTH);
    assert.equal(state.timeout, 300);
  });
});

describe("the core never mutates its input", () => {
  it("every state is a frozen object", () => {
    const s0 = createCacheState();
    const s1 = add(s0, frozen(1, 100, 10)).cache;
    assert.ok(Object.isFrozen(s0));
    assert.ok(Object.isFrozen(s1));
    assert.ok(Object.isFrozen(s1.stats));
  });

  it("add() leaves the previous state as it was", () => {
    const s0 = createCacheState({ cacheSize: 3 });
    const before = observe(s0);
    const r = add(s0, frozen(1, 100, 10));
    assert.notEqual(r.cache, s0);
    assertStill(s0, before);
    assert.equal(r.cache.size, 1);
  });

  it("accepts frozen sessions and leaves their ids' bytes untouched", () => {
    const a = frozen(1, 100, 10, { sidCtx: sid(9, 9), data: sid(7) });
    const b = frozen(2, 100, 20);
    let s = createCacheState({ cacheSize: 3, mode: SESS_CACHE_SERVER | SESS_CACHE_UPDATE_TIME });
    s = add(s, a, { now: 150 }).cache;
    s = add(s, b, { now: 150 }).cache;
    s = setSessionTime(s, { id: a.id }, { time: 160 }).cache;
    s = setSessionTimeout(s, { id: b.id }, { timeout: 5 }).cache;
    s = lookup(s, { id: a.id, sidCtx: sid(9, 9) }, { now: 161 }).cache;
    s = flush(s, 1_000).cache;
    s = remove(s, a).cache;
    assert.deepEqual([...a.id], [1]);
    assert.deepEqual([...(a.sidCtx ?? [])], [9, 9]);
    assert.deepEqual([...(a.data ?? [])], [7]);
    assert.equal(a.time, 100);
    assert.equal(b.timeout, 20);
  });

  it("setTime() and setTimeout() return a new frozen session and keep the argument's time and timeout", () => {
    const a = frozen(1, 100, 10);
    const s1 = add(createCacheState(), a).cache;
    const r = setSessionTime(s1, { id: a.id }, { time: 200 });
    assert.ok(r.session);
    assert.notEqual(r.session, a);
    assert.ok(Object.isFrozen(r.session));
    assert.equal(r.session.time, 200);
    assert.equal(r.session.timeout, 10);
    assert.equal(a.time, 100);
    assert.equal(get(s1, { id: a.id }), a, "the previous state still holds the original");
    assert.equal(get(r.cache, { id: a.id }), r.session);

    const t = setSessionTimeout(r.cache, { id: a.id }, { timeout: 50 });
    assert.ok(t.session);
    assert.ok(Object.isFrozen(t.session));
    assert.deepEqual([t.session.time, t.session.timeout], [200, 50]);
    assert.deepEqual([r.session.time, r.session.timeout], [200, 10]);
  });

  it("add() with UPDATE_TIME caches a re-timed frozen copy and keeps the argument as it was", () => {
    const a = frozen(1, 100, 10);
    const s0 = createCacheState({ mode: SESS_CACHE_SERVER | SESS_CACHE_UPDATE_TIME });
    const r = add(s0, a, { now: 500 });
    assert.equal(r.added, true);
    assert.equal(r.session.time, 500);
    assert.ok(Object.isFrozen(r.session));
    assert.equal(a.time, 100);
    assert.equal(s0.size, 0);
  });

  it("every earlier state still reads exactly as it did after 400 operations derived from it (persistence)", () => {
    const rand = lcg(0x5e55);
    const states: CacheState[] = [createCacheState({ cacheSize: 8 })];
    const seen = [observe(states[0]!)];
    const made: Session[] = [];
    let now = 1_000;
    for (let step = 0; step < 400; step++) {
      let s = states[states.length - 1]!;
      now += rand(3);
      const op = rand(9);
      const pick = () => made[rand(made.length)]!;
      if (op <= 2 || made.length === 0) {
        const x = Object.freeze({ id: nid(rand(40)), time: now, timeout: 5 + rand(30) });
        made.push(x);
        s = add(s, x).cache;
      } else if (op === 3) {
        s = add(s, pick()).cache;
      } else if (op === 4) {
        s = remove(s, pick()).cache;
      } else if (op === 5) {
        s = flush(s, now - rand(20)).cache;
      } else if (op === 6) {
        s = setSessionTime(s, { id: pick().id }, { time: now }).cache;
      } else if (op === 7) {
        s = setSessionTimeout(s, { id: pick().id }, { timeout: rand(40) }).cache;
      } else if (rand(4) === 0) {
        s = configure(s, { cacheSize: 1 + rand(10) });
      } else {
        s = lookup(s, { id: pick().id }, { now }).cache;
      }
      states.push(s);
      seen.push(observe(s));
    }
    for (let i = 0; i < states.length; i++) assertStill(states[i]!, seen[i]!, `state #${i}`);
  });
});

describe("the core returns the same state when nothing changes", () => {
  const a = frozen(1, 100, 10);
  const b = frozen(2, 100, 20);
  const base = add(add(createCacheState(), a).cache, b).cache;

  it("flush() with nothing expired", () => {
    const r = flush(base, 110);
    assert.ok(Object.is(r.cache, base));
    assert.deepEqual(r.removed, []);
  });

  it("flush() of an empty cache, even flush(0)", () => {
    const empty = createCacheState();
    assert.ok(Object.is(flush(empty, 0).cache, empty));
    assert.ok(Object.is(flush(empty, 1e9).cache, empty));
  });

  it("remove() of an absent session, which still reports the argument as removed", () => {
    const absent = frozen(3, 100, 10);
    const r = remove(base, absent);
    assert.ok(Object.is(r.cache, base));
    assert.equal(r.found, false);
    assert.deepEqual(r.removed, [{ session: absent, reason: "removed" }]);
    assert.equal(r.removed[0]?.session, absent);
  });

  it("setTime() and setTimeout() on an absent id", () => {
    const t = setSessionTime(base, { id: sid(3) }, { time: 5 });
    assert.ok(Object.is(t.cache, base));
    assert.equal(t.session, undefined);
    const u = setSessionTimeout(base, { id: sid(3) }, { timeout: 5 });
    assert.ok(Object.is(u.cache, base));
    assert.equal(u.session, undefined);
    const v = setSessionTime(base, { id: a.id, version: 0x0303 }, { time: 5 });
    assert.ok(Object.is(v.cache, base), "same id, other version: not cached");
  });

  it("configure() with the same values, or with none", () => {
    assert.ok(Object.is(configure(base, {}), base));
    assert.ok(
      Object.is(
        configure(base, { cacheSize: 20480, mode: SESS_CACHE_SERVER, timeout: 7200 }),
        base,
      ),
    );
  });

  it("lookup() with NO_INTERNAL_LOOKUP, which counts nothing and asks for the external cache", () => {
    const s = configure(base, { mode: SESS_CACHE_SERVER | SESS_CACHE_NO_INTERNAL_LOOKUP });
    const r = lookup(s, { id: a.id }, { now: 105 });
    assert.ok(Object.is(r.cache, s));
    assert.equal(r.consultExternal, true);
    assert.equal(r.outcome, "miss");
    assert.equal(r.session, undefined);
  });

  it("lookup() with a mismatched sidCtx, a silent miss", () => {
    const r = lookup(base, { id: a.id, sidCtx: sid(1) }, { now: 105 });
    assert.ok(Object.is(r.cache, base));
    assert.equal(r.outcome, "mismatch");
    assert.equal(r.consultExternal, false);
    assert.equal(get(r.cache, { id: a.id }), a, "the session stays cached");
  });

  it("but configure() with a new value, flush() that removes, and a counted lookup() do change it", () => {
    assert.ok(!Object.is(configure(base, { timeout: 1 }), base));
    assert.ok(!Object.is(flush(base, 111).cache, base));
    assert.ok(!Object.is(lookup(base, { id: sid(3) }, { now: 105 }).cache, base));
  });
});

describe("the core reads no clock", () => {
  it("no operation reads Date or performance.now", () => {
    withoutClock(() => {
      let s = createCacheState({ cacheSize: 3, mode: SESS_CACHE_SERVER | SESS_CACHE_UPDATE_TIME });
      const a = frozen(1, 100, 10);
      s = add(s, a, { now: 100 }).cache;
      s = add(s, frozen(2, 100, 10), { now: 101 }).cache;
      s = add(s, frozen(3, 100, 10), { now: 102 }).cache;
      s = add(s, frozen(4, 100, 10), { now: 103 }).cache;
      s = setSessionTime(s, { id: sid(3) }, { time: 200 }).cache;
      s = setSessionTimeout(s, { id: sid(3) }, { timeout: 200 }).cache;
      s = configure(s, { cacheSize: 10, mode: SESS_CACHE_SERVER, timeout: 300 });
      s = lookup(s, { id: sid(3) }, { now: 250 }).cache;
      s = lookup(s, { id: sid(4) }, { now: 1_000 }).cache;
      s = lookup(s, { id: sid(9) }, { now: 1_000 }).cache;
      s = resumeExternal(s, frozen(9, 900, 300), { request: { id: sid(9) }, now: 1_000 }).cache;
      s = handshakeStarted(s, "server");
      s = handshakeCompleted(s, {
        side: "server",
        session: frozen(5, 1_000, 300),
        resumed: false,
      }, { now: 1_000 })
        .cache;
      s = handshakeStarted(s, "client", { renegotiate: true });
      s = handshakeCompleted(s, { side: "client", resumed: false }, { now: 1_000 }).cache;
      s = remove(s, a).cache;
      get(s, { id: sid(5) });
      [...sessions(s)];
      s = flush(s, 2_000).cache;
      s = flush(s, 0).cache;
      assert.equal(s.size, 0);
    });
    assert.ok(Date.now() > 0, "the clock is back");
  });

  it("add() in UPDATE_TIME mode without `now` is refused with a TypeError rather than reading a clock", () => {
    const s = createCacheState({ mode: SESS_CACHE_SERVER | SESS_CACHE_UPDATE_TIME });
    assert.throws(() => withoutClock(() => add(s, frozen(1, 100, 10))), TypeError);
    assert.equal(s.size, 0);
  });

  it("handshakeCompleted() auto-flushes with the `now` it is given", () => {
    let s = createCacheState();
    s = add(s, frozen(1, 100, 10)).cache; // expires 110
    for (let i = 0; i < 255; i++) {
      s = handshakeCompleted(s, {
        side: "server",
        session: Object.freeze({ id: nid(1000 + i), time: 100, timeout: 10_000 }),
        resumed: false,
      }, { now: 105 }).cache;
    }
    assert.equal(s.stats.acceptGood, 255);
    assert.equal(s.size, 256);
    const r = withoutClock(() =>
      handshakeCompleted(s, {
        side: "server",
        session: frozen(2, 100, 10_000),
        resumed: false,
      }, { now: 500 })
    );
    assert.deepEqual(ids(r.flushed.map((x) => x.session)), [1]);
    assert.deepEqual(r.flushed.map((x) => x.reason), ["expired"]);
    assert.deepEqual(
      r.removed,
      [],
      "no eviction: `removed` lists evictions, `flushed` the auto-flush",
    );
    assert.equal(r.cache.stats.acceptGood, 256);
  });
});

describe("the core's results have the fields the contract names", () => {
  /** Asserts `result` has exactly these own fields. */
  function hasFields(result: object, fields: string[]) {
    assert.deepEqual(Object.keys(result).sort(), [...fields].sort());
  }

  const a = frozen(1, 100, 10);
  const s = add(createCacheState(), a).cache;

  it("add(): { cache, added, session, removed, replaced }", () => {
    const r = add(s, frozen(2, 100, 10));
    hasFields(r, ["cache", "added", "session", "removed", "replaced"]);
    assert.equal(r.added, true);
    assert.equal(r.replaced, undefined);
    assert.deepEqual(r.removed, []);
    const again = add(r.cache, r.session);
    assert.equal(again.added, false);
    const replacing = add(r.cache, frozen(2, 100, 10));
    assert.equal(replacing.added, true);
    assert.equal(replacing.replaced, r.session);
    assert.deepEqual(replacing.removed, [], "a replaced session is not reported as removed");
  });

  it("remove(): { cache, found, removed }", () => {
    const r = remove(s, a);
    hasFields(r, ["cache", "found", "removed"]);
    assert.equal(r.found, true);
    assert.deepEqual(r.removed, [{ session: a, reason: "removed" }]);
  });

  it("flush(): { cache, removed }", () => {
    hasFields(flush(s, 0), ["cache", "removed"]);
  });

  it("setTime() and setTimeout(): { cache, session }", () => {
    hasFields(setSessionTime(s, { id: a.id }, { time: 1 }), ["cache", "session"]);
    hasFields(setSessionTimeout(s, { id: a.id }, { timeout: 1 }), ["cache", "session"]);
    hasFields(setSessionTime(s, { id: sid(9) }, { time: 1 }), ["cache", "session"]);
  });

  it("lookup() and resumeExternal(): { cache, outcome, session, removed, consultExternal }", () => {
    const fields = ["cache", "outcome", "session", "removed", "consultExternal"];
    const hit = lookup(s, { id: a.id }, { now: 105 });
    hasFields(hit, fields);
    assert.equal(hit.outcome, "hit");
    assert.equal(hit.session, a);
    assert.equal(hit.cache.stats.hits, 1);

    const miss = lookup(s, { id: sid(9) }, { now: 105 });
    hasFields(miss, fields);
    assert.equal(miss.outcome, "miss");
    assert.equal(miss.consultExternal, true);
    assert.equal(miss.cache.stats.misses, 1);

    const expired = lookup(s, { id: a.id }, { now: 111 });
    hasFields(expired, fields);
    assert.equal(expired.outcome, "expired");
    assert.deepEqual(expired.removed, [{ session: a, reason: "removed" }]);
    assert.equal(expired.cache.stats.timeouts, 1);
    assert.equal(expired.cache.size, 0);

    const external = resumeExternal(miss.cache, frozen(9, 100, 10), {
      request: { id: sid(9) },
      now: 105,
    });
    hasFields(external, fields);
    assert.equal(external.outcome, "hit");
    assert.deepEqual(
      { ...external.cache.stats },
      statsWith({ number: 2, misses: 1, cbHits: 1, hits: 1 }),
    );
  });

  it("handshakeCompleted(): { cache, newSession, removed, flushed }", () => {
    // The contract names { cache, newSession, removed }; the implementation adds `flushed`, the
    // auto-flush's removals, which OpenSSL reports after the new-session callback.
    const r = handshakeCompleted(s, {
      side: "server",
      session: frozen(2, 100, 10),
      resumed: false,
    }, { now: 100 });
    hasFields(r, ["cache", "newSession", "removed", "flushed"]);
    assert.equal(r.newSession?.id[0], 2);
  });

  it("CacheState: cacheSize, mode, timeout, size and stats with the twelve counters", () => {
    for (const field of ["cacheSize", "mode", "timeout", "size", "stats"] as const) {
      assert.ok(field in s, field);
    }
    assert.deepEqual(Object.keys(s.stats).sort(), Object.keys(statsWith()).sort());
  });
});
