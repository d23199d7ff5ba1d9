/**
 * Model-based suite: random command sequences run against the imperative
 * shell (`SessionCache`, with an injected clock) and the naive model in
 * `tests/_model.ts`. Commands also move the clock, switch the callbacks to
 * throwing, and (in some runs) answer lookups from an external cache,
 * synchronously or through a Promise. After every command: return values,
 * the callbacks received (in order, with their arguments, after the state
 * was committed), the error rethrown, the counters, the iteration order and
 * `get()` for every key.
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
  type CacheState,
  type RemovalReason,
  SessionCache,
  type SessionLookup,
} from "../../mod.ts";
import { sessions } from "../../core.ts";
import type { Session } from "../../mod.ts";
import { fcCommandsConstraints, fcParams } from "../_fc.ts";
import { checkState, countersOf } from "../_check.ts";
import { CURRENT_STATE } from "../../src/shell/_internals.ts";
import {
  ALL_KEYS,
  at,
  buildRequest,
  bulkCountArb,
  CacheModel,
  cacheSizeArb,
  coverage,
  type External,
  fieldsOf,
  type FlushKind,
  flushKindArb,
  flushTime,
  type HandshakeSession,
  handshakeSessionArb,
  hex,
  hexKey,
  keyOf,
  type LookupTarget,
  lookupTargetArb,
  modeArb,
  modelExpiry,
  type ModelLookup,
  type ModelRemoval,
  type ModelSession,
  NO_INTERNAL_LOOKUP,
  nowArb,
  pickArb,
  type Reason,
  Registry,
  resolveSetTarget,
  sameStats,
  type SessionSpec,
  type SetTarget,
  setTargetArb,
  shellExternalArb,
  type Side,
  sideArb,
  specArb,
  specSource,
  tls13Arb,
} from "../_model.ts";

type StoreMode = "none" | "sync" | "async";

/** One callback call the shell made. */
interface Call {
  readonly kind: "remove" | "new";
  readonly session: Session;
  /** Its second argument. */
  readonly cache: SessionCache;
  /** `cache.size` when it ran: the state must already be committed. */
  readonly size: number;
  /** A remove callback's third argument. */
  readonly reason: RemovalReason | undefined;
  /** The error it threw, if it was told to. */
  readonly thrown: Error | undefined;
}

/** One callback call the model expects. */
interface Expected {
  readonly kind: "remove" | "new";
  readonly session: ModelSession;
  /** Where the callback must receive this very object (remove's argument). */
  readonly object?: Session;
  /** Why a session was removed (remove callbacks only). */
  readonly reason?: Reason;
}

interface Real {
  readonly cache: SessionCache;
  readonly clock: { now: number };
  readonly reg: Registry;
  readonly storeMode: StoreMode;
  /** Callback calls of the current command. */
  calls: Call[];
  /** Throw from every n-th callback call (counted over the run); 0: never. */
  throwEvery: number;
  callCount: number;
  /** What getSession answers next; set by the lookup commands. */
  answer: External;
  /** Seconds getSession takes: it moves the clock on by this much. */
  latency: number;
  /** The session object getSession handed out for the current lookup. */
  answered: Session | undefined;
  getSessionCalls: SessionLookup[];
  errors: unknown[];
  /** Remove callbacks seen so far, by reason: `cache.removals` must match. */
  removalTally: Record<RemovalReason, number>;
  /** The counters after the last command (they only grow). */
  counters: Float64Array;
  /** Values handed out (`cache.state`) and what they held: they must never change. */
  readonly held: { readonly state: CacheState; readonly text: string }[];
}

/** What a value holds, as text. */
function heldText(state: CacheState): string {
  return JSON.stringify({
    size: state.size,
    cacheSize: state.cacheSize,
    mode: state.mode,
    stats: state.stats,
    sessions: [...sessions(state)].map(fieldsOf),
  });
}

type ShellCommand = fc.AsyncCommand<CacheModel, Real>;

// ---------------------------------------------------------------------------
// Checks

function checkInvariants(m: CacheModel, r: Real): void {
  const c = r.cache;
  // Every numbered invariant of src/core/, on the cache's value as it is (not handed out).
  const current = CURRENT_STATE.get(c)!();
  checkState(current, r.counters);
  r.counters = countersOf(current);
  for (const h of r.held) {
    assert.equal(heldText(h.state), h.text, "a value handed out earlier still reads as it did");
  }
  const list = [...c];
  assert.equal(c.size, list.length, "size === number of sessions iterated");
  sameStats(c.stats, m.stats, "stats");
  assert.equal(c.cacheSize, m.cacheSize, "cacheSize");
  assert.equal(c.mode, m.mode, "mode");
  assert.equal(c.timeout, m.timeout, "timeout");
  const viaState = [...sessions(c.state)];
  assert.ok(
    viaState.length === list.length && viaState.every((s, i) => s === list[i]),
    "[...cache] === sessions(cache.state)",
  );
  for (let i = 1; i < list.length; i++) {
    assert.ok(
      modelExpiry(at(list, i - 1)) <= modelExpiry(at(list, i)),
      "iteration is sorted by expiry, soonest first",
    );
  }
  r.reg.expectList(list, m.tailToHead(), "[...cache]", (s) => m.insertedThisOp(s));
  assert.deepEqual(c.removals, r.removalTally, "removals counts every remove callback by reason");
  const byKey = new Map(list.map((s) => [keyOf(fieldsOf(s)), s]));
  for (const { id, version } of ALL_KEYS) {
    const key = hexKey(id, version);
    const got = c.get(new Uint8Array([id]), { version });
    assert.equal(got, byKey.get(key), `get(${key}) returns the iterated object`);
    assert.equal(got === undefined, m.get(key) === undefined, `get(${key}) presence`);
    if (version === 0) {
      assert.equal(c.get(new Uint8Array([id])), got, "get() without version means version 0");
    }
  }
}

/**
 * Runs one shell call and checks the callbacks it made against `expected`
 * (which the model computes after the call, from the same inputs), and that
 * it threw the first callback error, if any.
 */
async function act<T>(
  r: Real,
  call: () => T | Promise<T>,
): Promise<{ value: T | undefined; error: unknown; threw: boolean }> {
  r.calls = [];
  try {
    return { value: await call(), error: undefined, threw: false };
  } catch (error) {
    return { value: undefined, error, threw: true };
  }
}

function checkCalls(
  m: CacheModel,
  r: Real,
  what: string,
  outcome: { error: unknown; threw: boolean },
  expected: readonly Expected[],
): void {
  const got = r.calls;
  assert.equal(
    got.map((c) => c.kind).join(","),
    expected.map((e) => e.kind).join(","),
    `${what}: callbacks made`,
  );
  for (let i = 0; i < got.length; i++) {
    const c = at(got, i);
    const e = at(expected, i);
    r.reg.expect(
      c.session,
      e.session,
      `${what}: callback ${i} (${c.kind})`,
      m.insertedThisOp(e.session),
    );
    if (e.object !== undefined) {
      assert.equal(c.session, e.object, `${what}: callback ${i} receives the argument itself`);
    }
    assert.equal(c.cache, r.cache, `${what}: callback ${i} receives the cache`);
    assert.equal(c.reason, e.reason, `${what}: callback ${i} (${c.kind}) receives the reason`);
    assert.equal(
      c.size,
      r.cache.size,
      `${what}: callback ${i} runs after the new state is committed`,
    );
  }
  const firstThrown = got.find((c) => c.thrown !== undefined)?.thrown;
  if (firstThrown !== undefined) {
    tally(
      got.filter((c) => c.thrown !== undefined).length > 1
        ? "several callbacks threw"
        : "a callback threw",
    );
    assert.ok(outcome.threw, `${what}: a callback threw, the call must rethrow`);
    assert.equal(outcome.error, firstThrown, `${what}: rethrows the first callback error`);
  } else if (outcome.threw) {
    throw outcome.error;
  }
}

function tally(event: string): void {
  coverage.set(event, (coverage.get(event) ?? 0) + 1);
}

function removes(list: readonly ModelRemoval[]): Expected[] {
  return list.map(({ session, reason }) => ({ kind: "remove" as const, session, reason }));
}

// ---------------------------------------------------------------------------
// Commands

/**
 * Each model run gets a number; the last run that failed is the minimal
 * counterexample fast-check reports (the shrink attempts after it pass). A
 * command prints the call it made in that run: the same command object also
 * runs in other attempts, where its picks may resolve differently.
 */
let runNumber = 0;
let failedRun = -1;

abstract class Base implements ShellCommand {
  /** Filled in by exec(): the call as it was made. */
  protected text = "";
  readonly #texts = new Map<number, string>();
  check(_m: Readonly<CacheModel>): boolean {
    return true;
  }
  async run(m: CacheModel, r: Real): Promise<void> {
    this.text = "";
    try {
      m.beginOp();
      await this.exec(m, r);
      checkInvariants(m, r);
    } catch (e) {
      failedRun = runNumber;
      throw e;
    } finally {
      this.#texts.set(runNumber, this.text);
    }
  }
  protected abstract exec(m: CacheModel, r: Real): Promise<void>;
  protected abstract plan(): string;
  toString(): string {
    return this.#texts.get(failedRun) || this.plan();
  }
}

function ref(r: Real, s: Session): string {
  return `handles[${r.reg.objects.indexOf(s)}]`;
}

function cachedAt(r: Real, pick: number): Session | undefined {
  const list = [...r.cache];
  return list.length === 0 ? undefined : at(list, pick % list.length);
}

function handleAt(r: Real, pick: number): Session | undefined {
  return r.reg.objects.length === 0 ? undefined : at(r.reg.objects, pick % r.reg.objects.length);
}

class Clock extends Base {
  constructor(readonly kind: "advance" | "set", readonly value: number) {
    super();
  }
  plan(): string {
    return this.kind === "advance" ? `clock += ${this.value}` : `clock = ${this.value}`;
  }
  exec(_m: CacheModel, r: Real): Promise<void> {
    r.clock.now = this.kind === "advance" ? r.clock.now + this.value : this.value;
    this.text = `clock = ${r.clock.now}`;
    return Promise.resolve();
  }
}

/**
 * Hands the cache's value out (`cache.state`) and holds it: from now on the cache records its
 * changes, and the held value must read as it did after every later command.
 */
class HoldState extends Base {
  plan(): string {
    return "held.push(cache.state)";
  }
  exec(_m: CacheModel, r: Real): Promise<void> {
    const state = r.cache.state;
    this.text = "held.push(cache.state)";
    r.held.push({ state, text: heldText(state) });
    if (r.held.length > 3) r.held.shift();
    return Promise.resolve();
  }
}

class SetThrowing extends Base {
  constructor(readonly every: number) {
    super();
  }
  plan(): string {
    return this.every === 0
      ? "/* callbacks stop throwing */"
      : `/* every ${this.every}. callback call throws */`;
  }
  exec(_m: CacheModel, r: Real): Promise<void> {
    r.throwEvery = this.every;
    return Promise.resolve();
  }
}

async function doAdd(m: CacheModel, r: Real, obj: Session): Promise<void> {
  const out = await act(r, () => r.cache.add(obj));
  const expected = m.add(r.reg.handleOf(obj), r.clock.now);
  checkCalls(m, r, "add()", out, removes(expected.removed));
  if (!out.threw) assert.equal(out.value, expected.added, "add() returns");
  if (expected.added && m.cacheSize > 0) {
    assert.ok(
      r.cache.size <= Math.max(1, m.cacheSize - 1),
      "an add leaves at most max(1, cacheSize - 1)",
    );
  }
}

class Add extends Base {
  constructor(
    readonly kind: "fresh" | "cached" | "handle" | "sameKey",
    readonly pick: number,
    readonly spec: SessionSpec,
  ) {
    super();
  }
  override check(m: Readonly<CacheModel>): boolean {
    return this.kind === "fresh" ||
      (this.kind === "handle" ? m.handles.length > 0 : m.list.length > 0);
  }
  plan(): string {
    return `cache.add(<${this.kind} ${this.pick} ${specSource(this.spec)}>)`;
  }
  async exec(m: CacheModel, r: Real): Promise<void> {
    let obj: Session;
    if (this.kind === "fresh" || this.kind === "sameKey") {
      const target = this.kind === "sameKey" ? r.reg.handleOf(cachedAt(r, this.pick)!) : undefined;
      const spec = target === undefined
        ? this.spec
        : { ...this.spec, id: parseInt(target.id, 16), version: target.version };
      obj = r.reg.fresh(spec);
      this.text = `cache.add(${ref(r, obj)} = ${specSource(spec)})`;
    } else {
      obj = (this.kind === "cached" ? cachedAt(r, this.pick) : handleAt(r, this.pick))!;
      this.text = `cache.add(${ref(r, obj)})`;
    }
    await doAdd(m, r, obj);
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
    return `cache.remove(<${this.kind} ${this.pick}>)`;
  }
  async exec(m: CacheModel, r: Real): Promise<void> {
    const obj = this.kind === "fresh"
      ? r.reg.fresh(this.spec)
      : (this.kind === "cached" ? cachedAt(r, this.pick) : handleAt(r, this.pick))!;
    this.text = `cache.remove(${ref(r, obj)}${
      this.kind === "fresh" ? ` = ${specSource(this.spec)}` : ""
    })`;
    const out = await act(r, () => r.cache.remove(obj));
    const expected = m.remove(r.reg.handleOf(obj));
    checkCalls(m, r, "remove()", out, [{
      kind: "remove",
      session: r.reg.handleOf(obj),
      object: obj,
      reason: "removed",
    }]);
    if (!out.threw) assert.equal(out.value, expected.found, "remove() returns");
  }
}

class Flush extends Base {
  constructor(readonly kind: FlushKind | "default", readonly pick: number, readonly value: number) {
    super();
  }
  plan(): string {
    return `cache.flush(<${this.kind} ${this.pick} ${this.value}>)`;
  }
  async exec(m: CacheModel, r: Real): Promise<void> {
    // flush() without a time flushes at whole seconds, as OpenSSL's callers pass time(NULL).
    const tm = this.kind === "default"
      ? Math.floor(r.clock.now)
      : flushTime(m, this.kind, this.pick, this.value);
    this.text = this.kind === "default" ? `cache.flush() /* now ${tm} */` : `cache.flush(${tm})`;
    const out = await act(r, () => this.kind === "default" ? r.cache.flush() : r.cache.flush(tm));
    const expected = m.flush(tm);
    checkCalls(m, r, "flush()", out, removes(expected));
    if (!out.threw) {
      r.reg.expectList(out.value!, expected.map((e) => e.session), "flush() returns", () => false);
    }
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
  async exec(m: CacheModel, r: Real): Promise<void> {
    const { field, omitVersion } = this.target;
    const { id, version, value } = resolveSetTarget(m, this.target);
    const options = version === 0 && omitVersion ? undefined : { version };
    const fn = field === "time" ? "setTime" : "setTimeout";
    this.text = `cache.${fn}(new Uint8Array([${id}]), ${value}${
      options ? `, { version: 0x${version.toString(16)} }` : ""
    })`;
    const idBytes = new Uint8Array([id]);
    const out = await act(
      r,
      () =>
        field === "time"
          ? r.cache.setTime(idBytes, value, options)
          : r.cache.setTimeout(idBytes, value, options),
    );
    const key = hexKey(id, version);
    const expected = field === "time" ? m.setTime(key, value) : m.setTimeout(key, value);
    checkCalls(m, r, fn, out, []);
    assert.equal(out.value, expected !== undefined, `${fn}() returns`);
  }
}

class SetOption extends Base {
  constructor(readonly name: "cacheSize" | "mode" | "timeout", readonly value: number) {
    super();
  }
  plan(): string {
    return `cache.${this.name} = ${
      this.name === "mode" ? `0x${this.value.toString(16)}` : this.value
    }`;
  }
  async exec(m: CacheModel, r: Real): Promise<void> {
    const out = await act(r, () => {
      r.cache[this.name] = this.value;
    });
    m.configure({ [this.name]: this.value });
    checkCalls(m, r, this.name, out, []);
  }
}

/** Lookups: `lookup()` (awaited) or `lookupSync()`, with what getSession answers. */
class Lookup extends Base {
  constructor(
    readonly sync: boolean,
    readonly target: LookupTarget,
    readonly external: External,
    readonly latency: number,
  ) {
    super();
  }
  plan(): string {
    return `cache.lookup${this.sync ? "Sync" : ""}(${JSON.stringify(this.target)}) /* external ${
      JSON.stringify(this.external)
    } */`;
  }
  async exec(m: CacheModel, r: Real): Promise<void> {
    const cachedObj = this.target.kind === "cached" ? cachedAt(r, this.target.pick) : undefined;
    const built = buildRequest(
      this.target,
      cachedObj === undefined ? undefined : r.reg.handleOf(cachedObj),
    );
    const mreq = built.model(r.clock.now);
    // What getSession will answer (made now so it can be printed).
    let answer = this.external;
    if (answer.kind === "handle" && r.reg.objects.length === 0) answer = { kind: "none" };
    r.answer = answer;
    r.latency = this.latency;
    r.answered = undefined;
    r.getSessionCalls = [];
    r.errors = [];
    const fn = this.sync ? "lookupSync" : "lookup";
    this.text = `${
      this.sync ? "" : "await "
    }cache.${fn}({ ${built.text} }) /* now ${r.clock.now}, getSession: ${
      r.storeMode === "none" ? "none" : JSON.stringify(answer)
    }${this.latency > 0 ? `, which takes ${this.latency} s` : ""} */`;
    const out = await act(
      r,
      () => this.sync ? r.cache.lookupSync(built.request) : r.cache.lookup(built.request),
    );

    // The model: internal step, then (if asked) the external cache.
    const consult = (m.mode & NO_INTERNAL_LOOKUP) !== 0 || m.get(keyOf(mreq)) === undefined;
    const asked = consult && r.storeMode !== "none";
    assert.equal(
      r.getSessionCalls.length,
      asked ? 1 : 0,
      `${fn}: getSession asked ${asked ? "once" : "never"}`,
    );
    if (asked && this.sync && r.storeMode === "async") {
      // lookupSync refuses a Promise before committing anything: the cache is as it was.
      assert.ok(
        out.threw && out.error instanceof TypeError,
        `${fn} with an async getSession throws a TypeError`,
      );
      tally("lookupSync refuses a Promise");
      assert.equal(r.calls.length, 0, "no callbacks");
      // The refused Promise is still handled: a rejection reaches onError.
      await Promise.resolve();
      assert.equal(
        r.errors.length,
        answer.kind === "throws" ? 1 : 0,
        "onError hears of the refused Promise's rejection, and of nothing else",
      );
      return;
    }
    const first = m.lookup(mreq);
    assert.equal(first.consultExternal, consult);
    const expectedCalls = removes(first.removed);
    let final: ModelLookup = first;
    let expectedErrors = 0;
    if (asked) {
      const q = at(r.getSessionCalls, 0);
      assert.equal(hex(q.id), mreq.id, "getSession gets the id");
      assert.equal(q.version, mreq.version, "getSession gets the version (0 when absent)");
      assert.equal(q.sidCtx, built.request.sidCtx, "getSession gets the request's sidCtx");
      tally(`getSession asked (${r.storeMode}, ${answer.kind})`);
      if (answer.kind === "throws" || answer.kind === "invalid") {
        expectedErrors = 1;
      } else if (r.answered !== undefined) {
        // A session for another id is refused, and reported to onError.
        const answered = r.answered as Session;
        if (hex(answered.id) !== mreq.id) expectedErrors = 1;
        m.beginOp();
        // OpenSSL reads the time again after get_session_cb (expiry check, UPDATE_TIME).
        final = m.resumeExternal(r.reg.handleOf(r.answered), built.model(r.clock.now));
        expectedCalls.push(...removes(final.removed));
      }
    }
    checkCalls(m, r, fn, out, expectedCalls);
    assert.equal(
      r.errors.length,
      expectedErrors,
      "onError hears of a failing getSession, and only of it",
    );
    if (!out.threw) {
      r.reg.expect(
        out.value as Session | undefined,
        final.session,
        `${fn}() returns`,
        final.session !== undefined && m.insertedThisOp(final.session),
      );
    }
  }
}

class HandshakeStarted extends Base {
  constructor(readonly side: Side, readonly renegotiate: boolean | undefined) {
    super();
  }
  plan(): string {
    return `cache.handshakeStarted("${this.side}"${
      this.renegotiate === undefined ? "" : `, { renegotiate: ${this.renegotiate} }`
    })`;
  }
  async exec(m: CacheModel, r: Real): Promise<void> {
    const out = await act(
      r,
      () =>
        this.renegotiate === undefined
          ? r.cache.handshakeStarted(this.side)
          : r.cache.handshakeStarted(this.side, { renegotiate: this.renegotiate }),
    );
    m.handshakeStarted(this.side, this.renegotiate ?? false);
    checkCalls(m, r, "handshakeStarted", out, []);
  }
}

function resolveSession(r: Real, s: HandshakeSession): Session | undefined {
  switch (s.kind) {
    case "none":
      return undefined;
    case "fresh":
      return r.reg.fresh(s.spec);
    case "cached":
      return cachedAt(r, s.pick);
    case "handle":
      return handleAt(r, s.pick);
  }
}

class HandshakeCompleted extends Base {
  constructor(
    readonly side: Side,
    readonly session: HandshakeSession,
    readonly resumed: boolean,
    readonly tls13: boolean | undefined,
    readonly count: number,
  ) {
    super();
  }
  plan(): string {
    return `${this.count} x cache.handshakeCompleted(${this.side}, ${
      JSON.stringify(this.session)
    }, resumed ${this.resumed}, tls13 ${this.tls13})`;
  }
  async exec(m: CacheModel, r: Real): Promise<void> {
    const session = resolveSession(r, this.session);
    const arg = {
      side: this.side,
      resumed: this.resumed,
      ...(session === undefined ? {} : { session }),
      ...(this.tls13 === undefined ? {} : { tls13: this.tls13 }),
    };
    const parts = [`side: "${this.side}"`];
    if (session !== undefined) parts.push(`session: ${ref(r, session)}`);
    parts.push(`resumed: ${this.resumed}`);
    if (this.tls13 !== undefined) parts.push(`tls13: ${this.tls13}`);
    const call = `cache.handshakeCompleted({ ${parts.join(", ")} }) /* now ${r.clock.now} */`;
    const fresh = this.session.kind === "fresh" && session !== undefined
      ? `${ref(r, session)} = ${specSource(this.session.spec)}; `
      : "";
    this.text = fresh +
      (this.count === 1 ? call : `for (let i = 0; i < ${this.count}; i++) ${call}`);
    for (let i = 0; i < this.count; i++) {
      if (i > 0) m.beginOp();
      const what = `handshakeCompleted() #${i + 1}`;
      const out = await act(r, () => r.cache.handshakeCompleted(arg));
      const e = m.handshakeCompleted({
        side: this.side,
        session: session === undefined ? undefined : r.reg.handleOf(session),
        resumed: this.resumed,
        tls13: this.tls13 ?? false,
        now: r.clock.now,
      });
      // OpenSSL's order: evictions (or a TLS 1.3 client's removal), new_session_cb, auto-flush.
      const calls: Expected[] = removes(e.removed);
      if (
        e.removed.length === 1 && this.side === "client" && this.tls13 === true &&
        session !== undefined
      ) {
        calls[0] = {
          kind: "remove",
          session: r.reg.handleOf(session),
          object: session,
          reason: "removed",
        };
      }
      if (e.newSession !== undefined) calls.push({ kind: "new", session: e.newSession });
      calls.push(...removes(e.flushed));
      checkCalls(m, r, what, out, calls);
      if (this.count > 1) sameStats(r.cache.stats, m.stats, `${what}: stats`);
    }
  }
}

// ---------------------------------------------------------------------------
// Arbitraries

const specOrPick = fc.tuple(pickArb, specArb);
const latencyArb = fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, {
  weight: 1,
  arbitrary: fc.integer({ min: 1, max: 4 }),
});

function commandArbs(): fc.Arbitrary<ShellCommand>[] {
  const syncLookup = [true, false];
  return [
    fc.oneof(
      { weight: 4, arbitrary: fc.integer({ min: 0, max: 6 }).map((v) => new Clock("advance", v)) },
      { weight: 1, arbitrary: nowArb.map((v) => new Clock("set", v)) },
    ),
    fc.constantFrom(0, 0, 1, 2, 3).map((n) => new SetThrowing(n)),
    fc.constant(null).map(() => new HoldState()),
    specOrPick.map(([p, s]) => new Add("fresh", p, s)),
    specOrPick.map(([p, s]) => new Add("fresh", p, s)),
    fc.tuple(fc.constantFrom("cached" as const, "handle" as const, "sameKey" as const), specOrPick)
      .map(
        ([k, [p, s]]) => new Add(k, p, s),
      ),
    fc.tuple(fc.constantFrom("cached" as const, "handle" as const, "fresh" as const), specOrPick)
      .map(
        ([k, [p, s]]) => new Remove(k, p, s),
      ),
    fc.tuple(fc.oneof(flushKindArb, fc.constant("default" as const)), pickArb, nowArb).map(
      ([k, p, v]) => new Flush(k, p, v),
    ),
    setTargetArb.map((t) => new SetField(t)),
    fc.oneof(
      cacheSizeArb.map((v) => new SetOption("cacheSize", v)),
      modeArb.map((v) => new SetOption("mode", v)),
      fc.integer({ min: 0, max: 7200 }).map((v) => new SetOption("timeout", v)),
    ),
    fc.tuple(fc.constantFrom(...syncLookup), lookupTargetArb, shellExternalArb, latencyArb).map(
      ([sync, t, e, latency]) => new Lookup(sync, t, e, latency),
    ),
    fc.tuple(fc.constantFrom(...syncLookup), lookupTargetArb, shellExternalArb, latencyArb).map(
      ([sync, t, e, latency]) => new Lookup(sync, t, e, latency),
    ),
    fc.tuple(sideArb, fc.constantFrom(undefined, false, true)).map(([s, re]) =>
      new HandshakeStarted(s, re)
    ),
    fc.tuple(sideArb, handshakeSessionArb, fc.boolean(), tls13Arb).map(
      ([side, s, resumed, tls13]) => new HandshakeCompleted(side, s, resumed, tls13, 1),
    ),
    fc.tuple(sideArb, handshakeSessionArb, fc.boolean(), tls13Arb, bulkCountArb).map(
      ([side, s, resumed, tls13, n]) => new HandshakeCompleted(side, s, resumed, tls13, n),
    ),
  ];
}

function setup(
  storeMode: StoreMode,
  options: { cacheSize?: number; mode?: number },
  start: number,
) {
  return (): { model: CacheModel; real: Real } => {
    runNumber++;
    const model = new CacheModel({ ...options, resumability: true });
    const clock = { now: start };
    const reg = new Registry(model);
    // The callbacks and getSession close over `real`, filled in below.
    // deno-lint-ignore prefer-const
    let real: Real;
    const record =
      (kind: "remove" | "new") =>
      (session: Session, cache: SessionCache, reason?: RemovalReason): void => {
        real.callCount++;
        const thrown = real.throwEvery > 0 && real.callCount % real.throwEvery === 0
          ? new Error(`callback call ${real.callCount} throws`)
          : undefined;
        real.calls.push({ kind, session, cache, size: cache.size, reason, thrown });
        if (reason !== undefined) real.removalTally[reason]++;
        if (thrown !== undefined) throw thrown;
      };
    const answer = (request: SessionLookup): Session | undefined => {
      real.getSessionCalls.push(request);
      clock.now += real.latency;
      const a = real.answer;
      switch (a.kind) {
        case "none":
          return undefined;
        case "throws":
          throw new Error("getSession failed");
        case "invalid":
          return { id: new Uint8Array(0), time: 0, timeout: 1 };
        case "handle":
          real.answered = at(real.reg.objects, a.pick % real.reg.objects.length);
          return real.answered;
        case "fresh": {
          const spec = a.sameKey
            ? { ...a.spec, id: at([...request.id], 0), version: request.version ?? 0 }
            : a.spec;
          real.answered = real.reg.fresh(spec);
          return real.answered;
        }
      }
    };
    const getSession = storeMode === "none"
      ? undefined
      : storeMode === "sync"
      ? answer
      : (request: SessionLookup) => {
        try {
          return Promise.resolve(answer(request));
        } catch (e) {
          return Promise.reject(e);
        }
      };
    const cache = new SessionCache({
      ...options,
      now: () => clock.now,
      onRemoveSession: record("remove"),
      onNewSession: record("new"),
      onError: (e) => real.errors.push(e),
      ...(getSession === undefined ? {} : { getSession }),
    });
    real = {
      cache,
      clock,
      reg,
      storeMode,
      calls: [],
      throwEvery: 0,
      callCount: 0,
      answer: { kind: "none" },
      latency: 0,
      answered: undefined,
      getSessionCalls: [],
      errors: [],
      removalTally: { expired: 0, evicted: 0, removed: 0, cleared: 0 },
      counters: new Float64Array(11),
      held: [],
    };
    model.beginOp();
    checkInvariants(model, real);
    return { model, real };
  };
}

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
if (env?.MODEL_COVERAGE) {
  (globalThis as { process?: { on?: (e: string, f: () => void) => void } }).process?.on?.(
    "exit",
    () => {
      console.log(
        [...coverage].sort().map(([k, v]) => `${String(v).padStart(8)}  ${k}`).join("\n"),
      );
    },
  );
}

// ---------------------------------------------------------------------------

// Run counts: 3 x 120 sequences of up to ~100 commands, 4-10 s per runtime on 2 cores. Raise
// them for a soak with FC_NUM_RUNS (see README); Bun's default 5 s per-test limit is lifted.
const SOAK = { timeout: 10 * 60 * 1000 };

describe("SessionCache (session_cache.ts) against the naive model", () => {
  for (const storeMode of ["none", "sync", "async"] as const) {
    const title = storeMode === "none"
      ? "agrees with the model after every command (no external cache)"
      : `agrees with the model after every command (${storeMode} getSession)`;
    it(title, SOAK, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.record(
            { cacheSize: cacheSizeArb, mode: modeArb, clock: fc.integer({ min: 1, max: 12 }) },
            { requiredKeys: ["clock"] },
          ),
          fc.commands(commandArbs(), fcCommandsConstraints({ size: "+1" })),
          async ({ clock, ...options }, cmds) => {
            await fc.asyncModelRun(setup(storeMode, options, clock), cmds);
          },
        ),
        { ...fcParams({ numRuns: 120 }), includeErrorInReport: true },
      );
    });
  }
});
