/**
 * Shared, rotating TLS session ticket keys for a fleet of Node servers.
 *
 * A TLS 1.3 client resumes from a ticket, which a server can decrypt only
 * with the key that sealed it; a Node server (`tls.Server`, `https.Server`)
 * holds exactly one such key, 48 bytes (`ticketKeys`, `setTicketKeys()`),
 * random per process by default. {@linkcode TicketKeyRotation} gives every
 * server of a fleet the same key for the current rotation period, without a
 * coordinator: each computes the period from its clock,
 * `floor(nowMs / rotationMs)`, and asks a {@linkcode TicketKeySource} for
 * that period's key (`RedisTicketKeys` from `./redis` creates it once with
 * `SET NX` and lets the others read it). The next period's key is fetched
 * ahead of the boundary, and a timer installs it at the boundary, so the
 * switch needs no round trip.
 *
 * Node holds one key, so a rotation ends every ticket sealed with the old
 * one: a client holding such a ticket makes a full handshake. See
 * docs/fleets.md for the cost and how `rotationMs` trades it against the
 * exposure of a stolen key.
 *
 * Deno 2.9 accepts `setTicketKeys()` but does not use the keys, and Bun 1.4
 * throws "not implemented": the rotation detects both and reports them.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { MAX_TIMER_MS, report, settleWithin, unrefTimeout } from "../_async.ts";
import {
  byteLength,
  checkDelayMs,
  checkFunction,
  checkOptions,
  copyBytes,
  isUint8Array,
  show,
} from "../_validate.ts";

/** The length of a Node ticket key: 16 bytes of name, 16 of HMAC key, 16 of AES key. */
const TICKET_KEY_BYTES = 48;
const DEFAULT_ROTATION_MS = 3_600_000;
const DEFAULT_PREFETCH_MS = 60_000;
const DEFAULT_RETRY_MS = 1000;
const DEFAULT_TIMEOUT_MS = 5000;
const MAX_RETRY_MS = 60_000;
const ACTION = "create ticket key rotation";

/**
 * A rotation period: `index = floor(startMs / (endMs - startMs))`, and the
 * Unix times (milliseconds) where it starts and ends.
 */
export interface TicketKeyPeriod {
  /** `floor(nowMs / rotationMs)` for any `nowMs` within the period. */
  readonly index: number;
  /** `index * rotationMs`. */
  readonly startMs: number;
  /** `(index + 1) * rotationMs`: where the next period starts. */
  readonly endMs: number;
}

/**
 * Where a {@linkcode TicketKeyRotation} gets each period's key:
 * `RedisTicketKeys` from `./redis`, or your own. Every server of a fleet
 * must get the same 48 bytes for the same period.
 *
 * @example A source that hands out one fixed key per period, from memory
 * ```ts
 * import assert from "node:assert/strict";
 * import type { TicketKeySource } from "@sesscache/openssl-session-cache/node";
 *
 * const keys = new Map<number, Uint8Array>();
 * const source: TicketKeySource = {
 *   ticketKey: async ({ index }) => {
 *     if (!keys.has(index)) keys.set(index, crypto.getRandomValues(new Uint8Array(48)));
 *     return keys.get(index)!;
 *   },
 * };
 * const period = { index: 7, startMs: 7000, endMs: 8000 };
 * assert.deepEqual(await source.ticketKey(period), await source.ticketKey(period));
 * ```
 */
export interface TicketKeySource {
  /**
   * The 48-byte key of `period`, the same for every caller. May reject or
   * never settle: the rotation bounds each call with its `timeoutMs`.
   */
  ticketKey(period: TicketKeyPeriod): Promise<Uint8Array>;
}

/** The part of a `tls.Server` (or `https.Server`) a {@linkcode TicketKeyRotation} uses. */
export interface TicketKeyServer {
  /** Replaces the server's ticket key (48 bytes). */
  setTicketKeys(keys: Buffer): void;
  /** The server's ticket key; asked once, when attaching, to see whether the runtime has one. */
  getTicketKeys(): Buffer;
}

/** What a failed step of a {@linkcode TicketKeyRotation} was doing, for `onError`. */
export interface TicketKeyErrorContext {
  /**
   * `"fetch"`: asking the source for a period's key (the servers keep the
   * key they have); `"install"`: a server's `setTicketKeys()` threw;
   * `"attach"`: a {@linkcode TicketKeyWarning} about the runtime.
   */
  readonly operation: "fetch" | "install" | "attach";
  /** The index of the period concerned. */
  readonly period: number;
}

/** Options of {@linkcode TicketKeyRotation}. Every server of a fleet must use the same `rotationMs`. */
export interface TicketKeyRotationOptions {
  /**
   * The length of a rotation period in milliseconds: an integer from 1 to
   * 2^31 - 1. Default 3 600 000 (one hour). A rotation ends every
   * outstanding ticket; see docs/fleets.md for the trade-off.
   */
  readonly rotationMs?: number;
  /**
   * How long before a period's end its successor's key is fetched, in
   * milliseconds: at least 0 and less than `rotationMs`. Default: a quarter
   * of `rotationMs`, at most 60 000.
   */
  readonly prefetchMs?: number;
  /**
   * The wait after a failed fetch, in milliseconds (more than 0, at most
   * 2^31 - 1); it doubles after each failure in a row, up to 60 s or a
   * quarter of `rotationMs`, whichever is less (never below `retryMs`).
   * Default 1000.
   */
  readonly retryMs?: number;
  /** Deadline of each call to the source, in milliseconds (more than 0, at most 2^31 - 1). Default 5000. */
  readonly timeoutMs?: number;
  /**
   * Hears every failed fetch and install, and the runtime warnings of
   * `attach()`. Never handed key bytes. Never throws into the rotation.
   */
  readonly onError?: (error: unknown, context: TicketKeyErrorContext) => void;
  /**
   * The wall clock in milliseconds, which the whole fleet must share (NTP).
   * Default `Date.now`. A reading that throws or is not a finite number is
   * replaced by `Date.now()`.
   */
  readonly nowMs?: () => number;
}

/** Counters of a {@linkcode TicketKeyRotation}. No key bytes, ever. */
export interface TicketKeyRotationStats {
  /** The index of the period whose key the servers hold, or `undefined` before the first install. */
  readonly period: number | undefined;
  /** Keys installed (the first one, and one per rotation). */
  readonly installs: number;
  /** Keys the source handed over. */
  readonly fetches: number;
  /** Calls to the source that failed, timed out or gave something that is not 48 bytes. */
  readonly failures: number;
  /** Servers attached. */
  readonly servers: number;
}

/**
 * Whether the servers hold the current period's key (`"current"`), an
 * older period's because the source failed (`"stale"`), or no shared key
 * yet (`"none"`: each server still has its own random key).
 */
export type TicketKeyStatus = "current" | "stale" | "none";

/**
 * Why shared ticket keys do not take effect on a server:
 * - `"ignored"`: the runtime accepts `setTicketKeys()` but does not use
 *   the keys (Deno 2.9): each server resumes only its own tickets;
 * - `"unsupported"`: the runtime has no working `setTicketKeys()` /
 *   `getTicketKeys()` (Bun 1.4 throws "not implemented").
 */
export type TicketKeyWarningCode = "ignored" | "unsupported";

/**
 * A server on which shared ticket keys do not take effect, found by
 * {@linkcode TicketKeyRotation.attach}: listed in its result and reported
 * to `onError` once.
 *
 * @example The code and the message
 * ```ts
 * import assert from "node:assert/strict";
 * import { TicketKeyWarning } from "@sesscache/openssl-session-cache/node";
 *
 * const warning = new TicketKeyWarning("unsupported", "No setTicketKeys");
 * assert.equal(warning.code, "unsupported");
 * assert.equal(warning.name, "TicketKeyWarning");
 * ```
 */
export class TicketKeyWarning extends Error {
  /** Which case it is. */
  readonly code: TicketKeyWarningCode;

  /**
   * Makes a warning.
   *
   * @param code Which case it is.
   * @param message What happens there.
   */
  constructor(code: TicketKeyWarningCode, message: string) {
    super(message);
    this.name = "TicketKeyWarning";
    this.code = code;
  }
}

/** What {@linkcode TicketKeyRotation.attach} returns. */
export interface AttachedTicketKeys {
  /** Stops installing keys on the server (it keeps the key it has). Idempotent. */
  detach(): void;
  /** Why the shared keys do not take effect on this server, if they do not (empty on Node). */
  readonly warnings: readonly TicketKeyWarning[];
}

interface Attached {
  readonly set: (key: Uint8Array) => void;
  readonly supported: boolean;
}

interface PeriodKey {
  readonly index: number;
  readonly key: Uint8Array;
}

/** The runtime, when its `node:tls` server takes ticket keys without using them. */
function keylessRuntime(): string | undefined {
  const g = globalThis as { Deno?: { version?: { deno?: unknown } } };
  return typeof g.Deno?.version?.deno === "string" ? `Deno ${g.Deno.version.deno}` : undefined;
}

/**
 * Keeps the ticket key of every attached Node server equal to the current
 * rotation period's key from a {@linkcode TicketKeySource}, so that a TLS
 * 1.3 client (or a TLS 1.2 client using tickets) resumes on any server of
 * the fleet.
 *
 * - Period: `index = floor(nowMs() / rotationMs)`; the fleet agrees on it
 *   through its clocks alone.
 * - Start: the current period's key is fetched at once; `ready()` says
 *   when it is installed.
 * - Ahead of each boundary (`prefetchMs`), the next period's key is
 *   fetched; a timer installs it at the boundary.
 * - Failure: a fetch that rejects, times out (`timeoutMs`) or gives
 *   anything but 48 bytes is reported to `onError` and tried again after
 *   `retryMs`, doubling; meanwhile the servers keep the key they have (a
 *   stale key still resumes across the fleet, as every server keeps the
 *   same one). One fetch at a time.
 * - Every timer is unref-ed: the rotation never keeps a process alive.
 *   `stop()` ends it.
 *
 * Key bytes are never logged, reported or exposed: not in errors, not in
 * `stats`. Node holds one ticket key, so every rotation ends the tickets
 * sealed with the previous key (their clients make a full handshake).
 *
 * @example Two servers of a fleet, in one process for the example (no connection is made)
 * ```ts
 * import assert from "node:assert/strict";
 * import { createServer } from "node:tls";
 * import { TicketKeyRotation, type TicketKeySource } from "@sesscache/openssl-session-cache/node";
 *
 * const keys = new Map<number, Uint8Array>(); // stands in for Redis
 * const source: TicketKeySource = {
 *   ticketKey: async ({ index }) => {
 *     if (!keys.has(index)) keys.set(index, crypto.getRandomValues(new Uint8Array(48)));
 *     return keys.get(index)!;
 *   },
 * };
 * const a = new TicketKeyRotation(source, { rotationMs: 3_600_000 });
 * const b = new TicketKeyRotation(source, { rotationMs: 3_600_000 });
 * const serverA = createServer();
 * const serverB = createServer();
 * const attached = a.attach(serverA);
 * b.attach(serverB);
 * assert.equal(await a.ready(), true);
 * assert.equal(await b.ready(), true);
 * assert.equal(a.status, "current");
 * assert.equal(a.stats.period, Math.floor(Date.now() / 3_600_000));
 * // On Node both servers now hold one key. Deno takes it but ignores it, Bun has none:
 * assert.equal(attached.warnings.length, "Deno" in globalThis || "Bun" in globalThis ? 1 : 0);
 * a.stop();
 * b.stop();
 * ```
 */
export class TicketKeyRotation {
  readonly #ticketKey: (period: TicketKeyPeriod) => unknown;
  readonly #rotationMs: number;
  readonly #prefetchMs: number;
  readonly #retryMs: number;
  readonly #maxRetryMs: number;
  readonly #timeoutMs: number;
  readonly #onError: ((error: unknown, context: TicketKeyErrorContext) => void) | undefined;
  readonly #nowMs: (() => number) | undefined;
  readonly #servers = new Map<object, Attached>();
  readonly #counts = { installs: 0, fetches: 0, failures: 0 };
  /** The key the servers hold. */
  #installed: PeriodKey | undefined;
  /** The next period's key, fetched ahead of its start. */
  #next: PeriodKey | undefined;
  /** Whether a call to the source is out. */
  #fetching = false;
  #failedInARow = 0;
  #retryAtMs = -Infinity;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  readonly #ready: Promise<boolean>;
  #settleReady: ((installed: boolean) => void) | undefined;

  /**
   * Starts the rotation: the current period's key is asked for at once.
   * Every option (and the source's `ticketKey`) is read once and checked
   * before anything starts.
   *
   * @param source Where each period's key comes from (e.g. `RedisTicketKeys`).
   * @param options Rotation length, prefetch lead, retry delay, deadline, error hook, clock.
   * @throws {TypeError} If `source.ticketKey`, `onError` or `nowMs` is not a function, or an option is not a number.
   * @throws {RangeError} If `rotationMs` is not an integer from 1 to 2^31 - 1, `prefetchMs` is not
   *   from 0 to less than `rotationMs`, or `retryMs` or `timeoutMs` is not more than 0 and at most 2^31 - 1.
   */
  constructor(source: TicketKeySource, options: TicketKeyRotationOptions = {}) {
    if ((typeof source !== "object" && typeof source !== "function") || source === null) {
      throw new TypeError(`Cannot ${ACTION}: source must be an object: received ${show(source)}`);
    }
    const { ticketKey } = source as { ticketKey?: unknown };
    if (typeof ticketKey !== "function") {
      throw new TypeError(
        `Cannot ${ACTION}: source.ticketKey must be a function: received ${show(ticketKey)}`,
      );
    }
    const o = checkOptions(ACTION, options);
    const { rotationMs, prefetchMs, retryMs, timeoutMs, onError, nowMs } = o;
    const rotation = checkDelayMs(ACTION, "rotationMs", rotationMs ?? DEFAULT_ROTATION_MS);
    if (!Number.isInteger(rotation)) {
      throw new RangeError(
        `Cannot ${ACTION}: rotationMs must be an integer: received ${show(rotation)}`,
      );
    }
    const prefetch = prefetchMs ?? Math.min(Math.floor(rotation / 4), DEFAULT_PREFETCH_MS);
    if (typeof prefetch !== "number") {
      throw new TypeError(
        `Cannot ${ACTION}: prefetchMs must be a number: received ${show(prefetch)}`,
      );
    }
    if (!(prefetch >= 0 && prefetch < rotation)) {
      throw new RangeError(
        `Cannot ${ACTION}: prefetchMs must be >= 0 and less than rotationMs (${rotation}): received ${
          show(prefetch)
        }`,
      );
    }
    const retry = checkDelayMs(ACTION, "retryMs", retryMs ?? DEFAULT_RETRY_MS);
    const deadline = checkDelayMs(ACTION, "timeoutMs", timeoutMs ?? DEFAULT_TIMEOUT_MS);
    checkFunction(ACTION, "onError", onError);
    checkFunction(ACTION, "nowMs", nowMs);
    // Everything is checked: keep it.
    this.#ticketKey = (period) => (ticketKey as TicketKeySource["ticketKey"]).call(source, period);
    this.#rotationMs = rotation;
    this.#prefetchMs = prefetch;
    this.#retryMs = retry;
    this.#maxRetryMs = Math.max(retry, Math.min(MAX_RETRY_MS, rotation / 4));
    this.#timeoutMs = deadline;
    this.#onError = onError as TicketKeyRotationOptions["onError"];
    this.#nowMs = nowMs as (() => number) | undefined;
    this.#ready = new Promise((resolve) => (this.#settleReady = resolve));
    this.#tick();
  }

  /**
   * Resolves `true` once the first key is installed, or `false` if the
   * first fetch failed (the rotation keeps trying) or the rotation was
   * stopped first. Never rejects. Await it before `listen()` so that the
   * first clients already get tickets every server can open.
   *
   * @returns Whether a shared key is installed.
   *
   * @example A source that fails: `false`, and the rotation keeps trying
   * ```ts
   * import assert from "node:assert/strict";
   * import { TicketKeyRotation } from "@sesscache/openssl-session-cache/node";
   *
   * const errors: string[] = [];
   * const rotation = new TicketKeyRotation({ ticketKey: () => Promise.reject(new Error("Redis is down")) }, {
   *   onError: (error, { operation }) => void errors.push(`${operation}: ${(error as Error).message}`),
   * });
   * assert.equal(await rotation.ready(), false);
   * assert.deepEqual(errors, ["fetch: Redis is down"]);
   * assert.equal(rotation.status, "none"); // each server keeps its own key meanwhile
   * rotation.stop();
   * ```
   */
  ready(): Promise<boolean> {
    return this.#ready;
  }

  /**
   * Installs the shared keys on a server from now on (at once when a key is
   * already here). The runtime is checked once: on Deno the keys are set
   * but not used, on Bun the server has no ticket keys; each case is
   * listed in `warnings` and reported to `onError`.
   *
   * @param server A `tls.Server` or `https.Server`.
   * @returns A handle: `detach()` stops installing keys on it; `warnings` says if they take no effect.
   * @throws {TypeError} If `server` has no `setTicketKeys` method, or is attached already.
   *
   * @example What attaching says on each runtime (no connection is made)
   * ```ts
   * import assert from "node:assert/strict";
   * import { createServer } from "node:tls";
   * import { TicketKeyRotation } from "@sesscache/openssl-session-cache/node";
   *
   * const key = crypto.getRandomValues(new Uint8Array(48));
   * const rotation = new TicketKeyRotation({ ticketKey: () => Promise.resolve(key) });
   * const attached = rotation.attach(createServer());
   * const expected = "Deno" in globalThis ? ["ignored"] : "Bun" in globalThis ? ["unsupported"] : [];
   * assert.deepEqual(attached.warnings.map((w) => w.code), expected);
   * attached.detach();
   * rotation.stop();
   * ```
   */
  attach(server: TicketKeyServer): AttachedTicketKeys {
    const action = "attach ticket keys";
    if ((typeof server !== "object" && typeof server !== "function") || server === null) {
      throw new TypeError(
        `Cannot ${action}: server must be a tls.Server: received ${show(server)}`,
      );
    }
    // Each method is read once: a getter cannot swap it after the check.
    const { setTicketKeys, getTicketKeys } = server as unknown as Record<string, unknown>;
    if (typeof setTicketKeys !== "function") {
      throw new TypeError(
        `Cannot ${action}: server.setTicketKeys must be a function: received ${
          show(setTicketKeys)
        }`,
      );
    }
    if (this.#servers.has(server)) {
      throw new TypeError(
        `Cannot ${action}: server must not be attached already: received a server`,
      );
    }
    const warnings: TicketKeyWarning[] = [];
    let supported = true;
    let probe: unknown;
    try {
      probe = typeof getTicketKeys === "function" ? getTicketKeys.call(server) : undefined;
    } catch {
      probe = undefined;
    }
    if (!isUint8Array(probe) || byteLength(probe) !== TICKET_KEY_BYTES) {
      supported = false;
      warnings.push(
        new TicketKeyWarning(
          "unsupported",
          "This runtime's TLS server has no working getTicketKeys()/setTicketKeys() (Bun: not implemented): it keeps its own ticket key, so its TLS 1.3 clients resume only on the server that issued their ticket",
        ),
      );
    } else {
      const runtime = keylessRuntime();
      if (runtime !== undefined) {
        warnings.push(
          new TicketKeyWarning(
            "ignored",
            `${runtime} accepts setTicketKeys() but does not use the keys: its TLS 1.3 clients resume only on the server that issued their ticket`,
          ),
        );
      }
    }
    const entry: Attached = {
      supported,
      set: (key) => void setTicketKeys.call(server, Buffer.from(key)),
    };
    this.#servers.set(server, entry);
    const period = this.#indexAt(this.#now());
    for (const warning of warnings) {
      report(this.#onError, warning, { operation: "attach", period });
    }
    if (this.#installed !== undefined) this.#installOn(entry, this.#installed);
    let attached = true;
    return {
      detach: () => {
        if (!attached) return;
        attached = false;
        if (this.#servers.get(server) === entry) this.#servers.delete(server);
      },
      warnings: Object.freeze(warnings),
    };
  }

  /**
   * A snapshot of the counters (a fresh plain object each time; never key bytes).
   *
   * @returns The counters.
   */
  get stats(): TicketKeyRotationStats {
    return {
      period: this.#installed?.index,
      installs: this.#counts.installs,
      fetches: this.#counts.fetches,
      failures: this.#counts.failures,
      servers: this.#servers.size,
    };
  }

  /**
   * Whether the servers hold the current period's key, per the clock now.
   *
   * @returns `"current"`, `"stale"` or `"none"`.
   */
  get status(): TicketKeyStatus {
    if (this.#installed === undefined) return "none";
    return this.#installed.index === this.#indexAt(this.#now()) ? "current" : "stale";
  }

  /**
   * Stops the rotation: no more fetches or installs; the servers keep the
   * key they hold. Idempotent.
   */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#settleReady?.(false);
    this.#settleReady = undefined;
  }

  #now(): number {
    if (this.#nowMs !== undefined) {
      try {
        const t = this.#nowMs();
        if (typeof t === "number" && Number.isFinite(t)) return t;
      } catch {
        // fall back below
      }
    }
    return Date.now();
  }

  #indexAt(nowMs: number): number {
    return Math.floor(nowMs / this.#rotationMs);
  }

  #period(index: number): TicketKeyPeriod {
    return Object.freeze({
      index,
      startMs: index * this.#rotationMs,
      endMs: (index + 1) * this.#rotationMs,
    });
  }

  /**
   * Brings the state up to the clock: installs a prefetched key whose
   * period has begun, starts the fetch that is due (the current period's
   * key if the servers lack it, else the next one's within `prefetchMs` of
   * the boundary), and sets the timer for the next moment that matters.
   */
  #tick(): void {
    if (this.#stopped) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const now = this.#now();
    const index = this.#indexAt(now);
    const endMs = (index + 1) * this.#rotationMs;
    const prefetchAtMs = endMs - this.#prefetchMs;
    const next = this.#next;
    if (next !== undefined && next.index <= index) {
      this.#next = undefined;
      if (next.index === index) this.#install(next);
    }
    if (!this.#fetching && now >= this.#retryAtMs) {
      if (this.#installed?.index !== index) this.#fetch(index);
      else if (this.#next === undefined && now >= prefetchAtMs) this.#fetch(index + 1);
    }
    // Wake at the boundary, at the prefetch time, or when a retry is due; waking early is harmless.
    let wakeMs = endMs;
    if (prefetchAtMs > now) wakeMs = Math.min(wakeMs, prefetchAtMs);
    if (this.#retryAtMs > now) wakeMs = Math.min(wakeMs, this.#retryAtMs);
    const delay = Math.min(Math.max(Math.ceil(wakeMs - now), 1), MAX_TIMER_MS);
    this.#timer = unrefTimeout(() => this.#tick(), delay);
  }

  #fetch(index: number): void {
    this.#fetching = true;
    let answer: unknown;
    try {
      answer = this.#ticketKey(this.#period(index));
    } catch (error) {
      answer = Promise.reject(error);
    }
    void settleWithin(answer, this.#timeoutMs).then((settled) => {
      this.#fetching = false;
      if (this.#stopped) return;
      let key: Uint8Array | undefined;
      let error: unknown;
      if (settled.status === "fulfilled") {
        try {
          key = checkKey(settled.value);
        } catch (e) {
          error = e;
        }
      } else if (settled.status === "rejected") {
        error = settled.reason;
      } else {
        error = new Error(
          `Cannot fetch ticket key: the source must answer within ${this.#timeoutMs} ms: received no answer (period ${index})`,
        );
      }
      if (key !== undefined) {
        this.#counts.fetches++;
        this.#failedInARow = 0;
        this.#retryAtMs = -Infinity;
        const current = this.#indexAt(this.#now());
        if (index === current) this.#install({ index, key });
        else if (index > current) this.#next = { index, key };
        // An older period's key (the boundary passed while it was fetched) is dropped.
      } else {
        this.#counts.failures++;
        this.#failedInARow++;
        const wait = Math.min(
          this.#retryMs * 2 ** Math.min(this.#failedInARow - 1, 30),
          this.#maxRetryMs,
        );
        this.#retryAtMs = this.#now() + wait;
        report(this.#onError, error, { operation: "fetch", period: index });
        this.#settleReady?.(false);
        this.#settleReady = undefined;
      }
      this.#tick();
    });
  }

  #install(period: PeriodKey): void {
    this.#installed = period;
    this.#counts.installs++;
    for (const entry of this.#servers.values()) this.#installOn(entry, period);
    this.#settleReady?.(true);
    this.#settleReady = undefined;
  }

  #installOn(entry: Attached, period: PeriodKey): void {
    if (!entry.supported) return;
    try {
      entry.set(period.key);
    } catch (error) {
      report(this.#onError, error, { operation: "install", period: period.index });
    }
  }
}

/** A key from the source, read once: a copy of a real Uint8Array of 48 bytes. */
function checkKey(value: unknown): Uint8Array {
  const action = "install ticket key";
  if (!isUint8Array(value)) {
    throw new TypeError(`Cannot ${action}: key must be a Uint8Array: received ${show(value)}`);
  }
  const key = copyBytes(value);
  if (key.length !== TICKET_KEY_BYTES) {
    throw new RangeError(
      `Cannot ${action}: key must be ${TICKET_KEY_BYTES} bytes: received ${key.length}`,
    );
  }
  return key;
}
