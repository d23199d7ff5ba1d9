// This module is browser compatible.

/**
 * The rules of OpenSSL 3.3.2's code that the explorer cites: each one is the
 * line (or two) of `ssl/ssl_sess.c` or `ssl/ssl_lib.c` that makes a quirk
 * happen, plus one sentence saying what it does. `explain.ts` picks the ones
 * that match what the core's result shows; none is shown on its own.
 *
 * @module
 */

/** One cited rule. */
export interface Rule {
  /** A stable name (used by the tests and the page's `data-rule`). */
  readonly id: RuleId;
  /** A short title. */
  readonly title: string;
  /** The code line(s), verbatim from OpenSSL 3.3.2. */
  readonly code: string;
  /** Where the code is: file and function. */
  readonly where: string;
  /** What it does, in one sentence. */
  readonly text: string;
}

const TABLE = {
  capacity: {
    title: "A cache of size N holds N − 1",
    code: "while (SSL_CTX_sess_number(ctx) >= SSL_CTX_sess_get_cache_size(ctx))",
    where: "ssl/ssl_sess.c, SSL_CTX_add_session",
    text:
      "The new session is already in the hash table (so it is counted) but not yet in the list when this loop evicts, so for N ≥ 2 the cache stops at N − 1 (size 1 keeps 1): undocumented, since 3.0.6.",
  },
  tailFirst: {
    title: "The list tail goes first, expired or not",
    code: "if (!remove_session_lock(ctx, ctx->session_cache_tail, 0))",
    where: "ssl/ssl_sess.c, SSL_CTX_add_session",
    text:
      "Eviction takes the soonest expiry and never flushes expired sessions first; the new session is linked after the loop, so it survives its own add even when it expires soonest. Each eviction counts cache_full and calls remove_session_cb.",
  },
  oneGo: {
    title: "A smaller size takes effect at the next add, in one go",
    code: "ctx->session_cache_size = (size_t)larg;",
    where: "ssl/ssl_lib.c, SSL_CTX_ctrl (SSL_CTRL_SET_SESS_CACHE_SIZE)",
    text:
      "Setting the size only stores the number; the eviction loop of the next new add then removes as many tail sessions as it takes.",
  },
  strict: {
    title: "Expired means strictly after the expiry",
    code: "return ossl_time_compare(t, ss->calc_timeout) > 0;",
    where: "ssl/ssl_sess.c, sess_timedout",
    text:
      "A session expires at tm > time + timeout: at tm equal to its expiry it stays (calc_timeout saturates, so an expiry past 2^64 − 1 ns never comes).",
  },
  flushWalk: {
    title: "Flush walks from the tail and stops at the first live session",
    code: "while (s->session_cache_tail != NULL) { ... } else { break; }",
    where: "ssl/ssl_sess.c, SSL_CTX_flush_sessions",
    text:
      "Sessions leave soonest expiry first, each with a remove_session_cb; flush ignores the mode and never counts timeouts.",
  },
  flushZero: {
    title: "flush(0) removes everything",
    code: "if (t == 0 || sess_timedout(timeout, current)) {",
    where: "ssl/ssl_sess.c, SSL_CTX_flush_sessions",
    text:
      "A flush time of 0 matches every session, whatever its expiry: this is how SSL_CTX_free empties the cache.",
  },
  fifoTies: {
    title: "Ties leave first in, first out",
    code: "if (timeoutcmp(s, ctx->session_cache_head) >= 0) {",
    where: "ssl/ssl_sess.c, SSL_SESSION_list_add",
    text:
      "A (re)inserted session goes in front of every session with the same expiry (on the head side), so among equal expiries the earliest inserted sits nearest the tail and leaves first.",
  },
  resort: {
    title: "Re-inserting re-sorts, even with the same value",
    code: "if ((s->next != NULL) && (s->prev != NULL)) SSL_SESSION_list_remove(ctx, s);",
    where: "ssl/ssl_sess.c, SSL_SESSION_list_add",
    text:
      "A re-add, SSL_SESSION_set_time or SSL_SESSION_set_timeout on a cached session unlinks it and links it again by its expiry: it moves behind its ties.",
  },
  sameObject: {
    title: "The same session again returns 0",
    code: "SSL_SESSION_free(s);    /* s == c */ ret = 0;",
    where: "ssl/ssl_sess.c, SSL_CTX_add_session",
    text:
      "The table already holds this very object: nothing is evicted, it is only re-sorted, and the add returns 0.",
  },
  silentReplace: {
    title: "Same key, other object: silent replacement",
    code:
      "if (s != NULL && s != c) { /* We *are* in trouble ... */ SSL_SESSION_list_remove(ctx, s);",
    where: "ssl/ssl_sess.c, SSL_CTX_add_session",
    text:
      "The old session is unlinked and freed without remove_session_cb and without counting cache_full, and the add returns 1 as for a new session.",
  },
  removeCallback: {
    title: "remove_session_cb fires even for an absent session",
    code: "if (ctx->remove_session_cb != NULL) ctx->remove_session_cb(ctx, c);",
    where: "ssl/ssl_sess.c, remove_session_lock",
    text:
      "The callback runs outside the `if (lh_SSL_SESSION_retrieve(...))` block, with the argument, found or not: SSL_CTX_remove_session returns 0 yet an external cache still hears of it.",
  },
  updateTime: {
    title: "UPDATE_TIME stamps every add with now",
    code: "if (ctx->session_cache_mode & SSL_SESS_CACHE_UPDATE_TIME) { c->time = ossl_time_now();",
    where: "ssl/ssl_sess.c, SSL_CTX_add_session",
    text:
      "With this mode bit every add (re-adds included) sets the session's time to now before it is sorted; the core stores an updated copy instead of changing the object.",
  },
  sizeStored: {
    title: "Setting the size evicts nothing",
    code: "l = (long)ctx->session_cache_size; ctx->session_cache_size = (size_t)larg; return l;",
    where: "ssl/ssl_lib.c, SSL_CTX_ctrl (SSL_CTRL_SET_SESS_CACHE_SIZE)",
    text:
      "The call returns the previous size and only stores the new one: a cache over the new limit stays over it until the next add.",
  },
  modeStored: {
    title: "The mode is a set of bits read later",
    code: "l = ctx->session_cache_mode; ctx->session_cache_mode = larg; return l;",
    where: "ssl/ssl_lib.c, SSL_CTX_ctrl (SSL_CTRL_SET_SESS_CACHE_MODE)",
    text:
      "Changing it touches no session: add reads only UPDATE_TIME, lookups read NO_INTERNAL_LOOKUP/NO_INTERNAL_STORE, ssl_update_cache reads the side bits and NO_AUTO_CLEAR.",
  },
  ctxTimeout: {
    title: "The context timeout is for sessions made later",
    code:
      "l = (long)ossl_time2seconds(s->session_timeout); s->session_timeout = ossl_seconds2time(t);",
    where: "ssl/ssl_sess.c, SSL_CTX_set_timeout",
    text:
      "It returns the previous value and changes no cached session: new handshakes give their sessions this lifetime.",
  },
  lookupHit: {
    title: "A hit is counted after the checks",
    code: "ssl_tsan_counter(s->session_ctx, &s->session_ctx->stats.sess_hit);",
    where: "ssl/ssl_sess.c, ssl_get_prev_session",
    text:
      "The table lookup checks no expiry; ssl_get_prev_session checks the session id context and the expiry against now, then counts the hit and resumes.",
  },
  lookupMiss: {
    title: "An internal miss counts sess_miss",
    code: "if (ret == NULL) ssl_tsan_counter(s->session_ctx, &s->session_ctx->stats.sess_miss);",
    where: "ssl/ssl_sess.c, lookup_sess_in_cache",
    text:
      "Nothing under (version, id) in the table: a miss is counted, and only then is the external cache (get_session_cb) asked, if there is one.",
  },
  externalHit: {
    title: "An external hit counts a miss and a cb hit",
    code:
      "ssl_tsan_counter(s->session_ctx, &s->session_ctx->stats.sess_cb_hit); ... (void)SSL_CTX_add_session(s->session_ctx, ret);",
    where: "ssl/ssl_sess.c, lookup_sess_in_cache",
    text:
      "The session get_session_cb returns counts sess_cb_hit on top of the internal sess_miss, and is stored with the full add semantics (eviction, UPDATE_TIME) unless NO_INTERNAL_STORE.",
  },
  noInternalLookup: {
    title: "NO_INTERNAL_LOOKUP skips the table and its miss counter",
    code: "if ((s->session_ctx->session_cache_mode & SSL_SESS_CACHE_NO_INTERNAL_LOOKUP) == 0) {",
    where: "ssl/ssl_sess.c, lookup_sess_in_cache",
    text: "The table is not consulted and no sess_miss is counted; only get_session_cb is asked.",
  },
  lookupExpired: {
    title: "An expired session met on lookup is removed",
    code:
      "if (sess_timedout(ossl_time_now(), ret)) { ... sess_timeout); ... SSL_CTX_remove_session(s->session_ctx, ret);",
    where: "ssl/ssl_sess.c, ssl_get_prev_session",
    text:
      "It counts sess_timeout (the only place that counter moves), is removed through SSL_CTX_remove_session (so remove_session_cb fires) and the handshake goes on as a full one.",
  },
  mismatch: {
    title: "Another context or version: a silent miss",
    code: "goto err;               /* treat like cache miss */",
    where: "ssl/ssl_sess.c, ssl_get_prev_session",
    text:
      "A session found under the id but made for another session id context is not resumed and nothing is counted: no miss, no hit.",
  },
  updateCache: {
    title: "A full handshake stores its session and announces it",
    code:
      "if ((i & mode) != 0 && (!s->hit || SSL_CONNECTION_IS_TLS13(s))) { ... SSL_CTX_add_session(s->session_ctx, s->session);",
    where: "ssl/ssl_lib.c, ssl_update_cache",
    text:
      "When the mode has the side's bit and the handshake did not resume (or is TLS 1.3 on the server), the session is added (unless NO_INTERNAL_STORE) and new_session_cb is called.",
  },
  resumedNoStore: {
    title: "A TLS 1.2 resumption stores nothing",
    code: "&& (!s->hit || SSL_CONNECTION_IS_TLS13(s))) {",
    where: "ssl/ssl_lib.c, ssl_update_cache",
    text: "The resumed session is already cached: the handshake only moves the counters.",
  },
  sideBit: {
    title: "Without the side's bit nothing is stored",
    code: "if ((i & mode) != 0",
    where: "ssl/ssl_lib.c, ssl_update_cache",
    text:
      "The mode lacks SESS_CACHE_SERVER (or CLIENT) for this side: no add, no new_session_cb, and no auto-flush either.",
  },
  ticketOnce: {
    title: "A TLS 1.3 client uses a ticket once",
    code:
      "if ((s->session_ctx->session_cache_mode & SSL_SESS_CACHE_CLIENT) != 0) SSL_CTX_remove_session(s->session_ctx, s->session);",
    where: "ssl/statem/statem_lib.c, tls_finish_handshake",
    text:
      "“We encourage applications to only use TLSv1.3 tickets once”: a TLS 1.3 client removes its session from a client cache when the handshake completes (remove_session_cb fires), and stores new tickets as they arrive.",
  },
  autoFlush: {
    title: "Every 256th completed handshake flushes",
    code:
      "if ((ssl_tsan_load(s->session_ctx, stat) & 0xff) == 0xff) SSL_CTX_flush_sessions(s->session_ctx, (unsigned long)time(NULL));",
    where: "ssl/ssl_lib.c, ssl_update_cache",
    text:
      "accept_good (or connect_good) is read before this handshake counts, so the flush runs during the 256th, 512th, … one, at time(NULL) in whole seconds; NO_AUTO_CLEAR turns it off.",
  },
  emptyIdRefused: {
    title: "An empty id is refused here (CVE-2024-2511)",
    code: "if ((c != NULL) && (c->session_id_length != 0)) {",
    where: "ssl/ssl_sess.c, remove_session_lock",
    text:
      "OpenSSL's SSL_CTX_add_session accepts a session with an empty id, but remove_session_lock skips such a session, so once it is the list tail the eviction loop breaks and the cache grows without bound (the mechanism of CVE-2024-2511). This cache refuses empty ids instead.",
  },
  refused: {
    title: "Bad input is refused and changes nothing",
    code: "throw new TypeError(...) / new RangeError(...)",
    where: "@sesscache/openssl-session-cache, input validation",
    text:
      "The core checked its input and threw before doing anything: the state shown is the one before this step (the explorer caught the error).",
  },
  sameValue: {
    title: "No change: the very same value",
    code: "Object.is(result.cache, cache) === true",
    where: "@sesscache/openssl-session-cache/core",
    text:
      "When an operation changes nothing, the pure core returns the same CacheState object it was given, so “nothing happened” is a pointer comparison.",
  },
  timeParameter: {
    title: "Time is a parameter",
    code: "time(NULL) / ossl_time_now()",
    where: "OpenSSL reads the clock; the core never does",
    text:
      "OpenSSL reads the clock inside its calls; the core takes now as an argument, so the explorer keeps the current time in each step's state and can go back in time.",
  },
} as const satisfies Record<string, Omit<Rule, "id">>;

/** The names of the rules. */
export type RuleId = keyof typeof TABLE;

/** The rule with this name. */
export function rule(id: RuleId): Rule {
  return { id, ...TABLE[id] };
}

/** Every rule, in the order above (the page's glossary). */
export function allRules(): readonly Rule[] {
  return (Object.keys(TABLE) as RuleId[]).map(rule);
}
