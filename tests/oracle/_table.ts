/**
 * A persistent hash array mapped trie (HAMT): the session table.
 *
 * OpenSSL keeps sessions in an `LHASH` keyed by (version, id). A value-style
 * cache needs a table that can be "changed" without touching the old one, so
 * this is Bagwell's HAMT with path copying: a change copies the nodes on one
 * root-to-leaf path and shares every other node with the previous version.
 *
 * Invariants:
 * 1. A bitmap node's `slots` hold one entry per set bit of `bitmap`, in bit
 *    order; the 5-bit hash fragment at the node's depth selects the bit.
 * 2. A leaf sits at the shallowest depth where its hash fragment is unique
 *    among its siblings; keys with identical 32-bit hashes share a collision
 *    node.
 * 3. No node is ever mutated after it is returned (a bulk removal changes
 *    only the branches it created itself, before it returns).
 *
 * | operation | cost                                   |
 * |-----------|----------------------------------------|
 * | get       | O(log32 n): at most 7 levels           |
 * | set       | O(log32 n) time, copies one path       |
 * | remove    | O(log32 n) time, copies one path       |
 * | removeAll | O(k log32 n), copies each touched branch once |
 *
 * Internal: not re-exported from `core.ts`.
 *
 * @module
 */

/**
 * What the table stores: a value that carries its own key and hash, so the
 * value itself is the trie's leaf (no wrapper object per entry).
 */
export interface Keyed {
  readonly hash: number;
  readonly key: string;
}

/** Keys whose 32-bit hashes are equal. */
class Collision<V extends Keyed> {
  constructor(readonly hash: number, readonly leaves: readonly V[]) {}
}

/**
 * A 32-way branch with a bitmap of the occupied slots.
 *
 * `edit` names the bulk operation that created the branch: that operation
 * alone may change it in place (a transient, as in Clojure), before the
 * table it belongs to is returned. Afterwards no one holds that token, so
 * the branch is immutable like every other node.
 */
class Branch<V extends Keyed> {
  constructor(
    public bitmap: number,
    public slots: Child<V>[],
    readonly edit: object | null = null,
  ) {}
}

type Child<V extends Keyed> = V | Collision<V> | Branch<V>;

/** The root of a table: always a branch, possibly empty. */
export type Table<V extends Keyed> = Branch<V>;

/** A table with no keys. */
// deno-lint-ignore no-explicit-any
export const EMPTY_TABLE: Table<any> = new Branch(0, []);

/** FNV-1a over the key's char codes (each below 256 or a small version number). */
export function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  }
  return h >>> 0;
}

function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

/** Looks `key` up; `hash` must be `hashKey(key)`. */
export function tableGet<V extends Keyed>(
  root: Table<V>,
  hash: number,
  key: string,
): V | undefined {
  let node: Child<V> = root;
  let shift = 0;
  for (;;) {
    if (node instanceof Branch) {
      const bit = 1 << ((hash >>> shift) & 31);
      if ((node.bitmap & bit) === 0) return undefined;
      node = node.slots[popcount(node.bitmap & (bit - 1))]!;
      shift += 5;
    } else if (node instanceof Collision) {
      if (node.hash !== hash) return undefined;
      for (const leaf of node.leaves) if (leaf.key === key) return leaf;
      return undefined;
    } else {
      return node.key === key ? node : undefined;
    }
  }
}

function withSlot<V extends Keyed>(
  slots: readonly Child<V>[],
  i: number,
  child: Child<V>,
): Child<V>[] {
  const copy = slots.slice();
  copy[i] = child;
  return copy;
}

/** Joins an existing leaf or collision with a new leaf whose key differs. */
function join<V extends Keyed>(shift: number, a: V | Collision<V>, b: V): Child<V> {
  if (a.hash === b.hash) {
    return new Collision(a.hash, a instanceof Collision ? [...a.leaves, b] : [a, b]);
  }
  const ia = (a.hash >>> shift) & 31;
  const ib = (b.hash >>> shift) & 31;
  if (ia === ib) return new Branch(1 << ia, [join(shift + 5, a, b)]);
  return new Branch((1 << ia) | (1 << ib), ia < ib ? [a, b] : [b, a]);
}

function setIn<V extends Keyed>(node: Child<V>, shift: number, leaf: V): Child<V> {
  if (node instanceof Branch) {
    const bit = 1 << ((leaf.hash >>> shift) & 31);
    const i = popcount(node.bitmap & (bit - 1));
    if ((node.bitmap & bit) === 0) {
      const slots = node.slots.slice();
      slots.splice(i, 0, leaf);
      return new Branch(node.bitmap | bit, slots);
    }
    const child = node.slots[i]!;
    const next = child instanceof Branch
      ? setIn(child, shift + 5, leaf)
      : child instanceof Collision
      ? (child.hash === leaf.hash ? setIn(child, shift + 5, leaf) : join(shift + 5, child, leaf))
      : child.key === leaf.key
      ? leaf
      : join(shift + 5, child, leaf);
    return new Branch(node.bitmap, withSlot(node.slots, i, next));
  }
  // A collision node with the same hash as the leaf.
  const c = node as Collision<V>;
  const at = c.leaves.findIndex((l) => l.key === leaf.key);
  if (at < 0) return new Collision(c.hash, [...c.leaves, leaf]);
  const leaves = c.leaves.slice();
  leaves[at] = leaf;
  return new Collision(c.hash, leaves);
}

/** A table with `value` under its key (replacing any value there); the old table is untouched. */
export function tableSet<V extends Keyed>(root: Table<V>, value: V): Table<V> {
  return setIn(root, 0, value) as Table<V>;
}

/** Removes `key` below `node`; returns `node` itself when absent, `undefined` when emptied. */
function removeIn<V extends Keyed>(
  node: Child<V>,
  shift: number,
  hash: number,
  key: string,
): Child<V> | undefined {
  if (node instanceof Collision) {
    if (node.hash !== hash) return node;
    const leaves = node.leaves.filter((l) => l.key !== key);
    if (leaves.length === node.leaves.length) return node;
    return leaves.length === 1 ? leaves[0] : new Collision(node.hash, leaves);
  }
  if (!(node instanceof Branch)) return node.key === key ? undefined : node;
  const bit = 1 << ((hash >>> shift) & 31);
  if ((node.bitmap & bit) === 0) return node;
  const i = popcount(node.bitmap & (bit - 1));
  const child = node.slots[i]!;
  const next = removeIn(child, shift + 5, hash, key);
  if (next === child) return node;
  if (next === undefined) {
    if (node.slots.length === 1 && shift > 0) return undefined;
    const slots = node.slots.slice();
    slots.splice(i, 1);
    const rest = new Branch(node.bitmap & ~bit, slots);
    // Below the root, a branch left with one leaf collapses into its parent.
    if (shift > 0 && slots.length === 1 && !(slots[0] instanceof Branch)) return slots[0];
    return rest;
  }
  if (shift > 0 && node.slots.length === 1 && !(next instanceof Branch)) return next;
  return new Branch(node.bitmap, withSlot(node.slots, i, next));
}

/** A table without `key`; returns `root` itself when the key is absent. */
export function tableRemove<V extends Keyed>(root: Table<V>, hash: number, key: string): Table<V> {
  return (removeIn(root, 0, hash, key) ?? EMPTY_TABLE) as Table<V>;
}

/** Removes `key` below `node` in place where `edit` owns the branch; see `removeIn`. */
function removeEdit<V extends Keyed>(
  node: Child<V>,
  shift: number,
  hash: number,
  key: string,
  edit: object,
): Child<V> | undefined {
  if (!(node instanceof Branch)) return removeIn(node, shift, hash, key);
  const bit = 1 << ((hash >>> shift) & 31);
  if ((node.bitmap & bit) === 0) return node;
  const i = popcount(node.bitmap & (bit - 1));
  const child = node.slots[i]!;
  const next = removeEdit(child, shift + 5, hash, key, edit);
  if (next === child) return node;
  if (next === undefined && node.slots.length === 1 && shift > 0) return undefined;
  const own = node.edit === edit ? node : new Branch(node.bitmap, node.slots.slice(), edit);
  if (next === undefined) {
    own.slots.splice(i, 1);
    own.bitmap &= ~bit;
  } else {
    own.slots[i] = next;
  }
  // Below the root, a branch left with one leaf collapses into its parent.
  if (shift > 0 && own.slots.length === 1 && !(own.slots[0] instanceof Branch)) {
    return own.slots[0];
  }
  return own;
}

/**
 * A table without any of `entries`' keys: one bulk operation, so each branch
 * on the removed keys' paths is copied once, not once per key (flush and
 * eviction remove many keys at a time). The old table is untouched.
 */
export function tableRemoveAll<V extends Keyed>(
  root: Table<V>,
  entries: readonly { readonly hash: number; readonly key: string }[],
): Table<V> {
  if (entries.length === 0) return root;
  if (entries.length === 1) return tableRemove(root, entries[0]!.hash, entries[0]!.key);
  const edit = {};
  let t: Table<V> = root;
  for (const e of entries) t = (removeEdit(t, 0, e.hash, e.key, edit) ?? EMPTY_TABLE) as Table<V>;
  return t;
}
