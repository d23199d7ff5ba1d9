// Old values, against the second oracle. The core keeps one mutable store and rebuilds older
// values from a log of undo records (src/core/_history.ts); the oracle (tests/oracle) is the
// project's first core, where every value is a truly immutable persistent structure. Random
// programs apply each operation to ANY earlier value (the newest, an old one to read or to
// branch from, one from another branch), on both cores alike, and compare every result and the
// whole content of every value, old ones included, again and again. This is what catches
// history bugs: a record that undoes the wrong thing, a cursor left in the wrong place, a
// branch that shares what it must not, a split that loses a value.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import * as core from "../../core.ts";
import * as oracle from "../oracle/mod.ts";
import { checkState } from "../_check.ts";
import { fcParams } from "../_fc.ts";
import type { Removal, Session } from "../../mod.ts";

type Value = { readonly ours: core.CacheState; readonly theirs: oracle.CacheState };
/** A session object as each core knows it (copies the cores made differ by identity). */
type Handle = { readonly ours: Session; readonly theirs: Session };

const hex = (b: Uint8Array | undefined) =>
  b === undefined ? "" : Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const fields = (s: Session | undefined) =>
  s === undefined
    ? "-"
    : `${hex(s.id)}@${s.version ?? 0}:${s.time}+${s.timeout}:${hex(s.sidCtx)}:${hex(s.data)}`;
const removals = (r: readonly Removal[]) => r.map((x) => `${fields(x.session)} ${x.reason}`);

function contents(c: core.CacheState | oracle.CacheState, of: "ours" | "theirs"): string {
  const list = of === "ours"
    ? [...core.sessions(c as core.CacheState)]
    : [...oracle.sessions(c as oracle.CacheState)];
  return JSON.stringify({
    size: c.size,
    cacheSize: c.cacheSize,
    mode: c.mode,
    timeout: c.timeout,
    stats: { ...c.stats },
    sessions: list.map(fields),
  });
}

const idArb = fc.integer({ min: 1, max: 5 });
const timeArb = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 20 }) },
  { weight: 1, arbitrary: fc.constantFrom(18446744070, 18446744073) },
);
const sessionArb = fc.record({
  id: idArb,
  time: timeArb,
  timeout: fc.integer({ min: 0, max: 10 }),
  version: fc.constantFrom(0, 0x0303),
});

type Op =
  | { kind: "addFresh"; s: { id: number; time: number; timeout: number; version: number } }
  | { kind: "addHandle"; pick: number; now: number }
  | { kind: "remove"; pick: number }
  | { kind: "flush"; tm: number }
  | { kind: "setTime"; id: number; version: number; value: number }
  | { kind: "setTimeout"; id: number; version: number; value: number }
  | { kind: "lookup"; id: number; version: number; now: number; external: number | undefined }
  | { kind: "handshake"; pick: number | undefined; resumed: boolean; now: number; side: string }
  | { kind: "configure"; cacheSize: number; mode: number }
  | { kind: "read" };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: sessionArb.map((s) => ({ kind: "addFresh" as const, s })) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("addHandle" as const),
      pick: fc.nat(),
      now: fc.integer({ min: 0, max: 30 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("remove" as const), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("flush" as const),
      tm: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 35 })),
    }),
  },
  ...(["setTime", "setTimeout"] as const).map((kind) => ({
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant(kind),
      id: idArb,
      version: fc.constantFrom(0, 0x0303),
      value: fc.integer({ min: 0, max: 25 }),
    }),
  })),
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("lookup" as const),
      id: idArb,
      version: fc.constantFrom(0, 0x0303),
      now: fc.integer({ min: 0, max: 35 }),
      external: fc.option(fc.nat(), { nil: undefined }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("handshake" as const),
      pick: fc.option(fc.nat(), { nil: undefined }),
      resumed: fc.boolean(),
      now: fc.integer({ min: 0, max: 35 }),
      side: fc.constantFrom("server", "client"),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("configure" as const),
      cacheSize: fc.constantFrom(0, 1, 2, 3, 5),
      mode: fc.constantFrom(0x2, 0x3, 0x402, 0x102, 0x202, 0x82),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: "read" as const }) },
);

/** Which earlier value a step starts from: usually the newest, often an old one. */
const baseArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant(-1) },
  { weight: 2, arbitrary: fc.nat() },
);

/** Runs one step on both cores; pushes the new value; returns a description for the report. */
function step(values: Value[], handles: Handle[], baseIndex: number, op: Op): string {
  const base = values[baseIndex]!;
  const pick = (n: number) => handles[n % handles.length];
  let ours: core.CacheState = base.ours;
  let theirs: oracle.CacheState = base.theirs;
  let said = "";
  const same = (what: string, a: unknown, b: unknown) =>
    assert.deepEqual(a, b, `${what} (step on value #${baseIndex}: ${JSON.stringify(op)})`);
  switch (op.kind) {
    case "addFresh":
    case "addHandle": {
      let h: Handle | undefined;
      if (op.kind === "addFresh") {
        const s = Object.freeze({ ...op.s, id: new Uint8Array([op.s.id]) });
        h = { ours: s, theirs: s };
        handles.push(h);
      } else h = pick(op.pick);
      if (h === undefined) break;
      const now = op.kind === "addHandle" ? op.now : 10;
      const a = core.add(ours, h.ours, { now });
      const b = oracle.add(theirs, h.theirs, { now });
      same("add().added", a.added, b.added);
      same("add().session", fields(a.session), fields(b.session));
      same("add().removed", removals(a.removed), removals(b.removed));
      same("add().replaced", fields(a.replaced), fields(b.replaced));
      handles.push({ ours: a.session, theirs: b.session });
      ours = a.cache;
      theirs = b.cache;
      break;
    }
    case "remove": {
      const h = pick(op.pick);
      if (h === undefined) break;
      const a = core.remove(ours, h.ours);
      const b = oracle.remove(theirs, h.theirs);
      same("remove().found", a.found, b.found);
      same("remove().removed", removals(a.removed), removals(b.removed));
      ours = a.cache;
      theirs = b.cache;
      break;
    }
    case "flush": {
      const a = core.flush(ours, op.tm);
      const b = oracle.flush(theirs, op.tm);
      same("flush().removed", removals(a.removed), removals(b.removed));
      ours = a.cache;
      theirs = b.cache;
      break;
    }
    case "setTime":
    case "setTimeout": {
      const key = { id: new Uint8Array([op.id]), version: op.version };
      const a = op.kind === "setTime"
        ? core.setSessionTime(ours, key, { time: op.value })
        : core.setSessionTimeout(ours, key, { timeout: op.value });
      const b = op.kind === "setTime"
        ? oracle.setSessionTime(theirs, key, { time: op.value })
        : oracle.setSessionTimeout(theirs, key, { timeout: op.value });
      same(`${op.kind}().session`, fields(a.session), fields(b.session));
      if (a.session !== undefined && b.session !== undefined) {
        handles.push({ ours: a.session, theirs: b.session });
      }
      ours = a.cache;
      theirs = b.cache;
      break;
    }
    case "lookup": {
      const request = { id: new Uint8Array([op.id]), version: op.version };
      const a = core.lookup(ours, request, { now: op.now });
      const b = oracle.lookup(theirs, request, { now: op.now });
      same("lookup().outcome", a.outcome, b.outcome);
      same("lookup().session", fields(a.session), fields(b.session));
      same("lookup().removed", removals(a.removed), removals(b.removed));
      ours = a.cache;
      theirs = b.cache;
      // An external answer with the requested id (the new core refuses any other id).
      const ext = op.external === undefined ? undefined : pick(op.external);
      if (a.consultExternal && ext !== undefined && ext.ours.id[0] === op.id) {
        const x = core.resumeExternal(ours, ext.ours, { request, now: op.now });
        const y = oracle.resumeExternal(theirs, ext.theirs, { request, now: op.now });
        same("resumeExternal().outcome", x.outcome, y.outcome);
        same("resumeExternal().session", fields(x.session), fields(y.session));
        same("resumeExternal().removed", removals(x.removed), removals(y.removed));
        ours = x.cache;
        theirs = y.cache;
      }
      break;
    }
    case "handshake": {
      const h = op.pick === undefined ? undefined : pick(op.pick);
      const side = op.side as "server" | "client";
      const hs = (s: Session | undefined) => ({
        side,
        resumed: op.resumed,
        ...(s === undefined ? {} : { session: s }),
      });
      const a = core.handshakeCompleted(ours, hs(h?.ours), { now: op.now });
      const b = oracle.handshakeCompleted(theirs, hs(h?.theirs), { now: op.now });
      same("handshakeCompleted().newSession", fields(a.newSession), fields(b.newSession));
      same("handshakeCompleted().removed", removals(a.removed), removals(b.removed));
      same("handshakeCompleted().flushed", removals(a.flushed), removals(b.flushed));
      ours = a.cache;
      theirs = b.cache;
      break;
    }
    case "configure": {
      ours = core.configure(ours, { cacheSize: op.cacheSize, mode: op.mode });
      theirs = oracle.configure(theirs, { cacheSize: op.cacheSize, mode: op.mode });
      break;
    }
    case "read":
      said = "read";
      break;
  }
  same("contents of the new value", contents(ours, "ours"), contents(theirs, "theirs"));
  same(
    "an operation that changed nothing returns the same value",
    Object.is(ours, base.ours),
    Object.is(theirs, base.theirs),
  );
  checkState(ours);
  values.push({ ours, theirs });
  return said;
}

describe("old values of the core against the persistent oracle", () => {
  it("operations on any earlier value, and reads of all of them, agree with the oracle", () => {
    fc.assert(
      fc.property(
        fc.record({ cacheSize: fc.constantFrom(0, 2, 4, 20480), mode: fc.constantFrom(0x2, 0x3) }),
        fc.array(fc.tuple(baseArb, opArb), { minLength: 1, maxLength: 60 }),
        fc.array(fc.nat(), { minLength: 4, maxLength: 4 }),
        (settings, steps, rereads) => {
          const values: Value[] = [{
            ours: core.createCacheState(settings),
            theirs: oracle.createCacheState(settings),
          }];
          const handles: Handle[] = [];
          for (const [base, op] of steps) {
            const i = base === -1 ? values.length - 1 : base % values.length;
            step(values, handles, i, op);
            // Now and then, every value so far again (each read moves the store through its log).
            for (const r of rereads) {
              const v = values[r % values.length]!;
              assert.equal(
                contents(v.ours, "ours"),
                contents(v.theirs, "theirs"),
                "a reread value",
              );
            }
          }
          for (const v of values) {
            assert.equal(contents(v.ours, "ours"), contents(v.theirs, "theirs"), "every value");
          }
        },
      ),
      fcParams({ numRuns: 300 }),
    );
  });

  it("an old value held while its history splits many times still reads as it did", () => {
    // 5000+ records per split at this size: 30000 adds split the history several times.
    let ours = core.createCacheState({ cacheSize: 50 });
    let theirs = oracle.createCacheState({ cacheSize: 50 });
    const held: Value[] = [];
    for (let i = 0; i < 30000; i++) {
      const s = { id: new Uint8Array([i & 0xff, i >> 8]), time: i, timeout: 100 };
      ours = core.add(ours, s).cache;
      theirs = oracle.add(theirs, s).cache;
      if (i % 7000 === 3) held.push({ ours, theirs });
    }
    for (const v of held) {
      assert.equal(contents(v.ours, "ours"), contents(v.theirs, "theirs"));
      checkState(v.ours);
    }
    // And a branch from the oldest one.
    const s = { id: new Uint8Array([7, 7]), time: 5, timeout: 1 };
    const a = core.add(held[0]!.ours, s);
    const b = oracle.add(held[0]!.theirs, s);
    assert.deepEqual(removals(a.removed), removals(b.removed));
    assert.equal(contents(a.cache, "ours"), contents(b.cache, "theirs"));
    assert.equal(contents(held[0]!.ours, "ours"), contents(held[0]!.theirs, "theirs"));
  });
});
