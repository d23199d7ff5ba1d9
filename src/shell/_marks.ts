// This module is browser compatible.

/**
 * OpenSSL's `not_resumable` flag, kept without touching the caller's objects
 * observably and without a `WeakSet` insert per removal.
 *
 * OpenSSL sets `not_resumable` on every session it removes (flushed,
 * evicted, removed, timed out on lookup); `SessionCache` must answer the same
 * later (`isResumable`, a completed handshake with that session, an external
 * cache answering with it). A `WeakSet` of removed sessions is the obvious
 * record, but at 10^6 sessions its inserts and the garbage collector's work
 * on its ephemeron table cost about two thirds of the shell's throughput and
 * a 95 ms pause (Node 20; see docs/core-design.md).
 *
 * A private field does the same job for a fraction of the cost: a class can
 * add its private fields to any object, through a base class whose
 * constructor returns that object. The field is invisible to every
 * reflection API (`Reflect.ownKeys`, Proxies' traps, `Object.isFrozen`,
 * structured clone, JSON), needs no extensibility (it is not a property),
 * and lives exactly as long as the object, as a `WeakSet` entry does: the
 * engine's own weak map. Should an engine refuse it (a proposal would have
 * frozen objects refuse new private fields), the object goes to a
 * `WeakSet` instead.
 *
 * @module
 */

/** A base class whose constructor returns its argument: `super(o)` makes `this` be `o`. */
class Adopt {
  constructor(o: object) {
    return o as Adopt;
  }
}

/** Stamps the set of caches that removed an object onto the object itself. */
class Stamp extends Adopt {
  /** The caches (their marks) that removed this object: one, or several. */
  #by: RemovedMarks | RemovedMarks[];

  private constructor(o: object, by: RemovedMarks) {
    super(o);
    this.#by = by;
  }

  static add(o: object, by: RemovedMarks): boolean {
    if (#by in o) {
      const held = (o as Stamp).#by;
      if (held === by) return true;
      if (Array.isArray(held)) {
        if (!held.includes(by)) held.push(by);
      } else {
        (o as Stamp).#by = [held, by];
      }
      return true;
    }
    try {
      new Stamp(o, by);
      return true;
    } catch {
      return false;
    }
  }

  static has(o: object, by: RemovedMarks): boolean | undefined {
    if (!(#by in o)) return undefined;
    const held = (o as Stamp).#by;
    return held === by || (Array.isArray(held) && held.includes(by));
  }
}

/** The sessions (by origin) one cache has removed: OpenSSL's `not_resumable`. */
export class RemovedMarks {
  /** Objects that refused a private field. */
  readonly #refused = new WeakSet<object>();
  /** Whether to stamp objects; `false` keeps every mark in the `WeakSet`. */
  readonly #stamp: boolean;

  /** @param stamp `false` uses only the `WeakSet` (the fallback's path, for tests). */
  constructor(stamp = true) {
    this.#stamp = stamp;
  }

  /** Marks `o` as removed by this cache. */
  mark(o: object): void {
    if (!this.#stamp || !Stamp.add(o, this)) this.#refused.add(o);
  }

  /** Whether this cache removed `o`. */
  has(o: object): boolean {
    // A stamped object is never in `#refused` of a stamping instance: adding to a stamp cannot fail.
    const stamped = this.#stamp ? Stamp.has(o, this) : undefined;
    return stamped ?? this.#refused.has(o);
  }
}
