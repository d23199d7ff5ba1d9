/**
 * A deliberately naive reference model of OpenSSL's internal session cache,
 * written straight from the behaviour spec (`openssl-session-cache.md`, rule
 * by rule: §1 order, §2 flush, §3 add, §4 remove, §5 handshakes, §6 lookup,
 * §7 counters), plus the bookkeeping the model-based suites share (session
 * handles, origins, arbitraries). Two rules come from the OpenSSL 3.3 source
 * where the spec is silent, and say so where they are used: the version
 * consistency check of `ssl_get_prev_session` (a silent miss), and how
 * `tls_finish_handshake` treats TLS 1.3 handshakes.
 *
 * The model is an array kept in OpenSSL's list order (index 0 = head =
 * latest expiry, last index = tail = soonest expiry) and a `Map` from key
 * (`version:hex id`) to the entry. Every operation is a straight loop over
 * that array; nothing here shares code with `src/`.
 *
 * Sessions are plain descriptors. `origin` stands for OpenSSL's object
 * identity: a session the cache derives (set_time, set_timeout,
 * UPDATE_TIME) keeps the origin of the session it came from, so re-adding
 * any handle of a cached origin is "the same object" (add returns 0).
 *
 * `MODEL_COVERAGE=1` makes the suites print how often each interesting case
 * (ties, evictions, exact-expiry flushes, auto-flushes, lookup outcomes...)
 * came up, to tune the generators: run a suite file directly
 * (`MODEL_COVERAGE=1 node --import tsx tests/core_model_test.ts`).
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";

// ---------------------------------------------------------------------------
// Constants (spec §7), written out rather than imported from src/.

export const OFF = 0x0;
export const CLIENT = 0x1;
export const SERVER = 0x2;
export const NO_AUTO_CLEAR = 0x80;
export const NO_INTERNAL_LOOKUP = 0x100;
export const NO_INTERNAL_STORE = 0x200;
export const UPDATE_TIME = 0x400;

export const DEFAULT_CACHE_SIZE = 20480;
export const DEFAULT_MODE = SERVER;
export const DEFAULT_TIMEOUT = 7200;

// ---------------------------------------------------------------------------
// Model values

/** A session as the model sees it: one OpenSSL object's state at one time. */
export interface ModelSession {
  /** Identity of the OpenSSL object this is a state of. */
  readonly origin: number;
  /** Id bytes as lowercase hex. */
  readonly id: string;
  /** Protocol version, 0 when absent. */
  readonly version: number;
  readonly time: number;
  readonly timeout: number;
  /** Session id context as hex, "" when absent or empty. */
  readonly sidCtx: string;
  /** Data bytes as hex, undefined when absent. */
  readonly data: string | undefined;
  /**
   * Insertion serial of this state in the cache (each (re)insertion gets a
   * new one); -1 for a handle that was never inserted as such.
   */
  readonly seq: number;
}

export type Side = "client" | "server";
export type Outcome = "hit" | "miss" | "expired" | "mismatch";
/** Why a session left (spec §2-§6): flush past expiry, cache full, remove, flush(0). */
export type Reason = "expired" | "evicted" | "removed" | "cleared";

/** A removal callback the model expects: the session it receives, and why. */
export interface ModelRemoval {
  readonly session: ModelSession;
  readonly reason: Reason;
}

export interface ModelStats {
  number: number;
  connect: number;
  connectGood: number;
  connectRenegotiate: number;
  accept: number;
  acceptGood: number;
  acceptRenegotiate: number;
  hits: number;
  cbHits: number;
  misses: number;
  timeouts: number;
  cacheFull: number;
}

export interface ModelAdd {
  added: boolean;
  session: ModelSession;
  removed: ModelRemoval[];
  replaced: ModelSession | undefined;
}

export interface ModelRemove {
  found: boolean;
  removed: ModelRemoval[];
}

export interface ModelLookupRequest {
  readonly id: string;
  readonly version: number;
  readonly sidCtx: string;
  readonly now: number;
}

export interface ModelLookup {
  outcome: Outcome;
  session: ModelSession | undefined;
  removed: ModelRemoval[];
  consultExternal: boolean;
}

export interface ModelHandshake {
  /**
   * Sessions for the remove callback before the new-session callback: the
   * evictions of the add, or a TLS 1.3 client's own session.
   */
  removed: ModelRemoval[];
  /** The session the new-session callback receives, if any. */
  newSession: ModelSession | undefined;
  /** Sessions removed by the automatic flush (after the new-session callback). */
  flushed: ModelRemoval[];
}

/** `list[i]`, which must exist. */
export function at<T>(list: readonly T[], i: number): T {
  const v = list[i];
  if (v === undefined) throw new Error(`index ${i} out of range (length ${list.length})`);
  return v;
}

export function keyOf(s: { id: string; version: number }): string {
  return `${s.version}:${s.id}`;
}

/** Spec §8: the largest time OpenSSL 3.3 holds, in whole seconds (2^64 - 1 ns). */
export const MODEL_MAX_TIME = 18446744073;

/** An expiry past every other: "never expires". */
export const NEVER: bigint = 2n ** 80n;

/**
 * Spec §8: a time as 3.3 holds it, in whole microseconds (its clock is gettimeofday): the
 * number rounded to the nearest microsecond, as an exact BigInt.
 */
export function modelMicros(t: number): bigint {
  const s = Math.floor(t);
  return BigInt(s) * 1000000n + BigInt(Math.round((t - s) * 1e6));
}

/**
 * Spec §8: `time + timeout` as 3.3 computes it, exactly, saturating: a sum beyond 2^64 - 1 ns
 * (18446744073.709551615 s, so 18446744073709551 µs) never expires (`NEVER`).
 */
export function modelExpiry(s: { time: number; timeout: number }): bigint {
  const sum = modelMicros(s.time) + modelMicros(s.timeout);
  return sum > 18446744073709551n ? NEVER : sum;
}

// ---------------------------------------------------------------------------
// Coverage tally: how often each interesting case came up, over all models of
// a run. `MODEL_COVERAGE=1` makes the suites print it (to tune generators).

export const coverage: Map<string, number> = new Map();
function hit(event: string): void {
  coverage.set(event, (coverage.get(event) ?? 0) + 1);
}

// ---------------------------------------------------------------------------
// The model

export class CacheModel {
  cacheSize: number = DEFAULT_CACHE_SIZE;
  mode: number = DEFAULT_MODE;
  timeout: number = DEFAULT_TIMEOUT;
  /** Head (latest expiry) first, tail (soonest expiry) last. */
  list: ModelSession[] = [];
  /** key -> the cached entry (same object as in `list`). */
  table: Map<string, ModelSession> = new Map();
  counters: Omit<ModelStats, "number"> = {
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
  };
  /** Every session handle the test holds, by index (same order as the real side's). */
  handles: ModelSession[] = [];
  #nextSeq = 0;
  #nextOrigin = 0;
  /** First insertion serial of the current operation (see `beginOp`). */
  opStartSeq = 0;
  /**
   * Origins OpenSSL would have marked `not_resumable` (removed, evicted,
   * flushed, expired on lookup, or passed to remove). Marked always; consulted
   * only when `resumability` is on (the shell tracks it, the core does not).
   */
  spent: Set<number> = new Set();
  resumability: boolean;

  constructor(
    options: { cacheSize?: number; mode?: number; timeout?: number; resumability?: boolean } = {},
  ) {
    this.resumability = options.resumability ?? false;
    this.configure(options);
  }

  /** Whether `s` may be resumed (always true unless `resumability` is on). */
  resumable(s: ModelSession): boolean {
    return !this.resumability || !this.spent.has(s.origin);
  }

  get stats(): ModelStats {
    return { number: this.table.size, ...this.counters };
  }

  /** Marks the start of a command: entries inserted from now on may be new objects. */
  beginOp(): void {
    this.opStartSeq = this.#nextSeq;
  }

  /** True when `entry` was (re)inserted since `beginOp`. */
  insertedThisOp(entry: ModelSession): boolean {
    return entry.seq >= this.opStartSeq;
  }

  newOrigin(): number {
    return this.#nextOrigin++;
  }

  /** Sessions in removal order (tail first), like iterating the real cache. */
  tailToHead(): ModelSession[] {
    return [...this.list].reverse();
  }

  // -- list primitives (spec §1) --------------------------------------------

  #unlink(entry: ModelSession): void {
    const i = this.list.indexOf(entry);
    if (i < 0) throw new Error("model: unlinking an entry that is not linked");
    this.list.splice(i, 1);
  }

  /** Inserts a new state of a session; returns the stored entry. */
  #link(s: ModelSession): ModelSession {
    const entry: ModelSession = { ...s, seq: this.#nextSeq++ };
    const e = modelExpiry(entry);
    let i = 0;
    while (i < this.list.length && !(modelExpiry(at(this.list, i)) <= e)) i++;
    if (i < this.list.length && modelExpiry(at(this.list, i)) === e) {
      hit(e === NEVER ? "insert into never-expires tie" : "insert into tie");
    } else if (e === NEVER) hit("insert never-expires");
    this.list.splice(i, 0, entry); // i === length appends at the tail
    this.table.set(keyOf(entry), entry);
    return entry;
  }

  // -- operations ------------------------------------------------------------

  configure(options: { cacheSize?: number; mode?: number; timeout?: number }): void {
    if (options.cacheSize !== undefined) this.cacheSize = options.cacheSize;
    if (options.mode !== undefined) this.mode = options.mode;
    if (options.timeout !== undefined) this.timeout = options.timeout;
  }

  get(key: string): ModelSession | undefined {
    return this.table.get(key);
  }

  /** Spec §3. `now` is used only with UPDATE_TIME. */
  add(input: ModelSession, now: number | undefined): ModelAdd {
    const key = keyOf(input);
    const cached = this.table.get(key);
    const updateTime = (this.mode & UPDATE_TIME) !== 0;
    if (updateTime && now === undefined) throw new Error("model: UPDATE_TIME needs now");
    if (cached !== undefined && cached.origin === input.origin) {
      // Same object: return 0, no eviction, re-sorted (with the cache's own state).
      hit(
        input.time === cached.time && input.timeout === cached.timeout
          ? "re-add"
          : "re-add of a stale handle",
      );
      this.#unlink(cached);
      const stored = this.#link(updateTime ? { ...cached, time: now! } : cached);
      return { added: false, session: stored, removed: [], replaced: undefined };
    }
    let replaced: ModelSession | undefined;
    if (cached !== undefined) {
      // Different object, same key: silently replaced, no callback, no cache_full.
      this.#unlink(cached);
      this.table.delete(key);
      replaced = cached;
      hit("replace");
    }
    const value = updateTime ? { ...input, time: now! } : input;
    // The table already holds the new session when the eviction loop runs.
    let number = this.table.size + 1;
    const removed: ModelRemoval[] = [];
    while (this.cacheSize > 0 && number >= this.cacheSize) {
      const tail = this.list[this.list.length - 1];
      if (tail === undefined) {
        hit("size-1 cache keeps the new session");
        break; // only the new session left: size 1 holds 1
      }
      this.list.pop();
      this.table.delete(keyOf(tail));
      number--;
      this.counters.cacheFull++;
      this.spent.add(tail.origin);
      removed.push({ session: tail, reason: "evicted" });
    }
    if (removed.length > 1) hit("add evicts several");
    else if (removed.length === 1) hit("add evicts one");
    const stored = this.#link(value);
    return { added: true, session: stored, removed, replaced };
  }

  /** Spec §4: removes by key; the callback always receives the argument. */
  remove(arg: ModelSession): ModelRemove {
    const cached = this.table.get(keyOf(arg));
    if (cached !== undefined) {
      this.#unlink(cached);
      this.table.delete(keyOf(cached));
    }
    this.spent.add(arg.origin);
    return { found: cached !== undefined, removed: [{ session: arg, reason: "removed" }] };
  }

  /** Spec §2: walk from the tail; tm 0 removes all; expired iff tm > expiry. */
  flush(tm: number): ModelRemoval[] {
    const removed: ModelRemoval[] = [];
    while (this.list.length > 0) {
      const tail = at(this.list, this.list.length - 1);
      if (modelMicros(tm) === modelExpiry(tail)) hit("flush stops at tm === expiry");
      if (!(tm === 0 || modelMicros(tm) > modelExpiry(tail))) break;
      this.list.pop();
      this.table.delete(keyOf(tail));
      this.spent.add(tail.origin);
      removed.push({ session: tail, reason: tm === 0 ? "cleared" : "expired" });
    }
    if (removed.length > 1) hit(tm === 0 ? "flush(0) removes several" : "flush removes several");
    return removed;
  }

  setTime(key: string, time: number): ModelSession | undefined {
    const cached = this.table.get(key);
    if (cached === undefined) return undefined;
    this.#unlink(cached);
    return this.#link({ ...cached, time });
  }

  setTimeout(key: string, timeout: number): ModelSession | undefined {
    const cached = this.table.get(key);
    if (cached === undefined) return undefined;
    this.#unlink(cached);
    return this.#link({ ...cached, timeout });
  }

  /** Spec §6 step 1, then 3-5 on an internal hit. */
  lookup(req: ModelLookupRequest): ModelLookup {
    if ((this.mode & NO_INTERNAL_LOOKUP) === 0) {
      const found = this.table.get(keyOf(req));
      if (found !== undefined) return this.#resume(found, req, []);
      this.counters.misses++;
    }
    return { outcome: "miss", session: undefined, removed: [], consultExternal: true };
  }

  /** Spec §6 step 2 (an external hit), then 3-5. */
  resumeExternal(external: ModelSession, req: ModelLookupRequest): ModelLookup {
    if (external.id !== req.id) {
      // A deliberate difference from OpenSSL (which would resume it and fail the handshake):
      // a session for another id is refused, nothing counted or stored.
      hit("lookup: external session for another id");
      return { outcome: "miss", session: undefined, removed: [], consultExternal: false };
    }
    if (!this.resumable(external)) {
      // lookup_sess_in_cache ignores a not-resumable session from get_session_cb.
      hit("lookup: external session not resumable");
      return { outcome: "miss", session: undefined, removed: [], consultExternal: false };
    }
    this.counters.cbHits++;
    let session = external;
    const removed: ModelRemoval[] = [];
    if ((this.mode & NO_INTERNAL_STORE) === 0) {
      const r = this.add(external, req.now);
      removed.push(...r.removed);
      session = r.session; // OpenSSL goes on with the very object it stored
    }
    return this.#resume(session, req, removed);
  }

  /** Spec §6 steps 3-5 (plus OpenSSL's version consistency check before step 3). */
  #resume(s: ModelSession, req: ModelLookupRequest, removed: ModelRemoval[]): ModelLookup {
    const miss = (outcome: Outcome): ModelLookup => ({
      outcome,
      session: undefined,
      removed,
      consultExternal: false,
    });
    if (s.version !== req.version) {
      hit("lookup: version mismatch");
      return miss("mismatch");
    }
    if (s.sidCtx !== req.sidCtx) {
      hit("lookup: sidCtx mismatch");
      return miss("mismatch");
    }
    if (modelMicros(req.now) > modelExpiry(s)) {
      hit(removed.length > 0 ? "lookup: expired after evicting" : "lookup: expired");
      this.counters.timeouts++;
      removed.push(...this.remove(s).removed);
      return miss("expired");
    }
    this.counters.hits++;
    hit("lookup: hit");
    return { outcome: "hit", session: s, removed, consultExternal: false };
  }

  handshakeStarted(side: Side, renegotiate: boolean): void {
    if (side === "server") {
      if (renegotiate) this.counters.acceptRenegotiate++;
      else this.counters.accept++;
    } else {
      if (renegotiate) this.counters.connectRenegotiate++;
      else this.counters.connect++;
    }
  }

  /**
   * Spec §5 (`ssl_update_cache`), called the way OpenSSL 3.3 calls it when a
   * handshake completes, then the counters of `tls_finish_handshake`:
   * - TLS <= 1.2, either side: update the cache unless it resumed, auto-flush;
   * - TLS 1.3 server: `ssl_update_cache` runs when it sends a ticket, before
   *   the handshake counts as good, and its condition `!hit || TLS1.3` stores
   *   resumed sessions too;
   * - TLS 1.3 client: with the CLIENT bit, `SSL_CTX_remove_session` of its
   *   session (tickets are single-use): remove callback with the argument;
   *   the cache update happens when a ticket arrives, which this API does not see.
   */
  handshakeCompleted(h: {
    side: Side;
    session: ModelSession | undefined;
    resumed: boolean;
    tls13: boolean;
    now: number;
  }): ModelHandshake {
    const out: ModelHandshake = { removed: [], newSession: undefined, flushed: [] };
    const bit = h.side === "client" ? CLIENT : SERVER;
    if (h.session !== undefined && !this.resumable(h.session)) {
      // ssl_update_cache skips everything, auto-flush included, for such a session.
      hit("handshake: session not resumable");
      h = { ...h, session: undefined };
    }
    if (h.session !== undefined && h.tls13 && h.side === "client") {
      if ((this.mode & CLIENT) !== 0) out.removed = this.remove(h.session).removed;
    } else if (h.session !== undefined) {
      if ((this.mode & bit) !== 0 && (!h.resumed || h.tls13)) {
        if ((this.mode & NO_INTERNAL_STORE) === 0) {
          const r = this.add(h.session, h.now);
          out.removed = r.removed;
          out.newSession = r.session;
        } else {
          out.newSession = h.session;
        }
      }
      const good = h.side === "client" ? this.counters.connectGood : this.counters.acceptGood;
      if ((good & 0xff) === 0xff) hit("handshake: good counter at 255 mod 256");
      if ((this.mode & NO_AUTO_CLEAR) === 0 && (this.mode & bit) !== 0 && (good & 0xff) === 0xff) {
        // 3.3's ssl_update_cache flushes at time(NULL): whole seconds.
        out.flushed = this.flush(Math.floor(h.now));
        hit(out.flushed.length > 0 ? "auto-flush removes" : "auto-flush (nothing expired)");
      }
    }
    if (h.side === "server") {
      this.counters.acceptGood++;
    } else {
      if (h.resumed) this.counters.hits++;
      this.counters.connectGood++;
    }
    return out;
  }
}

// ---------------------------------------------------------------------------
// Shared bookkeeping for the suites: real session objects <-> model handles.

/** The session shape the library takes (kept local: the model does not import src/). */
export interface RealSession {
  readonly id: Uint8Array;
  readonly time: number;
  readonly timeout: number;
  readonly version?: number;
  readonly sidCtx?: Uint8Array;
  readonly data?: Uint8Array;
}

export function hex(bytes: Uint8Array | undefined): string {
  if (bytes === undefined) return "";
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

export function unhex(s: string): Uint8Array {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** The fields of a real session, as the model spells them (no origin). */
export function fieldsOf(s: RealSession): Omit<ModelSession, "origin" | "seq"> {
  return {
    id: hex(s.id),
    version: s.version ?? 0,
    time: s.time,
    timeout: s.timeout,
    sidCtx: hex(s.sidCtx),
    data: s.data === undefined ? undefined : hex(s.data),
  };
}

export function modelFields(s: ModelSession): Omit<ModelSession, "origin" | "seq"> {
  const { origin: _o, seq: _s, ...rest } = s;
  return rest;
}

/**
 * Maps every real session object the test has seen to its model handle
 * (index into `model.handles`), so identity on the real side becomes
 * `origin` on the model side.
 */
export class Registry {
  readonly objects: RealSession[] = [];
  readonly #index = new Map<RealSession, number>();
  constructor(readonly model: CacheModel) {}

  has(s: RealSession): boolean {
    return this.#index.has(s);
  }

  /** The handle of a known object. */
  handleOf(s: RealSession): ModelSession {
    const i = this.#index.get(s);
    if (i === undefined) throw new Error(`unknown session object ${JSON.stringify(fieldsOf(s))}`);
    return at(this.model.handles, i);
  }

  /** Makes a new frozen session object with a new origin. */
  fresh(spec: SessionSpec): RealSession {
    const s = makeSession(spec);
    this.#register(s, this.model.newOrigin());
    return s;
  }

  #register(s: RealSession, origin: number): void {
    this.#index.set(s, this.objects.length);
    this.objects.push(s);
    this.model.handles.push({ origin, ...fieldsOf(s), seq: -1 });
  }

  /**
   * Checks that `real` is the model's `expected` state: same fields, and same
   * origin. An object never seen before is accepted (and registered with the
   * expected origin) only when `mayBeNew`: the cache derived it during this
   * operation.
   */
  expect(
    real: RealSession | undefined,
    expected: ModelSession | undefined,
    what: string,
    mayBeNew: boolean,
  ): void {
    if (expected === undefined || real === undefined) {
      if (expected !== real) {
        throw new Error(
          `${what}: expected ${expected === undefined ? "undefined" : show(expected)}, received ${
            real === undefined ? "undefined" : JSON.stringify(fieldsOf(real))
          }`,
        );
      }
      return;
    }
    const got = fieldsOf(real);
    const want = modelFields(expected);
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      throw new Error(
        `${what}: expected fields ${JSON.stringify(want)}, received ${JSON.stringify(got)}`,
      );
    }
    if (!this.#index.has(real)) {
      if (!mayBeNew) {
        throw new Error(
          `${what}: received an object the cache never handed out: ${JSON.stringify(got)}`,
        );
      }
      if (!Object.isFrozen(real)) {
        throw new Error(`${what}: a session the cache made is not frozen`);
      }
      this.#register(real, expected.origin);
      return;
    }
    const origin = this.handleOf(real).origin;
    if (origin !== expected.origin) {
      throw new Error(
        `${what}: expected origin #${expected.origin}, received an object of origin #${origin} ${
          JSON.stringify(got)
        }`,
      );
    }
  }

  /** Checks removal callbacks in order: sessions as `expectList`, and each reason. */
  expectRemovals(
    real: readonly { readonly session: RealSession; readonly reason: string }[],
    expected: readonly ModelRemoval[],
    what: string,
    mayBeNew: (s: ModelSession) => boolean,
  ): void {
    this.expectList(
      real.map((r) => r.session),
      expected.map((e) => e.session),
      what,
      mayBeNew,
    );
    assert.deepEqual(
      real.map((r) => r.reason),
      expected.map((e) => e.reason),
      `${what}: reasons`,
    );
  }

  /** Checks a list of sessions in order. `mayBeNew(i)` as for `expect`. */
  expectList(
    real: readonly RealSession[],
    expected: readonly ModelSession[],
    what: string,
    mayBeNew: (s: ModelSession) => boolean,
  ): void {
    if (real.length !== expected.length) {
      throw new Error(
        `${what}: expected ${expected.length} sessions ${
          expected.map(show).join(" ")
        }, received ${real.length}: ${real.map((s) => JSON.stringify(fieldsOf(s))).join(" ")}`,
      );
    }
    for (let i = 0; i < real.length; i++) {
      const e = at(expected, i);
      this.expect(at(real, i), e, `${what}[${i}]`, mayBeNew(e));
    }
  }
}

/** Asserts the real counters equal the model's (cheap when they do; a full diff when not). */
export function sameStats(real: object, expected: ModelStats, what: string): void {
  const a = real as Record<string, unknown>;
  const e = expected as unknown as Record<string, unknown>;
  const keys = Object.keys(e);
  if (Object.keys(a).length === keys.length && keys.every((k) => a[k] === e[k])) return;
  assert.deepEqual({ ...a }, e, what);
}

export function show(s: ModelSession): string {
  const v = s.version === 0 ? "" : ` v${s.version.toString(16)}`;
  const ctx = s.sidCtx === "" ? "" : ` ctx=${s.sidCtx}`;
  return `#${s.origin}{${s.id}${v} t=${s.time}+${s.timeout}${ctx}}`;
}

// ---------------------------------------------------------------------------
// Session specs and arbitraries (small alphabets so ties, collisions and
// evictions are frequent).

export interface SessionSpec {
  readonly id: number; // one byte, 1..6
  readonly version: number; // 0 or 0x0303
  readonly omitVersion: boolean; // with version 0: leave the field out
  readonly time: number;
  readonly timeout: number;
  readonly sidCtx: number; // 0: absent, 1: empty array, 2/3: [1] / [2]
  readonly data: boolean;
}

export const ID_ALPHABET: readonly number[] = [1, 2, 3, 4, 5, 6];
export const VERSIONS: readonly number[] = [0, 0x0303];
/** Every key the suites can produce: checked with get() after each command. */
export const ALL_KEYS: readonly { id: number; version: number }[] = ID_ALPHABET.flatMap((id) =>
  VERSIONS.map((version) => ({ id, version }))
);

export function sidCtxBytes(choice: number): Uint8Array | undefined {
  return choice === 0 ? undefined : choice === 1 ? new Uint8Array(0) : new Uint8Array([choice - 1]);
}

export function makeSession(spec: SessionSpec): RealSession {
  const s: {
    id: Uint8Array;
    time: number;
    timeout: number;
    version?: number;
    sidCtx?: Uint8Array;
    data?: Uint8Array;
  } = { id: new Uint8Array([spec.id]), time: spec.time, timeout: spec.timeout };
  if (!(spec.version === 0 && spec.omitVersion)) s.version = spec.version;
  const ctx = sidCtxBytes(spec.sidCtx);
  if (ctx !== undefined) s.sidCtx = ctx;
  if (spec.data) s.data = new Uint8Array([0xd0, spec.id]);
  return Object.freeze(s);
}

/** Pasteable source for a session literal. */
export function specSource(spec: SessionSpec): string {
  const parts = [
    `id: new Uint8Array([${spec.id}])`,
    `time: ${spec.time}`,
    `timeout: ${spec.timeout}`,
  ];
  if (!(spec.version === 0 && spec.omitVersion)) {
    parts.push(`version: 0x${spec.version.toString(16)}`);
  }
  const ctx = sidCtxBytes(spec.sidCtx);
  if (ctx !== undefined) parts.push(`sidCtx: new Uint8Array([${[...ctx].join(", ")}])`);
  if (spec.data) parts.push(`data: new Uint8Array([0xd0, ${spec.id}])`);
  return `{ ${parts.join(", ")} }`;
}

/**
 * Times: mostly small (so sessions tie and expire near each other), now and
 * then a half second, and near OpenSSL 3.3's limit, where `time + timeout`
 * saturates to "never" (spec §8).
 */
export const timeArb: fc.Arbitrary<number> = fc.oneof(
  { weight: 20, arbitrary: fc.integer({ min: 0, max: 12 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 24 }).map((t) => t + 0.5) },
  // Microseconds whose sums a plain number sum would round apart: 0.014154 + 5 and
  // 5.014154 + 0 are the same instant to OpenSSL.
  { weight: 1, arbitrary: fc.constantFrom(0.014154, 5.014154, 1.000001) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(MODEL_MAX_TIME - 3, MODEL_MAX_TIME - 1, MODEL_MAX_TIME),
  },
);
export const timeoutArb: fc.Arbitrary<number> = fc.oneof(
  { weight: 20, arbitrary: fc.integer({ min: 0, max: 8 }) },
  { weight: 1, arbitrary: fc.constantFrom(1, 3, 4, MODEL_MAX_TIME - 5, MODEL_MAX_TIME) },
);
/** A "now" or flush time: small, so most sessions are around it; sometimes fractional. */
export const nowArb: fc.Arbitrary<number> = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 24 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 24 }).map((t) => t + 0.25) },
  { weight: 1, arbitrary: fc.constantFrom(5.014154, 5.014155, 10.014154) },
);

export const specArb: fc.Arbitrary<SessionSpec> = fc.record({
  id: fc.constantFrom(...ID_ALPHABET),
  version: fc.constantFrom(...VERSIONS),
  omitVersion: fc.boolean(),
  time: timeArb,
  timeout: timeoutArb,
  sidCtx: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, {
    weight: 1,
    arbitrary: fc.integer({ min: 1, max: 3 }),
  }),
  data: fc.boolean(),
});

/** Mode bit sets: a side part plus any of the flags, OFF and the default often. */
export const modeArb: fc.Arbitrary<number> = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(SERVER, CLIENT | SERVER, OFF, CLIENT) },
  {
    weight: 3,
    arbitrary: fc.tuple(
      fc.integer({ min: 0, max: 3 }),
      fc.subarray([NO_AUTO_CLEAR, NO_INTERNAL_LOOKUP, NO_INTERNAL_STORE, UPDATE_TIME]),
    ).map(([side, flags]) => flags.reduce((m, f) => m | f, side)),
  },
);

export const cacheSizeArb: fc.Arbitrary<number> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(0, 1, 2) },
  { weight: 3, arbitrary: fc.integer({ min: 3, max: 8 }) },
  { weight: 1, arbitrary: fc.constant(DEFAULT_CACHE_SIZE) },
);

/** An index into some runtime list, resolved modulo its length. */
export const pickArb: fc.Arbitrary<number> = fc.nat({ max: 1000 });

export function hexKey(id: number, version: number): string {
  return `${version}:${id.toString(16).padStart(2, "0")}`;
}

// ---------------------------------------------------------------------------
// Command parameters shared by the core and shell suites

export const sideArb: fc.Arbitrary<Side> = fc.constantFrom("client", "server");
export const idArb: fc.Arbitrary<number> = fc.integer({ min: 1, max: 6 });
export const versionArb: fc.Arbitrary<number> = fc.constantFrom(...VERSIONS);
export const tls13Arb: fc.Arbitrary<boolean | undefined> = fc.constantFrom(undefined, false, true);

/** Whom a lookup asks for: a cached session (by pick) or any key. */
export interface LookupTarget {
  readonly kind: "cached" | "key";
  readonly pick: number;
  readonly id: number;
  readonly version: number;
  readonly omitVersion: boolean;
  /** -1: the targeted cached session's own context; 0: absent; 1: empty array; 2/3: [1] / [2]. */
  readonly sidCtx: number;
}

export const lookupTargetArb: fc.Arbitrary<LookupTarget> = fc.record({
  kind: fc.constantFrom("cached" as const, "cached" as const, "key" as const),
  pick: pickArb,
  id: idArb,
  version: versionArb,
  omitVersion: fc.boolean(),
  sidCtx: fc.oneof({ weight: 4, arbitrary: fc.constant(-1) }, {
    weight: 1,
    arbitrary: fc.integer({ min: 0, max: 3 }),
  }),
});

/** A lookup request built from a target, in the library's and the model's terms. */
export interface BuiltRequest {
  readonly id: number;
  readonly version: number;
  readonly request: { id: Uint8Array; version?: number; sidCtx?: Uint8Array };
  readonly model: (now: number) => ModelLookupRequest;
  /** Pasteable request literal (without `now`). */
  readonly text: string;
}

/** `cached`: the handle of the targeted cached session, when the target is one and the cache is not empty. */
export function buildRequest(target: LookupTarget, cached: ModelSession | undefined): BuiltRequest {
  let { id, version } = target;
  if (target.kind === "cached" && cached !== undefined) {
    id = at([...unhex(cached.id)], 0);
    version = cached.version;
  }
  const ctxHex = target.sidCtx === -1
    ? cached?.sidCtx ?? ""
    : target.sidCtx <= 1
    ? ""
    : hex(new Uint8Array([target.sidCtx - 1]));
  const sidCtx = ctxHex !== ""
    ? unhex(ctxHex)
    : target.sidCtx === 1
    ? new Uint8Array(0)
    : undefined;
  const request = {
    id: new Uint8Array([id]),
    ...(version === 0 && target.omitVersion ? {} : { version }),
    ...(sidCtx === undefined ? {} : { sidCtx }),
  };
  const text = `id: new Uint8Array([${id}])${
    request.version === undefined ? "" : `, version: 0x${version.toString(16)}`
  }${sidCtx === undefined ? "" : `, sidCtx: new Uint8Array([${[...sidCtx].join(", ")}])`}`;
  const idHex = id.toString(16).padStart(2, "0");
  return {
    id,
    version,
    request,
    model: (now) => ({ id: idHex, version, sidCtx: ctxHex, now }),
    text,
  };
}

/** What the external cache answers. */
export type External =
  | { readonly kind: "none" }
  | { readonly kind: "fresh"; readonly spec: SessionSpec; readonly sameKey: boolean }
  | { readonly kind: "handle"; readonly pick: number }
  /** getSession throws (or its Promise rejects): a miss, reported to onError. */
  | { readonly kind: "throws" }
  /** getSession returns a session the shell refuses (empty id): a miss, reported to onError. */
  | { readonly kind: "invalid" };

export const externalArb: fc.Arbitrary<External> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ kind: "none" as const }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("fresh" as const),
      spec: specArb,
      sameKey: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("handle" as const), pick: pickArb }) },
);

export const shellExternalArb: fc.Arbitrary<External> = fc.oneof(
  { weight: 6, arbitrary: externalArb },
  {
    weight: 1,
    arbitrary: fc.constantFrom({ kind: "throws" as const }, { kind: "invalid" as const }),
  },
);

/** The session a completed handshake reports. */
export type HandshakeSession =
  | { readonly kind: "none" }
  | { readonly kind: "fresh"; readonly spec: SessionSpec }
  | { readonly kind: "cached" | "handle"; readonly pick: number };

export const handshakeSessionArb: fc.Arbitrary<HandshakeSession> = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ kind: "none" as const }) },
  { weight: 4, arbitrary: specArb.map((spec) => ({ kind: "fresh" as const, spec })) },
  { weight: 2, arbitrary: pickArb.map((pick) => ({ kind: "cached" as const, pick })) },
  { weight: 1, arbitrary: pickArb.map((pick) => ({ kind: "handle" as const, pick })) },
);

/** Counts of completed handshakes in one bulk command: reach and cross 255. */
export const bulkCountArb: fc.Arbitrary<number> = fc.constantFrom(250, 254, 255, 256);

export type FlushKind = "zero" | "exact" | "before" | "after" | "value";
export const flushKindArb: fc.Arbitrary<FlushKind> = fc.constantFrom<FlushKind>(
  "zero",
  "exact",
  "exact",
  "before",
  "after",
  "value",
  "value",
);

/** The flush time a flush command means, given the model's list now. */
export function flushTime(m: CacheModel, kind: FlushKind, pick: number, value: number): number {
  if (kind === "zero") return 0;
  if (kind !== "value" && m.list.length > 0) {
    const x = modelExpiry(at(m.list, pick % m.list.length));
    const e = x === NEVER ? Infinity : Number(x) / 1e6;
    const t = kind === "exact" ? e : kind === "before" ? e - 1 : e + 1;
    // (tm 0 would mean "all"; above MODEL_MAX_TIME the cache refuses it)
    if (Number.isFinite(t) && t > 0 && t <= MODEL_MAX_TIME) return t;
  }
  return value;
}

/** A new time or timeout for setTime/setTimeout: mostly small, sometimes huge. */
export function setValueArb(field: "time" | "timeout"): fc.Arbitrary<number> {
  return fc.oneof(
    { weight: 12, arbitrary: fc.integer({ min: 0, max: 20 }) },
    { weight: 1, arbitrary: field === "time" ? timeArb : timeoutArb },
  );
}

/** Where a setTime/setTimeout goes: a cached session, any key, or a cached one with its value unchanged. */
export interface SetTarget {
  readonly field: "time" | "timeout";
  readonly kind: "cached" | "key" | "same";
  readonly pick: number;
  readonly id: number;
  readonly version: number;
  readonly omitVersion: boolean;
  readonly value: number;
}

export const setTargetArb: fc.Arbitrary<SetTarget> = fc.constantFrom(
  "time" as const,
  "timeout" as const,
).chain((
  field,
) =>
  fc.record({
    field: fc.constant(field),
    kind: fc.constantFrom("cached" as const, "cached" as const, "key" as const, "same" as const),
    pick: pickArb,
    id: idArb,
    version: versionArb,
    omitVersion: fc.boolean(),
    value: setValueArb(field),
  })
);

/** Resolves a set target against the model: the key and value it means. */
export function resolveSetTarget(
  m: CacheModel,
  t: SetTarget,
): { id: number; version: number; value: number } {
  if (t.kind === "key" || m.list.length === 0) {
    return { id: t.id, version: t.version, value: t.value };
  }
  const entry = at(m.tailToHead(), t.pick % m.list.length);
  return {
    id: at([...unhex(entry.id)], 0),
    version: entry.version,
    value: t.kind === "same" ? entry[t.field] : t.value,
  };
}
