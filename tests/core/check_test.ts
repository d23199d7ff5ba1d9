// The invariant checker (tests/_check.ts) must catch a planted bug in each structure of the
// core: a checker that cannot fail proves nothing. Each case builds a small, valid value through
// the public API, breaks one invariant inside it, and expects the check to name that invariant.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as core from "../../core.ts";
import { type History, moveTo, State } from "../../src/core/_history.ts";
import { IN_HEAP } from "../../src/core/_entries.ts";
import type { Store } from "../../src/core/_store.ts";
import { checkState, checkStore } from "../_check.ts";

/** A value with five sessions (one in the heap: expiry 110.5 came between 110 and 112) and a history. */
function sample(): { state: core.CacheState; store: Store; h: History } {
  let state = core.createCacheState({ cacheSize: 0 });
  state = core.lookup(state, { id: new Uint8Array([9]) }, { now: 100 }).cache;
  for (
    const [id, time, timeout] of [[1, 100, 10], [2, 101, 10], [3, 102, 10], [4, 100, 10.5], [
      5,
      103,
      10,
    ]]
  ) {
    state = core.add(state, { id: new Uint8Array([id!]), time: time!, timeout: timeout! }).cache;
  }
  const s = state as unknown as State;
  checkState(state);
  return { state, store: State.storeOf(s), h: State.historyOf(s) };
}

/** The entry holding id byte `b`. */
function entryOf(store: Store, b: number): number {
  return store.find(0, new Uint8Array([b]));
}

function breaks(where: RegExp, plant: (x: ReturnType<typeof sample>) => void): void {
  const x = sample();
  plant(x);
  assert.throws(() => checkState(x.state), where);
}

describe("the invariant checker catches a planted bug in each structure", () => {
  it("a valid value passes every check", () => {
    const { state } = sample();
    checkState(state);
  });

  it("_entries.ts 2: an expiry that is not time + timeout", () => {
    breaks(/_entries\.ts: 2: slot \d+ expiry/, ({ store }) => {
      store.E.expMicro[entryOf(store, 2)] = 1;
    });
  });

  it("_entries.ts 1: a live slot on the free list", () => {
    breaks(/_entries\.ts: 1:/, ({ store }) => {
      const e = entryOf(store, 3);
      store.E.freeHead = e;
    });
  });

  it("_entries.ts 2: a hash that does not match the key", () => {
    breaks(/_entries\.ts: 2: slot \d+ hash/, ({ store }) => {
      store.E.hash[entryOf(store, 1)]! ^= 1;
    });
  });

  it("_table.ts 2: an entry cut off from its home slot", () => {
    breaks(/_table\.ts: 2:|_table\.ts: 1:/, ({ store }) => {
      const slots = store.table.slots;
      const e = entryOf(store, 4);
      const at = slots.indexOf(e + 1);
      slots[at] = 0;
      slots[(at + 7) & store.table.mask] = e + 1;
    });
  });

  it("_table.ts 1: a count that does not match the slots", () => {
    breaks(/_table\.ts: 1: \d+ full slots/, ({ store }) => {
      store.table.count++;
    });
  });

  it("_order.ts 1: a list out of order", () => {
    breaks(/_order\.ts: 1: entries \d+, \d+ out of order/, ({ store }) => {
      const lo = store.order.lo;
      store.E.expSec[lo] = 1e9; // a valid expiry, now after its successor's
      store.E.time[lo] = 1e9 - store.E.timeout[lo]!;
    });
  });

  it("_order.ts 1: a broken back link", () => {
    breaks(/_order\.ts: 1: entry \d+'s prev/, ({ store }) => {
      const second = store.E.next[store.order.lo]!;
      store.E.prev[second] = -1;
    });
  });

  it("_order.ts 2: a heap entry that does not know its position", () => {
    breaks(/_order\.ts: 2:/, ({ store }) => {
      assert.ok(store.order.heapSize > 0, "the sample has an entry in the heap");
      const e = store.order.heap[0]!;
      assert.equal(store.E.next[e], IN_HEAP);
      store.E.prev[e] = 5;
    });
  });

  it("_order.ts 3: a live entry missing from the order", () => {
    breaks(/_order\.ts: 3:/, ({ store }) => {
      store.order.heapSize = 0;
    });
  });

  it("_store.ts 2: a sequence number at or above nextSeq", () => {
    breaks(/_store\.ts: 2:/, ({ store }) => {
      store.nextSeq = 2;
    });
  });

  it("_store.ts 3: a counter that went down", () => {
    const x = sample();
    const before = State.storeOf(x.state as unknown as State).counters.slice();
    x.store.counters[8] = 0; // misses
    assert.throws(() => checkState(x.state, before), /_store\.ts: 3: misses went down/);
  });

  it("_log.ts 2: a record that does not hold the time the store held", () => {
    breaks(/_log\.ts: 2: undoing and redoing a record changed the value/, ({ h }) => {
      h.log.num[(h.log.length - 1) * 4] = 5000; // the time in the last add's record
    });
  });

  it("_log.ts 2: a record that does not hold the id the store held", () => {
    breaks(/record \d+ names a session the store does not hold/, ({ h }) => {
      h.log.ids[(h.log.length - 1) * 33 + 1]! ^= 0xff; // the id in the last add's record
    });
  });

  it("_history.ts 1: a cursor past the head", () => {
    breaks(/_history\.ts: 1:/, ({ h }) => {
      h.cursor = h.head + 1;
    });
  });

  it("_history.ts 3: a store that records at rest", () => {
    breaks(/_history\.ts: 3: the store records at rest/, ({ h }) => {
      h.store.log = h.log;
    });
  });

  it("every position of the history, back and forth, keeps every invariant", () => {
    const { h } = sample();
    for (let pos = h.head; pos >= 0; pos--) {
      moveTo(h, pos);
      checkStore(h.store);
    }
    for (let pos = 0; pos <= h.head; pos++) {
      moveTo(h, pos);
      checkStore(h.store);
    }
  });
});
