// This module is browser compatible.

/**
 * The expiry order, OpenSSL's doubly linked list sorted by expiry: entries
 * ordered by `(expiry, seq)`, soonest first, where `seq` grows with every
 * (re)insertion, so ties leave first in first out as in OpenSSL.
 *
 * OpenSSL walks its list to insert, O(n) when expiries arrive out of order.
 * Here the order is two structures over the same entries:
 * - a sorted doubly linked list (`prev`/`next`, ends `lo` = soonest =
 *   OpenSSL's tail, `hi` = latest = OpenSSL's head). An entry that sorts after
 *   `hi` (the usual case: made now, with the usual timeout) or before `lo` (an
 *   undone removal) joins it in O(1);
 * - a binary min-heap for every other entry (an expiry out of order), O(log n).
 * The soonest entry is the smaller of `lo` and the heap's top.
 *
 * Invariants (checked by `tests/_check.ts`):
 * 1. The list from `lo` to `hi` is strictly ascending by `(expiry, seq)` and
 *    its links agree both ways.
 * 2. `heap[0..heapSize)` is a min-heap by `(expiry, seq)`; a heap entry has
 *    `next === IN_HEAP` and `prev` = its position.
 * 3. Every live entry is in exactly one of the two.
 *
 * | operation             | cost                                         |
 * |-----------------------|----------------------------------------------|
 * | insert                | O(1) at either end of the list, else O(log n) |
 * | remove, removeSoonest | O(1) from the list, O(log n) from the heap    |
 * | soonest               | O(1)                                         |
 * | sorted (all, in order)| O(n + h log h) for h entries in the heap      |
 *
 * Internal: not re-exported from `core.ts`.
 *
 * @module
 */

import { type Entries, IN_HEAP } from "./_entries.ts";

/** Whether entry `a` comes before entry `b`: by expiry (seconds, microseconds), then seq. */
function before(E: Entries, a: number, b: number): boolean {
  const sa = E.expSec[a]!;
  const sb = E.expSec[b]!;
  if (sa !== sb) return sa < sb;
  const ma = E.expMicro[a]!;
  const mb = E.expMicro[b]!;
  return ma < mb || (ma === mb && E.seq[a]! < E.seq[b]!);
}

export class Order {
  /** The soonest entry of the list, or -1. */
  lo = -1;
  /** The latest entry of the list, or -1. */
  hi = -1;
  heap: Int32Array;
  heapSize = 0;

  constructor(capacity = 16) {
    this.heap = new Int32Array(capacity);
  }

  /** Adds live entry `e` (its expiry and seq already set). */
  insert(E: Entries, e: number): void {
    const hi = this.hi;
    if (hi === -1) {
      E.prev[e] = -1;
      E.next[e] = -1;
      this.lo = this.hi = e;
    } else if (before(E, hi, e)) {
      E.prev[e] = hi;
      E.next[e] = -1;
      E.next[hi] = e;
      this.hi = e;
    } else if (before(E, e, this.lo)) {
      E.prev[e] = -1;
      E.next[e] = this.lo;
      E.prev[this.lo] = e;
      this.lo = e;
    } else {
      this.#push(E, e);
    }
  }

  /** Removes entry `e` from wherever it is. */
  remove(E: Entries, e: number): void {
    const n = E.next[e]!;
    if (n === IN_HEAP) {
      this.#removeAt(E, E.prev[e]!);
      return;
    }
    const p = E.prev[e]!;
    if (p === -1) this.lo = n;
    else E.next[p] = n;
    if (n === -1) this.hi = p;
    else E.prev[n] = p;
  }

  /** The soonest entry, or -1 when empty. */
  soonest(E: Entries): number {
    const lo = this.lo;
    if (this.heapSize === 0) return lo;
    const top = this.heap[0]!;
    return lo === -1 || before(E, top, lo) ? top : lo;
  }

  /** All entries in order, soonest first. */
  sorted(E: Entries): number[] {
    const out: number[] = [];
    const heap = Array.from(this.heap.subarray(0, this.heapSize));
    heap.sort((a, b) => (before(E, a, b) ? -1 : 1));
    let h = 0;
    for (let e = this.lo; e !== -1; e = E.next[e]!) {
      while (h < heap.length && before(E, heap[h]!, e)) out.push(heap[h++]!);
      out.push(e);
    }
    while (h < heap.length) out.push(heap[h++]!);
    return out;
  }

  /** An independent copy (the links live in `Entries`, copied with it). */
  copy(): Order {
    const o = new Order(1);
    o.lo = this.lo;
    o.hi = this.hi;
    o.heap = this.heap.slice();
    o.heapSize = this.heapSize;
    return o;
  }

  #push(E: Entries, e: number): void {
    if (this.heapSize === this.heap.length) {
      const bigger = new Int32Array(Math.max(16, this.heap.length * 2));
      bigger.set(this.heap);
      this.heap = bigger;
    }
    E.next[e] = IN_HEAP;
    this.#up(E, this.heapSize++, e);
  }

  #removeAt(E: Entries, i: number): void {
    const last = this.heap[--this.heapSize]!;
    if (i === this.heapSize) return;
    // Put the last entry in the hole, then restore invariant 2 in whichever
    // direction it is broken.
    if (i > 0 && before(E, last, this.heap[(i - 1) >> 1]!)) this.#up(E, i, last);
    else this.#down(E, i, last);
  }

  /** Places `e` at position `i` or above, moving larger parents down. */
  #up(E: Entries, i: number, e: number): void {
    const heap = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (!before(E, e, p)) break;
      heap[i] = p;
      E.prev[p] = i;
      i = parent;
    }
    heap[i] = e;
    E.prev[e] = i;
  }

  /** Places `e` at position `i` or below, moving smaller children up. */
  #down(E: Entries, i: number, e: number): void {
    const heap = this.heap;
    const size = this.heapSize;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      if (child + 1 < size && before(E, heap[child + 1]!, heap[child]!)) child++;
      const c = heap[child]!;
      if (!before(E, c, e)) break;
      heap[i] = c;
      E.prev[c] = i;
      i = child;
    }
    heap[i] = e;
    E.prev[e] = i;
  }
}
