// This module is browser compatible.

/**
 * The session table, OpenSSL's `LHASH` keyed by (version, id): open
 * addressing with linear probing over an `Int32Array` of entry indices. The
 * id bytes are hashed straight from the caller's array (no key string), and a
 * probe compares the stored hash, then the version and the bytes in
 * `Entries.ids`.
 *
 * Invariants (checked by `tests/_check.ts`):
 * 1. `slots[i]` is 0 (empty) or 1 + a live entry; `count` slots are full and
 *    the table is at most half full.
 * 2. Every live entry sits in exactly one slot, reachable from its home slot
 *    (`hash & mask`) by a run of full slots (deletion shifts entries back, so
 *    there are no tombstones).
 * 3. No two live entries have the same (version, id).
 *
 * | operation      | cost                                          |
 * |----------------|-----------------------------------------------|
 * | find           | O(1) expected                                 |
 * | insert, remove | O(1) expected; the table doubles when half full |
 * | copy           | O(slots)                                      |
 *
 * Internal: not re-exported from `core.ts`.
 *
 * @module
 */

import type { Entries } from "./_entries.ts";

export class Table {
  slots: Int32Array;
  mask: number;
  count = 0;

  constructor(size = 16) {
    this.slots = new Int32Array(size);
    this.mask = size - 1;
  }

  /** The live entry with this key, or -1. */
  find(E: Entries, hash: number, version: number, id: Uint8Array, length: number): number {
    const slots = this.slots;
    const mask = this.mask;
    for (let i = hash & mask;; i = (i + 1) & mask) {
      const v = slots[i]!;
      if (v === 0) return -1;
      const e = v - 1;
      if (E.hash[e] === hash && E.version[e] === version && E.hasId(e, id, length)) return e;
    }
  }

  /** Adds entry `e`, whose key is not in the table. */
  insert(E: Entries, e: number): void {
    if ((this.count + 1) * 2 > this.slots.length) this.#grow(E);
    this.#place(E.hash[e]!, e);
    this.count++;
  }

  /** Removes live entry `e`. */
  remove(E: Entries, e: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let i = E.hash[e]! & mask;
    while (slots[i] !== e + 1) i = (i + 1) & mask;
    // Backward-shift deletion: move later entries of the run into the hole
    // when the hole lies on their path from their home slot (ensure invariant 2).
    for (let j = (i + 1) & mask;; j = (j + 1) & mask) {
      const v = slots[j]!;
      if (v === 0) break;
      const home = E.hash[v - 1]! & mask;
      if (((j - home) & mask) >= ((j - i) & mask)) {
        slots[i] = v;
        i = j;
      }
    }
    slots[i] = 0;
    this.count--;
  }

  /** An independent copy. */
  copy(): Table {
    const t = new Table(1);
    t.slots = this.slots.slice();
    t.mask = this.mask;
    t.count = this.count;
    return t;
  }

  #place(hash: number, e: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let i = hash & mask;
    while (slots[i] !== 0) i = (i + 1) & mask;
    slots[i] = e + 1;
  }

  #grow(E: Entries): void {
    const old = this.slots;
    this.slots = new Int32Array(old.length * 2);
    this.mask = this.slots.length - 1;
    for (let i = 0; i < old.length; i++) {
      const v = old[i]!;
      if (v !== 0) this.#place(E.hash[v - 1]!, v - 1);
    }
  }
}
