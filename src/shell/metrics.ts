// This module is browser compatible.

/**
 * The cache's figures for a monitoring system: OpenSSL's twelve
 * `SSL_CTX_sess_*` counters, the number of sessions, the size limit and
 * timeout, removals by reason and an external store's counters, as samples
 * ({@linkcode collectMetrics}, for OpenTelemetry-style observable
 * instruments), as the Prometheus text exposition format
 * ({@linkcode formatMetrics}), and as a `Request => Response` handler
 * ({@linkcode metricsHandler}) for `Deno.serve`, `Bun.serve` or any
 * fetch-style server.
 *
 * Names follow Prometheus conventions (`tls_session_cache_` prefix,
 * counters end in `_total`, units in the name) and each HELP line names
 * the OpenSSL call that reads the same figure, so an operator who knows
 * nginx's or HAProxy's session-cache counters finds them here.
 *
 * @module
 */

import type { CacheStats } from "../core/cache_state.ts";
import type { RemovalReason } from "../session.ts";
import { show } from "../_validate.ts";
import type { RemovalCounts } from "./session_cache.ts";

/**
 * Anything with OpenSSL's counters: a `SessionCache`, or a
 * `TlsClientSessionCache` from `./node`. The optional fields are reported
 * when present.
 */
export interface CacheMetricsSource {
  /** The twelve counters and the number of sessions. */
  readonly stats: CacheStats;
  /** Removals by reason (`SessionCache.removals`). */
  readonly removals?: RemovalCounts;
  /** The size limit (`SessionCache.cacheSize`). */
  readonly cacheSize?: number;
  /** The default session lifetime in seconds. */
  readonly timeout?: number;
}

/** The counters of an external session store (`RedisSessionStore.stats` documents each). */
export type StoreCounter =
  | "gets"
  | "hits"
  | "misses"
  | "rejected"
  | "sets"
  | "dels"
  | "kept"
  | "errors"
  | "timeouts"
  | "skipped"
  | "dropped";

/** An external store's counters by name, as `RedisSessionStore.stats` gives them. */
export type StoreMetricsStats = Readonly<Record<StoreCounter, number>>;

/** An external session store to report (a `RedisSessionStore` from `./redis`). */
export interface StoreMetricsSource {
  /** The store's counters. */
  readonly stats: StoreMetricsStats;
}

/** Options of {@linkcode collectMetrics}, {@linkcode formatMetrics} and {@linkcode metricsHandler}. */
export interface MetricsOptions {
  /** An external store whose counters are reported too (`tls_session_store_*`). */
  readonly store?: StoreMetricsSource;
  /** Labels added to every sample, e.g. `{ instance: "edge-1" }`. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** One sample: a metric name, its kind and help text, its labels and its value. */
export interface MetricSample {
  /** The metric (family) name, e.g. `tls_session_cache_hits_total`. */
  readonly name: string;
  /** `counter` (only ever grows) or `gauge`. */
  readonly type: "counter" | "gauge";
  /** One line saying what it counts, with the OpenSSL call that reads it. */
  readonly help: string;
  /** Label names and values: `cache` names the cache (`"default"` for a single one). */
  readonly labels: Readonly<Record<string, string>>;
  /** The value. */
  readonly value: number;
}

/** The caches to report: one (labelled `cache="default"`), or several by name. */
export type MetricsCaches = CacheMetricsSource | Readonly<Record<string, CacheMetricsSource>>;

type Family = readonly [name: string, type: "counter" | "gauge", help: string];

const COUNTERS: readonly (readonly [keyof CacheStats, ...Family])[] = [
  [
    "connect",
    "tls_session_cache_connect_total",
    "counter",
    "Client handshakes started (SSL_CTX_sess_connect).",
  ],
  [
    "connectGood",
    "tls_session_cache_connect_good_total",
    "counter",
    "Client handshakes completed (SSL_CTX_sess_connect_good).",
  ],
  [
    "connectRenegotiate",
    "tls_session_cache_connect_renegotiate_total",
    "counter",
    "Client renegotiations started (SSL_CTX_sess_connect_renegotiate).",
  ],
  [
    "accept",
    "tls_session_cache_accept_total",
    "counter",
    "Server handshakes started (SSL_CTX_sess_accept).",
  ],
  [
    "acceptGood",
    "tls_session_cache_accept_good_total",
    "counter",
    "Server handshakes completed (SSL_CTX_sess_accept_good).",
  ],
  [
    "acceptRenegotiate",
    "tls_session_cache_accept_renegotiate_total",
    "counter",
    "Server renegotiations started (SSL_CTX_sess_accept_renegotiate).",
  ],
  [
    "hits",
    "tls_session_cache_hits_total",
    "counter",
    "Sessions resumed, from the internal or the external cache (SSL_CTX_sess_hits).",
  ],
  [
    "cbHits",
    "tls_session_cache_cb_hits_total",
    "counter",
    "Sessions supplied by the external cache, get_session_cb (SSL_CTX_sess_cb_hits).",
  ],
  [
    "misses",
    "tls_session_cache_misses_total",
    "counter",
    "Lookups that missed the internal cache (SSL_CTX_sess_misses).",
  ],
  [
    "timeouts",
    "tls_session_cache_timeouts_total",
    "counter",
    "Expired sessions met on lookup (SSL_CTX_sess_timeouts).",
  ],
  [
    "cacheFull",
    "tls_session_cache_full_total",
    "counter",
    "Sessions evicted because the cache was full (SSL_CTX_sess_cache_full).",
  ],
];

const STORE: readonly (readonly [StoreCounter, ...Family])[] = [
  [
    "gets",
    "tls_session_store_gets_total",
    "counter",
    "Lookups asked of the external store (get_session_cb calls).",
  ],
  ["hits", "tls_session_store_hits_total", "counter", "Store lookups that returned a session."],
  [
    "misses",
    "tls_session_store_misses_total",
    "counter",
    "Store lookups that returned nothing: absent, refused, failed or timed out.",
  ],
  [
    "rejected",
    "tls_session_store_rejected_total",
    "counter",
    "Values read from the store but refused: malformed, wrong id or undecryptable.",
  ],
  [
    "sets",
    "tls_session_store_sets_total",
    "counter",
    "New sessions written to the store (new_session_cb calls acknowledged).",
  ],
  [
    "dels",
    "tls_session_store_dels_total",
    "counter",
    "Removals acknowledged by the store (remove_session_cb calls forwarded).",
  ],
  [
    "kept",
    "tls_session_store_kept_total",
    "counter",
    "Removals not forwarded: evictions, expiries and clears of one process's cache.",
  ],
  ["errors", "tls_session_store_errors_total", "counter", "Store calls that failed."],
  [
    "timeouts",
    "tls_session_store_timeouts_total",
    "counter",
    "Store calls that missed their deadline.",
  ],
  [
    "skipped",
    "tls_session_store_skipped_total",
    "counter",
    "Store calls not sent because the circuit breaker was open.",
  ],
  [
    "dropped",
    "tls_session_store_dropped_total",
    "counter",
    "Store calls not sent because too many were in flight (maxInFlight).",
  ],
];

const REASONS: readonly RemovalReason[] = ["expired", "evicted", "removed", "cleared"];

function isSource(value: unknown): value is CacheMetricsSource {
  if (typeof value !== "object" || value === null) return false;
  const stats = (value as { stats?: unknown }).stats;
  return typeof stats === "object" && stats !== null &&
    typeof (stats as { hits?: unknown }).hits === "number";
}

function namedCaches(action: string, caches: MetricsCaches): [string, CacheMetricsSource][] {
  if (isSource(caches)) return [["default", caches]];
  const named = typeof caches === "object" && caches !== null ? Object.entries(caches) : [];
  if (named.length === 0 || !named.every(([, c]) => isSource(c))) {
    throw new TypeError(
      `Cannot ${action}: caches must be a cache or a record of caches by name: received ${
        show(caches)
      }`,
    );
  }
  return named as [string, CacheMetricsSource][];
}

function checkOptions(action: string, options: MetricsOptions): void {
  const { store, labels } = options;
  if (store !== undefined && typeof store?.stats?.gets !== "number") {
    throw new TypeError(
      `Cannot ${action}: store must have the stats of a session store: received ${show(store)}`,
    );
  }
  if (labels === undefined) return;
  for (const [name, value] of Object.entries(labels)) {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name) || name.startsWith("__") || name === "cache") {
      throw new TypeError(
        `Cannot ${action}: label names must match [a-zA-Z_][a-zA-Z0-9_]*, not start with "__" and not be "cache": received ${
          show(name)
        }`,
      );
    }
    if (typeof value !== "string") {
      throw new TypeError(
        `Cannot ${action}: label values must be strings: received ${show(value)}`,
      );
    }
  }
}

/**
 * The figures of one or more caches (and optionally a store) as plain
 * samples, counters first: what an OpenTelemetry observable counter or
 * gauge callback reports, or any other monitoring system reads.
 *
 * Every cache gives `tls_session_cache_sessions` (`SSL_CTX_sess_number`)
 * and the eleven counters; a `SessionCache` also its size limit, timeout
 * and `tls_session_cache_removals_total` by reason. The share of server
 * handshakes that resumed is `hits_total / accept_total`.
 *
 * @param caches One cache (labelled `cache="default"`) or a record of caches by name.
 * @param options A store to report and labels for every sample.
 * @returns The samples, a fresh array each call.
 * @throws {TypeError} If `caches`, the store or a label is not valid.
 *
 * @example The share of handshakes that resumed, from two samples
 * ```ts
 * import assert from "node:assert/strict";
 * import { collectMetrics, SessionCache } from "@sesscache/openssl-session-cache";
 *
 * const server = new SessionCache({ now: () => 1 });
 * const session = { id: new Uint8Array([1]), time: 0, timeout: 300 };
 * server.handshakeStarted("server"); // a full handshake
 * server.handshakeCompleted({ side: "server", session, resumed: false });
 * server.handshakeStarted("server"); // a resumed one
 * const resumed = server.lookupSync({ id: session.id });
 * server.handshakeCompleted({ side: "server", session: resumed!, resumed: true });
 *
 * const samples = collectMetrics({ server });
 * const value = (name: string) => samples.find((s) => s.name === name)!.value;
 * assert.equal(value("tls_session_cache_hits_total") / value("tls_session_cache_accept_total"), 0.5);
 * assert.deepEqual(samples[0]!.labels, { cache: "server" });
 * ```
 */
export function collectMetrics(
  caches: MetricsCaches,
  options: MetricsOptions = {},
): MetricSample[] {
  const action = "collect metrics";
  const named = namedCaches(action, caches);
  checkOptions(action, options);
  const extra = options.labels ?? {};
  const samples: MetricSample[] = [];
  const push = ([name, type, help]: Family, labels: Record<string, string>, value: number) =>
    samples.push({ name, type, help, labels: { ...labels, ...extra }, value });

  for (const [key, ...family] of COUNTERS) {
    for (const [cache, source] of named) push(family, { cache }, source.stats[key]);
  }
  const removals: Family = [
    "tls_session_cache_removals_total",
    "counter",
    "Sessions that left the cache, by reason: remove_session_cb calls (evicted is SSL_CTX_sess_cache_full).",
  ];
  for (const reason of REASONS) {
    for (const [cache, source] of named) {
      if (source.removals !== undefined) push(removals, { cache, reason }, source.removals[reason]);
    }
  }
  const gauges: readonly [Family, (s: CacheMetricsSource) => number | undefined][] = [
    [
      ["tls_session_cache_sessions", "gauge", "Sessions in the cache now (SSL_CTX_sess_number)."],
      (s) => s.stats.number,
    ],
    [
      [
        "tls_session_cache_size_limit_sessions",
        "gauge",
        "Most sessions the cache keeps, 0 for unlimited; size N holds N - 1 (SSL_CTX_sess_get_cache_size).",
      ],
      (s) => s.cacheSize,
    ],
    [
      [
        "tls_session_cache_timeout_seconds",
        "gauge",
        "Default lifetime of new sessions in seconds (SSL_CTX_get_timeout).",
      ],
      (s) => s.timeout,
    ],
  ];
  for (const [family, read] of gauges) {
    for (const [cache, source] of named) {
      const value = read(source);
      if (typeof value === "number") push(family, { cache }, value);
    }
  }
  const store = options.store;
  if (store !== undefined) {
    for (const [key, ...family] of STORE) push(family, {}, store.stats[key]);
  }
  return samples;
}

function escapeLabel(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

/**
 * The figures of one or more caches (and optionally a store) in the
 * Prometheus text exposition format, version 0.0.4: a `# HELP` and a
 * `# TYPE` line per metric, then one sample line per cache. Serve it as
 * {@linkcode METRICS_CONTENT_TYPE}.
 *
 * @param caches One cache (labelled `cache="default"`) or a record of caches by name.
 * @param options A store to report and labels for every sample.
 * @returns The exposition text, ending with a newline.
 * @throws {TypeError} If `caches`, the store or a label is not valid.
 *
 * @example One line per counter, in OpenSSL's vocabulary
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatMetrics, SessionCache } from "@sesscache/openssl-session-cache";
 *
 * const cache = new SessionCache({ cacheSize: 2 });
 * cache.add({ id: new Uint8Array([1]), time: 0, timeout: 10 });
 * cache.add({ id: new Uint8Array([2]), time: 0, timeout: 20 }); // size 2 holds 1
 * const text = formatMetrics(cache);
 * assert.match(text, /^tls_session_cache_full_total\{cache="default"\} 1$/m);
 * assert.match(text, /^# HELP tls_session_cache_sessions Sessions in the cache now/m);
 * ```
 */
export function formatMetrics(caches: MetricsCaches, options: MetricsOptions = {}): string {
  const lines: string[] = [];
  let family = "";
  for (const sample of collectMetrics(caches, options)) {
    if (sample.name !== family) {
      family = sample.name;
      lines.push(`# HELP ${sample.name} ${sample.help}`, `# TYPE ${sample.name} ${sample.type}`);
    }
    const labels = Object.entries(sample.labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
    const value = Number.isFinite(sample.value) ? String(sample.value) : "+Inf";
    lines.push(`${sample.name}${labels.length > 0 ? `{${labels.join(",")}}` : ""} ${value}`);
  }
  return lines.join("\n") + "\n";
}

/** The content type of {@linkcode formatMetrics}'s text: Prometheus text format 0.0.4. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/**
 * A fetch-style handler that answers `GET` (and `HEAD`) with
 * {@linkcode formatMetrics}'s text, read afresh on every request, and any
 * other method with 405. Mount it on a path of your choice: with
 * `Deno.serve`, `Bun.serve`, or Node via any fetch-style adapter.
 *
 * @param caches One cache (labelled `cache="default"`) or a record of caches by name.
 * @param options A store to report and labels for every sample.
 * @returns A function from a `Request` to a `Response`.
 * @throws {TypeError} If `caches`, the store or a label is not valid (checked at once).
 *
 * @example Scraping a cache
 * ```ts
 * import assert from "node:assert/strict";
 * import { metricsHandler, SessionCache } from "@sesscache/openssl-session-cache";
 *
 * const handler = metricsHandler({ server: new SessionCache() });
 * const response = handler(new Request("http://localhost/metrics"));
 * assert.equal(response.status, 200);
 * assert.match(await response.text(), /tls_session_cache_hits_total\{cache="server"\} 0/);
 * ```
 */
export function metricsHandler(
  caches: MetricsCaches,
  options: MetricsOptions = {},
): (request: Request) => Response {
  collectMetrics(caches, options); // refuse bad arguments now, not on the first scrape
  return (request) => {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("Method Not Allowed\n", {
        status: 405,
        headers: { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" },
      });
    }
    const body = formatMetrics(caches, options);
    return new Response(request.method === "HEAD" ? null : body, {
      headers: { "content-type": METRICS_CONTENT_TYPE },
    });
  };
}
