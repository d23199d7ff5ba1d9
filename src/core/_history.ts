// This module is browser compatible.

/**
 * Immutable values over one mutable store: the design behind the core.
 *
 * A {@linkcode State} (the public `CacheState`) is a position in the
 * history of a store. The store's arrays hold one position at a time (the
 * `cursor`); the log (`_log.ts`) holds every change since the history began,
 * so the store can be moved to any earlier position by undoing records, and
 * forward again by redoing them (rerooting, after Baker's shallow binding).
 * The newest value is the one the caller usually holds, so its operations
 * cost what the flat structure costs, plus the record of the change.
 *
 * - An operation on the newest value changes the store in place and records
 *   the change; the new value is the new end of the history, the old one
 *   stays valid (reading it moves the cursor back, O(changes since)).
 * - An operation on an older value that changes something branches: the
 *   store is copied at that value's position, O(n), and the branch gets a
 *   history of its own. One that changes nothing returns the value itself.
 * - A history whose values nobody else holds records nothing: the shell,
 *   which owns its store, changes it in place like a plain mutable cache,
 *   until it hands its value out (`SessionCache.state`).
 * - Bounded memory: when a log grows past four records per cached session
 *   (at least 4096), the history splits. The old values keep the log and get
 *   a copy of the store at its end; the newest value continues with the
 *   store and an empty log. So an old value held forever keeps at most one
 *   such log and one copy alive, never the whole history since.
 *
 * Invariants (checked by `tests/_check.ts`):
 * 1. `cursor <= head === log.length`; the store holds the value at `cursor`.
 * 2. `latest`, when set, is the value at `head`; every value of the history
 *    has a position from 0 to `head`.
 * 3. The store records into `log` exactly while an operation on a value of
 *    a history that `escaped` runs; at rest, `store.log` is null.
 *
 * | operation                                 | cost                                  |
 * |-------------------------------------------|---------------------------------------|
 * | an operation on the newest value          | the store's own cost, + O(1) to record |
 * | the first read of a value k changes old   | O(k) (then O(1) while it stays current) |
 * | an operation that changes an old value    | O(n): the branch copies the store     |
 * | a split (every 4n records, recording only) | O(n), amortized O(1) per record      |
 *
 * Internal: not re-exported from `core.ts`.
 *
 * @module
 */

import { COUNTER, INSERT, Log, REMOVE, SETTING } from "./_log.ts";
import { CACHE_SIZE, COUNTER_NAMES, MODE, type Store, TIMEOUT } from "./_store.ts";
import { byteLength } from "../_validate.ts";
import type { Session } from "../session.ts";

/** The counters as the public `CacheStats` names them. */
export type Stats = { readonly [K in (typeof COUNTER_NAMES)[number] | "number"]: number };

/** The history of one store. */
export class History {
  store: Store;
  log: Log;
  /** The position the store holds. */
  cursor = 0;
  /** The newest position. */
  head = 0;
  /** The value at `head`; `undefined` after a split left this history to its old values. */
  latest: State | undefined;
  /** Whether values of this history may be held outside the cache: then changes are recorded. */
  escaped: boolean;

  constructor(store: Store, escaped: boolean, logCapacity?: number) {
    this.store = store;
    this.log = new Log(logCapacity);
    this.escaped = escaped;
    this.latest = new State(this, 0);
  }
}

/** The value behind the public `CacheState` interface (which it satisfies structurally). */
export class State {
  #h: History;
  #pos: number;
  #size: number;
  #cacheSize: number;
  #mode: number;
  #timeout: number;
  #stats: Stats | undefined;

  constructor(h: History, pos: number) {
    this.#h = h;
    this.#pos = pos;
    const store = h.store;
    this.#size = store.count;
    this.#cacheSize = store.settings[CACHE_SIZE]!;
    this.#mode = store.settings[MODE]!;
    this.#timeout = store.settings[TIMEOUT]!;
    // No property of a value can change; its private fields are the cache's business.
    Object.freeze(this);
  }

  /** Most sessions kept; 0 means unlimited. */
  get cacheSize(): number {
    return this.#cacheSize;
  }

  /** The `SESS_CACHE_*` mode bits. */
  get mode(): number {
    return this.#mode;
  }

  /** Default lifetime in seconds for new sessions. */
  get timeout(): number {
    return this.#timeout;
  }

  /** Sessions cached. */
  get size(): number {
    return this.#size;
  }

  /** The counters (a frozen object, the same one on every read). */
  get stats(): Stats {
    if (this.#stats === undefined) {
      const store = State.storeOf(this);
      const stats: Record<string, number> = { number: store.count };
      COUNTER_NAMES.forEach((name, i) => stats[name] = store.counters[i]!);
      this.#stats = Object.freeze(stats) as Stats;
    }
    return this.#stats;
  }

  /** The history a value belongs to. */
  static historyOf(s: State): History {
    return s.#h;
  }

  /** The store, moved to the value's position. */
  static storeOf(s: State): Store {
    moveTo(s.#h, s.#pos);
    return s.#h.store;
  }

  static positionOf(s: State): number {
    return s.#pos;
  }

  /** After the shell changed its unshared value in place: reads the cached fields again. */
  static refresh(s: State): void {
    const store = s.#h.store;
    s.#size = store.count;
    s.#cacheSize = store.settings[CACHE_SIZE]!;
    s.#mode = store.settings[MODE]!;
    s.#timeout = store.settings[TIMEOUT]!;
    s.#stats = undefined;
  }

  /** Moves the newest value to the start of a new history (a split). */
  static retarget(s: State, h: History): void {
    s.#h = h;
    s.#pos = 0;
  }
}

/** The value behind a public `CacheState`, or a `TypeError`. */
export function asState(cache: unknown, action: string): State {
  if (!(cache instanceof State)) {
    throw new TypeError(
      `Cannot ${action}: cache must be a CacheState made by createCacheState: received ${
        cache === null ? "null" : typeof cache
      }`,
    );
  }
  return cache;
}

/** Moves the history's store to position `pos`, undoing or redoing records. */
export function moveTo(h: History, pos: number): void {
  if (h.cursor === pos) return;
  const store = h.store;
  const log = h.log;
  const recording = store.log;
  store.log = null;
  while (h.cursor > pos) apply(store, log, --h.cursor, false);
  while (h.cursor < pos) apply(store, log, h.cursor++, true);
  store.log = recording;
}

/** Applies record `r` of `log` to `store`, forward (redo) or backward (undo). */
function apply(store: Store, log: Log, r: number, forward: boolean): void {
  switch (log.kind[r]) {
    case INSERT:
    case REMOVE: {
      const inserting = (log.kind[r] === INSERT) === forward;
      if (inserting) {
        const id = log.id(r);
        store.insert(
          log.session(r),
          id,
          byteLength(id),
          log.time(r),
          log.timeout(r),
          log.version(r),
          log.sidCtx(r),
          log.data(r),
          log.seq(r),
        );
      } else {
        const e = store.find(log.version(r), log.id(r));
        if (e === -1) {
          throw new Error(
            `Cannot move through the cache's history: record ${r} names a session the store does not hold (a bug in the cache)`,
          );
        }
        store.removeEntry(e);
        // Undoing an insert gives its sequence number back.
        if (!forward) store.nextSeq = log.seq(r);
      }
      break;
    }
    case COUNTER:
      store.counters[log.which(r)] = forward ? log.value(r) : log.old(r);
      break;
    case SETTING:
      store.settings[log.which(r)] = forward ? log.value(r) : log.old(r);
      break;
  }
}

/** Undoes every record of `log`, newest first (a trial run on an old value). */
function undoAll(store: Store, log: Log): void {
  for (let r = log.length - 1; r >= 0; r--) apply(store, log, r, false);
}

/** The records per cached session a log may hold before its history splits. */
const SPLIT_RECORDS_PER_SESSION = 4;
const SPLIT_MIN_RECORDS = 4096;

/**
 * Runs `op` as a transition of `cache`: on the newest value in place
 * (recorded when the history escaped), on an older one by branching. Returns
 * the next value (the same object when nothing changed) and `op`'s result.
 */
export function transition<R>(
  cache: State,
  op: (store: Store) => R,
): { readonly state: State; readonly result: R } {
  const h = State.historyOf(cache);
  if (cache === h.latest) {
    moveTo(h, h.head);
    const store = h.store;
    if (!h.escaped) {
      // Nobody else holds a value of this history: change it in place.
      const result = op(store);
      State.refresh(cache);
      return { state: cache, result };
    }
    const start = h.log.length;
    store.log = h.log;
    let result: R;
    try {
      result = op(store);
    } catch (error) {
      // Operations check everything before their first change, so this is a
      // bug; still, leave the value as it was.
      store.log = null;
      for (let r = h.log.length - 1; r >= start; r--) apply(store, h.log, r, false);
      h.log.length = start;
      throw error;
    } finally {
      store.log = null;
    }
    if (h.log.length === start) return { state: cache, result };
    return { state: advance(h), result };
  }
  // An older value: a trial run tells whether anything changes at all.
  const store = State.storeOf(cache);
  const trial = new Log();
  store.log = trial;
  let tried: R;
  try {
    tried = op(store);
  } finally {
    store.log = null;
  }
  if (trial.length === 0) return { state: cache, result: tried };
  undoAll(store, trial);
  return transition(branchOf(cache), op);
}

/**
 * After an operation recorded into the history's log: the new newest value
 * (at the end of the log), splitting the history when its log grew long.
 */
export function advance(h: History): State {
  h.head = h.cursor = h.log.length;
  const next = new State(h, h.head);
  h.latest = next;
  if (h.log.length > Math.max(SPLIT_MIN_RECORDS, SPLIT_RECORDS_PER_SESSION * h.store.count)) {
    split(h, next);
  }
  return next;
}

/** A new history, owned by nobody yet, that starts with a copy of value `s`. */
export function branchOf(s: State): State {
  return new History(State.storeOf(s).copy(), false).latest!;
}

/**
 * Splits a history whose log grew long: its old values keep the log and get
 * a copy of the store at the end of it; the newest value moves to a new
 * history with the store and an empty log.
 */
function split(h: History, newest: State): void {
  const live = new History(h.store, false, h.log.capacity);
  live.latest = newest;
  State.retarget(newest, live);
  h.store = h.store.copy();
  h.latest = undefined;
}

/** Marks a value as held outside the cache: from now on its history records changes. */
export function escape(s: State): State {
  State.historyOf(s).escaped = true;
  return s;
}

/** The sessions of a value in `flush(0)` order (a snapshot: later changes do not show). */
export function sessionsOf(s: State): Session[] {
  const store = State.storeOf(s);
  const E = store.E;
  return store.order.sorted(E).map((e) => E.sessions[e]!);
}
