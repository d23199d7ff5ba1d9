/**
 * TlsClientSessionCache: unit examples, then real handshakes on 127.0.0.1
 * against a Node server subprocess (tests/_tls_server_proc.ts), on Deno,
 * Bun and Node alike.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { TlsClientSessionCache } from "../../node.ts";
import { connectOnce, RUNTIME, type ServerProc, startServerProc } from "./_tls.ts";

const enc = (s: string) => new TextEncoder().encode(s);

/** Polls `f` every 10 ms until it returns a truthy value (at most 2 s). */
async function waitFor<T>(f: () => T | false | undefined): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = f();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("condition not met within 2 s");
}
const peer = { host: "localhost", port: 443 };

describe("TlsClientSessionCache without a network", () => {
  it("offers nothing for a peer it has never seen", () => {
    const cache = new TlsClientSessionCache();
    assert.deepEqual(cache.connectOptions(peer), {});
  });

  it("offers a TLS 1.2 session again and again until its lifetime ends", () => {
    let now = 1000;
    const cache = new TlsClientSessionCache({ now: () => now, timeout: 300 });
    assert.equal(cache.store(peer, enc("deno-tls12-session:localhost:443")), true);
    assert.ok(cache.connectOptions(peer).session);
    now = 1300; // expiry is time + timeout: still valid at exactly 1300
    assert.ok(cache.connectOptions(peer).session);
    now = 1301;
    assert.deepEqual(cache.connectOptions(peer), {});
    assert.equal(cache.size, 0);
    assert.equal(cache.peers, 0);
  });

  it("offers a TLS 1.3 ticket only once, newest first", () => {
    const cache = new TlsClientSessionCache({ now: () => 0 });
    const t1 = enc("deno-tls13-session-ticket-1:localhost:443");
    const t2 = enc("deno-tls13-session-ticket-2:localhost:443");
    cache.store(peer, t1);
    cache.store(peer, t2);
    assert.deepEqual(cache.connectOptions(peer).session, Buffer.from(t2));
    assert.deepEqual(cache.connectOptions(peer).session, Buffer.from(t1));
    assert.deepEqual(cache.connectOptions(peer), {});
  });

  it("keeps sessions apart by host, port and server name", () => {
    const cache = new TlsClientSessionCache();
    cache.store({ host: "a", port: 1 }, enc("deno-tls12-session:a:1"));
    assert.deepEqual(cache.connectOptions({ host: "a", port: 2 }), {});
    assert.deepEqual(cache.connectOptions({ host: "b", port: 1 }), {});
    assert.deepEqual(cache.connectOptions({ host: "a", port: 1, servername: "x" }), {});
    assert.ok(cache.connectOptions({ host: "a", port: 1 }).session);
  });

  it("a new TLS 1.2 session replaces the older ones of its peer", () => {
    const cache = new TlsClientSessionCache();
    cache.store(peer, enc("deno-tls12-session:old"));
    cache.store(peer, enc("deno-tls12-session:new"));
    assert.equal(cache.size, 1);
    assert.deepEqual(cache.connectOptions(peer).session, Buffer.from("deno-tls12-session:new"));
  });

  it("keeps at most four TLS 1.3 tickets per peer", () => {
    const cache = new TlsClientSessionCache();
    for (let i = 0; i < 10; i++) cache.store(peer, enc(`deno-tls13-session-ticket-${i}`));
    assert.equal(cache.size, 4);
  });

  it("forgets the least recently used peer beyond maxPeers", () => {
    const cache = new TlsClientSessionCache({ maxPeers: 2 });
    const p = (port: number) => ({ host: "h", port });
    cache.store(p(1), enc("deno-tls12-session:1"));
    cache.store(p(2), enc("deno-tls12-session:2"));
    assert.ok(cache.connectOptions(p(1)).session); // 1 is now the most recently used
    cache.store(p(3), enc("deno-tls12-session:3"));
    assert.equal(cache.peers, 2);
    assert.deepEqual(cache.connectOptions(p(2)), {});
    assert.ok(cache.connectOptions(p(1)).session);
    assert.ok(cache.connectOptions(p(3)).session);
  });

  it("forget() and clear() drop sessions", () => {
    const cache = new TlsClientSessionCache();
    cache.store(peer, enc("deno-tls12-session:x"));
    assert.equal(cache.forget(peer), 1);
    assert.equal(cache.forget(peer), 0);
    cache.store(peer, enc("deno-tls12-session:x"));
    cache.clear();
    assert.equal(cache.size, 0);
    assert.deepEqual(cache.connectOptions(peer), {});
  });

  it("refuses bad peers and options with TypeError or RangeError", () => {
    const cache = new TlsClientSessionCache();
    assert.throws(() => cache.connectOptions({ host: "", port: 1 }), TypeError);
    assert.throws(() => cache.connectOptions({ host: "h", port: 70000 }), RangeError);
    assert.throws(
      () => cache.store(peer, "abc" as unknown as Uint8Array),
      /^TypeError: Cannot store session: data must be a Uint8Array: received "abc"$/,
    );
    assert.throws(() => new TlsClientSessionCache({ maxPeers: 0 }), RangeError);
    assert.throws(() => new TlsClientSessionCache({ timeout: -1 }), RangeError);
  });
});

describe(`TlsClientSessionCache with real handshakes (${RUNTIME} client, Node server)`, () => {
  let proc: ServerProc;
  before(async () => {
    proc = await startServerProc();
  });
  after(async () => {
    await proc?.stop();
  });

  it("resumes a TLS 1.2 session id on the second connection", async () => {
    const cache = new TlsClientSessionCache();
    const first = await connectOnce(proc.ports.tls12id, { cache });
    assert.equal(first.protocol, "TLSv1.2");
    assert.equal(first.reused, false);
    assert.equal(cache.size, 1);
    const second = await connectOnce(proc.ports.tls12id, { cache });
    assert.equal(second.reused, true);
    const third = await connectOnce(proc.ports.tls12id, { cache });
    assert.equal(third.reused, true, "a TLS 1.2 session is reused again");
    const { connect, connectGood, hits } = cache.stats;
    assert.deepEqual({ connect, connectGood, hits }, { connect: 3, connectGood: 3, hits: 2 });
    // The server (attachSessionCache on Node) saw the same.
    const seen = await waitFor(() =>
      proc.reused["tls12id"]?.length === 3 && proc.reused["tls12id"]
    );
    assert.deepEqual(seen, [false, true, true]);
  });

  it("resumes a TLS 1.2 session ticket", async () => {
    const cache = new TlsClientSessionCache();
    assert.equal((await connectOnce(proc.ports.tls12ticket, { cache })).reused, false);
    assert.equal((await connectOnce(proc.ports.tls12ticket, { cache })).reused, true);
  });

  it("resumes with TLS 1.3 tickets, each offered once", async () => {
    const cache = new TlsClientSessionCache();
    const first = await connectOnce(proc.ports.tls13, { cache });
    assert.equal(first.protocol, "TLSv1.3");
    assert.equal(first.reused, false);
    assert.equal(
      first.sessions.length,
      2,
      "OpenSSL servers send two tickets after a full handshake",
    );
    assert.equal(cache.size, 2);
    // Each ticket resumes one connection; a resumption brings no new ticket
    // (OpenSSL servers renew only when needed), so the fourth is a full handshake.
    assert.equal((await connectOnce(proc.ports.tls13, { cache })).reused, true);
    assert.equal((await connectOnce(proc.ports.tls13, { cache })).reused, true);
    assert.equal(cache.size, 0, "both tickets used");
    assert.equal((await connectOnce(proc.ports.tls13, { cache })).reused, false);
    assert.equal(cache.stats.hits, 2);
    assert.equal(cache.size, 2, "fresh tickets from the full handshake");
  });

  it("does not offer a session past its lifetime: a full handshake follows", async () => {
    let now = 1_000_000;
    const cache = new TlsClientSessionCache({ now: () => now, timeout: 60 });
    await connectOnce(proc.ports.tls12id, { cache });
    now += 61;
    const late = await connectOnce(proc.ports.tls12id, { cache });
    assert.equal(late.reused, false);
    assert.equal(cache.size, 1, "the new session replaced the expired one");
  });

  it("does not mix peers: a session for one server is not offered to another", async () => {
    const cache = new TlsClientSessionCache();
    await connectOnce(proc.ports.tls12id, { cache });
    const other = await connectOnce(proc.ports.tls12ticket, { cache });
    assert.equal(other.reused, false);
  });
});
