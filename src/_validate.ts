// This module is browser compatible.

/**
 * Input checks for the public entry points. The core assumes valid input;
 * the shell calls these first, so a refused call changes nothing.
 *
 * Messages follow the std grammar: `Cannot <do what>: <what> must <rule>: received <value>`.
 *
 * Internal: not re-exported from any entry point.
 *
 * @module
 */

import { MAX_SESSION_ID_LENGTH, MAX_SID_CTX_LENGTH, MAX_TIME, type Session } from "./session.ts";
import { MAX_TIMER_MS } from "./_async.ts";

/** The `Symbol.toStringTag` getter every typed array inherits (it reads an internal slot). */
const TYPED_ARRAY_TAG = Object.getOwnPropertyDescriptor(
  Object.getPrototypeOf(Uint8Array.prototype),
  Symbol.toStringTag,
)!.get!;

/** The `length` getter every typed array inherits (an own `length` property cannot fool it). */
const TYPED_ARRAY_LENGTH = Object.getOwnPropertyDescriptor(
  Object.getPrototypeOf(Uint8Array.prototype),
  "length",
)!.get!;

/** The length of a real Uint8Array, read from its internal slot. */
export function lengthOf(bytes: Uint8Array): number {
  return TYPED_ARRAY_LENGTH.call(bytes) as number;
}

/** A new array with the bytes of a real Uint8Array (no method of it is called). */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  const length = lengthOf(bytes);
  const copy = new Uint8Array(length);
  for (let i = 0; i < length; i++) copy[i] = bytes[i]!;
  return copy;
}

/**
 * Whether a value is a real `Uint8Array` (a Node `Buffer` is one). Unlike
 * `instanceof`, an object that only inherits `Uint8Array.prototype`, or a
 * Proxy of one, is not: the getter reads the array's internal slot.
 */
export function isUint8Array(value: unknown): value is Uint8Array {
  return typeof value === "object" && value !== null &&
    TYPED_ARRAY_TAG.call(value) === "Uint8Array";
}

/**
 * A short, safe rendering of a received value for an error message. Never
 * throws and never runs user code (no getters, no `toString`).
 */
export function show(value: unknown): string {
  if (typeof value === "string") {
    return JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value);
  }
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return String(value);
  }
  if (value === null || value === undefined) return String(value);
  if (typeof value === "function") return "a function";
  if (typeof value !== "object") return typeof value;
  try {
    if (isUint8Array(value)) return `Uint8Array(${lengthOf(value)})`;
    if (Array.isArray(value)) return "an array";
  } catch {
    // A revoked Proxy: fall through.
  }
  return "an object";
}

/** Checks a session id: a Uint8Array of 1 to 32 bytes. */
export function checkId(action: string, id: unknown): asserts id is Uint8Array {
  if (!isUint8Array(id)) {
    throw new TypeError(`Cannot ${action}: id must be a Uint8Array: received ${show(id)}`);
  }
  const length = lengthOf(id);
  if (length === 0) {
    throw new RangeError(`Cannot ${action}: id must not be empty: received 0 bytes`);
  }
  if (length > MAX_SESSION_ID_LENGTH) {
    throw new RangeError(
      `Cannot ${action}: id must be at most ${MAX_SESSION_ID_LENGTH} bytes: received ${length}`,
    );
  }
}

/** Whether a value is a time or timeout `checkSeconds` accepts. */
export function isSeconds(value: unknown): value is number {
  return typeof value === "number" && value >= 0 && value <= MAX_TIME;
}

/**
 * Checks a time or a timeout in seconds: a finite number from 0 to
 * `MAX_TIME`, the most OpenSSL 3.3 holds without wrapping around. A value
 * above it is most likely milliseconds (`Date.now()` is about 1.7e12), and
 * the message says so.
 */
export function checkSeconds(
  action: string,
  name: string,
  value: unknown,
): asserts value is number {
  if (typeof value !== "number") {
    throw new TypeError(`Cannot ${action}: ${name} must be a number: received ${show(value)}`);
  }
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(
      `Cannot ${action}: ${name} must be a finite number >= 0: received ${show(value)}`,
    );
  }
  if (value > MAX_TIME) {
    throw new RangeError(
      `Cannot ${action}: ${name} must be at most ${MAX_TIME} seconds (milliseconds, as from Date.now(), are 1000 times too large): received ${
        show(value)
      }`,
    );
  }
}

/** Checks a protocol version: absent, or an integer from 0 to 0xffff. */
export function checkVersion(
  action: string,
  version: unknown,
): asserts version is number | undefined {
  if (version === undefined) return;
  if (typeof version !== "number") {
    throw new TypeError(`Cannot ${action}: version must be a number: received ${show(version)}`);
  }
  if (!Number.isInteger(version) || version < 0 || version > 0xffff) {
    throw new RangeError(
      `Cannot ${action}: version must be an integer from 0 to 65535: received ${show(version)}`,
    );
  }
}

/** Checks a session id context: absent, or a Uint8Array of at most 32 bytes. */
export function checkSidCtx(
  action: string,
  sidCtx: unknown,
): asserts sidCtx is Uint8Array | undefined {
  if (sidCtx === undefined) return;
  if (!isUint8Array(sidCtx)) {
    throw new TypeError(`Cannot ${action}: sidCtx must be a Uint8Array: received ${show(sidCtx)}`);
  }
  const length = lengthOf(sidCtx);
  if (length > MAX_SID_CTX_LENGTH) {
    throw new RangeError(
      `Cannot ${action}: sidCtx must be at most ${MAX_SID_CTX_LENGTH} bytes: received ${length}`,
    );
  }
}

/** Checks a whole session. */
export function checkSession(action: string, session: unknown): asserts session is Session {
  if (typeof session !== "object" || session === null) {
    throw new TypeError(`Cannot ${action}: session must be an object: received ${show(session)}`);
  }
  const s = session as Record<string, unknown>;
  checkId(action, s.id);
  checkSeconds(action, "time", s.time);
  checkSeconds(action, "timeout", s.timeout);
  checkVersion(action, s.version);
  checkSidCtx(action, s.sidCtx);
  if (s.data !== undefined && !isUint8Array(s.data)) {
    throw new TypeError(`Cannot ${action}: data must be a Uint8Array: received ${show(s.data)}`);
  }
}

/** Checks a cache size: an integer >= 0 (0: unlimited). */
export function checkCacheSize(action: string, size: unknown): asserts size is number {
  if (typeof size !== "number") {
    throw new TypeError(`Cannot ${action}: cache size must be a number: received ${show(size)}`);
  }
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new RangeError(
      `Cannot ${action}: cache size must be a non-negative integer: received ${show(size)}`,
    );
  }
}

/** Checks a mode: an integer from 0 to 0xffffffff. */
export function checkMode(action: string, mode: unknown): asserts mode is number {
  if (typeof mode !== "number") {
    throw new TypeError(`Cannot ${action}: mode must be a number: received ${show(mode)}`);
  }
  if (!Number.isInteger(mode) || mode < 0 || mode > 0xffffffff) {
    throw new RangeError(
      `Cannot ${action}: mode must be an integer from 0 to 0xffffffff: received ${show(mode)}`,
    );
  }
}

/** Checks a callback option: absent, or a function. */
export function checkFunction(action: string, name: string, value: unknown): void {
  if (value !== undefined && typeof value !== "function") {
    throw new TypeError(`Cannot ${action}: ${name} must be a function: received ${show(value)}`);
  }
}

/** Checks a count or duration that must be a number > 0 (`Infinity` allowed). */
export function checkPositive(action: string, name: string, value: unknown): number {
  if (typeof value !== "number") {
    throw new TypeError(`Cannot ${action}: ${name} must be a number: received ${show(value)}`);
  }
  if (!(value > 0)) {
    throw new RangeError(`Cannot ${action}: ${name} must be a number > 0: received ${show(value)}`);
  }
  return value;
}

/**
 * Checks a timer delay in milliseconds: a number > 0 and at most 2^31 - 1,
 * the longest delay `setTimeout` honours (a longer one fires at once).
 */
export function checkDelayMs(action: string, name: string, value: unknown): number {
  if (typeof value !== "number") {
    throw new TypeError(`Cannot ${action}: ${name} must be a number: received ${show(value)}`);
  }
  if (!(value > 0 && value <= MAX_TIMER_MS)) {
    throw new RangeError(
      `Cannot ${action}: ${name} must be a number > 0 and at most ${MAX_TIMER_MS} ms: received ${
        show(value)
      }`,
    );
  }
  return value;
}
