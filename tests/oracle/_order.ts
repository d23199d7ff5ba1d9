/**
 * A persistent weight-balanced search tree: the expiry order.
 *
 * OpenSSL keeps cached sessions in a doubly linked list sorted by expiry and
 * walks it to insert (O(n) when expiries arrive out of order). This tree holds
 * the same order as a value: each entry is keyed by `(expiry, seq)`, where
 * `seq` grows with every (re)insertion, so ascending key order is OpenSSL's
 * tail-to-head order (soonest expiry first, ties first-inserted first).
 *
 * The balancing scheme is Adams' (as in Haskell's `Data.Map`, delta 3,
 * ratio 2); `link` and `merge` make split and bulk removal logarithmic.
 *
 * Invariants:
 * 1. In-order traversal is strictly ascending by `(expiry, seq)`.
 * 2. `size` of a node is 1 + the sizes of its subtrees.
 * 3. Neither subtree outweighs the other by more than a factor of 3.
 * 4. No node is ever mutated after it is returned: updates copy one path.
 *
 * | operation            | cost                                        |
 * |----------------------|---------------------------------------------|
 * | insert, remove       | O(log n), copies one path                   |
 * | min                  | O(log n)                                    |
 * | dropBelow(expiry)    | O(k + log n) for k removed entries          |
 * | dropFirst(k)         | O(k + log n)                                |
 * | iterate              | O(n) total, O(log n) extra space            |
 *
 * Internal: not re-exported from `core.ts`.
 *
 * @module
 */

/** What the tree orders: anything with an expiry and a sequence number. */
export interface Ordered {
  readonly expiry: number;
  readonly seq: number;
}

/** A tree node; `null` is the empty tree. */
export interface OrderNode<E extends Ordered> {
  readonly entry: E;
  readonly left: Order<E>;
  readonly right: Order<E>;
  readonly size: number;
}

/** A tree: a node, or `null` when empty. */
export type Order<E extends Ordered> = OrderNode<E> | null;

const DELTA = 3;
const RATIO = 2;

function sizeOf<E extends Ordered>(t: Order<E>): number {
  return t === null ? 0 : t.size;
}

function node<E extends Ordered>(entry: E, left: Order<E>, right: Order<E>): OrderNode<E> {
  return { entry, left, right, size: sizeOf(left) + sizeOf(right) + 1 };
}

function before(a: Ordered, b: Ordered): boolean {
  return a.expiry < b.expiry || (a.expiry === b.expiry && a.seq < b.seq);
}

/** Restores invariant 3 after one subtree changed by at most one element (or one link step). */
function balance<E extends Ordered>(entry: E, l: Order<E>, r: Order<E>): OrderNode<E> {
  const sl = sizeOf(l);
  const sr = sizeOf(r);
  if (sl + sr <= 1) return node(entry, l, r);
  if (sr > DELTA * sl) {
    const { left: rl, right: rr } = r!;
    if (sizeOf(rl) < RATIO * sizeOf(rr)) return node(r!.entry, node(entry, l, rl), rr);
    return node(rl!.entry, node(entry, l, rl!.left), node(r!.entry, rl!.right, rr));
  }
  if (sl > DELTA * sr) {
    const { left: ll, right: lr } = l!;
    if (sizeOf(lr) < RATIO * sizeOf(ll)) return node(l!.entry, ll, node(entry, lr, r));
    return node(lr!.entry, node(l!.entry, ll, lr!.left), node(entry, lr!.right, r));
  }
  return node(entry, l, r);
}

/** Inserts an entry whose key is not yet in the tree. */
export function orderInsert<E extends Ordered>(t: Order<E>, entry: E): OrderNode<E> {
  if (t === null) return node(entry, null, null);
  return before(entry, t.entry)
    ? balance(t.entry, orderInsert(t.left, entry), t.right)
    : balance(t.entry, t.left, orderInsert(t.right, entry));
}

function insertMin<E extends Ordered>(t: Order<E>, entry: E): OrderNode<E> {
  return t === null ? node(entry, null, null) : balance(t.entry, insertMin(t.left, entry), t.right);
}

function insertMax<E extends Ordered>(t: Order<E>, entry: E): OrderNode<E> {
  return t === null ? node(entry, null, null) : balance(t.entry, t.left, insertMax(t.right, entry));
}

/** Joins `l < entry < r` of any sizes into one balanced tree. */
function link<E extends Ordered>(entry: E, l: Order<E>, r: Order<E>): OrderNode<E> {
  if (l === null) return insertMin(r, entry);
  if (r === null) return insertMax(l, entry);
  if (DELTA * l.size < r.size) return balance(r.entry, link(entry, l, r.left), r.right);
  if (DELTA * r.size < l.size) return balance(l.entry, l.left, link(entry, l.right, r));
  return node(entry, l, r);
}

function removeMin<E extends Ordered>(t: OrderNode<E>): Order<E> {
  return t.left === null ? t.right : balance(t.entry, removeMin(t.left), t.right);
}

function removeMax<E extends Ordered>(t: OrderNode<E>): Order<E> {
  return t.right === null ? t.left : balance(t.entry, t.left, removeMax(t.right));
}

/** Concatenates `l < r` (both balanced). */
function merge<E extends Ordered>(l: Order<E>, r: Order<E>): Order<E> {
  if (l === null) return r;
  if (r === null) return l;
  if (DELTA * l.size < r.size) return balance(r.entry, merge(l, r.left), r.right);
  if (DELTA * r.size < l.size) return balance(l.entry, l.left, merge(l.right, r));
  return l.size > r.size
    ? balance(orderMax(l), removeMax(l), r)
    : balance(orderMin(r)!, l, removeMin(r));
}

/** Removes the entry with exactly `entry`'s key; returns `t` itself when absent. */
export function orderRemove<E extends Ordered>(t: Order<E>, entry: Ordered): Order<E> {
  if (t === null) return null;
  if (before(entry, t.entry)) {
    const l = orderRemove(t.left, entry);
    return l === t.left ? t : balance(t.entry, l, t.right);
  }
  if (before(t.entry, entry)) {
    const r = orderRemove(t.right, entry);
    return r === t.right ? t : balance(t.entry, t.left, r);
  }
  return merge(t.left, t.right);
}

/** The first entry (soonest expiry), or `undefined` when empty. */
export function orderMin<E extends Ordered>(t: Order<E>): E | undefined {
  if (t === null) return undefined;
  while (t.left !== null) t = t.left;
  return t.entry;
}

function orderMax<E extends Ordered>(t: OrderNode<E>): E {
  while (t.right !== null) t = t.right;
  return t.entry;
}

/** Appends every entry of `t` to `out`, in order. */
export function orderCollect<E extends Ordered>(t: Order<E>, out: E[]): void {
  for (const e of orderEntries(t)) out.push(e);
}

/**
 * Drops every entry whose expiry is below `bound`, appending the dropped
 * entries to `out` in order. Returns `t` itself when nothing is dropped.
 */
export function orderDropBelow<E extends Ordered>(t: Order<E>, bound: number, out: E[]): Order<E> {
  if (t === null) return null;
  if (t.entry.expiry < bound) {
    orderCollect(t.left, out);
    out.push(t.entry);
    return orderDropBelow(t.right, bound, out);
  }
  const l = orderDropBelow(t.left, bound, out);
  return l === t.left ? t : link(t.entry, l, t.right);
}

/** Drops the first `k` entries, appending them to `out` in order. */
export function orderDropFirst<E extends Ordered>(t: Order<E>, k: number, out: E[]): Order<E> {
  if (t === null || k <= 0) return t;
  const sl = sizeOf(t.left);
  if (k <= sl) {
    const l = orderDropFirst(t.left, k, out);
    return link(t.entry, l, t.right);
  }
  orderCollect(t.left, out);
  out.push(t.entry);
  return orderDropFirst(t.right, k - sl - 1, out);
}

/** Iterates entries in ascending order. */
export function* orderEntries<E extends Ordered>(t: Order<E>): Generator<E, void, undefined> {
  const stack: OrderNode<E>[] = [];
  for (;;) {
    while (t !== null) {
      stack.push(t);
      t = t.left;
    }
    const top = stack.pop();
    if (top === undefined) return;
    yield top.entry;
    t = top.right;
  }
}
