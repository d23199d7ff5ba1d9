// Ports of OpenSSL's own tests of the session cache (test/sslapitest.c, OpenSSL 3.3.2), with the
// same numbers, driven through the SessionCache shell (the SSL_CTX analog). Spec §9.
//
// Where sslapitest.c mutates an SSL_SESSION that sits in the cache (SSL_SESSION_set_time on a
// cached session re-sorts it), the port calls cache.setTime / cache.setTimeout instead: sessions
// are immutable values here, and the cache keeps the re-timed copy.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MAX_TIME, SessionCache } from "../../mod.ts";
import type { Session } from "../../mod.ts";
import {
  SESS_CACHE_CLIENT,
  SESS_CACHE_NO_INTERNAL_LOOKUP,
  SESS_CACHE_SERVER,
  SESS_CACHE_UPDATE_TIME,
} from "../../mod.ts";
import { ids, manualClock, nid } from "../_helpers.ts";

/** SSL3_SSL_SESSION_ID_LENGTH: sslapitest.c fills 32-byte ids with one repeated byte. */
function id32(byte: number): Uint8Array {
  return new Uint8Array(32).fill(byte);
}

/** The repeated byte of each 32-byte id, in order. */
function fills(sessions: Iterable<Session>): number[] {
  return Array.from(sessions, (s) => s.id[0] ?? -1);
}

/** A session as SSL_SESSION_new() makes it: time now, 304 s timeout. */
function newSession(id: Uint8Array, now: number): Session {
  return { id, time: now, timeout: 304 };
}

describe("test_session_timeout (sslapitest.c)", () => {
  const now = 1_700_000_000;
  const TIMEOUT = 10;

  function setUp() {
    const removed: Session[] = [];
    const cache = new SessionCache({
      now: () => now,
      onRemoveSession: (s) => removed.push(s),
    });
    const early = newSession(id32(1), now);
    const middle = newSession(id32(2), now);
    const late = newSession(id32(3), now);
    assert.equal(cache.add(early), true);
    assert.equal(cache.add(middle), true);
    assert.equal(cache.add(late), true);
    assert.equal(cache.size, 3);

    // SSL_SESSION_set_time / SSL_SESSION_set_timeout on the cached sessions.
    assert.equal(cache.setTime(early.id, now - 10), true);
    assert.equal(cache.setTime(middle.id, now), true);
    assert.equal(cache.setTime(late.id, now + 10), true);
    assert.equal(cache.setTimeout(early.id, TIMEOUT), true);
    assert.equal(cache.setTimeout(middle.id, TIMEOUT), true);
    assert.equal(cache.setTimeout(late.id, TIMEOUT), true);
    return { cache, removed, early, middle, late };
  }

  it("set_time and set_timeout keep all three cached, ordered early, middle, late", () => {
    const { cache, removed } = setUp();
    assert.equal(cache.size, 3);
    assert.deepEqual(removed, []);
    // OpenSSL's list head->tail is late, middle, early; iteration is soonest expiry first.
    assert.deepEqual(fills(cache), [1, 2, 3]);
    assert.deepEqual(
      [...cache].map((s) => [s.time, s.timeout]),
      [[now - 10, TIMEOUT], [now, TIMEOUT], [now + 10, TIMEOUT]],
    );
  });

  it("flush(now + TIMEOUT - 1) removes early, flush(now + TIMEOUT + 1) middle, flush(now + TIMEOUT + 11) late", () => {
    const { cache, removed } = setUp();

    assert.deepEqual(fills(cache.flush(now + TIMEOUT - 1)), [1]);
    assert.deepEqual(fills(cache), [2, 3]);

    assert.deepEqual(fills(cache.flush(now + TIMEOUT + 1)), [2]);
    assert.deepEqual(fills(cache), [3]);

    assert.deepEqual(fills(cache.flush(now + TIMEOUT + 11)), [3]);
    assert.equal(cache.size, 0);

    assert.deepEqual(fills(removed), [1, 2, 3]);
    assert.equal(cache.stats.timeouts, 0, "flush never counts timeouts");
  });

  it("the flushed sessions can be added back (each add returns true) and flush(0) removes them all", () => {
    const { cache, removed } = setUp();
    const flushed = [
      ...cache.flush(now + TIMEOUT - 1),
      ...cache.flush(now + TIMEOUT + 1),
      ...cache.flush(now + TIMEOUT + 11),
    ];
    assert.equal(flushed.length, 3);
    for (const s of flushed) assert.equal(cache.add(s), true);
    assert.equal(cache.size, 3);

    removed.length = 0;
    assert.deepEqual(fills(cache.flush(0)), [1, 2, 3]);
    assert.equal(cache.size, 0);
    assert.deepEqual(fills(removed), [1, 2, 3]);
  });

  it("with UPDATE_TIME, adding a session sets its time to now", () => {
    const clock = manualClock(now);
    const cache = new SessionCache({ now: clock.now });
    cache.mode = SESS_CACHE_UPDATE_TIME | cache.mode;
    assert.equal(cache.mode, SESS_CACHE_SERVER | SESS_CACHE_UPDATE_TIME);

    // "make sure |now| is NOT equal to the current time"
    const early: Session = { id: id32(1), time: now - 10, timeout: TIMEOUT };
    assert.equal(cache.add(early), true);
    const cached = cache.get(early.id);
    assert.ok(cached);
    assert.notEqual(cached.time, now - 10);
    assert.equal(cached.time, now);
    assert.equal(cached.timeout, TIMEOUT);
    assert.equal(early.time, now - 10, "the argument itself is not mutated");
  });

  it("with UPDATE_TIME, re-adding the same session returns false and still refreshes its time", () => {
    const clock = manualClock(now);
    const cache = new SessionCache({
      now: clock.now,
      mode: SESS_CACHE_SERVER | SESS_CACHE_UPDATE_TIME,
    });
    const early: Session = { id: id32(1), time: now - 10, timeout: TIMEOUT };
    assert.equal(cache.add(early), true);
    clock.advance(5);
    assert.equal(cache.add(early), false);
    assert.equal(cache.get(early.id)?.time, now + 5);
    assert.equal(cache.size, 1);
  });
});

describe("execute_test_session (sslapitest.c, cache parts)", () => {
  it("a client session stored by a handshake is announced once; re-adding it returns false and removes nothing", () => {
    const clock = manualClock(1_000);
    let newCalled = 0;
    let removeCalled = 0;
    const cache = new SessionCache({
      mode: SESS_CACHE_CLIENT,
      now: clock.now,
      onNewSession: () => newCalled++,
      onRemoveSession: () => removeCalled++,
    });
    const sess1: Session = { id: nid(1), time: 1_000, timeout: 7200, version: 0x0303 };
    cache.handshakeStarted("client");
    cache.handshakeCompleted({ side: "client", session: sess1, resumed: false });
    assert.equal(newCalled, 1);
    assert.equal(cache.size, 1);

    // "Should fail because it should already be in the cache"
    assert.equal(cache.add(sess1), false);
    assert.equal(removeCalled, 0);
    assert.equal(cache.size, 1);
  });

  it("a TLS 1.2 resumption on the client adds and removes nothing", () => {
    const clock = manualClock(1_000);
    let newCalled = 0;
    let removeCalled = 0;
    const cache = new SessionCache({
      mode: SESS_CACHE_CLIENT,
      now: clock.now,
      onNewSession: () => newCalled++,
      onRemoveSession: () => removeCalled++,
    });
    const sess1: Session = { id: nid(1), time: 1_000, timeout: 7200, version: 0x0303 };
    cache.handshakeCompleted({ side: "client", session: sess1, resumed: false });
    newCalled = 0;
    cache.handshakeCompleted({ side: "client", session: sess1, resumed: true });
    assert.equal(newCalled, 0);
    assert.equal(removeCalled, 0);
    assert.equal(cache.stats.hits, 1);
    assert.equal(cache.stats.connectGood, 2);
  });

  it("adding a session not yet cached returns true and removing it returns true", () => {
    const cache = new SessionCache({ mode: SESS_CACHE_CLIENT });
    const sess2: Session = { id: nid(2), time: 1_000, timeout: 7200 };
    assert.equal(cache.add(sess2), true);
    assert.equal(cache.remove(sess2), true);
    assert.equal(cache.size, 0);
  });

  it("removing a session that is no longer cached returns false, yet the remove callback still fires", () => {
    let removeCalled = 0;
    const seen: Session[] = [];
    const cache = new SessionCache({
      mode: SESS_CACHE_CLIENT,
      onRemoveSession: (s) => {
        removeCalled++;
        seen.push(s);
      },
    });
    const sess2: Session = { id: nid(2), time: 1_000, timeout: 7200 };
    cache.add(sess2);
    cache.remove(sess2);
    removeCalled = 0;
    seen.length = 0;

    // "This shouldn't be in the cache so should fail"
    assert.equal(cache.remove(sess2), false);
    assert.equal(removeCalled, 1);
    assert.equal(seen[0], sess2, "the callback receives the very object passed in");
  });

  it("with cache size 1, adding the session expiring at 2000 last keeps it and evicts the one expiring at 4000", () => {
    // sslapitest.c: set_time(sess1, 1000), set_timeout(sess1, 1000), set_time(sess2, 2000),
    // set_timeout(sess2, 2000); cache size 1; add sess1, add sess2, then add sess1 must succeed
    // and leave sess1 (not sess2) cached, "despite the timeouts".
    const removed: Session[] = [];
    const cache = new SessionCache({ onRemoveSession: (s) => removed.push(s) });
    const sess1: Session = { id: nid(1), time: 1000, timeout: 1000 };
    const sess2: Session = { id: nid(2), time: 2000, timeout: 2000 };
    cache.cacheSize = 1;

    cache.add(sess1); // "Don't care about results - cache should only be sess2 at end"
    cache.add(sess2);
    assert.deepEqual(ids(cache), [2]);

    assert.equal(cache.add(sess1), true);
    assert.equal(cache.get(sess1.id), sess1);
    assert.equal(cache.get(sess2.id), undefined);
    assert.deepEqual(ids(removed), [1, 2]);
    assert.equal(cache.stats.cacheFull, 2);
  });

  it("with cache size 1 and the client's and server's copies of one TLS 1.2 session (same id), the last add replaces silently", () => {
    // In the TLS 1.2 run of the real test, sess1 (client copy) and sess2 (server copy) share
    // their session id: the adds are replacements, not evictions (spec §3).
    const removed: Session[] = [];
    const cache = new SessionCache({ onRemoveSession: (s) => removed.push(s) });
    const sess1: Session = { id: nid(7), time: 1000, timeout: 1000, version: 0x0303 };
    const sess2: Session = { id: nid(7), time: 2000, timeout: 2000, version: 0x0303 };
    cache.cacheSize = 1;
    cache.add(sess1);
    cache.add(sess2);
    assert.equal(cache.add(sess1), true);
    assert.equal(cache.get(sess1.id, { version: 0x0303 }), sess1);
    assert.equal(cache.size, 1);
    assert.deepEqual(removed, [], "a replaced session gets no remove callback");
    assert.equal(cache.stats.cacheFull, 0);
  });
});

describe("test_multi_resume (sslapitest.c)", () => {
  // Server side: cache size 5; thirty rounds of one full handshake followed by two resumptions.
  // The server looks the client's session up (lookup), then reports the completed handshake.
  async function run(tls13: boolean) {
    const clock = manualClock(1_000);
    const cache = new SessionCache({ now: clock.now });
    cache.cacheSize = 5;
    let next = 1;
    let sess: Session | undefined;
    const sizes: number[] = [];

    for (let i = 0; i < 30; i++) {
      clock.advance(1);
      cache.handshakeStarted("server");
      const resumedFrom = sess === undefined
        ? undefined
        : await cache.lookup({ id: sess.id, version: tls13 ? 0x0304 : 0x0303 });
      if (sess === undefined) {
        assert.equal(resumedFrom, undefined);
      } else {
        assert.equal(resumedFrom, sess, `round ${i} resumes`);
      }
      const resumed = resumedFrom !== undefined;
      // A full handshake makes a new session; a TLS 1.3 resumption makes a new one too.
      const session: Session = resumed && !tls13
        ? resumedFrom
        : { id: nid(next++), time: clock.now(), timeout: 7200, version: tls13 ? 0x0304 : 0x0303 };
      cache.handshakeCompleted({ side: "server", session, resumed, tls13 });
      sizes.push(cache.size);

      // "Do a full handshake, followed by two resumptions"
      sess = i % 3 === 2 ? undefined : session;
    }
    return { cache, sizes, made: next - 1 };
  }

  it("TLS 1.2: never more than 4 sessions cached (OpenSSL asserts at most 5)", async () => {
    const { cache, sizes, made } = await run(false);
    assert.equal(made, 10);
    assert.ok(sizes.every((n) => n <= 5));
    assert.equal(Math.max(...sizes), 4);
    assert.equal(cache.size, 4);
    assert.equal(cache.stats.hits, 20);
    assert.equal(cache.stats.misses, 0);
    assert.equal(cache.stats.cacheFull, 6);
    assert.equal(cache.stats.accept, 30);
    assert.equal(cache.stats.acceptGood, 30);
  });

  it("TLS 1.3 (stateful tickets): every handshake stores a new session, still never more than 4", async () => {
    const { cache, sizes, made } = await run(true);
    assert.equal(made, 30);
    assert.ok(sizes.every((n) => n <= 5));
    assert.equal(Math.max(...sizes), 4);
    assert.equal(cache.size, 4);
    assert.equal(cache.stats.hits, 20);
    assert.equal(cache.stats.cacheFull, 26);
    assert.deepEqual(ids(cache), [27, 28, 29, 30], "the four latest-expiring sessions remain");
  });
});

describe("test_session_cache_overflow (sslapitest.c)", () => {
  // idx 0: TLS 1.3, new session expires later than the old one; 1: TLS 1.2, later;
  // 2: TLS 1.3, new session expires earlier (old one's timeout set to LONG_MAX); 3: TLS 1.2, earlier.
  // On 3.3, SSL_SESSION_set_timeout(s, LONG_MAX) wraps to 2^64 - 10^9 ns, and time + timeout
  // saturates to "never". The cache refuses timeouts above MAX_TIME; MAX_TIME itself saturates
  // the same way.
  const LONG_MAX = MAX_TIME;

  for (const idx of [0, 1, 2, 3]) {
    const tls13 = idx % 2 === 0;
    const version = tls13 ? 0x0304 : 0x0303;
    it(`test ${idx}: a size-1 cache that overflows still resumes the session the external callback supplies`, async () => {
      const clock = manualClock(1_000);
      let getSessVal: Session | undefined = undefined;
      let getCalled = 0;
      const cache = new SessionCache({
        now: clock.now,
        getSession: () => {
          getCalled++;
          return getSessVal;
        },
      });
      cache.cacheSize = 1;

      // First connection: a full handshake stores session A.
      const a: Session = { id: nid(1), time: clock.now(), timeout: 7200, version };
      cache.handshakeCompleted({ side: "server", session: a, resumed: false, tls13 });
      assert.deepEqual(ids(cache), [1]);
      if (idx > 1) {
        // "Cause this session to have a longer timeout than the next session to be added."
        assert.equal(cache.setTimeout(a.id, LONG_MAX, { version }), true);
      }

      // Second connection overflows the cache: session B evicts A, never itself.
      clock.advance(1);
      const b: Session = { id: nid(2), time: clock.now(), timeout: 7200, version };
      cache.handshakeCompleted({ side: "server", session: b, resumed: false, tls13 });
      assert.deepEqual(ids(cache), [2]);
      assert.equal(cache.stats.cacheFull, 1);

      // Third connection resumes B; the external cache would return it anyway.
      getSessVal = b;
      const resumed = await cache.lookup({ id: b.id, version });
      assert.equal(resumed, b);
      assert.equal(cache.stats.hits, 1);
      assert.equal(getCalled, 0, "the internal cache still had it");
    });

    it(`test ${idx}: an evicted session the external callback hands back is not resumable: a miss`, async () => {
      // OpenSSL marks an evicted session not resumable, and lookup_sess_in_cache
      // ignores a not-resumable session from get_session_cb (no cb_hit, not stored).
      const clock = manualClock(1_000);
      let getSessVal: Session | undefined = undefined;
      const requests: unknown[] = [];
      const cache = new SessionCache({
        now: clock.now,
        getSession: (request) => {
          requests.push(request);
          return getSessVal;
        },
      });
      cache.cacheSize = 1;
      const a: Session = {
        id: nid(1),
        time: clock.now(),
        timeout: idx > 1 ? LONG_MAX : 7200,
        version,
      };
      cache.handshakeCompleted({ side: "server", session: a, resumed: false, tls13 });
      clock.advance(1);
      const b: Session = { id: nid(2), time: clock.now(), timeout: 7200, version };
      cache.handshakeCompleted({ side: "server", session: b, resumed: false, tls13 });
      assert.deepEqual(ids(cache), [2]);
      assert.equal(cache.isResumable(a), false);

      getSessVal = a;
      const resumed = await cache.lookup({ id: a.id, version });
      assert.equal(resumed, undefined);
      assert.deepEqual(requests, [{ id: a.id, version }]);
      assert.equal(cache.stats.misses, 1);
      assert.equal(cache.stats.cbHits, 0);
      assert.equal(cache.stats.hits, 0);
      assert.deepEqual(ids(cache), [2], "nothing stored");

      // A fresh copy of A (as an external store would deserialize it) is resumable.
      getSessVal = { ...a };
      const fresh = await cache.lookup({ id: a.id, version });
      assert.deepEqual(fresh, a);
      assert.equal(cache.stats.cbHits, 1);
      assert.equal(cache.stats.hits, 1);
      assert.deepEqual(ids(cache), [1], "the external session is stored, evicting B");
      assert.equal(cache.stats.cacheFull, 2);
    });
  }

  it("with NO_INTERNAL_LOOKUP only the external callback can supply the session, and it is resumed", async () => {
    const clock = manualClock(1_000);
    const b: Session = { id: nid(2), time: 1_000, timeout: 7200 };
    const cache = new SessionCache({
      now: clock.now,
      mode: SESS_CACHE_SERVER | SESS_CACHE_NO_INTERNAL_LOOKUP,
      getSession: () => b,
    });
    cache.cacheSize = 1;
    cache.handshakeCompleted({ side: "server", session: b, resumed: false });
    assert.equal(await cache.lookup({ id: b.id }), b);
    assert.equal(cache.stats.misses, 0, "no internal lookup, so no miss counted");
    assert.equal(cache.stats.cbHits, 1);
    assert.equal(cache.stats.hits, 1);
    assert.equal(cache.size, 1);
  });
});
