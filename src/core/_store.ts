// This module is browser compatible.

/**
 * The mutable store and OpenSSL's cache operations on it: the sessions
 * (`_entries.ts`), the table (`_table.ts`), the expiry order (`_order.ts`),
 * the counters and the settings, changed in place. Each operation here is
 * one of `ssl/ssl_sess.c`'s functions (`SSL_CTX_add_session`,
 * `remove_session_lock`, `SSL_CTX_flush_sessions`, `lookup_sess_in_cache`
 * with `ssl_get_prev_session`, `ssl_update_cache`), on inputs already read
 * and checked (`_input.ts`).
 *
 * With a `log` attached, every change is also recorded (`_log.ts`), which is
 * what lets the values of the public API (`_history.ts`) stay immutable; the
 * shell, which owns its store, runs without one.
 *
 * Every operation checks all it needs before its first change, so an
 * operation either happens whole or throws having changed nothing.
 *
 * Invariants (checked by `tests/_check.ts`, with those of the parts):
 * 1. The table and the order hold the same live entries; `count` is their number.
 * 2. `seq` of every live entry is below `nextSeq`, and no two are equal.
 * 3. Counters only grow.
 *
 * Internal: not re-exported from `core.ts`.
 *
 * @module
 */

import { Entries, hashKey, SidCtxCopies } from "./_entries.ts";
import { Table } from "./_table.ts";
import { Order } from "./_order.ts";
import { COUNTER, INSERT, type Log, REMOVE, SETTING } from "./_log.ts";
import {
  deriveSession,
  type KeyInput,
  type LookupInput,
  originOf,
  type SessionInput,
  type SettingsInput,
} from "./_input.ts";
import {
  SESS_CACHE_CLIENT,
  SESS_CACHE_NO_AUTO_CLEAR,
  SESS_CACHE_NO_INTERNAL_LOOKUP,
  SESS_CACHE_NO_INTERNAL_STORE,
  SESS_CACHE_SERVER,
  SESS_CACHE_SERVER as DEFAULT_MODE,
  SESS_CACHE_UPDATE_TIME,
} from "../modes.ts";
import type { Removal, Session } from "../session.ts";
import { expiryInto, isAfter, microsOf, secondsOf } from "../_time.ts";
import { byteLength, copyBytes } from "../_validate.ts";

/** OpenSSL's default cache size, `SSL_SESSION_CACHE_MAX_SIZE_DEFAULT` (1024 * 20). */
export const DEFAULT_CACHE_SIZE = 20480;
/** The default session timeout OpenSSL's code sets on a context: 7200 s (its man pages say 300). */
export const DEFAULT_TIMEOUT = 7200;

/** The counters, by OpenSSL's names, in `Store.counters` (`number` is the table's count). */
export const COUNTER_NAMES = [
  "connect",
  "connectGood",
  "connectRenegotiate",
  "accept",
  "acceptGood",
  "acceptRenegotiate",
  "hits",
  "cbHits",
  "misses",
  "timeouts",
  "cacheFull",
] as const;
const CONNECT = 0;
const CONNECT_GOOD = 1;
const CONNECT_RENEGOTIATE = 2;
const ACCEPT = 3;
const ACCEPT_GOOD = 4;
const ACCEPT_RENEGOTIATE = 5;
const HITS = 6;
const CB_HITS = 7;
const MISSES = 8;
const TIMEOUTS = 9;
const CACHE_FULL = 10;

/** The settings, by index in `Store.settings`. */
export const CACHE_SIZE = 0;
export const MODE = 1;
export const TIMEOUT = 2;
/** Most removals per automatic flush; 0: no limit (OpenSSL). */
export const FLUSH_BUDGET = 3;
/** The time of an automatic flush the budget left unfinished, or -1. */
export const PENDING_FLUSH = 4;

/** How a lookup ended. */
export type Outcome = "hit" | "miss" | "expired" | "mismatch";

/** What a lookup or an external resumption did. */
export interface Looked {
  readonly outcome: Outcome;
  readonly session: Session | undefined;
  readonly consultExternal: boolean;
  /** For an internal miss: whether it counted `misses` (not under `NO_INTERNAL_LOOKUP`). */
  readonly missCounted?: boolean;
}

/** What an add did. */
export interface Added {
  readonly added: boolean;
  readonly session: Session;
  readonly replaced: Session | undefined;
}

/** Scratch space for an expiry being computed (seconds, microseconds). */
const EXPIRY = new Float64Array(2);

const MISS: Looked = Object.freeze({
  outcome: "miss",
  session: undefined,
  consultExternal: true,
  missCounted: true,
});
const NOT_LOOKED: Looked = Object.freeze({
  outcome: "miss",
  session: undefined,
  consultExternal: true,
  missCounted: false,
});

/** A key as a string: the version, then one char per id byte. Distinct keys, distinct strings. */
export function keyString(version: number, id: Uint8Array): string {
  let key = String.fromCharCode(version);
  const length = byteLength(id);
  for (let i = 0; i < length; i++) key += String.fromCharCode(id[i]!);
  return key;
}

/**
 * The key of each explicit removal (reason `"removed"`), for the shell: a
 * lookup waiting on the external cache must not bring back a session removed
 * meanwhile.
 */
export const REMOVED_KEYS: WeakMap<Removal, string> = new WeakMap();

/** An explicit removal of the session under this key. */
function removedRemoval(session: Session, version: number, id: Uint8Array): Removal {
  const removal: Removal = { session, reason: "removed" };
  REMOVED_KEYS.set(removal, keyString(version, id));
  return removal;
}

export class Store {
  E: Entries;
  table: Table;
  order: Order;
  sidCtxCopies: SidCtxCopies;
  counters: Float64Array;
  settings: Float64Array;
  nextSeq = 0;
  /** Where changes are recorded, if anywhere. */
  log: Log | null = null;

  constructor(cacheSize: number, mode: number, timeout: number) {
    this.E = new Entries(0);
    this.table = new Table();
    this.order = new Order();
    this.sidCtxCopies = new SidCtxCopies();
    this.counters = new Float64Array(COUNTER_NAMES.length);
    this.settings = Float64Array.of(cacheSize, mode, timeout, 0, -1);
  }

  /** Sessions cached now. */
  get count(): number {
    return this.table.count;
  }

  get cacheSize(): number {
    return this.settings[CACHE_SIZE]!;
  }
  get mode(): number {
    return this.settings[MODE]!;
  }
  get timeout(): number {
    return this.settings[TIMEOUT]!;
  }

  /** An independent copy, without a log. */
  copy(): Store {
    const s = new Store(0, 0, 0);
    s.E = this.E.copy();
    s.table = this.table.copy();
    s.order = this.order.copy();
    s.sidCtxCopies = this.sidCtxCopies;
    s.counters = this.counters.slice();
    s.settings = this.settings.slice();
    s.nextSeq = this.nextSeq;
    s.log = null;
    return s;
  }

  // -- primitives: every change of the store goes through these ----------------------------

  /** Inserts a session with these fields; the entry. */
  insert(
    session: Session,
    id: Uint8Array,
    idLength: number,
    time: number,
    timeout: number,
    version: number,
    sidCtx: Uint8Array | undefined,
    data: Uint8Array | undefined,
    seq: number,
    hash: number = hashKey(version, id, idLength),
  ): number {
    const E = this.E;
    const e = E.allocate();
    E.sessions[e] = session;
    E.datas[e] = data;
    E.sidCtxs[e] = sidCtx;
    E.time[e] = time;
    E.timeout[e] = timeout;
    expiryInto(time, timeout, EXPIRY);
    E.expSec[e] = EXPIRY[0]!;
    E.expMicro[e] = EXPIRY[1]!;
    E.seq[e] = seq;
    E.version[e] = version;
    E.hash[e] = hash;
    E.setId(e, id, idLength);
    this.table.insert(E, e);
    this.order.insert(E, e);
    if (seq >= this.nextSeq) this.nextSeq = seq + 1;
    this.log?.entry(INSERT, E, e);
    return e;
  }

  /** Removes live entry `e`. */
  removeEntry(e: number): void {
    const E = this.E;
    this.log?.entry(REMOVE, E, e);
    this.order.remove(E, e);
    this.table.remove(E, e);
    E.free(e);
  }

  /** Adds `by` to counter `i`. */
  bump(i: number, by = 1): void {
    const old = this.counters[i]!;
    this.counters[i] = old + by;
    this.log?.change(COUNTER, i, old, old + by);
  }

  /** Sets setting `which`. */
  set(which: number, value: number): void {
    const old = this.settings[which]!;
    if (old === value) return;
    this.settings[which] = value;
    this.log?.change(SETTING, which, old, value);
  }

  /** The live entry with this key, or -1. */
  find(version: number, id: Uint8Array): number {
    const length = byteLength(id);
    return this.table.find(this.E, hashKey(version, id, length), version, id, length);
  }

  /** `find`, with the key's hash at hand. */
  #findHashed(hash: number, version: number, id: Uint8Array, length: number): number {
    return this.table.find(this.E, hash, version, id, length);
  }

  /** Inserts the session of `s` (a new entry with the next seq), with `time` as its time. */
  #insertInput(
    s: SessionInput,
    session: Session,
    time: number,
    length: number,
    hash: number,
  ): number {
    const sidCtx = s.sidCtx === undefined ? undefined : this.sidCtxCopies.copyOf(s.sidCtx);
    return this.insert(
      session,
      s.id,
      length,
      time,
      s.timeout,
      s.version,
      sidCtx,
      s.data,
      this.nextSeq,
      hash,
    );
  }

  /**
   * Re-inserts live entry `e` as `session` with new times, at the head side
   * of its tie group (`SSL_SESSION_list_add` on a linked session).
   */
  #relink(e: number, session: Session, time: number, timeout: number): void {
    const E = this.E;
    const id = E.idOf(e);
    const version = E.version[e]!;
    const sidCtx = E.sidCtxs[e];
    const data = E.datas[e];
    this.removeEntry(e);
    this.insert(
      session,
      id,
      id.length,
      time,
      timeout,
      version,
      sidCtx,
      data,
      this.nextSeq,
    );
  }

  /** A frozen copy of live entry `e`'s session with new times (the same session). */
  #derive(e: number, time: number, timeout: number): Session {
    const E = this.E;
    const sidCtx = E.sidCtxs[e];
    return deriveSession({
      id: E.idOf(e),
      time,
      timeout,
      version: E.version[e]!,
      sidCtx: sidCtx === undefined ? undefined : sidCtx.slice(),
      data: E.datas[e],
    }, originOf(E.sessions[e]!));
  }

  // -- OpenSSL's operations -------------------------------------------------------------------

  /**
   * `SSL_CTX_add_session`. Evictions are appended to `out`. `now` must be
   * given when the mode has `UPDATE_TIME` (the caller checks).
   */
  add(s: SessionInput, now: number | undefined, out: Removal[]): Added {
    const E = this.E;
    const updateTime = (this.mode & SESS_CACHE_UPDATE_TIME) !== 0;
    const length = byteLength(s.id);
    const hash = hashKey(s.version, s.id, length);
    const existing = this.#findHashed(hash, s.version, s.id, length);
    if (existing !== -1 && originOf(E.sessions[existing]!) === s.origin) {
      // The same session again: OpenSSL re-sorts it and returns 0. The cached
      // copy is the current state of "that object", so it is the one kept.
      const time = updateTime ? now! : E.time[existing]!;
      const current = updateTime
        ? this.#derive(existing, time, E.timeout[existing]!)
        : E.sessions[existing]!;
      this.#relink(existing, current, time, E.timeout[existing]!);
      return { added: false, session: current, replaced: undefined };
    }
    let replaced: Session | undefined;
    if (existing !== -1) {
      // Same key, another object: OpenSSL unlinks the old one without a callback.
      replaced = E.sessions[existing];
      this.removeEntry(existing);
    }
    const time = updateTime ? now! : s.time;
    const cached = updateTime
      ? deriveSession({
        id: copyBytes(s.id),
        time,
        timeout: s.timeout,
        version: s.version,
        sidCtx: s.sidCtx === undefined ? undefined : copyBytes(s.sidCtx),
        data: s.data,
      }, s.origin)
      : s.session;
    const cacheSize = this.cacheSize;
    if (cacheSize > 0) {
      // `while (number >= cache_size) evict tail`, counted with the new session
      // in the table but not yet in the list: size N keeps N - 1 (N >= 2).
      let evict = Math.min(this.count, this.count + 2 - cacheSize);
      for (; evict > 0; evict--) {
        const tail = this.order.soonest(E);
        out.push({ session: E.sessions[tail]!, reason: "evicted" });
        this.removeEntry(tail);
        this.bump(CACHE_FULL);
      }
    }
    this.#insertInput(s, cached, time, length, hash);
    return { added: true, session: cached, replaced };
  }

  /** `SSL_CTX_remove_session`: removes by key; the callback always hears of the argument. */
  remove(s: SessionInput, out: Removal[]): boolean {
    out.push(removedRemoval(s.session, s.version, s.id));
    const e = this.find(s.version, s.id);
    if (e === -1) return false;
    this.removeEntry(e);
    return true;
  }

  /**
   * `SSL_CTX_flush_sessions(ctx, tm)`: `tm === 0` removes all, else every
   * session with `tm > expiry`, soonest first, at most `budget` of them (0:
   * no limit). Returns whether an expired session was left (budget spent).
   */
  flush(tm: number, out: Removal[], budget = 0): boolean {
    const E = this.E;
    const reason = tm === 0 ? "cleared" : "expired";
    const tmSec = secondsOf(tm);
    const tmMicro = microsOf(tm);
    for (let removed = 0;; removed++) {
      const e = this.order.soonest(E);
      if (e === -1 || (tm !== 0 && !isAfter(tmSec, tmMicro, E.expSec[e]!, E.expMicro[e]!))) {
        return false;
      }
      if (budget > 0 && removed === budget) return true;
      out.push({ session: E.sessions[e]!, reason });
      this.removeEntry(e);
    }
  }

  /** Whether `flush(tm)` would remove anything: O(1). */
  wouldFlush(tm: number): boolean {
    const e = this.order.soonest(this.E);
    return e !== -1 &&
      (tm === 0 || isAfter(secondsOf(tm), microsOf(tm), this.E.expSec[e]!, this.E.expMicro[e]!));
  }

  /** The cached session with this key, or `undefined`. */
  get(key: KeyInput): Session | undefined {
    const e = this.find(key.version, key.id);
    return e === -1 ? undefined : this.E.sessions[e];
  }

  /** `SSL_SESSION_set_time` / `_set_timeout` on a cached session: re-sorts it. */
  update(
    key: KeyInput,
    time: number | undefined,
    timeout: number | undefined,
  ): Session | undefined {
    const e = this.find(key.version, key.id);
    if (e === -1) return undefined;
    const E = this.E;
    const t = time ?? E.time[e]!;
    const to = timeout ?? E.timeout[e]!;
    const session = this.#derive(e, t, to);
    this.#relink(e, session, t, to);
    return session;
  }

  /**
   * The internal part of a server's lookup (`lookup_sess_in_cache` and
   * `ssl_get_prev_session`): a miss counts `misses` and asks for the
   * external cache; a hit is checked for context and expiry.
   */
  lookup(request: LookupInput, now: number, out: Removal[]): Looked {
    if ((this.mode & SESS_CACHE_NO_INTERNAL_LOOKUP) !== 0) return NOT_LOOKED;
    const e = this.find(request.version, request.id);
    if (e === -1) {
      this.bump(MISSES);
      return MISS;
    }
    const E = this.E;
    return this.#admit(
      e,
      E.sessions[e]!,
      E.version[e]!,
      E.sidCtxs[e],
      E.expSec[e]!,
      E.expMicro[e]!,
      request,
      now,
      out,
    );
  }

  /**
   * Takes a session the external cache returned after an internal miss:
   * `cbHits + 1`, stored with full add semantics unless `NO_INTERNAL_STORE`,
   * then checked like an internal hit.
   */
  resumeExternal(s: SessionInput, request: LookupInput, now: number, out: Removal[]): Looked {
    this.bump(CB_HITS);
    if ((this.mode & SESS_CACHE_NO_INTERNAL_STORE) === 0) {
      this.add(s, now, out);
      const e = this.find(s.version, s.id);
      const E = this.E;
      return this.#admit(
        e,
        E.sessions[e]!,
        E.version[e]!,
        E.sidCtxs[e],
        E.expSec[e]!,
        E.expMicro[e]!,
        request,
        now,
        out,
      );
    }
    // Not stored; an expired one is still removed by its key (SSL_CTX_remove_session),
    // which takes out a cached session with that key.
    const e = this.find(s.version, s.id);
    expiryInto(s.time, s.timeout, EXPIRY);
    return this.#admit(
      e,
      s.session,
      s.version,
      s.sidCtx,
      EXPIRY[0]!,
      EXPIRY[1]!,
      request,
      now,
      out,
    );
  }

  /**
   * Steps 3 to 5 of the lookup: another version or context is a silent
   * miss; past its expiry the session is removed (`SSL_CTX_remove_session`,
   * by entry `e` when cached); else a hit.
   */
  #admit(
    e: number,
    session: Session,
    version: number,
    sidCtx: Uint8Array | undefined,
    expSec: number,
    expMicro: number,
    request: LookupInput,
    now: number,
    out: Removal[],
  ): Looked {
    if (version !== request.version || !sameContext(sidCtx, request.sidCtx)) {
      return { outcome: "mismatch", session: undefined, consultExternal: false };
    }
    if (isAfter(secondsOf(now), microsOf(now), expSec, expMicro)) {
      this.bump(TIMEOUTS);
      if (e !== -1) this.removeEntry(e);
      out.push(removedRemoval(session, request.version, request.id));
      return { outcome: "expired", session: undefined, consultExternal: false };
    }
    this.bump(HITS);
    return { outcome: "hit", session, consultExternal: false };
  }

  /** Takes back the miss an internal lookup counted (for a lookup refused after it). */
  uncountMiss(): void {
    this.bump(MISSES, -1);
  }

  /** Counts a handshake that began. */
  handshakeStarted(server: boolean, renegotiate: boolean): void {
    this.bump(
      renegotiate
        ? (server ? ACCEPT_RENEGOTIATE : CONNECT_RENEGOTIATE)
        : (server ? ACCEPT : CONNECT),
    );
  }

  /**
   * `tls_finish_handshake` and `ssl_update_cache`: stores a new session
   * (evictions go to `removed`), runs the automatic flush (to `flushed`),
   * counts the handshake good. Returns the session for the new-session
   * callback, if any.
   */
  handshakeCompleted(
    server: boolean,
    s: SessionInput | undefined,
    resumed: boolean,
    tls13: boolean,
    now: number,
    removed: Removal[],
    flushed: Removal[],
  ): Session | undefined {
    const mode = this.mode;
    const bit = server ? SESS_CACHE_SERVER : SESS_CACHE_CLIENT;
    // With a flush budget: the rest of an unfinished automatic flush first.
    const spent = this.#continueFlush(removed);
    let newSession: Session | undefined;
    if (!server && tls13) {
      // A TLS 1.3 client's ticket is used once: SSL_CTX_remove_session.
      if (s !== undefined && (mode & SESS_CACHE_CLIENT) !== 0) this.remove(s, removed);
    } else if (s !== undefined) {
      // A TLS 1.3 server stores every handshake's session, resumed or not (it
      // sends new tickets); OpenSSL does that while building the ticket, before
      // counting the handshake good, which is the order followed here.
      if ((mode & bit) !== 0 && (!resumed || tls13)) {
        newSession = (mode & SESS_CACHE_NO_INTERNAL_STORE) === 0
          ? this.add(s, now, removed).session
          : s.session;
      }
      const good = this.counters[server ? ACCEPT_GOOD : CONNECT_GOOD]!;
      if ((mode & SESS_CACHE_NO_AUTO_CLEAR) === 0 && (mode & bit) !== 0 && (good & 0xff) === 0xff) {
        // OpenSSL 3.3 passes time(NULL) here: whole seconds.
        this.#autoFlush(Math.floor(now), flushed, spent);
      }
    }
    if (server) this.bump(ACCEPT_GOOD);
    else {
      if (resumed) this.bump(HITS);
      this.bump(CONNECT_GOOD);
    }
    return newSession;
  }

  /**
   * The automatic flush, under the flush budget when one is set: one
   * handshake removes at most the budget, the continuation of an earlier
   * flush (`spent`) included; what is left waits for the next handshakes.
   */
  #autoFlush(tm: number, out: Removal[], spent: number): void {
    const budget = this.settings[FLUSH_BUDGET]!;
    if (budget === 0) {
      this.flush(tm, out);
      return;
    }
    const pending = this.settings[PENDING_FLUSH]!;
    if (spent >= budget) {
      // This handshake's budget is spent: the later flush time waits instead.
      this.set(PENDING_FLUSH, Math.max(pending, tm));
      return;
    }
    const left = this.flush(Math.max(pending, tm), out, budget - spent);
    this.set(PENDING_FLUSH, left ? Math.max(pending, tm) : -1);
  }

  /**
   * With a flush budget: goes on with an automatic flush the budget left
   * unfinished (at the start of every completed handshake). Returns how
   * many sessions it removed.
   */
  #continueFlush(out: Removal[]): number {
    const tm = this.settings[PENDING_FLUSH]!;
    if (tm < 0) return 0;
    const before = out.length;
    const left = this.flush(tm, out, this.settings[FLUSH_BUDGET]!);
    if (!left) this.set(PENDING_FLUSH, -1);
    return out.length - before;
  }
}

function sameContext(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  const la = a === undefined ? 0 : byteLength(a);
  if (la !== (b === undefined ? 0 : byteLength(b))) return false;
  for (let i = 0; i < la; i++) if (a![i] !== b![i]) return false;
  return true;
}

/** Applies read settings to a store (absent ones are kept). */
export function applySettings(store: Store, settings: SettingsInput): void {
  if (settings.cacheSize !== undefined) store.set(CACHE_SIZE, settings.cacheSize);
  if (settings.mode !== undefined) store.set(MODE, settings.mode);
  if (settings.timeout !== undefined) store.set(TIMEOUT, settings.timeout);
  if (settings.flushBudget !== undefined) store.set(FLUSH_BUDGET, settings.flushBudget);
}

/** A new store with OpenSSL's defaults and these settings (already read). */
export function newStore(settings: SettingsInput): Store {
  const store = new Store(DEFAULT_CACHE_SIZE, DEFAULT_MODE, DEFAULT_TIMEOUT);
  applySettings(store, settings);
  return store;
}
