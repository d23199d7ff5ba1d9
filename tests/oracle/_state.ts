/**
 * The machinery behind the core's public functions: the value class, the
 * mutable draft an operation builds the next value in, and OpenSSL's cache
 * operations on a draft (`SSL_CTX_add_session`, `remove_session_lock`,
 * `SSL_CTX_flush_sessions`, the re-sort of `SSL_SESSION_list_add`).
 *
 * Internal: not re-exported from `core.ts`.
 *
 * @module
 */

import {
  EMPTY_TABLE,
  hashKey,
  type Table,
  tableGet,
  tableRemove,
  tableRemoveAll,
  tableSet,
} from "./_table.ts";
import {
  type Order,
  orderDropBelow,
  orderDropFirst,
  orderEntries,
  orderInsert,
  orderMin,
  orderRemove,
} from "./_order.ts";
import { derive, type Entry, makeEntry, originOf, tableKeyOf } from "./_entry.ts";
import { SESS_CACHE_UPDATE_TIME } from "../../src/modes.ts";
import type { Removal, Session } from "../../src/session.ts";

/** The twelve counters, by OpenSSL's names (the public `CacheStats` documents each). */
export type Counters = {
  -readonly [
    K in
      | "number"
      | "connect"
      | "connectGood"
      | "connectRenegotiate"
      | "accept"
      | "acceptGood"
      | "acceptRenegotiate"
      | "hits"
      | "cbHits"
      | "misses"
      | "timeouts"
      | "cacheFull"
  ]: number;
};

/** The value behind the public `CacheState` interface (which it satisfies structurally). */
export class State {
  constructor(
    readonly cacheSize: number,
    readonly mode: number,
    readonly timeout: number,
    readonly stats: Readonly<Counters>,
    readonly table: Table<Entry>,
    readonly order: Order<Entry>,
    readonly nextSeq: number,
    /** The soonest expiry cached (`Infinity` when empty): a flush that would remove nothing is O(1). */
    readonly soonestExpiry: number,
  ) {
    Object.freeze(this);
  }

  get size(): number {
    return this.stats.number;
  }
}

/** A mutable draft of the next state: lives only inside one core function. */
export interface Draft {
  cacheSize: number;
  mode: number;
  timeout: number;
  stats: Counters;
  table: Table<Entry>;
  order: Order<Entry>;
  nextSeq: number;
  soonestExpiry: number;
  /** Set when an entry at the soonest expiry was unlinked: recomputed at commit. */
  soonestStale: boolean;
}

export const ZERO_STATS: Readonly<Counters> = Object.freeze({
  number: 0,
  connect: 0,
  connectGood: 0,
  connectRenegotiate: 0,
  accept: 0,
  acceptGood: 0,
  acceptRenegotiate: 0,
  hits: 0,
  cbHits: 0,
  misses: 0,
  timeouts: 0,
  cacheFull: 0,
});

export function emptyState(cacheSize: number, mode: number, timeout: number): State {
  return new State(cacheSize, mode, timeout, ZERO_STATS, EMPTY_TABLE, null, 0, Infinity);
}

export function withSettings(s: State, cacheSize: number, mode: number, timeout: number): State {
  return new State(cacheSize, mode, timeout, s.stats, s.table, s.order, s.nextSeq, s.soonestExpiry);
}

export function asState(cache: unknown): State {
  if (!(cache instanceof State)) {
    throw new TypeError(
      "Cannot use cache state: value was not made by createCacheState",
    );
  }
  return cache;
}

export function draftOf(s: State): Draft {
  return {
    cacheSize: s.cacheSize,
    mode: s.mode,
    timeout: s.timeout,
    stats: { ...s.stats },
    table: s.table,
    order: s.order,
    nextSeq: s.nextSeq,
    soonestExpiry: s.soonestExpiry,
    soonestStale: false,
  };
}

export function commit(d: Draft): State {
  return new State(
    d.cacheSize,
    d.mode,
    d.timeout,
    Object.freeze(d.stats),
    d.table,
    d.order,
    d.nextSeq,
    d.soonestStale ? (orderMin(d.order)?.expiry ?? Infinity) : d.soonestExpiry,
  );
}

/** Notes that `e` left the order (ensure invariant 5 at commit). */
function noteUnlinked(d: Draft, e: Entry): void {
  if (e.expiry <= d.soonestExpiry) d.soonestStale = true;
}

/** Notes that `e` joined the order (ensure invariant 5). */
function noteLinked(d: Draft, e: Entry): void {
  if (e.expiry < d.soonestExpiry) d.soonestExpiry = e.expiry;
}

/** The entry cached under (version, id), if any. */
export function findEntry(
  s: State | Draft,
  id: Uint8Array,
  version: number | undefined,
): Entry | undefined {
  const key = tableKeyOf(id, version);
  return tableGet(s.table, hashKey(key), key);
}

/** Unlinks a cached entry from the table and the order. */
export function unlink(d: Draft, e: Entry): void {
  d.table = tableRemove(d.table, e.hash, e.key);
  d.order = orderRemove(d.order, e);
  noteUnlinked(d, e);
  d.stats.number -= 1;
}

/**
 * Re-inserts an already cached session as `session` (`SSL_SESSION_list_add`
 * on a linked session): the entry moves to the head side of its tie group.
 */
export function relink(d: Draft, old: Entry, session: Session): Entry {
  const e = makeEntry(session, old.origin, d.nextSeq++, old.key, old.hash);
  d.order = orderInsert(orderRemove(d.order, old), e);
  noteUnlinked(d, old);
  noteLinked(d, e);
  d.table = tableSet(d.table, e);
  return e;
}

/** What `SSL_CTX_add_session` did on a draft. */
export interface Added {
  readonly added: boolean;
  readonly session: Session;
  readonly removed: Removal[];
  readonly replaced: Session | undefined;
}

/** `SSL_CTX_add_session` on a draft; see `add` in `cache_state.ts`. */
export function addTo(d: Draft, session: Session, now: number | undefined): Added {
  const key = tableKeyOf(session.id, session.version);
  const hash = hashKey(key);
  const existing = tableGet(d.table, hash, key);
  const origin = originOf(session);
  const updateTime = (d.mode & SESS_CACHE_UPDATE_TIME) !== 0;
  if (updateTime && now === undefined) {
    throw new TypeError("Cannot add session: now is required when the mode has UPDATE_TIME");
  }
  if (existing !== undefined && existing.origin === origin) {
    // The same session again: OpenSSL re-sorts it and returns 0. The cached
    // copy is the current state of "that object", so it is the one kept.
    const current = updateTime ? derive(existing.session, { time: now! }) : existing.session;
    relink(d, existing, current);
    return { added: false, session: current, removed: [], replaced: undefined };
  }
  const cached = updateTime ? derive(session, { time: now! }) : session;
  let replaced: Session | undefined;
  if (existing !== undefined) {
    // Same key, another object: OpenSSL unlinks the old one without a callback.
    replaced = existing.session;
    unlink(d, existing);
  }
  const entry = makeEntry(cached, origin, d.nextSeq++, key, hash);
  d.table = tableSet(d.table, entry);
  d.stats.number += 1;
  const removed: Removal[] = [];
  if (d.cacheSize > 0 && d.stats.number >= d.cacheSize) {
    // `while (number >= cache_size) evict tail`, counted with the new session
    // in the table but not yet in the list: size N keeps N - 1 (N >= 2).
    const linked = d.stats.number - 1;
    const evict = Math.min(linked, d.stats.number - d.cacheSize + 1);
    const out: Entry[] = [];
    d.order = orderDropFirst(d.order, evict, out);
    if (out.length > 0) d.soonestStale = true;
    d.table = tableRemoveAll(d.table, out);
    for (const e of out) removed.push({ session: e.session, reason: "evicted" });
    d.stats.number -= out.length;
    d.stats.cacheFull += out.length;
  }
  d.order = orderInsert(d.order, entry);
  noteLinked(d, entry);
  return { added: true, session: cached, removed, replaced };
}

/** `SSL_CTX_flush_sessions(ctx, tm)` on a draft: the removals, in order. */
export function flushDraft(d: Draft, tm: number): Removal[] {
  const out: Entry[] = [];
  if (tm === 0) {
    for (const e of orderEntries(d.order)) out.push(e);
    d.order = null;
    d.table = EMPTY_TABLE;
  } else {
    // Nothing expires before the soonest expiry: O(1) for the common flush.
    if (!d.soonestStale && !(d.soonestExpiry < tm)) return [];
    d.order = orderDropBelow(d.order, tm, out);
    d.table = tableRemoveAll(d.table, out);
  }
  if (out.length > 0) d.soonestStale = true;
  d.stats.number -= out.length;
  const reason = tm === 0 ? "cleared" : "expired";
  return out.map((e) => ({ session: e.session, reason }));
}

/** The entries in ascending `(expiry, seq)` order. */
export function entriesOf(s: State): Generator<Entry, void, undefined> {
  return orderEntries(s.order);
}
