// This module is browser compatible.

/**
 * Scenarios one click away: OpenSSL's own tests of the cache
 * (`test/sslapitest.c`, 3.3.2) and one scenario per quirk the README lists,
 * as plain step lists. A scenario says what it does and, for OpenSSL's tests,
 * what that test asserts; what happens is shown by running the core.
 *
 * The explorer starts every scenario from `initialFrame()`: OpenSSL's
 * defaults and the clock at 1000 (sslapitest.c uses `time(NULL)`; 1000 keeps
 * the numbers short). Ids are short hex strings where the real tests use
 * 32 bytes of one repeated value.
 *
 * @module
 */

import {
  SESS_CACHE_NO_INTERNAL_LOOKUP,
  SESS_CACHE_SERVER,
  SESS_CACHE_UPDATE_TIME,
} from "../core.ts";
import type { Step } from "./steps.ts";

/** One scenario. */
export interface Scenario {
  /** A URL-safe name. */
  readonly name: string;
  /** The button's title. */
  readonly title: string;
  /** What the steps do (and, for an OpenSSL test, what it asserts). */
  readonly about: string;
  /** Where it comes from. */
  readonly source: string;
  /** The steps. */
  readonly steps: readonly Step[];
}

const add = (id: string, time: number, timeout: number, version?: number): Step =>
  version === undefined
    ? { op: "add", id, time, timeout }
    : { op: "add", id, time, timeout, version };

/** The scenarios, in the order the page lists them. */
export const SCENARIOS: readonly Scenario[] = [
  {
    name: "test_session_timeout",
    title: "OpenSSL's test_session_timeout",
    source: "test/sslapitest.c, test_session_timeout",
    about:
      "Three sessions are added, then re-timed in the cache to times now − 10, now and now + 10 with timeout 10. The test asserts that flush(now + 9) removes only the first, flush(now + 11) the second and flush(now + 21) the third; that all three can be added back (each add returns 1) and flush(0) removes them; and that with UPDATE_TIME an add sets the session's time to now.",
    steps: [
      add("01", 1000, 304),
      add("02", 1000, 304),
      add("03", 1000, 304),
      { op: "setTime", id: "01", time: 990 },
      { op: "setTime", id: "02", time: 1000 },
      { op: "setTime", id: "03", time: 1010 },
      { op: "setTimeout", id: "01", timeout: 10 },
      { op: "setTimeout", id: "02", timeout: 10 },
      { op: "setTimeout", id: "03", timeout: 10 },
      { op: "flush", tm: 1009 },
      { op: "flush", tm: 1011 },
      { op: "flush", tm: 1021 },
      { op: "readd", id: "01" },
      { op: "readd", id: "02" },
      { op: "readd", id: "03" },
      { op: "flush", tm: 0 },
      { op: "mode", mode: SESS_CACHE_SERVER | SESS_CACHE_UPDATE_TIME },
      add("01", 990, 10),
    ],
  },
  {
    name: "execute_test_session",
    title: "execute_test_session: re-add and remove",
    source: "test/sslapitest.c, execute_test_session",
    about:
      "The test asserts that adding a session that is already cached fails (returns 0), that removing it succeeds, and that removing it again fails while the remove callback still fires.",
    steps: [
      add("01", 1000, 7200, 0x0303),
      { op: "readd", id: "01", version: 0x0303 },
      { op: "remove", id: "01", version: 0x0303 },
      { op: "remove", id: "01", version: 0x0303 },
    ],
  },
  {
    name: "execute_test_session_size1",
    title: "execute_test_session: cache size 1",
    source: "test/sslapitest.c, execute_test_session",
    about:
      "Session 01 gets time 1000 and timeout 1000, session 02 time 2000 and timeout 2000; the cache size is set to 1; 01 and 02 are added, then 01 again. The test asserts that this last add succeeds and leaves 01 cached, not 02, “despite the timeouts”.",
    steps: [
      { op: "size", cacheSize: 1 },
      add("01", 1000, 1000),
      add("02", 2000, 2000),
      { op: "readd", id: "01" },
    ],
  },
  {
    name: "capacity",
    title: "Size N holds N − 1",
    source: "README quirk; spec §10 row 1 (observed on libssl)",
    about:
      "A cache of size 3 gets four sessions expiring at 1010, 1011, 1007 and 1013, then a flush at 1011.",
    steps: [
      { op: "size", cacheSize: 3 },
      add("01", 1000, 10),
      add("02", 1001, 10),
      add("03", 1002, 5),
      add("04", 1003, 10),
      { op: "flush", tm: 1011 },
    ],
  },
  {
    name: "ties",
    title: "Ties leave first in, first out",
    source: "README quirk; spec §10 rows 5 and 7",
    about:
      "Three sessions with the same expiry; 01 is added again and 02 gets its own time set again (the same value); then flush(0) empties the cache.",
    steps: [
      add("01", 1000, 10),
      add("02", 1000, 10),
      add("03", 1000, 10),
      { op: "readd", id: "01" },
      { op: "setTime", id: "02", time: 1000 },
      { op: "flush", tm: 0 },
    ],
  },
  {
    name: "strict",
    title: "Strictly after the expiry",
    source: "README quirk; spec §10 row 6",
    about: "Sessions expiring at 1100, 1050, 1200 and 1100, flushed at 1050, 1051, 1100 and 1101.",
    steps: [
      add("01", 1000, 100),
      add("02", 1000, 50),
      add("03", 1000, 200),
      add("04", 1000, 100),
      { op: "flush", tm: 1050 },
      { op: "flush", tm: 1051 },
      { op: "flush", tm: 1100 },
      { op: "flush", tm: 1101 },
    ],
  },
  {
    name: "shrink",
    title: "Shrinking the size",
    source: "README quirk; spec §10 row 9",
    about: "Five sessions are cached, the size is set to 2, then one more session is added.",
    steps: [
      add("01", 1000, 10),
      add("02", 1000, 20),
      add("03", 1000, 30),
      add("04", 1000, 40),
      add("05", 1000, 50),
      { op: "size", cacheSize: 2 },
      add("06", 1000, 60),
    ],
  },
  {
    name: "replacement",
    title: "Same id, other object: silent replacement",
    source:
      "test/sslapitest.c, execute_test_session (TLS 1.2: client and server copies share an id)",
    about:
      "Three different session objects with the same TLS 1.2 id are added to a cache of size 1. The test asserts that the last add succeeds and leaves that session cached.",
    steps: [
      { op: "size", cacheSize: 1 },
      add("07", 1000, 1000, 0x0303),
      add("07", 2000, 2000, 0x0303),
      add("07", 1000, 1000, 0x0303),
    ],
  },
  {
    name: "empty_id",
    title: "An empty id (CVE-2024-2511)",
    source: "README deliberate difference; spec §3",
    about:
      "A session with an empty id is added. OpenSSL accepts it, and that is how its cache could grow without bound (CVE-2024-2511); see what this cache does with it.",
    steps: [add("01", 1000, 300), add("", 1000, 300)],
  },
  {
    name: "auto_flush",
    title: "The auto-flush at the 256th handshake",
    source: "README quirk; ssl/ssl_lib.c ssl_update_cache",
    about:
      "Session 01 expires at 1010, 02 at 1500; the clock moves to 1100; 255 server handshakes resume 02, then one full handshake completes: the 256th.",
    steps: [
      add("01", 1000, 10),
      add("02", 1000, 500),
      { op: "clock", now: 1100 },
      {
        op: "handshake",
        side: "server",
        id: "02",
        resumed: true,
        tls13: false,
        count: 255,
      },
      {
        op: "handshake",
        side: "server",
        id: "03",
        resumed: false,
        tls13: false,
        count: 1,
      },
    ],
  },
  {
    name: "lookups",
    title: "Server lookups and an external cache",
    source: "README quirk; ssl/ssl_sess.c lookup_sess_in_cache, ssl_get_prev_session",
    about:
      "A cached session is looked up: as is, under another session id context, at its expiry and just after it; then an unknown id without and with an external cache, and once with NO_INTERNAL_LOOKUP.",
    steps: [
      add("01", 1000, 100),
      { op: "lookup", id: "01" },
      { op: "lookup", id: "01", sidCtx: "aa" },
      { op: "clock", now: 1100 },
      { op: "lookup", id: "01" },
      { op: "clock", now: 1101 },
      { op: "lookup", id: "01" },
      { op: "lookup", id: "02" },
      { op: "lookup", id: "02", external: { time: 1101, timeout: 300 } },
      { op: "mode", mode: SESS_CACHE_SERVER | SESS_CACHE_NO_INTERNAL_LOOKUP },
      { op: "lookup", id: "03", external: { time: 1101, timeout: 300 } },
    ],
  },
];

/** The scenario with this name, if any. */
export function scenarioNamed(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
