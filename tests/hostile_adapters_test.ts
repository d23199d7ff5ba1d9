/**
 * Properties: random command sequences drive hostile values through the
 * public API of the adapters and the store (every runtime, no network):
 *
 * - `TlsClientSessionCache`: peers and session bytes that are fakes,
 *   Proxies (counting or revoked), getters that answer differently on each
 *   read, detached arrays; a clock that throws, returns NaN or calls back
 *   into the cache; tracked sockets whose answers throw;
 * - `attachSessionCache` on a stand-in server (an event emitter handed
 *   what Node would hand it, or worse), over a `SessionCache` whose
 *   callbacks throw, reject, hang or re-enter;
 * - `RedisSessionStore` over a client whose calls resolve, reject, throw,
 *   hang, answer thenables or garbage, with hostile hook arguments.
 *
 * After every command: a refused call changed nothing (size, peers,
 * counters; nothing sent to the client), no event listener threw into the
 * emitter, no hook threw or returned a promise that rejects, the counters
 * are consistent, at most `maxInFlight` client calls are out; and at the
 * end every Node callback was answered exactly once and nothing escaped as
 * an unhandled rejection or uncaught exception.
 *
 * Replay a failure with `FC_SEED=<seed> FC_PATH=<path> FC_REPLAY_PATH=<replayPath>`
 * (printed by the failing run; see tests/_fc.ts).
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { EventEmitter } from "node:events";
import type { Server, TLSSocket } from "node:tls";
import fc from "fast-check";
import { TlsClientSessionCache, type TlsPeer } from "../node.ts";
import { attachSessionCache } from "../node.ts";
import { RedisSessionStore, type SessionStoreClient, type SessionStoreStats } from "../redis.ts";
import {
  type RemovalReason,
  SESS_CACHE_NO_INTERNAL,
  SESS_CACHE_SERVER,
  type Session,
  SessionCache,
} from "../mod.ts";
import { fcCommandsConstraints, fcParams } from "./_fc.ts";
import {
  countingReads,
  lyingLengthUint8Array,
  prototypeOnlyUint8Array,
  proxiedUint8Array,
  revokedProxy,
  shifting,
  watchEscapes,
} from "./_hostile.ts";
import { sessionDer } from "./node/_tls.ts";

const TLS12 = 0x0303;
const TLS13 = 0x0304;
const enc = (s: string) => new TextEncoder().encode(s);

/**
 * A value made fresh for each use (getters and Proxies keep state), with a
 * name to print, and whether the API must accept it.
 */
interface Factory {
  readonly label: string;
  readonly make: () => unknown;
  readonly valid: boolean;
  /** For a session: whether its `id` and `sidCtx` alone are valid (all a lookup or a removal reads). */
  readonly validKey?: boolean;
}
const factory = (label: string, make: () => unknown, valid = false, validKey = valid): Factory => ({
  label,
  make,
  valid,
  validKey,
});

/** A Uint8Array whose buffer was transferred away (detached: length 0). */
function detached(): Uint8Array {
  const bytes = new Uint8Array([1, 2, 3]);
  structuredClone(bytes.buffer, { transfer: [bytes.buffer] });
  return bytes;
}

/**
 * Byte arguments: real bytes (a Uint8Array, a Buffer, one whose own `length`
 * lies), valid when `accepts` says so of their length, or one of the usual
 * impostors, never valid.
 */
function bytesArb(
  bytes: fc.Arbitrary<Uint8Array>,
  accepts: (length: number) => boolean = () => true,
): fc.Arbitrary<Factory> {
  return fc.oneof(
    {
      weight: 4,
      arbitrary: bytes.map((b) =>
        factory(`bytes[${b.length}]`, () => new Uint8Array(b), accepts(b.length))
      ),
    },
    bytes.map((b) => factory(`Buffer[${b.length}]`, () => Buffer.from(b), accepts(b.length))),
    bytes.map((b) =>
      factory(`lying-length[${b.length}]`, () => lyingLengthUint8Array(b, 1), accepts(b.length))
    ),
    fc.constantFrom(
      factory("prototype-only fake", () => prototypeOnlyUint8Array(4)),
      factory("Proxy of bytes", () => proxiedUint8Array(new Uint8Array([1, 2, 3]))),
      factory("revoked Proxy", () => revokedProxy()),
      factory("detached", detached),
      factory('"abc"', () => "abc"),
      factory("null", () => null),
      factory("undefined", () => undefined),
      factory("7", () => 7),
      factory("[1,2]", () => [1, 2]),
    ),
  );
}

/** Counters that must be non-negative integers. */
function assertCounters(stats: object, what: string): void {
  for (const [name, n] of Object.entries(stats)) {
    assert.ok(Number.isSafeInteger(n) && n >= 0, `${what}.${name} = ${n}`);
  }
}

/** Runs `call`; returns whether it threw (a refusal). */
function refused(call: () => unknown): boolean {
  try {
    call();
    return false;
  } catch {
    return true;
  }
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

// ---- TlsClientSessionCache ----------------------------------------------------------------------

const POOL: readonly TlsPeer[] = [
  { host: "a", port: 1 },
  { host: "a", port: 2 },
  { host: "b", port: 1, servername: "s" },
];

/** A peer argument, and the pool peer it stands for when it is a valid one. */
interface PeerFactory extends Factory {
  readonly peer?: TlsPeer;
}

const poolPeer = (label: string, make: (p: TlsPeer) => unknown): fc.Arbitrary<PeerFactory> =>
  fc.nat(POOL.length - 1).map((i) => ({
    ...factory(`${label}(pool[${i}])`, () => make({ ...POOL[i]! }), true),
    peer: POOL[i]!,
  }));

const peerArb: fc.Arbitrary<PeerFactory> = fc.oneof(
  { weight: 4, arbitrary: poolPeer("plain", (p) => p) },
  poolPeer("counting", (p) => countingReads(p).value),
  poolPeer("shifting-host", (p) => shifting(p, "host", p.host, "zz")),
  poolPeer("shifting-port", (p) => shifting(p, "port", p.port, NaN)),
  fc.constantFrom<PeerFactory>(
    factory("null", () => null),
    factory("revoked Proxy", () => revokedProxy()),
    factory('{host:""}', () => ({ host: "", port: 1 })),
    factory('{port:"1"}', () => ({ host: "a", port: "1" })),
    factory("{port:70000}", () => ({ host: "a", port: 70000 })),
    factory("{servername:5}", () => ({ host: "a", port: 1, servername: 5 })),
  ),
);

const TOKEN12 = "deno-tls12-session:";
const sessionBytesArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.string({ maxLength: 6 }).map((tag) => enc(`${TOKEN12}${tag}`)),
  fc.nat(9).map((n) => enc(`deno-tls13-session-ticket-${n}:x`)),
  fc.tuple(
    fc.constantFrom(TLS12, TLS13, 0x10000, 0x0301),
    fc.uint8Array({ minLength: 0, maxLength: 33 }),
  ).map(([v, id]) => sessionDer(v, id)),
  fc.uint8Array({ maxLength: 8 }),
);

type ClockMode = "ok" | "throw" | "nan" | "reenter-store" | "reenter-forget" | "reenter-clear";

interface ClientModel {
  readonly cache: TlsClientSessionCache;
  t: number;
  mode: ClockMode;
  readonly maxPeers: number;
}

function observeClient(cache: TlsClientSessionCache) {
  return { size: cache.size, peers: cache.peers, stats: { ...cache.stats } };
}

function checkClient(m: ClientModel): void {
  const { cache } = m;
  assertCounters(cache.stats, "stats");
  assert.equal(cache.stats.number, cache.size, "stats.number is the size");
  assert.ok(cache.peers <= m.maxPeers, `peers ${cache.peers} > maxPeers ${m.maxPeers}`);
  assert.ok(cache.size <= 4 * cache.peers, `size ${cache.size} > 4 × peers ${cache.peers}`);
}

abstract class ClientCommand implements fc.AsyncCommand<ClientModel, ClientModel> {
  constructor(readonly clock: ClockMode) {}
  check(): boolean {
    return true;
  }
  abstract act(m: ClientModel): unknown;
  /** Checks after an accepted call. */
  after(_m: ClientModel, _result: unknown): void {}
  abstract label(): string;
  async run(m: ClientModel): Promise<void> {
    m.mode = this.clock;
    const before = observeClient(m.cache);
    let result: unknown;
    const threw = refused(() => (result = this.act(m)));
    m.mode = "ok";
    if (threw) {
      assert.deepEqual(observeClient(m.cache), before, `${this} was refused but changed the cache`);
    } else this.after(m, result);
    checkClient(m);
    await Promise.resolve();
  }
  toString(): string {
    return `${this.label()}${this.clock === "ok" ? "" : ` [clock ${this.clock}]`}`;
  }
}

class ClientStore extends ClientCommand {
  constructor(readonly peer: PeerFactory, readonly data: Factory, clock: ClockMode) {
    super(clock);
  }
  act(m: ClientModel): unknown {
    return m.cache.store(this.peer.make() as TlsPeer, this.data.make() as Uint8Array);
  }
  override after(m: ClientModel, stored: unknown): void {
    // A TLS 1.2 token stored under a peer read once is offered under that very peer.
    const bytes = this.data.make();
    if (stored !== true || this.peer.peer === undefined || !this.data.valid) return;
    if (!(bytes instanceof Uint8Array)) return;
    if (!new TextDecoder().decode(bytes).startsWith(TOKEN12)) return;
    const expected = Buffer.from(new Uint8Array(bytes)); // its true bytes, whatever `length` says
    assert.deepEqual(m.cache.connectOptions(this.peer.peer).session, expected, `${this}`);
  }
  label(): string {
    return `store(${this.peer.label}, ${this.data.label})`;
  }
}

class ClientOffer extends ClientCommand {
  constructor(readonly peer: PeerFactory, clock: ClockMode) {
    super(clock);
  }
  act(m: ClientModel): unknown {
    return m.cache.connectOptions(this.peer.make() as TlsPeer);
  }
  override after(_m: ClientModel, offered: unknown): void {
    const { session } = offered as { session?: unknown };
    assert.ok(session === undefined || session instanceof Uint8Array, `${this}`);
  }
  label(): string {
    return `connectOptions(${this.peer.label})`;
  }
}

class ClientForget extends ClientCommand {
  constructor(readonly peer: PeerFactory) {
    super("ok");
  }
  act(m: ClientModel): unknown {
    return m.cache.forget(this.peer.make() as TlsPeer);
  }
  label(): string {
    return `forget(${this.peer.label})`;
  }
}

class ClientClear extends ClientCommand {
  constructor() {
    super("ok");
  }
  act(m: ClientModel): unknown {
    m.cache.clear();
    return undefined;
  }
  label(): string {
    return "clear()";
  }
}

class ClientTick extends ClientCommand {
  constructor(readonly dt: number) {
    super("ok");
  }
  act(m: ClientModel): unknown {
    m.t += this.dt;
    return undefined;
  }
  label(): string {
    return `tick(${this.dt})`;
  }
}

/** A socket answer: a value, or a method that throws. */
const answerArb = (values: unknown[]): fc.Arbitrary<Factory> =>
  fc.oneof(
    fc.constantFrom(...values).map((v) => factory(String(JSON.stringify(v) ?? v), () => () => v)),
    fc.constant(factory("throws", () => () => {
      throw new Error("socket answer throws");
    })),
    fc.constant(factory("revoked Proxy", () => () => revokedProxy())),
  );

class ClientTrack extends ClientCommand {
  constructor(
    readonly peer: PeerFactory,
    readonly data: Factory,
    readonly reused: Factory,
    readonly protocol: Factory,
  ) {
    super("ok");
  }
  act(m: ClientModel): unknown {
    const socket = new EventEmitter() as unknown as TLSSocket & EventEmitter;
    Object.assign(socket, {
      isSessionReused: this.reused.make(),
      getProtocol: this.protocol.make(),
    });
    m.cache.track(socket, this.peer.make() as TlsPeer);
    // What Node's events deliver must never throw back into the emitter.
    assert.equal(refused(() => socket.emit("session", this.data.make())), false, "session event");
    assert.equal(refused(() => socket.emit("secureConnect")), false, "secureConnect event");
    return socket;
  }
  label(): string {
    return `track(${this.peer.label}) session ${this.data.label}, reused ${this.reused.label}, protocol ${this.protocol.label}`;
  }
}

const clockArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant<ClockMode>("ok") },
  fc.constantFrom<ClockMode>("throw", "nan", "reenter-store", "reenter-forget", "reenter-clear"),
);

const clientCommands = [
  fc.tuple(peerArb, bytesArb(sessionBytesArb), clockArb).map(([p, d, c]) =>
    new ClientStore(p, d, c)
  ),
  fc.tuple(peerArb, clockArb).map(([p, c]) => new ClientOffer(p, c)),
  peerArb.map((p) => new ClientForget(p)),
  fc.constant(new ClientClear()),
  fc.constantFrom(1, 60, 400, 10_000).map((dt) => new ClientTick(dt)),
  fc.tuple(
    peerArb,
    bytesArb(sessionBytesArb),
    answerArb([true, false, "yes"]),
    answerArb(["TLSv1.2", "TLSv1.3", null]),
  ).map(([p, d, r, pr]) => new ClientTrack(p, d, r, pr)),
];

// ---- attachSessionCache on a stand-in server ---------------------------------------------------

type Behaviour = "ok" | "throw" | "reject" | "hang" | "reenter" | "garbage";

interface ServerModel {
  readonly server: Server & EventEmitter;
  readonly cache: SessionCache;
  /** The calls of every `done` handed to the listeners. */
  readonly answers: { readonly what: string; calls: number }[];
  t: number;
}

const ID_POOL = [new Uint8Array(32).fill(1), new Uint8Array([2]), new Uint8Array(32).fill(3)];

/** Session ids as Node hands them: valid when a real Uint8Array of 1 to 32 bytes. */
const idArb: fc.Arbitrary<Factory> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.nat(ID_POOL.length - 1).map((i) =>
      factory(`id[${i}]`, () => new Uint8Array(ID_POOL[i]!), true)
    ),
  },
  bytesArb(fc.uint8Array({ minLength: 0, maxLength: 40 }), (n) => n >= 1 && n <= 32),
);

function serverSnapshot(m: ServerModel) {
  return { size: m.cache.size, stats: { ...m.cache.stats } };
}

function checkServer(m: ServerModel): void {
  assertCounters(m.cache.stats, "stats");
  assert.equal(m.cache.stats.number, m.cache.size);
  for (const a of m.answers) assert.ok(a.calls <= 1, `${a.what} answered ${a.calls} times`);
}

abstract class ServerCommand implements fc.AsyncCommand<ServerModel, ServerModel> {
  check(): boolean {
    return true;
  }
  /** Emits the event; true when it carried what a refusal is made of (nothing may change). */
  abstract emit(m: ServerModel): boolean;
  async run(m: ServerModel): Promise<void> {
    const before = serverSnapshot(m);
    let refusal = false;
    // A listener that throws would throw out of emit(), into Node's TLS code.
    assert.equal(refused(() => (refusal = this.emit(m))), false, `${this} threw into the emitter`);
    if (refusal) assert.deepEqual(serverSnapshot(m), before, `${this}: refused, yet counted`);
    checkServer(m);
    await Promise.resolve();
  }
  abstract toString(): string;
}

function done(m: ServerModel, what: string): (...args: unknown[]) => void {
  const answer = { what, calls: 0 };
  m.answers.push(answer);
  return () => void answer.calls++;
}

class NewSessionEvent extends ServerCommand {
  constructor(readonly id: Factory, readonly data: Factory | undefined) {
    super();
  }
  emit(m: ServerModel): boolean {
    const id = this.id.make();
    // By default the DER of a TLS 1.2 session for that id, as Node hands it.
    const data = this.data === undefined
      ? sessionDer(TLS12, this.id.valid ? new Uint8Array(id as Uint8Array) : new Uint8Array([9]))
      : this.data.make();
    m.server.emit("newSession", id, data, done(m, `${this}`));
    return !this.id.valid || (this.data !== undefined && !this.data.valid);
  }
  toString(): string {
    return `emit("newSession", ${this.id.label}, ${this.data?.label ?? "its DER"})`;
  }
}

class ResumeEvent extends ServerCommand {
  constructor(readonly id: Factory) {
    super();
  }
  emit(m: ServerModel): boolean {
    m.server.emit("resumeSession", this.id.make(), done(m, `${this}`));
    return !this.id.valid;
  }
  toString(): string {
    return `emit("resumeSession", ${this.id.label})`;
  }
}

class SecureConnectionEvent extends ServerCommand {
  constructor(readonly reused: Factory, readonly protocol: Factory, readonly session: Factory) {
    super();
  }
  emit(m: ServerModel): boolean {
    m.server.emit("connection");
    m.server.emit("secureConnection", {
      isSessionReused: this.reused.make(),
      getProtocol: this.protocol.make(),
      getSession: this.session.make(),
    });
    return false;
  }
  toString(): string {
    return `emit("secureConnection", reused ${this.reused.label}, protocol ${this.protocol.label}, session ${this.session.label})`;
  }
}

class ServerWait extends ServerCommand {
  emit(): boolean {
    return false;
  }
  override async run(m: ServerModel): Promise<void> {
    await tick();
    checkServer(m);
  }
  toString(): string {
    return "wait()";
  }
}

class ServerTick extends ServerCommand {
  constructor(readonly dt: number) {
    super();
  }
  emit(m: ServerModel): boolean {
    m.t += this.dt;
    return false;
  }
  toString(): string {
    return `tick(${this.dt})`;
  }
}

const serverCommands = [
  fc.tuple(
    idArb,
    fc.option(bytesArb(fc.uint8Array({ maxLength: 12 })), { nil: undefined, freq: 3 }),
  ).map(([id, data]) => new NewSessionEvent(id, data)),
  idArb.map((id) => new ResumeEvent(id)),
  fc.tuple(
    answerArb([true, false, "yes"]),
    answerArb(["TLSv1.2", "TLSv1.3", null, 1.3]),
    fc.oneof(
      fc.nat(ID_POOL.length - 1).map((i) =>
        factory(`der(id[${i}])`, () => () => sessionDer(TLS12, ID_POOL[i]!), true)
      ),
      bytesArb(fc.uint8Array({ maxLength: 12 })).map((f) =>
        factory(f.label, () => {
          const v = f.make();
          return () => v;
        })
      ),
      answerArb([null, undefined]),
    ),
  ).map(([r, p, s]) => new SecureConnectionEvent(r, p, s)),
  fc.constant(new ServerWait()),
  fc.constantFrom(1, 100, 10_000).map((dt) => new ServerTick(dt)),
];

/** A callback of the cache that behaves as told. */
function behave<A extends unknown[]>(
  behaviour: Behaviour,
  cache: () => SessionCache,
  ok: (...args: A) => unknown,
): (...args: A) => unknown {
  return (...args: A) => {
    switch (behaviour) {
      case "ok":
        return ok(...args);
      case "throw":
        throw new Error("callback throws");
      case "reject":
        return Promise.reject(new Error("callback rejects"));
      case "hang":
        return new Promise(() => {});
      case "garbage":
        return revokedProxy();
      case "reenter": {
        const s = args[0] as { id?: unknown } | undefined;
        try {
          if (s?.id instanceof Uint8Array) cache().get(s.id, { version: TLS12 });
          cache().flush(0);
        } catch {
          // a re-entrant call may be refused; it must not break the outer one
        }
        return ok(...args);
      }
    }
  };
}

// ---- RedisSessionStore --------------------------------------------------------------------------

type ClientBehaviour = "ok" | "reject" | "throw" | "hang" | "thenable" | "garbage" | "late-reject";

interface StoreModel {
  readonly store: RedisSessionStore;
  readonly map: Map<string, unknown>;
  readonly held: (() => void)[];
  next: ClientBehaviour;
  sent: number;
  outstanding: number;
  readonly maxInFlight: number;
  t: number;
  readonly broken: unknown[];
  last: SessionStoreStats;
}

function checkStore(m: StoreModel): void {
  const stats = m.store.stats;
  assertCounters(stats, "store.stats");
  assert.equal(stats.gets, stats.hits + stats.misses, "gets = hits + misses");
  for (const [name, n] of Object.entries(stats)) {
    assert.ok(n >= m.last[name as keyof SessionStoreStats], `store.stats.${name} went down`);
  }
  m.last = stats;
  assert.ok(
    m.outstanding <= m.maxInFlight,
    `${m.outstanding} calls out, maxInFlight ${m.maxInFlight}`,
  );
  assert.deepEqual(m.broken, [], "a hook's promise rejected or resolved to something odd");
}

/** Watches a hook's promise: it must never reject. */
function watchPromise(m: StoreModel, value: unknown, what: string): void {
  if (value instanceof Promise) value.catch((e) => void m.broken.push(`${what} rejected: ${e}`));
}

const STORE_IDS = [new Uint8Array([1]), new Uint8Array(32).fill(2)];

const sessionArgArb: fc.Arbitrary<Factory> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.tuple(
      fc.nat(STORE_IDS.length - 1),
      fc.option(fc.uint8Array({ maxLength: 40 }), { nil: undefined }),
    ).map(([i, data]) =>
      factory(`session(id[${i}], data ${data?.length})`, () => ({
        id: new Uint8Array(STORE_IDS[i]!),
        time: 1_700_000_000,
        timeout: 300,
        version: TLS12,
        ...(data !== undefined && { data: new Uint8Array(data) }),
      }), true)
    ),
  },
  fc.nat(STORE_IDS.length - 1).map((i) =>
    factory(
      `counting(session(id[${i}]))`,
      () => countingReads({ id: new Uint8Array(STORE_IDS[i]!), time: 1, timeout: 300 }).value,
      true,
    )
  ),
  fc.nat(STORE_IDS.length - 1).map((i) =>
    factory(
      `shifting-id(session(id[${i}]))`,
      () =>
        shifting(
          { id: new Uint8Array(0), time: 1, timeout: 300 },
          "id",
          new Uint8Array(STORE_IDS[i]!),
          new Uint8Array(40),
        ),
      true,
    )
  ),
  bytesArb(fc.uint8Array({ minLength: 0, maxLength: 34 }), (n) => n >= 1 && n <= 32).map((f) =>
    factory(`session(id ${f.label})`, () => ({ id: f.make(), time: 1, timeout: 300 }), f.valid)
  ),
  fc.constantFrom(
    factory("null", () => null),
    factory("revoked Proxy", () => revokedProxy()),
    factory("{time: NaN}", () => ({ id: new Uint8Array([1]), time: NaN, timeout: 1 }), false, true),
    factory(
      "{version: -1}",
      () => ({ id: new Uint8Array([1]), time: 1, timeout: 1, version: -1 }),
      false,
      true,
    ),
  ),
);

abstract class RedisCommand implements fc.AsyncCommand<StoreModel, StoreModel> {
  check(): boolean {
    return true;
  }
  abstract act(m: StoreModel): unknown;
  /** Whether the call carries input the store must refuse before sending anything. */
  refusal(): boolean {
    return false;
  }
  async run(m: StoreModel): Promise<void> {
    const sent = m.sent;
    let result: unknown;
    assert.equal(refused(() => (result = this.act(m))), false, `${this} threw synchronously`);
    watchPromise(m, result, `${this}`);
    if (this.refusal()) {
      assert.equal(m.sent, sent, `${this}: refused input, yet sent to the client`);
    }
    await tick();
    checkStore(m);
  }
  abstract toString(): string;
}

class RedisGet extends RedisCommand {
  constructor(readonly request: Factory) {
    super();
  }
  act(m: StoreModel): unknown {
    return m.store.hooks.getSession(this.request.make() as never);
  }
  override refusal(): boolean {
    return this.request.validKey !== true;
  }
  toString(): string {
    return `hooks.getSession(${this.request.label})`;
  }
}

class RedisPut extends RedisCommand {
  constructor(readonly session: Factory) {
    super();
  }
  act(m: StoreModel): unknown {
    return m.store.hooks.onNewSession(this.session.make() as Session);
  }
  override refusal(): boolean {
    return !this.session.valid;
  }
  toString(): string {
    return `hooks.onNewSession(${this.session.label})`;
  }
}

class RedisRemove extends RedisCommand {
  constructor(readonly session: Factory, readonly reason: string | undefined) {
    super();
  }
  act(m: StoreModel): unknown {
    return m.store.hooks.onRemoveSession(
      this.session.make() as Session,
      undefined,
      this.reason as RemovalReason,
    );
  }
  override refusal(): boolean {
    return this.session.validKey !== true;
  }
  toString(): string {
    return `hooks.onRemoveSession(${this.session.label}, ${JSON.stringify(this.reason)})`;
  }
}

class RedisDecode extends RedisCommand {
  constructor(readonly value: Factory, readonly id: Factory) {
    super();
  }
  act(m: StoreModel): unknown {
    const got = m.store.decode(this.value.make() as string, "k", this.id.make() as Uint8Array);
    void got.then((s) => {
      if (s !== undefined && (typeof s !== "object" || s === null)) {
        m.broken.push(`${this} resolved to ${String(s)}`);
      }
    }, () => {});
    return got;
  }
  override refusal(): boolean {
    return true; // decode never talks to Redis
  }
  toString(): string {
    return `decode(${this.value.label}, "k", ${this.id.label})`;
  }
}

class RedisBehaviour extends RedisCommand {
  constructor(readonly behaviour: ClientBehaviour) {
    super();
  }
  act(m: StoreModel): unknown {
    m.next = this.behaviour;
    return undefined;
  }
  toString(): string {
    return `the client answers next: ${this.behaviour}`;
  }
}

class RedisRelease extends RedisCommand {
  act(m: StoreModel): unknown {
    for (const release of m.held.splice(0)) release();
    return undefined;
  }
  toString(): string {
    return "release the held calls";
  }
}

class RedisClockTick extends RedisCommand {
  constructor(readonly dt: number) {
    super();
  }
  act(m: StoreModel): unknown {
    m.t += this.dt;
    return undefined;
  }
  toString(): string {
    return `breaker clock +${this.dt} ms`;
  }
}

const requestArb: fc.Arbitrary<Factory> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.nat(STORE_IDS.length - 1).map((i) =>
      factory(
        `request(id[${i}])`,
        () => ({ id: new Uint8Array(STORE_IDS[i]!), version: TLS12 }),
        true,
      )
    ),
  },
  sessionArgArb,
);

const storeCommands = [
  requestArb.map((r) => new RedisGet(r)),
  sessionArgArb.map((s) => new RedisPut(s)),
  fc.tuple(
    sessionArgArb,
    fc.constantFrom(undefined, "removed", "evicted", "expired", "cleared", "bogus"),
  ).map(([s, r]) => new RedisRemove(s, r)),
  fc.tuple(
    fc.oneof(
      fc.string({ maxLength: 30 }).map((s) => factory(JSON.stringify(s), () => s)),
      fc.constantFrom(
        factory("s1.AAAA", () => "s1.AAAA"),
        factory("huge", () => "s1." + "A".repeat(1_500_000)),
        factory("e1.k.AAAA", () => "e1.k.AAAA"),
        factory("42", () => 42),
        factory("revoked Proxy", () => revokedProxy()),
      ),
    ),
    bytesArb(fc.uint8Array({ minLength: 1, maxLength: 4 })),
  ).map(([v, id]) => new RedisDecode(v, id)),
  fc.constantFrom<ClientBehaviour>(
    "ok",
    "reject",
    "throw",
    "hang",
    "thenable",
    "garbage",
    "late-reject",
  )
    .map((b) => new RedisBehaviour(b)),
  fc.constant(new RedisRelease()),
  fc.constantFrom(10, 1000).map((dt) => new RedisClockTick(dt)),
];

/** A client whose calls behave as the model says, counting what is sent and what is held. */
function modelClient(model: () => StoreModel): SessionStoreClient {
  const call = (answer: () => unknown): unknown => {
    const m = model();
    m.sent++;
    const hold = (settle: () => void) => {
      m.outstanding++;
      m.held.push(() => {
        m.outstanding--;
        settle();
      });
    };
    switch (m.next) {
      case "ok":
        return Promise.resolve(answer());
      case "reject":
        return Promise.reject(new Error("client rejects"));
      case "throw":
        throw new Error("client throws");
      case "thenable":
        return {
          then: () => {
            throw new Error("then throws");
          },
        };
      case "garbage":
        return Promise.resolve(42);
      case "hang":
        return new Promise((resolve) => hold(() => resolve(answer())));
      case "late-reject":
        return new Promise((_, reject) => hold(() => reject(new Error("late"))));
    }
  };
  return {
    get: (key) => call(() => model().map.get(key) ?? null) as Promise<string | null>,
    set: (key, value) => call(() => (model().map.set(key, value), "OK")) as Promise<unknown>,
    del: (key) => call(() => model().map.delete(key)) as Promise<unknown>,
  };
}

// ---- the properties -----------------------------------------------------------------------------

describe("hostile values through the adapters' and the store's public API (properties)", () => {
  // The library's deadline timers are unref-ed and the stand-ins hold no socket: keep the
  // event loop alive while a property waits for a deadline.
  let keepAlive: ReturnType<typeof setInterval> | undefined;
  before(() => {
    keepAlive = setInterval(() => {}, 1000);
  });
  after(() => clearInterval(keepAlive));

  it("TlsClientSessionCache: refused calls change nothing, invariants hold, nothing escapes", async () => {
    const watch = watchEscapes();
    await fc.assert(
      fc.asyncProperty(
        fc.commands(clientCommands, fcCommandsConstraints({ size: "+1" })),
        fc.integer({ min: 1, max: 3 }),
        async (commands, maxPeers) => {
          const holder: { model?: ClientModel } = {};
          const reenter = (m: ClientModel) => {
            const mode = m.mode;
            m.mode = "ok";
            if (mode === "reenter-store") m.cache.store(POOL[0]!, enc(`${TOKEN12}inner`));
            else if (mode === "reenter-forget") m.cache.forget(POOL[0]!);
            else if (mode === "reenter-clear") m.cache.clear();
          };
          const cache = new TlsClientSessionCache({
            maxPeers,
            timeout: 300,
            onError: () => Promise.reject(new Error("an error hook that rejects")),
            now: () => {
              const m = holder.model!;
              if (m.mode === "throw") throw new Error("clock throws");
              if (m.mode === "nan") return NaN;
              if (m.mode !== "ok") reenter(m);
              return m.t;
            },
          });
          const model: ClientModel = { cache, t: 1000, mode: "ok", maxPeers };
          holder.model = model;
          await fc.asyncModelRun(() => ({ model, real: model }), commands);
        },
      ),
      fcParams({ numRuns: 150 }),
    );
    assert.deepEqual(await watch.stop(), []);
  });

  it("attachSessionCache: every event answered once, no listener throws, nothing escapes", async () => {
    const watch = watchEscapes();
    const behaviourArb = fc.constantFrom<Behaviour>(
      "ok",
      "throw",
      "reject",
      "hang",
      "reenter",
      "garbage",
    );
    await fc.assert(
      fc.asyncProperty(
        fc.commands(serverCommands, fcCommandsConstraints({ size: "+1" })),
        fc.record({
          onNewSession: behaviourArb,
          getSession: behaviourArb,
          // (A rejecting onRemoveSession is the shell's to guard: not driven here.)
          onRemoveSession: fc.constantFrom<Behaviour>("ok", "throw", "reenter"),
          cacheSize: fc.constantFrom(0, 2, 3),
          noInternal: fc.boolean(),
        }).filter((setup) =>
          // SessionCache.handshakeCompleted() drops the rejecting promise of onNewSession when
          // a removal callback throws in the same call: it never reaches the adapter (the
          // shell's to fix, issue 11 cause 5), so that pairing is left out here.
          !(setup.onNewSession === "reject" && setup.onRemoveSession === "throw")
        ),
        async (commands, setup) => {
          const server = new EventEmitter() as unknown as Server & EventEmitter;
          Object.assign(server, {
            secureOptions: 0x4000,
            maxVersion: "TLSv1.2",
            sessionIdContext: "p",
          });
          const holder: { model?: ServerModel } = {};
          const cacheOf = () => holder.model!.cache;
          const external = new Map<string, Session>();
          const key = (id: Uint8Array) => Buffer.from(id).toString("hex");
          const cache = new SessionCache({
            cacheSize: setup.cacheSize,
            mode: SESS_CACHE_SERVER | (setup.noInternal ? SESS_CACHE_NO_INTERNAL : 0),
            now: () => holder.model?.t ?? 1000,
            onNewSession: behave(setup.onNewSession, cacheOf, (s: Session) => {
              external.set(key(s.id), s);
            }),
            getSession: behave(
              setup.getSession,
              cacheOf,
              (r: { id: Uint8Array }) => external.get(key(r.id)),
            ) as never,
            onRemoveSession: behave(setup.onRemoveSession, cacheOf, () => undefined) as never,
            onError: () => {
              throw new Error("the cache's error hook throws");
            },
          });
          const model: ServerModel = { server, cache, answers: [], t: 1000 };
          holder.model = model;
          const attached = attachSessionCache(server, cache, {
            lookupTimeoutMs: 2,
            onError: () => Promise.reject(new Error("the adapter's error hook rejects")),
          });
          await fc.asyncModelRun(() => ({ model, real: model }), commands);
          // Every Node callback gets its answer, exactly once, within the deadline.
          for (let i = 0; i < 100 && model.answers.some((a) => a.calls === 0); i++) {
            await new Promise((r) => setTimeout(r, 2));
          }
          for (const a of model.answers) {
            assert.equal(a.calls, 1, `${a.what} answered ${a.calls} times`);
          }
          attached.detach();
        },
      ),
      fcParams({ numRuns: 100 }),
    );
    assert.deepEqual(await watch.stop(), []);
  });

  it("RedisSessionStore: hooks never throw or reject, counters stay consistent, calls stay capped", async () => {
    const watch = watchEscapes();
    await fc.assert(
      fc.asyncProperty(
        fc.commands(storeCommands, fcCommandsConstraints({ size: "+1" })),
        fc.integer({ min: 1, max: 4 }),
        fc.boolean(),
        async (commands, maxInFlight, sealed) => {
          const holder: { model?: StoreModel } = {};
          const store = new RedisSessionStore(modelClient(() => holder.model!), {
            maxInFlight,
            timeoutMs: 5,
            breaker: { failures: 2, cooldownMs: 100 },
            nowMs: () => holder.model?.t ?? 0,
            ...(sealed && { keys: [{ id: "k", key: new Uint8Array(16).fill(7) }] }),
            onError: () => Promise.reject(new Error("the store's error hook rejects")),
          });
          const model: StoreModel = {
            store,
            map: new Map(),
            held: [],
            next: "ok",
            sent: 0,
            outstanding: 0,
            maxInFlight,
            t: 0,
            broken: [],
            last: store.stats,
          };
          holder.model = model;
          await fc.asyncModelRun(() => ({ model, real: model }), commands);
          for (const release of model.held.splice(0)) release();
          await store.settled();
          checkStore(model);
        },
      ),
      fcParams({ numRuns: 100 }),
    );
    assert.deepEqual(await watch.stop(), []);
  });
});
