// This module is browser compatible.

/**
 * The explorer's state and step logic, over the public core only: a frame is
 * one moment (the core's `CacheState`, the current time, the session objects
 * seen so far); applying a step to a frame runs the core and records what it
 * returned; a history is the list of frames the steps went through.
 *
 * Nothing here mutates: the core's values are immutable, so an old frame is
 * still exactly what it was, and going back in time is reading an older
 * entry, not undoing. Errors the core throws on bad input are caught and
 * recorded as the step's outcome, with the frame left as it was.
 *
 * @module
 */

import * as core from "../core.ts";
import { explain, type Explanation } from "./explain.ts";
import {
  type AddStep,
  bytesOf,
  type ClockStep,
  type FlushStep,
  type HandshakeStep,
  type KeyFields,
  keyString,
  type LookupStep,
  type ModeStep,
  type ReaddStep,
  type RemoveStep,
  type SetTimeoutStep,
  type SetTimeStep,
  type SizeStep,
  type Step,
  type TimeoutStep,
} from "./steps.ts";

/** One moment of the explorer: the cache value, the clock, and the session objects seen. */
export interface Frame {
  /** The core's cache value. */
  readonly cache: core.CacheState;
  /** The current time in seconds (what OpenSSL would read from its clock). */
  readonly now: number;
  /**
   * The latest session object seen under each key (`keyString`): cached,
   * or removed by an earlier step. Re-add and remove use it, as OpenSSL's
   * callers hold on to their `SSL_SESSION` pointers.
   */
  readonly known: ReadonlyMap<string, core.Session>;
}

/** The time the explorer starts at. */
export const START_TIME = 1000;

/** The frame before any step: OpenSSL's defaults (size 20480, mode SERVER, timeout 7200). */
export function initialFrame(): Frame {
  return { cache: core.createCacheState(), now: START_TIME, known: new Map() };
}

/** What one run of `handshakeStarted` + `handshakeCompleted` returned. */
export interface HandshakeRun {
  /** The session the handshake made or resumed. */
  readonly session: core.Session;
  /** The side's good counter before this handshake counted (what the auto-flush reads). */
  readonly goodBefore: number;
  /** The core's result. */
  readonly result: core.HandshakeResult;
}

/** What applying a step produced: the step and the core's own result objects, per operation. */
export type Outcome =
  | { readonly kind: "clock"; readonly step: ClockStep }
  | {
    readonly kind: "add";
    readonly step: AddStep | ReaddStep;
    readonly input: core.Session;
    readonly result: core.AddResult;
  }
  | {
    readonly kind: "remove";
    readonly step: RemoveStep;
    readonly input: core.Session;
    readonly result: core.RemoveResult;
  }
  | { readonly kind: "flush"; readonly step: FlushStep; readonly result: core.FlushResult }
  | {
    readonly kind: "update";
    readonly step: SetTimeStep | SetTimeoutStep;
    readonly result: core.UpdateResult;
  }
  | {
    readonly kind: "settings";
    readonly step: SizeStep | ModeStep | TimeoutStep;
    /** The previous value, which the mirrored OpenSSL call returns. */
    readonly previous: number;
  }
  | {
    readonly kind: "lookup";
    readonly step: LookupStep;
    readonly request: core.SessionLookup;
    readonly internal: core.LookupResult;
    readonly external:
      | { readonly session: core.Session; readonly result: core.LookupResult }
      | undefined;
  }
  | {
    readonly kind: "handshake";
    readonly step: HandshakeStep;
    readonly runs: readonly HandshakeRun[];
  }
  | {
    readonly kind: "error";
    readonly step: Step;
    /** `"core"`: the core threw (bad input); `"explorer"`: the step could not be built. */
    readonly source: "core" | "explorer";
    readonly error: Error;
  };

/** One entry of the history: a step, the frames around it, what happened and why. */
export interface Entry {
  /** The step; `undefined` for the initial entry. */
  readonly step: Step | undefined;
  /** The frame before the step (the initial entry: the same as `frame`). */
  readonly before: Frame;
  /** The frame after the step. */
  readonly frame: Frame;
  /** The core's results; `undefined` for the initial entry. */
  readonly outcome: Outcome | undefined;
  /** The explanation derived from the outcome. */
  readonly explanation: Explanation;
}

/** A step that cannot be built into core inputs (the explorer's own refusal). */
class StepError extends Error {
  override name = "StepError";
}

function keyOf(fields: KeyFields): core.SessionKey {
  const id = bytesOf(fields.id);
  return fields.version === undefined ? { id } : { id, version: fields.version };
}

function withVersion<T extends object>(value: T, version: number | undefined): T {
  return version === undefined ? value : { ...value, version };
}

/** The session object a step refers to: the cached one, else the last one seen under its key. */
function sessionFor(frame: Frame, fields: KeyFields): core.Session | undefined {
  const key = keyOf(fields);
  return core.get(frame.cache, key) ?? frame.known.get(keyString(key));
}

/** The known-sessions map after a step: every removal's session, then every cached session. */
function learn(
  known: ReadonlyMap<string, core.Session>,
  cache: core.CacheState,
  seen: readonly core.Session[],
): ReadonlyMap<string, core.Session> {
  const next = new Map(known);
  for (const s of seen) next.set(keyString(s), s);
  for (const s of core.sessions(cache)) next.set(keyString(s), s);
  return next;
}

function removedSessions(removals: readonly core.Removal[]): core.Session[] {
  return removals.map((r) => r.session);
}

/** Runs the core for one step. Throws what the core throws. */
function run(frame: Frame, step: Step): { frame: Frame; outcome: Outcome } {
  const { cache, now } = frame;
  const next = (c: core.CacheState, seen: readonly core.Session[] = []): Frame => ({
    cache: c,
    now,
    known: learn(frame.known, c, seen),
  });
  switch (step.op) {
    case "clock":
      return { frame: { ...frame, now: step.now }, outcome: { kind: "clock", step } };
    case "add": {
      const input: core.Session = withVersion(
        { id: bytesOf(step.id), time: step.time, timeout: step.timeout },
        step.version,
      );
      const result = core.add(cache, input, { now });
      const seen = [...removedSessions(result.removed)];
      if (result.replaced !== undefined) seen.push(result.replaced);
      return { frame: next(result.cache, seen), outcome: { kind: "add", step, input, result } };
    }
    case "readd": {
      const input = sessionFor(frame, step);
      if (input === undefined) {
        throw new StepError(
          `Cannot re-add: no session was ever cached under id "${step.id}": add one first`,
        );
      }
      const result = core.add(cache, input, { now });
      return {
        frame: next(result.cache, removedSessions(result.removed)),
        outcome: { kind: "add", step, input, result },
      };
    }
    case "remove": {
      const input = sessionFor(frame, step) ??
        withVersion({ id: bytesOf(step.id), time: now, timeout: cache.timeout }, step.version);
      const result = core.remove(cache, input);
      return {
        frame: next(result.cache, removedSessions(result.removed)),
        outcome: { kind: "remove", step, input, result },
      };
    }
    case "flush": {
      const result = core.flush(cache, step.tm);
      return {
        frame: next(result.cache, removedSessions(result.removed)),
        outcome: { kind: "flush", step, result },
      };
    }
    case "setTime":
    case "setTimeout": {
      const key = keyOf(step);
      const result = step.op === "setTime"
        ? core.setSessionTime(cache, key, { time: step.time })
        : core.setSessionTimeout(cache, key, { timeout: step.timeout });
      return { frame: next(result.cache), outcome: { kind: "update", step, result } };
    }
    case "size":
      return {
        frame: next(core.configure(cache, { cacheSize: step.cacheSize })),
        outcome: { kind: "settings", step, previous: cache.cacheSize },
      };
    case "mode":
      return {
        frame: next(core.configure(cache, { mode: step.mode })),
        outcome: { kind: "settings", step, previous: cache.mode },
      };
    case "timeout":
      return {
        frame: next(core.configure(cache, { timeout: step.timeout })),
        outcome: { kind: "settings", step, previous: cache.timeout },
      };
    case "lookup": {
      const key = keyOf(step);
      const request: core.SessionLookup = step.sidCtx === undefined
        ? key
        : { ...key, sidCtx: bytesOf(step.sidCtx) };
      const internal = core.lookup(cache, request, { now });
      let external: { session: core.Session; result: core.LookupResult } | undefined;
      if (internal.consultExternal && step.external !== undefined) {
        const base = { id: key.id, time: step.external.time, timeout: step.external.timeout };
        const made = request.sidCtx === undefined ? base : { ...base, sidCtx: request.sidCtx };
        const session: core.Session = withVersion(made, key.version);
        external = {
          session,
          result: core.resumeExternal(internal.cache, session, { request, now }),
        };
      }
      const last = external?.result ?? internal;
      const seen = [...removedSessions(internal.removed)];
      if (external !== undefined) seen.push(...removedSessions(external.result.removed));
      return {
        frame: next(last.cache, seen),
        outcome: { kind: "lookup", step, request, internal, external },
      };
    }
    case "handshake": {
      const runs: HandshakeRun[] = [];
      let c = cache;
      const seen: core.Session[] = [];
      const count = Math.max(0, Math.floor(step.count));
      for (let i = 0; i < count; i++) {
        // A resumption resumes the session object the cache (or the client) holds; a full
        // handshake makes a new one, stamped now with the context's timeout.
        const held = step.resumed ? sessionFor({ ...frame, cache: c }, step) : undefined;
        const session: core.Session = held ?? withVersion(
          { id: bytesOf(step.id), time: now, timeout: c.timeout },
          step.version,
        );
        c = core.handshakeStarted(c, step.side);
        const goodBefore = step.side === "server" ? c.stats.acceptGood : c.stats.connectGood;
        const result = core.handshakeCompleted(c, {
          side: step.side,
          session,
          resumed: step.resumed,
          tls13: step.tls13,
        }, { now });
        c = result.cache;
        seen.push(...removedSessions(result.removed), ...removedSessions(result.flushed));
        runs.push({ session, goodBefore, result });
      }
      return { frame: next(c, seen), outcome: { kind: "handshake", step, runs } };
    }
  }
}

/**
 * Applies one step to a frame: runs the core, and explains what its result
 * shows. Never throws: an error the core throws (bad input) becomes an
 * `"error"` outcome and the frame stays as it was.
 */
export function applyStep(before: Frame, step: Step): Entry {
  let frame = before;
  let outcome: Outcome;
  try {
    ({ frame, outcome } = run(before, step));
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    const source = e instanceof StepError || e instanceof SyntaxError ? "explorer" : "core";
    outcome = { kind: "error", step, source, error: e };
    frame = before;
  }
  return { step, before, frame, outcome, explanation: explain(before, frame, outcome) };
}

/** A history of entries: `entries[0]` is the initial frame, each next entry one step later. */
export interface History {
  /** The entries, oldest first; never empty. */
  readonly entries: readonly Entry[];
}

/** A history holding only the initial frame. */
export function startHistory(frame: Frame = initialFrame()): History {
  return {
    entries: [{
      step: undefined,
      before: frame,
      frame,
      outcome: undefined,
      explanation: explain(frame, frame, undefined),
    }],
  };
}

/**
 * Records a step taken at entry `at`: the entries after `at` are dropped (a
 * new branch of time), and the step's entry is appended.
 */
export function recordStep(history: History, at: number, step: Step): History {
  const kept = history.entries.slice(0, clampIndex(history, at) + 1);
  const last = kept[kept.length - 1] as Entry;
  return { entries: [...kept, applyStep(last.frame, step)] };
}

/** The history of some steps from the initial frame. */
export function replay(steps: readonly Step[], frame: Frame = initialFrame()): History {
  const entries: Entry[] = [...startHistory(frame).entries];
  for (const step of steps) {
    entries.push(applyStep((entries[entries.length - 1] as Entry).frame, step));
  }
  return { entries };
}

/** The steps of a history up to entry `at` (all of them by default). */
export function stepsOf(history: History, at: number = history.entries.length - 1): Step[] {
  return history.entries.slice(1, clampIndex(history, at) + 1).map((e) => e.step as Step);
}

/** `at` brought into the history's range. */
export function clampIndex(history: History, at: number): number {
  const n = history.entries.length - 1;
  return Number.isFinite(at) ? Math.min(n, Math.max(0, Math.trunc(at))) : n;
}

/** A session of a frame as the page lists it. */
export interface SessionView {
  /** The key (`keyString`). */
  readonly key: string;
  /** The session as cached. */
  readonly session: core.Session;
  /** `time + timeout` as the core computes it (`Infinity` beyond 2^64 − 1 ns). */
  readonly expiry: number;
}

/** OpenSSL's list from head (latest expiry) to tail (soonest): the core's order reversed. */
export function listHeadToTail(frame: Frame): SessionView[] {
  return [...core.sessions(frame.cache)].reverse().map((session) => ({
    key: keyString(session),
    session,
    expiry: core.expiryOf(session),
  }));
}

/** The hash table's entries, sorted by (version, id) for display (a hash table has no order). */
export function tableEntries(frame: Frame): SessionView[] {
  return listHeadToTail(frame).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** How two frames differ. */
export interface Comparison {
  /** Whether both hold the very same `CacheState` object (the core returned it unchanged). */
  readonly sameValue: boolean;
  /** Keys cached in `a` only. */
  readonly onlyA: readonly SessionView[];
  /** Keys cached in `b` only. */
  readonly onlyB: readonly SessionView[];
  /** Keys cached in both, with another time or timeout. */
  readonly changed: readonly { readonly a: SessionView; readonly b: SessionView }[];
  /** The list order (keys, head to tail) of each. */
  readonly order: { readonly a: readonly string[]; readonly b: readonly string[] };
  /** Counters and settings that differ: `[name, a, b]`. */
  readonly numbers: readonly (readonly [string, number, number])[];
}

/** Compares two frames (any two: the history keeps every value). */
export function compareFrames(a: Frame, b: Frame): Comparison {
  const la = listHeadToTail(a);
  const lb = listHeadToTail(b);
  const ma = new Map(la.map((v) => [v.key, v]));
  const mb = new Map(lb.map((v) => [v.key, v]));
  const changed: { a: SessionView; b: SessionView }[] = [];
  for (const [key, va] of ma) {
    const vb = mb.get(key);
    if (vb !== undefined && (va.session.time !== vb.session.time || va.expiry !== vb.expiry)) {
      changed.push({ a: va, b: vb });
    }
  }
  const numbers: [string, number, number][] = [];
  const pairs: [string, number, number][] = [
    ["now", a.now, b.now],
    ["cacheSize", a.cache.cacheSize, b.cache.cacheSize],
    ["mode", a.cache.mode, b.cache.mode],
    ["timeout", a.cache.timeout, b.cache.timeout],
    ...(Object.keys(a.cache.stats) as (keyof core.CacheStats)[]).map((
      k,
    ): [string, number, number] => [k, a.cache.stats[k], b.cache.stats[k]]),
  ];
  for (const p of pairs) if (p[1] !== p[2]) numbers.push(p);
  return {
    sameValue: Object.is(a.cache, b.cache),
    onlyA: la.filter((v) => !mb.has(v.key)),
    onlyB: lb.filter((v) => !ma.has(v.key)),
    changed,
    order: { a: la.map((v) => v.key), b: lb.map((v) => v.key) },
    numbers,
  };
}
