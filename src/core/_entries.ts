// This module is browser compatible.

/**
 * The cached sessions as a struct of arrays: entry `e` is the `e`-th slot of
 * every array below, so a session costs a few typed-array slots and no object
 * of the cache's own (the session object itself is the caller's). The table
 * (`_table.ts`) and the expiry order (`_order.ts`) refer to entries by index.
 *
 * Invariants (checked by `tests/_check.ts`):
 * 1. A slot is either live (in the table and in the order) or free (on the
 *    free list, threaded through `next`); `used` slots were ever handed out.
 * 2. For a live slot, `expSec` and `expMicro` are `time + timeout` in whole
 *    seconds and microseconds, exact and saturated as OpenSSL 3.3 does
 *    (`_time.ts`), `hash` is the hash of (version, id), and `ids` holds the id
 *    length then its bytes, `ID_STRIDE` bytes per slot.
 * 3. `sidCtxs` holds copies the cache owns (shared between sessions with equal
 *    bytes), never the caller's arrays.
 *
 * | operation      | cost                                     |
 * |----------------|------------------------------------------|
 * | allocate, free | O(1) (amortized: the arrays double)      |
 * | copy           | O(capacity), typed-array copies          |
 *
 * Internal: not re-exported from `core.ts`.
 *
 * @module
 */

import type { Session } from "../session.ts";
import { byteLength } from "../_validate.ts";

/** Bytes per id in `ids`: the length, then up to 32 bytes. */
export const ID_STRIDE = 33;
/** `next[e]` of an entry that sits in the heap (its heap position is then in `prev[e]`). */
export const IN_HEAP = -2;

/** The hash of a key: murmur3-style mixing of the version and the id bytes. */
export function hashKey(version: number, id: Uint8Array, length: number): number {
  let h = Math.imul(version ^ 0x9747b28c, 0xcc9e2d51) ^ length;
  let i = 0;
  for (; i + 4 <= length; i += 4) {
    let k = id[i]! | (id[i + 1]! << 8) | (id[i + 2]! << 16) | (id[i + 3]! << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let k = 0;
  for (let shift = 0; i < length; i++, shift += 8) k |= id[i]! << shift;
  h ^= Math.imul(Math.imul(k, 0xcc9e2d51), 0x1b873593);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** The sessions' fields, one slot per entry. */
export class Entries {
  capacity: number;
  /** Slots ever handed out; slots at or above this were never used. */
  used = 0;
  /** Head of the free list (threaded through `next`), or -1. */
  freeHead = -1;
  sessions: (Session | undefined)[];
  datas: (Uint8Array | undefined)[];
  sidCtxs: (Uint8Array | undefined)[];
  time: Float64Array;
  timeout: Float64Array;
  /** The expiry's whole seconds, or `Infinity` (never expires). */
  expSec: Float64Array;
  /** The expiry's microseconds. */
  expMicro: Int32Array;
  seq: Float64Array;
  hash: Int32Array;
  version: Uint16Array;
  ids: Uint8Array;
  /** Toward the soonest end of the list, or the heap position (`next === IN_HEAP`). */
  prev: Int32Array;
  /** Toward the latest end of the list, `IN_HEAP`, or the next free slot. */
  next: Int32Array;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.sessions = new Array(capacity);
    this.datas = new Array(capacity);
    this.sidCtxs = new Array(capacity);
    this.time = new Float64Array(capacity);
    this.timeout = new Float64Array(capacity);
    this.expSec = new Float64Array(capacity);
    this.expMicro = new Int32Array(capacity);
    this.seq = new Float64Array(capacity);
    this.hash = new Int32Array(capacity);
    this.version = new Uint16Array(capacity);
    this.ids = new Uint8Array(capacity * ID_STRIDE);
    this.prev = new Int32Array(capacity);
    this.next = new Int32Array(capacity);
  }

  /** A free slot (growing the arrays when all are live). */
  allocate(): number {
    const e = this.freeHead;
    if (e !== -1) {
      this.freeHead = this.next[e]!;
      return e;
    }
    if (this.used === this.capacity) this.#grow();
    return this.used++;
  }

  /** Returns a slot to the free list, dropping its references (so the GC can take them). */
  free(e: number): void {
    this.sessions[e] = undefined;
    this.datas[e] = undefined;
    this.sidCtxs[e] = undefined;
    this.next[e] = this.freeHead;
    this.freeHead = e;
  }

  /** Writes an id into slot `e`. */
  setId(e: number, id: Uint8Array, length: number): void {
    const at = e * ID_STRIDE;
    this.ids[at] = length;
    for (let i = 0; i < length; i++) this.ids[at + 1 + i] = id[i]!;
  }

  /** Whether slot `e` holds this id. */
  hasId(e: number, id: Uint8Array, length: number): boolean {
    const at = e * ID_STRIDE;
    if (this.ids[at] !== length) return false;
    for (let i = 0; i < length; i++) if (this.ids[at + 1 + i] !== id[i]) return false;
    return true;
  }

  /** A new array with slot `e`'s id. */
  idOf(e: number): Uint8Array {
    const at = e * ID_STRIDE;
    return this.ids.slice(at + 1, at + 1 + this.ids[at]!);
  }

  /** Slot `e`'s id length. */
  idLength(e: number): number {
    return this.ids[e * ID_STRIDE]!;
  }

  /** An independent copy (the same session objects, copied arrays). */
  copy(): Entries {
    const c = new Entries(0);
    c.capacity = this.capacity;
    c.used = this.used;
    c.freeHead = this.freeHead;
    c.sessions = this.sessions.slice();
    c.datas = this.datas.slice();
    c.sidCtxs = this.sidCtxs.slice();
    c.time = this.time.slice();
    c.timeout = this.timeout.slice();
    c.expSec = this.expSec.slice();
    c.expMicro = this.expMicro.slice();
    c.seq = this.seq.slice();
    c.hash = this.hash.slice();
    c.version = this.version.slice();
    c.ids = this.ids.slice();
    c.prev = this.prev.slice();
    c.next = this.next.slice();
    return c;
  }

  #grow(): void {
    const capacity = Math.max(16, this.capacity * 2);
    const grow = <T extends Float64Array | Int32Array | Uint16Array | Uint8Array>(
      a: T,
      make: (n: number) => T,
      stride = 1,
    ): T => {
      const b = make(capacity * stride);
      b.set(a);
      return b;
    };
    this.time = grow(this.time, (n) => new Float64Array(n));
    this.timeout = grow(this.timeout, (n) => new Float64Array(n));
    this.expSec = grow(this.expSec, (n) => new Float64Array(n));
    this.expMicro = grow(this.expMicro, (n) => new Int32Array(n));
    this.seq = grow(this.seq, (n) => new Float64Array(n));
    this.hash = grow(this.hash, (n) => new Int32Array(n));
    this.version = grow(this.version, (n) => new Uint16Array(n));
    this.ids = grow(this.ids, (n) => new Uint8Array(n), ID_STRIDE);
    this.prev = grow(this.prev, (n) => new Int32Array(n));
    this.next = grow(this.next, (n) => new Int32Array(n));
    this.sessions.length = capacity;
    this.datas.length = capacity;
    this.sidCtxs.length = capacity;
    this.capacity = capacity;
  }
}

/**
 * Copies of session id contexts, shared between sessions with the same bytes
 * (a server has one context, or a few): the cache never keeps the caller's
 * array, and does not pay an array per session for it.
 */
export class SidCtxCopies {
  readonly #byBytes = new Map<string, Uint8Array>();

  /** The cache's own copy of `sidCtx` (a real Uint8Array of at most 32 bytes). */
  copyOf(sidCtx: Uint8Array): Uint8Array {
    const length = byteLength(sidCtx);
    let key = "";
    for (let i = 0; i < length; i++) key += String.fromCharCode(sidCtx[i]!);
    let copy = this.#byBytes.get(key);
    if (copy === undefined) {
      copy = new Uint8Array(length);
      for (let i = 0; i < length; i++) copy[i] = sidCtx[i]!;
      // A bounded memo: contexts come from the server's configuration, but an
      // external store could hand back many; forget them all past a limit.
      if (this.#byBytes.size >= 256) this.#byBytes.clear();
      this.#byBytes.set(key, copy);
    }
    return copy;
  }
}
