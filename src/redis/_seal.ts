/**
 * Sealing stored sessions with AES-GCM (WebCrypto): the keys, and the value
 * texts `s1.<base64 record>` (in clear) and `e1.<key id>.<base64 iv |
 * ciphertext | tag>` (sealed), whose additional data binds a sealed value to
 * its key id and its Redis key, so a value copied under another key does not
 * open.
 *
 * Internal: not re-exported from `redis.ts`.
 *
 * @module
 */

import { fromBase64, toBase64 } from "./_record.ts";
import { show } from "../_validate.ts";

export const PLAIN_TAG = "s1.";
export const SEALED_TAG = "e1.";
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const IV_BYTES = 12;
const TAG_BYTES = 16;

const encoder = new TextEncoder();

/** A key ready for use: its id and the imported `CryptoKey`. */
export interface SealingKey {
  readonly id: string;
  readonly key: Promise<CryptoKey>;
}

/**
 * Checks and imports the store's keys (raw bytes are imported in the
 * background; a failed import surfaces when the key is used).
 */
export function importKeys(
  action: string,
  keys: unknown,
): readonly SealingKey[] {
  if (!Array.isArray(keys)) {
    throw new TypeError(`Cannot ${action}: keys must be an array: received ${show(keys)}`);
  }
  const seen = new Set<string>();
  const imported = keys.map((entry: unknown, index): SealingKey => {
    const { id, key } = (typeof entry === "object" && entry !== null ? entry : {}) as {
      id?: unknown;
      key?: unknown;
    };
    if (typeof id !== "string" || !KEY_ID.test(id)) {
      throw new TypeError(
        `Cannot ${action}: keys[${index}].id must be 1 to 32 of A-Z a-z 0-9 _ -: received ${
          show(id)
        }`,
      );
    }
    if (seen.has(id)) {
      throw new TypeError(`Cannot ${action}: keys[${index}].id must be unique: received "${id}"`);
    }
    seen.add(id);
    if (key instanceof Uint8Array) {
      if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
        throw new RangeError(
          `Cannot ${action}: keys[${index}].key must be 16, 24 or 32 bytes: received ${key.length}`,
        );
      }
      const promise = crypto.subtle.importKey("raw", key.slice(), "AES-GCM", false, [
        "encrypt",
        "decrypt",
      ]);
      promise.catch(() => {}); // surfaced when used
      return { id, key: promise };
    }
    if (
      typeof key !== "object" || key === null || (key as CryptoKey).algorithm?.name !== "AES-GCM"
    ) {
      throw new TypeError(
        `Cannot ${action}: keys[${index}].key must be raw bytes or an AES-GCM CryptoKey: received ${
          show(key)
        }`,
      );
    }
    return { id, key: Promise.resolve(key as CryptoKey) };
  });
  return Object.freeze(imported);
}

function aad(keyId: string, redisKey: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(`${SEALED_TAG}${keyId}.${redisKey}`);
}

/** The value text of a record: in clear without a key, else sealed under `key`. */
export async function seal(
  record: Uint8Array<ArrayBuffer>,
  key: SealingKey | undefined,
  redisKey: string,
): Promise<string> {
  if (key === undefined) return PLAIN_TAG + toBase64(record);
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: aad(key.id, redisKey) },
      await key.key,
      record,
    ),
  );
  const out = new Uint8Array(IV_BYTES + sealed.length);
  out.set(iv);
  out.set(sealed, IV_BYTES);
  return `${SEALED_TAG}${key.id}.${toBase64(out)}`;
}

/**
 * The record in a value text, or `undefined` for anything malformed, sealed
 * under an unknown key, not opening, or in clear when `keys` is not empty.
 */
export async function unseal(
  value: string,
  keys: readonly SealingKey[],
  redisKey: string,
): Promise<Uint8Array | undefined> {
  if (value.startsWith(PLAIN_TAG)) {
    return keys.length > 0 ? undefined : fromBase64(value.slice(PLAIN_TAG.length));
  }
  if (!value.startsWith(SEALED_TAG)) return undefined;
  const dot = value.indexOf(".", SEALED_TAG.length);
  if (dot < 0) return undefined;
  const keyId = value.slice(SEALED_TAG.length, dot);
  const entry = keys.find((k) => k.id === keyId);
  if (entry === undefined) return undefined;
  const sealed = fromBase64(value.slice(dot + 1));
  if (sealed === undefined || sealed.length < IV_BYTES + TAG_BYTES) return undefined;
  try {
    return new Uint8Array(
      await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: sealed.subarray(0, IV_BYTES), additionalData: aad(keyId, redisKey) },
        await entry.key,
        sealed.subarray(IV_BYTES),
      ),
    );
  } catch {
    return undefined;
  }
}
