// This module is browser compatible.

/**
 * Time as OpenSSL 3.3 holds it, exactly: whole microseconds. Its clock is
 * `gettimeofday` (microseconds, times 1000 into nanosecond ticks) and every
 * timeout is whole seconds, so every time it compares is a whole number of
 * microseconds, and it compares them as integers. A JavaScript number in
 * seconds is rounded to the nearest microsecond here and kept as two exact
 * parts, whole seconds and microseconds, so that `time + timeout` and the
 * comparisons with `now` are exact too (a plain sum of two numbers rounds:
 * `0.014154 + 5` is below `5.014154`). Up to 2^33 s (the year 2242) a number
 * holds every microsecond; above, the nearest one it can hold.
 *
 * Internal: not re-exported from any entry point.
 *
 * @module
 */

/** The whole seconds of `t`, once rounded to the nearest microsecond. */
export function secondsOf(t: number): number {
  const s = Math.floor(t);
  return Math.round((t - s) * 1e6) === 1e6 ? s + 1 : s;
}

/** The microseconds (0 to 999999) of `t`, once rounded to the nearest microsecond. */
export function microsOf(t: number): number {
  const s = Math.floor(t);
  const m = Math.round((t - s) * 1e6);
  return m === 1e6 ? 0 : m;
}

/** The last whole second before OpenSSL 3.3's 2^64 - 1 ns limit. */
const LIMIT_SECONDS = 18446744073;
/** And the microseconds after it that still fit (709551.615 µs). */
const LIMIT_MICROS = 709551;

/**
 * The expiry `time + timeout`, exact, into `out[0]` (whole seconds, or
 * `Infinity` past 2^64 - 1 ns: saturated) and `out[1]` (microseconds).
 */
export function expiryInto(time: number, timeout: number, out: Float64Array): void {
  const ts = Math.floor(time);
  let tm = Math.round((time - ts) * 1e6);
  const os = Math.floor(timeout);
  let om = Math.round((timeout - os) * 1e6);
  // (A fraction that rounds up to a whole second carries.)
  let sec = ts + os;
  if (tm === 1e6) {
    sec++;
    tm = 0;
  }
  if (om === 1e6) {
    sec++;
    om = 0;
  }
  let micro = tm + om;
  if (micro >= 1e6) {
    sec++;
    micro -= 1e6;
  }
  if (sec > LIMIT_SECONDS || (sec === LIMIT_SECONDS && micro > LIMIT_MICROS)) {
    sec = Infinity;
    micro = 0;
  }
  out[0] = sec;
  out[1] = micro;
}

const scratch = new Float64Array(2);

/** The seconds part of `time + timeout`, exact, or `Infinity` past 2^64 - 1 ns (saturated). */
export function expirySeconds(time: number, timeout: number): number {
  expiryInto(time, timeout, scratch);
  return scratch[0]!;
}

/** The microseconds part of `time + timeout` (0 when saturated). */
export function expiryMicros(time: number, timeout: number): number {
  expiryInto(time, timeout, scratch);
  return scratch[1]!;
}

/**
 * Whether the instant (`nowSec`, `nowMicro`: `secondsOf(now)` and
 * `microsOf(now)`) is strictly after the expiry (`expSec`, `expMicro`).
 */
export function isAfter(
  nowSec: number,
  nowMicro: number,
  expSec: number,
  expMicro: number,
): boolean {
  return nowSec > expSec || (nowSec === expSec && nowMicro > expMicro);
}
