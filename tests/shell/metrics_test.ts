/**
 * Metrics: the samples, the Prometheus text (parsed back with a real parser
 * from npm, parse-prometheus-text-format, and checked line by line against
 * the exposition grammar), the naming conventions, and the fetch-style
 * handler.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import parsePrometheus from "parse-prometheus-text-format";
import {
  collectMetrics,
  formatMetrics,
  METRICS_CONTENT_TYPE,
  metricsHandler,
  SessionCache,
} from "../../mod.ts";
import { TlsClientSessionCache } from "../../node.ts";
import { RedisSessionStore, type SessionStoreClient } from "../../redis.ts";
import { session, sid } from "../_helpers.ts";

interface Family {
  name: string;
  help: string;
  type: string;
  metrics: { value: string; labels?: Record<string, string> }[];
}

const parse = (text: string): Family[] => parsePrometheus(text) as Family[];

/** A sample's value from parsed families. */
function value(families: Family[], name: string, labels: Record<string, string>): number {
  const family = families.find((f) => f.name === name);
  assert.ok(family, `family ${name}`);
  const m = family.metrics.find((m) => JSON.stringify(m.labels ?? {}) === JSON.stringify(labels));
  assert.ok(m, `${name}${JSON.stringify(labels)}`);
  return Number(m.value);
}

/** A server cache that has seen full handshakes, resumptions, an eviction and an expiry. */
function busyServer(): SessionCache {
  let clock = 1000;
  const cache = new SessionCache({ cacheSize: 3, timeout: 300, now: () => clock });
  for (const n of [1, 2, 3]) {
    cache.handshakeStarted("server");
    cache.lookupSync({ id: sid(100 + n) }); // the client offered an unknown id: a miss
    cache.handshakeCompleted({
      side: "server",
      session: session(n, clock, 10 * n),
      resumed: false,
    });
  }
  for (const n of [2, 3]) {
    cache.handshakeStarted("server");
    const found = cache.lookupSync({ id: sid(n) });
    assert.ok(found);
    cache.handshakeCompleted({ side: "server", session: found, resumed: true });
  }
  clock += 100;
  cache.flush(); // session 3 (expiry 1030) and 2 are gone; 1 was evicted
  cache.remove(session(9, 0, 1)); // not cached: the remove callback still runs, as in OpenSSL
  return cache;
}

// The text exposition format, line by line (prometheus/docs "Exposition formats").
const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const LABEL = `[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"`;
const SAMPLE = new RegExp(`^(${NAME})(?:\\{${LABEL}(?:,${LABEL})*\\})? (-?[0-9.e+]+|[+-]Inf|NaN)$`);
const HELP = new RegExp(`^# HELP (${NAME}) \\S.*$`);
const TYPE = new RegExp(`^# TYPE (${NAME}) (counter|gauge)$`);

describe("formatMetrics()", () => {
  it("parses with a Prometheus text parser into the cache's own figures", () => {
    const server = busyServer();
    const families = parse(formatMetrics({ server }));
    const s = server.stats;
    const at = { cache: "server" };
    assert.equal(value(families, "tls_session_cache_accept_total", at), s.accept);
    assert.equal(value(families, "tls_session_cache_accept_good_total", at), s.acceptGood);
    assert.equal(value(families, "tls_session_cache_hits_total", at), s.hits);
    assert.equal(value(families, "tls_session_cache_misses_total", at), s.misses);
    assert.equal(value(families, "tls_session_cache_full_total", at), s.cacheFull);
    assert.equal(value(families, "tls_session_cache_sessions", at), server.size);
    assert.equal(value(families, "tls_session_cache_size_limit_sessions", at), 3);
    assert.equal(value(families, "tls_session_cache_timeout_seconds", at), 300);
    for (const [reason, n] of Object.entries(server.removals)) {
      assert.equal(value(families, "tls_session_cache_removals_total", { ...at, reason }), n);
    }
    // The figures themselves, so the checks above compare against something that happened.
    assert.deepEqual(
      [s.accept, s.hits, s.misses, s.cacheFull, server.size],
      [5, 2, 3, 1, 0],
    );
    assert.deepEqual(server.removals, { expired: 2, evicted: 1, removed: 1, cleared: 0 });
    // Every one of OpenSSL's twelve figures is there.
    for (const key of Object.keys(s)) {
      const snake = key === "number"
        ? "sessions"
        : key === "cacheFull"
        ? "full_total"
        : `${key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}_total`;
      assert.equal(value(families, `tls_session_cache_${snake}`, at), s[key as keyof typeof s]);
    }
  });

  it("writes every line in the exposition grammar, each family once with HELP and TYPE", () => {
    const store = new RedisSessionStore(memoryClient());
    const text = formatMetrics({ server: busyServer(), client: new TlsClientSessionCache() }, {
      store,
      labels: { instance: "edge-1" },
    });
    assert.ok(text.endsWith("\n"));
    const seen = new Set<string>();
    let current = "";
    for (const line of text.slice(0, -1).split("\n")) {
      const help = HELP.exec(line);
      const type = TYPE.exec(line);
      const sample = SAMPLE.exec(line);
      assert.ok(help || type || sample, `not in the exposition grammar: ${line}`);
      if (help) {
        assert.ok(!seen.has(help[1]!), `family ${help[1]} appears once`);
        seen.add(help[1]!);
        current = help[1]!;
      } else if (type) {
        assert.equal(type[1], current, "TYPE follows its HELP");
      } else {
        assert.equal(sample![1], current, "samples follow their family's HELP and TYPE");
        assert.match(line, /instance="edge-1"/);
      }
    }
    assert.ok(seen.has("tls_session_store_gets_total"));
  });

  it("follows Prometheus naming: counters end in _total, gauges do not, units in the name", () => {
    const families = parse(
      formatMetrics(busyServer(), { store: new RedisSessionStore(memoryClient()) }),
    );
    assert.equal(families.length, 11 + 1 + 3 + 11); // counters, removals, gauges, store
    for (const f of families) {
      assert.match(f.name, /^tls_session_(cache|store)_[a-z_]+$/);
      assert.equal(f.name.endsWith("_total"), f.type === "COUNTER", f.name);
      assert.ok(["COUNTER", "GAUGE"].includes(f.type), f.name);
      assert.ok(f.help.length > 10, f.name);
      if (f.name.startsWith("tls_session_cache_") && f.type === "COUNTER") {
        assert.match(f.help, /SSL_CTX_sess_|remove_session_cb/, f.name);
      }
    }
    const timeout = families.find((f) => f.name.includes("timeout_"))!;
    assert.equal(timeout.name, "tls_session_cache_timeout_seconds");
  });

  it("escapes label values so that any cache name survives the parser", () => {
    const name = 'edge "1"\\a\nb';
    const families = parse(formatMetrics({ [name]: new SessionCache() }));
    assert.equal(value(families, "tls_session_cache_hits_total", { cache: name }), 0);
  });

  it("reports a client cache, which has no removals by reason", () => {
    const client = new TlsClientSessionCache();
    const families = parse(formatMetrics({ client }));
    assert.equal(value(families, "tls_session_cache_connect_total", { cache: "client" }), 0);
    assert.equal(families.some((f) => f.name === "tls_session_cache_removals_total"), false);
  });

  it("reports the store's counters", async () => {
    const store = new RedisSessionStore(memoryClient(), { sidCtx: "m" });
    const a = new SessionCache({ ...store.hooks });
    const s = { id: sid(5), time: Date.now() / 1000, timeout: 300 };
    await a.handshakeCompleted({ side: "server", session: s, resumed: false });
    await new SessionCache({ ...store.hooks }).lookup({ id: s.id });
    await new SessionCache({ ...store.hooks }).lookup({ id: sid(6) });
    const families = parse(formatMetrics(a, { store }));
    for (const [key, n] of Object.entries(store.stats)) {
      assert.equal(value(families, `tls_session_store_${key}_total`, {}), n, key);
    }
    assert.deepEqual([store.stats.sets, store.stats.hits, store.stats.misses], [1, 1, 1]);
  });

  it("refuses what is not a cache, a store or a label, with the std grammar", () => {
    const cache = new SessionCache();
    assert.throws(() => formatMetrics({} as never), {
      name: "TypeError",
      message:
        "Cannot collect metrics: caches must be a cache or a record of caches by name: received an object",
    });
    assert.throws(() => formatMetrics({ a: cache, b: 3 } as never), TypeError);
    assert.throws(() => formatMetrics(null as never), /received null$/);
    assert.throws(() => formatMetrics(cache, { store: {} as never }), /store must have the stats/);
    assert.throws(() => formatMetrics(cache, { labels: { cache: "x" } }), /received "cache"$/);
    assert.throws(() => formatMetrics(cache, { labels: { "bad-name": "x" } }), TypeError);
    assert.throws(() => metricsHandler(3 as never), TypeError); // at once, not on first scrape
  });
});

describe("collectMetrics()", () => {
  it("gives plain samples, counters first, the share of resumed handshakes derivable", () => {
    const server = busyServer();
    const samples = collectMetrics({ server });
    const get = (name: string) => samples.find((s) => s.name === name)!;
    assert.equal(get("tls_session_cache_hits_total").type, "counter");
    assert.equal(get("tls_session_cache_sessions").type, "gauge");
    assert.equal(
      get("tls_session_cache_hits_total").value / get("tls_session_cache_accept_total").value,
      2 / 5,
    );
    assert.notEqual(collectMetrics({ server }), collectMetrics({ server })); // fresh each call
    assert.equal(
      samples.findIndex((s) => s.type === "gauge") >
        samples.findLastIndex((s) => s.type === "counter"),
      true,
    );
  });
});

describe("metricsHandler()", () => {
  it("answers GET with the current text, HEAD with no body, anything else with 405", async () => {
    const cache = new SessionCache();
    const handler = metricsHandler({ server: cache });
    cache.add(session(1, 0, 10));
    const got = handler(new Request("http://127.0.0.1/metrics"));
    assert.equal(got.status, 200);
    assert.equal(got.headers.get("content-type"), METRICS_CONTENT_TYPE);
    const text = await got.text();
    assert.equal(value(parse(text), "tls_session_cache_sessions", { cache: "server" }), 1);
    const head = handler(new Request("http://127.0.0.1/metrics", { method: "HEAD" }));
    assert.equal(head.status, 200);
    assert.equal(await head.text(), "");
    const post = handler(new Request("http://127.0.0.1/metrics", { method: "POST" }));
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
  });
});

function memoryClient(): SessionStoreClient {
  const map = new Map<string, string>();
  return {
    get: (key) => Promise.resolve(map.get(key) ?? null),
    set: (key, v) => Promise.resolve(void map.set(key, v)),
    del: (key) => Promise.resolve(map.delete(key)),
  };
}
