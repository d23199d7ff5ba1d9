import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { reviseSession, type Session, SessionCache } from "../../mod.ts";

const sid = (...bytes: number[]) => new Uint8Array(bytes);

describe("SessionCache.lookup() with an AbortSignal", () => {
  it("drops a late external answer once the signal aborted: no cbHits, no hits, nothing stored", async () => {
    let release!: (s: Session) => void;
    const cache = new SessionCache({
      now: () => 100,
      getSession: () => new Promise<Session>((resolve) => (release = resolve)),
    });
    const abort = new AbortController();
    const pending = cache.lookup({ id: sid(1) }, { signal: abort.signal });
    abort.abort();
    release({ id: sid(1), time: 100, timeout: 300 });
    assert.equal(await pending, undefined);
    assert.equal(cache.stats.misses, 1, "the internal miss was counted before the wait");
    assert.equal(cache.stats.cbHits, 0);
    assert.equal(cache.stats.hits, 0);
    assert.equal(cache.size, 0);
  });

  it("resumes as usual when the signal never aborts", async () => {
    const cache = new SessionCache({
      now: () => 100,
      getSession: () => Promise.resolve({ id: sid(1), time: 100, timeout: 300 }),
    });
    const got = await cache.lookup({ id: sid(1) }, { signal: new AbortController().signal });
    assert.equal(got?.time, 100);
    assert.equal(cache.stats.cbHits, 1);
    assert.equal(cache.stats.hits, 1);
  });
});

describe("SessionCache.handshakeCompleted() and an asynchronous onNewSession", () => {
  it("returns the Promise onNewSession returned, so an adapter can wait for the store", async () => {
    const written: number[] = [];
    const cache = new SessionCache({
      now: () => 100,
      onNewSession: async (s) => {
        await new Promise((r) => setTimeout(r, 5));
        written.push(s.id[0]!);
      },
    });
    const pending = cache.handshakeCompleted({
      side: "server",
      session: { id: sid(7), time: 100, timeout: 300 },
      resumed: false,
    });
    assert.ok(pending instanceof Promise);
    assert.deepEqual(written, []);
    await pending;
    assert.deepEqual(written, [7]);
    assert.equal(cache.size, 1);
  });

  it("returns undefined for a synchronous onNewSession, and a rejection is never unhandled", async () => {
    const sync = new SessionCache({ now: () => 100, onNewSession: () => {} });
    assert.equal(
      sync.handshakeCompleted({
        side: "server",
        session: { id: sid(1), time: 100, timeout: 300 },
        resumed: false,
      }),
      undefined,
    );
    // The returned Promise rejects for a caller that awaits it (the server adapter reports
    // it), and is handled already, so a caller that drops it leaves nothing unhandled (issue
    // 11, cause 5: the old one went unhandled).
    const failing = new SessionCache({
      now: () => 100,
      onNewSession: () => Promise.reject(new Error("store down")),
    });
    const pending = failing.handshakeCompleted({
      side: "server",
      session: { id: sid(2), time: 100, timeout: 300 },
      resumed: false,
    });
    await assert.rejects(pending!, /store down/);
    const dropped = failing.handshakeCompleted({
      side: "server",
      session: { id: sid(3), time: 100, timeout: 300 },
      resumed: false,
    });
    assert.ok(dropped instanceof Promise, "a Promise nobody awaits");
    await new Promise((r) => setTimeout(r, 10)); // an unhandled rejection would fire here
    assert.equal(failing.size, 2, "the sessions stay cached whatever the callback did");
  });
});

describe("reviseSession()", () => {
  it("makes a copy that is the same session: re-adding it returns false and re-sorts", () => {
    const removed: number[] = [];
    const cache = new SessionCache({ onRemoveSession: (s) => removed.push(s.time) });
    const s = { id: sid(1), time: 100, timeout: 10 };
    assert.equal(cache.add(s), true);
    const later = reviseSession(s, { time: 200 });
    assert.equal(later.time, 200);
    assert.equal(s.time, 100, "the original is not changed");
    assert.equal(cache.add(later), false, "OpenSSL: the same object re-added returns 0");
    assert.equal(cache.get(sid(1))?.time, 100, "the cached state of the session is kept");
  });

  it("keeps a removed session not resumable, like SSL_SESSION_set_time on a removed session", async () => {
    const s = { id: sid(2), time: 100, timeout: 300 };
    const cache = new SessionCache({
      now: () => 100,
      getSession: () => reviseSession(s, { time: 100 }),
    });
    cache.add(s);
    cache.remove(s);
    assert.equal(cache.isResumable(reviseSession(s, { timeout: 60 })), false);
    assert.equal(await cache.lookup({ id: sid(2) }), undefined);
    assert.equal(cache.stats.cbHits, 0);
    assert.equal(cache.isResumable({ ...s }), true, "a plain copy is a new session");
  });

  it("refuses bad changes with RangeError and TypeError", () => {
    const s = { id: sid(3), time: 100, timeout: 300 };
    assert.throws(() => reviseSession(s, { time: -1 }), {
      name: "RangeError",
      message: "Cannot revise session: time must be a finite number >= 0: received -1",
    });
    assert.throws(() => reviseSession({ ...s, id: new Uint8Array() }, { time: 1 }), RangeError);
    // @ts-expect-error: changes must be an object
    assert.throws(() => reviseSession(s, null), TypeError);
  });
});
