// This module is browser compatible.

/**
 * Explanations of a step, derived from what the core returned: the C call it
 * mirrors with the value that call would return, what changed (every removal
 * with its reason, replacements, re-sorts, counters), and the rules of
 * OpenSSL's code that made it happen, picked by what the result shows.
 *
 * Nothing here predicts: every sentence reads the step's input, the frames
 * before and after, or the core's result objects.
 *
 * @module
 */

import * as core from "../core.ts";
import type { Frame, HandshakeRun, Outcome } from "./model.ts";
import { type Rule, rule, type RuleId } from "./rules.ts";
import { hexOf, keyString, labelOf, type Step, timeText } from "./steps.ts";

/** What kind of change a line of the explanation reports. */
export type ChangeKind =
  | "added"
  | "resorted"
  | "evicted"
  | "replaced"
  | "expired"
  | "removed"
  | "cleared"
  | "kept"
  | "updated"
  | "resumed"
  | "missed"
  | "announced"
  | "counter"
  | "setting"
  | "clock"
  | "refused"
  | "unchanged"
  | "note";

/** One line of "what changed". */
export interface Change {
  /** The kind. */
  readonly kind: ChangeKind;
  /** The sentence shown. */
  readonly text: string;
  /** The session it is about (`keyString`), if any. */
  readonly key?: string | undefined;
}

/** The explanation of one step. */
export interface Explanation {
  /** A short title: what was asked. */
  readonly title: string;
  /** The C calls the step mirrors, with their return values (`SSL_CTX_add_session(ctx, s) → 1`). */
  readonly calls: readonly string[];
  /** What changed, in the order it happened. */
  readonly changes: readonly Change[];
  /** The rules of OpenSSL's code that made it happen. */
  readonly rules: readonly Rule[];
}

/** The twelve counters, as `CacheStats` names them and as OpenSSL's `SSL_CTX_sess_*` macros do. */
export const COUNTERS: readonly (readonly [keyof core.CacheStats, string])[] = [
  ["number", "SSL_CTX_sess_number"],
  ["connect", "SSL_CTX_sess_connect"],
  ["connectGood", "SSL_CTX_sess_connect_good"],
  ["connectRenegotiate", "SSL_CTX_sess_connect_renegotiate"],
  ["accept", "SSL_CTX_sess_accept"],
  ["acceptGood", "SSL_CTX_sess_accept_good"],
  ["acceptRenegotiate", "SSL_CTX_sess_accept_renegotiate"],
  ["hits", "SSL_CTX_sess_hits"],
  ["cbHits", "SSL_CTX_sess_cb_hits"],
  ["misses", "SSL_CTX_sess_misses"],
  ["timeouts", "SSL_CTX_sess_timeouts"],
  ["cacheFull", "SSL_CTX_sess_cache_full"],
];

/** The mode bits, with OpenSSL's names. */
export const MODE_BITS: readonly (readonly [number, string])[] = [
  [core.SESS_CACHE_CLIENT, "SSL_SESS_CACHE_CLIENT"],
  [core.SESS_CACHE_SERVER, "SSL_SESS_CACHE_SERVER"],
  [core.SESS_CACHE_NO_AUTO_CLEAR, "SSL_SESS_CACHE_NO_AUTO_CLEAR"],
  [core.SESS_CACHE_NO_INTERNAL_LOOKUP, "SSL_SESS_CACHE_NO_INTERNAL_LOOKUP"],
  [core.SESS_CACHE_NO_INTERNAL_STORE, "SSL_SESS_CACHE_NO_INTERNAL_STORE"],
  [core.SESS_CACHE_UPDATE_TIME, "SSL_SESS_CACHE_UPDATE_TIME"],
];

/** A mode as `0x402` (hex, as OpenSSL's headers write the bits). */
export function modeHex(mode: number): string {
  return `0x${mode.toString(16)}`;
}

/** A mode as its bit names (`SERVER|UPDATE_TIME`), `OFF` for 0. */
export function modeNames(mode: number): string {
  const names = MODE_BITS.filter(([bit]) => (mode & bit) !== 0).map(([, n]) =>
    n.replace("SSL_SESS_CACHE_", "")
  );
  const unknown = MODE_BITS.reduce((m, [bit]) => m & ~bit, mode);
  if (unknown !== 0) names.push(modeHex(unknown));
  return names.length === 0 ? "OFF" : names.join("|");
}

function keyOfRequest(r: core.SessionLookup): core.SessionKey {
  return r.version === undefined ? { id: r.id } : { id: r.id, version: r.version };
}

/** `01 (time 1000, timeout 10, expiry 1010)`. */
export function describeSession(s: core.Session): string {
  return `${labelOf(s)} (time ${s.time}, timeout ${s.timeout}, expiry ${
    timeText(core.expiryOf(s))
  })`;
}

function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13
    ? "th"
    : ({ 1: "st", 2: "nd", 3: "rd" } as Record<number, string>)[n % 10] ?? "th";
  return `${n}${suffix}`;
}

/** Collects changes and rules, keeping each rule once, in first-cited order. */
class Builder {
  readonly changes: Change[] = [];
  readonly #rules = new Map<RuleId, Rule>();
  constructor(readonly before: Frame, readonly after: Frame) {}

  change(kind: ChangeKind, text: string, session?: core.Session): void {
    this.changes.push({ kind, text, key: session === undefined ? undefined : keyString(session) });
  }

  cite(...ids: RuleId[]): void {
    for (const id of ids) if (!this.#rules.has(id)) this.#rules.set(id, rule(id));
  }

  get rules(): Rule[] {
    return [...this.#rules.values()];
  }

  /** Counter lines, from the difference of the two frames' stats. */
  counters(): void {
    for (const [name, c] of COUNTERS) {
      const a = this.before.cache.stats[name];
      const b = this.after.cache.stats[name];
      if (a !== b) this.change("counter", `${c.replace("SSL_CTX_sess_", "")} ${a} → ${b}`);
    }
  }

  /** Removals, each with its reason; ties among them or with what stayed cite FIFO ties. */
  removals(removed: readonly core.Removal[], context: { tm?: number; now?: number } = {}): void {
    for (const { session, reason } of removed) {
      const e = timeText(core.expiryOf(session));
      const label = labelOf(session);
      switch (reason) {
        case "evicted": {
          const late = context.now !== undefined && context.now > core.expiryOf(session)
            ? `, already expired at now ${context.now}`
            : "";
          this.change(
            "evicted",
            `evicted ${label}: the list tail (soonest expiry ${e}${late}); cache_full + 1, remove_session_cb`,
            session,
          );
          break;
        }
        case "expired":
          this.change(
            "expired",
            `expired ${label}: tm ${context.tm ?? "?"} > expiry ${e}; remove_session_cb`,
            session,
          );
          break;
        case "cleared":
          this.change(
            "cleared",
            `cleared ${label} (expiry ${e}): flush(0); remove_session_cb`,
            session,
          );
          break;
        case "removed":
          this.change("removed", `removed ${label}: remove_session_cb(ctx, s)`, session);
          break;
      }
    }
    this.tiesAmong(removed.map((r) => r.session));
  }

  /** FIFO ties among the sessions removed, or between a removed one and one still cached. */
  tiesAmong(removed: readonly core.Session[]): void {
    const cached = [...core.sessions(this.after.cache)];
    for (let i = 0; i < removed.length; i++) {
      const s = removed[i] as core.Session;
      const e = core.expiryOf(s);
      const later = removed.slice(i + 1).find((r) => core.expiryOf(r) === e);
      if (later !== undefined) {
        this.change(
          "note",
          `${labelOf(s)} and ${labelOf(later)} tie at expiry ${timeText(e)}: ${
            labelOf(s)
          }, (re)inserted earlier, left first`,
        );
        this.cite("fifoTies");
        return;
      }
      const stays = cached.find((c) => core.expiryOf(c) === e);
      if (stays !== undefined) {
        this.change(
          "note",
          `${labelOf(s)} ties with ${labelOf(stays)} at expiry ${timeText(e)} and left first: ${
            labelOf(stays)
          } was (re)inserted after it`,
        );
        this.cite("fifoTies");
        return;
      }
    }
  }

  /** A session just (re)linked: where it sits, and its ties. */
  placed(session: core.Session, verb: "added" | "resorted"): void {
    const list = [...core.sessions(this.after.cache)].reverse();
    const key = keyString(session);
    const at = list.findIndex((s) => keyString(s) === key);
    const where = at < 0 ? "" : `: ${ordinal(at + 1)} of ${list.length} from the head`;
    this.change(
      verb,
      `${verb === "added" ? "added" : "re-sorted"} ${describeSession(session)}${where}`,
      session,
    );
    const e = core.expiryOf(session);
    const ties = list.filter((s) => keyString(s) !== key && core.expiryOf(s) === e);
    if (ties.length > 0) {
      this.change(
        "note",
        `${labelOf(session)} ties with ${ties.map(labelOf).join(", ")} at expiry ${
          timeText(e)
        }: linked on their head side, it stands behind them in the flush order`,
      );
      this.cite("fifoTies");
    }
  }

  unchanged(): void {
    if (Object.is(this.before.cache, this.after.cache)) {
      this.change(
        "unchanged",
        "the core returned the very same CacheState object: nothing changed",
      );
      this.cite("sameValue");
    }
  }
}

function stepTitle(step: Step): string {
  switch (step.op) {
    case "clock":
      return `Set the clock to ${step.now}`;
    case "add":
      return `Add a new session ${step.id === "" ? "with an empty id" : step.id}`;
    case "readd":
      return `Add session ${step.id} again`;
    case "remove":
      return `Remove session ${step.id}`;
    case "flush":
      return `Flush at tm ${step.tm}`;
    case "setTime":
      return `Set session ${step.id}'s time to ${step.time}`;
    case "setTimeout":
      return `Set session ${step.id}'s timeout to ${step.timeout}`;
    case "size":
      return `Set the cache size to ${step.cacheSize}`;
    case "mode":
      return `Set the mode to ${modeHex(step.mode)}`;
    case "timeout":
      return `Set the context timeout to ${step.timeout}`;
    case "lookup":
      return `Server lookup of ${step.id}${
        step.sidCtx === undefined ? "" : ` under session id context ${step.sidCtx}`
      }${step.external === undefined ? "" : " (with an external cache)"}`;
    case "handshake":
      return `${step.count === 1 ? "A" : step.count} ${step.side} handshake${
        step.count === 1 ? "" : "s"
      } completed (${step.resumed ? "resumed" : "full"}${step.tls13 ? ", TLS 1.3" : ""})`;
  }
}

function callOf(step: Step): string {
  switch (step.op) {
    case "clock":
      return `time(NULL) = ${step.now}`;
    case "add":
    case "readd":
      return "SSL_CTX_add_session(ctx, s)";
    case "remove":
      return "SSL_CTX_remove_session(ctx, s)";
    case "flush":
      return `SSL_CTX_flush_sessions(ctx, ${step.tm})`;
    case "setTime":
      return `SSL_SESSION_set_time(s, ${step.time})`;
    case "setTimeout":
      return `SSL_SESSION_set_timeout(s, ${step.timeout})`;
    case "size":
      return `SSL_CTX_sess_set_cache_size(ctx, ${step.cacheSize})`;
    case "mode":
      return `SSL_CTX_set_session_cache_mode(ctx, ${modeHex(step.mode)})`;
    case "timeout":
      return `SSL_CTX_set_timeout(ctx, ${step.timeout})`;
    case "lookup":
      return "ssl_get_prev_session(s, hello)";
    case "handshake":
      return "ssl_update_cache(s, mode)";
  }
}

function explainError(b: Builder, outcome: Extract<Outcome, { kind: "error" }>): string[] {
  const { step } = outcome;
  const message = `${outcome.error.name}: ${outcome.error.message}`;
  if (outcome.source === "explorer") {
    b.change("refused", `the explorer could not run this step: ${message}`);
    return [`${callOf(step)}: not called`];
  }
  b.change("refused", `the core refused it: ${message}`);
  b.cite("refused");
  const emptyId = "id" in step && step.id === "" &&
    (step.op === "add" || step.op === "readd" || step.op === "lookup");
  if (emptyId) b.cite("emptyIdRefused");
  return [`${callOf(step)} → refused (${outcome.error.name})`];
}

function explainAdd(b: Builder, outcome: Extract<Outcome, { kind: "add" }>): string[] {
  const { input, result } = outcome;
  const mode = b.after.cache.mode;
  b.removals(result.removed, { now: b.before.now });
  if (result.removed.length > 0) {
    b.cite("capacity", "tailFirst");
    const survivor = core.expiryOf(result.session);
    if (result.removed.some((r) => core.expiryOf(r.session) > survivor)) {
      b.change(
        "note",
        `${labelOf(result.session)} expires at ${
          timeText(survivor)
        }, sooner than a session it evicted, and still stays: it is linked after the loop`,
      );
    }
    if (result.removed.length > 1) b.cite("oneGo");
  }
  if (result.replaced !== undefined) {
    b.change(
      "replaced",
      `replaced ${
        describeSession(result.replaced)
      } silently: another object with the same key; no remove_session_cb, not cache_full`,
      result.replaced,
    );
    b.cite("silentReplace");
  }
  if (!result.added) b.cite("sameObject", "resort");
  b.placed(result.session, result.added ? "added" : "resorted");
  if (result.session.time !== input.time) {
    b.change(
      "updated",
      `time set to now (${result.session.time}) by UPDATE_TIME: the cached copy has time ${result.session.time}, the object passed in keeps ${input.time}`,
      result.session,
    );
  }
  if ((mode & core.SESS_CACHE_UPDATE_TIME) !== 0) b.cite("updateTime");
  b.counters();
  b.unchanged();
  return [`SSL_CTX_add_session(ctx, s) → ${result.added ? 1 : 0}`, `s = ${describeSession(input)}`];
}

function explainRemove(b: Builder, outcome: Extract<Outcome, { kind: "remove" }>): string[] {
  const { input, result } = outcome;
  if (result.found) {
    b.change("removed", `removed ${describeSession(input)} from the table and the list`, input);
  } else {
    b.change("note", `nothing is cached under ${labelOf(input)}`);
  }
  for (const r of result.removed) {
    b.change(
      "removed",
      `remove_session_cb(ctx, s) with ${labelOf(r.session)} (reason "${r.reason}")${
        result.found ? "" : ": it fires although nothing was cached"
      }`,
      r.session,
    );
  }
  b.cite("removeCallback");
  b.counters();
  b.unchanged();
  return [
    `SSL_CTX_remove_session(ctx, s) → ${result.found ? 1 : 0}`,
    `s = ${describeSession(input)}`,
  ];
}

function explainFlush(b: Builder, outcome: Extract<Outcome, { kind: "flush" }>): string[] {
  const { result, step } = outcome;
  b.removals(result.removed, { tm: step.tm });
  if (step.tm === 0) {
    b.cite("flushZero");
  } else {
    b.cite("strict", "flushWalk");
    const remaining = [...core.sessions(result.cache)];
    for (const s of remaining) {
      if (core.expiryOf(s) === step.tm) {
        b.change(
          "kept",
          `kept ${labelOf(s)}: its expiry ${step.tm} equals tm, and only tm > expiry expires`,
          s,
        );
      }
    }
    const first = remaining[0];
    if (first !== undefined) {
      b.change(
        "note",
        `stopped at ${labelOf(first)}, the new tail: expiry ${
          timeText(core.expiryOf(first))
        } is not before tm ${step.tm}`,
        first,
      );
    }
  }
  if (result.removed.length === 0) b.change("note", "nothing removed");
  b.counters();
  b.unchanged();
  return [`${callOf(step)} (void): ${result.removed.length} removed`];
}

function explainUpdate(b: Builder, outcome: Extract<Outcome, { kind: "update" }>): string[] {
  const { result, step } = outcome;
  const ret = step.op === "setTime" ? String(step.time) : "1";
  if (result.session === undefined) {
    b.change(
      "note",
      `no session is cached under ${step.id}: OpenSSL would change only that object, not the cache`,
    );
  } else {
    b.placed(result.session, "resorted");
    b.cite("resort");
  }
  b.counters();
  b.unchanged();
  return [`${callOf(step)} → ${ret}`];
}

function explainSettings(b: Builder, outcome: Extract<Outcome, { kind: "settings" }>): string[] {
  const { step } = outcome;
  const { cache } = b.after;
  switch (step.op) {
    case "size": {
      b.change("setting", `cache size ${outcome.previous} → ${cache.cacheSize}`);
      b.cite("sizeStored");
      if (cache.cacheSize > 0 && cache.size >= cache.cacheSize) {
        b.change(
          "note",
          `${cache.size} cached, at or over the new size ${cache.cacheSize}: nothing evicted now`,
        );
        b.cite("oneGo");
      }
      break;
    }
    case "mode": {
      const changed = outcome.previous ^ cache.mode;
      for (const [bit, name] of MODE_BITS) {
        if ((changed & bit) !== 0) {
          b.change("setting", `${(cache.mode & bit) !== 0 ? "set" : "cleared"} ${name}`);
        }
      }
      b.change("setting", `mode ${modeNames(outcome.previous)} → ${modeNames(cache.mode)}`);
      b.cite("modeStored");
      break;
    }
    case "timeout":
      b.change("setting", `context timeout ${outcome.previous} → ${cache.timeout}`);
      b.cite("ctxTimeout");
      break;
  }
  b.unchanged();
  const shown = step.op === "mode" ? modeHex(outcome.previous) : String(outcome.previous);
  return [`${callOf(step)} → ${shown}`];
}

function explainLookup(
  b: Builder,
  outcome: Extract<Outcome, { kind: "lookup" }>,
): string[] {
  const { internal, external, request } = outcome;
  const now = b.before.now;
  const calls: string[] = [];
  const offered = labelOf(request);
  const noInternal = (b.before.cache.mode & core.SESS_CACHE_NO_INTERNAL_LOOKUP) !== 0;
  if (noInternal) {
    b.change("missed", `the table was not consulted (NO_INTERNAL_LOOKUP)`);
    b.cite("noInternalLookup");
    calls.push("lookup_sess_in_cache(s, id): table skipped");
  } else if (internal.consultExternal) {
    b.change("missed", `nothing cached under ${offered}: a miss`);
    b.cite("lookupMiss");
    calls.push("lookup_sess_in_cache(s, id) → NULL");
  } else {
    calls.push(`lookup_sess_in_cache(s, id) → ${labelOf(request)}`);
  }
  const last = external?.result ?? internal;
  if (external !== undefined) {
    calls.push(`get_session_cb(ssl, id, ${request.id.length}, &copy) → s`);
    b.change("note", `the external cache returned ${describeSession(external.session)}`);
    b.cite("externalHit");
    if ((b.before.cache.mode & core.SESS_CACHE_NO_INTERNAL_STORE) === 0) {
      calls.push("(void)SSL_CTX_add_session(ctx, s)");
      b.removals(external.result.removed.filter((r) => r.reason === "evicted"), { now });
      if (external.result.removed.some((r) => r.reason === "evicted")) {
        b.cite("capacity", "tailFirst");
      }
      if (core.get(last.cache, external.session) !== undefined) {
        b.change("added", `stored ${labelOf(external.session)} in the internal cache`);
      }
    } else {
      b.change("note", "NO_INTERNAL_STORE: not stored internally");
    }
  } else if (internal.consultExternal) {
    b.change("note", "no external cache (get_session_cb) to ask: a full handshake follows");
  }
  const found = last.session ??
    (internal.consultExternal
      ? external?.session
      : core.get(b.before.cache, keyOfRequest(request)));
  switch (last.outcome) {
    case "hit": {
      const s = last.session as core.Session;
      b.change("resumed", `resumed ${describeSession(s)} at now ${now}`, s);
      b.cite("lookupHit");
      if (core.expiryOf(s) === now) {
        b.change("note", `now ${now} equals its expiry: not expired, since only now > expiry is`);
        b.cite("strict");
      }
      break;
    }
    case "expired":
      if (found !== undefined) {
        b.change(
          "note",
          `${describeSession(found)} has expired: now ${now} > expiry ${
            timeText(core.expiryOf(found))
          }`,
        );
      }
      b.removals(last.removed.filter((r) => r.reason === "removed"));
      b.cite("lookupExpired", "strict", "removeCallback");
      break;
    case "mismatch":
      b.change(
        "missed",
        `found ${
          found === undefined ? offered : labelOf(found)
        } but under another session id context: not resumed`,
      );
      b.cite("mismatch");
      break;
    case "miss":
      break;
  }
  b.counters();
  b.unchanged();
  calls.push(`ssl_get_prev_session(s, hello) → ${last.outcome === "hit" ? 1 : 0}`);
  return calls;
}

function explainHandshake(b: Builder, outcome: Extract<Outcome, { kind: "handshake" }>): string[] {
  const { runs, step } = outcome;
  const { mode } = b.before.cache;
  const bit = step.side === "server" ? core.SESS_CACHE_SERVER : core.SESS_CACHE_CLIENT;
  const bitName = step.side === "server" ? "SSL_SESS_CACHE_SERVER" : "SSL_SESS_CACHE_CLIENT";
  const good = step.side === "server" ? "accept_good" : "connect_good";
  const times = (n: number) => (n === 1 ? "" : `${n} × `);
  const calls = [`${times(runs.length)}tls_finish_handshake → ssl_update_cache(s, ${bitName})`];
  const announced = runs.filter((r) => r.result.newSession !== undefined);
  if (announced.length > 0) {
    const stored = announced.filter((r) =>
      r.result.newSession !== undefined &&
      (mode & core.SESS_CACHE_NO_INTERNAL_STORE) === 0
    );
    if (stored.length > 0) calls.push(`${times(stored.length)}SSL_CTX_add_session(ctx, s)`);
    calls.push(`${times(announced.length)}new_session_cb(ssl, s)`);
    const last = announced[announced.length - 1] as HandshakeRun;
    b.change(
      "announced",
      `new_session_cb(ssl, s) with ${describeSession(last.result.newSession as core.Session)}${
        announced.length > 1 ? ` (the last of ${announced.length})` : ""
      }`,
      last.result.newSession,
    );
    b.cite("updateCache");
  } else if (step.id === "") {
    b.change(
      "note",
      "the session id is empty: ssl_update_cache stores nothing and skips the auto-flush",
    );
  } else if ((mode & bit) === 0) {
    b.cite("sideBit");
  } else if (step.resumed && !step.tls13) {
    b.cite("resumedNoStore");
  }
  const evictions = runs.flatMap((r) => r.result.removed.filter((x) => x.reason === "evicted"));
  const used = runs.flatMap((r) => r.result.removed.filter((x) => x.reason === "removed"));
  b.removals([...evictions, ...used], { now: b.before.now });
  if (evictions.length > 0) b.cite("capacity", "tailFirst");
  if (used.length > 0) b.cite("ticketOnce", "removeCallback");
  runs.forEach((r, i) => {
    if (r.result.flushed.length === 0) return;
    const tm = Math.floor(b.before.now);
    calls.push(
      `SSL_CTX_flush_sessions(ctx, time(NULL) = ${tm})${
        runs.length === 1 ? "" : ` during handshake ${i + 1} of ${runs.length}`
      }`,
    );
    b.change(
      "note",
      `auto-flush during the ${
        ordinal(r.goodBefore + 1)
      } completed ${step.side} handshake (${good} was ${r.goodBefore} before it)`,
    );
    b.removals(r.result.flushed, { tm });
    b.cite("autoFlush", "strict");
  });
  const after = step.side === "server"
    ? b.after.cache.stats.acceptGood
    : b.after.cache.stats.connectGood;
  if (runs.length > 0) b.change("note", `${after} ${step.side} handshakes completed so far`);
  b.counters();
  b.unchanged();
  return calls;
}

/**
 * Explains one step from its outcome (which holds the step and the core's
 * results); `outcome` is `undefined` for the initial entry of a history.
 */
export function explain(before: Frame, after: Frame, outcome: Outcome | undefined): Explanation {
  const b = new Builder(before, after);
  if (outcome === undefined) {
    const c = after.cache;
    b.change(
      "note",
      `an empty cache with OpenSSL's defaults: size ${c.cacheSize}, mode ${
        modeNames(c.mode)
      }, timeout ${c.timeout} s; the clock reads ${after.now}`,
    );
    return { title: "The start: SSL_CTX_new", calls: ["SSL_CTX_new(method)"], ...done(b) };
  }
  return { title: stepTitle(outcome.step), calls: callsFor(b, outcome), ...done(b) };
}

function callsFor(b: Builder, outcome: Outcome): string[] {
  switch (outcome.kind) {
    case "error":
      return explainError(b, outcome);
    case "clock":
      b.change("clock", `the clock reads ${b.after.now} (it read ${b.before.now})`);
      b.cite("timeParameter");
      return [callOf(outcome.step)];
    case "add":
      return explainAdd(b, outcome);
    case "remove":
      return explainRemove(b, outcome);
    case "flush":
      return explainFlush(b, outcome);
    case "update":
      return explainUpdate(b, outcome);
    case "settings":
      return explainSettings(b, outcome);
    case "lookup":
      return explainLookup(b, outcome);
    case "handshake":
      return explainHandshake(b, outcome);
  }
}

function done(b: Builder): { changes: Change[]; rules: Rule[] } {
  return { changes: b.changes, rules: b.rules };
}

/** The id of a session in hex, for tests and the page (`""` for the empty id). */
export function idHex(session: { readonly id: Uint8Array }): string {
  return hexOf(session.id);
}
