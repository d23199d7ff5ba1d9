/**
 * Cache entries, table keys and session identity: the glue between the
 * session table (`_table.ts`) and the expiry order (`_order.ts`).
 *
 * Internal: not re-exported from `core.ts`.
 *
 * @module
 */

import { expiryOf, type Session } from "../../src/session.ts";

/**
 * One cached session, shared by the table and the order.
 *
 * `origin` is the object whose identity OpenSSL's "same session re-added"
 * rule compares: the session object first added, even after the cache
 * replaced it by an updated copy (`setTime`, `setTimeout`, `UPDATE_TIME`).
 */
export interface Entry {
  readonly key: string;
  readonly hash: number;
  readonly session: Session;
  readonly origin: object;
  readonly expiry: number;
  readonly seq: number;
}

/** Marks a session copy made by the cache with the object it was copied from. */
const ORIGIN: unique symbol = Symbol("openssl-session-cache.origin");

/**
 * The table key of (version, id): one char for the version (at most 0xffff),
 * one char per id byte. Distinct pairs give distinct strings.
 */
export function tableKeyOf(id: Uint8Array, version: number | undefined): string {
  let key = String.fromCharCode(version ?? 0);
  for (let i = 0; i < id.length; i++) key += String.fromCharCode(id[i]!);
  return key;
}

/** The identity OpenSSL would see: the original object behind any copy the cache made. */
export function originOf(session: Session): object {
  return (session as { [ORIGIN]?: object })[ORIGIN] ?? session;
}

/** A frozen copy of `session` with `changes`, remembering the original object. */
export function derive(
  session: Session,
  changes: Partial<Pick<Session, "time" | "timeout">>,
): Session {
  const copy = { ...session, ...changes };
  Object.defineProperty(copy, ORIGIN, { value: originOf(session) });
  return Object.freeze(copy);
}

/**
 * Makes the entry for `session` at (re)insertion number `seq`, under its
 * table key and that key's hash.
 */
export function makeEntry(
  session: Session,
  origin: object,
  seq: number,
  key: string,
  hash: number,
): Entry {
  return { key, hash, session, origin, expiry: expiryOf(session), seq };
}
