/**
 * Checks shared by the explorer's tests: that an entry's explanation says
 * what its outcome (the core's own result objects) shows, and no more.
 *
 * @module
 */

import assert from "node:assert/strict";
import * as core from "../../core.ts";
import type { Entry } from "../../explorer/model.ts";
import { keyString } from "../../explorer/steps.ts";
import { COUNTERS } from "../../explorer/explain.ts";

/** The `[kind, key]` pairs of an explanation's changes of some kinds. */
export function changePairs(entry: Entry, kinds: readonly string[]): string[] {
  return entry.explanation.changes
    .filter((c) => kinds.includes(c.kind))
    .map((c) => `${c.kind} ${c.key ?? ""}`);
}

/** `[reason, key]` pairs of removals, as `changePairs` writes them. */
export function removalPairs(removed: readonly core.Removal[]): string[] {
  return removed.map((r) => `${r.reason} ${keyString(r.session)}`);
}

/** The rule ids an entry cites. */
export function ruleIds(entry: Entry): string[] {
  return entry.explanation.rules.map((r) => r.id);
}

/**
 * Asserts that an entry's explanation matches its outcome: the return value
 * in the call line, one change per removal with its reason, the replaced
 * session, the counters that moved, and the rules tied to what happened.
 */
export function checkExplanation(entry: Entry): void {
  const { outcome, explanation: x, before, frame, step } = entry;
  assert.ok(x.calls.length > 0, "an explanation names the call it mirrors");
  assert.ok(x.title.length > 0);
  if (outcome === undefined || step === undefined) return;
  const rules = ruleIds(entry);
  if (outcome.kind === "error") {
    assert.equal(frame, before, "a refused step changes nothing");
    assert.ok(
      x.changes.some((c) => c.kind === "refused" && c.text.includes(outcome.error.message)),
    );
    return;
  }
  // Counters: one line per counter that moved, none for the others.
  const moved = COUNTERS.filter(([n]) => before.cache.stats[n] !== frame.cache.stats[n]);
  const lines = x.changes.filter((c) => c.kind === "counter");
  assert.equal(lines.length, moved.length, "one counter line per counter that moved");
  for (const [n, c] of moved) {
    const name = c.replace("SSL_CTX_sess_", "");
    assert.ok(
      lines.some((l) => l.text === `${name} ${before.cache.stats[n]} → ${frame.cache.stats[n]}`),
      `a line for ${name}`,
    );
  }
  // "No change" exactly when the core returned the same value (a clock step has no cache call).
  if (step.op !== "clock") {
    assert.equal(rules.includes("sameValue"), Object.is(before.cache, frame.cache));
  }
  switch (outcome.kind) {
    case "add": {
      const r = outcome.result;
      assert.equal(x.calls[0], `SSL_CTX_add_session(ctx, s) → ${r.added ? 1 : 0}`);
      assert.deepEqual(changePairs(entry, ["evicted"]), removalPairs(r.removed));
      assert.equal(rules.includes("tailFirst"), r.removed.length > 0);
      assert.equal(rules.includes("silentReplace"), r.replaced !== undefined);
      assert.equal(rules.includes("sameObject"), !r.added);
      assert.deepEqual(
        changePairs(entry, ["replaced"]),
        r.replaced === undefined ? [] : [`replaced ${keyString(r.replaced)}`],
      );
      break;
    }
    case "remove": {
      const r = outcome.result;
      assert.equal(x.calls[0], `SSL_CTX_remove_session(ctx, s) → ${r.found ? 1 : 0}`);
      const callbacks = x.changes.filter((c) =>
        c.kind === "removed" && c.text.startsWith("remove_session_cb")
      );
      assert.equal(callbacks.length, r.removed.length, "one remove_session_cb line per callback");
      assert.ok(rules.includes("removeCallback"));
      break;
    }
    case "flush": {
      const r = outcome.result;
      assert.deepEqual(changePairs(entry, ["expired", "cleared"]), removalPairs(r.removed));
      assert.equal(rules.includes("flushZero"), step.op === "flush" && step.tm === 0);
      break;
    }
    case "lookup": {
      const last = outcome.external?.result ?? outcome.internal;
      assert.equal(
        x.calls.at(-1),
        `ssl_get_prev_session(s, hello) → ${last.outcome === "hit" ? 1 : 0}`,
      );
      assert.equal(rules.includes("lookupHit"), last.outcome === "hit");
      assert.equal(rules.includes("lookupExpired"), last.outcome === "expired");
      assert.equal(rules.includes("mismatch"), last.outcome === "mismatch");
      assert.equal(rules.includes("externalHit"), outcome.external !== undefined);
      break;
    }
    case "handshake": {
      const flushed = outcome.runs.flatMap((run) => run.result.flushed);
      assert.equal(rules.includes("autoFlush"), flushed.length > 0);
      assert.deepEqual(
        changePairs(entry, ["expired"]),
        removalPairs(flushed),
        "every session the auto-flush removed is listed",
      );
      const announced = outcome.runs.filter((run) => run.result.newSession !== undefined).length;
      assert.equal(rules.includes("updateCache"), announced > 0);
      break;
    }
    case "update":
      assert.equal(rules.includes("resort"), outcome.result.session !== undefined);
      break;
    case "settings":
    case "clock":
      break;
  }
}

/** The keys of a frame's list, head to tail. */
export function headToTail(cache: core.CacheState): string[] {
  return [...core.sessions(cache)].reverse().map(keyString);
}
