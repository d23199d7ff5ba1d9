/*
 * The bench's server workload on the real libssl (OpenSSL 3.3.2, linked statically): replays
 * the very trace bench/_libssl.ts writes (the ServerTrace of bench/_server.ts) through libssl's
 * session cache and prints what it measured.
 *
 * Build:  gcc -O2 -I"$P/include" -o driver driver.c "$P/lib/libssl.a" "$P/lib/libcrypto.a" \
 *             -lpthread -ldl          (P: the prefix ../shared/openssl/build.sh prints)
 * Run:    driver <trace-file> <latency-file>
 *
 * Trace file (little-endian): a 64-byte header, then one 48-byte record per operation.
 *   header: "SCBT" u32 version=1, u32 ops, u32 warm_from, u32 latency_from, u32 throughput_from,
 *           u32 chunk_ops, u32 cache_size, u32 timeout, then zeros
 *   record: f64 clock (seconds), u8 kind, 7 zero bytes, 32-byte session id
 *   kinds:  0 add, 1 add then flush (every 256th add), 2 lookup, 3 flush
 * Phases, by record index: [0, warm_from) prefill, [warm_from, latency_from) warm-up, both
 * untimed; [latency_from, throughput_from) each operation timed alone (ns written to the
 * latency file as f64, one per operation); [throughput_from, ops) timed in chunks of chunk_ops.
 *
 * Every SSL_SESSION is built before the phase that adds it, outside the timed loops: by
 * SSL_SESSION_new + set1_id + set_time_ex + set_timeout + set_protocol_version (TLS 1.2). An
 * add hands the driver's reference to the cache (SSL_CTX_add_session, then SSL_SESSION_free),
 * as a server does when the connection that made the session is freed, so an eviction or a
 * flush frees the session inside the timed loop, as it would in a server.
 *
 * The lookup is the one a TLS 1.2 server makes for the session id in a ClientHello:
 * lookup_sess_in_cache() (ssl/ssl_sess.c; read lock, hash lookup, reference taken, miss
 * counter), which ssl_get_prev_session() calls, followed by the checks ssl_get_prev_session()
 * then makes: protocol version, session id context (empty here) and expiry ("timed out" when
 * now > time + timeout; such a session is removed with SSL_CTX_remove_session), and finally the
 * reference dropped. lookup_sess_in_cache is internal (declared in ssl_local.h, not in the
 * public headers) but a global symbol of libssl.a; an SSL made by TLSv1_2_method() is the
 * SSL_CONNECTION it takes (its first member is the SSL). The public alternatives measure less:
 * SSL_has_matching_session_id only says whether the id is in the hash table (no expiry, no
 * reference), and lh_SSL_SESSION_retrieve(SSL_CTX_sessions()) skips the lock and the counter.
 *
 * stdout, one line: "ops=<throughput ops> ns=<their total ns> latency_ops=<n> hits=<hits in the
 * latency phase> lookups=<lookups there> flushes=<flushing adds there> removed_sum=<sessions
 * they removed> removed_max=<most one removed> size=<sessions cached at the end>
 * digest=<FNV-1a 32 of every lookup's hit (1) or miss (0) byte, then size as u32 LE>
 * version=<OpenSSL_version_num, hex>", which bench/_libssl.ts checks against SessionCache on
 * the same trace.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* TLSv1_2_method(): an SSL whose version is TLS 1.2 */
#include <openssl/ssl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ssl/ssl_sess.c; its first parameter is an SSL_CONNECTION *, whose first member is the SSL. */
SSL_SESSION *lookup_sess_in_cache(SSL *s, const unsigned char *sess_id, size_t sess_id_len);

enum { ADD = 0, ADD_FLUSH = 1, LOOKUP = 2, FLUSH = 3 };

typedef struct {
    double clock;
    uint8_t kind;
    uint8_t pad[7];
    uint8_t id[32];
} record;

_Static_assert(sizeof(record) == 48, "record layout");

static void die(const char *msg) {
    fprintf(stderr, "driver: %s\n", msg);
    exit(2);
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint32_t digest = 2166136261u;
static void digest_byte(uint8_t b) {
    digest ^= b;
    digest *= 16777619u;
}

static SSL_CTX *ctx;
static SSL *server;
static uint32_t timeout_s;

/* The sessions of records [from, to), one per add (NULL for the other records). */
static SSL_SESSION **build_sessions(const record *r, uint32_t from, uint32_t to) {
    SSL_SESSION **out = calloc(to - from + 1, sizeof *out);
    if (out == NULL) die("out of memory");
    for (uint32_t i = from; i < to; i++) {
        if (r[i].kind != ADD && r[i].kind != ADD_FLUSH) continue;
        SSL_SESSION *s = SSL_SESSION_new();
        if (s == NULL || !SSL_SESSION_set1_id(s, r[i].id, 32)
            || !SSL_SESSION_set_timeout(s, (long)timeout_s)
            || !SSL_SESSION_set_protocol_version(s, TLS1_2_VERSION))
            die("cannot build a session");
        SSL_SESSION_set_time_ex(s, (time_t)r[i].clock);
        out[i - from] = s;
    }
    return out;
}

/* One operation; 1 for a lookup that hit, 0 otherwise. */
static inline int run_op(const record *r, SSL_SESSION *s) {
    switch (r->kind) {
    case ADD:
    case ADD_FLUSH:
        SSL_CTX_add_session(ctx, s);
        SSL_SESSION_free(s); /* the cache holds it now */
        if (r->kind == ADD_FLUSH) SSL_CTX_flush_sessions(ctx, (long)r->clock);
        return 0;
    case FLUSH:
        SSL_CTX_flush_sessions(ctx, (long)r->clock);
        return 0;
    default: {
        SSL_SESSION *got = lookup_sess_in_cache(server, r->id, 32);
        if (got == NULL) return 0;
        int hit = 1;
        unsigned int sid_ctx_len;
        SSL_SESSION_get0_id_context(got, &sid_ctx_len);
        if (SSL_SESSION_get_protocol_version(got) != SSL_version(server) || sid_ctx_len != 0) {
            hit = 0;
        } else if ((time_t)r->clock > SSL_SESSION_get_time_ex(got) + SSL_SESSION_get_timeout(got)) {
            SSL_CTX_remove_session(ctx, got); /* as ssl_get_prev_session does */
            hit = 0;
        }
        SSL_SESSION_free(got);
        return hit;
    }
    }
}

int main(int argc, char **argv) {
    if (argc != 3) die("usage: driver <trace-file> <latency-file>");
    FILE *in = fopen(argv[1], "rb");
    if (in == NULL) die("cannot open the trace file");
    uint32_t h[16];
    if (fread(h, sizeof h, 1, in) != 1 || memcmp(h, "SCBT", 4) != 0 || h[1] != 1)
        die("not a trace file of version 1");
    const uint32_t ops = h[2], warm_from = h[3], latency_from = h[4], throughput_from = h[5];
    const uint32_t chunk_ops = h[6], cache_size = h[7];
    timeout_s = h[8];
    if (!(warm_from <= latency_from && latency_from <= throughput_from && throughput_from <= ops)
        || chunk_ops == 0)
        die("bad phases in the header");
    record *r = malloc((size_t)ops * sizeof *r + 1);
    if (r == NULL) die("out of memory");
    if (fread(r, sizeof *r, ops, in) != ops) die("short trace file");
    fclose(in);

    ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) die("SSL_CTX_new failed");
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_cache_size(ctx, (long)cache_size);
    SSL_CTX_set_timeout(ctx, (long)timeout_s);
    server = SSL_new(ctx);
    if (server == NULL || !SSL_set_ssl_method(server, TLSv1_2_method())
        || SSL_version(server) != TLS1_2_VERSION)
        die("cannot make a TLS 1.2 server SSL");

    /* Prefill and warm-up, untimed. */
    SSL_SESSION **sessions = build_sessions(r, 0, latency_from);
    for (uint32_t i = 0; i < latency_from; i++) {
        int hit = run_op(&r[i], sessions[i]);
        if (r[i].kind == LOOKUP) digest_byte((uint8_t)hit);
    }
    free(sessions);

    /* Latency: every operation timed alone. */
    const uint32_t nlat = throughput_from - latency_from;
    double *lat = malloc((size_t)nlat * sizeof *lat + 1);
    if (lat == NULL) die("out of memory");
    sessions = build_sessions(r, latency_from, throughput_from);
    uint64_t hits = 0, lookups = 0, flushes = 0, removed_sum = 0, removed_max = 0;
    for (uint32_t i = latency_from; i < throughput_from; i++) {
        const record *op = &r[i];
        long before = op->kind == ADD_FLUSH ? SSL_CTX_sess_number(ctx) : 0;
        uint64_t t0 = now_ns();
        int hit = run_op(op, sessions[i - latency_from]);
        lat[i - latency_from] = (double)(now_ns() - t0);
        if (op->kind == LOOKUP) {
            digest_byte((uint8_t)hit);
            lookups++;
            hits += (uint64_t)hit;
        } else if (op->kind == ADD_FLUSH) {
            uint64_t removed = (uint64_t)(before + 1 - SSL_CTX_sess_number(ctx));
            flushes++;
            removed_sum += removed;
            if (removed > removed_max) removed_max = removed;
        }
    }
    free(sessions);

    /* Throughput: chunks of chunk_ops operations, timed as a whole. */
    sessions = build_sessions(r, throughput_from, ops);
    uint8_t *hitbits = malloc((size_t)(ops - throughput_from) + 1);
    if (hitbits == NULL) die("out of memory");
    uint64_t total_ns = 0;
    for (uint32_t from = throughput_from; from < ops; from += chunk_ops) {
        const uint32_t to = ops - from < chunk_ops ? ops : from + chunk_ops;
        uint64_t t0 = now_ns();
        for (uint32_t i = from; i < to; i++)
            hitbits[i - throughput_from] = (uint8_t)run_op(&r[i], sessions[i - throughput_from]);
        total_ns += now_ns() - t0;
    }
    for (uint32_t i = throughput_from; i < ops; i++)
        if (r[i].kind == LOOKUP) digest_byte(hitbits[i - throughput_from]);
    free(sessions);

    const uint32_t size = (uint32_t)SSL_CTX_sess_number(ctx);
    for (int k = 0; k < 4; k++) digest_byte((uint8_t)(size >> (8 * k)));

    FILE *out = fopen(argv[2], "wb");
    if (out == NULL || (nlat > 0 && fwrite(lat, sizeof *lat, nlat, out) != nlat) || fclose(out) != 0)
        die("cannot write the latency file");
    printf("ops=%u ns=%llu latency_ops=%u hits=%llu lookups=%llu flushes=%llu removed_sum=%llu "
           "removed_max=%llu size=%u digest=%08x version=%lx\n",
           ops - throughput_from, (unsigned long long)total_ns, nlat, (unsigned long long)hits,
           (unsigned long long)lookups, (unsigned long long)flushes,
           (unsigned long long)removed_sum, (unsigned long long)removed_max, size, digest,
           (unsigned long)OpenSSL_version_num());
    SSL_free(server);
    SSL_CTX_free(ctx);
    free(r);
    free(lat);
    free(hitbits);
    return 0;
}
