// This module is browser compatible.

/**
 * Byte helpers shared by every layer: equality and hex.
 *
 * Internal: not re-exported from any entry point.
 *
 * @module
 */

/** Whether two byte strings (real Uint8Arrays) are equal; `undefined` counts as empty. */
export function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  const length = a === undefined ? 0 : byteLength(a);
  if (length !== (b === undefined ? 0 : byteLength(b))) return false;
  for (let i = 0; i < length; i++) if (a![i] !== b![i]) return false;
  return true;
}

import { byteLength } from "./_validate.ts";

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Lowercase hex of some bytes. */
export function hex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]!];
  return out;
}
