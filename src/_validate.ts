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

const TYPED_ARRAY_PROTOTYPE: object = Object.getPrototypeOf(Uint8Array.prototype);
const typedArrayTag = Object.getOwnPropertyDescriptor(TYPED_ARRAY_PROTOTYPE, Symbol.toStringTag)!
  .get as (this: unknown) => string | undefined;
const typedArrayLength = Object.getOwnPropertyDescriptor(TYPED_ARRAY_PROTOTYPE, "length")!
  .get as (this: Uint8Array) => number;

/**
 * Whether a value is a real `Uint8Array` (a Node `Buffer` is one). Asks the
 * TypedArray `Symbol.toStringTag` getter, which reads the value's internal
 * slot: an object that only inherits `Uint8Array.prototype`, a Proxy of a
 * Uint8Array, or any other view answers `false`, where `instanceof` would
 * say `true` for the first two. Never throws and reads no property of the value.
 */
export function isUint8Array(value: unknown): value is Uint8Array {
  return typedArrayTag.call(value) === "Uint8Array";
}

/**
 * The length of a real Uint8Array, from its internal slot: an own `length`
 * property (or a subclass's getter) cannot change it. 0 once detached.
 */
export function byteLength(bytes: Uint8Array): number {
  return typedArrayLength.call(bytes);
}

/**
 * A fresh copy of a real Uint8Array's bytes, read from its internal slots
 * (no getter, iterator or `constructor` of the value is consulted). Empty
 * for a detached or out-of-bounds view. Never throws for a real Uint8Array.
 */
export function copyBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  try {
    return new Uint8Array(bytes);
  } catch {
    return new Uint8Array(0);
  }
}

/**
 * A short, safe rendering of a received value for an error message. Never
 * throws and calls no getter: a hostile value cannot break the refusal.
 */
export function show(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value);
    case "number":
    case "boolean":
    case "bigint":
    case "undefined":
      return String(value);
    case "function":
      return "a function";
    case "symbol":
      return "a symbol";
  }
  if (value === null) return "null";
  if (isUint8Array(value)) return `Uint8Array(${byteLength(value)})`;
  try {
    if (Array.isArray(value)) return "an array";
  } catch {
    // A revoked Proxy: Array.isArray throws on it.
  }
  return "an object";
}

/** Checks a session id: a Uint8Array of 1 to 32 bytes. */
export function checkId(action: string, id: unknown): asserts id is Uint8Array {
  if (!isUint8Array(id)) {
    throw new TypeError(`Cannot ${action}: id must be a Uint8Array: received ${show(id)}`);
  }
  const length = byteLength(id);
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
  const length = byteLength(sidCtx);
  if (length > MAX_SID_CTX_LENGTH) {
    throw new RangeError(
      `Cannot ${action}: sidCtx must be at most ${MAX_SID_CTX_LENGTH} bytes: received ${length}`,
    );
  }
}

/** Checks a session's serialized data: absent, or a Uint8Array. */
export function checkData(action: string, data: unknown): asserts data is Uint8Array | undefined {
  if (data !== undefined && !isUint8Array(data)) {
    throw new TypeError(`Cannot ${action}: data must be a Uint8Array: received ${show(data)}`);
  }
}

/**
 * Reads a session exactly once into a fresh plain object and checks that
 * (the rules the cache applies to a session): each field is read once, in the
 * order id, time, timeout, version, sidCtx, data, and the byte fields are
 * copied, so a getter, a Proxy or a later change to the caller's bytes
 * cannot slip another value past the check. Absent optional fields stay absent.
 */
export function copySession(action: string, session: unknown): Session {
  if (typeof session !== "object" || session === null) {
    throw new TypeError(`Cannot ${action}: session must be an object: received ${show(session)}`);
  }
  const s = session as Record<string, unknown>;
  const { id, time, timeout, version, sidCtx, data } = s;
  checkId(action, id);
  checkSeconds(action, "time", time);
  checkSeconds(action, "timeout", timeout);
  checkVersion(action, version);
  checkSidCtx(action, sidCtx);
  checkData(action, data);
  const out: { -readonly [K in keyof Session]: Session[K] } = { id: copyBytes(id), time, timeout };
  if (version !== undefined) out.version = version;
  if (sidCtx !== undefined) out.sidCtx = copyBytes(sidCtx);
  if (data !== undefined) out.data = copyBytes(data);
  return out;
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

/**
 * Checks a timer delay in milliseconds: a number > 0 (or >= 0 with
 * `allowZero`) and at most 2^31 - 1, the longest delay `setTimeout` honours
 * (a longer one fires at once, after 1 ms).
 */
export function checkDelayMs(
  action: string,
  name: string,
  value: unknown,
  allowZero = false,
): number {
  if (typeof value !== "number") {
    throw new TypeError(`Cannot ${action}: ${name} must be a number: received ${show(value)}`);
  }
  if (!((allowZero ? value >= 0 : value > 0) && value <= MAX_TIMER_MS)) {
    throw new RangeError(
      `Cannot ${action}: ${name} must be a number ${
        allowZero ? ">= 0" : "> 0"
      } and at most ${MAX_TIMER_MS} ms: received ${show(value)}`,
    );
  }
  return value;
}

/** Checks a count: an integer from 1 to `Number.MAX_SAFE_INTEGER`. */
export function checkCount(action: string, name: string, value: unknown): number {
  if (typeof value !== "number") {
    throw new TypeError(`Cannot ${action}: ${name} must be a number: received ${show(value)}`);
  }
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(
      `Cannot ${action}: ${name} must be an integer >= 1: received ${show(value)}`,
    );
  }
  return value;
}

/** Checks that an options argument is absent or an object; returns it (`{}` when absent). */
export function checkOptions(action: string, options: unknown): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Cannot ${action}: options must be an object: received ${show(options)}`);
  }
  return options as Record<string, unknown>;
}
