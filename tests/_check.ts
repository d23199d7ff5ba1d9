/**
 * The core's numbered invariants, executable (after funkia/list's `checkList`, which "also
 * serves as documentation for the invariants"). Each check names the file and the number of the
 * invariant it verifies, as written in that file's header; `checkState` runs them all on a
 * value and is called after every command of the core and shell model suites.
 *
 * Every function throws an `Error` naming the broken invariant, or returns normally.
 *
 * @module
 */

import { type Entries, hashKey, ID_STRIDE, IN_HEAP } from "../src/core/_entries.ts";
import type { Table } from "../src/core/_table.ts";
import type { Order } from "../src/core/_order.ts";
import { INSERT, type Log, REMOVE } from "../src/core/_log.ts";
import { COUNTER_NAMES, type Store } from "../src/core/_store.ts";
import { type History, moveTo, State } from "../src/core/_history.ts";

/** A time in whole microseconds (rounded to the nearest), as a BigInt. */
export function exactMicros(t: number): bigint {
  const s = Math.floor(t);
  return BigInt(s) * 1000000n + BigInt(Math.round((t - s) * 1e6));
}
import { type CacheState, MAX_TIME } from "../core.ts";

function fail(where: string, what: string): never {
  throw new Error(`invariant broken: ${where}: ${what}`);
}

function before(E: Entries, a: number, b: number): boolean {
  if (E.expSec[a] !== E.expSec[b]) return E.expSec[a]! < E.expSec[b]!;
  if (E.expMicro[a] !== E.expMicro[b]) return E.expMicro[a]! < E.expMicro[b]!;
  return E.seq[a]! < E.seq[b]!;
}

/** The live entries: those the table holds (checked against the free list by `checkEntries`). */
export function liveEntries(table: Table): number[] {
  const out: number[] = [];
  for (const v of table.slots) if (v !== 0) out.push(v - 1);
  return out;
}

/** `_entries.ts` invariants 1 to 3, given the live entries. */
export function checkEntries(E: Entries, live: readonly number[]): void {
  const where = "_entries.ts";
  if (E.used > E.capacity) fail(where, `1: used ${E.used} > capacity ${E.capacity}`);
  const isLive = new Set(live);
  const free = new Set<number>();
  for (let e = E.freeHead; e !== -1; e = E.next[e]!) {
    if (e < 0 || e >= E.used) fail(where, `1: free list holds slot ${e} (used ${E.used})`);
    if (free.has(e)) fail(where, `1: free list loops at slot ${e}`);
    if (isLive.has(e)) fail(where, `1: slot ${e} is both live and free`);
    free.add(e);
  }
  if (free.size + isLive.size !== E.used) {
    fail(where, `1: ${isLive.size} live + ${free.size} free != ${E.used} slots used`);
  }
  for (const e of free) {
    if (E.sessions[e] !== undefined) fail(where, `1: free slot ${e} still holds a session`);
  }
  for (const e of live) {
    if (e < 0 || e >= E.used) fail(where, `1: live slot ${e} outside used ${E.used}`);
    // Checked against a BigInt sum of microseconds (a different way to the same number).
    const micros = exactMicros(E.time[e]!) + exactMicros(E.timeout[e]!);
    const saturated = micros > 18446744073709551n;
    const sec = saturated ? Infinity : Number(micros / 1000000n);
    const micro = saturated ? 0 : Number(micros % 1000000n);
    if (!Object.is(E.expSec[e], sec) || E.expMicro[e] !== micro) {
      fail(
        where,
        `2: slot ${e} expiry ${E.expSec[e]} s ${
          E.expMicro[e]
        } µs != time + timeout ${sec} s ${micro} µs`,
      );
    }
    for (const [name, t] of [["time", E.time[e]!], ["timeout", E.timeout[e]!]] as const) {
      if (!(t >= 0 && t <= MAX_TIME)) fail(where, `2: slot ${e} ${name} ${t} outside 0..MAX_TIME`);
    }
    const length = E.ids[e * ID_STRIDE]!;
    if (length < 1 || length > 32) fail(where, `2: slot ${e} id length ${length}`);
    if (E.hash[e] !== hashKey(E.version[e]!, E.idOf(e), length)) {
      fail(where, `2: slot ${e} hash does not match its key`);
    }
    const session = E.sessions[e];
    if (session === undefined) fail(where, `1: live slot ${e} has no session`);
    const sidCtx = E.sidCtxs[e];
    if (sidCtx !== undefined && sidCtx === (session as { sidCtx?: unknown }).sidCtx) {
      fail(where, `3: slot ${e} keeps the caller's sidCtx array`);
    }
  }
}

/** `_table.ts` invariants 1 to 3. */
export function checkTable(table: Table, E: Entries): void {
  const where = "_table.ts";
  const slots = table.slots;
  if (slots.length !== table.mask + 1 || (slots.length & table.mask) !== 0) {
    fail(where, `1: ${slots.length} slots with mask ${table.mask}`);
  }
  let full = 0;
  const seen = new Set<number>();
  const keys = new Set<string>();
  for (let i = 0; i < slots.length; i++) {
    const v = slots[i]!;
    if (v === 0) continue;
    full++;
    const e = v - 1;
    if (e < 0 || e >= E.used) fail(where, `1: slot ${i} holds entry ${e} (used ${E.used})`);
    if (seen.has(e)) fail(where, `2: entry ${e} sits in two slots`);
    seen.add(e);
    // Reachable from its home slot through full slots only.
    for (let j = E.hash[e]! & table.mask; j !== i; j = (j + 1) & table.mask) {
      if (slots[j] === 0) fail(where, `2: entry ${e} at slot ${i} is cut off from its home slot`);
    }
    const key = `${E.version[e]}:${Array.from(E.idOf(e)).join(",")}`;
    if (keys.has(key)) fail(where, `3: two entries with the key ${key}`);
    keys.add(key);
  }
  if (full !== table.count) fail(where, `1: ${full} full slots, count says ${table.count}`);
  if (full * 2 > slots.length) fail(where, `1: more than half full (${full}/${slots.length})`);
}

/** `_order.ts` invariants 1 to 3, given the live entries. */
export function checkOrder(order: Order, E: Entries, live: readonly number[]): void {
  const where = "_order.ts";
  const inList = new Set<number>();
  let prev = -1;
  for (let e = order.lo; e !== -1; e = E.next[e]!) {
    if (inList.has(e)) fail(where, `1: the list loops at entry ${e}`);
    if (E.next[e] === IN_HEAP) fail(where, `1: list entry ${e} is marked as in the heap`);
    if (E.prev[e] !== prev) fail(where, `1: entry ${e}'s prev is ${E.prev[e]}, not ${prev}`);
    if (prev !== -1 && !before(E, prev, e)) fail(where, `1: entries ${prev}, ${e} out of order`);
    inList.add(e);
    prev = e;
  }
  if (order.hi !== prev) fail(where, `1: hi is ${order.hi}, the list ends at ${prev}`);
  if (order.heapSize > order.heap.length) fail(where, "2: heap size beyond its array");
  const inHeap = new Set<number>();
  for (let i = 0; i < order.heapSize; i++) {
    const e = order.heap[i]!;
    if (E.next[e] !== IN_HEAP) fail(where, `2: heap entry ${e} is not marked IN_HEAP`);
    if (E.prev[e] !== i) fail(where, `2: heap entry ${e} records position ${E.prev[e]}, not ${i}`);
    if (i > 0 && before(E, e, order.heap[(i - 1) >> 1]!)) {
      fail(where, `2: heap entry ${e} at ${i} comes before its parent`);
    }
    if (inHeap.has(e) || inList.has(e)) fail(where, `3: entry ${e} is in the order twice`);
    inHeap.add(e);
  }
  if (inList.size + inHeap.size !== live.length) {
    fail(where, `3: ${inList.size} + ${inHeap.size} entries ordered, ${live.length} live`);
  }
  for (const e of live) {
    if (!inList.has(e) && !inHeap.has(e)) fail(where, `3: live entry ${e} is not ordered`);
  }
}

/** `_log.ts` invariant 1. */
export function checkLog(log: Log): void {
  const where = "_log.ts";
  if (log.length < 0 || log.length > log.capacity) {
    fail(where, `1: ${log.length} records, capacity ${log.capacity}`);
  }
  for (let r = 0; r < log.length; r++) {
    const kind = log.kind[r]!;
    if (kind < 1 || kind > 4) fail(where, `1: record ${r} has kind ${kind}`);
    if ((kind === INSERT || kind === REMOVE) && (log.id(r).length < 1 || log.id(r).length > 32)) {
      fail(where, `2: record ${r} holds an id of ${log.id(r).length} bytes`);
    }
  }
}

/** `_store.ts` invariants 1 to 3 (3 against `previous`, the counters before the last step). */
export function checkStore(store: Store, previous?: Float64Array): void {
  const live = liveEntries(store.table);
  checkEntries(store.E, live);
  checkTable(store.table, store.E);
  checkOrder(store.order, store.E, live);
  const where = "_store.ts";
  if (store.count !== live.length) fail(where, `1: count ${store.count}, ${live.length} live`);
  const seqs = new Set<number>();
  for (const e of live) {
    const seq = store.E.seq[e]!;
    if (seq >= store.nextSeq) fail(where, `2: entry ${e} seq ${seq} >= nextSeq ${store.nextSeq}`);
    if (seqs.has(seq)) fail(where, `2: two entries with seq ${seq}`);
    seqs.add(seq);
  }
  if (previous !== undefined) {
    for (let i = 0; i < COUNTER_NAMES.length; i++) {
      if (store.counters[i]! < previous[i]!) {
        fail(where, `3: ${COUNTER_NAMES[i]} went down from ${previous[i]} to ${store.counters[i]}`);
      }
    }
  }
}

/** `_history.ts` invariants 1 to 3, for the history of `s`. */
export function checkHistory(h: History): void {
  const where = "_history.ts";
  if (!(h.cursor >= 0 && h.cursor <= h.head && h.head === h.log.length)) {
    fail(where, `1: cursor ${h.cursor}, head ${h.head}, log ${h.log.length}`);
  }
  if (h.latest !== undefined && State.positionOf(h.latest) !== h.head) {
    fail(where, `2: the latest value sits at ${State.positionOf(h.latest)}, head is ${h.head}`);
  }
  if (h.store.log !== null) fail(where, "3: the store records at rest");
  if (!h.escaped && h.log.length !== 0) fail(where, "3: a history that never escaped recorded");
  checkLog(h.log);
}

/** What a value holds, as plain data: compared before and after moving through the history. */
function contents(store: Store): string {
  const E = store.E;
  return JSON.stringify({
    counters: Array.from(store.counters),
    settings: Array.from(store.settings),
    nextSeq: store.nextSeq,
    order: store.order.sorted(E).map((e) => [
      Array.from(E.idOf(e)),
      E.version[e],
      E.time[e],
      E.timeout[e],
      E.seq[e],
      E.sidCtxs[e] === undefined ? null : Array.from(E.sidCtxs[e]!),
    ]),
  });
}

/**
 * Every invariant of the core on value `cache`: its store (moved to it) and its history; and,
 * when it is not the start of its history, that undoing its last record and redoing it gives
 * back exactly the value before and itself (the log holds what the store held).
 */
export function checkState(cache: CacheState, previousCounters?: Float64Array): void {
  const s = cache as unknown as State;
  const h = State.historyOf(s);
  const pos = State.positionOf(s);
  checkHistory(h);
  const store = State.storeOf(s);
  checkStore(store, previousCounters);
  if (pos > 0) {
    const here = contents(store);
    moveTo(h, pos - 1);
    checkStore(store);
    moveTo(h, pos);
    if (contents(store) !== here) {
      fail("_log.ts", "2: undoing and redoing a record changed the value");
    }
  }
}

/** A copy of a value's counters, for the next `checkState`'s invariant 3 of `_store.ts`. */
export function countersOf(cache: CacheState): Float64Array {
  return State.storeOf(cache as unknown as State).counters.slice();
}
