/**
 * Trace builders. Every trace is a deterministic function of its seed, so
 * every implementation replays exactly the same operations, and every input
 * (ids, session objects, lookup ids) is built before the timed code runs.
 *
 * @module
 */

import type { Session } from "../mod.ts";
import { randomId, Rng } from "./_rng.ts";

/** Operation kinds in a trace. */
export const ADD = 0;
export const LOOKUP = 1;

/** A slice of a server trace: parallel arrays, one entry per operation. */
export interface Chunk {
  readonly length: number;
  /** ADD or LOOKUP. */
  readonly kinds: Uint8Array;
  /** The simulated clock (seconds) when the operation runs. */
  readonly times: Float64Array;
  /** The session to add (ADD), else undefined. */
  readonly sessions: (Session | undefined)[];
  /** The id to look up (LOOKUP): a fresh copy, as parsed from a ClientHello. */
  readonly ids: (Uint8Array | undefined)[];
}

/** Settings of {@linkcode ServerTrace}. */
export interface ServerTraceOptions {
  /** The cache capacity the trace is sized for. */
  readonly capacity: number;
  /** Session lifetime, seconds. Default 300. */
  readonly timeout?: number;
  readonly seed: number;
  /** First clock reading, seconds. Default 1000. */
  readonly start?: number;
}

/**
 * A TLS server's session traffic, generated chunk by chunk:
 * - half the operations (at random) add a new session with a random 32-byte
 *   id, made "now";
 * - the other half look up an id added 0 to 1.5 x capacity adds ago
 *   (uniformly), or, 5 % of them, an id never issued (a client coming from
 *   another server);
 * - the clock runs at `capacity / timeout` adds per second on average, in
 *   alternating bursts of 1.5x and 0.5x that rate (each lasting capacity / 8
 *   adds), so the cache is sometimes full (evictions) and sometimes not
 *   (expiries): some recent ids are expired, some evicted.
 */
export class ServerTrace {
  readonly #rng: Rng;
  readonly #capacity: number;
  readonly #timeout: number;
  /** Ring of the ids of the last `#history` adds. */
  readonly #ring: Uint8Array;
  readonly #history: number;
  readonly #phaseAdds: number;
  #adds = 0;
  #clock: number;

  constructor(options: ServerTraceOptions) {
    this.#rng = new Rng(options.seed);
    this.#capacity = options.capacity;
    this.#timeout = options.timeout ?? 300;
    this.#history = Math.ceil(1.5 * options.capacity) + 1;
    this.#ring = new Uint8Array(this.#history * 32);
    this.#phaseAdds = Math.max(256, Math.floor(options.capacity / 8));
    this.#clock = options.start ?? 1000;
  }

  /** The clock, seconds. */
  get now(): number {
    return Math.floor(this.#clock);
  }

  /** Adds made so far. */
  get adds(): number {
    return this.#adds;
  }

  /** The next `length` operations. */
  next(length: number): Chunk {
    const rng = this.#rng;
    const kinds = new Uint8Array(length);
    const times = new Float64Array(length);
    const sessions: (Session | undefined)[] = new Array(length).fill(undefined);
    const ids: (Uint8Array | undefined)[] = new Array(length).fill(undefined);
    const baseRate = this.#capacity / this.#timeout; // adds per second
    for (let i = 0; i < length; i++) {
      if (rng.u32() & 1) {
        const burst = Math.floor(this.#adds / this.#phaseAdds) % 2 === 0 ? 1.5 : 0.5;
        this.#clock += 1 / (baseRate * burst);
        const id = randomId(rng);
        this.#ring.set(id, (this.#adds % this.#history) * 32);
        this.#adds++;
        kinds[i] = ADD;
        sessions[i] = { id, time: this.now, timeout: this.#timeout };
      } else {
        kinds[i] = LOOKUP;
        const back = rng.int(this.#history - 1) + 1;
        if (rng.int(20) === 0 || back > this.#adds) {
          ids[i] = randomId(rng);
        } else {
          const slot = (this.#adds - back) % this.#history;
          ids[i] = this.#ring.slice(slot * 32, slot * 32 + 32);
        }
      }
      times[i] = this.now;
    }
    return { length, kinds, times, sessions, ids };
  }
}

/**
 * `n` sessions made one per `1 / rate` s from `start` (so their times rise),
 * with a `timeout` each, or a random one in [60, 86400] s when `timeout` is
 * "random": then expiries arrive out of order, the case where OpenSSL's
 * sorted-list insert walks O(n).
 */
export function sessionsOverTime(
  n: number,
  options: { seed: number; start?: number; rate?: number; timeout: number | "random" },
): Session[] {
  const rng = new Rng(options.seed);
  const start = options.start ?? 1000;
  const rate = options.rate ?? 1000;
  const out: Session[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const timeout = options.timeout === "random" ? 60 + rng.int(86400 - 60 + 1) : options.timeout;
    out[i] = { id: randomId(rng), time: start + Math.floor(i / rate), timeout };
  }
  return out;
}

/** One step of an agreement trace. */
export type Step =
  | { readonly op: "add"; readonly now: number; readonly session: Session }
  | { readonly op: "lookup"; readonly now: number; readonly id: Uint8Array }
  | { readonly op: "flush"; readonly now: number };

/**
 * A trace on which hit or miss is the same for every correct implementation,
 * and the expected answer of each lookup.
 *
 * With `capacity` undefined nothing is ever evicted (capacity is set above
 * the number of adds), so a lookup hits iff the id was added and
 * `now <= time + timeout`, for LRU peers too. With a capacity, the expected
 * answers assume OpenSSL's eviction (soonest expiry first, ties oldest
 * first), which LRU caches do not follow: check only implementations with
 * `evictsSoonestExpiry`.
 */
export interface AgreementTrace {
  readonly name: string;
  readonly capacity: number;
  readonly timeout: number;
  readonly uniformTimeout: boolean;
  readonly inExpiryOrder: boolean;
  readonly steps: readonly Step[];
  /** For each lookup step, in order: the session expected back, or undefined. */
  readonly expected: readonly (Session | undefined)[];
  /** True when the trace relies on soonest-expiry eviction. */
  readonly evicts: boolean;
}

/**
 * Builds an agreement trace of `adds` adds and as many lookups (shuffled),
 * a flush every 256 adds.
 */
export function agreementTrace(
  options: {
    name: string;
    adds: number;
    seed: number;
    timeout: number | "random";
    /** Sessions held at most; undefined: no eviction. */
    capacity?: number;
  },
): AgreementTrace {
  const rng = new Rng(options.seed);
  const timeout = options.timeout === "random" ? 300 : options.timeout;
  // Short-lived sessions for the random case, so many expire within the trace.
  // The trace spans 2.5 x 300 s, whatever its length, so sessions expire.
  const sessions = sessionsOverTime(options.adds, {
    seed: options.seed + 1,
    rate: options.adds / 750,
    timeout: options.timeout === "random" ? "random" : timeout,
  }).map((s) => options.timeout === "random" ? { ...s, timeout: 1 + (s.timeout % 600) } : s);
  const capacity = options.capacity ?? options.adds + 16;
  const byExpiry = new Map<number, number[]>();
  sessions.forEach((s, i) => {
    const e = s.time + s.timeout;
    const list = byExpiry.get(e);
    if (list === undefined) byExpiry.set(e, [i]);
    else list.push(i);
  });
  const evicts = options.capacity !== undefined;
  // OpenSSL's cache, written as plainly as possible: an array sorted by
  // (expiry, insertion) and a Map.
  const live = new Map<string, { s: Session; seq: number }>();
  let order: { s: Session; seq: number; key: string }[] = [];
  let seq = 0;
  const key = (id: Uint8Array) => Array.from(id).join(",");
  const expiry = (s: Session) => s.time + s.timeout;
  const steps: Step[] = [];
  const expected: (Session | undefined)[] = [];
  let added = 0;
  let lookups = 0;
  while (added < sessions.length || lookups < sessions.length) {
    const doAdd = lookups >= sessions.length || (added < sessions.length && (rng.u32() & 1) === 1);
    if (doAdd) {
      const s = sessions[added++]!;
      const k = key(s.id);
      while (live.size + 1 > capacity) {
        const victim = order.shift()!;
        live.delete(victim.key);
      }
      const entry = { s, seq: seq++, key: k };
      live.set(k, entry);
      let i = order.length;
      while (i > 0 && expiry(order[i - 1]!.s) > expiry(s)) i--;
      order.splice(i, 0, entry);
      steps.push({ op: "add", now: s.time, session: s });
      if (added % 256 === 0) {
        const now = s.time;
        steps.push({ op: "flush", now });
        order = order.filter((e) => {
          if (now > expiry(e.s)) {
            live.delete(e.key);
            return false;
          }
          return true;
        });
      }
    } else {
      lookups++;
      const now = added > 0 ? sessions[added - 1]!.time : 1000;
      let id: Uint8Array;
      // One lookup in five aims at the expiry boundary (expiry = now or
      // now - 1), where a strict and a non-strict expiry test disagree.
      const edge = rng.int(5) === 0
        ? byExpiry.get(now - rng.int(2))?.filter((i) => i < added)
        : undefined;
      if (edge !== undefined && edge.length > 0) {
        id = sessions[edge[rng.int(edge.length)]!]!.id.slice();
      } else if (added === 0 || rng.int(10) === 0) id = randomId(rng);
      else {id = sessions[added - 1 - rng.int(Math.min(added, Math.ceil(1.5 * capacity)))]!.id
          .slice();}
      const k = key(id);
      const hit = live.get(k);
      if (hit !== undefined && now > expiry(hit.s)) {
        live.delete(k);
        order = order.filter((e) => e.key !== k);
        expected.push(undefined);
      } else {
        expected.push(hit?.s);
      }
      steps.push({ op: "lookup", now, id });
    }
  }
  return {
    name: options.name,
    capacity,
    timeout,
    uniformTimeout: options.timeout !== "random",
    inExpiryOrder: options.timeout !== "random",
    steps,
    expected,
    evicts,
  };
}
