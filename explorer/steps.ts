// This module is browser compatible.

/**
 * The explorer's steps: plain, serializable descriptions of one operation on
 * the cache (what a button press asks for), and the small helpers that turn
 * their fields into the core's inputs (ids in hex, keys, labels).
 *
 * A step holds no object identity and no result: applying it to a frame (see
 * `model.ts`) is what runs the core. So a list of steps is a scenario, fits in
 * a URL and replays to the same history.
 *
 * @module
 */

import type { Side } from "../core.ts";

/** Set the current time (OpenSSL reads `time(NULL)`; the core takes time as a parameter). */
export interface ClockStep {
  readonly op: "clock";
  /** The new current time in seconds. */
  readonly now: number;
}

/** `SSL_CTX_add_session` with a new session object made from these fields. */
export interface AddStep {
  readonly op: "add";
  /** The session id in hex (`""` is the empty id). */
  readonly id: string;
  /** `SSL_SESSION_set_time` before the add. */
  readonly time: number;
  /** `SSL_SESSION_set_timeout` before the add. */
  readonly timeout: number;
  /** The protocol version; absent means 0. */
  readonly version?: number | undefined;
}

/** A key of the table: the id in hex and the protocol version (absent: 0). */
export interface KeyFields {
  /** The session id in hex. */
  readonly id: string;
  /** The protocol version; absent means 0. */
  readonly version?: number | undefined;
}

/** `SSL_CTX_add_session` again with the session object last seen under this key. */
export interface ReaddStep extends KeyFields {
  readonly op: "readd";
}

/** `SSL_CTX_remove_session` with the session last seen under this key (or a new one). */
export interface RemoveStep extends KeyFields {
  readonly op: "remove";
}

/** `SSL_CTX_flush_sessions(ctx, tm)`. */
export interface FlushStep {
  readonly op: "flush";
  /** The flush time; 0 removes everything. */
  readonly tm: number;
}

/** `SSL_SESSION_set_time` on the cached session with this key. */
export interface SetTimeStep extends KeyFields {
  readonly op: "setTime";
  /** The new time in seconds. */
  readonly time: number;
}

/** `SSL_SESSION_set_timeout` on the cached session with this key. */
export interface SetTimeoutStep extends KeyFields {
  readonly op: "setTimeout";
  /** The new timeout in seconds. */
  readonly timeout: number;
}

/** `SSL_CTX_sess_set_cache_size`. */
export interface SizeStep {
  readonly op: "size";
  /** The new limit; 0 means unlimited. */
  readonly cacheSize: number;
}

/** `SSL_CTX_set_session_cache_mode`. */
export interface ModeStep {
  readonly op: "mode";
  /** The new `SESS_CACHE_*` bits. */
  readonly mode: number;
}

/** `SSL_CTX_set_timeout`: the lifetime of sessions that later handshakes make. */
export interface TimeoutStep {
  readonly op: "timeout";
  /** The new default timeout in seconds. */
  readonly timeout: number;
}

/** A server's resumption lookup (`ssl_get_prev_session`), optionally with an external cache. */
export interface LookupStep extends KeyFields {
  readonly op: "lookup";
  /** The server's session id context in hex; absent means empty. */
  readonly sidCtx?: string | undefined;
  /**
   * What the external cache (`get_session_cb`) returns on an internal miss:
   * a session with the offered id and these times. Absent: no external cache.
   */
  readonly external?: { readonly time: number; readonly timeout: number } | undefined;
}

/** Handshakes that start and complete (`tls_finish_handshake`, `ssl_update_cache`). */
export interface HandshakeStep extends KeyFields {
  readonly op: "handshake";
  /** Which end. */
  readonly side: Side;
  /** Whether it resumed the session. */
  readonly resumed: boolean;
  /** Whether it was TLS 1.3. */
  readonly tls13: boolean;
  /** How many identical handshakes (1, or 255 for the shortcut). */
  readonly count: number;
}

/** One operation of the explorer. */
export type Step =
  | ClockStep
  | AddStep
  | ReaddStep
  | RemoveStep
  | FlushStep
  | SetTimeStep
  | SetTimeoutStep
  | SizeStep
  | ModeStep
  | TimeoutStep
  | LookupStep
  | HandshakeStep;

/** The operation names. */
export type Op = Step["op"];

const HEX = /^(?:[0-9a-f]{2})*$/;

/**
 * Bytes from hex (`"0a0b"`); case and spaces are ignored.
 *
 * @throws {SyntaxError} If it is not an even number of hex digits.
 */
export function bytesOf(hex: string): Uint8Array {
  const h = hex.replace(/\s+/g, "").toLowerCase();
  if (!HEX.test(h)) {
    throw new SyntaxError(`Cannot read id: must be hex digits in pairs: received "${hex}"`);
  }
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Hex of some bytes, two lowercase digits each. */
export function hexOf(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/** The map key of a (version, id) pair: `"0303:01"`. */
export function keyString(
  session: { readonly id: Uint8Array; readonly version?: number | undefined },
): string {
  return `${(session.version ?? 0).toString(16).padStart(4, "0")}:${hexOf(session.id)}`;
}

/** How a session is named in the page: its id in hex, `(empty id)`, plus a non-zero version. */
export function labelOf(
  session: { readonly id: Uint8Array; readonly version?: number | undefined },
): string {
  const id = session.id.length === 0 ? "(empty id)" : hexOf(session.id);
  const v = session.version ?? 0;
  return v === 0 ? id : `${id} v${versionName(v)}`;
}

/** `0x0303` as `TLS1.2`, `0x0304` as `TLS1.3`, anything else in hex. */
export function versionName(version: number): string {
  if (version === 0x0303) return "TLS1.2";
  if (version === 0x0304) return "TLS1.3";
  if (version === 0) return "0";
  return `0x${version.toString(16).padStart(4, "0")}`;
}

/** A time or expiry as shown: `Infinity` as ∞. */
export function timeText(t: number): string {
  return t === Infinity ? "∞" : String(t);
}
