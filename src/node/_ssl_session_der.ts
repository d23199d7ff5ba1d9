/**
 * Internal: reads the few fields the cache needs out of a serialized TLS
 * session, the DER `SSL_SESSION_ASN1` structure that OpenSSL's
 * `i2d_SSL_SESSION` writes (Node's `newSession` data and `'session'` events)
 * and that BoringSSL (Bun) writes with the same leading layout.
 *
 * Never throws: anything it cannot read is simply absent from the result.
 * Not part of the public API.
 *
 * @module
 */

/** The fields of a serialized session that the adapters use. */
export interface SessionFields {
  /** `ssl_version`, e.g. `0x0303` for TLS 1.2, `0x0304` for TLS 1.3. */
  readonly version?: number;
  /** The session id (may be empty). */
  readonly id?: Uint8Array;
  /** `time`, seconds since the epoch, when the session was made. */
  readonly time?: number;
  /** `timeout`, the session's lifetime in seconds. */
  readonly timeout?: number;
  /** `sid_ctx`, the session id context. */
  readonly sidCtx?: Uint8Array;
  /** `tlsext_tick_lifetime_hint`, seconds (present for ticket sessions). */
  readonly ticketLifetimeHint?: number;
  /** Whether a session ticket is stored (`tlsext_tick`, tag [10]). */
  readonly hasTicket?: boolean;
}

interface Tlv {
  readonly tag: number;
  readonly start: number; // first content byte
  readonly end: number; // one past the last content byte
}

function readTlv(der: Uint8Array, at: number, limit: number): Tlv | undefined {
  if (at + 2 > limit) return undefined;
  const tag = der[at]!;
  if ((tag & 0x1f) === 0x1f) return undefined; // high tag numbers: not used here
  let len = der[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > limit) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[start + i]!;
    start += n;
  }
  const end = start + len;
  if (end > limit) return undefined;
  return { tag, start, end };
}

function readUint(der: Uint8Array, tlv: Tlv): number | undefined {
  if (tlv.tag !== 0x02) return undefined;
  const len = tlv.end - tlv.start;
  if (len === 0 || len > 7) return undefined;
  if (der[tlv.start]! & 0x80) return undefined; // negative
  let n = 0;
  for (let i = tlv.start; i < tlv.end; i++) n = n * 256 + der[i]!;
  return n;
}

/**
 * Reads version, id, time, timeout, sid_ctx and the ticket lifetime hint from
 * a DER-encoded `SSL_SESSION`.
 *
 * @param der The bytes, e.g. Node's `newSession` data or a `'session'` event.
 * @returns The fields it could read; an empty object for anything else
 *   (Deno's synthetic session tokens, for instance).
 */
export function readSessionFields(der: Uint8Array): SessionFields {
  const outer = readTlv(der, 0, der.length);
  if (!outer || outer.tag !== 0x30) return {};
  const fields: {
    version?: number | undefined;
    id?: Uint8Array;
    time?: number | undefined;
    timeout?: number | undefined;
    sidCtx?: Uint8Array;
    ticketLifetimeHint?: number | undefined;
    hasTicket?: boolean;
  } = {};
  let at = outer.start;
  let index = 0; // position among the untagged leading fields
  while (at < outer.end) {
    const tlv = readTlv(der, at, outer.end);
    if (!tlv) break;
    at = tlv.end;
    if (tlv.tag === 0x02 || tlv.tag === 0x04) {
      // version, ssl_version, cipher, session_id, master_key (in this order)
      if (index === 1) fields.version = readUint(der, tlv);
      if (index === 3 && tlv.tag === 0x04) fields.id = der.slice(tlv.start, tlv.end);
      index++;
      continue;
    }
    if ((tlv.tag & 0xe0) !== 0xa0) continue; // not [n] EXPLICIT constructed
    const n = tlv.tag & 0x1f;
    const inner = readTlv(der, tlv.start, tlv.end);
    if (!inner) continue;
    if (n === 1) fields.time = readUint(der, inner);
    else if (n === 2) fields.timeout = readUint(der, inner);
    else if (n === 4 && inner.tag === 0x04) fields.sidCtx = der.slice(inner.start, inner.end);
    else if (n === 9) fields.ticketLifetimeHint = readUint(der, inner);
    else if (n === 10) fields.hasTicket = inner.end > inner.start;
  }
  // Drop the fields that were present but unreadable.
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = v;
  return out as SessionFields;
}
