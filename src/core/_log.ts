// This module is browser compatible.

/**
 * The record of what operations did to a store, so that any earlier value
 * can be rebuilt from the current one and back: each record is a logical
 * change (a session inserted or removed, with all its fields; a counter or a
 * setting changed, with its old and new value), applied backward to undo it
 * and forward to redo it. Records never name an entry by its slot, only by
 * its key, so undo and redo may place entries anywhere.
 *
 * Invariants (checked by `tests/_check.ts`):
 * 1. `length` records are valid; arrays hold `capacity` records.
 * 2. An `INSERT` or `REMOVE` record holds the session's fields exactly as
 *    the store held them, id bytes included.
 *
 * | operation     | cost            |
 * |---------------|-----------------|
 * | append        | O(1) amortized  |
 *
 * Internal: not re-exported from `core.ts`.
 *
 * @module
 */

import { type Entries, ID_STRIDE } from "./_entries.ts";
import type { Session } from "../session.ts";

/** A session entered the store. */
export const INSERT = 1;
/** A session left the store. */
export const REMOVE = 2;
/** A counter changed: `num` holds index, old, new. */
export const COUNTER = 3;
/** A setting changed: `num` holds which, old, new. */
export const SETTING = 4;

/** Numbers per record: time, timeout, seq, version (or index/which, old, new). */
const NUM = 4;
/** References per record: session, data, sidCtx (the origin is `originOf(session)`). */
const REF = 3;

export class Log {
  length = 0;
  capacity: number;
  kind: Uint8Array;
  num: Float64Array;
  ref: unknown[];
  ids: Uint8Array;

  constructor(capacity = 64) {
    this.capacity = capacity;
    this.kind = new Uint8Array(capacity);
    this.num = new Float64Array(capacity * NUM);
    this.ref = new Array(capacity * REF);
    this.ids = new Uint8Array(capacity * ID_STRIDE);
  }

  /** Records entry `e` of `E` entering (`INSERT`) or leaving (`REMOVE`) the store. */
  entry(kind: typeof INSERT | typeof REMOVE, E: Entries, e: number): void {
    const r = this.#next(kind);
    const n = r * NUM;
    this.num[n] = E.time[e]!;
    this.num[n + 1] = E.timeout[e]!;
    this.num[n + 2] = E.seq[e]!;
    this.num[n + 3] = E.version[e]!;
    const f = r * REF;
    this.ref[f] = E.sessions[e];
    this.ref[f + 1] = E.datas[e];
    this.ref[f + 2] = E.sidCtxs[e];
    this.ids.set(E.ids.subarray(e * ID_STRIDE, (e + 1) * ID_STRIDE), r * ID_STRIDE);
  }

  /** Records a counter or a setting going from `old` to `value`. */
  change(kind: typeof COUNTER | typeof SETTING, which: number, old: number, value: number): void {
    const n = this.#next(kind) * NUM;
    this.num[n] = which;
    this.num[n + 1] = old;
    this.num[n + 2] = value;
  }

  time(r: number): number {
    return this.num[r * NUM]!;
  }
  timeout(r: number): number {
    return this.num[r * NUM + 1]!;
  }
  seq(r: number): number {
    return this.num[r * NUM + 2]!;
  }
  version(r: number): number {
    return this.num[r * NUM + 3]!;
  }
  /** For `COUNTER` and `SETTING`: which one. */
  which(r: number): number {
    return this.num[r * NUM]!;
  }
  old(r: number): number {
    return this.num[r * NUM + 1]!;
  }
  value(r: number): number {
    return this.num[r * NUM + 2]!;
  }
  session(r: number): Session {
    return this.ref[r * REF] as Session;
  }
  data(r: number): Uint8Array | undefined {
    return this.ref[r * REF + 1] as Uint8Array | undefined;
  }
  sidCtx(r: number): Uint8Array | undefined {
    return this.ref[r * REF + 2] as Uint8Array | undefined;
  }
  /** The id bytes of record `r`, as a view (valid until the log grows). */
  id(r: number): Uint8Array {
    const at = r * ID_STRIDE;
    return this.ids.subarray(at + 1, at + 1 + this.ids[at]!);
  }

  #next(kind: number): number {
    if (this.length === this.capacity) this.#grow();
    const r = this.length++;
    this.kind[r] = kind;
    return r;
  }

  #grow(): void {
    const capacity = this.capacity * 2;
    const kind = new Uint8Array(capacity);
    kind.set(this.kind);
    const num = new Float64Array(capacity * NUM);
    num.set(this.num);
    const ids = new Uint8Array(capacity * ID_STRIDE);
    ids.set(this.ids);
    this.kind = kind;
    this.num = num;
    this.ids = ids;
    this.ref.length = capacity * REF;
    this.capacity = capacity;
  }
}
