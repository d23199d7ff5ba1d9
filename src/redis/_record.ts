/**
 * The value format of a stored session: a small versioned binary record,
 * and the strict base64 it travels in.
 *
 * ```
 * format u8 (=1) | idLen u8 (1..32) | id | flags u8 (1 version, 2 sidCtx, 4 data)
 * | time f64 BE | timeout f64 BE | [version u32 BE] | [ctxLen u8 (0..32) | ctx]
 * | [dataLen u32 BE | data]
 * ```
 *
 * The record must be consumed exactly: trailing or missing bytes make it
 * malformed. Base64 is the standard alphabet, padded and canonical.
 *
 * Internal: not re-exported from `redis.ts`.
 *
 * @module
 */

import type { Session } from "../session.ts";
import { MAX_SESSION_ID_LENGTH, MAX_SID_CTX_LENGTH } from "../session.ts";
import { isSeconds } from "../_validate.ts";

const FORMAT = 1;
const FLAG_VERSION = 1;
const FLAG_SID_CTX = 2;
const FLAG_DATA = 4;
/** 1 MiB: far above any real session. */
export const MAX_DATA_BYTES = 0x100000;

/** The longest record: every optional field present, the longest id, sidCtx and data. */
export const MAX_RECORD_BYTES = 1 + 1 + MAX_SESSION_ID_LENGTH + 1 + 16 + 4 + 1 +
  MAX_SID_CTX_LENGTH +
  4 + MAX_DATA_BYTES;

/** The length of the padded base64 text of `bytes` bytes. */
export function base64Length(bytes: number): number {
  return 4 * Math.ceil(bytes / 3);
}

/**
 * The record of a session read by `copySession` (a plain object with its own
 * byte copies). Throws a `RangeError` for data longer than `MAX_DATA_BYTES`.
 */
export function encodeRecord(session: Session): Uint8Array<ArrayBuffer> {
  const { id, time, timeout, version, sidCtx, data } = session;
  if (data !== undefined && data.length > MAX_DATA_BYTES) {
    throw new RangeError(
      `Cannot encode session: data must be at most ${MAX_DATA_BYTES} bytes: received ${data.length}`,
    );
  }
  const size = 1 + 1 + id.length + 1 + 16 + (version === undefined ? 0 : 4) +
    (sidCtx === undefined ? 0 : 1 + sidCtx.length) + (data === undefined ? 0 : 4 + data.length);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  out[at++] = FORMAT;
  out[at++] = id.length;
  out.set(id, at);
  at += id.length;
  out[at++] = (version === undefined ? 0 : FLAG_VERSION) |
    (sidCtx === undefined ? 0 : FLAG_SID_CTX) |
    (data === undefined ? 0 : FLAG_DATA);
  view.setFloat64(at, time);
  view.setFloat64(at + 8, timeout);
  at += 16;
  if (version !== undefined) {
    view.setUint32(at, version);
    at += 4;
  }
  if (sidCtx !== undefined) {
    out[at++] = sidCtx.length;
    out.set(sidCtx, at);
    at += sidCtx.length;
  }
  if (data !== undefined) {
    view.setUint32(at, data.length);
    out.set(data, at + 4);
  }
  return out;
}

/** The session in a record, or `undefined` when the record is malformed. */
export function decodeRecord(bytes: Uint8Array): Session | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const need = (n: number): boolean => at + n <= bytes.length;
  if (!need(2) || bytes[at++] !== FORMAT) return undefined;
  const idLen = bytes[at++]!;
  if (idLen < 1 || idLen > MAX_SESSION_ID_LENGTH || !need(idLen + 1 + 16)) return undefined;
  const id = bytes.slice(at, at + idLen);
  at += idLen;
  const flags = bytes[at++]!;
  if ((flags & ~(FLAG_VERSION | FLAG_SID_CTX | FLAG_DATA)) !== 0) return undefined;
  const time = view.getFloat64(at);
  const timeout = view.getFloat64(at + 8);
  at += 16;
  if (!isSeconds(time) || !isSeconds(timeout)) return undefined;
  const session: { -readonly [K in keyof Session]: Session[K] } = { id, time, timeout };
  if (flags & FLAG_VERSION) {
    if (!need(4)) return undefined;
    const version = view.getUint32(at);
    if (version > 0xffff) return undefined; // not a protocol version a session can have
    session.version = version;
    at += 4;
  }
  if (flags & FLAG_SID_CTX) {
    if (!need(1)) return undefined;
    const len = bytes[at++]!;
    if (len > MAX_SID_CTX_LENGTH || !need(len)) return undefined;
    session.sidCtx = bytes.slice(at, at + len);
    at += len;
  }
  if (flags & FLAG_DATA) {
    if (!need(4)) return undefined;
    const len = view.getUint32(at);
    at += 4;
    if (len > MAX_DATA_BYTES || !need(len)) return undefined;
    session.data = bytes.slice(at, at + len);
    at += len;
  }
  return at === bytes.length ? session : undefined;
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) B64_INDEX[B64.charCodeAt(i)] = i;

/** Standard, padded base64. */
export function toBase64(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + B64[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + "==";
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + "=";
  }
  return out;
}

/**
 * The bytes of canonical base64 text (standard alphabet, padded, unused bits
 * zero), or `undefined` for anything else, or for text that would decode to
 * more than `maxBytes` bytes: the length is checked before any decoding.
 */
export function fromBase64(text: string, maxBytes: number): Uint8Array<ArrayBuffer> | undefined {
  if (text.length % 4 !== 0 || text.length > base64Length(maxBytes)) return undefined;
  const pad = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  const size = (text.length / 4) * 3 - pad;
  if (size > maxBytes) return undefined;
  const out = new Uint8Array(size);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    const last = i + 4 === text.length;
    let n = 0;
    for (let j = 0; j < 4; j++) {
      const c = text.charCodeAt(i + j);
      let v: number;
      if (c === 61 /* = */ && last && j >= 4 - pad) v = 0;
      else v = c < 128 ? B64_INDEX[c]! : -1;
      if (v < 0) return undefined;
      n = (n << 6) | v;
    }
    // Canonical form only: the bits the padding leaves unused must be zero.
    if (last && ((pad === 1 && (n & 0xff) !== 0) || (pad === 2 && (n & 0xffff) !== 0))) {
      return undefined;
    }
    out[o++] = n >> 16;
    if (o < out.length) out[o++] = (n >> 8) & 0xff;
    if (o < out.length) out[o++] = n & 0xff;
  }
  return out;
}
