/**
 * attachSessionCache: real TLS handshakes on 127.0.0.1 between node:tls
 * servers whose sessions live in a SessionCache and Node or `openssl
 * s_client` clients.
 *
 * Node only: Deno 2.9 and Bun 1.4 accept the 'newSession'/'resumeSession'
 * listeners but never call them, so these tests are skipped there (the
 * client-side cache is tested on all three in tls_client_test.ts).
 */

import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createServer as createHttpsServer } from "node:https";
import { createServer, type Server, type TlsOptions } from "node:tls";
import { attachSessionCache, type AttachSessionCacheOptions } from "../../node.ts";
import { SessionCache, type SessionCacheOptions } from "../../mod.ts";
import type { Session } from "../../mod.ts";
import { SESS_CACHE_NO_INTERNAL, SESS_CACHE_SERVER } from "../../mod.ts";
import {
  CERT,
  close,
  connectOnce,
  KEY,
  listen,
  RUNTIME,
  sClientReconnect,
  serveWithCache,
  tls12Ids,
} from "./_tls.ts";

const skip = RUNTIME === "node"
  ? false
  : `${RUNTIME} never calls node:tls 'newSession'/'resumeSession' listeners (server adapter is Node-only)`;
if (skip) console.warn(`SKIPPED: ${skip}`);

const hasOpenssl = (() => {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore", timeout: 5000 });
    return true;
  } catch {
    return false;
  }
})();

/** TLS 1.2, no tickets: resumption by session id, through the cache. */
const TLS12_IDS: TlsOptions = tls12Ids("tls-server-test");

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map(close));
});

/** A started server with the cache attached; the server ends each connection after its handshake. */
async function serve(
  cache: SessionCache,
  options: AttachSessionCacheOptions = {},
  tls: TlsOptions = TLS12_IDS,
): Promise<{ port: number; server: Server; detach: () => void; serverReused: boolean[] }> {
  const served = await serveWithCache(servers, cache, options, tls);
  return { ...served, detach: () => served.attached.detach() };
}

function pick(cache: SessionCache, ...names: (keyof SessionCache["stats"])[]) {
  return Object.fromEntries(names.map((n) => [n, cache.stats[n]]));
}

describe("attachSessionCache with a Node client", { skip }, () => {
  it("the second connection resumes on both ends: one miss, then one hit", async () => {
    const cache = new SessionCache();
    const { port, serverReused } = await serve(cache);
    const first = await connectOnce(port);
    assert.equal(first.reused, false);
    assert.equal(cache.size, 1);
    const second = await connectOnce(port, { session: first.sessions.at(-1) });
    assert.equal(second.reused, true);
    assert.deepEqual(serverReused, [false, true]);
    assert.deepEqual(pick(cache, "accept", "acceptGood", "misses", "hits", "number"), {
      accept: 2,
      acceptGood: 2,
      misses: 1, // Node clients send a random 32-byte id on their first connection
      hits: 1,
      number: 1,
    });
  });

  it("stores the session with the server's context, lifetime and the cache's clock", async () => {
    const cache = new SessionCache({ now: () => 5000 });
    const { port } = await serve(cache, {}, { ...TLS12_IDS, sessionTimeout: 120 });
    await connectOnce(port);
    const [s] = [...cache];
    assert.ok(s);
    assert.equal(s.time, 5000);
    assert.equal(s.timeout, 120);
    assert.equal(s.version, 0x0303);
    assert.deepEqual(s.sidCtx, new TextEncoder().encode("tls-server-test"));
    assert.equal(s.id.length, 32);
    assert.ok(s.data !== undefined && s.data.length > 32);
  });

  it("calls onNewSession once per new session, never for resumptions", async () => {
    const seen: Session[] = [];
    const cache = new SessionCache({ onNewSession: (s) => seen.push(s) });
    const { port } = await serve(cache);
    const first = await connectOnce(port);
    await connectOnce(port, { session: first.sessions.at(-1) });
    await connectOnce(port, { session: first.sessions.at(-1) });
    assert.equal(seen.length, 1);
    assert.equal(cache.stats.hits, 2);
  });

  it("a session past its lifetime does not resume: timeouts +1, removed, remove callback", async () => {
    let now = 1000;
    const removed: Session[] = [];
    const cache = new SessionCache({ now: () => now, onRemoveSession: (s) => removed.push(s) });
    const { port } = await serve(cache, { sessionTimeout: 60 });
    const first = await connectOnce(port);
    const id = [...cache][0]!.id;
    now = 1061; // expired iff now > time + timeout
    const late = await connectOnce(port, { session: first.sessions.at(-1) });
    assert.equal(late.reused, false);
    assert.equal(cache.stats.timeouts, 1);
    assert.equal(cache.stats.hits, 0);
    assert.equal(removed.length, 1);
    assert.deepEqual(removed[0]!.id, id);
    assert.equal(cache.get(id, { version: 0x0303 }), undefined);
    assert.equal(cache.size, 1, "the full handshake stored a new session");
  });

  it("still resumes at exactly time + timeout", async () => {
    let now = 1000;
    const cache = new SessionCache({ now: () => now });
    const { port } = await serve(cache, { sessionTimeout: 60 });
    const first = await connectOnce(port);
    now = 1060;
    assert.equal((await connectOnce(port, { session: first.sessions.at(-1) })).reused, true);
  });

  it("an evicted session does not resume (cache size 2 holds one session)", async () => {
    const removed: Session[] = [];
    const cache = new SessionCache({ cacheSize: 2, onRemoveSession: (s) => removed.push(s) });
    const { port } = await serve(cache);
    const a = await connectOnce(port);
    const b = await connectOnce(port);
    assert.equal(cache.stats.cacheFull, 1);
    assert.equal(removed.length, 1);
    assert.equal((await connectOnce(port, { session: a.sessions.at(-1) })).reused, false);
    // b was evicted by the full handshake just made, as the cache holds one session.
    assert.equal(cache.size, 1);
    const c = await connectOnce(port);
    assert.equal((await connectOnce(port, { session: c.sessions.at(-1) })).reused, true);
    void b;
  });

  it("two servers sharing one cache resume each other's sessions", async () => {
    const cache = new SessionCache();
    const one = await serve(cache);
    const two = await serve(cache);
    const first = await connectOnce(one.port);
    const onTwo = await connectOnce(two.port, { session: first.sessions.at(-1) });
    assert.equal(onTwo.reused, true);
    const fresh = await connectOnce(two.port);
    assert.equal((await connectOnce(one.port, { session: fresh.sessions.at(-1) })).reused, true);
    assert.deepEqual(pick(cache, "accept", "acceptGood", "hits", "number"), {
      accept: 4,
      acceptGood: 4,
      hits: 2,
      number: 2,
    });
  });

  it("a server under another session id context does not resume the session", async () => {
    const cache = new SessionCache();
    const one = await serve(cache);
    const other = await serve(cache, {}, { ...TLS12_IDS, sessionIdContext: "someone-else" });
    const first = await connectOnce(one.port);
    const there = await connectOnce(other.port, { session: first.sessions.at(-1) });
    assert.equal(there.reused, false);
    assert.equal(cache.stats.hits, 0);
  });

  it("works on a node:https server", async () => {
    const cache = new SessionCache();
    const server = createHttpsServer(TLS12_IDS, (_req, res) => res.end("ok"));
    attachSessionCache(server, cache);
    server.on("secureConnection", (socket) => socket.end());
    servers.push(server);
    const port = await listen(server);
    const first = await connectOnce(port);
    assert.equal((await connectOnce(port, { session: first.sessions.at(-1) })).reused, true);
    assert.equal(cache.stats.hits, 1);
  });

  it("an asynchronous external store is awaited (external hit: cbHits +1)", async () => {
    const store = new Map<string, Session>();
    const key = (id: Uint8Array) => Buffer.from(id).toString("hex");
    const cache = new SessionCache({
      mode: SESS_CACHE_SERVER | SESS_CACHE_NO_INTERNAL, // every lookup goes to the store
      onNewSession: (s) => store.set(key(s.id), s),
      getSession: async ({ id }) => {
        await new Promise((r) => setTimeout(r, 10));
        return store.get(key(id));
      },
    });
    const { port } = await serve(cache);
    const first = await connectOnce(port);
    assert.equal(cache.size, 0, "NO_INTERNAL_STORE: the internal table stays empty");
    assert.equal((await connectOnce(port, { session: first.sessions.at(-1) })).reused, true);
    assert.deepEqual(pick(cache, "cbHits", "hits"), { cbHits: 1, hits: 1 });
  });

  it("a throwing store degrades to a full handshake and reports the error", async () => {
    const errors: unknown[] = [];
    const cache = new SessionCache({
      mode: SESS_CACHE_SERVER | SESS_CACHE_NO_INTERNAL,
      getSession: () => {
        throw new Error("store down");
      },
      onError: (e) => errors.push(e),
    });
    const { port } = await serve(cache);
    const first = await connectOnce(port);
    const again = await connectOnce(port, { session: first.sessions.at(-1) });
    assert.equal(again.reused, false);
    assert.ok(errors.length >= 1);
    assert.match(String(errors[0]), /store down/);
  });

  it("a store that never answers costs at most lookupTimeoutMs, then a full handshake", async () => {
    const errors: unknown[] = [];
    const cache = new SessionCache({
      mode: SESS_CACHE_SERVER | SESS_CACHE_NO_INTERNAL,
      getSession: () => new Promise<undefined>(() => {}), // hangs forever
    });
    const { port } = await serve(cache, { lookupTimeoutMs: 30, onError: (e) => errors.push(e) });
    const first = await connectOnce(port, { timeoutMs: 3000 });
    const started = performance.now();
    const again = await connectOnce(port, { session: first.sessions.at(-1), timeoutMs: 3000 });
    assert.equal(again.reused, false);
    assert.ok(performance.now() - started < 2000);
    assert.ok(errors.some((e) => /did not answer within 30 ms/.test(String(e))));
  });

  it("a throwing onNewSession does not break the handshake", async () => {
    const errors: unknown[] = [];
    const cache = new SessionCache({
      onNewSession: () => {
        throw new Error("callback failed");
      },
    });
    const { port } = await serve(cache, { onError: (e) => errors.push(e) });
    const first = await connectOnce(port);
    assert.equal(cache.size, 1, "committed before the callback ran");
    assert.equal((await connectOnce(port, { session: first.sessions.at(-1) })).reused, true);
    assert.match(String(errors[0]), /callback failed/);
  });

  it("flushes expired sessions during the 256th completed handshake", async () => {
    let now = 1000;
    const removed: Session[] = [];
    const cache = new SessionCache({ now: () => now, onRemoveSession: (s) => removed.push(s) });
    const { port } = await serve(cache, { sessionTimeout: 10 });
    const first = await connectOnce(port);
    now = 1100; // the first session has expired; nothing looks it up
    const second = await connectOnce(port); // a full handshake: stores a fresh session
    const session = second.sessions.at(-1);
    for (let i = 2; i < 255; i++) await connectOnce(port, { session }); // resumptions
    assert.equal(cache.stats.acceptGood, 255);
    assert.equal(removed.length, 0, "no flush before the 256th handshake");
    await connectOnce(port, { session }); // the 256th
    assert.equal(cache.stats.acceptGood, 256);
    assert.equal(removed.length, 1, "the auto-flush removed the expired session");
    assert.equal(cache.size, 1);
    void first;
  });

  it("counts TLS 1.3 handshakes and stores none of their sessions", async () => {
    const cache = new SessionCache();
    const { port } = await serve(cache, {}, { key: KEY, cert: CERT, minVersion: "TLSv1.3" });
    const first = await connectOnce(port);
    assert.equal(first.protocol, "TLSv1.3");
    const again = await connectOnce(port, { session: first.sessions.at(-1) });
    assert.equal(again.reused, true, "Node resumes TLS 1.3 from its own tickets");
    assert.equal(cache.size, 0);
    // Node still asks for the random legacy session id of each TLS 1.3 hello: a miss each.
    assert.deepEqual(pick(cache, "accept", "acceptGood", "misses", "hits"), {
      accept: 2,
      acceptGood: 2,
      misses: 2,
      hits: 0,
    });
  });

  it("after detach() the cache sees nothing", async () => {
    const cache = new SessionCache();
    const { port, detach } = await serve(cache);
    await connectOnce(port);
    detach();
    detach(); // idempotent
    await connectOnce(port);
    assert.equal(cache.stats.accept, 1);
    assert.equal(cache.size, 1);
  });
});

describe("attachSessionCache with openssl s_client", {
  skip: skip || (!hasOpenssl && "openssl not installed"),
}, () => {
  it("`s_client -tls1_2 -no_ticket -reconnect`: all 5 reconnects resume", async () => {
    const cache = new SessionCache();
    const { port } = await serve(cache);
    const lines = await sClientReconnect(port);
    assert.equal(lines.length, 6, lines.join("\n"));
    assert.match(lines[0]!, /^New, TLSv1\.2/);
    for (const line of lines.slice(1)) assert.match(line, /^Reused, TLSv1\.2/);
    // s_client's first hello has an empty session id: no lookup, no miss.
    assert.deepEqual(pick(cache, "accept", "acceptGood", "misses", "hits", "number"), {
      accept: 6,
      acceptGood: 6,
      misses: 0,
      hits: 5,
      number: 1,
    });
  });
});

describe("attachSessionCache arguments", () => {
  it("refuses a second cache on the same server", () => {
    const server = createServer();
    const handle = attachSessionCache(server, new SessionCache());
    assert.throws(
      () => attachSessionCache(server, new SessionCache()),
      /^TypeError: Cannot attach session cache: server must have no "newSession" listener \(one cache per server\): received 1$/,
    );
    handle.detach();
    attachSessionCache(server, new SessionCache()).detach();
  });

  it("refuses bad arguments with TypeError or RangeError", () => {
    const server = createServer();
    const cache = new SessionCache();
    assert.throws(() => attachSessionCache({} as Server, cache), TypeError);
    assert.throws(() => attachSessionCache(server, {} as SessionCache), TypeError);
    assert.throws(() => attachSessionCache(server, cache, { sessionTimeout: -1 }), RangeError);
    assert.throws(() => attachSessionCache(server, cache, { lookupTimeoutMs: NaN }), RangeError);
    assert.throws(() => attachSessionCache(server, cache, { sidCtx: "x".repeat(33) }), RangeError);
    assert.throws(
      () => attachSessionCache(server, cache, { sidCtx: 5 as unknown as string }),
      TypeError,
    );
    assert.equal(server.listenerCount("resumeSession"), 0, "nothing attached by a refused call");
  });
});

// Keep the type import used when the options type changes.
export type { SessionCacheOptions };
