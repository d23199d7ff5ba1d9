/**
 * Hostile values for the hardening tests: objects that pass `instanceof
 * Uint8Array` without being one, Proxies, revoked Proxies, getters that
 * answer differently on each read, objects that count their reads, and a
 * watch for unhandled rejections. Runs on Deno, Bun and Node.
 *
 * @module
 */

import process from "node:process";

/** An object that only inherits `Uint8Array.prototype`: `instanceof Uint8Array` is true. */
export function prototypeOnlyUint8Array(length = 4): Uint8Array {
  const fake = Object.create(Uint8Array.prototype) as Record<string | number, unknown>;
  Object.defineProperty(fake, "length", { value: length });
  for (let i = 0; i < length; i++) fake[i] = i + 1;
  return fake as unknown as Uint8Array;
}

/** A Proxy of a real Uint8Array: `instanceof Uint8Array` is true, internal slots are absent. */
export function proxiedUint8Array(bytes: Uint8Array = new Uint8Array([1, 2, 3])): Uint8Array {
  return new Proxy(bytes, {});
}

/** A Proxy revoked at once: almost anything done with it throws. */
export function revokedProxy(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

/** A real Uint8Array whose own `length` property lies. */
export function lyingLengthUint8Array(bytes: Uint8Array, length: number): Uint8Array {
  const copy = new Uint8Array(bytes);
  Object.defineProperty(copy, "length", { value: length });
  return copy;
}

/**
 * An object whose property `name` answers `first` on its first read and
 * `later` on every read after (a getter that slips a value past a check).
 */
export function shifting<T extends object>(
  base: T,
  name: string,
  first: unknown,
  later: unknown,
): T {
  let reads = 0;
  const out = { ...base } as Record<string, unknown>;
  delete out[name];
  Object.defineProperty(out, name, {
    enumerable: true,
    get: () => (reads++ === 0 ? first : later),
  });
  return out as T;
}

/**
 * A Proxy of `target` that counts the reads of each property, and `reads`,
 * the counts (`reads.get("id")`). Symbol keys are not counted.
 */
export function countingReads<T extends object>(
  target: T,
): { value: T; reads: Map<string, number> } {
  const reads = new Map<string, number>();
  const value = new Proxy(target, {
    get(t, key, receiver) {
      if (typeof key === "string") reads.set(key, (reads.get(key) ?? 0) + 1);
      return Reflect.get(t, key, receiver);
    },
  });
  return { value, reads };
}

/** The largest read count of any property counted by {@linkcode countingReads}. */
export function mostReads(reads: Map<string, number>): number {
  let most = 0;
  for (const n of reads.values()) most = Math.max(most, n);
  return most;
}

/** A watch on `unhandledRejection` and `uncaughtException` for the duration of a test. */
export interface EscapeWatch {
  /** What escaped so far. */
  readonly escaped: readonly unknown[];
  /** Lets pending rejections surface (a few macrotasks), stops watching, and returns what escaped. */
  stop(): Promise<readonly unknown[]>;
}

/** Starts watching for unhandled rejections and uncaught exceptions. */
export function watchEscapes(): EscapeWatch {
  const escaped: unknown[] = [];
  const onRejection = (reason: unknown): void => void escaped.push(reason);
  const onException = (error: unknown): void => void escaped.push(error);
  process.on("unhandledRejection", onRejection);
  process.on("uncaughtException", onException);
  return {
    escaped,
    async stop() {
      for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 1));
      process.off("unhandledRejection", onRejection);
      process.off("uncaughtException", onException);
      return escaped;
    },
  };
}

/** A promise with its resolve and reject functions. */
export function deferred<T>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (reason: unknown) => void;
} {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
