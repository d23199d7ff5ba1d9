/**
 * TicketKeyRotation (every runtime): the period arithmetic, installing the
 * current key on every attached server, fetching the next key ahead of the
 * boundary and switching at the boundary without a call to the source,
 * keeping the current key when the source fails (reported, retried with a
 * doubling delay, one call at a time), refusing keys that are not 48 bytes,
 * never exposing key bytes, detecting Deno (keys ignored) and Bun (no ticket
 * keys) with a real node:tls server, timers that never keep a process alive,
 * and refusals in the std grammar.
 *
 * The clock is injected (`nowMs`: real time shifted, so a test starts where
 * it wants in a period); the timers are real, with periods of a few hundred
 * milliseconds.
 */

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createServer } from "node:tls";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  TicketKeyRotation,
  type TicketKeyRotationOptions,
  type TicketKeyServer,
  type TicketKeySource,
  TicketKeyWarning,
} from "../../node.ts";
import {
  countingReads,
  deferred,
  mostReads,
  proxiedUint8Array,
  watchEscapes,
} from "../_hostile.ts";
import { run, runtimeCommand } from "../_spawn.ts";
import { CERT, KEY, RUNTIME } from "./_tls.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The rotation's timers are unref-ed: while a test waits on them alone, this keeps the loop alive.
let keepAlive: ReturnType<typeof setInterval> | undefined;
before(() => void (keepAlive = setInterval(() => {}, 1000)));
after(() => clearInterval(keepAlive));

/** A clock `phaseMs` into a period of `rotationMs` now, running in real time. */
function clockAt(rotationMs: number, phaseMs: number): { nowMs: () => number; index: number } {
  const real = Date.now();
  const start = (Math.floor(real / rotationMs) + 1) * rotationMs;
  const offset = start + phaseMs - real;
  return { nowMs: () => Date.now() + offset, index: start / rotationMs };
}

/** A stand-in for a Node server: it keeps the key it is given and logs each install. */
function fakeServer(): TicketKeyServer & { key: Buffer; installs: Buffer[] } {
  const server = {
    key: Buffer.alloc(48, 0xee),
    installs: [] as Buffer[],
    setTicketKeys(keys: Buffer) {
      server.key = Buffer.from(keys);
      server.installs.push(server.key);
    },
    getTicketKeys: () => Buffer.from(server.key),
  };
  return server;
}

/** A source holding one random key per period, logging each call (index, clock). */
function memorySource(nowMs: () => number = Date.now) {
  const keys = new Map<number, Uint8Array>();
  const calls: { index: number; atMs: number }[] = [];
  const source: TicketKeySource = {
    ticketKey: ({ index }) => {
      calls.push({ index, atMs: nowMs() });
      if (!keys.has(index)) keys.set(index, crypto.getRandomValues(new Uint8Array(48)));
      return Promise.resolve(keys.get(index)!);
    },
  };
  return { source, keys, calls };
}

/** What attach() says of a stand-in server: Deno's servers ignore ticket keys, whatever the object. */
const STAND_IN_WARNINGS = RUNTIME === "deno" ? ["ignored"] : [];

function hexOf(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

/** Waits until `check()` holds, at most `ms`. */
async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await sleep(5);
}

describe("TicketKeyRotation installs the period's key", () => {
  it("the current period is floor(nowMs / rotationMs); its key goes to every server, and to one attached later", async () => {
    const clock = clockAt(3_600_000, 1_000_000);
    const { source, keys, calls } = memorySource();
    const rotation = new TicketKeyRotation(source, { rotationMs: 3_600_000, nowMs: clock.nowMs });
    try {
      const a = fakeServer();
      rotation.attach(a);
      assert.equal(await rotation.ready(), true);
      assert.deepEqual(calls.map((c) => c.index), [clock.index]);
      assert.equal(hexOf(a.key), hexOf(keys.get(clock.index)!));
      const b = fakeServer();
      assert.deepEqual(rotation.attach(b).warnings.map((w) => w.code), STAND_IN_WARNINGS);
      assert.equal(hexOf(b.key), hexOf(keys.get(clock.index)!), "installed at once on attach");
      assert.equal(rotation.status, "current");
      assert.deepEqual(rotation.stats, {
        period: clock.index,
        installs: 1,
        fetches: 1,
        failures: 0,
        servers: 2,
      });
    } finally {
      rotation.stop();
    }
  });

  it("two rotations on one source (two servers of a fleet) hold the same key, and switch together", async () => {
    const rotationMs = 300;
    const clock = clockAt(rotationMs, 20);
    const { source, keys } = memorySource();
    const options = { rotationMs, prefetchMs: 100, nowMs: clock.nowMs };
    const [ra, rb] = [
      new TicketKeyRotation(source, options),
      new TicketKeyRotation(source, options),
    ];
    const [a, b] = [fakeServer(), fakeServer()];
    ra.attach(a);
    rb.attach(b);
    try {
      await Promise.all([ra.ready(), rb.ready()]);
      assert.equal(hexOf(a.key), hexOf(b.key));
      await until(() => a.installs.length >= 2 && b.installs.length >= 2);
      assert.equal(hexOf(a.installs[1]!), hexOf(keys.get(clock.index + 1)!));
      assert.equal(hexOf(b.installs[1]!), hexOf(keys.get(clock.index + 1)!));
    } finally {
      ra.stop();
      rb.stop();
    }
  });
});

describe("TicketKeyRotation at a boundary", () => {
  it("fetches the next key within prefetchMs of the boundary and installs it at the boundary, with no call to the source there", async () => {
    const rotationMs = 400;
    const prefetchMs = 150;
    const clock = clockAt(rotationMs, 50);
    const events: string[] = [];
    const keys = new Map<number, Uint8Array>();
    const calls: { index: number; atMs: number }[] = [];
    const source: TicketKeySource = {
      ticketKey: async ({ index, startMs, endMs }) => {
        calls.push({ index, atMs: clock.nowMs() });
        assert.deepEqual([startMs, endMs], [index * rotationMs, (index + 1) * rotationMs]);
        events.push(`fetch ${index}`);
        await sleep(5); // a round trip
        events.push(`fetched ${index}`);
        const key = crypto.getRandomValues(new Uint8Array(48));
        keys.set(index, key);
        return key;
      },
    };
    const installsAt: number[] = [];
    const server = fakeServer();
    const logging: TicketKeyServer = {
      setTicketKeys: (k) => {
        installsAt.push(clock.nowMs());
        events.push(`install ${[...keys].find(([, key]) => hexOf(key) === hexOf(k))?.[0]}`);
        server.setTicketKeys(k);
      },
      getTicketKeys: () => server.getTicketKeys(),
    };
    const rotation = new TicketKeyRotation(source, { rotationMs, prefetchMs, nowMs: clock.nowMs });
    rotation.attach(logging);
    try {
      await until(() => installsAt.length >= 2);
      const p = clock.index;
      const boundary = (p + 1) * rotationMs;
      assert.deepEqual(events.slice(0, 6), [
        `fetch ${p}`,
        `fetched ${p}`,
        `install ${p}`,
        `fetch ${p + 1}`,
        `fetched ${p + 1}`,
        `install ${p + 1}`,
      ]);
      // Fetched ahead: within prefetchMs of the boundary, before it.
      assert.ok(
        calls[1]!.atMs >= boundary - prefetchMs,
        `prefetch at ${calls[1]!.atMs - boundary}`,
      );
      assert.ok(calls[1]!.atMs < boundary, `prefetched ${calls[1]!.atMs - boundary} ms after`);
      // Installed at the boundary, not before: the switch follows the clock.
      assert.ok(installsAt[1]! >= boundary, `installed ${boundary - installsAt[1]!} ms early`);
      assert.equal(rotation.stats.period, p + 1);
      assert.equal(rotation.stats.installs, 2);
    } finally {
      rotation.stop();
    }
  });

  it("prefetchMs 0 fetches at the boundary (the switch then waits for the source)", async () => {
    const rotationMs = 200;
    const clock = clockAt(rotationMs, 20);
    const { source, calls } = memorySource(clock.nowMs);
    const rotation = new TicketKeyRotation(source, {
      rotationMs,
      prefetchMs: 0,
      nowMs: clock.nowMs,
    });
    try {
      await until(() => calls.length >= 2);
      assert.equal(calls[1]!.index, clock.index + 1);
      assert.ok(calls[1]!.atMs >= (clock.index + 1) * rotationMs);
    } finally {
      rotation.stop();
    }
  });
});

describe("TicketKeyRotation when the source fails", () => {
  it("keeps the current key past the boundary, reports each failure, retries with a doubling delay, and catches up when the source is back", async () => {
    const rotationMs = 400;
    const clock = clockAt(rotationMs, 20);
    let up = true;
    const { source: healthy, keys } = memorySource();
    const calls: { index: number; atMs: number }[] = [];
    const source: TicketKeySource = {
      ticketKey: (period) => {
        calls.push({ index: period.index, atMs: Date.now() });
        return up ? healthy.ticketKey(period) : Promise.reject(new Error("Redis is down"));
      },
    };
    const reported: { error: unknown; context: unknown }[] = [];
    const server = fakeServer();
    const rotation = new TicketKeyRotation(source, {
      rotationMs,
      prefetchMs: 100,
      retryMs: 10,
      nowMs: clock.nowMs,
      onError: (error, context) => {
        if (!(error instanceof TicketKeyWarning)) reported.push({ error, context });
      },
    });
    rotation.attach(server);
    try {
      assert.equal(await rotation.ready(), true);
      const p = clock.index;
      const first = hexOf(server.key);
      up = false;
      const failingFrom = Date.now();
      // Past the boundary, and a while into the next period.
      await until(() => clock.nowMs() >= (p + 1) * rotationMs + 150);
      const failingMs = Date.now() - failingFrom;
      assert.equal(hexOf(server.key), first, "the server keeps its key");
      assert.equal(rotation.status, "stale");
      assert.equal(rotation.stats.period, p);
      const failed = calls.length - 1;
      assert.ok(failed >= 2, `${failed} failed calls`);
      // Doubling from 10 ms, capped at a quarter period: never more calls than that allows.
      let allowed = 0;
      for (
        let waited = 0, delay = 10;
        waited <= failingMs;
        waited += delay, delay = Math.min(2 * delay, rotationMs / 4)
      ) {
        allowed++;
      }
      assert.ok(
        failed <= allowed + 1,
        `${failed} calls in ${failingMs} ms (at most ${allowed + 1})`,
      );
      assert.equal(rotation.stats.failures, failed);
      assert.equal(reported.length, failed);
      for (const { error, context } of reported) {
        assert.match(String(error), /Redis is down/);
        assert.equal((context as { operation: string }).operation, "fetch");
      }
      assert.deepEqual(
        [...new Set(reported.map((r) => (r.context as { period: number }).period))],
        [p + 1],
        "the next period's key was asked for, then the current one's (the same period)",
      );
      up = true;
      await until(() => rotation.status === "current");
      assert.equal(rotation.status, "current");
      assert.equal(hexOf(server.key), hexOf(keys.get(periodNow(clock.nowMs, rotationMs))!));
    } finally {
      rotation.stop();
    }
  });

  it("a source that never answers is abandoned after timeoutMs: one call out at a time", async () => {
    const calls = deferred<void>();
    let made = 0;
    const source: TicketKeySource = {
      ticketKey: () => {
        made++;
        if (made === 3) calls.resolve();
        return new Promise<Uint8Array>(() => {});
      },
    };
    const reported: unknown[] = [];
    const rotation = new TicketKeyRotation(source, {
      timeoutMs: 20,
      retryMs: 1,
      onError: (error) => reported.push(error),
    });
    try {
      assert.equal(await rotation.ready(), false, "the first fetch timed out");
      await calls.promise;
      // Each call was given up (reported) before the next one was made.
      assert.ok(reported.length >= made - 1, `${made} calls, ${reported.length} given up`);
      assert.match(
        String(reported[0]),
        /^Error: Cannot fetch ticket key: the source must answer within 20 ms: received no answer \(period \d+\)$/,
      );
      assert.equal(rotation.status, "none");
    } finally {
      rotation.stop();
    }
  });

  it("a key that is not 48 bytes, or not a Uint8Array, is refused and never installed", async () => {
    for (
      const [bad, message] of [
        [
          new Uint8Array(47),
          /^RangeError: Cannot install ticket key: key must be 48 bytes: received 47$/,
        ],
        [
          new Uint16Array(24),
          /^TypeError: Cannot install ticket key: key must be a Uint8Array: received an object$/,
        ],
        [
          "x".repeat(48),
          /^TypeError: Cannot install ticket key: key must be a Uint8Array: received "x+…"$/,
        ],
      ] as const
    ) {
      const reported: unknown[] = [];
      const server = fakeServer();
      const rotation = new TicketKeyRotation(
        { ticketKey: () => Promise.resolve(bad as unknown as Uint8Array) },
        {
          retryMs: 10_000,
          onError: (error) => void (error instanceof TicketKeyWarning || reported.push(error)),
        },
      );
      rotation.attach(server);
      try {
        assert.equal(await rotation.ready(), false);
        assert.equal(server.installs.length, 0);
        assert.match(String(reported[0]), message);
        assert.equal(rotation.stats.failures, 1);
      } finally {
        rotation.stop();
      }
    }
  });

  it("a source whose ticketKey throws, or a server whose setTicketKeys throws, is reported; the other servers still get the key", async () => {
    const watch = watchEscapes();
    const reported: { error: unknown; context: unknown }[] = [];
    const throwing = new TicketKeyRotation({
      ticketKey: () => {
        throw new Error("sync throw");
      },
    }, { retryMs: 10_000, onError: (error, context) => reported.push({ error, context }) });
    assert.equal(await throwing.ready(), false);
    throwing.stop();
    assert.match(String(reported[0]?.error), /sync throw/);
    const { source, keys } = memorySource();
    const rotation = new TicketKeyRotation(source, {
      onError: (error, context) => reported.push({ error, context }),
    });
    const good = fakeServer();
    rotation.attach({
      setTicketKeys: () => {
        throw new Error("refused");
      },
      getTicketKeys: () => Buffer.alloc(48),
    });
    rotation.attach(good);
    try {
      assert.equal(await rotation.ready(), true);
      assert.equal(hexOf(good.key), hexOf([...keys.values()][0]!));
      const install = reported.find((r) =>
        (r.context as { operation: string }).operation === "install"
      );
      assert.match(String(install?.error), /refused/);
    } finally {
      rotation.stop();
    }
    assert.deepEqual(await watch.stop(), []);
  });

  it("an onError hook that throws or rejects breaks nothing", async () => {
    const watch = watchEscapes();
    let fail = true;
    const { source } = memorySource();
    const rotation = new TicketKeyRotation({
      ticketKey: (p) => (fail ? Promise.reject(new Error("down")) : source.ticketKey(p)),
    }, {
      retryMs: 5,
      onError: () => {
        fail = false;
        throw new Error("hook");
      },
    });
    try {
      await until(() => rotation.status === "current");
      assert.equal(rotation.status, "current");
      const rejecting = new TicketKeyRotation({ ticketKey: () => Promise.reject(new Error("x")) }, {
        retryMs: 10_000,
        onError: () => Promise.reject(new Error("async hook")),
      });
      assert.equal(await rejecting.ready(), false);
      rejecting.stop();
    } finally {
      rotation.stop();
    }
    assert.deepEqual(await watch.stop(), []);
  });
});

describe("TicketKeyRotation never exposes key bytes", () => {
  it("not in stats, status, warnings or anything reported to onError", async () => {
    const rotationMs = 200;
    const clock = clockAt(rotationMs, 20);
    const { source, keys } = memorySource();
    let calls = 0;
    const reported: unknown[] = [];
    const rotation = new TicketKeyRotation({
      ticketKey: (p) => {
        calls++;
        // Every other call fails, with an error carrying the key it would have given.
        if (calls % 2 === 0) {
          return source.ticketKey(p).then((key) => {
            throw new RangeError(`bad ${key.length}`);
          });
        }
        return source.ticketKey(p);
      },
    }, {
      rotationMs,
      prefetchMs: 50,
      retryMs: 5,
      nowMs: clock.nowMs,
      onError: (error, context) => reported.push(error, context),
    });
    const server = fakeServer();
    const attached = rotation.attach(server);
    try {
      await until(() => rotation.stats.installs >= 2);
      const texts = [
        JSON.stringify(rotation.stats),
        rotation.status,
        JSON.stringify(attached.warnings),
        ...reported.map((r) => `${String(r)} ${JSON.stringify(r)}`),
      ].join("\n");
      for (const key of keys.values()) {
        for (const form of [hexOf(key), Buffer.from(key).toString("base64"), key.join(",")]) {
          assert.ok(!texts.includes(form), "a key's bytes were exposed");
        }
      }
      assert.ok(reported.length > 0);
    } finally {
      rotation.stop();
    }
  });
});

describe("TicketKeyRotation stop() and detach()", () => {
  it("stop() ends the rotation: no more calls, the servers keep their key, ready() is false if no key came first", async () => {
    const pending = deferred<Uint8Array>();
    let made = 0;
    const rotation = new TicketKeyRotation({
      ticketKey: () => {
        made++;
        return pending.promise;
      },
    });
    const server = fakeServer();
    rotation.attach(server);
    rotation.stop();
    rotation.stop(); // idempotent
    assert.equal(await rotation.ready(), false);
    pending.resolve(crypto.getRandomValues(new Uint8Array(48)));
    await sleep(10);
    assert.equal(server.installs.length, 0, "a late answer installs nothing");
    assert.equal(made, 1);
  });

  it("detach() stops installing on that server; attaching one server twice is refused", async () => {
    const rotationMs = 200;
    const clock = clockAt(rotationMs, 20);
    const { source } = memorySource();
    const rotation = new TicketKeyRotation(source, {
      rotationMs,
      prefetchMs: 50,
      nowMs: clock.nowMs,
    });
    const a = fakeServer();
    const b = fakeServer();
    const attached = rotation.attach(a);
    rotation.attach(b);
    assert.throws(
      () => rotation.attach(a),
      /^TypeError: Cannot attach ticket keys: server must not be attached already: received a server$/,
    );
    try {
      await rotation.ready();
      attached.detach();
      attached.detach(); // idempotent
      assert.equal(rotation.stats.servers, 1);
      await until(() => b.installs.length >= 2);
      assert.equal(a.installs.length, 1);
      assert.equal(b.installs.length, 2);
      rotation.attach(a).detach(); // attachable again after detach
    } finally {
      rotation.stop();
    }
  });
});

describe(`TicketKeyRotation on a real node:tls server (${RUNTIME})`, () => {
  it("Node installs the key; Deno takes it but ignores it, Bun has none: each reported once", async () => {
    const reported: { error: unknown; context: unknown }[] = [];
    const { source, keys } = memorySource();
    const rotation = new TicketKeyRotation(source, {
      onError: (error, context) => reported.push({ error, context }),
    });
    const server = createServer({ key: KEY, cert: CERT });
    try {
      const attached = rotation.attach(server);
      assert.equal(await rotation.ready(), true);
      const codes = attached.warnings.map((w) => w.code);
      if (RUNTIME === "node") {
        assert.deepEqual(codes, []);
        assert.equal(hexOf(server.getTicketKeys()), hexOf([...keys.values()][0]!));
      } else {
        assert.deepEqual(codes, [RUNTIME === "deno" ? "ignored" : "unsupported"]);
        assert.ok(attached.warnings[0] instanceof TicketKeyWarning);
        assert.match(attached.warnings[0]!.message, /resume only on the server that issued/);
      }
      assert.deepEqual(reported.map((r) => r.error), attached.warnings);
      for (const r of reported) {
        assert.equal((r.context as { operation: string }).operation, "attach");
      }
      assert.deepEqual(reported.filter((r) => !(r.error instanceof TicketKeyWarning)), []);
    } finally {
      rotation.stop();
    }
  });
});

describe(`TicketKeyRotation's timers do not keep a process alive (${RUNTIME})`, () => {
  it("a process with a rotation waiting on its timers (a boundary 24 days away, a source that never answers) exits by itself", async () => {
    const finished = await run(runtimeCommand(join(HERE, "_ticket_rotation_proc.ts")), {
      cwd: join(HERE, "..", ".."),
      deadlineMs: 30_000,
    });
    assert.equal(finished.killed, false, `still running after 30 s: ${finished.stderr}`);
    assert.equal(finished.code, 0, finished.stderr);
    assert.equal(finished.stdout, "waiting\n");
  });
});

describe("TicketKeyRotation refuses bad arguments (std grammar), and starts nothing then", () => {
  const { source, calls } = memorySource();
  const cases: [string, () => unknown, ErrorConstructor, string][] = [
    [
      "no source",
      () => new TicketKeyRotation(undefined as never),
      TypeError,
      "Cannot create ticket key rotation: source must be an object: received undefined",
    ],
    [
      "a source without ticketKey",
      () => new TicketKeyRotation({} as never),
      TypeError,
      "Cannot create ticket key rotation: source.ticketKey must be a function: received undefined",
    ],
    [
      "rotationMs 0",
      () => new TicketKeyRotation(source, { rotationMs: 0 }),
      RangeError,
      "Cannot create ticket key rotation: rotationMs must be a number > 0 and at most 2147483647 ms: received 0",
    ],
    [
      "rotationMs above 2^31 - 1",
      () => new TicketKeyRotation(source, { rotationMs: 2 ** 31 }),
      RangeError,
      "Cannot create ticket key rotation: rotationMs must be a number > 0 and at most 2147483647 ms: received 2147483648",
    ],
    [
      "rotationMs 1.5",
      () => new TicketKeyRotation(source, { rotationMs: 1.5 }),
      RangeError,
      "Cannot create ticket key rotation: rotationMs must be an integer: received 1.5",
    ],
    [
      "rotationMs a string",
      () => new TicketKeyRotation(source, { rotationMs: "1000" as never }),
      TypeError,
      'Cannot create ticket key rotation: rotationMs must be a number: received "1000"',
    ],
    [
      "prefetchMs = rotationMs",
      () => new TicketKeyRotation(source, { rotationMs: 1000, prefetchMs: 1000 }),
      RangeError,
      "Cannot create ticket key rotation: prefetchMs must be >= 0 and less than rotationMs (1000): received 1000",
    ],
    [
      "prefetchMs NaN",
      () => new TicketKeyRotation(source, { prefetchMs: NaN }),
      RangeError,
      "Cannot create ticket key rotation: prefetchMs must be >= 0 and less than rotationMs (3600000): received NaN",
    ],
    [
      "retryMs -1",
      () => new TicketKeyRotation(source, { retryMs: -1 }),
      RangeError,
      "Cannot create ticket key rotation: retryMs must be a number > 0 and at most 2147483647 ms: received -1",
    ],
    [
      "timeoutMs Infinity",
      () => new TicketKeyRotation(source, { timeoutMs: Infinity }),
      RangeError,
      "Cannot create ticket key rotation: timeoutMs must be a number > 0 and at most 2147483647 ms: received Infinity",
    ],
    [
      "onError not a function",
      () => new TicketKeyRotation(source, { onError: 1 as never }),
      TypeError,
      "Cannot create ticket key rotation: onError must be a function: received 1",
    ],
    [
      "nowMs not a function",
      () => new TicketKeyRotation(source, { nowMs: {} as never }),
      TypeError,
      "Cannot create ticket key rotation: nowMs must be a function: received an object",
    ],
    [
      "options not an object",
      () => new TicketKeyRotation(source, 5 as never as TicketKeyRotationOptions),
      TypeError,
      "Cannot create ticket key rotation: options must be an object: received 5",
    ],
  ];
  for (const [what, call, error, message] of cases) {
    it(`${what}: ${error.name} "${message}"`, () => {
      assert.throws(call, (e: unknown) => {
        assert.ok(e instanceof error);
        assert.equal((e as Error).message, message);
        return true;
      });
      assert.equal(calls.length, 0, "the source was not called");
    });
  }

  it("reads each option and the source's ticketKey once; a key handed as a Proxy or a thenable is taken as the source meant it", async () => {
    const reported: unknown[] = [];
    const options = countingReads<TicketKeyRotationOptions>({
      rotationMs: 3_600_000,
      prefetchMs: 1000,
      retryMs: 10_000,
      onError: (error) => void (error instanceof TicketKeyWarning || reported.push(error)),
    });
    const key = crypto.getRandomValues(new Uint8Array(48));
    let answer: unknown = proxiedUint8Array(key);
    const source = countingReads({ ticketKey: () => answer as Promise<Uint8Array> });
    const rotation = new TicketKeyRotation(source.value, options.value);
    try {
      assert.equal(mostReads(source.reads), 1);
      assert.equal(await rotation.ready(), false, "a Proxy of a Uint8Array is not one");
      assert.match(String(reported[0]), /key must be a Uint8Array: received an object/);
    } finally {
      rotation.stop();
    }
    assert.equal(mostReads(options.reads), 1);
    answer = { then: (resolve: (k: Uint8Array) => void) => resolve(key) };
    const thenable = new TicketKeyRotation({ ticketKey: () => answer as Promise<Uint8Array> });
    try {
      assert.equal(await thenable.ready(), true);
    } finally {
      thenable.stop();
    }
  });

  it("attach() refuses what is not a server with setTicketKeys", () => {
    const rotation = new TicketKeyRotation(memorySource().source);
    try {
      assert.throws(
        () => rotation.attach(null as never),
        /^TypeError: Cannot attach ticket keys: server must be a tls.Server: received null$/,
      );
      assert.throws(
        () => rotation.attach({ getTicketKeys: () => Buffer.alloc(48) } as never),
        /^TypeError: Cannot attach ticket keys: server\.setTicketKeys must be a function: received undefined$/,
      );
      assert.equal(rotation.stats.servers, 0);
    } finally {
      rotation.stop();
    }
  });

  it("a clock that throws or answers NaN falls back to Date.now()", async () => {
    for (
      const nowMs of [() => NaN, () => {
        throw new Error("clock");
      }]
    ) {
      const { source, calls: made } = memorySource();
      const rotation = new TicketKeyRotation(source, { rotationMs: 3_600_000, nowMs });
      try {
        assert.equal(await rotation.ready(), true);
        assert.equal(made[0]!.index, Math.floor(Date.now() / 3_600_000));
      } finally {
        rotation.stop();
      }
    }
  });
});

function periodNow(nowMs: () => number, rotationMs: number): number {
  return Math.floor(nowMs() / rotationMs);
}
