/**
 * Model-based suite: random command sequences run against the pure core
 * (`core.ts`) and the naive model in `tests/_model.ts`. After
 * every command the outputs, the counters, the iteration order, `get()` for
 * every key and the structural invariants must agree; the input state must
 * be left untouched, and an operation that changes nothing must return the
 * very same state object (except a re-add, which re-sorts: see `doAdd`).
 *
 * Replay a failure with `FC_SEED=<seed> FC_PATH=<path> FC_REPLAY_PATH=<replayPath>`,
 * all three printed by the failing run (the replay path is the `replayPath="..."`
 * comment at the end of the counterexample; without it fast-check may not find
 * the same command sequence). `MODEL_COVERAGE=1` prints how often each
 * interesting case came up (see `tests/_model.ts`).
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  add,
  type CacheState,
  configure,
  createCacheState,
  flush,
  get,
  handshakeCompleted,
  handshakeStarted,
  lookup,
  remove,
  resumeExternal,
  sessions,
  setSessionTime,
  setSessionTimeout,
} from "../../core.ts";
import type { Session } from "../../mod.ts";
import { fcCommandsConstraints, fcParams } from "../_fc.ts";
import { checkState, countersOf } from "../_check.ts";
import {
  ALL_KEYS,
  at,
  buildRequest,
  bulkCountArb,
  CacheModel,
  cacheSizeArb,
  CLIENT,
  coverage,
  type External,
  externalArb,
  fieldsOf,
  type FlushKind,
  flushKindArb,
  flushTime,
  type HandshakeSession,
  handshakeSessionArb,
  hexKey,
  keyOf,
  type LookupTarget,
  lookupTargetArb,
  modeArb,
  modelExpiry,
  type ModelLookup,
  type ModelSession,
  NO_AUTO_CLEAR,
  NO_INTERNAL_LOOKUP,
  NO_INTERNAL_STORE,
  nowArb,
  pickArb,
  Registry,
  resolveSetTarget,
  sameStats,
  SERVER,
  type SessionSpec,
  type SetTarget,
  setTargetArb,
  type Side,
  sideArb,
  specArb,
  specSource,
  tls13Arb,
  unhex,
  UPDATE_TIME,
} from "../_model.ts";

interface Real {
  cache: CacheState;
  readonly reg: Registry;
  /** The counters before the last command (the counters only grow). */
  counters: Float64Array;
  /** Earlier values held on to, with what they held: they must never change. */
  readonly held: { readonly cache: CacheState; readonly text: string }[];
}

type CoreCommand = fc.Command<CacheModel, Real>;

// ---------------------------------------------------------------------------
// Checks shared by every command

interface Snapshot {
  readonly sessions: readonly Session[];
  readonly text: string;
}

/** Everything observable about a state, plus the session objects in order. */
function snapshot(cache: CacheState): Snapshot {
  const list = [...sessions(cache)];
  const text = JSON.stringify({
    cacheSize: cache.cacheSize,
    mode: cache.mode,
    timeout: cache.timeout,
    size: cache.size,
    stats: { ...cache.stats },
    sessions: list.map(fieldsOf),
  });
  return { sessions: list, text };
}

function sameSnapshot(a: Snapshot, b: Snapshot): boolean {
  return a.text === b.text && a.sessions.length === b.sessions.length &&
    a.sessions.every((s, i) => s === b.sessions[i]);
}

/**
 * Runs one core call: checks the input state is not mutated, and that the
 * same state object comes back when nothing observable changed.
 */
function step<R>(
  r: Real,
  what: string,
  call: (cache: CacheState) => R,
  next: (result: R) => CacheState,
  sameWhenUnchanged = true,
): R {
  const input = r.cache;
  const before = snapshot(input);
  const result = call(input);
  const again = snapshot(input);
  assert.ok(sameSnapshot(before, again), `${what} mutated its input state`);
  const output = next(result);
  if (sameWhenUnchanged && sameSnapshot(before, snapshot(output))) {
    assert.ok(Object.is(output, input), `${what} changed nothing but returned a new state object`);
  }
  r.cache = output;
  return result;
}

/** Structural invariants and full agreement with the model. */
let runStep = 0;
function checkInvariants(m: CacheModel, r: Real): void {
  const c = r.cache;
  // Every numbered invariant of src/core/ (tests/_check.ts).
  checkState(c, r.counters);
  r.counters = countersOf(c);
  // Old values answer as they did (reading them moves the store back through its history).
  // One held value per command, in turn: each is re-read several times over a run, at a
  // quarter of the cost of re-reading all of them after every command.
  if (r.held.length > 0) {
    const h = at(r.held, runStep++ % r.held.length);
    assert.equal(snapshot(h.cache).text, h.text, "an old value still reads as it did");
    checkState(h.cache);
  }
  r.held.push({ cache: c, text: snapshot(c).text });
  if (r.held.length > 4) r.held.splice(Math.floor(r.held.length / 2), 1);
  const list = [...sessions(c)];
  assert.equal(c.size, list.length, "size === number of sessions iterated");
  assert.equal(c.stats.number, c.size, "stats.number === size");
  sameStats(c.stats, m.stats, "stats");
  assert.equal(c.cacheSize, m.cacheSize, "cacheSize");
  assert.equal(c.mode, m.mode, "mode");
  assert.equal(c.timeout, m.timeout, "timeout");
  for (let i = 1; i < list.length; i++) {
    assert.ok(
      modelExpiry(at(list, i - 1)) <= modelExpiry(at(list, i)),
      "sessions() is sorted by expiry, soonest first",
    );
  }
  // The model's own order must be (expiry asc, then (re)insertion FIFO).
  const expected = m.tailToHead();
  for (let i = 1; i < expected.length; i++) {
    const a = at(expected, i - 1);
    const b = at(expected, i);
    assert.ok(
      modelExpiry(a) < modelExpiry(b) || (modelExpiry(a) === modelExpiry(b) && a.seq < b.seq),
      "model order",
    );
  }
  r.reg.expectList(list, expected, "sessions()", (s) => m.insertedThisOp(s));
  const byKey = new Map(list.map((s) => [keyOf(fieldsOf(s)), s]));
  assert.equal(byKey.size, list.length, "one session per key");
  for (const { id, version } of ALL_KEYS) {
    const key = hexKey(id, version);
    const got = get(c, { id: new Uint8Array([id]), version });
    assert.equal(got, byKey.get(key), `get(${key}) returns the iterated object`);
    assert.equal(got === undefined, m.get(key) === undefined, `get(${key}) presence`);
    if (version === 0) {
      assert.equal(
        get(c, { id: new Uint8Array([id]) }),
        got,
        "get() without version means version 0",
      );
    }
  }
}

/**
 * Each model run gets a number; the last run that failed is the minimal
 * counterexample fast-check reports (the shrink attempts after it pass). A
 * command prints the call it made in that run: the same command object also
 * runs in other attempts, where its picks may resolve differently.
 */
let runNumber = 0;
let failedRun = -1;

abstract class Base implements CoreCommand {
  /** Filled in by exec(): the call as it was made. */
  protected text = "";
  readonly #texts = new Map<number, string>();
  check(_m: Readonly<CacheModel>): boolean {
    return true;
  }
  run(m: CacheModel, r: Real): void {
    this.text = "";
    try {
      m.beginOp();
      this.exec(m, r);
      checkInvariants(m, r);
    } catch (e) {
      failedRun = runNumber;
      throw e;
    } finally {
      this.#texts.set(runNumber, this.text);
    }
  }
  protected abstract exec(m: CacheModel, r: Real): void;
  protected abstract plan(): string;
  toString(): string {
    return this.#texts.get(failedRun) || this.plan();
  }
}

function ref(r: Real, s: Session): string {
  return `handles[${r.reg.objects.indexOf(s)}]`;
}

/** The real object currently cached for model entry `pick`, with its handle. */
function pickCached(
  _m: CacheModel,
  r: Real,
  pick: number,
): { obj: Session; handle: ModelSession } | undefined {
  const list = [...sessions(r.cache)];
  if (list.length === 0) return undefined;
  const obj = at(list, pick % list.length);
  return { obj, handle: r.reg.handleOf(obj) };
}

function pickHandle(r: Real, pick: number): { obj: Session; handle: ModelSession } {
  const obj = at(r.reg.objects, pick % r.reg.objects.length);
  return { obj, handle: r.reg.handleOf(obj) };
}

function checkAdd(
  m: CacheModel,
  r: Real,
  result: ReturnType<typeof add>,
  expected: ReturnType<CacheModel["add"]>,
): void {
  assert.equal(result.added, expected.added, "add().added");
  r.reg.expect(result.session, expected.session, "add().session", true);
  r.reg.expectRemovals(result.removed, expected.removed, "add().removed", () => false);
  r.reg.expect(result.replaced, expected.replaced, "add().replaced", false);
  if (result.added && m.cacheSize > 0) {
    assert.ok(
      result.cache.size <= Math.max(1, m.cacheSize - 1),
      `after an add, a cache of size ${m.cacheSize} holds at most ${Math.max(1, m.cacheSize - 1)}`,
    );
  }
  if (!result.added) assert.equal(result.removed.length, 0, "a re-add evicts nothing");
}

function doAdd(m: CacheModel, r: Real, obj: Session, now: number | undefined): void {
  const handle = r.reg.handleOf(obj);
  if (now === undefined && (m.mode & UPDATE_TIME) !== 0) {
    const before = snapshot(r.cache);
    assert.throws(() => add(r.cache, obj), TypeError, "add() without now under UPDATE_TIME");
    assert.ok(sameSnapshot(before, snapshot(r.cache)), "a refused add leaves the state as it was");
    return;
  }
  // A re-add that leaves the order as it was still returns a new state (it re-sorted): not checked.
  const result = step(
    r,
    "add()",
    (c) => add(c, obj, now === undefined ? undefined : { now }),
    (x) => x.cache,
    false,
  );
  checkAdd(m, r, result, m.add(handle, now));
}

// ---------------------------------------------------------------------------
// Commands

class AddFresh extends Base {
  constructor(readonly spec: SessionSpec, readonly now: number | undefined) {
    super();
  }
  plan(): string {
    return `add(cache, ${specSource(this.spec)}${
      this.now === undefined ? "" : `, { now: ${this.now} }`
    })`;
  }
  exec(m: CacheModel, r: Real): void {
    const obj = r.reg.fresh(this.spec);
    this.text = `cache = add(cache, ${ref(r, obj)} = ${specSource(this.spec)}${
      this.now === undefined ? "" : `, { now: ${this.now} }`
    }).cache`;
    doAdd(m, r, obj, this.now);
  }
}

/** Re-adds the object now cached (same object: returns false, re-sorts). */
class AddCached extends Base {
  constructor(readonly pick: number, readonly now: number) {
    super();
  }
  override check(m: Readonly<CacheModel>): boolean {
    return m.list.length > 0;
  }
  plan(): string {
    return `add(cache, <cached #${this.pick}>, { now: ${this.now} })`;
  }
  exec(m: CacheModel, r: Real): void {
    const { obj } = pickCached(m, r, this.pick)!;
    this.text = `cache = add(cache, ${ref(r, obj)}, { now: ${this.now} }).cache`;
    doAdd(m, r, obj, this.now);
  }
}

/** Re-adds any object the test has seen: original, derived, removed or replaced. */
class AddHandle extends Base {
  constructor(readonly pick: number, readonly now: number) {
    super();
  }
  override check(m: Readonly<CacheModel>): boolean {
    return m.handles.length > 0;
  }
  plan(): string {
    return `add(cache, handles[${this.pick} % n], { now: ${this.now} })`;
  }
  exec(m: CacheModel, r: Real): void {
    const { obj } = pickHandle(r, this.pick);
    this.text = `cache = add(cache, ${ref(r, obj)}, { now: ${this.now} }).cache`;
    doAdd(m, r, obj, this.now);
  }
}

/** Adds a new object under the key of a cached one: silent replacement. */
class AddSameKey extends Base {
  constructor(readonly pick: number, readonly spec: SessionSpec, readonly now: number) {
    super();
  }
  override check(m: Readonly<CacheModel>): boolean {
    return m.list.length > 0;
  }
  plan(): string {
    return `add(cache, <same key as cached #${this.pick}>, { now: ${this.now} })`;
  }
  exec(m: CacheModel, r: Real): void {
    const { handle } = pickCached(m, r, this.pick)!;
    const spec = { ...this.spec, id: at([...unhex(handle.id)], 0), version: handle.version };
    const obj = r.reg.fresh(spec);
    this.text = `cache = add(cache, ${ref(r, obj)} = ${
      specSource(spec)
    }, { now: ${this.now} }).cache`;
    doAdd(m, r, obj, this.now);
  }
}

class Remove extends Base {
  constructor(
    readonly kind: "cached" | "handle" | "fresh",
    readonly pick: number,
    readonly spec: SessionSpec,
  ) {
    super();
  }
  override check(m: Readonly<CacheModel>): boolean {
    return this.kind === "fresh" ||
      (this.kind === "cached" ? m.list.length > 0 : m.handles.length > 0);
  }
  plan(): string {
    return this.kind === "fresh"
      ? `remove(cache, ${specSource(this.spec)})`
      : `remove(cache, <${this.kind} #${this.pick}>)`;
  }
  exec(m: CacheModel, r: Real): void {
    const obj = this.kind === "fresh"
      ? r.reg.fresh(this.spec)
      : this.kind === "cached"
      ? pickCached(m, r, this.pick)!.obj
      : pickHandle(r, this.pick).obj;
    this.text = `cache = remove(cache, ${ref(r, obj)}${
      this.kind === "fresh" ? ` = ${specSource(this.spec)}` : ""
    }).cache`;
    const result = step(r, "remove()", (c) => remove(c, obj), (x) => x.cache);
    const expected = m.remove(r.reg.handleOf(obj));
    assert.equal(result.found, expected.found, "remove().found");
    assert.equal(result.removed.length, 1, "remove().removed has the argument only");
    assert.equal(result.removed[0]?.session, obj, "remove().removed[0] is the argument itself");
    r.reg.expectRemovals(result.removed, expected.removed, "remove().removed", () => false);
  }
}

class Flush extends Base {
  constructor(readonly kind: FlushKind, readonly pick: number, readonly value: number) {
    super();
  }
  plan(): string {
    return `flush(cache, <${this.kind} ${this.pick} ${this.value}>)`;
  }
  exec(m: CacheModel, r: Real): void {
    const tm = flushTime(m, this.kind, this.pick, this.value);
    this.text = `cache = flush(cache, ${tm}).cache`;
    const result = step(r, "flush()", (c) => flush(c, tm), (x) => x.cache);
    r.reg.expectRemovals(result.removed, m.flush(tm), `flush(${tm}).removed`, () => false);
  }
}

class SetField extends Base {
  constructor(readonly target: SetTarget) {
    super();
  }
  override check(m: Readonly<CacheModel>): boolean {
    return this.target.kind === "key" || m.list.length > 0;
  }
  plan(): string {
    return `set ${JSON.stringify(this.target)}`;
  }
  exec(m: CacheModel, r: Real): void {
    const { field, omitVersion } = this.target;
    const { id, version, value } = resolveSetTarget(m, this.target);
    const v = version === 0 && omitVersion ? "" : `, version: 0x${version.toString(16)}`;
    const fn = field === "time" ? "setSessionTime" : "setSessionTimeout";
    this.text =
      `cache = ${fn}(cache, { id: new Uint8Array([${id}])${v} }, { ${field}: ${value} }).cache`;
    const key = { id: new Uint8Array([id]), ...(version === 0 && omitVersion ? {} : { version }) };
    const result = field === "time"
      ? step(r, "setSessionTime()", (c) => setSessionTime(c, key, { time: value }), (x) => x.cache)
      : step(
        r,
        "setSessionTimeout()",
        (c) => setSessionTimeout(c, key, { timeout: value }),
        (x) => x.cache,
      );
    const mkey = hexKey(id, version);
    const expected = field === "time" ? m.setTime(mkey, value) : m.setTimeout(mkey, value);
    r.reg.expect(result.session, expected, `${fn}().session`, true);
  }
}

class Configure extends Base {
  constructor(readonly options: { cacheSize?: number; mode?: number; timeout?: number }) {
    super();
  }
  plan(): string {
    return `cache = configure(cache, ${JSON.stringify(this.options)})`;
  }
  exec(m: CacheModel, r: Real): void {
    step(r, "configure()", (c) => configure(c, this.options), (x) => x);
    m.configure(this.options);
  }
}

function checkLookup(
  m: CacheModel,
  r: Real,
  what: string,
  result: ReturnType<typeof lookup>,
  expected: ModelLookup,
): void {
  assert.equal(result.outcome, expected.outcome, `${what}.outcome`);
  assert.equal(result.consultExternal, expected.consultExternal, `${what}.consultExternal`);
  r.reg.expect(
    result.session,
    expected.session,
    `${what}.session`,
    expected.session !== undefined && m.insertedThisOp(expected.session),
  );
  r.reg.expectRemovals(
    result.removed,
    expected.removed,
    `${what}.removed`,
    (s) => m.insertedThisOp(s),
  );
}

class Lookup extends Base {
  constructor(readonly target: LookupTarget, readonly now: number, readonly external: External) {
    super();
  }
  plan(): string {
    return `lookup(cache, ${JSON.stringify(this.target)}, now ${this.now}, external ${
      JSON.stringify(this.external)
    })`;
  }
  exec(m: CacheModel, r: Real): void {
    const cached = this.target.kind === "cached"
      ? pickCached(m, r, this.target.pick)?.handle
      : undefined;
    const built = buildRequest(this.target, cached);
    const request = built.request;
    const now = this.now;
    const reqText = `{ ${built.text} }`;
    const mreq = built.model(now);
    this.text = `r = lookup(cache, ${reqText}, { now: ${now} }); cache = r.cache`;
    const first = step(r, "lookup()", (c) => lookup(c, request, { now }), (x) => x.cache);
    checkLookup(m, r, "lookup()", first, m.lookup(mreq));
    if (!first.consultExternal) return;
    let ext: Session;
    if (this.external.kind === "handle" && r.reg.objects.length > 0) {
      ext = pickHandle(r, this.external.pick).obj;
    } else if (this.external.kind === "fresh") {
      const spec = this.external.sameKey
        ? { ...this.external.spec, id: built.id, version: built.version }
        : this.external.spec;
      ext = r.reg.fresh(spec);
    } else {
      return;
    }
    this.text += `; cache = resumeExternal(cache, ${
      ref(r, ext)
    }, { request: ${reqText}, now: ${now} }).cache`;
    m.beginOp();
    const second = step(
      r,
      "resumeExternal()",
      (c) => resumeExternal(c, ext, { request, now }),
      (x) => x.cache,
    );
    checkLookup(m, r, "resumeExternal()", second, m.resumeExternal(r.reg.handleOf(ext), mreq));
  }
}

class HandshakeStarted extends Base {
  constructor(readonly side: Side, readonly renegotiate: boolean | undefined) {
    super();
  }
  plan(): string {
    const opt = this.renegotiate === undefined ? "" : `, { renegotiate: ${this.renegotiate} }`;
    return `cache = handshakeStarted(cache, "${this.side}"${opt})`;
  }
  exec(m: CacheModel, r: Real): void {
    const options = this.renegotiate === undefined ? {} : { renegotiate: this.renegotiate };
    step(r, "handshakeStarted()", (c) => handshakeStarted(c, this.side, options), (x) => x);
    m.handshakeStarted(this.side, this.renegotiate ?? false);
  }
}

function resolveSession(m: CacheModel, r: Real, s: HandshakeSession): Session | undefined {
  switch (s.kind) {
    case "none":
      return undefined;
    case "fresh":
      return r.reg.fresh(s.spec);
    case "cached":
      return pickCached(m, r, s.pick)?.obj;
    case "handle":
      return r.reg.objects.length === 0 ? undefined : pickHandle(r, s.pick).obj;
  }
}

/** Runs `count` completed handshakes with one session; checks each result. */
function completeHandshakes(
  m: CacheModel,
  r: Real,
  h: {
    side: Side;
    session: Session | undefined;
    resumed: boolean;
    tls13: boolean | undefined;
    now: number;
  },
  count: number,
): void {
  for (let i = 0; i < count; i++) {
    if (i > 0) m.beginOp();
    const arg = {
      side: h.side,
      resumed: h.resumed,
      ...(h.session === undefined ? {} : { session: h.session }),
      ...(h.tls13 === undefined ? {} : { tls13: h.tls13 }),
    };
    const now = { now: h.now };
    // The full no-mutation check costs a snapshot: do it on the first and last calls.
    const result = i === 0 || i === count - 1
      ? step(r, "handshakeCompleted()", (c) => handshakeCompleted(c, arg, now), (x) => x.cache)
      : handshakeCompleted(r.cache, arg, now);
    r.cache = result.cache;
    const expected = m.handshakeCompleted({
      side: h.side,
      session: h.session === undefined ? undefined : r.reg.handleOf(h.session),
      resumed: h.resumed,
      tls13: h.tls13 ?? false,
      now: h.now,
    });
    const what = `handshakeCompleted() #${i + 1}`;
    r.reg.expect(
      result.newSession,
      expected.newSession,
      `${what}.newSession`,
      expected.newSession !== undefined && m.insertedThisOp(expected.newSession),
    );
    r.reg.expectRemovals(
      result.removed,
      expected.removed,
      `${what}.removed`,
      (s) => m.insertedThisOp(s),
    );
    r.reg.expectRemovals(
      result.flushed,
      expected.flushed,
      `${what}.flushed`,
      (s) => m.insertedThisOp(s),
    );
    sameStats(r.cache.stats, m.stats, `${what}: stats`);
  }
}

/** `handles[i] = { ... }; ` when the handshake made a fresh session. */
function freshText(r: Real, s: HandshakeSession, session: Session | undefined): string {
  return s.kind === "fresh" && session !== undefined
    ? `${ref(r, session)} = ${specSource(s.spec)}; `
    : "";
}

function handshakeText(
  r: Real,
  side: Side,
  s: Session | undefined,
  resumed: boolean,
  tls13: boolean | undefined,
  now: number,
): string {
  const parts = [`side: "${side}"`];
  if (s !== undefined) parts.push(`session: ${ref(r, s)}`);
  parts.push(`resumed: ${resumed}`);
  if (tls13 !== undefined) parts.push(`tls13: ${tls13}`);
  return `cache = handshakeCompleted(cache, { ${parts.join(", ")} }, { now: ${now} }).cache`;
}

class HandshakeCompleted extends Base {
  constructor(
    readonly side: Side,
    readonly session: HandshakeSession,
    readonly resumed: boolean,
    readonly tls13: boolean | undefined,
    readonly now: number,
  ) {
    super();
  }
  plan(): string {
    return `handshakeCompleted(${this.side}, ${
      JSON.stringify(this.session)
    }, resumed ${this.resumed}, tls13 ${this.tls13}, now ${this.now})`;
  }
  exec(m: CacheModel, r: Real): void {
    const session = resolveSession(m, r, this.session);
    this.text = freshText(r, this.session, session) +
      handshakeText(r, this.side, session, this.resumed, this.tls13, this.now);
    completeHandshakes(m, r, {
      side: this.side,
      session,
      resumed: this.resumed,
      tls13: this.tls13,
      now: this.now,
    }, 1);
  }
}

/** Many completed handshakes at once, to cross the 255 auto-flush boundary. */
class HandshakesBulk extends Base {
  constructor(
    readonly side: Side,
    readonly count: number,
    readonly session: HandshakeSession,
    readonly resumed: boolean,
    readonly tls13: boolean | undefined,
    readonly now: number,
  ) {
    super();
  }
  plan(): string {
    return `${this.count} x handshakeCompleted(${this.side}, ${
      JSON.stringify(this.session)
    }, resumed ${this.resumed}, now ${this.now})`;
  }
  exec(m: CacheModel, r: Real): void {
    const session = resolveSession(m, r, this.session);
    this.text = freshText(r, this.session, session) +
      `for (let i = 0; i < ${this.count}; i++) ${
        handshakeText(r, this.side, session, this.resumed, this.tls13, this.now)
      }`;
    completeHandshakes(
      m,
      r,
      { side: this.side, session, resumed: this.resumed, tls13: this.tls13, now: this.now },
      this.count,
    );
  }
}

// ---------------------------------------------------------------------------
// Arbitraries

const commandArbs: fc.Arbitrary<CoreCommand>[] = [
  fc.tuple(specArb, fc.option(nowArb, { freq: 8 })).map(([s, now]) =>
    new AddFresh(s, now ?? undefined)
  ),
  fc.tuple(specArb, nowArb).map(([s, now]) => new AddFresh(s, now)),
  fc.tuple(pickArb, nowArb).map(([p, now]) => new AddCached(p, now)),
  fc.tuple(pickArb, nowArb).map(([p, now]) => new AddHandle(p, now)),
  fc.tuple(pickArb, specArb, nowArb).map(([p, s, now]) => new AddSameKey(p, s, now)),
  fc.tuple(
    fc.constantFrom("cached" as const, "handle" as const, "fresh" as const),
    pickArb,
    specArb,
  ).map(
    ([k, p, s]) => new Remove(k, p, s),
  ),
  fc.tuple(flushKindArb, pickArb, nowArb).map(([k, p, v]) => new Flush(k, p, v)),
  setTargetArb.map((t) => new SetField(t)),
  fc.oneof(
    cacheSizeArb.map((cacheSize) => new Configure({ cacheSize })),
    modeArb.map((mode) => new Configure({ mode })),
    fc.record(
      { cacheSize: cacheSizeArb, mode: modeArb, timeout: fc.integer({ min: 0, max: 7200 }) },
      { requiredKeys: [] },
    ).map((o) => new Configure(o)),
  ),
  fc.tuple(lookupTargetArb, nowArb, externalArb).map(([t, now, e]) => new Lookup(t, now, e)),
  fc.tuple(sideArb, fc.constantFrom(undefined, false, true)).map(([s, re]) =>
    new HandshakeStarted(s, re)
  ),
  fc.tuple(sideArb, handshakeSessionArb, fc.boolean(), tls13Arb, nowArb).map(
    ([side, s, resumed, tls13, now]) => new HandshakeCompleted(side, s, resumed, tls13, now),
  ),
  fc.tuple(sideArb, bulkCountArb, handshakeSessionArb, fc.boolean(), tls13Arb, nowArb).map(
    ([side, count, s, resumed, tls13, now]) =>
      new HandshakesBulk(side, count, s, resumed, tls13, now),
  ),
];

type Initial = { cacheSize?: number; mode?: number } | undefined;

/** Any settings, or none (the defaults: size 20480, mode SERVER). */
const anySettingsArb: fc.Arbitrary<Initial> = fc.oneof(
  { weight: 1, arbitrary: fc.constant(undefined) },
  {
    weight: 4,
    arbitrary: fc.record({ cacheSize: cacheSizeArb, mode: modeArb }, { requiredKeys: [] }),
  },
);

/** Small caches: nearly every add evicts. */
const smallCacheArb: fc.Arbitrary<Initial> = fc.record({
  cacheSize: fc.integer({ min: 1, max: 5 }),
  mode: fc.constantFrom(SERVER, CLIENT | SERVER),
});

/** The flags: UPDATE_TIME, NO_INTERNAL_LOOKUP / _STORE, NO_AUTO_CLEAR, on either side. */
const flagModesArb: fc.Arbitrary<Initial> = fc.record({
  cacheSize: fc.constantFrom(0, 3, 6),
  mode: fc.tuple(
    fc.integer({ min: 0, max: 3 }),
    fc.subarray([NO_AUTO_CLEAR, NO_INTERNAL_LOOKUP, NO_INTERNAL_STORE, UPDATE_TIME], {
      minLength: 1,
    }),
  ).map(([side, flags]) => flags.reduce((m, f) => m | f, side)),
});

function agreesWithModel(initialArb: fc.Arbitrary<Initial>, numRuns: number): void {
  fc.assert(
    fc.property(
      initialArb,
      fc.commands(commandArbs, fcCommandsConstraints({ size: "+1" })),
      (initial, cmds) => {
        fc.modelRun(() => {
          runNumber++;
          const model = new CacheModel(initial ?? {});
          const cache = initial === undefined ? createCacheState() : createCacheState(initial);
          const real: Real = {
            cache,
            reg: new Registry(model),
            counters: countersOf(cache),
            held: [],
          };
          model.beginOp();
          checkInvariants(model, real);
          return { model, real };
        }, cmds);
      },
    ),
    { ...fcParams({ numRuns }), includeErrorInReport: true },
  );
}

// ---------------------------------------------------------------------------

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
if (env?.MODEL_COVERAGE) {
  globalThis.addEventListener?.("unload", () => printCoverage());
  (globalThis as { process?: { on?: (e: string, f: () => void) => void } }).process?.on?.(
    "exit",
    printCoverage,
  );
}
let printed = false;
function printCoverage(): void {
  if (printed) return;
  printed = true;
  console.log([...coverage].sort().map(([k, v]) => `${String(v).padStart(8)}  ${k}`).join("\n"));
}

// Run counts: 800 sequences of up to ~100 commands, 5-9 s per runtime on 2 cores. Raise them
// for a soak with FC_NUM_RUNS (see README); Bun's default 5 s per-test limit is lifted for that.
const SOAK = { timeout: 10 * 60 * 1000 };

describe("pure core (core.ts) against the naive model", () => {
  it("agrees with the model after every command (any settings)", SOAK, () => {
    agreesWithModel(anySettingsArb, 300);
  });
  it("agrees with the model after every command (small caches: sizes 1 to 5)", SOAK, () => {
    agreesWithModel(smallCacheArb, 300);
  });
  it(
    "agrees with the model after every command (UPDATE_TIME, NO_INTERNAL_*, NO_AUTO_CLEAR)",
    SOAK,
    () => {
      agreesWithModel(flagModesArb, 200);
    },
  );
});
