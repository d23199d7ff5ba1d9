// Spec §10: what libssl 3.0.19 was observed to do, step by step through its public API.
// One test per row, with the row's own numbers, driven through the SessionCache shell.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { SessionCache } from "../../mod.ts";
import type { Session } from "../../mod.ts";
import { SESS_CACHE_OFF } from "../../mod.ts";
import { ids, session } from "../_helpers.ts";

/** A cache whose remove callback records every session it hears of. */
function recorded(options: { cacheSize?: number; mode?: number } = {}) {
  const removed: Session[] = [];
  const cache = new SessionCache({ ...options, onRemoveSession: (s) => removed.push(s) });
  return { cache, removed };
}

describe("observed on libssl 3.0.19 (spec §10)", () => {
  it("row 1: in a size-3 cache, four adds each return true, evict 01 then 03, and leave two sessions", () => {
    const { cache, removed } = recorded({ cacheSize: 3 });
    assert.equal(cache.add(session(0x01, 100, 10)), true); // expires 110
    assert.equal(cache.add(session(0x02, 101, 10)), true); // expires 111
    assert.deepEqual(removed, []);
    assert.equal(cache.add(session(0x03, 102, 5)), true); // expires 107
    assert.deepEqual(ids(removed), [0x01], "the 3rd add evicts the tail, 01");
    assert.equal(cache.add(session(0x04, 103, 10)), true); // expires 113
    assert.deepEqual(ids(removed), [0x01, 0x03], "the 4th add evicts 03, the soonest expiry");
    assert.equal(cache.size, 2);
    assert.deepEqual(ids(cache), [0x02, 0x04]);
    assert.equal(cache.stats.cacheFull, 2);
    assert.equal(cache.stats.number, 2);
  });

  it("row 2: then flush(111) removes nothing, because 02 expires at exactly 111", () => {
    const { cache, removed } = recorded({ cacheSize: 3 });
    cache.add(session(0x01, 100, 10));
    cache.add(session(0x02, 101, 10));
    cache.add(session(0x03, 102, 5));
    cache.add(session(0x04, 103, 10));
    removed.length = 0;

    assert.deepEqual(cache.flush(111), []);
    assert.deepEqual(removed, []);
    assert.deepEqual(ids(cache), [0x02, 0x04]);
    assert.equal(cache.stats.timeouts, 0);
  });

  for (
    const [size, counts] of [
      [1, [1, 1, 1]],
      [2, [1, 1, 1, 1]],
      [3, [1, 2, 2, 2, 2]],
      [5, [1, 2, 3, 4, 4, 4, 4]],
    ] as const
  ) {
    it(`row 3: a size-${size} cache fed sessions of increasing expiry counts ${JSON.stringify(counts)}`, () => {
      const { cache, removed } = recorded({ cacheSize: size });
      const seen: number[] = [];
      for (let i = 1; i <= counts.length; i++) {
        assert.equal(cache.add(session(i, 1000 + i, 100)), true);
        seen.push(cache.size);
      }
      assert.deepEqual(seen, counts);
      // What remains is always the latest-expiring sessions; evictions are the oldest, in order.
      const kept = counts[counts.length - 1]!;
      assert.deepEqual(
        ids(cache),
        Array.from({ length: kept }, (_, k) => counts.length - kept + 1 + k),
      );
      assert.deepEqual(ids(removed), Array.from({ length: counts.length - kept }, (_, k) => k + 1));
      assert.equal(cache.stats.cacheFull, counts.length - kept);
    });
  }

  it("row 4: in a size-2 cache, after expiries 5100 and 6100, the session expiring at 1100 survives its own add", () => {
    const { cache, removed } = recorded({ cacheSize: 2 });
    assert.equal(cache.add(session(1, 5000, 100)), true); // expires 5100
    assert.equal(cache.add(session(2, 6000, 100)), true); // expires 6100, evicts 5100
    assert.equal(cache.add(session(3, 1000, 100)), true); // expires 1100, evicts 6100
    assert.equal(cache.size, 1);
    assert.deepEqual(ids(cache), [3]);
    assert.deepEqual(ids(removed), [1, 2]);
    assert.equal(cache.stats.cacheFull, 2);
  });

  it("row 5: five sessions with equal expiry are removed by flush(0) in insertion order", () => {
    const { cache, removed } = recorded();
    for (const id of [1, 2, 3, 4, 5]) cache.add(session(id, 1000, 100));
    assert.deepEqual(ids(cache.flush(0)), [1, 2, 3, 4, 5]);
    assert.deepEqual(ids(removed), [1, 2, 3, 4, 5]);
    assert.equal(cache.size, 0);
  });

  it("row 6: with expiries 1100, 1050, 1200, 1100, flush 1050 / 1051 / 1100 / 1101 removes none / the 1050 one / none / both 1100 ones, first-added first", () => {
    const { cache, removed } = recorded();
    cache.add(session(1, 1000, 100)); // 1100
    cache.add(session(2, 1000, 50)); // 1050
    cache.add(session(3, 1100, 100)); // 1200
    cache.add(session(4, 1050, 50)); // 1100
    assert.deepEqual(ids(cache), [2, 1, 4, 3]);

    assert.deepEqual(ids(cache.flush(1050)), []);
    assert.deepEqual(ids(cache.flush(1051)), [2]);
    assert.deepEqual(ids(cache.flush(1100)), []);
    assert.deepEqual(ids(cache.flush(1101)), [1, 4]);
    assert.deepEqual(ids(removed), [2, 1, 4]);
    assert.deepEqual(ids(cache), [3]);
  });

  it("row 7: adding 1, 2, 3 with equal expiry and re-adding 1 (returns false) makes the flush(0) order 2, 3, 1", () => {
    const { cache, removed } = recorded();
    const one = session(1, 1000, 100);
    cache.add(one);
    cache.add(session(2, 1000, 100));
    cache.add(session(3, 1000, 100));
    assert.equal(cache.add(one), false);
    assert.deepEqual(removed, [], "a re-add evicts nothing");
    assert.equal(cache.size, 3);
    assert.deepEqual(ids(cache.flush(0)), [2, 3, 1]);
  });

  it("row 7: adding 1, 2, 3 with equal expiry and set_time(1, same time) makes the flush(0) order 2, 3, 1", () => {
    const { cache } = recorded();
    cache.add(session(1, 1000, 100));
    cache.add(session(2, 1000, 100));
    cache.add(session(3, 1000, 100));
    assert.equal(cache.setTime(new Uint8Array([1]), 1000), true);
    assert.deepEqual(ids(cache.flush(0)), [2, 3, 1]);
  });

  it("row 8: removing an id that is not cached returns false and the callback fires once with the argument", () => {
    const { cache, removed } = recorded();
    cache.add(session(1, 1000, 100));
    const absent = session(9, 1000, 100);
    assert.equal(cache.remove(absent), false);
    assert.equal(removed.length, 1);
    assert.equal(removed[0], absent);
    assert.deepEqual(ids(cache), [1]);
  });

  it("row 9: after shrinking a cache of 5 to size 2, the count stays 5 until the next add, which evicts 5 and leaves 1", () => {
    const { cache, removed } = recorded();
    for (const id of [1, 2, 3, 4, 5]) cache.add(session(id, 1000 + id, 100));
    cache.cacheSize = 2;
    assert.equal(cache.size, 5);
    assert.deepEqual(removed, []);
    assert.equal(cache.stats.cacheFull, 0);

    assert.equal(cache.add(session(6, 1000, 100)), true);
    assert.deepEqual(ids(removed), [1, 2, 3, 4, 5]);
    assert.equal(cache.size, 1);
    assert.deepEqual(ids(cache), [6]);
    assert.equal(cache.stats.cacheFull, 5);
  });

  it("row 10: in mode OFF, add returns true and flush past the expiry removes the session", () => {
    const { cache, removed } = recorded({ mode: SESS_CACHE_OFF });
    assert.equal(cache.mode, SESS_CACHE_OFF);
    assert.equal(cache.add(session(1, 1000, 100)), true);
    assert.equal(cache.size, 1);
    assert.deepEqual(ids(cache.flush(1101)), [1]);
    assert.deepEqual(ids(removed), [1]);
    assert.equal(cache.size, 0);
  });
});
