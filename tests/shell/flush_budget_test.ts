// flushBudget: the opt-in bound on what one automatic flush removes (a documented deviation from
// OpenSSL). One completed handshake removes at most the budget of expired sessions, the rest of an
// earlier flush included; the rest go in the next handshakes; once they have, the cache is exactly
// where OpenSSL's (no budget) is, with the same removal callbacks in the same order.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { createCacheState, handshakeCompleted } from "../../core.ts";
import { type RemovalReason, type Session, SessionCache } from "../../mod.ts";
import { fcParams } from "../_fc.ts";
import { manualClock, nid } from "../_helpers.ts";

/** A server cache on a manual clock that records every removal callback. */
function recording(options: { flushBudget?: number; cacheSize?: number } = {}) {
  const clock = manualClock(1000);
  const removed: { id: number; reason: RemovalReason }[] = [];
  const cache = new SessionCache({
    now: clock.now,
    cacheSize: options.cacheSize ?? 100_000,
    onRemoveSession: (s, _c, reason) =>
      void removed.push({ id: s.id[0]! * 256 + s.id[1]!, reason }),
    ...(options.flushBudget !== undefined && { flushBudget: options.flushBudget }),
  });
  return { cache, clock, removed };
}

/** Session number n, made at `time`. */
const made = (n: number, time: number, timeout: number): Session => ({
  id: nid(n),
  time,
  timeout,
});

/** Completes one server handshake with a new session; returns how many callbacks it caused. */
function handshake(r: ReturnType<typeof recording>, s: Session): number {
  const before = r.removed.length;
  r.cache.handshakeCompleted({ side: "server", session: s, resumed: false });
  return r.removed.length - before;
}

describe("SessionCache flushBudget (a deviation from OpenSSL, off by default)", () => {
  it("an automatic flush removes at most the budget; the next handshakes remove the rest", () => {
    const r = recording({ flushBudget: 3 });
    for (let i = 0; i < 10; i++) r.cache.add(made(i, 1000, 10));
    r.clock.set(2000); // all ten expired
    let n = 100;
    // OpenSSL flushes during every 256th completed handshake (accept_good & 0xff == 0xff).
    for (let i = 0; i < 255; i++) assert.equal(handshake(r, made(n++, 2000, 300)), 0);
    const perHandshake = [];
    for (let i = 0; i < 5; i++) perHandshake.push(handshake(r, made(n++, 2000, 300)));
    assert.deepEqual(perHandshake, [3, 3, 3, 1, 0]);
    assert.deepEqual(r.removed.map((x) => x.id), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.ok(r.removed.every((x) => x.reason === "expired"));
    assert.equal(r.cache.size, 260);
  });

  it("one handshake never removes more than the budget, even when the next flush comes due", () => {
    const r = recording({ flushBudget: 1 });
    for (let i = 0; i < 600; i++) r.cache.add(made(i, 1000, 10));
    r.clock.set(2000);
    let n = 1000;
    let most = 0;
    let total = 0;
    for (let i = 0; i < 1200; i++) {
      const k = handshake(r, made(n++, 2000, 300));
      most = Math.max(most, k);
      total += k;
    }
    assert.equal(most, 1, "at most the budget per handshake, across two automatic flushes");
    assert.equal(total, 600, "one per handshake from the 256th on, until all are gone");
  });

  it("a later flush time that comes due while one is unfinished is kept, not lost", () => {
    const r = recording({ flushBudget: 1 });
    for (let i = 0; i < 300; i++) r.cache.add(made(i, 1000, 10)); // expire after 1010
    for (let i = 300; i < 310; i++) r.cache.add(made(i, 1000, 1500)); // expire after 2500
    r.clock.set(2000);
    let n = 1000;
    for (let i = 0; i < 256; i++) handshake(r, made(n++, 2000, 3000)); // flush(2000) starts
    r.clock.set(3000); // the second automatic flush is at 3000: the 2500 sessions are due too
    for (let i = 0; i < 400; i++) handshake(r, made(n++, 3000, 3000));
    const gone = new Set(r.removed.map((x) => x.id));
    for (let i = 0; i < 310; i++) assert.ok(gone.has(i), `session ${i} was never flushed`);
    assert.equal(r.removed.length, 310);
  });

  it("until the rest is gone: stats.number is higher, an add may evict one, a lookup may meet one", () => {
    const r = recording({ flushBudget: 2, cacheSize: 300 }); // holds 299
    for (let i = 0; i < 10; i++) r.cache.add(made(i, 1000, 10));
    r.clock.set(2000);
    let n = 100;
    for (let i = 0; i < 256; i++) handshake(r, made(n++, 2000, 300)); // the 256th flushes 2
    assert.equal(r.cache.stats.number, 10 - 2 + 256, "eight expired sessions still counted");
    // A lookup meets one: OpenSSL's cache would miss (it has gone), this one counts a timeout.
    const timeouts = r.cache.stats.timeouts;
    assert.equal(r.cache.lookupSync({ id: nid(9) }), undefined);
    assert.equal(r.cache.stats.timeouts, timeouts + 1);
    assert.deepEqual(r.removed.at(-1), { id: 9, reason: "removed" }); // as OpenSSL's lookup does
    assert.equal(r.cache.stats.misses, 0, "OpenSSL's cache would count a miss here");
    // Fill up: the next add evicts an expired session (cacheFull), where OpenSSL's had room.
    while (r.cache.size < 299) r.cache.add(made(n++, 2000, 300));
    const full = r.cache.stats.cacheFull;
    r.cache.add(made(n++, 2000, 300));
    assert.equal(r.cache.stats.cacheFull, full + 1);
    assert.deepEqual(r.removed.at(-1), { id: 2, reason: "evicted" }); // the soonest left
  });

  it("the pure core takes the same budget (createCacheState({ flushBudget }))", () => {
    let cache = createCacheState({ flushBudget: 2 });
    for (let i = 0; i < 5; i++) {
      cache = handshakeCompleted(cache, hs(made(i, 1000, 10)), at(1000)).cache;
    }
    const removedPer: number[] = [];
    for (let i = 0; i < 250; i++) {
      cache = handshakeCompleted(cache, hs(made(100 + i, 2000, 300)), at(2000)).cache;
    }
    for (let i = 0; i < 4; i++) {
      const r = handshakeCompleted(cache, hs(made(400 + i, 2000, 300)), at(2000));
      removedPer.push(r.removed.length + r.flushed.length);
      cache = r.cache;
    }
    assert.deepEqual(removedPer, [2, 2, 1, 0]); // the 256th handshake flushes
  });

  it("rejects a budget that is not a non-negative integer, with the std message grammar", () => {
    for (const bad of [-1, 1.5, NaN, Infinity]) {
      assert.throws(() => new SessionCache({ flushBudget: bad }), RangeError);
    }
    assert.throws(
      () => new SessionCache({ flushBudget: "5" as unknown as number }),
      { name: "TypeError", message: /^Cannot create session cache: flushBudget must be a number/ },
    );
  });

  it("property: once the rest is flushed, the cache, its stats and its removal callbacks are OpenSSL's", () => {
    const step = fc.oneof(
      { arbitrary: fc.record({ advance: fc.integer({ min: 0, max: 40 }) }), weight: 1 },
      {
        arbitrary: fc.record({
          handshakes: fc.integer({ min: 1, max: 300 }),
          timeout: fc.integer({ min: 1, max: 60 }),
        }),
        weight: 4,
      },
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(step, { maxLength: 12 }),
        (budget, steps) => {
          const a = recording(); // OpenSSL
          const b = recording({ flushBudget: budget });
          let n = 0;
          let most = 0;
          const both = (s: Session) => {
            handshake(a, s);
            most = Math.max(most, handshake(b, s));
          };
          for (const st of steps) {
            if ("advance" in st) {
              a.clock.advance(st.advance);
              b.clock.advance(st.advance);
            } else {
              for (let i = 0; i < st.handshakes; i++) both(made(n++, a.clock.now(), st.timeout));
            }
          }
          assert.ok(most <= budget, `a handshake removed ${most} with a budget of ${budget}`);
          // Enough handshakes with sessions that do not expire to finish the budgeted flush and
          // to reach the same automatic flushes on both.
          while (b.cache.stats.number > a.cache.stats.number) {
            both(made(n++, a.clock.now(), 100_000));
          }
          assert.deepEqual(b.removed, a.removed);
          assert.deepEqual({ ...b.cache.stats }, { ...a.cache.stats });
          assert.deepEqual([...b.cache].map((s) => s.id), [...a.cache].map((s) => s.id));
        },
      ),
      fcParams({ numRuns: 60 }),
    );
  });
});

const hs = (session: Session) => ({ side: "server" as const, session, resumed: false });
const at = (now: number) => ({ now });
