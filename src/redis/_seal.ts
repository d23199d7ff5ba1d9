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

import { base64Length, fromBase64, MAX_RECORD_BYTES, toBase64 } from "./_record.ts";
import { byteLength, copyBytes, isUint8Array, show } from "../_validate.ts";

export const PLAIN_TAG = "s1.";
export const SEALED_TAG = "e1.";
const MAX_KEY_ID_LENGTH = 32;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const MAX_SEALED_BYTES = IV_BYTES + MAX_RECORD_BYTES + TAG_BYTES;

/**
 * The longest value text a store can have written: a sealed value of the
 * longest record under the longest key id. Anything longer is refused
 * before any decoding or decryption.
 */
export const MAX_VALUE_LENGTH = SEALED_TAG.length + MAX_KEY_ID_LENGTH + 1 +
  base64Length(MAX_SEALED_BYTES);

const cryptoKeyGetter = (name: string): ((this: unknown) => unknown) | undefined => {
  const proto = (globalThis as { CryptoKey?: { prototype: object } }).CryptoKey?.prototype;
  const get = proto && Object.getOwnPropertyDescriptor(proto, name)?.get;
  return typeof get === "function" ? get as (this: unknown) => unknown : undefined;
};
const algorithmOf = cryptoKeyGetter("algorithm");
const usagesOf = cryptoKeyGetter("usages");

/**
 * Whether a value is a WebCrypto AES-GCM key allowed to encrypt and decrypt,
 * asked through `CryptoKey.prototype`'s own getters (an object that merely
 * looks like one does not pass where the runtime checks the brand). Never throws.
 */
function isAesGcmKey(key: unknown): boolean {
  if (typeof key !== "object" || key === null) return false;
  try {
    const algorithm = algorithmOf ? algorithmOf.call(key) : (key as CryptoKey).algorithm;
    const usages = usagesOf ? usagesOf.call(key) : (key as CryptoKey).usages;
    if (typeof algorithm !== "object" || algorithm === null) return false;
    if ((algorithm as { name?: unknown }).name !== "AES-GCM") return false;
    return Array.isArray(usages) && usages.includes("encrypt") && usages.includes("decrypt");
  } catch {
    return false;
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

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
  // Read the list once (a Proxy or a getter cannot change it under the checks).
  const entries: unknown[] = Array.from(keys);
  const seen = new Set<string>();
  const checked = entries.map((entry: unknown, index): { id: string; key: Uint8Array | object } => {
    if (typeof entry !== "object" || entry === null) {
      throw new TypeError(
        `Cannot ${action}: keys[${index}] must be an object: received ${show(entry)}`,
      );
    }
    const { id, key } = entry as { id?: unknown; key?: unknown };
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
    if (isUint8Array(key)) {
      const length = byteLength(key);
      if (length !== 16 && length !== 24 && length !== 32) {
        throw new RangeError(
          `Cannot ${action}: keys[${index}].key must be 16, 24 or 32 bytes: received ${length}`,
        );
      }
      return { id, key: copyBytes(key) };
    }
    if (!isAesGcmKey(key)) {
      throw new TypeError(
        `Cannot ${action}: keys[${index}].key must be raw bytes or an AES-GCM CryptoKey allowed to encrypt and decrypt: received ${
          show(key)
        }`,
      );
    }
    return { id, key: key as object };
  });
  // Import only once every entry has passed: a refused list starts no work.
  const imported = checked.map(({ id, key }): SealingKey => {
    if (!isUint8Array(key)) return { id, key: Promise.resolve(key as CryptoKey) };
    const promise = crypto.subtle.importKey(
      "raw",
      key as Uint8Array<ArrayBuffer>,
      "AES-GCM",
      false,
      [
        "encrypt",
        "decrypt",
      ],
    );
    promise.catch(() => {}); // surfaced when used
    return { id, key: promise };
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
 * The record in a value text, or `undefined` for anything malformed, too
 * long, sealed under an unknown key, not opening, or in clear when `keys` is
 * not empty. Lengths and the key id are checked before any decoding.
 */
export async function unseal(
  value: string,
  keys: readonly SealingKey[],
  redisKey: string,
): Promise<Uint8Array | undefined> {
  if (value.length > MAX_VALUE_LENGTH) return undefined;
  if (value.startsWith(PLAIN_TAG)) {
    return keys.length > 0
      ? undefined
      : fromBase64(value.slice(PLAIN_TAG.length), MAX_RECORD_BYTES);
  }
  if (!value.startsWith(SEALED_TAG)) return undefined;
  // The key id ends at the next dot, within its 32 characters.
  const dot = value.slice(SEALED_TAG.length, SEALED_TAG.length + MAX_KEY_ID_LENGTH + 1).indexOf(
    ".",
  );
  if (dot < 1) return undefined;
  const keyId = value.slice(SEALED_TAG.length, SEALED_TAG.length + dot);
  const entry = keys.find((k) => k.id === keyId);
  if (entry === undefined) return undefined;
  const sealed = fromBase64(value.slice(SEALED_TAG.length + dot + 1), MAX_SEALED_BYTES);
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

/**
 * The text of a GET reply, read once: a string, or bytes decoded as UTF-8;
 * `undefined` for any other reply and for one longer than any value the
 * store writes (checked before decoding anything).
 */
export function valueText(reply: unknown): string | undefined {
  if (typeof reply === "string") return reply.length > MAX_VALUE_LENGTH ? undefined : reply;
  if (!isUint8Array(reply) || byteLength(reply) > MAX_VALUE_LENGTH) return undefined;
  try {
    return decoder.decode(copyBytes(reply));
  } catch {
    return undefined;
  }
}
