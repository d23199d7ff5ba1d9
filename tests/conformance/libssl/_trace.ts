/**
 * Differential testing of `SessionCache` against the real libssl: the trace format, a seeded
 * trace generator, the replayer for our side, the driver of the C harness for libssl's side,
 * and a shrinker for failing traces.
 *
 * ## Trace format
 *
 * One operation per line; both sides print exactly one result line per operation (see
 * `harness.c` for the list of operations). Handles (`s0`, `s1`, ...) name session OBJECTS:
 * `new` makes a fresh object, `add s3` adds that very object again, so OpenSSL's
 * "same object re-added" and "other object, same key" rules both get exercised.
 *
 * ## How an OpenSSL session object maps onto our immutable sessions
 *
 * An OpenSSL `SSL_SESSION` is mutable; ours are frozen values, and the cache derives a new
 * object from the cached one on `setTime`/`setTimeout`/UPDATE_TIME, which still counts as
 * "the same object" (notes/api.md). So a handle keeps the chain of JS objects that stand for
 * its one OpenSSL object: the object it was made as, then each object the cache derived from it.
 * Whether the handle's object is the cached one (OpenSSL's `s->owner`) is tracked naively:
 * `add` makes it cached, any remove callback for its key makes it not cached.
 *
 * - `settime`/`settimeout` on a cached handle call `cache.setTime`/`cache.setTimeout` and
 *   append the cache's new object to the chain.
 * - on a handle that is not cached they only change the object in OpenSSL; here the handle
 *   gets a FRESH object with the new field (the chain restarts). That object is not "the same"
 *   as the old one for the cache, which does not matter for add/remove/flush: an object that is
 *   not cached can only be compared with the cached object of another handle, a different
 *   object in OpenSSL too. It DOES matter for handshakes: OpenSSL's object keeps its "not
 *   resumable" mark (set when it was removed), the fresh one is resumable again (an API gap,
 *   notes/bugs.md). So traces with handshakes re-time a session only right after adding it.
 * - `add` passes the latest object, or (every third add of a handle, when it is cached) the
 *   chain's first object, to check that the cache treats an ancestor as the same object.
 * - `remove` passes the latest object: the remove callback receives the argument, and only the
 *   latest carries OpenSSL's current time and timeout.
 *
 * UPDATE_TIME is exercised: the harness interposes `time()` and `gettimeofday()`, and
 * `clock <t>` sets both sides' clock (with up to six fractional digits in traces for libssl
 * 3.3, which stamps sessions and checks expiry on lookup to the microsecond; 3.0 reads whole
 * seconds only). Removed sessions print as `<handle>:<idhex>@<verhex>:<time>+<timeout>`, times
 * in whole seconds as `SSL_SESSION_get_time` returns them; the handle of an object our cache
 * hands to a callback is found through the chain (`?` when unknown).
 *
 * ## Handshakes
 *
 * `hs <new> <offer> <ext>` is a real TLS 1.2 handshake in the harness (server side on the
 * cache's context, tickets off). Our side mirrors what a server adapter does:
 * `handshakeStarted("server")`, `lookupSync({ id, version: 0x303, sidCtx })` when the client
 * offers an id (the `getSession` option plays `get_session_cb`, returning `<ext>`'s object),
 * then `handshakeCompleted` with the resumed session, or with a new session
 * `{ id: e0 <2-byte counter>, time: now, timeout: timeout || 7200, version: 0x303, sidCtx }`
 * (libssl's ids come from the same counter via `SSL_CTX_set_generate_session_id`). Without
 * `SESS_CACHE_SERVER` in the mode, libssl's server makes an EMPTY session id, so the new
 * session is not passed on and makes no handle.
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { SessionCache } from "../../../mod.ts";
import type { Session } from "../../../mod.ts";

/** One trace: operations, one per line, without newlines. */
export type Trace = readonly string[];

// ---------------------------------------------------------------------------------------------
// Generator

/** A small, fast, seeded PRNG (mulberry32): the same seed gives the same trace everywhere. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Options for {@linkcode generateTrace}. */
export interface GenerateTraceOptions {
  /** Number of operations (default 300; a trace drawn for auto-flush has at least 620). */
  ops?: number;
  /** Whether traces may contain real handshakes (`hs`, `sidctx`; default true). */
  handshakes?: boolean;
  /**
   * The libssl the trace is for. `"3.0"` (default): only traces on which libssl 3.0 and 3.3
   * agree. `"3.3"`: a share of the seeds ({@linkcode SPECIFIC_SHARE}) draw a trace specific to
   * 3.3 instead (see {@linkcode traceFlavor}); every other seed gives the very same trace as
   * for `"3.0"`.
   */
  libssl?: "3.0" | "3.3";
}

/**
 * What a trace is about:
 * - `"common"`: whole-second clocks, times and timeouts whose sums stay at most 18446744073 s,
 *   where libssl 3.0 and 3.3 agree (spec §8);
 * - `"limit"` (3.3 only): times and timeouts near MAX_TIME, sums on both sides of
 *   18446744073.709551615 s (2^64 - 1 ns: beyond it the expiry is "never"), many sessions that
 *   never expire (they tie, first in first out), flush times near the limit, and fractional
 *   clocks there;
 * - `"subsecond"` (3.3 only): small times and fractional clocks (3.3 stamps sessions and
 *   checks expiry on lookup to the microsecond, while its auto-flush passes whole seconds),
 *   with more handshakes and more traces long enough to auto-flush.
 */
export type TraceFlavor = "common" | "limit" | "subsecond";

/** The share of seeds that draw a trace specific to 3.3 when generating for libssl 3.3. */
export const SPECIFIC_SHARE = 0.35;

/** The largest time OpenSSL 3.3 holds (the project's `MAX_TIME`), seconds. */
const MAX_TIME = 18446744073;

/** A clock for the `clock` op: whole seconds, or up to six fractional digits (microseconds). */
export function formatClock(t: number): string {
  return Number.isInteger(t) ? String(t) : t.toFixed(6).replace(/0+$/, "");
}

/** The flavor of the trace {@linkcode generateTrace} draws for `seed` and `libssl`. */
export function traceFlavor(seed: number, libssl: "3.0" | "3.3" = "3.0"): TraceFlavor {
  if (libssl === "3.0") return "common";
  const rand = prng(seed ^ 0x33033303);
  if (rand() >= SPECIFIC_SHARE) return "common";
  return rand() < 0.5 ? "limit" : "subsecond";
}

const MODES = [
  0x0,
  0x1,
  0x2,
  0x3,
  0x80,
  0x82,
  0x300,
  0x302,
  0x400,
  0x402,
  0x403,
  0x482,
  0x702,
  0xffff,
  0x7fffffff,
  0xffffffff,
];
const HS_MODES = [0x1, 0x2, 0x2, 0x2, 0x3, 0x82, 0x102, 0x202, 0x302, 0x402, 0x502, 0x602, 0x0];
const SIZES = [0, 1, 1, 2, 2, 3, 3, 5, 5, 20480, 2 ** 40];
const CTX_TIMEOUTS = [0, 1, 300, 7200, 86400, 2 ** 33];
const HS_CTX_TIMEOUTS = [0, 1, 2, 5, 10, 300];
/** Context timeouts near MAX_TIME too: a handshake's new session then never expires. */
const LIMIT_CTX_TIMEOUTS = [0, 1, 5, 300, 2 ** 33, MAX_TIME - 1, MAX_TIME];
const ID_BYTES = [0x00, 0x01, 0x02, 0xff];
const SID_CTXS = ["aa", "bbbb"];
/**
 * Fractions of a second for fractional clocks: multiples of 1/64 s (15625 us), exact both in
 * microseconds (the harness) and in binary (our side), even near MAX_TIME; .703125 and .71875
 * are the two nearest the 2^64 - 1 ns limit's .709551615.
 */
const FRACTIONS = [0, 0.5, 0.703125, 0.71875, 1 / 64, 63 / 64];

interface Profile {
  /** A session time. */
  time(): number;
  /** A session timeout, for a session of time `time`. */
  timeout(time: number): number;
}

interface Made {
  /** "new" for sessions the trace makes, "hs" for those a handshake may make. */
  kind: "new" | "hs";
  /** The id, for sessions the trace makes. */
  id: string | undefined;
  time: number;
  timeout: number;
}

/**
 * A random trace for `seed`. Each trace draws a profile: a small id pool (so keys collide),
 * one or several protocol versions, and small, medium or large times (large ones keep
 * `time + timeout` at most 18446744073, where libssl 3.0 and 3.3 agree; see spec §8). Some traces
 * add real TLS 1.2 handshakes (lookups, external cache, new sessions, counters), a few of them
 * long enough to cross 255 handshakes and auto-flush. For libssl 3.3, some seeds draw a trace
 * near the time limit or with fractional clocks instead ({@linkcode traceFlavor}).
 */
export function generateTrace(seed: number, options: GenerateTraceOptions = {}): string[] {
  const flavor = traceFlavor(seed, options.libssl);
  // Common traces keep the stream of `prng(seed)`, so a seed names the same trace everywhere.
  return drawTrace(prng(flavor === "common" ? seed : seed ^ 0x5eed3303), flavor, options);
}

function drawTrace(
  rand: () => number,
  flavor: TraceFlavor,
  options: GenerateTraceOptions,
): string[] {
  const int = (n: number): number => Math.floor(rand() * n); // 0 .. n-1
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  const chance = (p: number): boolean => rand() < p;
  const withHs = options.handshakes !== false && chance(flavor === "subsecond" ? 0.7 : 0.4);
  const heavy = withHs && chance(flavor === "subsecond" ? 0.2 : 0.04);
  const length = heavy ? Math.max(620, options.ops ?? 300) : options.ops ?? 300;

  const pool: string[] = [];
  const poolSize = 1 + int(8);
  for (let i = 0; i < poolSize; i++) {
    const r = rand();
    const len = r < 0.4 ? 1 : r < 0.7 ? 2 : r < 0.8 ? 3 : r < 0.9 ? 4 : r < 0.95 ? 32 : 5 + int(27);
    let hex = "";
    for (let j = 0; j < len; j++) hex += pick(ID_BYTES).toString(16).padStart(2, "0");
    pool.push(hex);
  }
  const versions = withHs
    ? (chance(0.75) ? [0x303] : [0, 0x303, 0x304])
    : (chance(0.6) ? [pick([0, 0x304])] : [0, 0x303, 0x304]);

  const kind = rand();
  let profile: Profile;
  if (flavor === "limit") {
    // Times near the limit (and a few far below it), timeouts that put the sum just below,
    // at or just above MAX_TIME, or that never expire.
    const bases = [MAX_TIME, MAX_TIME, MAX_TIME - 5, 10_000_000_000, 2 ** 34, 1_700_000_000];
    profile = {
      time: () => pick(bases) - int(3),
      timeout: (t) => {
        const r = rand();
        const sum = MAX_TIME - Math.floor(t) + pick([-1, 0, 0, 1, 2]);
        if (r < 0.4) return Math.min(MAX_TIME, Math.max(0, sum));
        if (r < 0.6) return MAX_TIME - int(2);
        if (r < 0.8) return int(4);
        return pick([2 ** 31, 2 ** 33, 8_446_744_073]) + int(3);
      },
    };
  } else if (kind < 0.6 || withHs || flavor === "subsecond") {
    const tmax = pick([5, 10, 30]);
    profile = { time: () => int(tmax + 1), timeout: () => int(Math.ceil(tmax / 2) + 1) };
  } else if (kind < 0.85) {
    profile = { time: () => int(2001), timeout: () => pick([0, 1, int(1001)]) };
  } else {
    // Sums stay at most 18446744073 s, where libssl 3.0 and 3.3 agree (spec §8).
    const bases = [2 ** 31 - 1, 2 ** 32, 1_700_000_000, 2 ** 33];
    profile = {
      time: () => pick(bases) + int(5),
      timeout: () => pick([int(5), 2 ** 31, 18446744073 - 2 ** 33 - 5 - int(3), 2 ** 33 + int(3)]),
    };
  }

  const made: Made[] = []; // per handle, roughly what it is (for flush points and offers)
  const trace: string[] = [];
  let clock = 0;
  let ctxTimeout = 7200;
  let serverSid: string | undefined;
  const ctxTimeouts = flavor === "limit"
    ? LIMIT_CTX_TIMEOUTS
    : withHs
    ? HS_CTX_TIMEOUTS
    : CTX_TIMEOUTS;
  /** The next clock: whole seconds, or for 3.3 traces often fractional, near an expiry. */
  const nextClock = (): number => {
    if (flavor === "common") return profile.time();
    let t: number;
    if (made.length > 0 && chance(0.5)) {
      const m = made[int(made.length)] as Made;
      const expiry = m.time + m.timeout;
      t = expiry + pick([-1 / 64, 0, 0, 1 / 64, -1, 1]);
      // Below 2^33 s a number holds every microsecond: a microsecond either side of an expiry.
      if (expiry < 2 ** 33 && chance(0.3)) t = expiry + pick([-1e-6, 1e-6]);
      // Times of the same second as the ctx timeout's new sessions, to straddle the limit.
      if (!(t <= MAX_TIME)) t = MAX_TIME - ctxTimeout + pick(FRACTIONS);
    } else {
      t = profile.time() + (chance(0.7) ? pick(FRACTIONS) : int(64) / 64);
      // Any microsecond, where a number holds them all (sums of these round as plain numbers).
      if (t < 2 ** 33 && chance(0.4)) t = Math.floor(t) + int(1e6) / 1e6;
    }
    return Math.min(MAX_TIME, Math.max(0, t));
  };
  const newHandle = (): void => {
    const h = made.length;
    const id = pick(pool);
    const time = profile.time();
    const m: Made = { kind: "new", id, time, timeout: profile.timeout(time) };
    made.push(m);
    let line = `new s${h} ${id} ${m.time} ${m.timeout} ${pick(versions).toString(16)}`;
    if (withHs) {
      const own = serverSid !== undefined && chance(0.75);
      line += ` ${own ? serverSid : chance(0.7) ? "-" : pick(SID_CTXS)}`;
    }
    trace.push(line);
  };
  const handle = (): number => {
    // Biased towards recent handles, so objects get re-added and re-timed often.
    return chance(0.7) ? Math.max(0, made.length - 1 - int(6)) : int(made.length);
  };
  const point = (): number => {
    // An instant near a known expiry (to hit the strict `tm > expiry` edge) or anywhere; flush
    // takes whole seconds, at most MAX_TIME.
    if (made.length > 0 && chance(0.5)) {
      const m = made[int(made.length)] as Made;
      return Math.min(MAX_TIME, Math.max(0, Math.floor(m.time + m.timeout) + pick([-1, 0, 0, 1])));
    }
    return Math.floor(profile.time());
  };
  const handshake = (): void => {
    const h = made.length;
    const offer = chance(0.15) ? undefined : handle();
    let ext = "-";
    if (offer !== undefined) {
      const r = rand();
      const o = made[offer] as Made;
      if (r < 0.4) ext = `s${offer}`;
      else if (r < 0.55 && o.kind === "new") {
        // Another object with the same id: the client still holds the right keys.
        const same = made.flatMap((m, k) => (m.kind === "new" && m.id === o.id ? [k] : []));
        ext = `s${pick(same)}`;
      }
    }
    made.push({ kind: "hs", id: undefined, time: clock, timeout: ctxTimeout || 7200 });
    trace.push(`hs s${h} ${offer === undefined ? "-" : `s${offer}`} ${ext}`);
  };
  const retime = (op: "settime" | "settimeout"): void => {
    const h = handle();
    const m = made[h] as Made;
    // With handshakes, only retime a session just added (so it is the cached object): on one
    // that is not cached, OpenSSL changes the object in place and keeps its "not resumable"
    // mark, which a fresh immutable session cannot carry (see the module doc).
    if (withHs) trace.push(`add s${h}`);
    // set_time and set_timeout take whole seconds.
    if (op === "settime") {
      m.time = chance(0.5) ? profile.time() : Math.floor(m.time);
      trace.push(`settime s${h} ${m.time}`);
    } else {
      m.timeout = chance(0.5) ? profile.timeout(m.time) : m.timeout;
      trace.push(`settimeout s${h} ${m.timeout}`);
    }
  };

  if (chance(0.7)) trace.push(`size ${pick(SIZES)}`);
  if (flavor === "subsecond" && chance(0.6)) {
    // SSL_SESS_CACHE_UPDATE_TIME: each add stamps the session with the (fractional) clock.
    trace.push(
      `mode ${pick(withHs ? [0x402, 0x502, 0x602] : [0x402, 0x403, 0x482, 0x702]).toString(16)}`,
    );
  } else if (chance(0.3)) trace.push(`mode ${pick(withHs ? HS_MODES : MODES).toString(16)}`);
  if (withHs && chance(0.5)) trace.push(`sidctx ${serverSid = pick(SID_CTXS)}`);
  if (withHs && chance(0.5)) {
    trace.push(
      `ctxtimeout ${ctxTimeout = pick(flavor === "limit" ? ctxTimeouts : HS_CTX_TIMEOUTS)}`,
    );
  }
  newHandle();
  const hsShare = heavy ? 50 : withHs ? 8 : 0;
  while (trace.length < length) {
    if (int(100) < hsShare) {
      handshake();
      continue;
    }
    const r = int(100);
    if (r < 15) newHandle();
    else if (r < 45) trace.push(`add s${handle()}`);
    else if (r < 53) trace.push(`remove s${handle()}`);
    else if (r < 61) trace.push(`flush ${chance(0.05) ? 0 : point()}`);
    else if (r < 68) retime("settime");
    else if (r < 75) retime("settimeout");
    else if (r < 79) trace.push(`size ${pick(SIZES)}`);
    else if (r < 82) {
      if (!heavy || chance(0.2)) trace.push(`mode ${pick(withHs ? HS_MODES : MODES).toString(16)}`);
    } else if (r < 86) trace.push(`clock ${formatClock(clock = nextClock())}`);
    else if (r < 93) trace.push(`has ${pick(pool)} ${pick([0x303, 0x304]).toString(16)}`);
    else if (r < 97) trace.push("stats");
    else if (r < 98) {
      ctxTimeout = pick(ctxTimeouts);
      trace.push(`ctxtimeout ${ctxTimeout}`);
    } else if (withHs && r < 99) trace.push(`sidctx ${serverSid = pick([...SID_CTXS, "-"])}`);
    else trace.push(`flush ${point()}`);
  }
  return trace;
}

/**
 * Drops operations on handles that no earlier `new` or `hs` made, and (in traces with
 * handshakes) `settime`/`settimeout` not right after an `add` of the same handle, so that any
 * subsequence of a generated trace keeps the generator's rules (the shrinker removes
 * operations freely).
 */
export function normalizeTrace(trace: Trace): string[] {
  const withHs = trace.some((line) => line.startsWith("hs "));
  const made = new Set<string>();
  const out: string[] = [];
  let prev: string[] = [];
  for (const line of trace) {
    const words = line.split(" ");
    const [op, h] = words;
    if (op === "new" || op === "hs") {
      if (made.has(h as string)) continue;
      made.add(h as string);
    } else if (
      (op === "add" || op === "remove" || op === "settime" || op === "settimeout") &&
      !made.has(h as string)
    ) {
      continue;
    }
    if (
      withHs && (op === "settime" || op === "settimeout") &&
      !(["add", "settime", "settimeout"].includes(prev[0] as string) && prev[1] === h)
    ) {
      continue;
    }
    out.push(line);
    prev = words;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Our side

function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

function unhex(text: string): Uint8Array {
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function keyOf(session: { readonly id: Uint8Array; readonly version?: number }): string {
  return `${(session.version ?? 0).toString(16)}/${hex(session.id)}`;
}

function num(text: string | undefined, radix = 10): number {
  if (text === undefined) throw new TypeError("trace: missing number");
  const n = radix === 10 ? Number(text) : parseInt(text, radix);
  if (!Number.isSafeInteger(n)) throw new TypeError(`trace: bad number "${text}"`);
  return n;
}

/** A `clock` operand: seconds with up to six fractional digits (see harness.c). */
function clockOf(text: string | undefined): number {
  if (text === undefined || !/^\d+(\.\d{1,6})?$/.test(text)) {
    throw new TypeError(`trace: bad clock "${text}"`);
  }
  return Number(text);
}

interface SessionFields {
  id: Uint8Array;
  time: number;
  timeout: number;
  version: number;
  /** Spell version 0 explicitly rather than leave it absent. */
  explicitZero: boolean;
  sidCtx: Uint8Array | undefined;
}

function makeSession(f: SessionFields): Session {
  const base = f.version !== 0 || f.explicitZero
    ? { id: f.id, time: f.time, timeout: f.timeout, version: f.version }
    : { id: f.id, time: f.time, timeout: f.timeout };
  return f.sidCtx === undefined ? base : { ...base, sidCtx: f.sidCtx };
}

function fieldsOf(s: Session): SessionFields {
  return {
    id: s.id,
    time: s.time,
    timeout: s.timeout,
    version: s.version ?? 0,
    explicitZero: s.version !== undefined,
    sidCtx: s.sidCtx,
  };
}

/** libssl's default session lifetime for TLS (`SSL_get_default_timeout`), used when the
 * context's timeout is 0. */
const DEFAULT_TLS_TIMEOUT = 7200;

function statsText(cache: SessionCache): string {
  const st = cache.stats;
  return `number=${st.number} connect=${st.connect} connectGood=${st.connectGood} ` +
    `connectRenegotiate=${st.connectRenegotiate} accept=${st.accept} ` +
    `acceptGood=${st.acceptGood} acceptRenegotiate=${st.acceptRenegotiate} ` +
    `hits=${st.hits} cbHits=${st.cbHits} misses=${st.misses} timeouts=${st.timeouts} ` +
    `cacheFull=${st.cacheFull}`;
}

/** Replays one trace through a fresh `SessionCache`; one result line per operation. */
export function replayOurs(trace: Trace): string[] {
  let clock = 0;
  let removedLog: Session[] = [];
  let newLog: Session[] = [];
  /** Per handle: the JS objects that stand for its one OpenSSL object, oldest first. */
  const chains = new Map<string, Session[]>();
  const names = new WeakMap<Session, string>();
  /** Which handle's object is cached under a key (OpenSSL's `s->owner`), tracked naively. */
  const cachedBy = new Map<string, string>();
  const addCounts = new Map<string, number>();
  let serverSidCtx: Uint8Array | undefined;
  let extHandle: string | undefined;
  let extAsked = 0;
  let generated = 0;
  /**
   * The handle an operation is about. A copy the cache makes of its session (UPDATE_TIME) and
   * removes again within the same operation (auto-flush) is named after it in callbacks.
   */
  let subject: string | undefined;
  const nameInCallback = (s: Session): void => {
    if (!names.has(s) && subject !== undefined && chains.has(subject)) {
      if (keyOf(latest(subject)) === keyOf(s)) names.set(s, subject);
    }
  };
  const cache = new SessionCache({
    now: () => clock,
    onRemoveSession: (s) => {
      nameInCallback(s);
      removedLog.push(s);
      cachedBy.delete(keyOf(s));
    },
    onNewSession: (s) => {
      nameInCallback(s);
      newLog.push(s);
    },
    getSession: () => {
      extAsked++;
      return extHandle === undefined ? undefined : latest(extHandle);
    },
  });
  const latest = (h: string): Session => {
    const chain = chains.get(h);
    if (chain === undefined) throw new TypeError(`trace: unknown handle ${h}`);
    return chain[chain.length - 1] as Session;
  };
  const adopt = (h: string, s: Session | undefined, restart: boolean): void => {
    if (s === undefined) return;
    let chain = chains.get(h);
    if (chain === undefined) chains.set(h, chain = []);
    if (restart) chain.length = 0;
    if (chain[chain.length - 1] !== s) chain.push(s);
    names.set(s, h);
  };
  // Times print in whole seconds, as SSL_SESSION_get_time returns them (3.3 truncates its
  // nanoseconds; a session stamped by a fractional clock has a fractional time here).
  const describe = (s: Session): string =>
    `${names.get(s) ?? "?"}:${hex(s.id)}@${(s.version ?? 0).toString(16)}:${
      Math.floor(s.time)
    }+${s.timeout}`;
  const versionOpt = (s: Session): { version: number } => ({ version: s.version ?? 0 });
  /** After the cache may have stored handle h's object: adopt what it holds for h's key. */
  const maybeCached = (h: string, before: Session | undefined): void => {
    const s = latest(h);
    const now = cache.get(s.id, versionOpt(s));
    if (now !== undefined && (now !== before || cachedBy.get(keyOf(s)) === h)) {
      cachedBy.set(keyOf(s), h);
      adopt(h, now, false);
    }
  };

  const out: string[] = [];
  for (let i = 0; i < trace.length; i++) {
    const line = trace[i] as string;
    const [op, a, b, c, d, e, f] = line.split(" ");
    removedLog = [];
    newLog = [];
    subject = op === "new" || op === "hs" ? undefined : a;
    let result = "ok";
    const notes: string[] = [];
    try {
      if (
        (op === "add" || op === "remove" || op === "settime" || op === "settimeout") &&
        !chains.has(a as string)
      ) {
        result = "nohandle";
      } else {
        switch (op) {
          case "new": {
            const h = a as string;
            if (chains.has(h)) throw new TypeError(`trace: handle ${h} reused`);
            // Version 0 is spelled absent or explicit, alternating, to check they are the same.
            adopt(
              h,
              makeSession({
                id: unhex(b as string),
                time: num(c),
                timeout: num(d),
                version: num(e, 16),
                explicitZero: num(h.slice(1)) % 2 === 1,
                sidCtx: f === undefined || f === "-" ? undefined : unhex(f),
              }),
              true,
            );
            break;
          }
          case "add": {
            const h = a as string;
            const chain = chains.get(h) as Session[];
            const s = latest(h);
            const cached = cachedBy.get(keyOf(s)) === h;
            const adds = (addCounts.get(h) ?? 0) + 1;
            addCounts.set(h, adds);
            const arg = cached && adds % 3 === 0 ? chain[0] as Session : s;
            const added = cache.add(arg);
            cachedBy.set(keyOf(s), h);
            const now = cache.get(s.id, versionOpt(s));
            if (now === undefined) notes.push("!not-cached-after-add");
            adopt(h, now, false);
            result = `ret=${added ? 1 : 0} t=${Math.floor(latest(h).time)}`;
            break;
          }
          case "remove": {
            const removed = cache.remove(latest(a as string));
            result = `ret=${removed ? 1 : 0}`;
            break;
          }
          case "flush": {
            const removed = cache.flush(num(a));
            if (
              removed.length !== removedLog.length || removed.some((s, k) => s !== removedLog[k])
            ) {
              notes.push("!flush-result-differs-from-callbacks");
            }
            break;
          }
          case "settime":
          case "settimeout": {
            const h = a as string;
            const s = latest(h);
            const value = num(b);
            if (cachedBy.get(keyOf(s)) === h) {
              const ok = op === "settime"
                ? cache.setTime(s.id, value, versionOpt(s))
                : cache.setTimeout(s.id, value, versionOpt(s));
              if (!ok) notes.push(`!${op}-returned-false`);
              const now = cache.get(s.id, versionOpt(s));
              if (now === undefined || (op === "settime" ? now.time : now.timeout) !== value) {
                notes.push(`!${op}-not-applied`);
              }
              adopt(h, now, false);
            } else {
              const fields = fieldsOf(s);
              if (op === "settime") fields.time = value;
              else fields.timeout = value;
              adopt(h, makeSession(fields), true);
            }
            result = `ret=${op === "settime" ? value : 1}`;
            break;
          }
          case "size": {
            result = `prev=${cache.cacheSize}`;
            cache.cacheSize = num(a);
            break;
          }
          case "mode": {
            result = `prev=${cache.mode.toString(16)}`;
            cache.mode = num(a, 16);
            break;
          }
          case "ctxtimeout": {
            result = `prev=${cache.timeout}`;
            cache.timeout = num(a);
            break;
          }
          case "clock":
            clock = clockOf(a);
            break;
          case "has":
            result = `ret=${
              cache.get(unhex(a as string), { version: num(b, 16) }) === undefined ? 0 : 1
            }`;
            break;
          case "stats":
            result = statsText(cache);
            break;
          case "sidctx":
            serverSidCtx = a === "-" ? undefined : unhex(a as string);
            break;
          case "hs": {
            // A TLS 1.2 server handshake (version 0x303); see harness.c.
            const newHandle = a as string;
            if (chains.has(newHandle)) throw new TypeError(`trace: handle ${newHandle} reused`);
            const offer = b !== "-" && chains.has(b as string) ? latest(b as string) : undefined;
            extHandle = c !== "-" && chains.has(c as string) ? c : undefined;
            extAsked = 0;
            const before = extHandle === undefined ? undefined : cache.get(
              latest(extHandle).id,
              versionOpt(latest(extHandle)),
            );
            cache.handshakeStarted("server");
            subject = extHandle;
            const found = offer === undefined ? undefined : cache.lookupSync({
              id: offer.id,
              version: 0x303,
              ...(serverSidCtx === undefined ? {} : { sidCtx: serverSidCtx }),
            });
            if (extHandle !== undefined && extAsked > 0) maybeCached(extHandle, before);
            extHandle = undefined;
            if (found !== undefined) {
              cache.handshakeCompleted({ side: "server", session: found, resumed: true });
            } else if ((cache.mode & 0x2) === 0) {
              // OpenSSL sends and keeps an EMPTY session id when the mode lacks
              // SESS_CACHE_SERVER (tls_construct_server_hello): nothing to cache or resume.
              generated++;
              cache.handshakeCompleted({ side: "server", resumed: false });
            } else {
              generated++;
              const made = makeSession({
                id: new Uint8Array([0xe0, (generated >> 8) & 0xff, generated & 0xff]),
                time: clock,
                timeout: cache.timeout === 0 ? DEFAULT_TLS_TIMEOUT : cache.timeout,
                version: 0x303,
                explicitZero: true,
                sidCtx: serverSidCtx,
              });
              adopt(newHandle, made, true);
              subject = newHandle;
              const held = cache.get(made.id, versionOpt(made));
              cache.handshakeCompleted({ side: "server", session: made, resumed: false });
              maybeCached(newHandle, held);
            }
            result = `resumed=${found === undefined ? 0 : 1} asked=${extAsked} new=[${
              newLog.map(describe).join(",")
            }] ${statsText(cache)}`;
            break;
          }
          default:
            throw new TypeError(`trace: unknown op "${line}"`);
        }
      }
    } catch (error) {
      const err = error as Error;
      result = `throw:${err?.name}:${err?.message}`;
    }
    const st = cache.stats;
    if (cache.size !== st.number) notes.push(`!size=${cache.size}`);
    if ([...cache].length !== cache.size) notes.push("!iterator-length");
    out.push(
      `${result} rm=[${removedLog.map(describe).join(",")}] n=${st.number} full=${st.cacheFull}` +
        (notes.length > 0 ? " " + notes.join(" ") : ""),
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// libssl's side

/** The test-only certificate and key the harness's server uses for `hs`. */
const FIXTURE_CERT = fileURLToPath(new URL("../../fixtures/test_only_cert.pem", import.meta.url));
const FIXTURE_KEY = fileURLToPath(new URL("../../fixtures/test_only_key.pem", import.meta.url));

/**
 * Runs many traces through one harness process (separated by `reset`); lines per trace.
 * Input and output go through files: Deno's `spawnSync` writes all of `input` before it reads
 * any output, which deadlocks once both pipes are full.
 */
export function replayLibssl(harness: string, traces: readonly Trace[]): string[][] {
  const input = traces.map((t) => ["reset", ...t].join("\n")).join("\n") + "\n";
  const dir = mkdtempSync(join(tmpdir(), "libssl-trace-"));
  let stdout: string;
  try {
    writeFileSync(join(dir, "in"), input);
    const run = spawnSync(harness, [join(dir, "in"), join(dir, "out")], {
      encoding: "utf8",
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, HARNESS_CERT: FIXTURE_CERT, HARNESS_KEY: FIXTURE_KEY },
    });
    if (run.error !== undefined) throw run.error;
    if (run.status !== 0) {
      throw new Error(`harness exited with ${run.status ?? run.signal}: ${run.stderr}`);
    }
    stdout = readFileSync(join(dir, "out"), "utf8");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const lines = stdout.split("\n");
  const out: string[][] = [];
  let at = 0;
  for (const trace of traces) {
    at++; // the reset line
    out.push(lines.slice(at, at + trace.length));
    at += trace.length;
  }
  if (lines.length !== at + 1 || lines[at] !== "") {
    throw new Error(`harness printed ${lines.length - 1} lines, expected ${at}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Comparison and shrinking

/** Index of the first line where the two sides differ, or -1. */
export function firstMismatch(ours: readonly string[], theirs: readonly string[]): number {
  const n = Math.max(ours.length, theirs.length);
  for (let i = 0; i < n; i++) if (ours[i] !== theirs[i]) return i;
  return -1;
}

/** A failing trace, shrunk, with both sides' answers. */
export interface Mismatch {
  /** The seed the trace was generated from (or a hand trace's name). */
  readonly seed: number | string;
  /** The shrunk trace; its last line is the first that differs. */
  readonly trace: readonly string[];
  /** libssl's lines. */
  readonly libssl: readonly string[];
  /** Our lines. */
  readonly ours: readonly string[];
}

/** Options for {@linkcode shrink}. */
export interface ShrinkOptions {
  /** Stop shrinking after this many milliseconds and return the smallest trace so far (default 60 s). */
  budgetMs?: number;
}

/**
 * Shrinks a failing trace: cuts it after its first mismatch, drops whole kinds of operation,
 * then removes chunks of operations
 * (halving the chunk size down to one) while some mismatch remains. Each round tries every chunk
 * in one harness process; when several removals keep it failing, it tries them all at once.
 */
export function shrink(harness: string, trace: Trace, options: ShrinkOptions = {}): string[] {
  const deadline = Date.now() + (options.budgetMs ?? 60_000);
  const fails = (candidates: readonly Trace[]): number[] => {
    const theirs = replayLibssl(harness, candidates);
    return candidates.map((t, k) => firstMismatch(replayOurs(t), theirs[k] as string[]));
  };
  const without = (t: readonly string[], drop: ReadonlySet<number>): string[] =>
    normalizeTrace(t.filter((_, i) => !drop.has(i)));
  let best = normalizeTrace(trace);
  const [cut] = fails([best]);
  if (cut === undefined || cut < 0) return best;
  best = best.slice(0, cut + 1);
  // First drop whole kinds of operation (all `stats`, all `clock`, ...), one kind at a time.
  for (const kind of new Set(best.map((line) => line.split(" ")[0]))) {
    const c = normalizeTrace(best.filter((line) => line.split(" ")[0] !== kind));
    if (c.length === 0 || c.length === best.length) continue;
    const [r] = fails([c]);
    if (r !== undefined && r >= 0) best = c.slice(0, r + 1);
  }
  let chunk = Math.max(1, Math.floor(best.length / 2));
  while (Date.now() < deadline) {
    const drops: Set<number>[] = [];
    const candidates: string[][] = [];
    for (let i = 0; i < best.length; i += chunk) {
      const drop = new Set(
        Array.from({ length: Math.min(chunk, best.length - i) }, (_, k) => i + k),
      );
      const c = without(best, drop);
      if (c.length > 0 && c.length < best.length) {
        drops.push(drop);
        candidates.push(c);
      }
    }
    const results = candidates.length > 0 ? fails(candidates) : [];
    const failing = results.flatMap((r, k) => (r >= 0 ? [k] : []));
    if (failing.length > 0) {
      let next: string[] | undefined;
      if (failing.length > 1) {
        const all = without(best, new Set(failing.flatMap((k) => [...(drops[k] as Set<number>)])));
        const [r] = all.length > 0 ? fails([all]) : [-1];
        if (r !== undefined && r >= 0) next = all.slice(0, r + 1);
      }
      if (next === undefined) {
        const k = failing[0] as number;
        next = (candidates[k] as string[]).slice(0, (results[k] as number) + 1);
      }
      best = next;
      chunk = Math.min(chunk, Math.max(1, Math.floor(best.length / 2)));
    } else if (chunk > 1) {
      chunk = Math.floor(chunk / 2);
    } else {
      return best;
    }
  }
  return best;
}

/** Both sides' lines for a trace, side by side, for a failure message. */
export function formatMismatch(m: Mismatch): string {
  const rows = m.trace.map((op, i) => {
    const same = m.libssl[i] === m.ours[i];
    return same
      ? `  ${op}\n      both:   ${m.libssl[i]}`
      : `  ${op}\n    ! libssl: ${m.libssl[i]}\n    ! ours:   ${m.ours[i]}`;
  });
  return `${
    typeof m.seed === "number" ? "seed " : ""
  }${m.seed}, shrunk to ${m.trace.length} ops:\n${rows.join("\n")}`;
}
