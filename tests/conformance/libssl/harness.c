/*
 * Differential-test harness: drives the REAL libssl session cache through its
 * public API, one trace operation per input line, one result line per op.
 *
 * Build against the system's libssl (3.0 here):
 *         gcc -O1 -o harness harness.c -lssl -lcrypto
 * against OpenSSL 3.3.2's static libraries (prefix P from ../shared/openssl/build.sh):
 *         gcc -O1 -I"$P/include" -o harness harness.c "$P/lib/libssl.a" "$P/lib/libcrypto.a" \
 *             -lpthread -ldl
 * The same source builds against both (see the clock below).
 * Run:    harness [input-file [output-file]]   (default: stdin, stdout)
 * Format: see tests/conformance/libssl/_trace.ts (the TypeScript side prints the very
 *         same lines for SessionCache; the test compares them).
 *
 * Ops (one per line; handles are "s<N>", ids are hex, numbers decimal,
 * versions and modes hex):
 *   reset                       free the SSL_CTX and all sessions, start anew
 *   new <h> <idhex> <time> <timeout> <verhex> [<sidctxhex>|-]
 *                               a session (SSL_SESSION_new, or a copy of a real TLS 1.2 session
 *                               when handshakes are enabled) + set1_id + set_time + set_timeout
 *                               + set_protocol_version + set1_id_context
 *   add <h>                     SSL_CTX_add_session
 *   remove <h>                  SSL_CTX_remove_session
 *   flush <tm>                  SSL_CTX_flush_sessions
 *   settime <h> <t>             SSL_SESSION_set_time     (re-sorts when cached)
 *   settimeout <h> <t>          SSL_SESSION_set_timeout  (re-sorts when cached)
 *   size <n>                    SSL_CTX_sess_set_cache_size (prints the previous size)
 *   mode <hex>                  SSL_CTX_set_session_cache_mode (prints the previous mode)
 *   ctxtimeout <n>              SSL_CTX_set_timeout (prints the previous timeout)
 *   clock <t>[.<us>]            sets the clock libssl reads: seconds, optionally with up to six
 *                               fractional digits (microseconds, gettimeofday's resolution)
 *   has <idhex> <verhex>        SSL_has_matching_session_id on an SSL of version <verhex> (303 or 304 only)
 *   stats                       all twelve counters
 *   sidctx <hex>|-              SSL_CTX_set_session_id_context of the server
 *   hs <newh> <offerh>|- <exth>|-
 *                               a real in-memory TLS 1.2 handshake against the cache's SSL_CTX
 *                               as server: the client offers the id of handle <offerh> (none for
 *                               -); get_session_cb returns handle <exth>'s object (NULL for -);
 *                               a new session the server makes becomes handle <newh> (unless
 *                               its id is empty: mode without SSL_SESS_CACHE_SERVER). Prints
 *                               "resumed=<0|1> asked=<get_session_cb calls> new=[<new_session_cb
 *                               calls>]" and all counters. Session ids the server makes are
 *                               e0 + a 2-byte counter (SSL_CTX_set_generate_session_id).
 *   version                     prints "v=<OpenSSL_version_num() in hex>" (e.g. v=30300020)
 *
 * An op naming a handle that does not exist prints "nohandle" and does nothing.
 * Handshakes need HARNESS_CERT and HARNESS_KEY (PEM files) in the environment.
 *
 * Every line of output is "<result> rm=[<removed>] n=<number> full=<cache_full>",
 * where <removed> lists the remove_session_cb calls during the op, in order,
 * each "<handle>:<idhex>@<verhex>:<time>+<timeout>" (described after the op, so
 * that a session the op itself made is named). Times print as SSL_SESSION_get_time
 * returns them: whole seconds (3.3 keeps nanoseconds and truncates).
 *
 * The clock is interposed, so that traces stay deterministic ("clock <t>"): this
 * executable's definitions of time() and gettimeofday() win over libc's (for the shared
 * system libssl as for static libraries linked in). What reads which:
 * - libssl 3.0 reads time(NULL) (whole seconds) everywhere: SSL_SESSION_new, a new session's
 *   time, SSL_SESS_CACHE_UPDATE_TIME, the expiry check on lookup and the auto-flush.
 * - libssl 3.3 reads ossl_time_now() (crypto/time.c: gettimeofday, microseconds) in
 *   SSL_SESSION_new (ssl_sess.c, so for a handshake's new session too), for
 *   SSL_SESS_CACHE_UPDATE_TIME in SSL_CTX_add_session and for the expiry check on lookup
 *   (ssl_get_prev_session), and time(NULL) for the auto-flush every 255 handshakes
 *   (ssl_lib.c, ssl_update_cache).
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* TLSv1_2_method(), for `has ... 303` */
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

/* The clock: whole seconds and microseconds (0 .. 999999). */
static time_t fake_now = 0;
static long fake_usec = 0;

/* Interposes libc's time(): whole seconds (libssl 3.0 everywhere, 3.3's auto-flush). */
time_t time(time_t *out) {
    if (out != NULL) *out = fake_now;
    return fake_now;
}

/* Interposes libc's gettimeofday(): libssl 3.3's ossl_time_now(). */
int gettimeofday(struct timeval *restrict tv, void *restrict tz) {
    (void)tz;
    tv->tv_sec = fake_now;
    tv->tv_usec = (suseconds_t)fake_usec;
    return 0;
}

#define MAX_HANDLES 100000
static SSL_SESSION *handles[MAX_HANDLES];
/* For sessions a handshake made: the client's side of it (same master secret), to offer. */
static SSL_SESSION *client_handles[MAX_HANDLES];
static long max_handle = -1;

static SSL_CTX *ctx = NULL;
static int recording = 1;

static void die(const char *msg, const char *line) {
    fprintf(stderr, "harness: %s: %s\n", msg, line);
    exit(2);
}

static long handle_of(const SSL_SESSION *s) {
    for (long i = 0; i <= max_handle; i++)
        if (handles[i] == s) return i;
    return -1;
}

static void describe(char *out, size_t cap, const SSL_SESSION *s) {
    unsigned int len = 0;
    const unsigned char *id = SSL_SESSION_get_id(s, &len);
    char hex[2 * SSL_MAX_SSL_SESSION_ID_LENGTH + 1];
    for (unsigned int i = 0; i < len && i < SSL_MAX_SSL_SESSION_ID_LENGTH; i++)
        sprintf(hex + 2 * i, "%02x", id[i]);
    hex[2 * (len < SSL_MAX_SSL_SESSION_ID_LENGTH ? len : SSL_MAX_SSL_SESSION_ID_LENGTH)] = 0;
    long h = handle_of(s);
    char hname[32];
    if (h >= 0) snprintf(hname, sizeof hname, "s%ld", h);
    else snprintf(hname, sizeof hname, "?");
    snprintf(out, cap, "%s:%s@%x:%ld+%ld", hname, hex,
             (unsigned)SSL_SESSION_get_protocol_version(s),
             (long)SSL_SESSION_get_time(s), (long)SSL_SESSION_get_timeout(s));
}

#define MAX_EVENTS 4096
typedef struct {
    SSL_SESSION *list[MAX_EVENTS];
    int n;
} events;
static events removed_ev, new_ev;

static void record(events *ev, SSL_SESSION *s) {
    if (ev->n >= MAX_EVENTS) die("too many callbacks in one op", "");
    SSL_SESSION_up_ref(s); /* the cache may free it before the op ends */
    ev->list[ev->n++] = s;
}

/* Describes and releases the recorded sessions: "a,b,c". */
static void drain(events *ev, char *out, size_t cap) {
    size_t len = 0;
    out[0] = 0;
    for (int i = 0; i < ev->n; i++) {
        char d[256];
        describe(d, sizeof d, ev->list[i]);
        size_t n = strlen(d);
        if (len + n + 2 >= cap) die("callback list too long", d);
        if (len > 0) out[len++] = ',';
        memcpy(out + len, d, n + 1);
        len += n;
        SSL_SESSION_free(ev->list[i]);
    }
    ev->n = 0;
}

static void remove_cb(SSL_CTX *c, SSL_SESSION *s) {
    (void)c;
    if (recording) record(&removed_ev, s);
}

static int new_session_cb(SSL *ssl, SSL_SESSION *s) {
    (void)ssl;
    record(&new_ev, s);
    return 0; /* we took no reference of our own: libssl frees its one */
}

/* ---- handshakes ---------------------------------------------------------------------- */

static SSL_CTX *client_ctx = NULL;
static SSL_SESSION *server_template = NULL, *client_template = NULL;
static const char *cert_file = NULL, *key_file = NULL;
static long ext_handle = -1;
static int ext_asked = 0;
static unsigned int next_generated_id = 0;

static int generate_id(SSL *ssl, unsigned char *id, unsigned int *id_len) {
    (void)ssl;
    next_generated_id++;
    id[0] = 0xe0;
    id[1] = (unsigned char)(next_generated_id >> 8);
    id[2] = (unsigned char)next_generated_id;
    *id_len = 3;
    return 1;
}

static SSL_SESSION *get_session_cb(SSL *ssl, const unsigned char *id, int len, int *copy) {
    (void)ssl; (void)id; (void)len;
    ext_asked++;
    *copy = 1;
    if (ext_handle < 0 || handles[ext_handle] == NULL) return NULL;
    return handles[ext_handle];
}

static void setup_server_ctx(SSL_CTX *c) {
    if (SSL_CTX_use_certificate_file(c, cert_file, SSL_FILETYPE_PEM) != 1
        || SSL_CTX_use_PrivateKey_file(c, key_file, SSL_FILETYPE_PEM) != 1)
        die("cannot load HARNESS_CERT/HARNESS_KEY", cert_file);
    SSL_CTX_set_max_proto_version(c, TLS1_2_VERSION);
    SSL_CTX_set_options(c, SSL_OP_NO_TICKET);
}

/* Runs a handshake between two fresh SSLs; 1 on success. Leaves both SSLs shut down cleanly
 * (SSL_free of an SSL that did not shut down would remove its session from the cache). */
static int handshake(SSL *client, SSL *server, char *err, size_t cap) {
    BIO *cb = NULL, *sb = NULL;
    if (!BIO_new_bio_pair(&cb, 0, &sb, 0)) die("BIO_new_bio_pair failed", "");
    SSL_set_bio(client, cb, cb);
    SSL_set_bio(server, sb, sb);
    SSL_set_connect_state(client);
    SSL_set_accept_state(server);
    int done_c = 0, done_s = 0;
    for (int i = 0; i < 100 && !(done_c && done_s); i++) {
        if (!done_c) {
            int r = SSL_do_handshake(client);
            if (r == 1) done_c = 1;
            else if (SSL_get_error(client, r) != SSL_ERROR_WANT_READ) break;
        }
        if (!done_s) {
            int r = SSL_do_handshake(server);
            if (r == 1) done_s = 1;
            else if (SSL_get_error(server, r) != SSL_ERROR_WANT_READ) break;
        }
    }
    SSL_set_shutdown(client, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_set_shutdown(server, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    if (done_c && done_s) return 1;
    snprintf(err, cap, "%s", ERR_reason_error_string(ERR_get_error()));
    for (char *p = err; *p; p++) if (*p == ' ') *p = '_';
    ERR_clear_error();
    return 0;
}

/* One real handshake with throw-away contexts, for sessions with real keys to copy. */
static void make_templates(void) {
    client_ctx = SSL_CTX_new(TLS_method());
    SSL_CTX *server_ctx = SSL_CTX_new(TLS_method());
    if (client_ctx == NULL || server_ctx == NULL) die("SSL_CTX_new failed", "");
    SSL_CTX_set_max_proto_version(client_ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(client_ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_session_cache_mode(client_ctx, SSL_SESS_CACHE_OFF);
    setup_server_ctx(server_ctx);
    SSL_CTX_set_session_cache_mode(server_ctx, SSL_SESS_CACHE_OFF); /* template owned by no cache */
    SSL *client = SSL_new(client_ctx), *server = SSL_new(server_ctx);
    char err[256];
    if (!handshake(client, server, err, sizeof err)) die("template handshake failed", err);
    server_template = SSL_get1_session(server);
    client_template = SSL_get1_session(client);
    SSL_free(client);
    SSL_free(server);
    SSL_CTX_free(server_ctx);
}

static void new_ctx(void) {
    ctx = SSL_CTX_new(TLS_method());
    if (ctx == NULL) die("SSL_CTX_new failed", "");
    SSL_CTX_sess_set_remove_cb(ctx, remove_cb);
    SSL_CTX_sess_set_new_cb(ctx, new_session_cb);
    SSL_CTX_sess_set_get_cb(ctx, get_session_cb);
    if (server_template != NULL) {
        setup_server_ctx(ctx);
        SSL_CTX_set_generate_session_id(ctx, generate_id);
    }
}

static void reset(void) {
    recording = 0;
    if (ctx != NULL) SSL_CTX_free(ctx);
    for (long i = 0; i <= max_handle; i++) {
        if (handles[i] != NULL) SSL_SESSION_free(handles[i]);
        if (client_handles[i] != NULL) SSL_SESSION_free(client_handles[i]);
        handles[i] = NULL;
        client_handles[i] = NULL;
    }
    max_handle = -1;
    fake_now = 0;
    fake_usec = 0;
    ext_handle = -1;
    next_generated_id = 0;
    new_ctx();
    recording = 1;
}

/* A handle's index; -1 for "-" (when allowed) or for a handle not made yet (must_exist). */
static long parse_handle(const char *tok, const char *line, int must_exist) {
    if (tok != NULL && strcmp(tok, "-") == 0 && must_exist) return -1;
    if (tok == NULL || tok[0] != 's') die("bad handle", line);
    char *end;
    long h = strtol(tok + 1, &end, 10);
    if (*end != 0 || h < 0 || h >= MAX_HANDLES) die("bad handle", line);
    if (must_exist && handles[h] == NULL) return -1;
    return h;
}

static int parse_hex(const char *tok, unsigned char *out, size_t cap, const char *line) {
    if (tok == NULL) die("missing hex", line);
    if (strcmp(tok, "-") == 0) return 0;
    size_t n = strlen(tok);
    if (n % 2 != 0 || n / 2 > cap) die("bad hex", line);
    for (size_t i = 0; i < n / 2; i++) {
        unsigned int b;
        if (sscanf(tok + 2 * i, "%2x", &b) != 1) die("bad hex", line);
        out[i] = (unsigned char)b;
    }
    return (int)(n / 2);
}

static void stats_text(char *out, size_t cap) {
    snprintf(out, cap,
             "number=%ld connect=%ld connectGood=%ld connectRenegotiate=%ld accept=%ld "
             "acceptGood=%ld acceptRenegotiate=%ld hits=%ld cbHits=%ld misses=%ld "
             "timeouts=%ld cacheFull=%ld",
             SSL_CTX_sess_number(ctx), SSL_CTX_sess_connect(ctx),
             SSL_CTX_sess_connect_good(ctx), SSL_CTX_sess_connect_renegotiate(ctx),
             SSL_CTX_sess_accept(ctx), SSL_CTX_sess_accept_good(ctx),
             SSL_CTX_sess_accept_renegotiate(ctx), SSL_CTX_sess_hits(ctx),
             SSL_CTX_sess_cb_hits(ctx), SSL_CTX_sess_misses(ctx),
             SSL_CTX_sess_timeouts(ctx), SSL_CTX_sess_cache_full(ctx));
}

static long parse_long(const char *tok, const char *line, int base) {
    if (tok == NULL) die("missing number", line);
    char *end;
    long v = strtol(tok, &end, base);
    if (*end != 0) die("bad number", line);
    return v;
}

/* "<seconds>[.<up to 6 digits>]" into the clock. */
static void parse_clock(const char *tok, const char *line) {
    if (tok == NULL) die("missing clock", line);
    char *end;
    long sec = strtol(tok, &end, 10);
    long usec = 0;
    if (end == tok || sec < 0) die("bad clock", line);
    if (*end == '.') {
        const char *f = end + 1;
        int digits = 0;
        for (; *f >= '0' && *f <= '9'; f++, digits++) {
            if (digits == 6) die("clock: at most 6 fractional digits", line);
            usec = usec * 10 + (*f - '0');
        }
        if (digits == 0) die("bad clock", line);
        for (; digits < 6; digits++) usec *= 10;
        end = (char *)f;
    }
    if (*end != 0) die("bad clock", line);
    fake_now = (time_t)sec;
    fake_usec = usec;
}

static int parse_hex_id(const char *tok, unsigned char *out, const char *line) {
    if (tok == NULL) die("missing id", line);
    size_t n = strlen(tok);
    if (n % 2 != 0 || n / 2 > SSL_MAX_SSL_SESSION_ID_LENGTH) die("bad id", line);
    for (size_t i = 0; i < n / 2; i++) {
        unsigned int b;
        if (sscanf(tok + 2 * i, "%2x", &b) != 1) die("bad id", line);
        out[i] = (unsigned char)b;
    }
    return (int)(n / 2);
}

int main(int argc, char **argv) {
    static char line[4096], copy[4096];
    /* Optional file arguments, so that callers need no pipes (Deno's spawnSync writes all of
     * its input before reading any output, which deadlocks once both pipes fill up). */
    if (argc > 1 && freopen(argv[1], "r", stdin) == NULL) die("cannot open input", argv[1]);
    if (argc > 2 && freopen(argv[2], "w", stdout) == NULL) die("cannot open output", argv[2]);
    cert_file = getenv("HARNESS_CERT");
    key_file = getenv("HARNESS_KEY");
    if (cert_file != NULL && key_file != NULL && *cert_file && *key_file) make_templates();
    new_ctx();
    while (fgets(line, sizeof line, stdin) != NULL) {
        size_t ln = strlen(line);
        while (ln > 0 && (line[ln - 1] == '\n' || line[ln - 1] == '\r')) line[--ln] = 0;
        memcpy(copy, line, ln + 1);
        char *op = strtok(line, " ");
        if (op == NULL) continue;
        char result[1 << 17] = "ok";
        static char removed_text[1 << 18], new_text[1 << 16];

        if (strcmp(op, "reset") == 0) {
            reset();
        } else if (strcmp(op, "new") == 0) {
            long h = parse_handle(strtok(NULL, " "), copy, 0);
            unsigned char id[SSL_MAX_SSL_SESSION_ID_LENGTH];
            int idlen = parse_hex_id(strtok(NULL, " "), id, copy);
            long t = parse_long(strtok(NULL, " "), copy, 10);
            long to = parse_long(strtok(NULL, " "), copy, 10);
            long ver = parse_long(strtok(NULL, " "), copy, 16);
            unsigned char sidctx[SSL_MAX_SID_CTX_LENGTH];
            char *sidtok = strtok(NULL, " ");
            int sidlen = sidtok == NULL ? 0 : parse_hex(sidtok, sidctx, sizeof sidctx, copy);
            if (handles[h] != NULL) die("handle reused", copy);
            SSL_SESSION *s = server_template != NULL ? SSL_SESSION_dup(server_template) : SSL_SESSION_new();
            if (s == NULL) die("SSL_SESSION_new failed", copy);
            if (!SSL_SESSION_set1_id_context(s, sidctx, (unsigned int)sidlen)) die("set1_id_context failed", copy);
            if (!SSL_SESSION_set1_id(s, id, (unsigned int)idlen)) die("set1_id failed", copy);
            SSL_SESSION_set_time(s, t);
            if (!SSL_SESSION_set_timeout(s, to)) die("set_timeout failed", copy);
            if (!SSL_SESSION_set_protocol_version(s, (int)ver)) die("set_protocol_version failed", copy);
            handles[h] = s;
            if (h > max_handle) max_handle = h;
        } else if (strcmp(op, "add") == 0) {
            long h = parse_handle(strtok(NULL, " "), copy, 1);
            if (h < 0) {
                snprintf(result, sizeof result, "nohandle");
            } else {
                int r = SSL_CTX_add_session(ctx, handles[h]);
                snprintf(result, sizeof result, "ret=%d t=%ld", r, (long)SSL_SESSION_get_time(handles[h]));
            }
        } else if (strcmp(op, "remove") == 0) {
            long h = parse_handle(strtok(NULL, " "), copy, 1);
            if (h < 0) snprintf(result, sizeof result, "nohandle");
            else snprintf(result, sizeof result, "ret=%d", SSL_CTX_remove_session(ctx, handles[h]));
        } else if (strcmp(op, "flush") == 0) {
            SSL_CTX_flush_sessions(ctx, parse_long(strtok(NULL, " "), copy, 10));
        } else if (strcmp(op, "settime") == 0) {
            long h = parse_handle(strtok(NULL, " "), copy, 1);
            long t = parse_long(strtok(NULL, " "), copy, 10);
            if (h < 0) snprintf(result, sizeof result, "nohandle");
            else snprintf(result, sizeof result, "ret=%ld", (long)SSL_SESSION_set_time(handles[h], t));
        } else if (strcmp(op, "settimeout") == 0) {
            long h = parse_handle(strtok(NULL, " "), copy, 1);
            long t = parse_long(strtok(NULL, " "), copy, 10);
            if (h < 0) snprintf(result, sizeof result, "nohandle");
            else snprintf(result, sizeof result, "ret=%ld", (long)SSL_SESSION_set_timeout(handles[h], t));
        } else if (strcmp(op, "size") == 0) {
            long n = parse_long(strtok(NULL, " "), copy, 10);
            snprintf(result, sizeof result, "prev=%ld", SSL_CTX_sess_set_cache_size(ctx, n));
        } else if (strcmp(op, "mode") == 0) {
            long m = parse_long(strtok(NULL, " "), copy, 16);
            snprintf(result, sizeof result, "prev=%lx", SSL_CTX_set_session_cache_mode(ctx, m));
        } else if (strcmp(op, "ctxtimeout") == 0) {
            long t = parse_long(strtok(NULL, " "), copy, 10);
            snprintf(result, sizeof result, "prev=%ld", SSL_CTX_set_timeout(ctx, t));
        } else if (strcmp(op, "clock") == 0) {
            parse_clock(strtok(NULL, " "), copy);
        } else if (strcmp(op, "has") == 0) {
            unsigned char id[SSL_MAX_SSL_SESSION_ID_LENGTH];
            int idlen = parse_hex_id(strtok(NULL, " "), id, copy);
            long ver = parse_long(strtok(NULL, " "), copy, 16);
            SSL *ssl = SSL_new(ctx);
            if (ssl == NULL) die("SSL_new failed", copy);
            /* SSL_has_matching_session_id keys on ssl->version: a fresh SSL of
             * TLS_method() has 0x304, one switched to TLSv1_2_method() 0x303.
             * Other versions cannot be looked up this way. */
            if (ver == TLS1_2_VERSION && !SSL_set_ssl_method(ssl, TLSv1_2_method()))
                die("SSL_set_ssl_method failed", copy);
            if (SSL_version(ssl) != ver) die("has: only the SSL's own version can be looked up", copy);
            snprintf(result, sizeof result, "ret=%d", SSL_has_matching_session_id(ssl, id, (unsigned int)idlen));
            SSL_free(ssl);
        } else if (strcmp(op, "version") == 0) {
            snprintf(result, sizeof result, "v=%lx", (unsigned long)OpenSSL_version_num());
        } else if (strcmp(op, "stats") == 0) {
            stats_text(result, sizeof result);
        } else if (strcmp(op, "sidctx") == 0) {
            unsigned char sidctx[SSL_MAX_SID_CTX_LENGTH];
            int len = parse_hex(strtok(NULL, " "), sidctx, sizeof sidctx, copy);
            if (!SSL_CTX_set_session_id_context(ctx, sidctx, (unsigned int)len)) die("set_session_id_context failed", copy);
        } else if (strcmp(op, "hs") == 0) {
            if (server_template == NULL) die("hs needs HARNESS_CERT and HARNESS_KEY", copy);
            long newh = parse_handle(strtok(NULL, " "), copy, 0);
            long offer = parse_handle(strtok(NULL, " "), copy, 1);
            ext_handle = parse_handle(strtok(NULL, " "), copy, 1);
            ext_asked = 0;
            if (handles[newh] != NULL) die("handle reused", copy);
            SSL *client = SSL_new(client_ctx), *server = SSL_new(ctx);
            if (client == NULL || server == NULL) die("SSL_new failed", copy);
            if (offer >= 0) {
                /* The client must hold the master secret of the session the server will
                 * find: its own half of the handshake that made it, or the template's. */
                SSL_SESSION *cs = SSL_SESSION_dup(client_handles[offer] != NULL ? client_handles[offer] : client_template);
                unsigned int idlen;
                const unsigned char *id = SSL_SESSION_get_id(handles[offer], &idlen);
                if (cs == NULL || !SSL_SESSION_set1_id(cs, id, idlen) || !SSL_set_session(client, cs))
                    die("cannot offer session", copy);
                SSL_SESSION_free(cs);
            }
            char err[256];
            if (!handshake(client, server, err, sizeof err)) {
                snprintf(result, sizeof result, "hsfail:%s", err);
            } else {
                int resumed = SSL_session_reused(server);
                unsigned int idlen = 0;
                SSL_SESSION_get_id(SSL_get_session(server), &idlen);
                /* Without SSL_SESS_CACHE_SERVER in the mode, the server sends (and keeps) an
                 * empty session id: such a session is unusable, so no handle is made. */
                if (!resumed && idlen > 0) {
                    handles[newh] = SSL_get1_session(server);
                    client_handles[newh] = SSL_get1_session(client);
                    if (newh > max_handle) max_handle = newh;
                }
                char st[512];
                stats_text(st, sizeof st);
                drain(&new_ev, new_text, sizeof new_text);
                snprintf(result, sizeof result, "resumed=%d asked=%d new=[%s] %s", resumed, ext_asked, new_text, st);
            }
            SSL_free(client);
            SSL_free(server);
            ext_handle = -1;
        } else {
            die("unknown op", copy);
        }
        drain(&removed_ev, removed_text, sizeof removed_text);
        drain(&new_ev, new_text, sizeof new_text);
        printf("%s rm=[%s] n=%ld full=%ld\n", result, removed_text,
               SSL_CTX_sess_number(ctx), SSL_CTX_sess_cache_full(ctx));
    }
    recording = 0;
    reset();
    SSL_CTX_free(ctx);
    fflush(stdout);
    return 0;
}
