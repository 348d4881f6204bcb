/* util.h -- small helpers every module shares.
 *
 * Contract:
 *  - x* allocators never return NULL: running out of memory aborts the
 *    process with a message. Every other failure is returned as an int status
 *    (DP_OK / DP_ERR / DP_NOTFOUND) plus a human-readable dp_err filled by the
 *    callee. Library code never prints; the CLI prints err->msg.
 *  - sbuf is a growable NUL-terminated byte buffer; the caller owns sb.s and
 *    releases it with sb_free() (or takes it with sb_take()).
 *  - strvec is a growable array of owned strings.
 */
#ifndef DP_UTIL_H
#define DP_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

enum { DP_OK = 0, DP_ERR = -1, DP_NOTFOUND = 1 };

typedef struct dp_err {
    char msg[1024];
} dp_err;

/* Formats msg into err (if err is non-NULL) and returns DP_ERR, so callers
 * can write `return dp_fail(err, "bad %s", x);`. */
int dp_fail(dp_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Allocation failure: says how much was asked for and aborts (what the x*
 * allocators do; for other allocators' failures). */
void dp_oom(size_t n) __attribute__((noreturn));
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* Asks the kernel to back the whole 2 MB pages inside [p, p + n) with huge
 * pages now (MADV_COLLAPSE: their data copied into them): for large arrays
 * read at random, one record a doc, which missed the TLB at nearly every
 * read with 4 KB pages. Only for arrays already written in full (pages
 * never touched would be made resident). A hint: nothing else changes,
 * and nothing happens where the kernel declines. */
int dp_huge_pages(const void *p, size_t n);   /* 1 when the kernel took it */
char *xstrdup(const char *s);            /* NULL stays NULL */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

typedef struct sbuf {
    char *s;      /* always NUL-terminated once anything was appended */
    size_t len;
    size_t cap;
} sbuf;

void sb_init(sbuf *sb);
void sb_free(sbuf *sb);
void sb_reset(sbuf *sb);                      /* len = 0, keeps memory */
void sb_add(sbuf *sb, const char *p, size_t n);
void sb_adds(sbuf *sb, const char *s);
void sb_addc(sbuf *sb, char c);
void sb_printf(sbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vprintf(sbuf *sb, const char *fmt, va_list ap);
char *sb_take(sbuf *sb);                      /* returns owned string, resets sb */
const char *sb_str(const sbuf *sb);           /* "" when empty */

typedef struct strvec {
    char **v;
    size_t n;
    size_t cap;
} strvec;

void sv_push(strvec *sv, const char *s);      /* copies s */
void sv_push_owned(strvec *sv, char *s);      /* takes s */
void sv_free(strvec *sv);
int sv_contains(const strvec *sv, const char *s);

/* Timestamps are int64 seconds since the epoch, UTC; 0 means unknown.
 * Accepts ISO 8601 as GitHub writes it ("2023-04-01T12:00:00Z") and as Jira
 * writes it ("2014-01-16T19:39:57.000+0000", "+01:00" offsets too). */
int dp_parse_time(const char *s, int64_t *out);
/* Writes "2023-04-01T12:00:00Z" into buf (at least 21 bytes). */
void dp_format_time(int64_t t, char *buf, size_t n);
/* Writes "2023-04-01" into buf (at least 11 bytes). */
void dp_format_date(int64_t t, char *buf, size_t n);

/* 1 when every byte of s[0..n) is ASCII (< 0x80), read 8 bytes a step. */
int dp_ascii(const char *s, size_t n);
/* Returns 1 when s[0..n) is valid UTF-8 without NUL bytes; otherwise 0 and,
 * if bad_off is non-NULL, the offset of the first bad byte. */
int dp_utf8_valid(const char *s, size_t n, size_t *bad_off);
/* s[0..n) with each invalid UTF-8 byte (and NUL) replaced by U+FFFD, owned,
 * its length in *outlen; NULL when s is valid already. */
char *dp_utf8_repaired(const char *s, size_t n, size_t *outlen);

/* Monotonic clock in seconds, for progress and benchmarks. */
double dp_now(void);

/* Worker threads to use: want when > 0, else the online CPUs (1 to 64). */
int dp_threads(int want);
/* Runs fn(arg) on `threads` threads at once and waits for all of them.
 * fn pulls its own work from arg (an atomic or locked counter), so however
 * many runners start, the job gets done: with threads <= 1, or when no
 * thread can be created, fn runs once on the calling thread. */
void dp_run_threads(int threads, void *(*fn)(void *), void *arg);
/* Calls fn(arg, lo, hi) for each chunk [lo, hi) of [0, n), `chunk` items
 * apiece (the last may be shorter), on `threads` threads as
 * dp_run_threads runs them. Chunks go out in order from a shared counter,
 * so which thread runs which chunk varies: fn writes only what its range
 * owns, and keeps no state between calls. */
typedef void (*dp_range_fn)(void *arg, size_t lo, size_t hi);
void dp_parallel_for(int threads, size_t n, size_t chunk, dp_range_fn fn, void *arg);
/* Names the calling thread (for perf and top) and makes it a feeder of the
 * one thread that bounds a pipeline (an import's writer): a feeder runs as
 * SCHED_BATCH, so waking it never preempts that thread, while it still
 * gets its full share of the CPU. Best effort: a refusal changes nothing. */
void dp_thread_feeder(const char *name);

/* Reads a whole file (gzip-compressed or not) into memory. For small files
 * only (fixtures, truth CSVs); ingest streams instead. */
int dp_read_file(const char *path, char **out, size_t *len, dp_err *err);

#endif
