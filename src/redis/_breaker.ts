/**
 * A circuit breaker for the store's Redis calls: after `failures` failed or
 * timed-out calls in a row it opens for `cooldownMs`, during which calls are
 * not sent; after the cooldown calls go through again, one success closes it
 * and a failure opens it for another cooldown.
 *
 * Internal: not re-exported from `redis.ts`.
 *
 * @module
 */

export class CircuitBreaker {
  readonly #failures: number;
  readonly #cooldownMs: number;
  readonly #nowMs: () => number;
  #failedInARow = 0;
  #openUntilMs = -Infinity;

  /**
   * @param failures Failures in a row that open it (`Infinity`: never opens).
   * @param cooldownMs How long it stays open.
   * @param nowMs The clock, in milliseconds.
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

  /** Whether calls must be skipped now. */
  isOpen(): boolean {
    return this.#failedInARow >= this.#failures && this.#nowMs() < this.#openUntilMs;
  }

  /** Records a successful call: closes the breaker. */
  succeeded(): void {
    this.#failedInARow = 0;
  }

  /** Records a failed call; true when this failure opened a closed breaker. */
  failed(): boolean {
    this.#failedInARow++;
    if (this.#failedInARow < this.#failures) return false;
    const now = this.#nowMs();
    const wasOpen = now < this.#openUntilMs;
    this.#openUntilMs = now + this.#cooldownMs;
    return !wasOpen;
  }
}
