import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type Session, SessionCache } from "../mod.ts";

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
    assert.equal(failing.size, 1, "the session stays cached whatever the callback did");
  });
});
