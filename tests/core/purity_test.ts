// Purity under a long run: values held while 10^4 further operations of every kind
// run on the newest value (adds that evict, lookups that hit and expire, removals,
// flushes, re-timed sessions, new settings, handshakes; the history splits several
// times) still read exactly as they did, and the frozen inputs are untouched.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as core from "../../core.ts";
import { SessionCache } from "../../mod.ts";
import { checkState } from "../_check.ts";
import { Rng } from "../../bench/_rng.ts"; // seeded: the same run on every runtime

const OPS = 10_000;

/** Everything a value answers, as one string. */
function contents(v: core.CacheState): string {
  const sessions = [...core.sessions(v)].map((s) => ({
    id: Array.from(s.id),
    time: s.time,
    timeout: s.timeout,
    version: s.version,
  }));
  return JSON.stringify({
    size: v.size,
    cacheSize: v.cacheSize,
    mode: v.mode,
    timeout: v.timeout,
    stats: v.stats,
    sessions,
  });
}

function frozenSession(id: number, time: number, timeout: number): core.Session {
  return Object.freeze({ id: new Uint8Array([id & 0xff, id >> 8]), time, timeout });
}

describe("purity over 10^4 further operations", () => {
  it("old core values read as they did; frozen inputs stay frozen and unchanged", () => {
    const rng = new Rng(7);
    let v = core.createCacheState({ cacheSize: 64, timeout: 50 });
    const inputs: { session: core.Session; copy: string }[] = [];
    const held: { value: core.CacheState; was: string }[] = [];
    let now = 1;
    for (let i = 0; i < OPS; i++) {
      now += rng.int(3) === 0 ? 1 : 0;
      const id = rng.int(200);
      const op = rng.int(10);
      if (op < 4) {
        const s = frozenSession(id, now, 1 + rng.int(80));
        inputs.push({ session: s, copy: JSON.stringify({ ...s, id: Array.from(s.id) }) });
        v = core.add(v, s).cache;
      } else if (op < 6) {
        v = core.lookup(v, { id: new Uint8Array([id & 0xff, id >> 8]) }, { now }).cache;
      } else if (op === 6) {
        const cached = [...core.sessions(v)];
        if (cached.length > 0) v = core.remove(v, cached[rng.int(cached.length)]!).cache;
      } else if (op === 7) {
        v = core.flush(v, rng.int(20) === 0 ? 0 : now).cache;
      } else if (op === 8) {
        const key = { id: new Uint8Array([id & 0xff, id >> 8]) };
        v = core.setSessionTimeout(v, key, { timeout: 1 + rng.int(100) }).cache;
      } else {
        const s = frozenSession(id, now, 30);
        inputs.push({ session: s, copy: JSON.stringify({ ...s, id: Array.from(s.id) }) });
        v = core.handshakeCompleted(v, { side: "server", session: s, resumed: false }, { now })
          .cache;
        if (rng.int(50) === 0) v = core.configure(v, { cacheSize: 16 + rng.int(100) });
      }
      if (i % 997 === 0) held.push({ value: v, was: contents(v) });
    }
    assert.ok(held.length >= 10);
    for (const h of held) {
      assert.equal(contents(h.value), h.was);
      checkState(h.value);
    }
    // Re-read in reverse and alternating order: the same again.
    for (let k = 0; k < held.length; k++) {
      const h = held[k % 2 === 0 ? k : held.length - k]!;
      assert.equal(contents(h.value), h.was);
    }
    for (const { session, copy } of inputs) {
      assert.ok(Object.isFrozen(session));
      assert.equal(JSON.stringify({ ...session, id: Array.from(session.id) }), copy);
    }
  });

  it("a value handed out by SessionCache.state reads as it did after 10^4 shell operations", async () => {
    let t = 1;
    const cache = new SessionCache({ cacheSize: 64, timeout: 50, now: () => t });
    const rng = new Rng(8);
    const handed: { value: core.CacheState; was: string }[] = [];
    for (let i = 0; i < OPS; i++) {
      if (rng.int(3) === 0) t++;
      const id = new Uint8Array([rng.int(256), rng.int(4)]);
      const op = rng.int(4);
      if (op < 2) cache.add({ id, time: t, timeout: 1 + rng.int(80) });
      else if (op === 2) await cache.lookup({ id });
      else cache.flush(t);
      if (i % 1999 === 0) {
        const value = cache.state;
        handed.push({ value, was: contents(value) });
      }
    }
    for (const h of handed) assert.equal(contents(h.value), h.was);
    assert.equal(contents(cache.state), contents(cache.state));
  });
});
