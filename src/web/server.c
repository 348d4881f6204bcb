/* server.c -- the HTTP side of `doppel serve`, on libmicrohttpd.
 *
 * The connection gate (gate.c) owns the listening socket and hands over each
 * connection once its request is whole and well formed; libmicrohttpd then
 * runs one daemon per worker thread, each on its own epoll loop, and answers:
 *   /, /pair/ID, /item/REPO/KEY   the page (index.html; the page routes itself)
 *   /static/NAME                  the embedded assets (assets.h)
 *   /api/...                      the JSON API (api.c)
 * The security policy lives here and applies to every response, those the
 * gate writes included:
 *  - a strict Content-Security-Policy (scripts and styles only from this
 *    origin, no inline anything, no frames, images only local or data:), plus
 *    nosniff, no referrer, no framing;
 *  - on a loopback bind the Host header must name the loopback address, so a
 *    web page whose domain was rebound to 127.0.0.1 cannot read the API;
 *  - with a token, API calls need it (Authorization: Bearer, or the HttpOnly
 *    SameSite=Strict cookie set when the page is opened with ?token=);
 *  - POSTs must carry a JSON content type and the X-Doppel header, and their
 *    Origin / Sec-Fetch-Site must be this site: a cross-site form cannot
 *    record verdicts;
 *  - requests are bounded in size and time and connections in number, per
 *    client too (the gate; limits in web.h).
 * Transfer: the embedded files carry an ETag (If-None-Match gives 304) and
 * go out gzip'd when the client takes it (compressed once, at start-up); API
 * answers of WEB_GZIP_MIN bytes or more are gzip'd per request.
 * Each worker opens its own read-only store handle on first use (thread-
 * specific key) and answers GETs with it, lock-free; the few writes (verdict
 * POSTs) share one read-write handle under a mutex. web_stop lets requests
 * in flight finish before closing them all. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <xxhash.h>
#include <zlib.h>

#include "../sync/github.h"
#include "apply.h"
#include "assets.h"
#include "gate.h"
#include "similar.h"
#include "web.h"
#include "web_int.h"

#define WEB_MAX_PARAMS 32
#define WEB_GZIP_MIN 1024             /* smaller API answers are sent as they are */
/* API answers are compressed per request: the fastest level, which gets most
 * of the gain on JSON and HTML (the embedded files use the best, once). */
#define WEB_GZIP_LEVEL 1
/* libmicrohttpd's memory per connection. At most 32 KB it comes from malloc;
 * above, from mmap, and each connection's munmap (a TLB shootdown on every
 * CPU) cost more than the rest of a request (0.39 against 0.07 ms of CPU for
 * a static file). The gate's limits keep every request within it. */
#define WEB_CONN_MEMORY (32 * 1024)

/* The headers every response carries: those libmicrohttpd sends (send_buf)
 * and those the gate writes itself (gate.c, its error replies). */
static const char *const SECURITY_HEADERS[][2] = {
    {"Content-Security-Policy",
     "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
     "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
     "form-action 'none'; frame-ancestors 'none'"},
    {"X-Content-Type-Options", "nosniff"},
    {"X-Frame-Options", "DENY"},
    {"Referrer-Policy", "no-referrer"},
    {"Cross-Origin-Opener-Policy", "same-origin"},
    {"Cross-Origin-Resource-Policy", "same-origin"},
    /* One request per connection: each one passes the gate (gate.c). */
    {"Connection", "close"},
};
#define NSECURITY (sizeof SECURITY_HEADERS / sizeof SECURITY_HEADERS[0])

struct web_server {
    struct MHD_Daemon **d;    /* one per worker thread (see web_start) */
    unsigned nd;
    atomic_uint next_d;       /* round robin for new connections */
    web_gate *gate;
    char *db_path;
    char *token;              /* NULL when none */
    int loopback;             /* Host checking applies */
    unsigned port;
    pthread_key_t key;        /* this thread's read-only store handle */
    pthread_mutex_t mu;       /* guards handles and log */
    pthread_mutex_t wmu;      /* guards writer */
    store *writer;            /* the read-write handle for POSTs */
    store **handles;
    size_t nhandles, caphandles;
    /* The pair-count table every handle counts with (one build per commit
     * for all threads, not one per thread), built at start by `warm`. */
    store_pcount_shared *counts;
    pthread_t warm;
    int warming;
    struct web_file *files;   /* the embedded files, ready to serve */
    atomic_int inflight;      /* requests between first call and completion */
    web_applier *applier;     /* the Apply view: plan, confirm, runs */
    web_similar *similar;     /* /api/similar: kept corpora, rate limit */
    char *cors;               /* the origin allowed to read /api/similar; NULL none */
    void (*log)(void *, const char *);
    void *log_ud;
};

/* Per-request state, MHD's *con_cls. */
typedef struct web_req {
    sbuf body;
    int too_big;
} web_req;

/* ---- helpers ------------------------------------------------------------ */

static store *thread_store(web_server *s, dp_err *err)
{
    store *st = pthread_getspecific(s->key);
    if (st) return st;
    if (store_open_readonly(s->db_path, &st, err) != DP_OK) return NULL;
    if (s->counts) store_pcount_share(st, s->counts);
    pthread_setspecific(s->key, st);
    pthread_mutex_lock(&s->mu);
    if (s->nhandles == s->caphandles) {
        s->caphandles = s->caphandles ? s->caphandles * 2 : 8;
        s->handles = xrealloc(s->handles, s->caphandles * sizeof *s->handles);
    }
    s->handles[s->nhandles++] = st;
    pthread_mutex_unlock(&s->mu);
    return st;
}

static void server_log(web_server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void server_log(web_server *s, const char *fmt, ...)
{
    if (!s->log) return;
    char line[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&s->mu);
    s->log(s->log_ud, line);
    pthread_mutex_unlock(&s->mu);
}

/* Compares without an early exit, so timing does not reveal a prefix. */
static int token_eq(const char *a, const char *b)
{
    if (!a || !b) return 0;
    size_t na = strlen(a), nb = strlen(b);
    unsigned char diff = na != nb;
    for (size_t i = 0; i < na; i++) diff |= (unsigned char)a[i] ^ (unsigned char)b[i % (nb ? nb : 1)];
    return diff == 0;
}

static const char *header(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* ---- responses ------------------------------------------------------------ */

/* One response. Every one gets SECURITY_HEADERS. */
typedef struct web_out {
    int status;
    const char *ctype;          /* NULL: no Content-Type (303) */
    const void *data;
    size_t len;
    int persistent;             /* data outlives the response: not copied */
    int owned;                  /* data is malloc'ed and passes to the
                                 * response, which frees it: a large reply
                                 * is never copied */
    const char *cache;          /* Cache-Control; NULL = no-store */
    const char *allow;          /* Allow, for 405 */
    const char *etag;
    const char *encoding;       /* Content-Encoding */
    const char *vary;           /* what else the body depends on: "Accept-Encoding", ... */
    const char *location, *cookie;
    const char *retry_after;    /* 429 */
    const char *cors_origin;    /* Access-Control-Allow-Origin (and friends); NULL none */
    int cors_preflight;         /* the answer to a preflight: methods, headers, max-age */
    char buf[24];               /* room for a header value made per response */
} web_out;

static enum MHD_Result send_out(struct MHD_Connection *c, const web_out *o)
{
    enum MHD_ResponseMemoryMode mode = o->owned ? MHD_RESPMEM_MUST_FREE
                                       : o->persistent ? MHD_RESPMEM_PERSISTENT : MHD_RESPMEM_MUST_COPY;
    struct MHD_Response *r = MHD_create_response_from_buffer(o->len, (void *)o->data, mode);
    if (!r) {
        if (o->owned) free((void *)o->data);
        return MHD_NO;
    }
    for (size_t i = 0; i < NSECURITY; i++) MHD_add_response_header(r, SECURITY_HEADERS[i][0], SECURITY_HEADERS[i][1]);
    MHD_add_response_header(r, "Cache-Control", o->cache ? o->cache : "no-store");
    const char *const opt[][2] = {{"Content-Type", o->ctype}, {"Allow", o->allow}, {"ETag", o->etag},
                                  {"Content-Encoding", o->encoding}, {"Vary", o->vary},
                                  {"Location", o->location}, {"Set-Cookie", o->cookie},
                                  {"Retry-After", o->retry_after}};
    for (size_t i = 0; i < sizeof opt / sizeof opt[0]; i++)
        if (opt[i][1]) MHD_add_response_header(r, opt[i][0], opt[i][1]);
    if (o->cors_origin) {
        MHD_add_response_header(r, "Access-Control-Allow-Origin", o->cors_origin);
        if (o->cors_preflight) {
            MHD_add_response_header(r, "Access-Control-Allow-Methods", "GET");
            MHD_add_response_header(r, "Access-Control-Allow-Headers", "Authorization");
            MHD_add_response_header(r, "Access-Control-Max-Age", "600");
        } else {
            MHD_add_response_header(r, "Access-Control-Expose-Headers", "Retry-After");
        }
    }
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)o->status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_json_error(struct MHD_Connection *c, int status, const char *msg, const char *allow)
{
    char buf[256];
    int n = snprintf(buf, sizeof buf, "{\"error\":\"%s\"}", msg);   /* msg: our own ASCII */
    web_out o = {.status = status, .ctype = "application/json; charset=utf-8", .data = buf, .len = (size_t)n,
                 .allow = allow};
    return send_out(c, &o);
}

static enum MHD_Result send_text(struct MHD_Connection *c, int status, const char *msg, const char *allow)
{
    web_out o = {.status = status, .ctype = "text/plain; charset=utf-8", .data = msg, .len = strlen(msg),
                 .allow = allow};
    return send_out(c, &o);
}

/* ---- compression and validators ------------------------------------------- */

/* gzip of in[0..n) into *out (owned); 0 when it would not be smaller. */
static int gzip_encode(const void *in, size_t n, int level, sbuf *out)
{
    sb_init(out);
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return 0;
    size_t cap = deflateBound(&z, (uLong)n);
    sb_add(out, "", 0);
    out->s = xrealloc(out->s, cap + 1);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = (Bytef *)out->s;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    out->len = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END || out->len >= n) {
        sb_free(out);
        return 0;
    }
    out->s[out->len] = 0;
    return 1;
}

/* The client takes gzip: Accept-Encoding lists gzip (or *) with q > 0. */
static int accepts_gzip(struct MHD_Connection *c)
{
    const char *ae = header(c, "Accept-Encoding");
    int gzip = 0, star = 0, gzip_seen = 0;
    for (const char *p = ae; p && *p;) {
        p += strspn(p, " \t,");
        size_t tok = strcspn(p, " \t;,");
        const char *q = p + tok, *end = p + strcspn(p, ",");
        double qv = 1;
        for (const char *k = q; k < end; k++)
            if ((k[0] == 'q' || k[0] == 'Q') && k[1] == '=') qv = atof(k + 2);
        if (tok == 4 && !strncasecmp(p, "gzip", 4)) gzip = qv > 0, gzip_seen = 1;
        else if (tok == 1 && *p == '*') star = qv > 0;
        p = end;
    }
    return gzip || (star && !gzip_seen);
}

/* If-None-Match names etag (or is "*"); weak comparison, as RFC 9110 asks. */
static int etag_matches(struct MHD_Connection *c, const char *etag)
{
    const char *inm = header(c, "If-None-Match");
    size_t n = strlen(etag);
    for (const char *p = inm; p && *p;) {
        p += strspn(p, " \t,");
        if (!strncmp(p, "W/", 2)) p += 2;
        size_t len = strcspn(p, " \t,");
        if ((len == 1 && *p == '*') || (len == n && !memcmp(p, etag, n))) return 1;
        p += len;
    }
    return 0;
}

/* An embedded file, ready to serve: its validator and, when it pays, its
 * gzip form (made once at start-up; the files change only with the binary). */
typedef struct web_file {
    const web_asset *a;
    char etag[24], etag_gz[28];
    sbuf gz;                    /* empty: not worth it */
} web_file;

static void files_init(web_server *s)
{
    size_t n = 0;
    while (web_assets[n].name) n++;
    s->files = xcalloc(n + 1, sizeof *s->files);
    for (size_t i = 0; i < n; i++) {
        web_file *f = &s->files[i];
        f->a = &web_assets[i];
        unsigned long long h = (unsigned long long)XXH3_64bits(f->a->data, f->a->len);
        snprintf(f->etag, sizeof f->etag, "\"%016llx\"", h);
        snprintf(f->etag_gz, sizeof f->etag_gz, "\"%016llx-gz\"", h);
        gzip_encode(f->a->data, f->a->len, Z_BEST_COMPRESSION, &f->gz);
    }
}

static void files_free(web_server *s)
{
    for (web_file *f = s->files; f && f->a; f++) sb_free(&f->gz);
    free(s->files);
}

static const web_file *file(web_server *s, const char *name)
{
    for (web_file *f = s->files; f->a; f++)
        if (!strcmp(f->a->name, name)) return f;
    return NULL;
}

/* An embedded file: 304 when the client holds it, else the gzip form when
 * taken. Always revalidated (no-cache): the names carry no version. */
static enum MHD_Result send_file(struct MHD_Connection *c, const web_file *f)
{
    int gz = f->gz.len && accepts_gzip(c);
    web_out o = {.status = 200, .ctype = f->a->mime, .data = f->a->data, .len = f->a->len, .persistent = 1,
                 .cache = "no-cache", .etag = gz ? f->etag_gz : f->etag, .vary = f->gz.len ? "Accept-Encoding" : NULL};
    if (etag_matches(c, o.etag)) {
        o.status = 304;
        o.ctype = NULL;
        o.len = 0;
    } else if (gz) {
        o.data = f->gz.s;
        o.len = f->gz.len;
        o.encoding = "gzip";
    }
    return send_out(c, &o);
}

/* ---- policy checks ------------------------------------------------------ */

/* On a loopback bind only loopback names may appear in Host. */
static int host_ok(web_server *s, struct MHD_Connection *c)
{
    if (!s->loopback) return 1;
    const char *h = header(c, "Host");
    if (!h) return 0;
    static const char *const names[] = {"127.0.0.1", "localhost", "[::1]", NULL};
    for (int i = 0; names[i]; i++) {
        size_t n = strlen(names[i]);
        if (strncasecmp(h, names[i], n)) continue;
        if (!h[n]) return s->port == 80;
        if (h[n] == ':' && (unsigned)atoi(h + n + 1) == s->port) return 1;
    }
    return 0;
}

static int authorized(web_server *s, struct MHD_Connection *c)
{
    if (!s->token) return 1;
    const char *a = header(c, "Authorization");
    if (a && !strncasecmp(a, "Bearer ", 7) && token_eq(a + 7, s->token)) return 1;
    const char *ck = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "doppel_token");
    return token_eq(ck, s->token);
}

/* The request is from this site: no cross-site form or fetch. */
static int same_site(struct MHD_Connection *c)
{
    const char *sfs = header(c, "Sec-Fetch-Site");
    if (sfs && strcmp(sfs, "same-origin") && strcmp(sfs, "none")) return 0;
    const char *origin = header(c, "Origin"), *host = header(c, "Host");
    if (origin) {
        if (!host) return 0;
        const char *o = !strncmp(origin, "http://", 7) ? origin + 7
                        : !strncmp(origin, "https://", 8) ? origin + 8 : NULL;
        if (!o || strcasecmp(o, host)) return 0;
    }
    return header(c, "X-Doppel") != NULL;
}

static int json_ctype(struct MHD_Connection *c)
{
    const char *ct = header(c, "Content-Type");
    if (!ct || strncasecmp(ct, "application/json", 16)) return 0;
    return ct[16] == 0 || ct[16] == ';' || ct[16] == ' ';
}

/* ---- handlers ----------------------------------------------------------- */

typedef struct params_acc {
    web_param v[WEB_MAX_PARAMS];
    size_t n;
    int overflow;
} params_acc;

static enum MHD_Result collect_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    params_acc *p = cls;
    if (p->n == WEB_MAX_PARAMS) {
        p->overflow = 1;
        return MHD_NO;
    }
    p->v[p->n].name = key;
    p->v[p->n].value = value ? value : "";
    p->n++;
    return MHD_YES;
}

/* CORS for /api/similar: the configured origin may read the answer when
 * the request comes from there; with CORS on, every answer depends on
 * Origin. Sets o's CORS fields. */
static void cors_set(web_server *s, struct MHD_Connection *c, web_out *o)
{
    if (!s->cors) return;
    const char *origin = header(c, "Origin");
    o->vary = "Origin";
    if (origin && !strcmp(origin, s->cors)) o->cors_origin = s->cors;
}

static int64_t now_ms(void)
{
    return (int64_t)(dp_now() * 1000.0);
}

/* GET /api/similar: the rate limit, then similar.c with this thread's
 * read-only handle. Every answer, errors included, carries the CORS headers
 * (a page on the allowed origin can read why it was refused). */
static enum MHD_Result handle_similar(web_server *s, struct MHD_Connection *c, const char *url,
                                      const params_acc *pa, web_reply *rep, web_out *o)
{
    cors_set(s, c, o);
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    unsigned wait = 0;
    if (ci && ci->client_addr && !web_similar_admit(s->similar, ci->client_addr, now_ms(), &wait)) {
        snprintf(o->buf, sizeof o->buf, "%u", wait);
        o->retry_after = o->buf;
        char body[96];
        snprintf(body, sizeof body, "{\"error\":\"too many requests: try again in %u s\"}", wait);
        rep->status = 429;
        rep->body = xstrdup(body);
        rep->len = strlen(body);
        return MHD_YES;
    }
    dp_err err = {{0}};
    store *st = thread_store(s, &err);
    if (!st || web_similar_handle(s->similar, st, pa->v, pa->n, rep, &err) != DP_OK) {
        server_log(s, "GET %s: %s", url, err.msg);
        if (!rep->body) web_reply_error(rep, 500, "store error");
    }
    return MHD_YES;
}

/* The routes with server state (apply.c); 0 when url is not one of them. */
static int handle_apply(web_server *s, const char *url, const char *method, const params_acc *pa,
                        const web_req *rq, web_reply *rep)
{
    int get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    dp_err err = {{0}};
    int rc = DP_OK;
    if (!strcmp(url, "/api/apply")) {
        store *st = get ? thread_store(s, &err) : NULL;
        if (get && !st) rc = DP_ERR;
        else if (get) rc = web_apply_get(s->applier, st, pa->v, pa->n, rep, &err);
        else if (!strcmp(method, "POST")) rc = web_apply_post(s->applier, rq->body.s, rq->body.len, rep, &err);
        else {
            web_reply_error(rep, 405, "method not allowed");
            rep->allow = "GET, HEAD, POST";
        }
    } else if (!strcmp(url, "/api/apply/run")) {
        if (get) web_apply_run_get(s->applier, rep);
        else {
            web_reply_error(rep, 405, "method not allowed");
            rep->allow = "GET, HEAD";
        }
    } else {
        return 0;
    }
    if (rc != DP_OK) {
        server_log(s, "%s %s: %s", method, url, err.msg);
        if (!rep->body) web_reply_error(rep, 500, "store error");
    }
    return 1;
}

static enum MHD_Result handle_api(web_server *s, struct MHD_Connection *c, const char *url,
                                  const char *method, web_req *rq)
{
    /* State changes: a verdict, the queue, an apply. */
    int write = !strcmp(method, "POST") || !strcmp(method, "DELETE");
    int similar = !strcmp(url, "/api/similar");
    if (!authorized(s, c)) {
        web_out o = {.status = 401, .ctype = "application/json; charset=utf-8",
                     .data = "{\"error\":\"missing or wrong token\"}"};
        o.len = strlen(o.data);
        if (similar) cors_set(s, c, &o);
        return send_out(c, &o);
    }
    if (write && !same_site(c)) return send_json_error(c, 403, "cross-site request refused", NULL);
    if (write && !json_ctype(c))
        return send_json_error(c, 415, "expected Content-Type: application/json", NULL);
    if (rq->too_big) return send_json_error(c, 413, "request body too large", NULL);
    params_acc pa = {.n = 0};
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_param, &pa);
    if (pa.overflow) return send_json_error(c, 400, "too many parameters", NULL);
    web_reply rep = {0};
    web_out o = {.ctype = "application/json; charset=utf-8"};
    if (similar) {
        if (write) {
            web_reply_error(&rep, 405, "method not allowed");
            rep.allow = "GET, HEAD";
        } else {
            handle_similar(s, c, url, &pa, &rep, &o);
        }
    } else if (!handle_apply(s, url, method, &pa, rq, &rep)) {
        dp_err err = {{0}};
        store *st = write ? s->writer : thread_store(s, &err);
        if (!st) {
            server_log(s, "%s %s: %s", method, url, err.msg);
            return send_json_error(c, 500, "store unavailable", NULL);
        }
        if (write) pthread_mutex_lock(&s->wmu);
        int rc = web_api_handle(st, method, url, pa.v, pa.n, rq->body.s, rq->body.len, &rep, &err);
        if (write) pthread_mutex_unlock(&s->wmu);
        if (rc != DP_OK) server_log(s, "%s %s: %s", method, url, err.msg);
    }
    o.status = rep.status;
    o.data = rep.body;
    o.len = rep.len;
    o.allow = rep.allow;
    int big = rep.len >= WEB_GZIP_MIN;
    if (big) o.vary = o.vary ? "Accept-Encoding, Origin" : "Accept-Encoding";
    sbuf gz = {0};
    if (big && accepts_gzip(c) && gzip_encode(rep.body, rep.len, WEB_GZIP_LEVEL, &gz)) {
        o.data = gz.s;
        o.len = gz.len;
        o.encoding = "gzip";
        gz.s = NULL;            /* the response owns it now */
    } else {
        rep.body = NULL;        /* the response owns it now */
    }
    o.owned = 1;
    enum MHD_Result ret = send_out(c, &o);
    web_reply_free(&rep);
    return ret;
}

/* The methods a path of the API takes (the Allow of a 405). */
static const char *api_allow(const char *url)
{
    size_t n = strlen(url);
    if (n > 8 && !strcmp(url + n - 8, "/verdict")) return "POST";
    if (n > 6 && !strcmp(url + n - 6, "/queue")) return "POST, DELETE";
    if (!strcmp(url, "/api/apply")) return "GET, HEAD, POST";
    return "GET, HEAD";
}

/* OPTIONS: only the CORS preflight of /api/similar, when CORS is on and
 * the origin is the allowed one. No token is asked: a preflight carries
 * none, and it reveals nothing. */
static enum MHD_Result handle_preflight(web_server *s, struct MHD_Connection *c, const char *url)
{
    if (strcmp(url, "/api/similar") || !s->cors)
        return send_json_error(c, 405, "method not allowed", api_allow(url));
    const char *m = header(c, "Access-Control-Request-Method");
    web_out o = {.status = 204, .data = "", .cors_preflight = 1};
    cors_set(s, c, &o);
    if (!o.cors_origin || (m && strcmp(m, "GET") && strcmp(m, "HEAD"))) {
        o.status = 403;
        o.ctype = "application/json; charset=utf-8";
        o.data = "{\"error\":\"cross-origin request refused\"}";
        o.len = strlen(o.data);
        o.cors_origin = NULL;
    }
    return send_out(c, &o);
}

/* Paths the page routes itself; all get index.html so deep links work. */
static int page_route(const char *url)
{
    if (!strcmp(url, "/") || !strcmp(url, "/apply")) return 1;
    if (!strncmp(url, "/pair/", 6)) {
        const char *p = url + 6;
        if (!*p) return 0;
        for (; *p; p++)
            if (*p < '0' || *p > '9') return 0;
        return 1;
    }
    return !strncmp(url, "/item/", 6) && strchr(url + 6, '/') != NULL;
}

static enum MHD_Result handle_page(web_server *s, struct MHD_Connection *c, const char *url)
{
    const char *tok = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
    if (tok && s->token && page_route(url)) {
        /* Trade the token in the URL for a cookie and drop it from the
         * address bar (and from the history). */
        if (!token_eq(tok, s->token)) return send_text(c, 401, "wrong token\n", NULL);
        char cookie[400];
        snprintf(cookie, sizeof cookie, "doppel_token=%s; Path=/; HttpOnly; SameSite=Strict", s->token);
        web_out o = {.status = 303, .data = "", .location = url, .cookie = cookie};
        return send_out(c, &o);
    }
    const web_file *f = NULL;
    if (page_route(url)) f = file(s, "index.html");
    else if (!strncmp(url, "/static/", 8)) f = file(s, url + 8);
    else if (!strcmp(url, "/favicon.ico")) f = file(s, "favicon.svg");
    if (!f) return send_text(c, 404, "not found\n", NULL);
    return send_file(c, f);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    web_server *s = cls;
    web_req *rq = *con_cls;
    if (!rq) {
        rq = xcalloc(1, sizeof *rq);
        *con_cls = rq;
        atomic_fetch_add(&s->inflight, 1);
        /* Refuse an announced oversized body before reading any of it. */
        const char *cl = header(c, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > WEB_MAX_BODY) {
            rq->too_big = 1;
            return send_json_error(c, 413, "request body too large", NULL);
        }
        return MHD_YES;
    }
    if (*upload_size) {
        if (rq->body.len + *upload_size > WEB_MAX_BODY) rq->too_big = 1;
        else sb_add(&rq->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    int api = !strncmp(url, "/api/", 5) || !strcmp(url, "/api");
    int get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    if (!host_ok(s, c)) return send_text(c, 403, "unexpected Host header\n", NULL);
    if (api) {
        if (!strcmp(method, "OPTIONS")) return handle_preflight(s, c, url);
        /* DELETE only takes a pair out of the queue; elsewhere it is a
         * wrong method, whatever its headers. */
        int del_ok = !strcmp(method, "DELETE") && strstr(api_allow(url), "DELETE");
        if (!get && strcmp(method, "POST") && !del_ok)
            return send_json_error(c, 405, "method not allowed", api_allow(url));
        return handle_api(s, c, url, method, rq);
    }
    if (!get) return send_text(c, 405, "method not allowed\n", "GET, HEAD");
    return handle_page(s, c, url);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)c;
    (void)toe;
    web_server *s = cls;
    web_req *rq = *con_cls;
    if (!rq) return;
    sb_free(&rq->body);
    free(rq);
    *con_cls = NULL;
    atomic_fetch_sub(&s->inflight, 1);
}

/* ---- start / stop ------------------------------------------------------- */

int web_is_loopback(const char *host)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    if (!host || getaddrinfo(host, NULL, &hints, &res)) return 0;
    int all = 1;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
        if (!gate_addr_loopback(ai->ai_addr)) all = 0;
    freeaddrinfo(res);
    return all;
}

/* An origin as browsers send it: http(s)://host[:port], nothing after. */
static int origin_valid(const char *o)
{
    const char *h = !strncmp(o, "https://", 8) ? o + 8 : !strncmp(o, "http://", 7) ? o + 7 : NULL;
    if (!h || !*h || strlen(o) > 255) return 0;
    for (; *h; h++)
        if (!(isalnum((unsigned char)*h) || strchr("-.:[]", *h))) return 0;
    return 1;
}

/* Tokens go into a cookie and a header: keep them to URL-safe characters. */
static int token_valid(const char *t)
{
    size_t n = strlen(t);
    if (n < 8 || n > 256) return 0;
    for (; *t; t++)
        if (!((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') || (*t >= '0' && *t <= '9') ||
              strchr("-._~", *t)))
            return 0;
    return 1;
}

static void close_handle(void *p)
{
    (void)p;   /* handles are closed by web_stop, which owns the list */
}

/* Builds the shared count table before the first filter asks for it (0.5 s
 * at 725k pairs). A failure only leaves the first count to build it. */
static void *warm_counts(void *arg)
{
    web_server *s = arg;
    dp_err e;
    if (store_pcount_warm(s->counts, &e) != DP_OK) server_log(s, "counts not prepared: %s", e.msg);
    return NULL;
}

static void warm_start(web_server *s)
{
    dp_err e;
    if (store_pcount_shared_new(s->db_path, &s->counts, &e) != DP_OK) {
        server_log(s, "pair counts not shared between threads: %s", e.msg);
        return;
    }
    store_pcount_share(s->writer, s->counts);
    s->warming = pthread_create(&s->warm, NULL, warm_counts, s) == 0;
}

static void server_free(web_server *s)
{
    if (s->warming) pthread_join(s->warm, NULL);
    web_applier_free(s->applier);   /* stops a run in flight first */
    web_similar_free(s->similar);
    free(s->cors);
    gate_free(s->gate);
    for (size_t i = 0; i < s->nhandles; i++) store_close(s->handles[i]);
    free(s->handles);
    free(s->d);
    files_free(s);
    store_close(s->writer);
    store_pcount_shared_free(s->counts);   /* after every handle counting with it */
    pthread_key_delete(s->key);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->wmu);
    free(s->db_path);
    free(s->token);
    free(s);
}

/* libmicrohttpd is about to close a connection: the gate stops counting it. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    (void)socket_context;
    web_server *s = cls;
    if (code != MHD_CONNECTION_NOTIFY_CLOSED) return;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci) gate_closed(s->gate, ci->connect_fd);
}

/* The gate hands over a connection whose request is complete. */
static int handoff(void *ud, int fd, const struct sockaddr *sa, socklen_t salen)
{
    web_server *s = ud;
    unsigned i = atomic_fetch_add(&s->next_d, 1) % s->nd;
    return MHD_add_connection(s->d[i], fd, sa, salen) == MHD_YES ? 0 : -1;
}

static int listen_on(const struct addrinfo *ai, dp_err *err, const char *bind_name, unsigned port)
{
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (ai->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        if (!bind(fd, ai->ai_addr, ai->ai_addrlen) && !listen(fd, SOMAXCONN)) return fd;
        close(fd);
    }
    dp_fail(err, "cannot listen on %s port %u: %s", bind_name, port, strerror(errno));
    return -1;
}

/* The security headers as the gate writes them. */
static char *header_block(void)
{
    sbuf b;
    sb_init(&b);
    for (size_t i = 0; i < NSECURITY; i++)
        if (strcasecmp(SECURITY_HEADERS[i][0], "Connection")) sb_printf(&b, "%s: %s\r\n", SECURITY_HEADERS[i][0], SECURITY_HEADERS[i][1]);
    return sb_take(&b);
}

/* libmicrohttpd runs without a listening socket (the gate has it), and then
 * without a thread pool: one daemon per worker thread instead, each on its
 * own epoll loop, fed in turn by the gate. */
static int start_daemons(web_server *s, unsigned threads, unsigned max_conns, dp_err *err)
{
    s->d = xcalloc(threads, sizeof *s->d);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_NO_LISTEN_SOCKET;
    for (s->nd = 0; s->nd < threads; s->nd++) {
        s->d[s->nd] = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
                                       MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)WEB_CONN_MEMORY,
                                       /* the gate caps connections; never refuse one it took */
                                       MHD_OPTION_CONNECTION_LIMIT, max_conns + 128,
                                       MHD_OPTION_CONNECTION_TIMEOUT, 30u,
                                       MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                                       MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
                                       MHD_OPTION_END);
        if (!s->d[s->nd]) return dp_fail(err, "cannot start the HTTP server threads");
    }
    return DP_OK;
}

/* glibc gives memory back to the system whenever the top of a thread's heap
 * grows past 128 KB free, and serves blocks of 128 KB or more by mmap: a
 * pair page's reply (~100 KB, twice with its gzip) freed on every request
 * then costs madvise, page faults and TLB shootdowns on the other core --
 * a sixth of a heavy pair's time (measured with perf). A server keeps its
 * working set: trim and map only above a few megabytes. */
static void web_malloc_tune(void)
{
#ifdef __GLIBC__
    mallopt(M_TRIM_THRESHOLD, 32 << 20);
    mallopt(M_MMAP_THRESHOLD, 4 << 20);
#endif
}

int web_start(const web_config *cfg, web_server **out, dp_err *err)
{
    const char *bind = cfg->bind && *cfg->bind ? cfg->bind : "127.0.0.1";
    const char *token = cfg->token && *cfg->token ? cfg->token : NULL;
    *out = NULL;
    if (access(cfg->db_path, F_OK))
        return dp_fail(err, "%s: no such store (run `doppel import` and `doppel analyze` first)",
                       cfg->db_path);
    web_malloc_tune();
    int loopback = web_is_loopback(bind);
    if (!loopback && !token)
        return dp_fail(err, "binding %s exposes the store beyond this machine: give --token "
                            "(or DOPPEL_TOKEN)", bind);
    if (token && !token_valid(token))
        return dp_fail(err, "the token must be 8 to 256 characters of A-Z a-z 0-9 - . _ ~");
    if (cfg->cors_origin && !origin_valid(cfg->cors_origin))
        return dp_fail(err, "the CORS origin must be scheme://host[:port] (http or https, no path), not '%.100s'",
                       cfg->cors_origin);
    if (cfg->write && !(cfg->gh && cfg->gh->token && *cfg->gh->token))
        return dp_fail(err, "writing to GitHub needs a token: $GITHUB_TOKEN or $GH_TOKEN");
    if (cfg->write && gh_check_api_url(cfg->gh->api_url ? cfg->gh->api_url : "https://api.github.com", err) != DP_OK)
        return DP_ERR;
    /* Opening for writing first also migrates an older schema, which the
     * workers' read-only handles would refuse. */
    store *writer;
    if (store_open(cfg->db_path, &writer, err) != DP_OK) return DP_ERR;

    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE}, *res = NULL;
    char port[16];
    snprintf(port, sizeof port, "%u", cfg->port);
    int gai = getaddrinfo(bind, port, &hints, &res);
    if (gai) {
        store_close(writer);
        return dp_fail(err, "cannot resolve %s: %s", bind, gai_strerror(gai));
    }
    int lfd = listen_on(res, err, bind, cfg->port);
    freeaddrinfo(res);
    if (lfd < 0) {
        store_close(writer);
        return DP_ERR;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(lfd, (struct sockaddr *)&ss, &sl);

    web_server *s = xcalloc(1, sizeof *s);
    s->db_path = xstrdup(cfg->db_path);
    s->writer = writer;
    s->token = xstrdup(token);
    s->loopback = loopback;
    s->log = cfg->log;
    s->log_ud = cfg->log_ud;
    s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                             : ((struct sockaddr_in *)&ss)->sin_port);
    atomic_init(&s->inflight, 0);
    atomic_init(&s->next_d, 0);
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->wmu, NULL);
    pthread_key_create(&s->key, close_handle);
    files_init(s);
    s->cors = cfg->cors_origin ? xstrdup(cfg->cors_origin) : NULL;
    web_apply_cfg ac = {.db_path = cfg->db_path, .write = cfg->write, .gh = cfg->write ? cfg->gh : NULL,
                        .dup_label = cfg->dup_label, .max_s = cfg->apply_max_s};
    s->applier = web_applier_new(&ac);
    s->similar = web_similar_new(cfg->similar_per_min, 0);
    warm_start(s);
    int ncpu = dp_threads(0);
    unsigned threads = cfg->threads ? cfg->threads : ncpu < 2 ? 2 : ncpu > 16 ? 16 : (unsigned)ncpu;
    unsigned max_conns = cfg->max_conns ? cfg->max_conns : WEB_MAX_CONNS;
    char *headers = header_block();
    gate_config g = {.listen_fd = lfd,
                     .max_conns = max_conns,
                     .max_per_ip = cfg->max_per_ip ? cfg->max_per_ip : WEB_MAX_PER_IP,
                     .head_ms = cfg->head_timeout_ms ? cfg->head_timeout_ms : WEB_HEAD_TIMEOUT_MS,
                     .life_ms = WEB_LIFE_TIMEOUT_MS,
                     .max_head = WEB_MAX_HEAD,
                     .max_uri = WEB_MAX_URI,
                     .max_body = WEB_MAX_BODY,
                     .headers = headers,
                     .handoff = handoff,
                     .ud = s};
    int rc = start_daemons(s, threads, max_conns, err);
    if (rc == DP_OK) rc = gate_start(&g, &s->gate, err);
    else close(lfd);
    free(headers);
    if (rc != DP_OK) {
        for (unsigned i = 0; i < s->nd; i++) MHD_stop_daemon(s->d[i]);
        server_free(s);
        return DP_ERR;
    }
    *out = s;
    return DP_OK;
}

unsigned web_port(const web_server *s)
{
    return s->port;
}

void web_stop(web_server *s)
{
    if (!s) return;
    gate_stop(s->gate);
    /* Requests already read finish and get their answer (a verdict POST is
     * committed before it is answered); give them up to five seconds. */
    for (int i = 0; i < 500 && atomic_load(&s->inflight) > 0; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    for (unsigned i = 0; i < s->nd; i++) MHD_stop_daemon(s->d[i]);
    server_free(s);
}
