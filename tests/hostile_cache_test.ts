/**
 * Hostile values and callbacks through the public API of `SessionCache` and
 * of the pure core (properties). Every call gets, at random, a fine value or
 * a hostile one: getters that answer differently on each read, Proxies
 * (counting, throwing, revoked), objects that only inherit
 * `Uint8Array.prototype`, typed arrays that lie about their length, wrong
 * types, NaN, milliseconds. The cache's callbacks throw, reject, return
 * garbage or sessions for other ids, and call back into the cache. After
 * every step:
 * - a refused call (`TypeError`/`RangeError`, or a getter's own error)
 *   changed nothing observable;
 * - no other error comes out, except one a callback threw (rethrown after
 *   the commit, as documented);
 * - every structural invariant of the core holds (`tests/_check.ts`): among
 *   them, every cached entry's own copy of its id, time and timeout is
 *   valid, whatever the caller's object answers now. (The cache hands back
 *   the caller's own object, as OpenSSL hands back its `SSL_SESSION`: an
 *   object whose getters lie goes on lying to its owner, never to the
 *   cache, which decides on the values it read once.)
 * - at the end, nothing escaped as an unhandled rejection.
 *
 * @module
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import * as core from "../core.ts";
import { MAX_TIME, SESS_CACHE_BOTH, type Session, SessionCache } from "../mod.ts";
import { checkState } from "./_check.ts";
import { fcParams } from "./_fc.ts";
import { type CacheSnapshot, snapshot } from "./_helpers.ts";
import {
  countingReads,
  lyingLengthUint8Array,
  prototypeOnlyUint8Array,
  proxiedUint8Array,
  revokedProxy,
  shifting,
  watchEscapes,
} from "./_hostile.ts";

/** What a callback throws: the only error besides a refusal that may come out of a call. */
class CallbackBoom extends Error {
  override name = "CallbackBoom";
}
/** What a throwing getter throws: a refusal of its own kind. */
class GetterBoom extends Error {
  override name = "GetterBoom";
}

/** A value made fresh for every use (getters and Proxies keep state), with a label. */
interface Maker<T = unknown> {
  readonly label: string;
  make(): T;
}
const maker = <T>(label: string, make: () => T): Maker<T> => ({ label, make });

// A small pool of ids, so that adds, lookups and removes meet each other.
const POOL = [1, 2, 3, 4, 5].map((b) => Uint8Array.of(b, b, b));

const goodId = fc.constantFrom(...POOL.map((id, i) => maker(`id${i + 1}`, () => id.slice())));
const badId: fc.Arbitrary<Maker> = fc.constantFrom(
  maker("empty id", () => new Uint8Array(0)),
  maker("33-byte id", () => new Uint8Array(33)),
  maker("prototype-only Uint8Array", () => prototypeOnlyUint8Array(3)),
  maker("proxied Uint8Array", () => proxiedUint8Array(POOL[0]!.slice())),
  maker("revoked Proxy", () => revokedProxy()),
  maker("length-lying Uint8Array", () => lyingLengthUint8Array(POOL[1]!, 40)),
  maker("Int8Array", () => Int8Array.of(1, 1, 1)),
  maker("array", () => [1, 1, 1]),
  maker("string", () => "\x01\x01\x01"),
  maker("null", () => null),
);
const anyId = fc.oneof({ arbitrary: goodId, weight: 3 }, { arbitrary: badId, weight: 1 });

const goodTime = fc.integer({ min: 1000, max: 1100 }).map((t) => maker(String(t), () => t));
const badNumber: fc.Arbitrary<Maker> = fc.constantFrom(
  maker("NaN", () => NaN),
  maker("-1", () => -1),
  maker("Infinity", () => Infinity),
  maker('"1000"', () => "1000"),
  maker("MAX_TIME + 1", () => MAX_TIME + 1),
  maker("milliseconds", () => 1_700_000_000_000),
  maker("undefined", () => undefined),
);
const anyTime = fc.oneof({ arbitrary: goodTime, weight: 3 }, { arbitrary: badNumber, weight: 1 });
const goodTimeout = fc.integer({ min: 0, max: 60 }).map((t) => maker(String(t), () => t));
const anyTimeout = fc.oneof({ arbitrary: goodTimeout, weight: 3 }, {
  arbitrary: badNumber,
  weight: 1,
});

/** A session: plain, or hostile in how it is read. */
const anySession: fc.Arbitrary<Maker> = fc.tuple(
  anyId,
  anyTime,
  anyTimeout,
  fc.constantFrom("plain", "shifting id", "shifting time", "counting", "throwing", "revoked"),
  badId,
  badNumber,
).map(([id, time, timeout, how, laterId, laterNumber]) => {
  const base = () => ({ id: id.make(), time: time.make(), timeout: timeout.make() });
  const label = `{ id: ${id.label}, time: ${time.label}, timeout: ${timeout.label} } (${how})`;
  switch (how) {
    case "shifting id":
      return maker(label, () => shifting(base(), "id", id.make(), laterId.make()));
    case "shifting time":
      return maker(label, () => shifting(base(), "time", time.make(), laterNumber.make()));
    case "counting":
      return maker(label, () => countingReads(base()).value);
    case "throwing":
      return maker(label, () =>
        new Proxy(base(), {
          get(t, key, receiver) {
            if (key === "timeout") throw new GetterBoom("a getter throws");
            return Reflect.get(t, key, receiver);
          },
        }));
    case "revoked":
      return maker(label, () => revokedProxy());
    default:
      return maker(label, base);
  }
});

/** How a callback behaves. */
type Behaviour = "fine" | "throws" | "rejects" | "re-enters" | "garbage" | "other id";
const behaviour = fc.constantFrom<Behaviour>(
  "fine",
  "throws",
  "rejects",
  "re-enters",
  "garbage",
  "other id",
);

/** One step of a run against `SessionCache`. */
type Step =
  | { readonly op: "add" | "remove"; readonly s: Maker }
  | { readonly op: "lookupSync" | "get"; readonly id: Maker }
  | { readonly op: "lookup"; readonly id: Maker }
  | { readonly op: "setTime" | "setTimeout"; readonly id: Maker; readonly value: Maker }
  | { readonly op: "flush"; readonly tm: Maker | undefined }
  | { readonly op: "handshakeCompleted"; readonly s: Maker; readonly side: Maker }
  | { readonly op: "handshakeStarted"; readonly side: Maker }
  | { readonly op: "advance"; readonly by: number }
  | { readonly op: "callbacks"; readonly remove: Behaviour; readonly get: Behaviour };

const side = fc.constantFrom(
  maker('"server"', () => "server"),
  maker('"client"', () => "client"),
  maker('"both"', () => "both"),
  maker("1", () => 1),
);

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ op: fc.constantFrom("add" as const, "remove" as const), s: anySession }),
  fc.record({ op: fc.constantFrom("lookupSync" as const, "get" as const), id: anyId }),
  fc.record({ op: fc.constant("lookup" as const), id: anyId }),
  fc.record({
    op: fc.constantFrom("setTime" as const, "setTimeout" as const),
    id: anyId,
    value: anyTime,
  }),
  fc.record({ op: fc.constant("flush" as const), tm: fc.option(anyTime, { nil: undefined }) }),
  fc.record({ op: fc.constant("handshakeCompleted" as const), s: anySession, side }),
  fc.record({ op: fc.constant("handshakeStarted" as const), side }),
  fc.record({ op: fc.constant("advance" as const), by: fc.integer({ min: 0, max: 30 }) }),
  fc.record({ op: fc.constant("callbacks" as const), remove: behaviour, get: behaviour }),
);

function isRefusal(e: unknown): boolean {
  return e instanceof TypeError || e instanceof RangeError || e instanceof GetterBoom;
}

/** The world of one run: a cache whose callbacks follow the current behaviours. */
function world() {
  const w = {
    t: 1000,
    remove: "fine" as Behaviour,
    get: "fine" as Behaviour,
    depth: 0,
    cache: undefined as unknown as SessionCache,
  };
  const reenter = (f: () => void) => {
    if (w.depth > 2) return;
    w.depth++;
    try {
      f();
    } catch (e) {
      if (!isRefusal(e) && !(e instanceof CallbackBoom)) throw e;
    } finally {
      w.depth--;
    }
  };
  w.cache = new SessionCache({
    cacheSize: 4, // holds 3: evictions are common
    mode: SESS_CACHE_BOTH,
    timeout: 30,
    now: () => w.t,
    onRemoveSession: (s) => {
      switch (w.remove) {
        case "throws":
          throw new CallbackBoom("onRemoveSession throws");
        case "rejects":
          return Promise.reject(new CallbackBoom("onRemoveSession rejects"));
        case "re-enters":
          reenter(() => void w.cache.add({ id: s.id.slice(), time: w.t, timeout: 10 }));
          return;
        default:
          return;
      }
    },
    getSession: (request) => {
      switch (w.get) {
        case "throws":
          throw new CallbackBoom("getSession throws");
        case "rejects":
          return Promise.reject(new CallbackBoom("getSession rejects"));
        case "re-enters":
          reenter(() => void w.cache.flush(0));
          return { id: request.id.slice(), time: w.t, timeout: 20 };
        case "garbage":
          return { id: prototypeOnlyUint8Array(3), time: NaN, timeout: "x" } as unknown as Session;
        case "other id":
          return { id: Uint8Array.of(9, 9, 9), time: w.t, timeout: 20 };
        default:
          return undefined;
      }
    },
    onNewSession: () => {
      if (w.remove === "throws") throw new CallbackBoom("onNewSession throws");
      if (w.remove === "rejects") return Promise.reject(new CallbackBoom("onNewSession rejects"));
    },
    onError: () => {},
  });
  return w;
}

function sameAs(before: CacheSnapshot, after: CacheSnapshot, what: string): void {
  assert.deepEqual(after, before, `${what} was refused but changed the cache`);
  for (let i = 0; i < before.sessions.length; i++) {
    assert.ok(Object.is(after.sessions[i], before.sessions[i]), `${what}: a session was replaced`);
  }
}

async function run(w: ReturnType<typeof world>, st: Step): Promise<string> {
  const c = w.cache;
  switch (st.op) {
    case "add":
      c.add(st.s.make() as Session);
      return `add(${st.s.label})`;
    case "remove":
      c.remove(st.s.make() as Session);
      return `remove(${st.s.label})`;
    case "lookupSync": {
      // A getSession that answers with a Promise makes lookupSync refuse (use lookup()).
      c.lookupSync({ id: st.id.make() as Uint8Array });
      return `lookupSync(${st.id.label})`;
    }
    case "lookup":
      await c.lookup({ id: st.id.make() as Uint8Array });
      return `lookup(${st.id.label})`;
    case "get":
      c.get(st.id.make() as Uint8Array);
      return `get(${st.id.label})`;
    case "setTime":
      c.setTime(st.id.make() as Uint8Array, st.value.make() as number);
      return `setTime(${st.id.label}, ${st.value.label})`;
    case "setTimeout":
      c.setTimeout(st.id.make() as Uint8Array, st.value.make() as number);
      return `setTimeout(${st.id.label}, ${st.value.label})`;
    case "flush":
      c.flush(st.tm?.make() as number | undefined);
      return `flush(${st.tm?.label ?? ""})`;
    case "handshakeCompleted":
      // Not awaited, no catch: a rejecting onNewSession must not escape all the same.
      void c.handshakeCompleted({
        side: st.side.make() as "server",
        session: st.s.make() as Session,
        resumed: false,
      });
      return `handshakeCompleted(${st.side.label}, ${st.s.label})`;
    case "handshakeStarted":
      c.handshakeStarted(st.side.make() as "server");
      return `handshakeStarted(${st.side.label})`;
    case "advance":
      w.t += st.by;
      return `advance(${st.by})`;
    case "callbacks":
      w.remove = st.remove;
      w.get = st.get;
      return `callbacks(remove ${st.remove}, get ${st.get})`;
  }
}

describe("hostile values and callbacks through the cache's public API (properties)", () => {
  it("SessionCache: a refused call changes nothing, and the cache stays whole", async () => {
    const watch = watchEscapes();
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 40 }), fc.boolean(), async (
        steps,
        everyStep,
      ) => {
        // Reading `state` hands the value out, and from then on the shell records every change:
        // half the runs check the store after every step, half only at the end, so that the
        // shell's unrecorded fast path meets the hostile values too.
        const w = world();
        for (const st of steps) {
          const before = snapshot(w.cache);
          const removalsBefore = w.cache.removals;
          let error: unknown;
          let label = st.op as string;
          try {
            label = await run(w, st);
          } catch (e) {
            error = e;
          }
          const after = snapshot(w.cache);
          if (error !== undefined) {
            if (isRefusal(error)) {
              sameAs(before, after, label);
              assert.deepEqual(w.cache.removals, removalsBefore, `${label}: removals counted`);
            } else {
              assert.ok(error instanceof CallbackBoom, `${label} threw ${String(error)}`);
            }
          }
          if (everyStep) checkState(w.cache.state);
          assert.equal(after.size, after.stats.number);
          assert.ok(after.size <= 3, "never above cacheSize - 1");
        }
        checkState(w.cache.state);
      }),
      fcParams({ numRuns: 150 }),
    );
    assert.deepEqual(await watch.stop(), [], "nothing escaped");
  });

  it("the pure core: a refused call leaves its input as it was and nothing else happens", () => {
    const coreStep = fc.oneof(
      fc.record({ op: fc.constant("add" as const), s: anySession }),
      fc.record({ op: fc.constant("remove" as const), s: anySession }),
      fc.record({ op: fc.constant("lookup" as const), id: anyId, now: anyTime }),
      fc.record({ op: fc.constant("resumeExternal" as const), s: anySession, now: anyTime }),
      fc.record({ op: fc.constant("flush" as const), tm: anyTime }),
      fc.record({ op: fc.constant("setSessionTime" as const), id: anyId, value: anyTime }),
      fc.record({ op: fc.constant("setSessionTimeout" as const), id: anyId, value: anyTimeout }),
      fc.record({
        op: fc.constant("handshakeCompleted" as const),
        s: anySession,
        side,
        now: anyTime,
      }),
    );
    fc.assert(
      fc.property(fc.array(coreStep, { minLength: 1, maxLength: 40 }), (steps) => {
        let cache = core.createCacheState({ cacheSize: 4, timeout: 30, mode: SESS_CACHE_BOTH });
        for (const st of steps) {
          const input = cache;
          // What the value holds, without reading the (maybe hostile) session objects themselves.
          const view = (c: core.CacheState) => ({
            size: c.size,
            stats: { ...c.stats },
            found: POOL.map((id) => core.get(c, { id })),
          });
          const before = view(input);
          try {
            switch (st.op) {
              case "add":
                cache = core.add(input, st.s.make() as Session).cache;
                break;
              case "remove":
                cache = core.remove(input, st.s.make() as Session).cache;
                break;
              case "lookup":
                cache = core.lookup(input, { id: st.id.make() as Uint8Array }, {
                  now: st.now.make() as number,
                }).cache;
                break;
              case "resumeExternal": {
                const s = st.s.make() as Session;
                cache = core.resumeExternal(input, s, {
                  request: { id: POOL[0]!.slice() },
                  now: st.now.make() as number,
                }).cache;
                break;
              }
              case "flush":
                cache = core.flush(input, st.tm.make() as number).cache;
                break;
              case "setSessionTime":
                cache = core.setSessionTime(input, { id: st.id.make() as Uint8Array }, {
                  time: st.value.make() as number,
                }).cache;
                break;
              case "setSessionTimeout":
                cache = core.setSessionTimeout(input, { id: st.id.make() as Uint8Array }, {
                  timeout: st.value.make() as number,
                }).cache;
                break;
              case "handshakeCompleted":
                cache = core.handshakeCompleted(input, {
                  side: st.side.make() as "server",
                  session: st.s.make() as Session,
                  resumed: false,
                }, { now: st.now.make() as number }).cache;
                break;
            }
          } catch (e) {
            assert.ok(isRefusal(e), `${st.op} threw ${String(e)}`);
            assert.equal(cache, input);
          }
          // The input value reads as it did, refused or not (values are immutable).
          const again = view(input);
          assert.deepEqual({ size: again.size, stats: again.stats }, {
            size: before.size,
            stats: before.stats,
          });
          assert.ok(again.found.every((x, i) => Object.is(x, before.found[i])), "same sessions");
          checkState(cache);
        }
      }),
      fcParams({ numRuns: 150 }),
    );
  });
});
