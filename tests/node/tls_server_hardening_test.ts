/**
 * attachSessionCache against hostile input and unsupported setups:
 *
 * - runtime honesty, on Deno, Bun and Node with a real server on 127.0.0.1:
 *   a runtime or server setup where the cache is not consulted is reported
 *   once (`status`, `warnings`, one `onError` call), never per connection;
 * - what Node hands the listeners, driven through an event emitter standing
 *   in for the server (every runtime): fake and proxied byte arrays, socket
 *   answers that throw, null sessions (Deno), sessions whose data holds
 *   another id, callbacks of the cache that throw, reject or re-enter;
 * - options read once, delays above 2^31 - 1 ms refused (std grammar).
 */

import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { constants } from "node:crypto";
import { EventEmitter } from "node:events";
import { createServer, type Server, type TlsOptions, type TLSSocket } from "node:tls";
import {
  attachSessionCache,
  type AttachSessionCacheOptions,
  SessionCacheWarning,
} from "../../node.ts";
import { type Session, SessionCache, type SessionCacheOptions } from "../../mod.ts";
import { SESS_CACHE_NO_INTERNAL, SESS_CACHE_SERVER } from "../../mod.ts";
import {
  CERT,
  close,
  connectOnce,
  KEY,
  RUNTIME,
  type ServedCache,
  serveWithCache,
  sessionDer,
  tls12Ids,
} from "./_tls.ts";
import {
  countingReads,
  deferred,
  mostReads,
  prototypeOnlyUint8Array,
  proxiedUint8Array,
  revokedProxy,
  watchEscapes,
} from "../_hostile.ts";

const TLS12 = 0x0303;
const onNode = RUNTIME === "node";
const nodeOnly = onNode ? false : `${RUNTIME} never emits the node:tls session events`;

/** TLS 1.2, no tickets: resumption by session id, through the cache. */
const TLS12_IDS: TlsOptions = tls12Ids("hardening-test");

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map(close));
});

/** A listening server with the cache attached; it ends each connection after the handshake. */
function serve(
  cache: SessionCache,
  options: AttachSessionCacheOptions = {},
  tls: TlsOptions = TLS12_IDS,
): Promise<ServedCache> {
  return serveWithCache(servers, cache, options, tls);
}

/** The codes of the warnings an onError hook received, and every other error apart. */
function sortReports(reported: unknown[]) {
  const warnings = reported.filter((e): e is SessionCacheWarning =>
    e instanceof SessionCacheWarning
  );
  const others = reported.filter((e) => !(e instanceof SessionCacheWarning));
  return { codes: warnings.map((w) => w.code), others };
}

describe(`attachSessionCache reports a setup where the cache is not consulted, once (${RUNTIME})`, () => {
  it("a TLS 1.2 server without tickets: on Node active and silent; on Deno and Bun one report, whatever the connections", async () => {
    const reported: unknown[] = [];
    const cache = new SessionCache();
    const { port, attached } = await serve(cache, { onError: (e) => reported.push(e) });
    const atAttach = [...reported];
    let session: Buffer | undefined;
    for (let i = 0; i < 3; i++) {
      const c = await connectOnce(port, session === undefined ? {} : { session });
      session = c.sessions.at(-1) ?? session;
    }
    const { codes, others } = sortReports(reported);
    assert.deepEqual(others, [], "no per-connection error");
    if (onNode) {
      assert.equal(attached.status, "active");
      assert.deepEqual(attached.warnings, []);
      assert.deepEqual(codes, []);
      assert.equal(cache.stats.hits, 2, "the cache is consulted");
    } else {
      assert.equal(attached.status, "inactive");
      assert.deepEqual(codes, ["runtime"], "exactly one report");
      assert.deepEqual(atAttach, reported, "made when attaching, not at a connection");
      assert.deepEqual(attached.warnings, reported);
      assert.match(
        String(reported[0]),
        new RegExp(`${RUNTIME === "deno" ? "Deno" : "Bun"} .*never emits`, "i"),
      );
      assert.equal(cache.stats.hits + cache.stats.cbHits + cache.size, 0, "never consulted");
    }
  });

  it("tickets left on for TLS 1.2: reported once (Node: tickets; Deno and Bun: runtime)", async () => {
    const reported: unknown[] = [];
    const cache = new SessionCache();
    const { port, attached } = await serve(cache, { onError: (e) => reported.push(e) }, {
      key: KEY,
      cert: CERT,
      maxVersion: "TLSv1.2",
      sessionIdContext: "hardening-test",
    });
    let session: Buffer | undefined;
    for (let i = 0; i < 3; i++) {
      const c = await connectOnce(port, session === undefined ? {} : { session });
      session = c.sessions.at(-1) ?? session;
    }
    // A client that asks for no ticket gets a session id, and the cache serves it.
    const noTicket = { secureOptions: constants.SSL_OP_NO_TICKET };
    let idSession: Buffer | undefined;
    let reused = 0;
    for (let i = 0; i < 3; i++) {
      const c = await connectOnce(port, { session: idSession, tls: noTicket });
      idSession = c.sessions.at(-1) ?? idSession;
      if (c.reused) reused++;
    }
    const { codes, others } = sortReports(reported);
    assert.deepEqual(others, []);
    assert.deepEqual(codes, [onNode ? "tickets" : "runtime"]);
    if (onNode) {
      assert.equal(attached.status, "limited", "ticketless TLS 1.2 clients still use the cache");
      assert.match(String(reported[0]), /SSL_OP_NO_TICKET/);
      assert.equal(reused, 2);
      assert.equal(cache.stats.hits, 2, "the ticketless client resumed from the cache");
    } else {
      assert.equal(attached.status, "inactive");
    }
  });

  it("Node's defaults (tickets on, TLS 1.3 allowed): two warnings, each reported once", async () => {
    const reported: unknown[] = [];
    const { port, attached } = await serve(new SessionCache(), {
      onError: (e) => reported.push(e),
    }, { key: KEY, cert: CERT });
    await connectOnce(port);
    await connectOnce(port);
    const { codes, others } = sortReports(reported);
    assert.deepEqual(others, []);
    assert.deepEqual(codes, onNode ? ["tickets", "tls13"] : ["runtime"]);
    assert.equal(attached.status, onNode ? "limited" : "inactive");
  });

  it("TLS 1.3 allowed without tickets: limited (TLS 1.2 clients only)", { skip: nodeOnly }, () => {
    const server = createServer({ ...TLS12_IDS, maxVersion: "TLSv1.3" });
    const attached = attachSessionCache(server, new SessionCache());
    assert.deepEqual(attached.warnings.map((w) => w.code), ["tls13"]);
    assert.equal(attached.status, "limited");
    attached.detach();
  });

  it("TLS 1.2 not allowed: inactive", { skip: nodeOnly }, () => {
    const server = createServer({ ...TLS12_IDS, minVersion: "TLSv1.3", maxVersion: "TLSv1.3" });
    const attached = attachSessionCache(server, new SessionCache());
    assert.deepEqual(attached.warnings.map((w) => w.code), ["tls13-only"]);
    assert.equal(attached.status, "inactive");
    attached.detach();
  });

  it("found at the first connection: tickets turned on later with setSecureContext()", {
    skip: nodeOnly,
  }, async () => {
    const reported: unknown[] = [];
    const { port, server, attached } = await serve(new SessionCache(), {
      onError: (e) => reported.push(e),
    });
    assert.equal(attached.status, "active");
    server.setSecureContext({ key: KEY, cert: CERT, maxVersion: "TLSv1.2" }); // tickets on
    for (let i = 0; i < 3; i++) await connectOnce(port);
    assert.deepEqual(sortReports(reported).codes, ["tickets"], "reported once");
    assert.equal(attached.status, "limited");
  });

  it("found at the first connection: a TLS 1.3 handshake on a server attached as TLS 1.2", {
    skip: nodeOnly,
  }, async () => {
    const reported: unknown[] = [];
    const { port, server, attached } = await serve(new SessionCache(), {
      onError: (e) => reported.push(e),
    });
    server.setSecureContext({ ...TLS12_IDS, maxVersion: "TLSv1.3" });
    for (let i = 0; i < 2; i++) assert.equal((await connectOnce(port)).protocol, "TLSv1.3");
    assert.deepEqual(sortReports(reported).codes, ["tls13"]);
    assert.equal(attached.status, "limited");
  });
});

// ---- a stand-in server: what Node hands the listeners, and what they answer ------------------

/** An event emitter in place of a tls.Server, set up like a TLS 1.2 server without tickets. */
function fakeServer(): Server & EventEmitter {
  const server = new EventEmitter() as unknown as Server & EventEmitter;
  Object.assign(server, {
    secureOptions: constants.SSL_OP_NO_TICKET,
    maxVersion: "TLSv1.2",
    sessionIdContext: "fake",
  });
  return server;
}

/** A socket's answers, as 'secureConnection' hands it over. */
function fakeSocket(answers: {
  reused?: () => unknown;
  protocol?: () => unknown;
  session?: () => unknown;
}): TLSSocket {
  return {
    isSessionReused: answers.reused ?? (() => false),
    getProtocol: answers.protocol ?? (() => "TLSv1.2"),
    getSession: answers.session ?? (() => undefined),
  } as unknown as TLSSocket;
}

/** Calls of a `done` callback. */
function doneSpy() {
  const calls: unknown[][] = [];
  return { calls, done: (...args: unknown[]) => void calls.push(args) };
}

const until = async (f: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !f(); i++) await new Promise((r) => setTimeout(r, 2));
  assert.ok(f(), "condition not met");
};

describe("attachSessionCache: what the listeners are handed (a stand-in server, every runtime)", () => {
  it("a Deno-style null session, socket answers that throw or are odd: no error but the setup's", () => {
    const reported: unknown[] = [];
    const server = fakeServer();
    const cache = new SessionCache();
    attachSessionCache(server, cache, { onError: (e) => reported.push(e) });
    server.emit(
      "newSession",
      new Uint8Array(32).fill(1),
      sessionDer(TLS12, new Uint8Array(32).fill(1)),
      () => {},
    );
    for (
      const socket of [
        fakeSocket({ session: () => null }),
        fakeSocket({ session: () => "deno" }),
        fakeSocket({ session: () => prototypeOnlyUint8Array(8) }),
        fakeSocket({ session: () => revokedProxy() }),
        fakeSocket({ reused: () => "yes", protocol: () => 1.3 }),
      ]
    ) server.emit("secureConnection", socket);
    const { others } = sortReports(reported);
    assert.deepEqual(others, [], "a session that is not bytes is no session, not an error");
    assert.equal(cache.stats.acceptGood, 1 + 5);
  });

  it("a new session the cache refuses (its clock fails) leaves the handshake to be counted once", () => {
    const readings = [1000, NaN]; // the session's time, then handshakeCompleted's own reading
    const server = fakeServer();
    const cache = new SessionCache({ now: () => readings.shift() ?? 1000 });
    attachSessionCache(server, cache);
    const id = new Uint8Array([1]);
    const spy = doneSpy();
    server.emit("newSession", id, sessionDer(TLS12, id), spy.done);
    assert.equal(spy.calls.length, 1);
    assert.equal(cache.stats.acceptGood, 0, "refused: not counted");
    server.emit("secureConnection", fakeSocket({ session: () => sessionDer(TLS12, id) }));
    assert.equal(cache.stats.acceptGood, 1, "counted at 'secureConnection'");
    assert.equal(cache.size, 0);
  });

  it("socket methods that throw are reported, and the handshake is still counted", () => {
    const reported: unknown[] = [];
    const server = fakeServer();
    const cache = new SessionCache();
    attachSessionCache(server, cache, { onError: (e) => reported.push(e) });
    const boom = () => {
      throw new Error("socket method throws");
    };
    server.emit(
      "newSession",
      new Uint8Array([1]),
      sessionDer(TLS12, new Uint8Array([1])),
      () => {},
    );
    server.emit("secureConnection", fakeSocket({ reused: boom, protocol: boom, session: boom }));
    assert.equal(sortReports(reported).others.length, 3);
    assert.equal(cache.stats.acceptGood, 2);
  });

  it("a server that never emits a session event is found out at its first TLS 1.2 handshake", () => {
    const reported: unknown[] = [];
    const server = fakeServer();
    const attached = attachSessionCache(server, new SessionCache(), {
      onError: (e) => reported.push(e),
    });
    for (let i = 0; i < 3; i++) {
      server.emit(
        "secureConnection",
        fakeSocket({ session: () => sessionDer(TLS12, new Uint8Array([i + 1])) }),
      );
    }
    assert.deepEqual(sortReports(reported).codes, ["runtime"]);
    assert.equal(attached.status, "inactive");
  });

  it("'newSession' with fake or proxied bytes stores nothing and answers done once", () => {
    const reported: unknown[] = [];
    const server = fakeServer();
    const cache = new SessionCache();
    attachSessionCache(server, cache, { onError: (e) => reported.push(e) });
    for (
      const [id, data] of [
        [prototypeOnlyUint8Array(4), sessionDer(TLS12, new Uint8Array(4))],
        [new Uint8Array(4), proxiedUint8Array(sessionDer(TLS12, new Uint8Array(4)))],
        [null, undefined],
        [revokedProxy(), revokedProxy()],
      ]
    ) {
      const spy = doneSpy();
      server.emit("newSession", id, data, spy.done);
      assert.equal(spy.calls.length, 1);
    }
    assert.equal(cache.size, 0);
    assert.equal(sortReports(reported).others.length, 4);
  });

  it("'resumeSession' with a fake, empty or 33-byte id answers a miss once", async () => {
    const server = fakeServer();
    const cache = new SessionCache();
    attachSessionCache(server, cache);
    for (
      const id of [
        prototypeOnlyUint8Array(4),
        proxiedUint8Array(),
        new Uint8Array(0),
        new Uint8Array(33),
        "id",
      ]
    ) {
      const spy = doneSpy();
      server.emit("resumeSession", id, spy.done);
      await until(() => spy.calls.length > 0);
      assert.deepEqual(spy.calls, [[null, null]]);
    }
    assert.equal(cache.stats.misses, 0, "refused before any lookup");
  });

  it("a session whose data holds another session id is answered as a miss, not handed to OpenSSL", async () => {
    const reported: unknown[] = [];
    const server = fakeServer();
    const id = new Uint8Array(32).fill(7);
    const other = new Uint8Array(32).fill(8);
    const cache = new SessionCache({
      mode: SESS_CACHE_SERVER | SESS_CACHE_NO_INTERNAL,
      getSession: ({ id: asked }) => ({
        id: asked,
        time: Date.now() / 1000,
        timeout: 300,
        version: TLS12,
        sidCtx: new TextEncoder().encode("fake"),
        data: sessionDer(TLS12, asked[0] === 7 ? other : asked),
      }),
    });
    attachSessionCache(server, cache, { onError: (e) => reported.push(e) });
    const wrong = doneSpy();
    server.emit("resumeSession", id, wrong.done);
    await until(() => wrong.calls.length > 0);
    assert.deepEqual(wrong.calls, [[null, null]]);
    assert.match(String(sortReports(reported).others[0]), /must hold the session id asked for/);
    const right = doneSpy();
    server.emit("resumeSession", other, right.done);
    await until(() => right.calls.length > 0);
    assert.ok(
      right.calls[0]![1] instanceof Uint8Array,
      "the session for the right id is handed over",
    );
  });

  it("whatever a lookup resolves to, the answer is made without throwing: a miss, reported, nothing escapes", async () => {
    const watch = watchEscapes();
    const answers: unknown[] = [
      {
        get data(): never {
          throw new Error("data getter throws");
        },
      },
      { data: prototypeOnlyUint8Array(8) },
      { data: revokedProxy() },
      revokedProxy(),
      42,
    ];
    for (const found of answers) {
      // A SessionCache whose lookup resolves to anything (a subclass is still a SessionCache).
      class Odd extends SessionCache {
        override lookup(): Promise<Session | undefined> {
          return Promise.resolve(found as Session);
        }
      }
      const reported: unknown[] = [];
      const server = fakeServer();
      attachSessionCache(server, new Odd(), { onError: (e) => reported.push(e) });
      const spy = doneSpy();
      server.emit("resumeSession", new Uint8Array([1]), spy.done);
      await until(() => spy.calls.length > 0);
      assert.deepEqual(spy.calls, [[null, null]]);
    }
    assert.deepEqual(await watch.stop(), []);
  });

  it("a found session with fake or absent data is a miss", async () => {
    for (const data of [prototypeOnlyUint8Array(8), undefined, revokedProxy()]) {
      const server = fakeServer();
      const cache = new SessionCache({
        mode: SESS_CACHE_SERVER | SESS_CACHE_NO_INTERNAL,
        getSession: (
          { id },
        ) => ({ id, time: Date.now() / 1000, timeout: 300, version: TLS12, data } as Session),
      });
      attachSessionCache(server, cache);
      const spy = doneSpy();
      server.emit("resumeSession", new Uint8Array([1]), spy.done);
      await until(() => spy.calls.length > 0);
      assert.deepEqual(spy.calls, [[null, null]]);
    }
  });
});

describe("attachSessionCache: callbacks of the cache that throw, reject or re-enter", () => {
  const hostile: [string, SessionCacheOptions][] = [
    ["an onNewSession that rejects", {
      onNewSession: () => Promise.reject(new Error("write failed")),
    }],
    [
      "an async onNewSession that throws",
      {
        // deno-lint-ignore require-await
        onNewSession: async () => {
          throw new Error("write failed");
        },
      },
    ],
    ["an onNewSession that returns a thenable whose then throws", {
      onNewSession: () => ({
        then: () => {
          throw new Error("then throws");
        },
      }),
    }],
    ["a getSession that rejects", {
      mode: SESS_CACHE_SERVER | SESS_CACHE_NO_INTERNAL,
      getSession: () => Promise.reject(new Error("read failed")),
    }],
    ["a getSession that returns garbage", {
      mode: SESS_CACHE_SERVER | SESS_CACHE_NO_INTERNAL,
      getSession: () => revokedProxy() as never,
    }],
  ];
  for (const [what, options] of hostile) {
    it(`${what}: every event answered once, nothing escapes (stand-in server)`, async () => {
      const watch = watchEscapes();
      const server = fakeServer();
      const cache = new SessionCache(options);
      attachSessionCache(server, cache, { onError: () => {} });
      const answers: unknown[][][] = [];
      for (let i = 1; i <= 3; i++) {
        const id = new Uint8Array([i]);
        const a = doneSpy();
        const b = doneSpy();
        answers.push(a.calls, b.calls);
        server.emit("connection");
        server.emit("resumeSession", id, a.done);
        server.emit("newSession", id, sessionDer(TLS12, id), b.done);
        server.emit("secureConnection", fakeSocket({ session: () => sessionDer(TLS12, id) }));
      }
      await until(() => answers.every((calls) => calls.length > 0));
      await new Promise((r) => setTimeout(r, 60));
      assert.ok(answers.every((calls) => calls.length === 1), "each answered exactly once");
      assert.deepEqual(await watch.stop(), []);
    });
  }

  it(
    "an onNewSession that rejects, on a real server: handshakes and resumptions go on, nothing escapes",
    {
      skip: nodeOnly,
    },
    async () => {
      const watch = watchEscapes();
      const reported: unknown[] = [];
      const cache = new SessionCache({
        onNewSession: () => Promise.reject(new Error("write failed")),
      });
      const { port } = await serve(cache, { onError: (e) => reported.push(e) });
      const first = await connectOnce(port);
      assert.equal((await connectOnce(port, { session: first.sessions.at(-1) })).reused, true);
      await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(await watch.stop(), []);
      assert.ok(reported.some((e) => /write failed/.test(String(e))), "the rejection is reported");
    },
  );

  it("callbacks that re-enter the cache (remove, lookup, detach) keep every answer single", async () => {
    const watch = watchEscapes();
    const server = fakeServer();
    const handle: { current?: { detach(): void } } = {};
    let reentered = false;
    const cache: SessionCache = new SessionCache({
      onNewSession: (s) => {
        cache.remove(s);
        void cache.lookup({ id: new Uint8Array([2]), version: TLS12 });
      },
      getSession: async ({ id }) => {
        if (!reentered) {
          reentered = true; // once: the nested lookup would ask getSession again
          await cache.lookup({ id: new Uint8Array([99]) });
        }
        if (id[0] === 1) handle.current?.detach(); // while the resumption waits for its answer
        return undefined;
      },
    });
    handle.current = attachSessionCache(server, cache);
    const a = doneSpy();
    const b = doneSpy();
    server.emit("newSession", new Uint8Array([1]), sessionDer(TLS12, new Uint8Array([1])), a.done);
    server.emit("resumeSession", new Uint8Array([1]), b.done);
    await until(() => a.calls.length > 0 && b.calls.length > 0);
    assert.deepEqual(b.calls, [[null, null]], "removed by its own callback: a miss");
    assert.equal(server.listenerCount("resumeSession"), 0, "detached from inside a callback");
    assert.deepEqual(await watch.stop(), []);
  });

  it("a store that answers after the deadline: a late answer counts and stores nothing", async () => {
    const late = deferred<Session | undefined>();
    const server = fakeServer();
    const cache = new SessionCache({
      mode: SESS_CACHE_SERVER | SESS_CACHE_NO_INTERNAL,
      getSession: () => late.promise,
    });
    attachSessionCache(server, cache, { lookupTimeoutMs: 0 });
    const spy = doneSpy();
    server.emit("resumeSession", new Uint8Array([1]), spy.done);
    await until(() => spy.calls.length > 0);
    assert.deepEqual(spy.calls, [[null, null]]);
    late.resolve({
      id: new Uint8Array([1]),
      time: Date.now() / 1000,
      timeout: 300,
      version: TLS12,
    });
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(cache.stats.cbHits, 0);
  });
});

describe("attachSessionCache: options, server and cache are read once and checked", () => {
  it("each option is read once", () => {
    const options = countingReads({
      sessionTimeout: 60,
      sidCtx: "ctx",
      lookupTimeoutMs: 20,
      onError: () => {},
    });
    attachSessionCache(fakeServer(), new SessionCache(), options.value).detach();
    assert.equal(mostReads(options.reads), 1, JSON.stringify([...options.reads]));
  });

  it("the server's on, removeListener and listenerCount are each read once", () => {
    const server = countingReads(fakeServer());
    const handle = attachSessionCache(server.value, new SessionCache());
    handle.detach();
    for (const name of ["on", "removeListener", "listenerCount"]) {
      assert.equal(server.reads.get(name), 1, `${name}: ${server.reads.get(name)}`);
    }
  });

  it("a Proxy of a SessionCache is refused", () => {
    assert.throws(
      () => attachSessionCache(fakeServer(), new Proxy(new SessionCache(), {})),
      /^TypeError: Cannot attach session cache: cache must be a SessionCache: received an object$/,
    );
  });

  const refusals: [string, unknown, RegExp][] = [
    [
      "lookupTimeoutMs above 2^31 - 1",
      { lookupTimeoutMs: 2 ** 31 },
      /^RangeError: Cannot attach session cache: lookupTimeoutMs must be a number >= 0 and at most 2147483647 ms: received 2147483648$/,
    ],
    [
      "a NaN lookupTimeoutMs",
      { lookupTimeoutMs: NaN },
      /^RangeError: Cannot attach session cache: lookupTimeoutMs must be a number >= 0 and at most 2147483647 ms: received NaN$/,
    ],
    [
      "a string lookupTimeoutMs",
      { lookupTimeoutMs: "50" },
      /^TypeError: Cannot attach session cache: lookupTimeoutMs must be a number: received "50"$/,
    ],
    [
      "a sessionTimeout in milliseconds",
      { sessionTimeout: Date.now() },
      /^RangeError: Cannot attach session cache: sessionTimeout must be at most 18446744073 seconds/,
    ],
    [
      "a fake Uint8Array sidCtx",
      { sidCtx: prototypeOnlyUint8Array(3) },
      /^TypeError: Cannot attach session cache: sidCtx must be a string or a Uint8Array: received an object$/,
    ],
    [
      "an onError that is not a function",
      { onError: 5 },
      /^TypeError: Cannot attach session cache: onError must be a function: received 5$/,
    ],
    [
      "options that are not an object",
      "fast",
      /^TypeError: Cannot attach session cache: options must be an object: received "fast"$/,
    ],
  ];
  for (const [what, options, message] of refusals) {
    it(`refuses ${what}, attaching nothing`, () => {
      const server = fakeServer();
      assert.throws(
        () => attachSessionCache(server, new SessionCache(), options as never),
        message,
      );
      assert.equal(server.eventNames().length, 0, "no listener attached");
    });
  }

  it("accepts a lookupTimeoutMs of 0 (answers from the internal cache) and of 2^31 - 1", () => {
    attachSessionCache(fakeServer(), new SessionCache(), { lookupTimeoutMs: 0 }).detach();
    attachSessionCache(fakeServer(), new SessionCache(), { lookupTimeoutMs: 2 ** 31 - 1 }).detach();
  });

  it("with lookupTimeoutMs 0 an internal hit still answers", async () => {
    const server = fakeServer();
    const cache = new SessionCache();
    attachSessionCache(server, cache, { lookupTimeoutMs: 0 });
    const id = new Uint8Array([5]);
    server.emit("newSession", id, sessionDer(TLS12, id), () => {});
    const spy = doneSpy();
    server.emit("resumeSession", id, spy.done);
    await until(() => spy.calls.length > 0);
    assert.ok(spy.calls[0]![1] instanceof Uint8Array);
    assert.equal(cache.stats.hits, 1);
  });
});
