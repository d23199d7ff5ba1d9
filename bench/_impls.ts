/**
 * Every implementation the benchmarks compare, behind one small interface:
 * this project's shell (`SessionCache`) and pure core (`cache_state.ts`),
 * its naive reference model (`tests/_model.ts`), and the peers
 * (@isaacs/ttlcache, lru-cache, quick-lru, a plain `Map`).
 *
 * Each peer is configured as its documentation recommends for a bounded
 * store with per-entry expiry that never returns an expired entry:
 * - ttlcache: `max`, `ttl`, `checkAgeOnGet: true` (its README: without it
 *   `get` may return an item past its TTL whose timer has not fired yet).
 *   Purge: `purgeStale()`.
 * - lru-cache: `max`, `ttl`, `allowStale: false` (default), no
 *   `ttlAutopurge` (its README: "may significantly degrade performance"),
 *   `perf` = the simulated clock, `ttlResolution: 0` (the default 1 ms
 *   caches the clock until a real 1 ms timer fires, which never happens
 *   inside a synchronous loop, so a simulated clock would be ignored).
 *   Purge: `purgeStale()`.
 * - quick-lru: `maxSize`, `maxAge`. It has no purge call; it keeps up to
 *   2 x `maxSize` items (two generations), as documented.
 * - Map: insertion-ordered `Map`, evicts the oldest insertion at capacity,
 *   checks expiry on get; purge walks from the oldest entry (exact when all
 *   sessions share one timeout) or scans all (per-session timeouts).
 *
 * Peers key by a 32-char string of the id bytes (one char per byte), made
 * inside the timed operation, as a server must: the id arrives as bytes.
 * Peers count in ms: expiry is strict in OpenSSL (`now > time + timeout`)
 * and in lru-cache, but not in ttlcache or quick-lru (`now >= expiry`), so
 * those two get `ttl + 1` ms; with whole-ms clocks all agree exactly.
 *
 * Contract: `add(s)` is called while the clock reads `s.time`.
 *
 * @module
 */

import { TTLCache } from "@isaacs/ttlcache";
import { LRUCache } from "lru-cache";
import QuickLRU from "quick-lru";
import * as core from "../core.ts";
import { SessionCache } from "../mod.ts";
import type { Session } from "../mod.ts";
import { CacheModel, fieldsOf, hex, type ModelSession } from "../tests/_model.ts";
import * as oracle from "../tests/oracle/mod.ts";
import type { SimClock } from "./_clock.ts";

/** What every implementation offers the workloads. */
export interface Impl {
  /** Stores a session (the clock reads `session.time`). */
  add(session: Session): void;
  /** The server lookup: the cached session, never an expired one. */
  lookup(id: Uint8Array): Session | undefined;
  /** Removes what has expired at the clock's time, where the implementation can. */
  flush(): void;
  /** Entries held (peers may count expired ones not yet purged). */
  size(): number;
  /** Releases timers. */
  close(): void;
  /**
   * Persistent implementations only: captures the current value; calling
   * the returned function makes it current again, in O(1).
   */
  snapshot?(): () => void;
}

/** How a workload wants an implementation configured. */
export interface ImplSpec {
  /** Sessions the cache may hold (SessionCache gets `cacheSize: capacity + 1`: size N holds N - 1). */
  readonly capacity: number;
  /** The default (and, when `uniformTimeout`, every) session timeout, seconds. */
  readonly timeout: number;
  /** True when every session has `timeout`: peers then use their constructor TTL. */
  readonly uniformTimeout: boolean;
  /** True when sessions are added in expiry order (uniform timeout, clock moving forward). */
  readonly inExpiryOrder: boolean;
  readonly clock: SimClock;
}

/** An implementation family. */
export interface ImplKind {
  readonly name: string;
  /** "project" (this library), "model" (naive reference), "peer". */
  readonly role: "project" | "model" | "peer";
  /** Evicts the soonest-expiring session at capacity, ties oldest first (OpenSSL's rule). */
  readonly evictsSoonestExpiry: boolean;
  /** Removes expired entries on flush(). */
  readonly purges: boolean;
  /** Skip sizes above this (an O(n) model). */
  readonly maxSize: number;
  /** True when the implementation reads the global `performance.now` / `Date.now`. */
  readonly needsSimulatedGlobals: boolean;
  make(spec: ImplSpec): Impl;
}

/** The peers' key: one char per id byte. */
export function idKey(id: Uint8Array): string {
  return String.fromCharCode.apply(null, id as unknown as number[]);
}

const shell: ImplKind = {
  name: "SessionCache",
  role: "project",
  evictsSoonestExpiry: true,
  purges: true,
  maxSize: Infinity,
  needsSimulatedGlobals: false,
  make({ capacity, timeout, clock }) {
    const cache = new SessionCache({ cacheSize: capacity + 1, timeout, now: () => clock.sec });
    return {
      add: (s) => void cache.add(s),
      lookup: (id) => cache.lookupSync({ id }),
      flush: () => void cache.flush(clock.sec),
      size: () => cache.size,
      close: () => {},
    };
  },
};

const pure: ImplKind = {
  name: "core",
  role: "project",
  evictsSoonestExpiry: true,
  purges: true,
  maxSize: Infinity,
  needsSimulatedGlobals: false,
  make({ capacity, timeout, clock }) {
    let state = core.createCacheState({ cacheSize: capacity + 1, timeout });
    return {
      add: (s) => {
        state = core.add(state, s).cache;
      },
      lookup: (id) => {
        const r = core.lookup(state, { id }, { now: clock.sec });
        state = r.cache;
        return r.session;
      },
      flush: () => {
        state = core.flush(state, clock.sec).cache;
      },
      size: () => state.size,
      close: () => {},
      snapshot: () => {
        const saved = state;
        return () => {
          state = saved;
        };
      },
    };
  },
};

/**
 * The project's first core (v0.1: a persistent trie and tree, path copying), kept in
 * tests/oracle as the second oracle: the baseline for "the pure API is no slower than it was".
 * Written out beside `pure` rather than made by one factory on purpose: closures of one function
 * literal share the engine's type feedback, so both cores' calls would be measured polymorphic.
 */
const pureV01: ImplKind = {
  name: "core v0.1",
  role: "project",
  evictsSoonestExpiry: true,
  purges: true,
  maxSize: Infinity,
  needsSimulatedGlobals: false,
  make({ capacity, timeout, clock }) {
    let state = oracle.createCacheState({ cacheSize: capacity + 1, timeout });
    return {
      add: (s) => {
        state = oracle.add(state, s).cache;
      },
      lookup: (id) => {
        const r = oracle.lookup(state, { id }, { now: clock.sec });
        state = r.cache;
        return r.session;
      },
      flush: () => {
        state = oracle.flush(state, clock.sec).cache;
      },
      size: () => state.size,
      close: () => {},
      snapshot: () => {
        const saved = state;
        return () => {
          state = saved;
        };
      },
    };
  },
};

const model: ImplKind = {
  name: "naive model",
  role: "model",
  evictsSoonestExpiry: true,
  purges: true,
  maxSize: 20480,
  needsSimulatedGlobals: false,
  make({ capacity, timeout, clock }) {
    const m = new CacheModel({ cacheSize: capacity + 1, timeout });
    const byOrigin: Session[] = [];
    return {
      add: (s) => {
        const origin = byOrigin.length;
        byOrigin.push(s);
        const handle: ModelSession = { origin, ...fieldsOf(s), seq: -1 };
        m.add(handle, clock.sec);
      },
      lookup: (id) => {
        const r = m.lookup({ id: hex(id), version: 0, sidCtx: "", now: clock.sec });
        return r.session === undefined ? undefined : byOrigin[r.session.origin];
      },
      flush: () => void m.flush(clock.sec),
      size: () => m.table.size,
      close: () => {},
    };
  },
};

const ttlcache: ImplKind = {
  name: "@isaacs/ttlcache",
  role: "peer",
  evictsSoonestExpiry: true,
  purges: true,
  maxSize: Infinity,
  needsSimulatedGlobals: true,
  make({ capacity, timeout, uniformTimeout }) {
    const c = new TTLCache<string, Session>({
      max: capacity,
      ttl: timeout * 1000 + 1,
      checkAgeOnGet: true,
    });
    return {
      add: uniformTimeout
        ? (s) => void c.set(idKey(s.id), s)
        : (s) => void c.set(idKey(s.id), s, { ttl: s.timeout * 1000 + 1 }),
      lookup: (id) => c.get(idKey(id)),
      flush: () => c.purgeStale(),
      size: () => c.size,
      close: () => c.cancelTimer(),
    };
  },
};

const lru: ImplKind = {
  name: "lru-cache",
  role: "peer",
  evictsSoonestExpiry: false,
  purges: true,
  maxSize: Infinity,
  needsSimulatedGlobals: false,
  make({ capacity, timeout, uniformTimeout, clock }) {
    const c = new LRUCache<string, Session>({
      max: capacity,
      ttl: timeout * 1000,
      ttlResolution: 0,
      perf: { now: () => clock.sec * 1000 },
    });
    return {
      add: uniformTimeout
        ? (s) => void c.set(idKey(s.id), s)
        : (s) => void c.set(idKey(s.id), s, { ttl: s.timeout * 1000 }),
      lookup: (id) => c.get(idKey(id)),
      flush: () => void c.purgeStale(),
      size: () => c.size,
      close: () => {},
    };
  },
};

const quick: ImplKind = {
  name: "quick-lru",
  role: "peer",
  evictsSoonestExpiry: false,
  purges: false,
  maxSize: Infinity,
  needsSimulatedGlobals: true,
  make({ capacity, timeout, uniformTimeout }) {
    const c = new QuickLRU<string, Session>({ maxSize: capacity, maxAge: timeout * 1000 + 1 });
    return {
      add: uniformTimeout
        ? (s) => void c.set(idKey(s.id), s)
        : (s) => void c.set(idKey(s.id), s, { maxAge: s.timeout * 1000 + 1 }),
      lookup: (id) => c.get(idKey(id)),
      flush: () => {},
      size: () => c.size,
      close: () => {},
    };
  },
};

const map: ImplKind = {
  name: "Map",
  role: "peer",
  // Oldest insertion first: the soonest expiry when sessions arrive in expiry order.
  evictsSoonestExpiry: true,
  purges: true,
  maxSize: Infinity,
  needsSimulatedGlobals: false,
  make({ capacity, inExpiryOrder, clock }) {
    // A Map plus a FIFO queue of what was inserted (a Map's own first key is
    // O(deleted entries) to reach after many deletions from the front).
    const m = new Map<string, Session>();
    let qKeys: string[] = [];
    let qSessions: Session[] = [];
    let head = 0;
    const expired = (s: Session) => clock.sec > s.time + s.timeout;
    const compact = () => {
      if (head > 1024 && head * 2 > qKeys.length) {
        qKeys = qKeys.slice(head);
        qSessions = qSessions.slice(head);
        head = 0;
      }
    };
    /** Drops the oldest queued session; true if it was still cached. */
    const dropOldest = (): boolean => {
      const key = qKeys[head]!;
      const s = qSessions[head]!;
      head++;
      if (m.get(key) === s) {
        m.delete(key);
        return true;
      }
      return false;
    };
    return {
      add: (s) => {
        const key = idKey(s.id);
        if (capacity > 0 && !m.has(key)) {
          while (m.size >= capacity) dropOldest();
        }
        m.set(key, s);
        qKeys.push(key);
        qSessions.push(s);
        compact();
      },
      lookup: (id) => {
        const key = idKey(id);
        const s = m.get(key);
        if (s === undefined) return undefined;
        if (expired(s)) {
          m.delete(key);
          return undefined;
        }
        return s;
      },
      flush: inExpiryOrder
        ? () => {
          while (head < qKeys.length && expired(qSessions[head]!)) dropOldest();
          compact();
        }
        : () => {
          for (const [key, s] of m) if (expired(s)) m.delete(key);
        },
      size: () => m.size,
      close: () => {},
    };
  },
};

/** All implementations, this project's first. */
export const IMPLS: readonly ImplKind[] = [shell, pure, pureV01, model, ttlcache, lru, quick, map];

/** Finds implementations by (case-insensitive) name fragments; all when `names` is empty. */
export function selectImpls(names: readonly string[]): ImplKind[] {
  if (names.length === 0) return [...IMPLS];
  return IMPLS.filter((k) => names.some((n) => k.name.toLowerCase().includes(n.toLowerCase())));
}
