// This module is browser compatible.

/**
 * Asynchronous helpers shared by the adapters: waiting for a promise no
 * longer than a deadline, timers that never keep a process alive, and error
 * hooks that can never throw into the caller.
 *
 * Internal: not re-exported from any entry point.
 *
 * @module
 */

/** The largest delay `setTimeout` honours: 2^31 - 1 ms (larger ones fire at once). */
export const MAX_TIMER_MS = 0x7fffffff;

/** How a promise ended within its deadline. */
export type Settled<T> =
  | { readonly status: "fulfilled"; readonly value: T }
  | { readonly status: "rejected"; readonly reason: unknown }
  | { readonly status: "timedOut" };

/**
 * Lets a timer not keep the process alive: Node's and Bun's `unref()`, or
 * `Deno.unrefTimer` for Deno's numeric timer ids. Does nothing in a browser.
 */
export function unrefTimer(timer: unknown): void {
  if (typeof timer === "object" && timer !== null) {
    (timer as { unref?: () => void }).unref?.();
    return;
  }
  const deno = (globalThis as { Deno?: { unrefTimer?: (id: number) => void } }).Deno;
  if (typeof timer === "number") deno?.unrefTimer?.(timer);
}

/** `setTimeout` whose timer never keeps the process alive. */
export function unrefTimeout(run: () => void, ms: number): ReturnType<typeof setTimeout> {
  const timer = setTimeout(run, ms);
  unrefTimer(timer);
  return timer;
}

/**
 * Takes any value as a promise of ours without consulting it synchronously:
 * a promise, a thenable (its `then` is called later, and a throw there
 * rejects) or a plain value. Never throws; reads no `constructor`.
 */
export function adopt<T>(value: T | PromiseLike<T>): Promise<T> {
  return new Promise<T>((resolve) => resolve(value));
}

/**
 * Marks whatever a callback returned as handled: when it is a promise or a
 * thenable that rejects, the rejection is dropped instead of escaping as an
 * unhandled rejection. Never throws.
 */
export function swallow(value: unknown): void {
  if ((typeof value === "object" && value !== null) || typeof value === "function") {
    adopt(value).catch(() => {});
  }
}

/**
 * Settles once: with the outcome of `work` (a promise, a thenable or a
 * value) if it settles within `timeoutMs`, else `"timedOut"` (and a later
 * outcome is ignored). Never rejects, never throws.
 */
export function settleWithin<T>(work: T | PromiseLike<T>, timeoutMs: number): Promise<Settled<T>> {
  const adopted = adopt(work);
  return new Promise((resolve) => {
    let done = false;
    const timer = unrefTimeout(() => {
      if (done) return;
      done = true;
      resolve({ status: "timedOut" });
    }, timeoutMs);
    adopted.then(
      (value) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve({ status: "fulfilled", value });
      },
      (reason) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve({ status: "rejected", reason });
      },
    );
  });
}

/**
 * Calls an error hook, if any; a hook that throws is ignored, and so is a
 * promise it returns that rejects (an async hook): it must not break its
 * caller, nor become an unhandled rejection.
 */
export function report<A extends unknown[]>(
  hook: ((...args: A) => unknown) | undefined,
  ...args: A
): void {
  if (hook === undefined) return;
  try {
    swallow(hook(...args));
  } catch {
    // An error hook that throws must not break the handshake or the store.
  }
}
