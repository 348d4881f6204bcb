/* util.c -- see util.h. */
#include "util.h"
#include "zread.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>
#include <stdint.h>
#include <sys/mman.h>

int dp_fail(dp_err *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return DP_ERR;
}

void dp_oom(size_t n)
{
    fprintf(stderr, "doppel: out of memory (%zu bytes)\n", n);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) dp_oom(n);
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) dp_oom(n * size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) dp_oom(n);
    return q;
}

char *xstrdup(const char *s)
{
    return s ? xstrndup(s, strlen(s)) : NULL;
}

char *xstrndup(const char *s, size_t n)
{
    char *d = xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *xasprintf(const char *fmt, ...)
{
    sbuf sb;
    va_list ap;
    sb_init(&sb);
    va_start(ap, fmt);
    sb_vprintf(&sb, fmt, ap);
    va_end(ap);
    return sb_take(&sb);
}

void sb_init(sbuf *sb) { sb->s = NULL; sb->len = sb->cap = 0; }
void sb_free(sbuf *sb) { free(sb->s); sb_init(sb); }
void sb_reset(sbuf *sb) { sb->len = 0; if (sb->s) sb->s[0] = '\0'; }

static void sb_grow(sbuf *sb, size_t extra)
{
    if (sb->len + extra + 1 <= sb->cap) return;
    size_t cap = sb->cap ? sb->cap : 64;
    while (cap < sb->len + extra + 1) cap *= 2;
    sb->s = xrealloc(sb->s, cap);
    sb->cap = cap;
}

void sb_add(sbuf *sb, const char *p, size_t n)
{
    sb_grow(sb, n);
    if (n) memcpy(sb->s + sb->len, p, n);
    sb->len += n;
    sb->s[sb->len] = '\0';
}

void sb_adds(sbuf *sb, const char *s) { if (s) sb_add(sb, s, strlen(s)); }
void sb_addc(sbuf *sb, char c) { sb_add(sb, &c, 1); }

void sb_vprintf(sbuf *sb, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) return;
    sb_grow(sb, (size_t)n);
    vsnprintf(sb->s + sb->len, (size_t)n + 1, fmt, ap);
    sb->len += (size_t)n;
}

void sb_printf(sbuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(sb, fmt, ap);
    va_end(ap);
}

char *sb_take(sbuf *sb)
{
    char *s = sb->s ? sb->s : xstrdup("");
    sb_init(sb);
    return s;
}

const char *sb_str(const sbuf *sb) { return sb->s ? sb->s : ""; }

void sv_push(strvec *sv, const char *s) { sv_push_owned(sv, xstrdup(s)); }

void sv_push_owned(strvec *sv, char *s)
{
    if (sv->n == sv->cap) {
        sv->cap = sv->cap ? sv->cap * 2 : 8;
        sv->v = xrealloc(sv->v, sv->cap * sizeof *sv->v);
    }
    sv->v[sv->n++] = s;
}

void sv_free(strvec *sv)
{
    for (size_t i = 0; i < sv->n; i++) free(sv->v[i]);
    free(sv->v);
    sv->v = NULL;
    sv->n = sv->cap = 0;
}

int sv_contains(const strvec *sv, const char *s)
{
    for (size_t i = 0; i < sv->n; i++)
        if (strcmp(sv->v[i], s) == 0) return 1;
    return 0;
}

/* Days from civil date, Howard Hinnant's algorithm: timegm() is not C11 and
 * mktime() depends on the local zone. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

int dp_parse_time(const char *s, int64_t *out)
{
    int Y, M, D, h = 0, mi = 0, se = 0;
    if (!s || strlen(s) < 10) return DP_ERR;
    if (!digits(s, 4, &Y) || s[4] != '-' || !digits(s + 5, 2, &M) || s[7] != '-' ||
        !digits(s + 8, 2, &D))
        return DP_ERR;
    if (M < 1 || M > 12 || D < 1 || D > 31) return DP_ERR;
    const char *p = s + 10;
    if (*p == 'T' || *p == ' ') {
        if (strlen(p) < 9 || !digits(p + 1, 2, &h) || p[3] != ':' || !digits(p + 4, 2, &mi) ||
            p[6] != ':' || !digits(p + 7, 2, &se))
            return DP_ERR;
        p += 9;
        if (*p == '.')
            for (p++; *p >= '0' && *p <= '9'; p++) {}
    }
    int64_t off = 0;
    if (*p == '+' || *p == '-') {
        int oh, om;
        int sign = *p == '-' ? -1 : 1;
        p++;
        if (!digits(p, 2, &oh)) return DP_ERR;
        p += 2;
        if (*p == ':') p++;
        if (!digits(p, 2, &om)) return DP_ERR;
        p += 2;
        off = sign * (oh * 3600 + om * 60);
    } else if (*p == 'Z') {
        p++;
    }
    if (*p != '\0') return DP_ERR;
    *out = days_from_civil(Y, (unsigned)M, (unsigned)D) * 86400 + h * 3600 + mi * 60 + se - off;
    return DP_OK;
}

void dp_format_time(int64_t t, char *buf, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void dp_format_date(int64_t t, char *buf, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, n, "%Y-%m-%d", &tm);
}

int dp_ascii(const char *s, size_t n)
{
    uint64_t any = 0, x;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {   /* no branch a byte: the tokenizer asks it of every text */
        memcpy(&x, s + i, 8);
        any |= x;
    }
    for (; i < n; i++) any |= (unsigned char)s[i];
    return (any & 0x8080808080808080ull) == 0;
}

int dp_utf8_valid(const char *str, size_t n, size_t *bad_off)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t len;
        unsigned min;
        if (c == 0) goto bad;
        if (c < 0x80) { i++; continue; }
        if ((c & 0xE0) == 0xC0) { len = 2; min = 0x80; c &= 0x1F; }
        else if ((c & 0xF0) == 0xE0) { len = 3; min = 0x800; c &= 0x0F; }
        else if ((c & 0xF8) == 0xF0) { len = 4; min = 0x10000; c &= 0x07; }
        else goto bad;
        if (i + len > n) goto bad;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) goto bad;
            c = (c << 6) | (s[i + k] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) goto bad;
        i += len;
    }
    return 1;
bad:
    if (bad_off) *bad_off = i;
    return 0;
}

double dp_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int dp_threads(int want)
{
    if (want > 0) return want;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)(n > 64 ? 64 : n) : 1;
}

void dp_run_threads(int threads, void *(*fn)(void *), void *arg)
{
    if (threads <= 1) {
        fn(arg);
        return;
    }
    pthread_t *t = xcalloc((size_t)threads, sizeof *t);
    int started = 0;
    for (int i = 0; i < threads; i++)
        if (pthread_create(&t[i], NULL, fn, arg) == 0) started++;
        else break;
    if (!started) fn(arg);   /* no threads available: do the work here */
    for (int i = 0; i < started; i++) pthread_join(t[i], NULL);
    free(t);
}

void dp_thread_feeder(const char *name)
{
    struct sched_param sp = {0};
    pthread_setname_np(pthread_self(), name);
    (void)pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp);
}

typedef struct range_job {
    dp_range_fn fn;
    void *arg;
    size_t n, chunk;
    atomic_size_t next;   /* index of the next chunk */
} range_job;

static void *range_run(void *p)
{
    range_job *j = p;
    for (size_t c; (c = atomic_fetch_add(&j->next, 1)) < (j->n + j->chunk - 1) / j->chunk;) {
        size_t lo = c * j->chunk;
        j->fn(j->arg, lo, j->n - lo < j->chunk ? j->n : lo + j->chunk);
    }
    return NULL;
}

void dp_parallel_for(int threads, size_t n, size_t chunk, dp_range_fn fn, void *arg)
{
    range_job j = {.fn = fn, .arg = arg, .n = n, .chunk = chunk ? chunk : 1};
    atomic_init(&j.next, 0);
    dp_run_threads(threads, range_run, &j);
}

int dp_read_file(const char *path, char **out, size_t *len, dp_err *err)
{
    zreader *z;
    dp_err e;
    if (zr_open(path, &z, &e) != DP_OK) return dp_fail(err, "%s: %s", path, e.msg);
    sbuf sb;
    sb_init(&sb);
    char buf[65536];
    long n;
    while ((n = zr_read(z, buf, sizeof buf, &e)) > 0) sb_add(&sb, buf, (size_t)n);
    zr_close(z);
    if (n < 0) {   /* a damaged or truncated .gz is an error, not a shorter file */
        sb_free(&sb);
        return dp_fail(err, "%s: %s", path, e.msg);
    }
    *len = sb.len;
    *out = sb_take(&sb);
    return DP_OK;
}

/* s[0..n) with each invalid UTF-8 byte replaced by U+FFFD, owned (the
 * length in *outlen); NULL when s is valid already. */
char *dp_utf8_repaired(const char *s, size_t n, size_t *outlen)
{
    size_t bad;
    if (dp_utf8_valid(s, n, &bad)) return NULL;
    sbuf sb;
    sb_init(&sb);
    size_t i = 0;
    while (i < n) {
        if (dp_utf8_valid(s + i, n - i, &bad)) {
            sb_add(&sb, s + i, n - i);
            break;
        }
        sb_add(&sb, s + i, bad);
        sb_adds(&sb, "\xef\xbf\xbd");
        i += bad + 1;
    }
    *outlen = sb.len;
    return sb_take(&sb);
}

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25   /* Linux 6.1; older kernels refuse it: a hint */
#endif
int dp_huge_pages(const void *p, size_t n)
{
    uintptr_t huge = (uintptr_t)2 << 20, a = ((uintptr_t)p + huge - 1) & ~(huge - 1),
              e = ((uintptr_t)p + n) & ~(huge - 1);
    return p && e > a && madvise((void *)a, e - a, MADV_COLLAPSE) == 0;
}
