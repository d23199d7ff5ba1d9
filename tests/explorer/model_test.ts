// The explorer's step logic (explorer/model.ts, explain.ts, scenarios.ts) over the public core:
// each step runs the core, the explanation says what the core's result shows, the history keeps
// every value, and the scenarios replay what OpenSSL's own tests assert.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import * as core from "../../core.ts";
import {
  applyStep,
  compareFrames,
  type Entry,
  type Frame,
  initialFrame,
  listHeadToTail,
  recordStep,
  replay,
  startHistory,
  stepsOf,
  tableEntries,
} from "../../explorer/model.ts";
import { scenarioNamed, SCENARIOS } from "../../explorer/scenarios.ts";
import type { Step } from "../../explorer/steps.ts";
import { decodeSteps, encodeSteps } from "../../explorer/url.ts";
import { changePairs, checkExplanation, headToTail, removalPairs, ruleIds } from "./_check.ts";
import { fcParams } from "../_fc.ts";

function run(steps: readonly Step[]): Entry[] {
  return [...replay(steps).entries];
}

function last(steps: readonly Step[]): Entry {
  return run(steps).at(-1) as Entry;
}

const id = (byte: number) => new Uint8Array([byte]);

describe("applyStep: each step runs the core", () => {
  it("an add gives the core's own next value and says SSL_CTX_add_session(ctx, s) → 1", () => {
    const frame = initialFrame();
    const e = applyStep(frame, { op: "add", id: "01", time: 1000, timeout: 10 });
    const direct = core.add(frame.cache, { id: id(1), time: 1000, timeout: 10 }, { now: 1000 });
    assert.deepEqual(e.frame.cache.stats, direct.cache.stats);
    assert.deepEqual(headToTail(e.frame.cache), headToTail(direct.cache));
    assert.deepEqual(e.explanation.calls, [
      "SSL_CTX_add_session(ctx, s) → 1",
      "s = 01 (time 1000, timeout 10, expiry 1010)",
    ]);
    assert.equal(frame.cache.size, 0, "the frame before is unchanged");
    checkExplanation(e);
  });

  it("re-adding the cached object returns 0, re-sorts it behind its ties and evicts nothing", () => {
    const entries = run([
      { op: "add", id: "01", time: 1000, timeout: 10 },
      { op: "add", id: "02", time: 1000, timeout: 10 },
      { op: "readd", id: "01" },
    ]);
    const e = entries[3] as Entry;
    assert.equal(e.explanation.calls[0], "SSL_CTX_add_session(ctx, s) → 0");
    assert.deepEqual(headToTail(e.frame.cache), ["0000:01", "0000:02"]);
    assert.deepEqual(ruleIds(e), ["sameObject", "resort", "fifoTies"]);
    for (const x of entries) checkExplanation(x);
  });

  it("evictions are listed in the core's order with their reason and the N − 1 rule", () => {
    const e = last([
      { op: "size", cacheSize: 3 },
      { op: "add", id: "01", time: 1000, timeout: 10 },
      { op: "add", id: "02", time: 1000, timeout: 20 },
      { op: "add", id: "03", time: 1000, timeout: 5 },
    ]);
    assert.equal(e.outcome?.kind, "add");
    assert.deepEqual(changePairs(e, ["evicted"]), ["evicted 0000:01"]);
    assert.ok(ruleIds(e).includes("capacity"));
    assert.equal(e.frame.cache.size, 2);
    assert.ok(
      e.explanation.changes.some((c) => c.text.includes("03 expires at 1005, sooner than")),
      "the survivor with the soonest expiry is pointed out",
    );
    checkExplanation(e);
  });

  it("a flush names each expired session and keeps one whose expiry equals tm", () => {
    const e = last([
      { op: "add", id: "01", time: 1000, timeout: 10 },
      { op: "add", id: "02", time: 1000, timeout: 11 },
      { op: "flush", tm: 1011 },
    ]);
    assert.deepEqual(changePairs(e, ["expired"]), ["expired 0000:01"]);
    assert.deepEqual(changePairs(e, ["kept"]), ["kept 0000:02"]);
    assert.deepEqual(ruleIds(e), ["strict", "flushWalk"]);
    assert.equal(e.explanation.calls[0], "SSL_CTX_flush_sessions(ctx, 1011) (void): 1 removed");
  });

  it("flush(0) clears every session, soonest expiry first, and cites its rule", () => {
    const e = last([
      { op: "add", id: "01", time: 1000, timeout: 99 },
      { op: "add", id: "02", time: 1000, timeout: 1 },
      { op: "flush", tm: 0 },
    ]);
    assert.deepEqual(changePairs(e, ["cleared"]), ["cleared 0000:02", "cleared 0000:01"]);
    assert.deepEqual(ruleIds(e), ["flushZero"]);
    assert.equal(e.frame.cache.size, 0);
  });

  it("removing an absent session returns 0 yet lists the remove callback, and the value is the same", () => {
    const e = last([{ op: "remove", id: "05" }]);
    assert.equal(e.explanation.calls[0], "SSL_CTX_remove_session(ctx, s) → 0");
    assert.equal(e.frame.cache, e.before.cache);
    assert.deepEqual(ruleIds(e), ["removeCallback", "sameValue"]);
    checkExplanation(e);
  });

  it("another object under a cached key is replaced silently (no callback, no cache_full)", () => {
    const e = last([
      { op: "add", id: "07", time: 1000, timeout: 10, version: 0x0303 },
      { op: "add", id: "07", time: 1000, timeout: 20, version: 0x0303 },
    ]);
    assert.deepEqual(changePairs(e, ["replaced"]), ["replaced 0303:07"]);
    assert.equal(e.frame.cache.stats.cacheFull, 0);
    assert.equal(e.explanation.calls[0], "SSL_CTX_add_session(ctx, s) → 1");
    assert.ok(ruleIds(e).includes("silentReplace"));
  });

  it("under UPDATE_TIME the cached copy has time now and the step says so", () => {
    const e = last([
      { op: "mode", mode: core.SESS_CACHE_SERVER | core.SESS_CACHE_UPDATE_TIME },
      { op: "clock", now: 1234 },
      { op: "add", id: "01", time: 1000, timeout: 10 },
    ]);
    assert.equal(core.get(e.frame.cache, { id: id(1) })?.time, 1234);
    assert.ok(e.explanation.changes.some((c) => c.kind === "updated" && c.text.includes("1234")));
    assert.ok(ruleIds(e).includes("updateTime"));
  });

  it("server lookups: a hit, a miss, an external hit (a miss and a cb hit) and an expired session", () => {
    const entries = run([
      { op: "add", id: "01", time: 1000, timeout: 10 },
      { op: "lookup", id: "01" },
      { op: "lookup", id: "02" },
      { op: "lookup", id: "02", external: { time: 1000, timeout: 50 } },
      { op: "clock", now: 1011 },
      { op: "lookup", id: "01" },
    ]);
    const outcomes = entries.map((e) =>
      e.outcome?.kind === "lookup"
        ? (e.outcome.external?.result ?? e.outcome.internal).outcome
        : "-"
    );
    assert.deepEqual(outcomes, ["-", "-", "hit", "miss", "hit", "-", "expired"]);
    const end = (entries.at(-1) as Entry).frame.cache.stats;
    assert.deepEqual(
      [end.hits, end.misses, end.cbHits, end.timeouts, end.number],
      [2, 2, 1, 1, 1],
    );
    assert.deepEqual(changePairs(entries[6] as Entry, ["removed"]), ["removed 0000:01"]);
    for (const e of entries) checkExplanation(e);
  });

  it("255 resumed handshakes move only the counters; the 256th completed one auto-flushes", () => {
    const entries = run([
      { op: "add", id: "01", time: 1000, timeout: 10 },
      { op: "clock", now: 1100 },
      { op: "handshake", side: "server", id: "01", resumed: true, tls13: false, count: 255 },
      { op: "handshake", side: "server", id: "0a", resumed: false, tls13: false, count: 1 },
    ]);
    const many = entries[3] as Entry;
    assert.equal(many.frame.cache.stats.acceptGood, 255);
    assert.deepEqual(headToTail(many.frame.cache), ["0000:01"]);
    const e = entries[4] as Entry;
    assert.deepEqual(changePairs(e, ["expired"]), ["expired 0000:01"]);
    assert.ok(ruleIds(e).includes("autoFlush"));
    assert.ok(
      e.explanation.changes.some((c) => c.text.includes("the 256th completed server handshake")),
    );
    assert.deepEqual(headToTail(e.frame.cache), ["0000:0a"]);
    for (const x of entries) checkExplanation(x);
  });

  it("an error the core throws is caught: the step is recorded as refused and nothing changes", () => {
    // A value the core did not make: its entry check throws a TypeError.
    const foreign: Frame = { ...initialFrame(), cache: { ...initialFrame().cache } };
    const e = applyStep(foreign, { op: "add", id: "01", time: 1000, timeout: 10 });
    assert.equal(e.outcome?.kind, "error");
    assert.ok(e.outcome?.kind === "error" && e.outcome.source === "core");
    assert.ok(e.outcome?.kind === "error" && e.outcome.error instanceof TypeError);
    assert.equal(e.frame, foreign);
    assert.match(e.explanation.calls[0] as string, /^SSL_CTX_add_session\(ctx, s\) → refused/);
    assert.deepEqual(ruleIds(e), ["refused"]);
    checkExplanation(e);
  });

  it("bad input the core refuses (a negative timeout) is shown with the core's own message", () => {
    const before = last([{ op: "add", id: "01", time: 1000, timeout: 10 }]).frame;
    const e = applyStep(before, { op: "setTimeout", id: "01", timeout: -1 });
    assert.throws(
      () => core.setSessionTimeout(before.cache, { id: id(1) }, { timeout: -1 }),
      (err) => {
        assert.ok(e.outcome?.kind === "error" && e.outcome.source === "core");
        assert.equal(e.outcome.error.message, (err as Error).message);
        assert.equal(e.outcome.error.name, (err as Error).name);
        return true;
      },
    );
    assert.equal(e.frame, before);
    assert.equal(e.explanation.calls[0], "SSL_SESSION_set_timeout(s, -1) → refused (RangeError)");
    checkExplanation(e);
  });

  it("an empty id is refused by the core, and the step explains CVE-2024-2511", () => {
    const before = initialFrame();
    const e = applyStep(before, { op: "add", id: "", time: 1000, timeout: 300 });
    assert.throws(
      () => core.add(before.cache, { id: new Uint8Array(0), time: 1000, timeout: 300 }),
      (err) => e.outcome?.kind === "error" && e.outcome.error.message === (err as Error).message,
    );
    assert.equal(e.frame, before);
    assert.deepEqual(ruleIds(e), ["refused", "emptyIdRefused"]);
    assert.match(e.explanation.rules[1]?.text ?? "", /CVE-2024-2511/);
    assert.match(e.explanation.rules[1]?.text ?? "", /OpenSSL's SSL_CTX_add_session accepts/);
    checkExplanation(e);
  });

  it("the explorer refuses to re-add an id it never saw, without calling the core", () => {
    const before = initialFrame();
    const e = applyStep(before, { op: "readd", id: "09" });
    assert.ok(e.outcome?.kind === "error" && e.outcome.source === "explorer");
    assert.equal(e.frame, before);
    assert.deepEqual(ruleIds(e), []);
  });

  it("an id that is not hex is refused by the explorer", () => {
    const e = applyStep(initialFrame(), { op: "add", id: "zz", time: 1, timeout: 1 });
    assert.ok(e.outcome?.kind === "error" && e.outcome.source === "explorer");
    assert.match(e.outcome.error.message, /hex digits in pairs/);
  });
});

describe("history: every value stays as it was", () => {
  const steps: Step[] = [
    { op: "size", cacheSize: 2 },
    { op: "add", id: "01", time: 1000, timeout: 10 },
    { op: "add", id: "02", time: 1000, timeout: 20 },
    { op: "flush", tm: 1015 },
  ];

  it("replaying steps gives the same values as recording them one by one", () => {
    let h = startHistory();
    for (const s of steps) h = recordStep(h, h.entries.length - 1, s);
    const r = replay(steps);
    assert.equal(h.entries.length, 5);
    assert.deepEqual(
      h.entries.map((e) => headToTail(e.frame.cache)),
      r.entries.map((e) => headToTail(e.frame.cache)),
    );
    assert.deepEqual(stepsOf(h), steps);
    assert.deepEqual(stepsOf(h, 2), steps.slice(0, 2));
  });

  it("a step taken at an earlier entry drops the later ones and leaves the kept entries intact", () => {
    const h = replay(steps);
    const kept = h.entries[2] as Entry;
    const branched = recordStep(h, 2, { op: "add", id: "03", time: 1000, timeout: 5 });
    assert.equal(branched.entries.length, 4);
    assert.equal(branched.entries[2], kept, "the same entry object, not a copy");
    assert.deepEqual(headToTail(kept.frame.cache), ["0000:01"]);
    assert.deepEqual(headToTail((branched.entries[3] as Entry).frame.cache), ["0000:03"]);
    assert.deepEqual(headToTail((h.entries[4] as Entry).frame.cache), ["0000:02"]);
  });

  it("compares two states: sessions only in one, re-timed ones, counters, and the same value", () => {
    const h = replay([
      ...steps,
      { op: "setTimeout", id: "02", timeout: 30 },
      { op: "flush", tm: 1001 },
    ]);
    const [, , a, , b, c, d] = h.entries as Entry[];
    const ab = compareFrames((a as Entry).frame, (b as Entry).frame);
    assert.deepEqual(ab.onlyA.map((v) => v.key), ["0000:01"]);
    assert.deepEqual(ab.onlyB.map((v) => v.key), ["0000:02"]);
    assert.equal(ab.sameValue, false);
    const bc = compareFrames((b as Entry).frame, (c as Entry).frame);
    assert.deepEqual(bc.changed.map((p) => [p.a.expiry, p.b.expiry]), [[1020, 1030]]);
    const cd = compareFrames((c as Entry).frame, (d as Entry).frame);
    assert.equal(cd.sameValue, true, "a flush that removed nothing returned the same value");
    assert.deepEqual(cd.numbers, []);
    assert.deepEqual(
      compareFrames((h.entries[0] as Entry).frame, (a as Entry).frame).numbers,
      [["cacheSize", 20480, 2], ["number", 0, 1]],
    );
  });

  it("the hash table lists every cached key, the list runs head (latest expiry) to tail", () => {
    const e = last([
      { op: "add", id: "02", time: 1000, timeout: 5 },
      { op: "add", id: "01", time: 1000, timeout: 50, version: 0x0303 },
      { op: "add", id: "03", time: 1000, timeout: 30 },
    ]);
    assert.deepEqual(listHeadToTail(e.frame).map((v) => v.key), ["0303:01", "0000:03", "0000:02"]);
    assert.deepEqual(tableEntries(e.frame).map((v) => v.key), ["0000:02", "0000:03", "0303:01"]);
    assert.deepEqual(listHeadToTail(e.frame).map((v) => v.expiry), [1050, 1030, 1005]);
  });
});

describe("scenarios replay what OpenSSL's tests assert", () => {
  function scenario(name: string): Entry[] {
    const sc = scenarioNamed(name);
    assert.ok(sc, name);
    return run(sc.steps);
  }
  function removedAt(entries: Entry[], i: number): string[] {
    const o = (entries[i] as Entry).outcome;
    assert.ok(o !== undefined && o.kind === "flush", `entry ${i} is a flush`);
    return removalPairs(o.result.removed);
  }

  for (const sc of SCENARIOS) {
    it(`${sc.name}: every step runs, and every explanation matches the core's result`, () => {
      const entries = run(sc.steps);
      assert.equal(entries.length, sc.steps.length + 1);
      for (const e of entries) {
        assert.notEqual(
          e.outcome?.kind === "error" && e.outcome.source,
          "explorer",
          e.explanation.title,
        );
        checkExplanation(e);
      }
      assert.deepEqual(decodeSteps(encodeSteps(sc.steps)), sc.steps, "the scenario fits in a URL");
    });
  }

  it("test_session_timeout: flush(now + 9), (now + 11), (now + 21) remove early, middle, late; re-adds return 1; flush(0) empties; UPDATE_TIME stamps now", () => {
    const entries = scenario("test_session_timeout");
    assert.deepEqual(headToTail((entries[9] as Entry).frame.cache), [
      "0000:03",
      "0000:02",
      "0000:01",
    ]);
    assert.deepEqual(removedAt(entries, 10), ["expired 0000:01"]);
    assert.deepEqual(removedAt(entries, 11), ["expired 0000:02"]);
    assert.deepEqual(removedAt(entries, 12), ["expired 0000:03"]);
    for (const i of [13, 14, 15]) {
      assert.equal((entries[i] as Entry).explanation.calls[0], "SSL_CTX_add_session(ctx, s) → 1");
    }
    assert.equal(removedAt(entries, 16).length, 3);
    const end = (entries.at(-1) as Entry).frame;
    assert.equal(core.get(end.cache, { id: id(1) })?.time, 1000);
    assert.equal(end.cache.stats.timeouts, 0, "flush never counts timeouts");
  });

  it("execute_test_session: add → 1, re-add → 0, remove → 1, remove again → 0 with the callback", () => {
    const entries = scenario("execute_test_session");
    assert.deepEqual(entries.slice(1).map((e) => e.explanation.calls[0]), [
      "SSL_CTX_add_session(ctx, s) → 1",
      "SSL_CTX_add_session(ctx, s) → 0",
      "SSL_CTX_remove_session(ctx, s) → 1",
      "SSL_CTX_remove_session(ctx, s) → 0",
    ]);
    const o = (entries[4] as Entry).outcome;
    assert.ok(o?.kind === "remove");
    assert.equal(o.result.removed.length, 1, "the remove callback still fires");
  });

  it("execute_test_session, cache size 1: the last add keeps 01 and evicts 02", () => {
    const end = scenario("execute_test_session_size1").at(-1) as Entry;
    assert.deepEqual(headToTail(end.frame.cache), ["0000:01"]);
    assert.deepEqual(changePairs(end, ["evicted"]), ["evicted 0000:02"]);
    assert.equal(end.frame.cache.stats.cacheFull, 2);
  });

  it("capacity: size 3 holds 2; 01 then 03 are evicted; flush(1011) keeps 02 at its expiry", () => {
    const entries = scenario("capacity");
    assert.deepEqual(entries.slice(2, 6).map((e) => e.frame.cache.size), [1, 2, 2, 2]);
    assert.deepEqual(changePairs(entries[4] as Entry, ["evicted"]), ["evicted 0000:01"]);
    assert.deepEqual(changePairs(entries[5] as Entry, ["evicted"]), ["evicted 0000:03"]);
    assert.deepEqual(removedAt(entries, 6), []);
  });

  it("ties: after re-adding 01 and re-timing 02, flush(0) removes 03, 01, 02", () => {
    assert.deepEqual(removedAt(scenario("ties"), 6), [
      "cleared 0000:03",
      "cleared 0000:01",
      "cleared 0000:02",
    ]);
  });

  it("strict: flushes at 1050, 1051, 1100, 1101 remove nothing, 02, nothing, 01 and 04", () => {
    const entries = scenario("strict");
    assert.deepEqual([5, 6, 7, 8].map((i) => removedAt(entries, i)), [
      [],
      ["expired 0000:02"],
      [],
      ["expired 0000:01", "expired 0000:04"],
    ]);
  });

  it("shrink: the size set to 2 evicts nothing until the next add evicts 5 in one go", () => {
    const entries = scenario("shrink");
    assert.equal((entries[6] as Entry).frame.cache.size, 5);
    const end = entries.at(-1) as Entry;
    assert.equal(changePairs(end, ["evicted"]).length, 5);
    assert.deepEqual(headToTail(end.frame.cache), ["0000:06"]);
  });

  it("replacement: three objects under one key, each add → 1, one session cached, cache_full 0", () => {
    const entries = scenario("replacement");
    const end = entries.at(-1) as Entry;
    assert.equal(end.frame.cache.size, 1);
    assert.equal(end.frame.cache.stats.cacheFull, 0);
    assert.deepEqual(changePairs(end, ["replaced"]), ["replaced 0303:07"]);
  });

  it("auto_flush: the 256th completed handshake flushes 01 and keeps 02", () => {
    const end = scenario("auto_flush").at(-1) as Entry;
    assert.deepEqual(changePairs(end, ["expired"]), ["expired 0000:01"]);
    assert.deepEqual(headToTail(end.frame.cache), ["0000:03", "0000:02"]);
  });

  it("lookups: hit, silent mismatch, hit at the expiry, expired, miss, external hit, external only", () => {
    const entries = scenario("lookups");
    const outcomes = entries.flatMap((e) =>
      e.outcome?.kind === "lookup"
        ? [(e.outcome.external?.result ?? e.outcome.internal).outcome]
        : []
    );
    assert.deepEqual(outcomes, ["hit", "mismatch", "hit", "expired", "miss", "hit", "hit"]);
    const s = (entries.at(-1) as Entry).frame.cache.stats;
    assert.deepEqual([s.hits, s.misses, s.cbHits, s.timeouts], [4, 2, 2, 1]);
  });
});

// Random step lists over a few ids and times: the explanation of every step matches its
// outcome, applyStep never throws, and the steps survive the URL.
const hexId = fc.constantFrom("01", "02", "03", "");
const small = fc.integer({ min: 990, max: 1030 });
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ op: fc.constant("add" as const), id: hexId, time: small, timeout: fc.nat(30) }),
  fc.record({ op: fc.constant("readd" as const), id: hexId }),
  fc.record({ op: fc.constant("remove" as const), id: hexId }),
  fc.record({
    op: fc.constant("flush" as const),
    tm: fc.oneof(fc.constant(0), small, fc.constant(1060)),
  }),
  fc.record({ op: fc.constant("setTime" as const), id: hexId, time: small }),
  fc.record({ op: fc.constant("setTimeout" as const), id: hexId, timeout: fc.nat(30) }),
  fc.record({ op: fc.constant("size" as const), cacheSize: fc.nat(4) }),
  fc.record({
    op: fc.constant("mode" as const),
    mode: fc.constantFrom(0x2, 0x3, 0x402, 0x102, 0x202, 0x82, 0x0),
  }),
  fc.record({ op: fc.constant("clock" as const), now: small }),
  fc.record({
    op: fc.constant("lookup" as const),
    id: hexId,
    sidCtx: fc.option(fc.constant("aa"), { nil: undefined }),
    external: fc.option(fc.record({ time: small, timeout: fc.nat(30) }), { nil: undefined }),
  }, { requiredKeys: ["op", "id"] }),
  fc.record({
    op: fc.constant("handshake" as const),
    side: fc.constantFrom("server" as const, "client" as const),
    id: hexId,
    resumed: fc.boolean(),
    tls13: fc.boolean(),
    count: fc.constantFrom(1, 255),
  }),
);

describe("properties of the step logic", () => {
  it("every explanation matches its outcome, and the steps round-trip through the URL", () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 25 }), (steps) => {
        const h = replay(steps);
        for (const e of h.entries) checkExplanation(e);
        const again = replay(decodeSteps(encodeSteps(steps)));
        assert.deepEqual(
          again.entries.map((e) => [headToTail(e.frame.cache), e.frame.cache.stats, e.frame.now]),
          h.entries.map((e) => [headToTail(e.frame.cache), e.frame.cache.stats, e.frame.now]),
        );
      }),
      fcParams({ numRuns: 150 }),
    );
  });
});
