// OpenSSL's not_resumable flag as the shell keeps it (src/shell/_marks.ts):
// per cache, invisible on the caller's objects, and the same answers on the
// private-field path and on the WeakSet fallback.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { SessionCache } from "../../mod.ts";
import { RemovedMarks } from "../../src/shell/_marks.ts";
import { fcParams } from "../_fc.ts";

const session = (n: number) => ({ id: new Uint8Array([n]), time: 100, timeout: 300 });

/** Everything reflection can see of an object. */
function visible(o: object) {
  return {
    keys: Reflect.ownKeys(o),
    descriptors: Object.getOwnPropertyDescriptors(o),
    frozen: Object.isFrozen(o),
    sealed: Object.isSealed(o),
    extensible: Object.isExtensible(o),
    prototype: Object.getPrototypeOf(o),
    json: JSON.stringify(o),
  };
}

describe("not_resumable marks", () => {
  it("are per cache: a session removed by one cache stays resumable in another", () => {
    const [a, b, c] = [new SessionCache(), new SessionCache(), new SessionCache()];
    const s = session(1);
    for (const cache of [a, b, c]) cache.add(s);
    a.remove(s);
    assert.deepEqual([a, b, c].map((x) => x.isResumable(s)), [false, true, true]);
    c.flush(0);
    assert.deepEqual([a, b, c].map((x) => x.isResumable(s)), [false, true, false]);
    b.remove(s);
    b.remove(s); // twice: still one mark
    assert.deepEqual([a, b, c].map((x) => x.isResumable(s)), [false, false, false]);
    // A fourth cache never saw it.
    assert.equal(new SessionCache().isResumable(s), true);
  });

  it("every kind of removal marks: flushed, evicted, removed, expired on lookup", async () => {
    const reasons: string[] = [];
    const cache = new SessionCache({
      cacheSize: 1,
      now: () => 1000,
      onRemoveSession: (_s, _c, reason) => void reasons.push(reason!),
    });
    const step = async (s: { id: Uint8Array }, act: () => unknown) => {
      assert.equal(cache.isResumable(s as never), true);
      await act();
      assert.equal(cache.isResumable(s as never), false);
    };
    const flushed = { id: new Uint8Array([1]), time: 100, timeout: 300 };
    await step(flushed, () => {
      cache.add(flushed);
      cache.flush(500);
    });
    const evicted = { id: new Uint8Array([2]), time: 900, timeout: 300 };
    const kept = { id: new Uint8Array([3]), time: 900, timeout: 300 };
    await step(evicted, () => {
      cache.add(evicted);
      cache.add(kept); // the cache holds one: `evicted` goes
    });
    assert.equal(cache.isResumable(kept), true);
    await step(kept, () => cache.remove(kept));
    const expired = { id: new Uint8Array([4]), time: 1, timeout: 1 };
    await step(expired, async () => {
      cache.add(expired);
      assert.equal(await cache.lookup({ id: expired.id }), undefined);
    });
    const other = session(5);
    cache.remove(session(5)); // an equal object is a different session: this one stays resumable
    assert.equal(cache.isResumable(other), true);
    const never = session(6);
    await step(never, () => cache.remove(never)); // never cached: OpenSSL marks it all the same
    // remove_session_lock calls the remove callback with `c` whether or not it was cached.
    assert.deepEqual(reasons, ["expired", "evicted", "removed", "removed", "removed", "removed"]);
  });

  it("leave the caller's objects as they were: frozen, sealed, non-extensible, proxies", () => {
    const traps: string[] = [];
    const target = session(9);
    const proxy = new Proxy(target, {
      get(t, k, r) {
        return Reflect.get(t, k, r);
      },
      defineProperty() {
        traps.push("defineProperty");
        return false;
      },
      preventExtensions() {
        traps.push("preventExtensions");
        return false;
      },
      set() {
        traps.push("set");
        return false;
      },
    });
    const objects: object[] = [
      session(1),
      Object.freeze(session(2)),
      Object.seal(session(3)),
      Object.preventExtensions(session(4)),
      proxy,
    ];
    const before = objects.map((o) => (o === proxy ? visible(target) : visible(o)));
    const cache = new SessionCache();
    for (const o of objects) cache.add(o as ReturnType<typeof session>);
    cache.flush(0);
    assert.deepEqual(objects.map((o) => cache.isResumable(o as never)), objects.map(() => false));
    assert.deepEqual(objects.map((o) => (o === proxy ? visible(target) : visible(o))), before);
    assert.deepEqual(traps, []);
    assert.deepEqual(structuredClone(objects[0]), session(1));
  });

  it("answer the same on the private-field path and on the WeakSet fallback", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(2), fc.nat(7), fc.boolean()), { maxLength: 60 }),
        (steps) => {
          const objects = Array.from({ length: 8 }, (_, i) => (i % 2 ? Object.freeze({}) : {}));
          const stamped = [new RemovedMarks(), new RemovedMarks(), new RemovedMarks()];
          const plain = [new RemovedMarks(false), new RemovedMarks(false), new RemovedMarks(false)];
          const model = stamped.map(() => new Set<number>());
          for (const [m, o, mark] of steps) {
            if (mark) {
              stamped[m]!.mark(objects[o]!);
              plain[m]!.mark(objects[o]!);
              model[m]!.add(o);
            }
            for (let i = 0; i < 3; i++) {
              const want = model[i]!.has(o);
              assert.equal(stamped[i]!.has(objects[o]!), want);
              assert.equal(plain[i]!.has(objects[o]!), want);
            }
          }
        },
      ),
      fcParams(),
    );
  });
});
