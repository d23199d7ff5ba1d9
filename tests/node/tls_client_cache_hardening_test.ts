/**
 * TlsClientSessionCache against hostile input, without a network (every
 * runtime): options, peers and session bytes that are fakes, Proxies or
 * getters answering differently on each read; a clock that throws, lies or
 * calls back into the cache; sockets whose answers throw; error hooks that
 * throw or reject. A refused call changes nothing; nothing escapes.
 */

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import type { TLSSocket } from "node:tls";
import { TlsClientSessionCache, type TlsPeer } from "../../node.ts";
import {
  countingReads,
  lyingLengthUint8Array,
  mostReads,
  prototypeOnlyUint8Array,
  proxiedUint8Array,
  revokedProxy,
  shifting,
  watchEscapes,
} from "../_hostile.ts";
import { sessionDer } from "./_tls.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const peer: TlsPeer = { host: "localhost", port: 443 };
const tls12 = (tag = "x") => enc(`deno-tls12-session:${tag}`);

const der = sessionDer;

/** Everything observable about a client cache. */
function observe(cache: TlsClientSessionCache) {
  return {
    size: cache.size,
    peers: cache.peers,
    stats: { ...cache.stats },
    timeout: cache.timeout,
  };
}

describe("TlsClientSessionCache: refusals use the std grammar and change nothing", () => {
  const refusals: [string, (c: TlsClientSessionCache) => unknown, RegExp][] = [
    [
      "store() with an object inheriting Uint8Array.prototype",
      (c) => c.store(peer, prototypeOnlyUint8Array(4)),
      /^TypeError: Cannot store session: data must be a Uint8Array: received an object$/,
    ],
    [
      "store() with a Proxy of a Uint8Array",
      (c) => c.store(peer, proxiedUint8Array(tls12())),
      /^TypeError: Cannot store session: data must be a Uint8Array: received an object$/,
    ],
    [
      "store() with a string",
      (c) => c.store(peer, "abc" as never),
      /^TypeError: Cannot store session: data must be a Uint8Array: received "abc"$/,
    ],
    [
      "store() with a null peer",
      (c) => c.store(null as never, tls12()),
      /^TypeError: Cannot store session: peer must be an object: received null$/,
    ],
    [
      "connectOptions() with a port that is not a number",
      (c) => c.connectOptions({ host: "h", port: "443" as never }),
      /^TypeError: Cannot offer session: peer\.port must be a number: received "443"$/,
    ],
    [
      "connectOptions() with a port out of range",
      (c) => c.connectOptions({ host: "h", port: 70000 }),
      /^RangeError: Cannot offer session: peer\.port must be an integer from 0 to 65535: received 70000$/,
    ],
    [
      "forget() with an empty host",
      (c) => c.forget({ host: "", port: 1 }),
      /^TypeError: Cannot forget peer: peer\.host must be a non-empty string: received ""$/,
    ],
    [
      "forget() with a servername that is not a string",
      (c) => c.forget({ host: "h", port: 1, servername: 5 as never }),
      /^TypeError: Cannot forget peer: peer\.servername must be a string: received 5$/,
    ],
    [
      "track() with a socket without on()",
      (c) => c.track({} as TLSSocket, peer),
      /^TypeError: Cannot track socket: socket must be a TLSSocket \(with on and once\): received an object$/,
    ],
    [
      "track() with a revoked Proxy as peer",
      (c) => c.track(new EventEmitter() as TLSSocket, revokedProxy() as TlsPeer),
      /^TypeError: /,
    ],
  ];
  for (const [what, call, message] of refusals) {
    it(what, () => {
      const cache = new TlsClientSessionCache({ now: () => 1000 });
      cache.store(peer, tls12("kept"));
      const before = observe(cache);
      assert.throws(() => call(cache), message);
      assert.deepEqual(observe(cache), before);
      assert.ok(cache.connectOptions(peer).session, "the stored session is still offered");
    });
  }

  it("the constructor refuses bad options with the std grammar", () => {
    const cases: [unknown, RegExp][] = [
      [5, /^TypeError: Cannot create client session cache: options must be an object: received 5$/],
      [
        { maxPeers: 0 },
        /^RangeError: Cannot create client session cache: maxPeers must be an integer >= 1: received 0$/,
      ],
      [
        { maxPeers: "5" },
        /^TypeError: Cannot create client session cache: maxPeers must be a number: received "5"$/,
      ],
      [
        { timeout: -1 },
        /^RangeError: Cannot create client session cache: timeout must be a finite number >= 0: received -1$/,
      ],
      [
        { now: 5 },
        /^TypeError: Cannot create client session cache: now must be a function: received 5$/,
      ],
      [
        { onError: "x" },
        /^TypeError: Cannot create client session cache: onError must be a function: received "x"$/,
      ],
    ];
    for (const [options, message] of cases) {
      assert.throws(() => new TlsClientSessionCache(options as never), message);
    }
  });
});

describe("TlsClientSessionCache: every input is read once", () => {
  it("each option is read once", () => {
    const options = countingReads({ now: () => 5, timeout: 60, maxPeers: 3, onError: () => {} });
    new TlsClientSessionCache(options.value);
    assert.equal(mostReads(options.reads), 1, JSON.stringify([...options.reads]));
  });

  it("each field of a peer is read once, by every method", () => {
    const cache = new TlsClientSessionCache();
    for (
      const use of [
        (p: TlsPeer) => cache.store(p, tls12()),
        (p: TlsPeer) => cache.connectOptions(p),
        (p: TlsPeer) => cache.forget(p),
        (p: TlsPeer) => cache.track(new EventEmitter() as TLSSocket, p),
      ]
    ) {
      const p = countingReads({ host: "h", port: 1, servername: "s" });
      use(p.value);
      assert.equal(mostReads(p.reads), 1, JSON.stringify([...p.reads]));
    }
  });

  it("a peer whose host getter changes after the check is stored under the host checked", () => {
    const cache = new TlsClientSessionCache();
    cache.store(shifting({ host: "a", port: 1 }, "host", "a", "b"), tls12());
    assert.ok(cache.connectOptions({ host: "a", port: 1 }).session);
    assert.deepEqual(cache.connectOptions({ host: "b", port: 1 }), {});
  });

  it("a peer whose port getter turns into NaN after the check is stored under the port checked", () => {
    const cache = new TlsClientSessionCache();
    cache.store(shifting({ host: "a", port: 1 }, "port", 1, NaN), tls12());
    assert.ok(cache.connectOptions({ host: "a", port: 1 }).session);
  });

  it("the session bytes are copied once: a later change to the caller's array changes nothing", () => {
    const cache = new TlsClientSessionCache();
    const data = tls12("abc");
    cache.store(peer, data);
    data.fill(0);
    assert.deepEqual(cache.connectOptions(peer).session, Buffer.from(tls12("abc")));
  });

  it("a real Uint8Array whose own length lies is read by its true length", () => {
    const cache = new TlsClientSessionCache();
    cache.store(peer, lyingLengthUint8Array(tls12("abc"), 0));
    assert.deepEqual(cache.connectOptions(peer).session, Buffer.from(tls12("abc")));
  });

  it("connectOptions() hands out a copy: changing it does not change what is offered next", () => {
    const cache = new TlsClientSessionCache();
    cache.store(peer, tls12("abc"));
    cache.connectOptions(peer).session!.fill(0);
    assert.deepEqual(cache.connectOptions(peer).session, Buffer.from(tls12("abc")));
  });
});

describe("TlsClientSessionCache: validate everything, then act", () => {
  it("a session whose DER version no TLS session has is stored as version 0; the peer stays usable", () => {
    const cache = new TlsClientSessionCache();
    assert.equal(cache.store(peer, der(0x10000, new Uint8Array([1, 2, 3]))), true);
    assert.ok(cache.connectOptions(peer).session, "offered, and connectOptions does not throw");
    assert.equal(cache.forget(peer), 1);
    assert.equal(cache.size, 0);
  });

  it("a clock that throws or returns NaN refuses store() and connectOptions() and changes nothing", () => {
    let mode: "ok" | "throw" | "nan" = "ok";
    const cache = new TlsClientSessionCache({
      now: () => {
        if (mode === "throw") throw new Error("clock down");
        return mode === "nan" ? NaN : 1000;
      },
    });
    cache.store(peer, tls12("kept"));
    const before = observe(cache);
    for (const m of ["throw", "nan"] as const) {
      mode = m;
      assert.throws(() => cache.store(peer, tls12("new")));
      assert.throws(() => cache.store({ host: "other", port: 1 }, tls12("new")));
      assert.throws(() => cache.connectOptions(peer));
      mode = "ok";
      assert.deepEqual(observe(cache), before);
      assert.deepEqual(cache.connectOptions(peer).session, Buffer.from(tls12("kept")));
      assert.deepEqual(cache.connectOptions({ host: "other", port: 1 }), {});
    }
  });

  it("a clock that calls back into the cache (store, forget, clear) leaves it consistent", () => {
    let reenter: (() => void) | undefined;
    const cache: TlsClientSessionCache = new TlsClientSessionCache({
      now: () => {
        const f = reenter;
        reenter = undefined;
        f?.();
        return 1000;
      },
    });
    const other = { host: "other", port: 1 };
    reenter = () => cache.store(peer, tls12("inner"));
    cache.store(peer, tls12("outer"));
    assert.equal(cache.size, 1, "the outer TLS 1.2 session superseded the inner one");
    assert.deepEqual(cache.connectOptions(peer).session, Buffer.from(tls12("outer")));
    reenter = () => cache.clear();
    cache.store(other, tls12("after clear"));
    assert.equal(cache.size, 1);
    assert.equal(cache.peers, 1);
    assert.ok(cache.connectOptions(other).session);
    reenter = () => cache.forget(other);
    assert.deepEqual(cache.connectOptions(other), {}, "forgotten by its own clock reading");
    assert.equal(cache.stats.number, cache.size);
  });
});

describe("TlsClientSessionCache.track(): nothing escapes into Node's events", () => {
  it("socket answers that throw or are odd, bad session events and hooks that throw or reject", async () => {
    const watch = watchEscapes();
    for (
      const onError of [
        () => {
          throw new Error("hook throws");
        },
        () => Promise.reject(new Error("hook rejects")),
      ]
    ) {
      const cache = new TlsClientSessionCache({ onError });
      const socket = new EventEmitter() as unknown as TLSSocket & EventEmitter;
      Object.assign(socket, {
        isSessionReused: () => {
          throw new Error("isSessionReused throws");
        },
        getProtocol: () => revokedProxy(),
      });
      cache.track(socket, peer);
      for (const data of [undefined, null, "x", prototypeOnlyUint8Array(3), revokedProxy()]) {
        socket.emit("session", data);
      }
      socket.emit("session", tls12());
      socket.emit("secureConnect");
      socket.emit("secureConnect"); // once
      assert.equal(cache.size, 1);
      assert.deepEqual(
        {
          connect: cache.stats.connect,
          connectGood: cache.stats.connectGood,
          hits: cache.stats.hits,
        },
        { connect: 1, connectGood: 1, hits: 0 },
      );
    }
    assert.deepEqual(await watch.stop(), []);
  });
});
