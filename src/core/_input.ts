// This module is browser compatible.

/**
 * Reading the core's inputs at its public boundary: every field of a
 * session, a key, a lookup request or the settings is read exactly once
 * into a plain value and validated there, and the core uses only that value
 * afterwards. So a getter or a Proxy cannot slip a NaN time or a 40-byte id
 * past the checks, and a refused call changes nothing (nothing is written
 * before everything is read and checked).
 *
 * The shell reads its inputs with these same functions (same messages) and
 * then calls the store directly, so nothing is checked twice.
 *
 * Internal: not re-exported from `core.ts`.
 *
 * @module
 */

import {
  checkCacheSize,
  checkId,
  checkMode,
  checkOptions,
  checkSeconds,
  checkSidCtx,
  checkVersion,
  isUint8Array,
  show,
} from "../_validate.ts";
import type { Session } from "../session.ts";

/** Copies the cache made of a session (`setSessionTime`, ...), to the object they stand for. */
const ORIGINS = new WeakMap<object, object>();

/**
 * The identity OpenSSL would see: the original object behind any copy this
 * cache made of it. Only copies the cache itself made count, so no object can
 * claim another's identity.
 */
export function originOf(session: object): object {
  return ORIGINS.get(session) ?? session;
}

/** A session read once and validated: the object itself plus the fields the cache uses. */
export interface SessionInput {
  /** The object itself: what the cache hands back. */
  readonly session: Session;
  /** Its identity for OpenSSL's "same session" rule. */
  readonly origin: object;
  /** The id, 1 to 32 bytes of a real Uint8Array (the store copies the bytes). */
  readonly id: Uint8Array;
  readonly time: number;
  readonly timeout: number;
  /** The protocol version, 0 when absent. */
  readonly version: number;
  /** The session id context (a real Uint8Array of at most 32 bytes), if any. */
  readonly sidCtx: Uint8Array | undefined;
  /** The serialized session (a real Uint8Array), if any. */
  readonly data: Uint8Array | undefined;
}

/** Reads and checks a session: `Cannot <action>: ...` on anything invalid. */
export function readSession(action: string, value: unknown): SessionInput {
  if (typeof value !== "object" || value === null) {
    throw new TypeError(`Cannot ${action}: session must be an object: received ${show(value)}`);
  }
  const { id, time, timeout, version, sidCtx, data } = value as Record<string, unknown>;
  checkId(action, id);
  checkSeconds(action, "time", time);
  checkSeconds(action, "timeout", timeout);
  checkVersion(action, version);
  checkSidCtx(action, sidCtx);
  if (data !== undefined && !isUint8Array(data)) {
    throw new TypeError(`Cannot ${action}: data must be a Uint8Array: received ${show(data)}`);
  }
  const session = value as Session;
  return {
    session,
    origin: originOf(session),
    id,
    time,
    timeout,
    version: version ?? 0,
    sidCtx,
    data,
  };
}

/** A key read once and validated. */
export interface KeyInput {
  readonly id: Uint8Array;
  readonly version: number;
}

/**
 * Reads and checks the key of a session or request (`id`, `version`). With
 * `strict` false, ids of a length no session can have (0 or over 32 bytes)
 * are accepted: looking them up simply finds nothing.
 */
export function readKey(action: string, value: unknown, strict = true): KeyInput {
  if (typeof value !== "object" || value === null) {
    throw new TypeError(`Cannot ${action}: key must be an object: received ${show(value)}`);
  }
  const { id, version } = value as Record<string, unknown>;
  readId(action, id, strict);
  checkVersion(action, version);
  return { id: id as Uint8Array, version: version ?? 0 };
}

/** A server's lookup request read once and validated. */
export interface LookupInput extends KeyInput {
  readonly sidCtx: Uint8Array | undefined;
}

/** Reads and checks a lookup request (`id`, `version`, `sidCtx`). */
export function readLookup(action: string, value: unknown): LookupInput {
  if (typeof value !== "object" || value === null) {
    throw new TypeError(`Cannot ${action}: request must be an object: received ${show(value)}`);
  }
  const { id, version, sidCtx } = value as Record<string, unknown>;
  checkId(action, id);
  checkVersion(action, version);
  checkSidCtx(action, sidCtx);
  return { id, version: version ?? 0, sidCtx };
}

function readId(action: string, id: unknown, strict: boolean): asserts id is Uint8Array {
  if (strict) checkId(action, id);
  else if (!isUint8Array(id)) {
    throw new TypeError(`Cannot ${action}: id must be a Uint8Array: received ${show(id)}`);
  }
}

/** Reads a required time in seconds from options (`now`, `time`, ...). */
export function readTime(action: string, options: unknown, name: string): number {
  const value = checkOptions(action, options)[name];
  checkSeconds(action, name, value);
  return value;
}

/** Reads an optional time in seconds (absent: `undefined`). */
export function readOptionalTime(
  action: string,
  options: unknown,
  name: string,
): number | undefined {
  const value = checkOptions(action, options)[name];
  if (value === undefined) return undefined;
  checkSeconds(action, name, value);
  return value;
}

/** Settings read once and validated; absent ones are `undefined`. */
export interface SettingsInput {
  readonly cacheSize: number | undefined;
  readonly mode: number | undefined;
  readonly timeout: number | undefined;
  readonly flushBudget: number | undefined;
}

/** Reads and checks `{ cacheSize, mode, timeout, flushBudget }`. */
export function readSettings(action: string, value: unknown): SettingsInput {
  const { cacheSize, mode, timeout, flushBudget } = checkOptions(action, value);
  if (cacheSize !== undefined) checkCacheSize(action, cacheSize);
  if (mode !== undefined) checkMode(action, mode);
  if (timeout !== undefined) checkSeconds(action, "timeout", timeout);
  return {
    cacheSize: cacheSize as number | undefined,
    mode: mode as number | undefined,
    timeout: timeout as number | undefined,
    flushBudget: readBudget(action, flushBudget),
  };
}

/** Reads a flush budget: absent, or an integer >= 0. */
export function readBudget(action: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number") {
    throw new TypeError(`Cannot ${action}: flushBudget must be a number: received ${show(value)}`);
  }
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(
      `Cannot ${action}: flushBudget must be a non-negative integer: received ${show(value)}`,
    );
  }
  return value;
}

/**
 * A frozen copy of a cached session with a new time or timeout, built from
 * the fields the cache read (never from the object again), that counts as
 * the same session as `origin`.
 */
export function deriveSession(
  fields: {
    readonly id: Uint8Array;
    readonly time: number;
    readonly timeout: number;
    readonly version: number;
    readonly sidCtx: Uint8Array | undefined;
    readonly data: Uint8Array | undefined;
  },
  origin: object,
): Session {
  const copy: {
    id: Uint8Array;
    time: number;
    timeout: number;
    version: number;
    sidCtx?: Uint8Array;
    data?: Uint8Array;
  } = { id: fields.id, time: fields.time, timeout: fields.timeout, version: fields.version };
  if (fields.sidCtx !== undefined) copy.sidCtx = fields.sidCtx;
  if (fields.data !== undefined) copy.data = fields.data;
  Object.freeze(copy);
  ORIGINS.set(copy, origin);
  return copy;
}

/** Reads a side: true for `"server"`. */
export function readSide(action: string, side: unknown): boolean {
  if (side !== "server" && side !== "client") {
    throw new TypeError(
      `Cannot ${action}: side must be "server" or "client": received ${show(side)}`,
    );
  }
  return side === "server";
}

/** Reads an optional boolean flag (absent: false). */
export function readFlag(action: string, value: unknown, name: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== "boolean") {
    throw new TypeError(`Cannot ${action}: ${name} must be a boolean: received ${show(value)}`);
  }
  return value;
}

/** A completed handshake read once and checked. */
export interface HandshakeInput {
  readonly server: boolean;
  readonly session: SessionInput | undefined;
  readonly resumed: boolean;
  readonly tls13: boolean;
}

/** Reads and checks a completed handshake. */
export function readHandshake(action: string, value: unknown): HandshakeInput {
  if (typeof value !== "object" || value === null) {
    throw new TypeError(`Cannot ${action}: handshake must be an object: received ${show(value)}`);
  }
  const { side, session, resumed, tls13 } = value as Record<string, unknown>;
  const server = readSide(action, side);
  if (typeof resumed !== "boolean") {
    throw new TypeError(`Cannot ${action}: resumed must be a boolean: received ${show(resumed)}`);
  }
  return {
    server,
    session: session === undefined ? undefined : readSession(action, session),
    resumed,
    tls13: readFlag(action, tls13, "tls13"),
  };
}
