/**
 * A circuit breaker for the store's Redis calls: after `failures` failed or
 * timed-out calls in a row it opens for `cooldownMs`, during which calls are
 * not sent. When the cooldown is over it is half-open: exactly one call, the
 * probe, goes through, and every other call is still skipped until the probe
 * has answered; a success closes the breaker, a failure opens it for another
 * cooldown.
 *
 * Internal: not re-exported from `redis.ts`.
 *
 * @module
 */

/** What the breaker lets a call do: be sent, be sent as the half-open probe, or be skipped. */
export type Admission = "call" | "probe" | "skip";

export class CircuitBreaker {
  readonly #failures: number;
  readonly #cooldownMs: number;
  readonly #nowMs: () => number;
  #failedInARow = 0;
  #openUntilMs = -Infinity;
  /** Whether the half-open probe is out (sent and not yet answered). */
  #probing = false;

  /**
   * @param failures Failures in a row that open it (`Infinity`: never opens).
   * @param cooldownMs How long it stays open.
   * @param nowMs The clock, in milliseconds. A reading that throws or is not
   *   a number is replaced by `performance.now()`, so a broken clock can
   *   neither throw into a call nor keep the breaker open for ever.
   */
  constructor(failures: number, cooldownMs: number, nowMs: () => number) {
    this.#failures = failures;
    this.#cooldownMs = cooldownMs;
    this.#nowMs = nowMs;
  }

  /** How long an opening lasts, in milliseconds. */
  get cooldownMs(): number {
    return this.#cooldownMs;
  }

  /** Failures in a row so far. */
  get failedInARow(): number {
    return this.#failedInARow;
  }

  #now(): number {
    try {
      const t = this.#nowMs();
      if (typeof t === "number" && !Number.isNaN(t)) return t;
    } catch {
      // fall back below
    }
    return performance.now();
  }

  /**
   * Whether a call may be sent now. Closed: `"call"`. Open and cooling down:
   * `"skip"`. Cooled down: the first caller gets `"probe"` and must report
   * its outcome with `probe` set; every other caller gets `"skip"` until then.
   */
  admit(): Admission {
    if (this.#failedInARow < this.#failures) return "call";
    if (this.#probing || this.#now() < this.#openUntilMs) return "skip";
    this.#probing = true;
    return "probe";
  }

  /** Records a successful call: closes the breaker. */
  succeeded(probe: boolean): void {
    if (probe) this.#probing = false;
    this.#failedInARow = 0;
  }

  /** Records a failed call; true when this failure opened a breaker that was not cooling down. */
  failed(probe: boolean): boolean {
    if (probe) this.#probing = false;
    this.#failedInARow++;
    if (this.#failedInARow < this.#failures) return false;
    const now = this.#now();
    const wasOpen = now < this.#openUntilMs;
    this.#openUntilMs = now + this.#cooldownMs;
    return !wasOpen;
  }
}
