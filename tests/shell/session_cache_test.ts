// The imperative shell (src/session_cache.ts): defaults, the OpenSSL-shaped booleans, keys,
// lookups, counters, iteration, settings, and the callback policy (commit first, every
// callback runs, first error rethrown, re-entrancy allowed).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MAX_TIME, SessionCache } from "../../mod.ts";
import type { Session } from "../../mod.ts";
import {
  SESS_CACHE_BOTH,
  SESS_CACHE_CLIENT,
  SESS_CACHE_NO_AUTO_CLEAR,
  SESS_CACHE_NO_INTERNAL_STORE,
  SESS_CACHE_OFF,
  SESS_CACHE_SERVER,
  SESS_CACHE_UPDATE_TIME,
} from "../../mod.ts";
import { ids, manualClock, nid, session, sid, snapshot, statsWith } from "../_helpers.ts";

describe("new SessionCache()", () => {
  it("has OpenSSL's defaults: cacheSize 20480, mode SESS_CACHE_SERVER, timeout 7200, empty", () => {
    const cache = new SessionCache();
    assert.equal(cache.cacheSize, 20480);
    assert.equal(cache.mode, SESS_CACHE_SERVER);
    assert.equal(cache.timeout, 7200);
    assert.equal(cache.size, 0);
    assert.deepEqual([...cache], []);
    assert.deepEqual({ ...cache.stats }, statsWith());
  });

  it("takes cacheSize, mode and timeout from its options", () => {
    const cache = new SessionCache({ cacheSize: 5, mode: SESS_CACHE_BOTH, timeout: 300 });
    assert.equal(cache.cacheSize, 5);
    assert.equal(cache.mode, SESS_CACHE_BOTH);
    assert.equal(cache.timeout, 300);
  });

  it("reads the wall clock to the millisecond when no `now` is given (OpenSSL 3.3's ossl_time_now)", () => {
    const cache = new SessionCache({ mode: SESS_CACHE_SERVER | SESS_CACHE_UPDATE_TIME });
    const before = Date.now() / 1000;
    cache.add(session(1, 0, 10));
    const after = Date.now() / 1000;
    const time = cache.get(sid(1))?.time ?? -1;
    assert.ok(before <= time && time <= after, `${before} <= ${time} <= ${after}`);
    assert.equal(Math.round(time * 1000) / 1000, time, "milliseconds, as Date.now() gives");
  });

  it("flush() without a time flushes at whole seconds (OpenSSL's callers pass time(NULL))", () => {
    const clock = manualClock(110.75);
    const cache = new SessionCache({ now: clock.now });
    cache.add(session(1, 100, 10.5)); // expires at 110.5
    assert.deepEqual(cache.flush(), [], "flushed at 110: not yet expired");
    assert.deepEqual(ids(cache.flush(110.75)), [1]);
  });

  it("exposes its current immutable state for the pure API", () => {
    const cache = new SessionCache();
    const s0 = cache.state;
    cache.add(session(1, 100, 10));
    assert.notEqual(cache.state, s0);
    assert.equal(s0.size, 0);
    assert.equal(cache.state.size, 1);
  });
});

describe("add() and remove()", () => {
  it("add() returns true for a new session and false when the same object is re-added", () => {
    const cache = new SessionCache();
    const a = session(1, 100, 10);
    assert.equal(cache.add(a), true);
    assert.equal(cache.add(a), false);
    assert.equal(cache.size, 1);
    assert.equal(cache.get(a.id), a);
  });

  it("add() of a different object with the same id replaces the cached one silently and returns true", () => {
    const removed: Session[] = [];
    const cache = new SessionCache({ onRemoveSession: (s) => removed.push(s) });
    const a = session(1, 100, 10);
    const a2 = session(1, 200, 10);
    cache.add(a);
    assert.equal(cache.add(a2), true);
    assert.equal(cache.get(a.id), a2);
    assert.equal(cache.size, 1);
    assert.deepEqual(removed, []);
    assert.equal(cache.stats.cacheFull, 0);
  });

  it("after setTime() a re-add of the original object still returns false (the cache's copy is the same session)", () => {
    const cache = new SessionCache();
    const a = session(1, 100, 10);
    cache.add(a);
    assert.equal(cache.setTime(a.id, 5), true);
    assert.equal(cache.add(a), false);
    assert.equal(cache.size, 1);
  });

  it("after setTimeout() a re-add of the original object, or of the cache's copy, returns false", () => {
    const cache = new SessionCache();
    const a = session(1, 100, 10);
    cache.add(a);
    cache.setTimeout(a.id, 50);
    const copy = cache.get(a.id);
    assert.ok(copy);
    assert.notEqual(copy, a);
    assert.equal(cache.add(a), false);
    assert.equal(cache.add(copy), false);
  });

  it("a re-add after setTime() keeps the cache's re-timed copy and moves it to the end of its tie group", () => {
    // In OpenSSL set_time mutates the one cached object, so re-adding it keeps the new time;
    // here the cache keeps its updated copy rather than the caller's (unchanged) object.
    const cache = new SessionCache();
    const a = session(1, 100, 10);
    cache.add(a);
    cache.add(session(2, 0, 15)); // expires 15, like a after setTime(a, 5)
    cache.setTime(a.id, 5);
    assert.deepEqual(ids(cache), [2, 1]);
    cache.add(session(3, 0, 15));
    assert.equal(cache.add(a), false);
    assert.equal(cache.get(a.id)?.time, 5);
    assert.deepEqual(ids(cache), [2, 3, 1]);
  });

  it("remove() returns true when the key was cached, false otherwise", () => {
    const cache = new SessionCache();
    const a = session(1, 100, 10);
    cache.add(a);
    assert.equal(cache.remove(a), true);
    assert.equal(cache.remove(a), false);
    assert.equal(cache.size, 0);
  });

  it("remove() removes by key: another object with the same id and version removes the cached one", () => {
    const seen: Session[] = [];
    const cache = new SessionCache({ onRemoveSession: (s) => seen.push(s) });
    const a = session(1, 100, 10);
    const lookalike = session(1, 999, 1);
    cache.add(a);
    assert.equal(cache.remove(lookalike), true);
    assert.equal(cache.size, 0);
    assert.deepEqual(seen, [lookalike], "the callback gets the argument, not the cached object");
  });
});

describe("flush()", () => {
  it("flush() removes sessions whose expiry is before tm, soonest expiry first", () => {
    const cache = new SessionCache();
    cache.add(session(1, 100, 30)); // 130
    cache.add(session(2, 100, 10)); // 110
    cache.add(session(3, 100, 20)); // 120
    cache.add(session(4, 100, 40)); // 140
    assert.deepEqual(ids(cache.flush(131)), [2, 3, 1]);
    assert.deepEqual(ids(cache), [4]);
  });

  it("flush() keeps a session whose expiry equals tm", () => {
    const cache = new SessionCache();
    cache.add(session(1, 100, 10));
    assert.deepEqual(cache.flush(110), []);
    assert.equal(cache.size, 1);
  });

  it("flush(0) removes every session, even those that never expire", () => {
    const cache = new SessionCache();
    cache.add(session(1, 100, 10));
    cache.add(session(2, MAX_TIME, 10)); // OpenSSL 3.3: expiry saturates to "never"
    assert.deepEqual(ids(cache.flush(0)), [1, 2]);
    assert.equal(cache.size, 0);
  });

  it("flush() without tm uses the injected clock", () => {
    const clock = manualClock(105);
    const cache = new SessionCache({ now: clock.now });
    cache.add(session(1, 100, 10)); // 110
    assert.deepEqual(cache.flush(), []);
    clock.set(111);
    assert.deepEqual(ids(cache.flush()), [1]);
  });

  it("flush() never counts timeouts and works in any mode", () => {
    const cache = new SessionCache({ mode: SESS_CACHE_OFF });
    cache.add(session(1, 100, 10));
    cache.flush(200);
    assert.equal(cache.stats.timeouts, 0);
    assert.equal(cache.size, 0);
  });

  it("flush() returns a fresh array the caller may keep or change", () => {
    const cache = new SessionCache();
    cache.add(session(1, 100, 10));
    const out = cache.flush(0);
    out.push(session(9, 0, 0));
    assert.equal(cache.size, 0);
  });
});

describe("get(), setTime() and setTimeout()", () => {
  it("get() returns the cached session or undefined, counting nothing and ignoring expiry", () => {
    const cache = new SessionCache({ now: () => 10_000 });
    const a = session(1, 100, 10);
    cache.add(a);
    const before = { ...cache.stats };
    assert.equal(cache.get(a.id), a, "long expired, still returned");
    assert.equal(cache.get(sid(2)), undefined);
    assert.deepEqual({ ...cache.stats }, before);
    assert.equal(cache.size, 1);
  });

  it("get() of an empty or over-long id is a miss, not an error", () => {
    const cache = new SessionCache();
    assert.equal(cache.get(sid()), undefined);
    assert.equal(cache.get(new Uint8Array(33)), undefined);
  });

  it("setTime() returns true and re-sorts a cached session; false when the id is not cached", () => {
    const cache = new SessionCache();
    cache.add(session(1, 100, 10)); // 110
    cache.add(session(2, 100, 20)); // 120
    assert.equal(cache.setTime(sid(1), 200), true); // 210
    assert.deepEqual(ids(cache), [2, 1]);
    assert.equal(cache.get(sid(1))?.time, 200);
    assert.equal(cache.setTime(sid(3), 200), false);
    assert.equal(cache.size, 2);
  });

  it("setTimeout() returns true and re-sorts a cached session; false when the id is not cached", () => {
    const cache = new SessionCache();
    cache.add(session(1, 100, 10)); // 110
    cache.add(session(2, 100, 20)); // 120
    assert.equal(cache.setTimeout(sid(1), 50), true); // 150
    assert.deepEqual(ids(cache), [2, 1]);
    assert.equal(cache.get(sid(1))?.timeout, 50);
    assert.equal(cache.setTimeout(sid(3), 50), false);
  });

  it("setTime() to the same value moves the session to the end of its tie group", () => {
    const cache = new SessionCache();
    for (const id of [1, 2, 3]) cache.add(session(id, 100, 10));
    cache.setTime(sid(1), 100);
    assert.deepEqual(ids(cache), [2, 3, 1]);
  });

  it("setTime() and setTimeout() never change the caller's session object", () => {
    const cache = new SessionCache();
    const a = session(1, 100, 10);
    cache.add(a);
    cache.setTime(a.id, 1);
    cache.setTimeout(a.id, 2);
    assert.deepEqual([a.time, a.timeout], [100, 10]);
    assert.deepEqual([cache.get(a.id)?.time, cache.get(a.id)?.timeout], [1, 2]);
  });

  it("setTime() and setTimeout() call no callback", () => {
    let calls = 0;
    const cache = new SessionCache({ onRemoveSession: () => calls++, onNewSession: () => calls++ });
    cache.add(session(1, 100, 10));
    cache.setTime(sid(1), 0);
    cache.setTimeout(sid(1), 0);
    assert.equal(calls, 0);
  });
});

describe("keys: id and version", () => {
  it("the same id under two versions is two entries", () => {
    const cache = new SessionCache();
    const v12 = session(1, 100, 10, { version: 0x0303 });
    const v13 = session(1, 100, 20, { version: 0x0304 });
    assert.equal(cache.add(v12), true);
    assert.equal(cache.add(v13), true);
    assert.equal(cache.size, 2);
    assert.equal(cache.get(sid(1), { version: 0x0303 }), v12);
    assert.equal(cache.get(sid(1), { version: 0x0304 }), v13);
    assert.equal(cache.get(sid(1)), undefined, "no version means version 0");
  });

  it("an absent version and version 0 are the same key", () => {
    const cache = new SessionCache();
    const a = session(1, 100, 10);
    cache.add(a);
    assert.equal(cache.get(sid(1), { version: 0 }), a);
    assert.equal(cache.add(session(1, 100, 10, { version: 0 })), true);
    assert.equal(cache.size, 1, "replaced, not added beside it");
  });

  it("setTime(), setTimeout() and remove() act on the given version only", () => {
    const cache = new SessionCache();
    const v12 = session(1, 100, 10, { version: 0x0303 });
    const v13 = session(1, 100, 10, { version: 0x0304 });
    cache.add(v12);
    cache.add(v13);
    assert.equal(cache.setTime(sid(1), 500, { version: 0x0304 }), true);
    assert.equal(cache.get(sid(1), { version: 0x0303 })?.time, 100);
    assert.equal(cache.setTimeout(sid(1), 5, { version: 0x0303 }), true);
    assert.equal(cache.get(sid(1), { version: 0x0304 })?.timeout, 10);
    assert.equal(cache.setTime(sid(1), 500), false, "nothing under version 0");
    assert.equal(cache.remove(v12), true);
    assert.equal(cache.get(sid(1), { version: 0x0304 })?.time, 500);
  });

  it("ids are compared by bytes, not by object", () => {
    const cache = new SessionCache();
    cache.add({ id: sid(1, 2, 3), time: 100, timeout: 10 });
    assert.ok(cache.get(sid(1, 2, 3)));
    assert.equal(cache.get(sid(1, 2)), undefined);
    assert.equal(cache.get(sid(1, 2, 3, 0)), undefined);
  });
});

describe("lookup() and lookupSync(): the server's resumption path", () => {
  it("a hit counts hits and returns the cached session", async () => {
    const cache = new SessionCache({ now: () => 105 });
    const a = session(1, 100, 10);
    cache.add(a);
    assert.equal(await cache.lookup({ id: a.id }), a);
    assert.equal(cache.lookupSync({ id: a.id }), a);
    assert.deepEqual({ ...cache.stats }, statsWith({ number: 1, hits: 2 }));
  });

  it("a miss counts misses and returns undefined", async () => {
    const cache = new SessionCache({ now: () => 105 });
    assert.equal(await cache.lookup({ id: sid(1) }), undefined);
    assert.equal(cache.lookupSync({ id: sid(1) }), undefined);
    assert.deepEqual({ ...cache.stats }, statsWith({ misses: 2 }));
  });

  it("an expired session counts timeouts (not misses), is removed with the remove callback, and is not resumed", async () => {
    const removed: Session[] = [];
    const cache = new SessionCache({ now: () => 111, onRemoveSession: (s) => removed.push(s) });
    const a = session(1, 100, 10);
    cache.add(a);
    assert.equal(await cache.lookup({ id: a.id }), undefined);
    assert.deepEqual(removed, [a]);
    assert.equal(cache.size, 0);
    assert.deepEqual({ ...cache.stats }, statsWith({ timeouts: 1 }));
  });

  it("a session is still resumed at exactly its expiry", () => {
    const cache = new SessionCache({ now: () => 110 });
    const a = session(1, 100, 10);
    cache.add(a);
    assert.equal(cache.lookupSync({ id: a.id }), a);
  });

  it("a sidCtx mismatch is a silent miss: nothing counted, nothing removed, no external lookup", async () => {
    let asked = 0;
    const cache = new SessionCache({
      now: () => 105,
      getSession: () => {
        asked++;
        return undefined;
      },
    });
    const a = session(1, 100, 10, { sidCtx: sid(0xaa) });
    cache.add(a);
    const before = snapshot(cache);
    assert.equal(await cache.lookup({ id: a.id, sidCtx: sid(0xbb) }), undefined);
    assert.equal(
      await cache.lookup({ id: a.id }),
      undefined,
      "absent sidCtx is empty, which differs",
    );
    assert.deepEqual(snapshot(cache), before);
    assert.equal(asked, 0);
    assert.equal(await cache.lookup({ id: a.id, sidCtx: sid(0xaa) }), a);
  });

  it("a session without sidCtx is resumed under an absent or empty sidCtx", () => {
    const cache = new SessionCache({ now: () => 105 });
    const a = session(1, 100, 10);
    cache.add(a);
    assert.equal(cache.lookupSync({ id: a.id }), a);
    assert.equal(cache.lookupSync({ id: a.id, sidCtx: sid() }), a);
    assert.equal(cache.lookupSync({ id: a.id, sidCtx: sid(1) }), undefined);
  });

  it("lookup() under another version misses", () => {
    const cache = new SessionCache({ now: () => 105 });
    cache.add(session(1, 100, 10, { version: 0x0303 }));
    assert.equal(cache.lookupSync({ id: sid(1), version: 0x0304 }), undefined);
    assert.equal(cache.stats.misses, 1);
  });

  it("on an internal miss the external getSession is asked with id, version and sidCtx; its session counts a miss and a cbHit, is stored and resumed", async () => {
    const requests: unknown[] = [];
    const ext = session(9, 100, 10, { sidCtx: sid(5) });
    const cache = new SessionCache({
      now: () => 105,
      getSession: (request) => {
        requests.push(request);
        return ext;
      },
    });
    assert.equal(await cache.lookup({ id: ext.id, sidCtx: sid(5) }), ext);
    assert.deepEqual(requests, [{ id: ext.id, version: 0, sidCtx: sid(5) }]);
    assert.deepEqual({ ...cache.stats }, statsWith({ number: 1, misses: 1, cbHits: 1, hits: 1 }));
    assert.equal(cache.get(ext.id), ext);
  });

  it("lookup() awaits an async getSession", async () => {
    const ext = session(9, 100, 10);
    const cache = new SessionCache({
      now: () => 105,
      getSession: async () => {
        await Promise.resolve();
        return ext;
      },
    });
    assert.equal(await cache.lookup({ id: ext.id }), ext);
    assert.equal(cache.stats.cbHits, 1);
    assert.equal(cache.size, 1);
  });

  it("with NO_INTERNAL_STORE an external session is resumed but not stored", () => {
    const ext = session(9, 100, 10);
    const cache = new SessionCache({
      now: () => 105,
      mode: SESS_CACHE_SERVER | SESS_CACHE_NO_INTERNAL_STORE,
      getSession: () => ext,
    });
    assert.equal(cache.lookupSync({ id: ext.id }), ext);
    assert.equal(cache.size, 0);
    assert.equal(cache.stats.cbHits, 1);
  });

  it("an expired external session counts cbHits and timeouts and is not resumed", () => {
    const removed: Session[] = [];
    const ext = session(9, 100, 10);
    const cache = new SessionCache({
      now: () => 200,
      getSession: () => ext,
      onRemoveSession: (s) => removed.push(s),
    });
    assert.equal(cache.lookupSync({ id: ext.id }), undefined);
    assert.equal(cache.stats.cbHits, 1);
    assert.equal(cache.stats.timeouts, 1);
    assert.equal(cache.stats.hits, 0);
  });

  it("lookupSync() throws a TypeError when getSession returns a Promise", () => {
    const cache = new SessionCache({
      now: () => 105,
      getSession: () => Promise.resolve(undefined),
    });
    assert.throws(() => cache.lookupSync({ id: sid(1) }), {
      name: "TypeError",
      message: /^Cannot look up session synchronously: getSession must not return a Promise/,
    });
  });

  it("a getSession that throws is a miss, reported to onError", async () => {
    const errors: unknown[] = [];
    const boom = new Error("external cache down");
    const cache = new SessionCache({
      now: () => 105,
      getSession: () => {
        throw boom;
      },
      onError: (e) => errors.push(e),
    });
    assert.equal(cache.lookupSync({ id: sid(1) }), undefined);
    assert.equal(await cache.lookup({ id: sid(1) }), undefined);
    assert.deepEqual(errors, [boom, boom]);
    assert.deepEqual({ ...cache.stats }, statsWith({ misses: 2 }));
  });

  it("a getSession that rejects is a miss, reported to onError", async () => {
    const errors: unknown[] = [];
    const boom = new Error("external cache down");
    const cache = new SessionCache({
      now: () => 105,
      getSession: () => Promise.reject(boom),
      onError: (e) => errors.push(e),
    });
    assert.equal(await cache.lookup({ id: sid(1) }), undefined);
    assert.deepEqual(errors, [boom]);
    assert.equal(cache.size, 0);
  });

  it("a throwing getSession without onError is still just a miss", async () => {
    const cache = new SessionCache({
      now: () => 105,
      getSession: () => {
        throw new Error("down");
      },
    });
    assert.equal(cache.lookupSync({ id: sid(1) }), undefined);
    assert.equal(await cache.lookup({ id: sid(1) }), undefined);
  });

  it("an invalid session from getSession is reported to onError and treated as a miss", () => {
    const errors: unknown[] = [];
    const cache = new SessionCache({
      now: () => 105,
      getSession: () => ({ id: sid(), time: 1, timeout: 1 }),
      onError: (e) => errors.push(e),
    });
    assert.equal(cache.lookupSync({ id: sid(1) }), undefined);
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof RangeError);
    assert.equal(cache.size, 0);
  });
});

describe("handshakeStarted() and handshakeCompleted()", () => {
  it("handshakeStarted() counts accept / connect and their renegotiations", () => {
    const cache = new SessionCache();
    cache.handshakeStarted("server");
    cache.handshakeStarted("server", { renegotiate: true });
    cache.handshakeStarted("client");
    cache.handshakeStarted("client", { renegotiate: true });
    cache.handshakeStarted("client", { renegotiate: true });
    const s = cache.stats;
    assert.equal(s.accept + s.acceptRenegotiate, 2);
    assert.equal(s.connect + s.connectRenegotiate, 3);
    assert.equal(s.acceptRenegotiate, 1);
    assert.equal(s.connectRenegotiate, 2);
  });

  it("a server's full handshake stores its session and calls onNewSession(session, cache)", () => {
    const calls: [Session, SessionCache][] = [];
    const cache = new SessionCache({ now: () => 100, onNewSession: (s, c) => calls.push([s, c]) });
    const a = session(1, 100, 300);
    cache.handshakeCompleted({ side: "server", session: a, resumed: false });
    assert.equal(calls.length, 1);
    assert.equal(calls[0]![0], a);
    assert.equal(calls[0]![1], cache);
    assert.equal(cache.get(a.id), a);
    assert.equal(cache.stats.acceptGood, 1);
  });

  it("inside onNewSession the session is already cached", () => {
    let seen: Session | undefined;
    const cache = new SessionCache({
      now: () => 100,
      onNewSession: (s, c) => (seen = c.get(s.id)),
    });
    const a = session(1, 100, 300);
    cache.handshakeCompleted({ side: "server", session: a, resumed: false });
    assert.equal(seen, a);
  });

  it("a TLS 1.2 resumption stores nothing and calls no onNewSession", () => {
    let calls = 0;
    const cache = new SessionCache({ now: () => 100, onNewSession: () => calls++ });
    const a = session(1, 100, 300);
    cache.handshakeCompleted({ side: "server", session: a, resumed: true });
    assert.equal(calls, 0);
    assert.equal(cache.size, 0);
    assert.equal(cache.stats.acceptGood, 1);
  });

  it("a TLS 1.3 server handshake, even a resumption, stores its session and calls onNewSession (spec §5)", () => {
    const stored: Session[] = [];
    const cache = new SessionCache({ now: () => 100, onNewSession: (s) => stored.push(s) });
    const full = session(1, 100, 300, { version: 0x0304 });
    const resumedWithNew = session(2, 100, 300, { version: 0x0304 });
    cache.handshakeCompleted({ side: "server", session: full, resumed: false, tls13: true });
    cache.handshakeCompleted({
      side: "server",
      session: resumedWithNew,
      resumed: true,
      tls13: true,
    });
    assert.deepEqual(stored, [full, resumedWithNew]);
    assert.equal(cache.size, 2);
  });

  it("with NO_INTERNAL_STORE a new session is announced but not stored", () => {
    const stored: Session[] = [];
    const cache = new SessionCache({
      now: () => 100,
      mode: SESS_CACHE_SERVER | SESS_CACHE_NO_INTERNAL_STORE,
      onNewSession: (s) => stored.push(s),
    });
    const a = session(1, 100, 300);
    cache.handshakeCompleted({ side: "server", session: a, resumed: false });
    assert.deepEqual(stored, [a]);
    assert.equal(cache.size, 0);
  });

  it("a side whose bit is not in the mode stores and announces nothing, but still counts", () => {
    let calls = 0;
    const cache = new SessionCache({
      now: () => 100,
      mode: SESS_CACHE_SERVER,
      onNewSession: () => calls++,
    });
    cache.handshakeCompleted({ side: "client", session: session(1, 100, 300), resumed: false });
    assert.equal(calls, 0);
    assert.equal(cache.size, 0);
    assert.equal(cache.stats.connectGood, 1);
  });

  it("a client's full TLS 1.2 handshake is stored in a client cache; a resumption counts hits", () => {
    const cache = new SessionCache({ now: () => 100, mode: SESS_CACHE_CLIENT });
    const a = session(1, 100, 300, { version: 0x0303 });
    cache.handshakeCompleted({ side: "client", session: a, resumed: false });
    cache.handshakeCompleted({ side: "client", session: a, resumed: true });
    assert.equal(cache.size, 1);
    assert.equal(cache.stats.hits, 1);
    assert.equal(cache.stats.connectGood, 2);
  });

  it("a client's TLS 1.3 handshake removes its session from a client cache (tickets are used once)", () => {
    const removed: Session[] = [];
    const cache = new SessionCache({
      now: () => 100,
      mode: SESS_CACHE_CLIENT,
      onRemoveSession: (s) => removed.push(s),
    });
    const a = session(1, 100, 300, { version: 0x0304 });
    cache.add(a);
    cache.handshakeCompleted({ side: "client", session: a, resumed: true, tls13: true });
    assert.equal(cache.size, 0);
    assert.deepEqual(removed, [a]);
    assert.equal(cache.stats.hits, 1);
  });

  it("a handshake without a session only counts", () => {
    const cache = new SessionCache({ now: () => 100 });
    cache.handshakeCompleted({ side: "server", resumed: false });
    assert.equal(cache.size, 0);
    assert.equal(cache.stats.acceptGood, 1);
  });

  it("the 256th completed server handshake flushes expired sessions at now(), and so does the 512th", () => {
    const clock = manualClock(1_000);
    const removed: Session[] = [];
    const cache = new SessionCache({ now: clock.now, onRemoveSession: (s) => removed.push(s) });
    cache.add(session(1, 1_000, 10)); // expires 1010
    const complete = (n: number) =>
      cache.handshakeCompleted({
        side: "server",
        session: { id: nid(1000 + n), time: clock.now(), timeout: 100_000 },
        resumed: false,
      });

    for (let n = 1; n <= 255; n++) {
      if (n === 200) clock.set(2_000); // session 01 is expired from here on
      complete(n);
    }
    assert.equal(cache.stats.acceptGood, 255);
    assert.ok(cache.get(sid(1)), "no flush during the first 255 handshakes");
    assert.deepEqual(removed, []);

    complete(256);
    assert.equal(cache.get(sid(1)), undefined, "flushed during the 256th");
    assert.deepEqual(ids(removed), [1]);
    assert.equal(cache.stats.acceptGood, 256);
    assert.equal(cache.stats.timeouts, 0);

    cache.add(session(2, 2_000, 10)); // expires 2010
    clock.set(3_000);
    for (let n = 257; n <= 511; n++) complete(n);
    assert.ok(cache.get(sid(2)));
    complete(512);
    assert.equal(cache.get(sid(2)), undefined, "flushed during the 512th");
    assert.deepEqual(ids(removed), [1, 2]);
  });

  it("NO_AUTO_CLEAR turns the auto-flush off", () => {
    const clock = manualClock(2_000);
    const cache = new SessionCache({
      now: clock.now,
      mode: SESS_CACHE_SERVER | SESS_CACHE_NO_AUTO_CLEAR,
    });
    cache.add(session(1, 1_000, 10));
    for (let n = 1; n <= 300; n++) cache.handshakeCompleted({ side: "server", resumed: false });
    assert.ok(cache.get(sid(1)));
  });

  it("the auto-flush runs after onNewSession, so the new session is announced before the flushed ones", () => {
    const clock = manualClock(2_000);
    const events: string[] = [];
    const cache = new SessionCache({
      now: clock.now,
      onNewSession: (s) => events.push(`new ${ids([s])}`),
      onRemoveSession: (s) => events.push(`remove ${ids([s])}`),
    });
    for (let n = 1; n <= 255; n++) cache.handshakeCompleted({ side: "server", resumed: false });
    cache.add(session(1, 1_000, 10));
    cache.handshakeCompleted({ side: "server", session: session(2, 2_000, 300), resumed: false });
    assert.deepEqual(events, ["new 2", "remove 1"]);
  });
});

describe("stats", () => {
  it("stats is a snapshot: it does not change after later operations", () => {
    const cache = new SessionCache({ now: () => 105 });
    const before = cache.stats;
    cache.add(session(1, 100, 10));
    cache.lookupSync({ id: sid(1) });
    cache.lookupSync({ id: sid(2) });
    assert.deepEqual({ ...before }, statsWith());
    assert.deepEqual({ ...cache.stats }, statsWith({ number: 1, hits: 1, misses: 1 }));
  });

  it("stats is a plain object with the twelve counters, and changing it cannot change the cache", () => {
    const cache = new SessionCache();
    cache.add(session(1, 100, 10));
    const stats = cache.stats;
    assert.equal(Object.getPrototypeOf(stats), Object.prototype);
    assert.deepEqual(Object.keys(stats).sort(), Object.keys(statsWith()).sort());
    try {
      (stats as { number: number }).number = 99;
    } catch {
      // a frozen snapshot refuses the write: also fine
    }
    assert.equal(cache.stats.number, 1);
    assert.equal(cache.size, 1);
  });

  it("number follows the size", () => {
    const cache = new SessionCache();
    cache.add(session(1, 100, 10));
    cache.add(session(2, 100, 10));
    assert.equal(cache.stats.number, 2);
    cache.remove(session(1, 100, 10));
    assert.equal(cache.stats.number, 1);
    assert.equal(cache.size, 1);
  });
});

describe("iteration", () => {
  it("[...cache] lists sessions soonest expiry first, ties in insertion order", () => {
    const cache = new SessionCache();
    cache.add(session(1, 100, 20)); // 120
    cache.add(session(2, 100, 10)); // 110
    cache.add(session(3, 105, 15)); // 120
    cache.add(session(4, 90, 20)); // 110
    assert.deepEqual(ids(cache), [2, 4, 1, 3]);
  });

  it("sessions that never expire come last", () => {
    const cache = new SessionCache();
    cache.add(session(1, MAX_TIME, 1));
    cache.add(session(2, 100, 10));
    assert.deepEqual(ids(cache), [2, 1]);
  });

  it("iterating while changing the cache sees the cache as it was when iteration began", () => {
    const cache = new SessionCache();
    for (const id of [1, 2, 3]) cache.add(session(id, 100, id));
    const seen: number[] = [];
    for (const s of cache) {
      seen.push(s.id[0]!);
      cache.remove(s);
      cache.add(session(10 + s.id[0]!, 100, 100));
    }
    assert.deepEqual(seen, [1, 2, 3]);
    assert.deepEqual(ids(cache), [11, 12, 13]);
  });
});

describe("settings", () => {
  it("cacheSize can be changed; shrinking evicts nothing until the next add", () => {
    const cache = new SessionCache();
    for (const id of [1, 2, 3]) cache.add(session(id, 100, id));
    cache.cacheSize = 2;
    assert.equal(cache.cacheSize, 2);
    assert.equal(cache.size, 3);
    cache.add(session(4, 100, 4));
    assert.deepEqual(ids(cache), [4]);
  });

  it("cacheSize 0 means unlimited", () => {
    const cache = new SessionCache({ cacheSize: 0 });
    for (let n = 0; n < 100; n++) cache.add({ id: nid(n), time: 100, timeout: 10 });
    assert.equal(cache.size, 100);
    assert.equal(cache.stats.cacheFull, 0);
  });

  it("mode can be changed and takes effect at once", () => {
    const cache = new SessionCache({ now: () => 100 });
    cache.mode = SESS_CACHE_OFF;
    assert.equal(cache.mode, SESS_CACHE_OFF);
    cache.handshakeCompleted({ side: "server", session: session(1, 100, 10), resumed: false });
    assert.equal(cache.size, 0);
    cache.mode = SESS_CACHE_SERVER;
    cache.handshakeCompleted({ side: "server", session: session(1, 100, 10), resumed: false });
    assert.equal(cache.size, 1);
  });

  it("timeout can be changed and does not touch cached sessions", () => {
    const cache = new SessionCache();
    cache.add(session(1, 100, 10));
    cache.timeout = 300;
    assert.equal(cache.timeout, 300);
    assert.equal(cache.get(sid(1))?.timeout, 10);
  });
});

describe("callbacks", () => {
  it("run after the change is committed: inside onRemoveSession the cache already reflects the whole flush", () => {
    const views: { id: number; cached: boolean; size: number }[] = [];
    const cache = new SessionCache({
      onRemoveSession: (s, c) =>
        views.push({ id: s.id[0]!, cached: c.get(s.id) !== undefined, size: c.size }),
    });
    for (const id of [1, 2, 3]) cache.add(session(id, 100, id));
    cache.flush(0);
    assert.deepEqual(views, [
      { id: 1, cached: false, size: 0 },
      { id: 2, cached: false, size: 0 },
      { id: 3, cached: false, size: 0 },
    ]);
  });

  it("inside an eviction's onRemoveSession the new session is already cached", () => {
    let sawNew: boolean | undefined;
    const cache = new SessionCache({
      cacheSize: 2,
      onRemoveSession: (_s, c) => (sawNew = c.get(sid(2)) !== undefined),
    });
    cache.add(session(1, 100, 10));
    cache.add(session(2, 100, 20));
    assert.equal(sawNew, true);
  });

  it("inside onRemoveSession from remove() the session is gone", () => {
    let inside: boolean | undefined;
    const cache = new SessionCache({
      onRemoveSession: (s, c) => (inside = c.get(s.id) !== undefined),
    });
    const a = session(1, 100, 10);
    cache.add(a);
    cache.remove(a);
    assert.equal(inside, false);
  });

  it("when callbacks throw, every callback still runs, the cache stays consistent, and the first error is rethrown", () => {
    const first = new Error("first");
    const second = new Error("second");
    const called: number[] = [];
    const cache = new SessionCache({
      onRemoveSession: (s) => {
        called.push(s.id[0]!);
        if (s.id[0] === 1) throw first;
        if (s.id[0] === 2) throw second;
      },
    });
    for (const id of [1, 2, 3]) cache.add(session(id, 100, id));
    assert.throws(() => cache.flush(0), (e) => e === first);
    assert.deepEqual(called, [1, 2, 3]);
    assert.equal(cache.size, 0);
    assert.deepEqual([...cache], []);
    assert.equal(cache.stats.number, 0);
    // and the cache goes on working
    assert.equal(cache.add(session(4, 100, 10)), true);
  });

  it("a throwing onRemoveSession during add() still leaves the session added", () => {
    const cache = new SessionCache({
      cacheSize: 2,
      onRemoveSession: () => {
        throw new Error("callback");
      },
    });
    cache.add(session(1, 100, 10));
    assert.throws(() => cache.add(session(2, 100, 20)), /callback/);
    assert.deepEqual(ids(cache), [2]);
    assert.equal(cache.stats.cacheFull, 1);
  });

  it("a throwing onRemoveSession during remove() still leaves the session removed", () => {
    const cache = new SessionCache({
      onRemoveSession: () => {
        throw new Error("callback");
      },
    });
    const a = session(1, 100, 10);
    cache.add(a);
    assert.throws(() => cache.remove(a), /callback/);
    assert.equal(cache.size, 0);
  });

  it("a throwing onNewSession still leaves the session stored, the handshake counted and the auto-flush done", () => {
    const clock = manualClock(2_000);
    const removed: Session[] = [];
    const cache = new SessionCache({
      now: clock.now,
      onNewSession: () => {
        throw new Error("new");
      },
      onRemoveSession: (s) => removed.push(s),
    });
    for (let n = 1; n <= 255; n++) cache.handshakeCompleted({ side: "server", resumed: false });
    cache.add(session(1, 1_000, 10));
    assert.throws(
      () =>
        cache.handshakeCompleted({
          side: "server",
          session: session(2, 2_000, 300),
          resumed: false,
        }),
      /new/,
    );
    assert.ok(cache.get(sid(2)));
    assert.equal(cache.stats.acceptGood, 256);
    assert.deepEqual(ids(removed), [1], "the remove callback after the throwing one still ran");
  });

  it("a throwing onRemoveSession during a lookup of an expired session: the session is removed and the error rethrown", () => {
    const cache = new SessionCache({
      now: () => 200,
      onRemoveSession: () => {
        throw new Error("callback");
      },
    });
    cache.add(session(1, 100, 10));
    assert.throws(() => cache.lookupSync({ id: sid(1) }), /callback/);
    assert.equal(cache.size, 0);
    assert.equal(cache.stats.timeouts, 1);
  });
});

describe("re-entrancy: callbacks may call back into the cache", () => {
  // Observed policy (src/session_cache.ts): the outer operation has committed before its first
  // callback runs; a re-entrant call applies at once (its own callbacks run inside it, nested);
  // the outer operation's remaining callbacks still run afterwards with the sessions it removed;
  // its return value is what it removed, not what the nested calls did.
  it("a flush callback that adds, removes and flushes: every change applies and the results are consistent", () => {
    const log: string[] = [];
    let reentered = false;
    const cache = new SessionCache({
      onRemoveSession: (s, c) => {
        log.push(`remove ${ids([s])}`);
        if (!reentered) {
          reentered = true;
          c.add(session(10, 500, 100)); // expires 600: survives the outer flush(200)
          c.remove(session(3, 100, 3)); // still cached? no: the outer flush removed it already
          c.add(session(11, 100, 10)); // expires 110: only a nested flush removes it
          log.push(`nested flush ${ids(c.flush(150))}`);
        }
      },
    });
    for (const id of [1, 2, 3]) cache.add(session(id, 100, id));
    cache.add(session(4, 1_000, 1)); // expires 1001: survives everything

    const out = cache.flush(200);
    assert.deepEqual(ids(out), [1, 2, 3], "the outer flush reports only what it removed");
    assert.deepEqual(log, [
      "remove 1",
      "remove 3", // from the nested remove(): the callback always fires with the argument
      "remove 11", // from the nested flush, inside the first outer callback
      "nested flush 11",
      "remove 2",
      "remove 3",
    ]);
    assert.deepEqual(ids(cache), [10, 4]);
    assert.equal(cache.size, 2);
    assert.equal(cache.stats.number, 2);
  });

  it("a remove callback that re-adds the removed session keeps it cached", () => {
    const cache = new SessionCache({
      onRemoveSession: (s, c) => {
        if (s.id[0] === 1) c.add(s);
      },
    });
    cache.add(session(1, 100, 10));
    cache.add(session(2, 100, 20));
    assert.deepEqual(ids(cache.flush(0)), [1, 2]);
    assert.deepEqual(ids(cache), [1]);
  });

  it("an eviction callback that adds more sessions may cause nested evictions, and the size limit still holds", () => {
    const evicted: number[] = [];
    let extra = 20;
    const cache = new SessionCache({
      cacheSize: 3,
      onRemoveSession: (s, c) => {
        evicted.push(s.id[0]!);
        if (extra < 22) c.add(session(extra++, 100, 100));
      },
    });
    for (let id = 1; id <= 4; id++) cache.add(session(id, 100, id));
    assert.ok(cache.size <= 2);
    assert.equal(cache.stats.cacheFull, evicted.length);
    assert.equal(cache.size, [...cache].length);
  });

  it("onNewSession may look the new session up and change its timeout", () => {
    const cache = new SessionCache({
      now: () => 100,
      onNewSession: (s, c) => {
        c.setTimeout(s.id, 42);
      },
    });
    cache.handshakeCompleted({ side: "server", session: session(1, 100, 300), resumed: false });
    assert.equal(cache.get(sid(1))?.timeout, 42);
  });
});
