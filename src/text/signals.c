/* signals.c -- strong evidence in an item's text: exception names, stack
 * frames, file paths, normalised error lines and version strings.
 *
 * Two reports of the same bug often share little prose but the same
 * exception, the same top frames or the same error message; these are the
 * features (and the reasoning lines) that tell duplicates from look-alikes.
 * Everything here is a hand-written scanner over lines: no regex engine,
 * linear time, bounded output (SIG_MAX per list) on hostile input. Each
 * scanner skips to the few bytes its signals can start at (sixteen bytes a
 * step with SSE2) and reads closely only around them: most of a text is
 * prose that holds none.
 */
#include "text.h"
#include "text_int.h"
#include "../common/scan.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define SIG_MAX 64        /* entries per list */
#define ERRLINE_MAX 160   /* bytes of a normalised error line */

static void add_unique(strvec *sv, const char *s, size_t n)
{
    if (n == 0 || sv->n >= SIG_MAX) return;
    for (size_t i = 0; i < sv->n; i++)
        if (strlen(sv->v[i]) == n && memcmp(sv->v[i], s, n) == 0) return;
    sv_push_owned(sv, xstrndup(s, n));
}

/* An identifier's byte: a letter, a digit, '_' or '$'. */
static int ident_c(int c)
{
    return text_byte_class[(unsigned char)c] & (TEXT_ALNUM | TEXT_IDENT);
}

/* ---- exceptions ------------------------------------------------------------ */

static const text_name errno_names[] = {
    TEXT_NAME("EACCES"), TEXT_NAME("EADDRINUSE"), TEXT_NAME("EAGAIN"), TEXT_NAME("EBADF"),
    TEXT_NAME("ECONNREFUSED"), TEXT_NAME("ECONNRESET"), TEXT_NAME("EEXIST"), TEXT_NAME("EINTR"),
    TEXT_NAME("EINVAL"), TEXT_NAME("EIO"), TEXT_NAME("EISDIR"), TEXT_NAME("EMFILE"), TEXT_NAME("ENOENT"),
    TEXT_NAME("ENOMEM"), TEXT_NAME("ENOSPC"), TEXT_NAME("ENOTDIR"), TEXT_NAME("ENOTEMPTY"), TEXT_NAME("EPERM"),
    TEXT_NAME("EPIPE"), TEXT_NAME("EROFS"), TEXT_NAME("ETIMEDOUT"), TEXT_NAME("SIGABRT"), TEXT_NAME("SIGBUS"),
    TEXT_NAME("SIGKILL"), TEXT_NAME("SIGSEGV"), TEXT_NAME("SIGTERM"), TEXT_NAME("StopIteration"),
    TEXT_NAME("KeyboardInterrupt"), TEXT_NAME("SystemExit"), {NULL, 0}};

/* w[0..n) is one of errno_names (case counts). Every name starts with E,
 * S or K: the first letter rules out almost every identifier before any
 * compare. */
static int is_errno_name(const char *w, size_t n)
{
    if (n < 3 || (w[0] != 'E' && w[0] != 'S' && w[0] != 'K')) return 0;
    for (int i = 0; errno_names[i].s; i++)
        if (errno_names[i].n == n && errno_names[i].s[0] == w[0] && memcmp(errno_names[i].s, w, n) == 0)
            return 1;
    return 0;
}

/* A byte of one part of a dotted name: a letter, a digit or '_' ('.' and
 * '$' part it). */
static int part_c(unsigned char c)
{
    return (text_byte_class[c] & TEXT_ALNUM) || c == '_';
}

/* The bytes an exception can be told by: the 'E' of a trailing
 * "Exception" or "Error", and the first letter of every errno_names entry. */
static const unsigned char exc_lead[256] = {['E'] = 1, ['S'] = 1, ['K'] = 1};

/* The last part of each maximal dotted name ("a.b.C$DException") is an
 * exception when it is "XException" or "XError" (a capital first letter)
 * or one of errno_names. Rather than reading every name byte by byte, it
 * looks only where such a part can show: at an 'E' that starts its
 * "Exception" or "Error" (then back to the part's start), and at an E, S
 * or K that starts a part. A part ends a dotted name when no name byte
 * (nor '.') follows it; s[n] is the NUL, which ends it too. */
static void scan_exceptions(const char *s, size_t n, strvec *out)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; (i = dp_scan_any(u, i, n, 'E', 'S', 'K', 'K', 0, exc_lead)) < n; i++) {
        size_t m = 0;
        if (u[i] == 'E') {
            if (n - i >= 9 && memcmp(s + i, "Exception", 9) == 0) m = 9;
            else if (n - i >= 5 && memcmp(s + i, "Error", 5) == 0) m = 5;
        }
        if (m && !text_byte_class[u[i + m]]) {
            size_t b = i;
            while (b > 0 && part_c(u[b - 1])) b--;
            if (b < i && text_c_upper(u[b])) add_unique(out, s + b, i + m - b);
            continue;   /* the part does not start at i: no errno name */
        }
        if (i > 0 && part_c(u[i - 1])) continue;
        size_t e = i;   /* the longest name, "KeyboardInterrupt", has 17 bytes */
        while (e < n && e - i < 18 && part_c(u[e])) e++;
        if (!text_byte_class[u[e]] && is_errno_name(s + i, e - i)) add_unique(out, s + i, e - i);
    }
}

/* ---- frames ----------------------------------------------------------------- */

static const char *skip_ws(const char *s, const char *e)
{
    while (s < e && (*s == ' ' || *s == '\t' || *s == '>')) s++;
    return s;
}

/* "at org.foo.Bar.baz(Bar.java:12)" / "at Object.f (x.js:1:2)" */
static int frame_at(const char *s, const char *e, strvec *out)
{
    if (e - s < 4 || memcmp(s, "at ", 3) != 0) return 0;
    const char *p = s + 3, *st = p;
    while (p < e && (text_byte_class[(unsigned char)*p] || *p == '<' || *p == '>'))   /* ident or '.' */
        p++;
    if (p == st) return 0;
    const char *q = p;
    if (q < e && *q == ' ') q++;
    if (q >= e || *q != '(') return 0;
    add_unique(out, st, (size_t)(p - st));
    return 1;
}

/* File "x/y.py", line 3, in func  ->  "y.py:func" */
static int frame_py(const char *s, const char *e, strvec *out)
{
    if (e - s < 8 || memcmp(s, "File \"", 6) != 0) return 0;
    const char *path = s + 6;
    const char *q = memchr(path, '"', (size_t)(e - path));
    if (!q) return 0;
    const char *in = memmem(q, (size_t)(e - q), ", in ", 5);
    if (!in) return 0;
    const char *base = path;
    for (const char *c = path; c < q; c++)
        if (*c == '/' || *c == '\\') base = c + 1;
    const char *fn = in + 5, *fe = fn;
    while (fe < e && (ident_c((unsigned char)*fe) || *fe == '<' || *fe == '>' || *fe == '.')) fe++;
    if (fe == fn) return 0;
    char buf[256];
    size_t bl = (size_t)(q - base), fl = (size_t)(fe - fn);
    if (bl + fl + 2 > sizeof buf) return 0;
    memcpy(buf, base, bl);
    buf[bl] = ':';
    memcpy(buf + bl + 1, fn, fl);
    add_unique(out, buf, bl + 1 + fl);
    return 1;
}

/* gdb/ASan "#3 0x7f.. in func (...)" or "#3 func (...)" */
static int frame_native(const char *s, const char *e, strvec *out)
{
    if (e - s < 4 || *s != '#' || !isdigit((unsigned char)s[1])) return 0;
    const char *p = s + 1;
    while (p < e && isdigit((unsigned char)*p)) p++;
    p = skip_ws(p, e);
    if (e - p > 2 && p[0] == '0' && p[1] == 'x') {
        while (p < e && !isspace((unsigned char)*p)) p++;
        p = skip_ws(p, e);
        if (e - p < 3 || memcmp(p, "in ", 3) != 0) return 0;
        p += 3;
    }
    const char *st = p;
    while (p < e && (ident_c((unsigned char)*p) || *p == ':' || *p == '.' || *p == '~')) p++;
    if (p == st) return 0;
    add_unique(out, st, (size_t)(p - st));
    return 1;
}

/* valgrind/memcheck "==123==    at 0x4E5A1C3: func (pool.c:142)" and
 * "==123==    by 0x...: func (...)": the "==pid==" prefix hides the "at"
 * from frame_at, and the address is followed by a colon. */
static int frame_valgrind(const char *s, const char *e, strvec *out)
{
    if (e - s < 4 || s[0] != '=' || s[1] != '=') return 0;
    const char *p = s + 2;
    while (p < e && isdigit((unsigned char)*p)) p++;
    if (p == s + 2 || e - p < 2 || p[0] != '=' || p[1] != '=') return 0;
    p = skip_ws(p + 2, e);
    if (e - p < 6 || (memcmp(p, "at ", 3) != 0 && memcmp(p, "by ", 3) != 0)) return 0;
    p = skip_ws(p + 3, e);
    if (e - p < 3 || p[0] != '0' || (p[1] != 'x' && p[1] != 'X')) return 0;
    p += 2;
    while (p < e && isxdigit((unsigned char)*p)) p++;
    if (p >= e || *p != ':') return 0;
    p = skip_ws(p + 1, e);
    const char *st = p;
    while (p < e && (ident_c((unsigned char)*p) || *p == ':' || *p == '.' || *p == '~')) p++;
    if (p == st) return 0;
    add_unique(out, st, (size_t)(p - st));
    return 1;
}

/* Go: "pkg/path.(*T).Method(0xc0, ...)" followed by "\t/x/y.go:12 +0x1d" */
static int frame_go(const char *s, const char *e, const char *next, strvec *out)
{
    if (!next) return 0;
    const char *par = NULL;   /* the line itself first: it rules out most */
    for (const char *p = s; p < e; p++) {
        if (text_c_space((unsigned char)*p)) return 0;
        if (*p == '(' && p > s && p[-1] != '.') { par = p; break; }
    }
    if (!par || !memchr(s, '.', (size_t)(par - s))) return 0;
    if (!memmem(next, strcspn(next, "\n"), ".go:", 4)) return 0;
    add_unique(out, s, (size_t)(par - s));
    return 1;
}

/* ---- paths ------------------------------------------------------------------- */

/* Each has a '.' or ends in "file": scan_paths() looks at no other word. */
static const text_name known_files[] = {
    TEXT_NAME("pom.xml"), TEXT_NAME("build.gradle"), TEXT_NAME("build.xml"), TEXT_NAME("makefile"),
    TEXT_NAME("cmakelists.txt"), TEXT_NAME("package.json"), TEXT_NAME("setup.py"), TEXT_NAME("dockerfile"),
    TEXT_NAME("requirements.txt"), TEXT_NAME("cargo.toml"), TEXT_NAME("go.mod"), {NULL, 0}};

static const text_name code_exts[] = {
    TEXT_NAME("c"), TEXT_NAME("h"), TEXT_NAME("cc"), TEXT_NAME("cpp"), TEXT_NAME("hpp"), TEXT_NAME("java"),
    TEXT_NAME("scala"), TEXT_NAME("py"), TEXT_NAME("go"), TEXT_NAME("rs"), TEXT_NAME("js"), TEXT_NAME("ts"),
    TEXT_NAME("jsx"), TEXT_NAME("tsx"), TEXT_NAME("rb"), TEXT_NAME("php"), TEXT_NAME("sh"), TEXT_NAME("xml"),
    TEXT_NAME("json"), TEXT_NAME("yaml"), TEXT_NAME("yml"), TEXT_NAME("properties"), TEXT_NAME("conf"),
    TEXT_NAME("cfg"), TEXT_NAME("ini"), TEXT_NAME("toml"), TEXT_NAME("gradle"), TEXT_NAME("proto"),
    TEXT_NAME("thrift"), TEXT_NAME("sql"), TEXT_NAME("hql"), TEXT_NAME("q"), TEXT_NAME("jar"), TEXT_NAME("so"),
    TEXT_NAME("dll"), TEXT_NAME("log"), TEXT_NAME("md"), TEXT_NAME("txt"), TEXT_NAME("csv"),
    TEXT_NAME("parquet"), TEXT_NAME("orc"), TEXT_NAME("avro"), TEXT_NAME("ipynb"), TEXT_NAME("pyx"),
    TEXT_NAME("kt"), TEXT_NAME("cs"), {NULL, 0}};

/* s[0..n) ends in ".ext", ext one of code_exts, with no '/' or '\\' after
 * the dot and the dot neither the first byte nor just after a '/'
 * (".bashrc" has none). Read from the end: an extension has at most 10
 * bytes ("properties"), so a dot further back is no extension's. */
static int has_code_ext(const char *s, size_t n)
{
    size_t i = n, lo = n > 11 ? n - 11 : 0;
    while (i > lo && s[i - 1] != '.' && s[i - 1] != '/' && s[i - 1] != '\\') i--;
    if (i == lo || s[i - 1] != '.') return 0;   /* no dot in reach, or a slash after it */
    const char *dot = s + i - 1;
    if (dot == s || dot[-1] == '/' || i == n) return 0;
    return text_name_in(code_exts, dot + 1, n - i);
}

/* Bytes that end a path candidate: white space (isspace() in the C locale)
 * and "'`()[]{}<>,;=|*. A table, because scan_paths() asks for every byte
 * of every field. */
static const unsigned char path_delim_tab[256] = {
    [' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\v'] = 1, ['\f'] = 1, ['\r'] = 1,
    ['"'] = 1, ['\''] = 1, ['`'] = 1, ['('] = 1, [')'] = 1, ['['] = 1, [']'] = 1,
    ['{'] = 1, ['}'] = 1, ['<'] = 1, ['>'] = 1, [','] = 1, [';'] = 1, ['='] = 1,
    ['|'] = 1, ['*'] = 1,
};

/* What a path candidate loses at its end: ".:;,!?" */
static const unsigned char trail_punct[256] = {['.'] = 1, [':'] = 1, [';'] = 1, [','] = 1, ['!'] = 1, ['?'] = 1};

static int path_delim(unsigned char c)
{
    return path_delim_tab[c];
}

/* "file" at s[i], in any case. */
static int file_at(const char *s, size_t i, size_t n)
{
    if (n - i < 4) return 0;
    for (int k = 0; k < 4; k++)
        if (text_c_tolower((unsigned char)s[i + k]) != "file"[k]) return 0;
    return 1;
}

/* One word of scan_paths(): st[0..n) between delimiters. */
static void path_word(const char *st, size_t n, strvec *out)
{
    while (n && trail_punct[(unsigned char)st[n - 1]]) n--;
    /* drop a ":12" or ":12:3" line suffix (each ":digits" from the end) */
    for (size_t i = n; i > 0; i--) {
        if (st[i - 1] == ':' && i < n && isdigit((unsigned char)st[i])) { n = i - 1; continue; }
        if (!isdigit((unsigned char)st[i - 1]) && st[i - 1] != ':') break;
    }
    if (n < 3 || n > 200) return;
    /* a path has a code extension (so a dot) or is a known file name
     * (none has a slash): most words end here */
    int dot = memchr(st, '.', n) != NULL;
    int known = n <= 16 && (dot || (n >= 4 && file_at(st, n - 4, n))) &&   /* "requirements.txt", the longest */
                text_name_in(known_files, st, n);
    if (!known && !dot) return;
    if (text_has(st, n, "://", 3) || memchr(st, '@', n) || (n > 4 && !strncmp(st, "www.", 4)))
        return;
    int slash = memchr(st, '/', n) || memchr(st, '\\', n);
    int ok = known || has_code_ext(st, n);
    /* a bare file name must start like one (not "e.g.txt" noise) */
    if (ok && !slash && !isalpha((unsigned char)st[0]) && st[0] != '_' && st[0] != '.') ok = 0;
    if (ok) add_unique(out, st, n);
}

/* The first i' >= i where s[i'] is a '.' or starts "file" (any case), n
 * when none: a path holds a '.' or is a known file name, and every known
 * name without a dot ends in "file". SSE2 tests sixteen places a step
 * (bytes i..i+18, so only while they lie below n); "file" whole, because
 * an 'f' alone stopped the scan at every hundredth byte of real texts. */
static size_t path_lead(const unsigned char *s, size_t i, size_t n)
{
#ifdef __SSE2__
#define LOAD(k) _mm_or_si128(_mm_loadu_si128((const __m128i *)(const void *)(s + i + (k))), fold)
    const __m128i fold = _mm_set1_epi8(0x20);   /* 'F' | 0x20 == 'f', and only 'F' */
    for (; i + 19 <= n; i += 16) {
        __m128i dot = dp_eq8(_mm_loadu_si128((const __m128i *)(const void *)(s + i)), '.');
        __m128i file = _mm_and_si128(_mm_and_si128(dp_eq8(LOAD(0), 'f'), dp_eq8(LOAD(1), 'i')),
                                     _mm_and_si128(dp_eq8(LOAD(2), 'l'), dp_eq8(LOAD(3), 'e')));
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(dot, file));
        if (m) return i + (size_t)__builtin_ctz(m);
    }
#undef LOAD
#endif
    while (i < n && s[i] != '.' && !file_at((const char *)s, i, n)) i++;
    return i;
}

/* The words (runs of bytes between delimiters) that hold a '.' or a
 * "file", each once and in order; the other words (most of a text) are
 * skipped sixteen bytes a step. */
static void scan_paths(const char *s, size_t n, strvec *out)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; (i = path_lead(u, i, n)) < n;) {
        if (u[i] == '.') {
            /* a '.' with only trailing punctuation after it ("end.", "etc.),")
             * is trimmed off its word; had a '.' or "file" come before it,
             * that one would have taken the word */
            size_t j = i + 1;
            while (j < n && trail_punct[u[j]]) j++;
            if (j == n || path_delim(u[j])) { i = j; continue; }
        }
        /* the word around s[i]; the one before ended on a delimiter */
        size_t b = i;
        while (b > 0 && !path_delim(u[b - 1])) b--;
        while (i < n && !path_delim(u[i])) i++;
        path_word(s + b, i - b, out);
    }
}

/* ---- error lines ---------------------------------------------------------------- */

/* Masks numbers, hex and paths so that the same message from two runs
 * compares equal. */
static int at_word(const char *s, const char *e, const char *p, const char *w, size_t m)
{
    return p + m <= e && memcmp(p, w, m) == 0 && (p == s || !isalnum((unsigned char)p[-1])) &&
           (p + m == e || !isalnum((unsigned char)p[m]));
}

static int at_str(const char *e, const char *p, const char *w, size_t m)
{
    return p + m <= e && memcmp(p, w, m) == 0;
}

/* "error (CODE):" at p, the C library way of naming a failure ("protocol
 * error (TH_EPROTO): malformed chunk size", "I/O error (EIO): ..."). */
static int at_error_code(const char *s, const char *e, const char *p)
{
    if (!at_word(s, e, p, "error", 5)) return 0;
    const char *q = p + 5;
    while (q < e && *q == ' ') q++;
    if (q >= e || *q != '(') return 0;
    const char *close = memchr(q, ')', (size_t)(e - q));
    if (!close || close - q > 40) return 0;
    q = close + 1;
    while (q < e && *q == ' ') q++;
    return q < e && *q == ':';
}

/* 1 when one of the words error_scan() looks for may start at p: its
 * first three bytes (before e) are "ERR", "Err" or "err" (ERROR, Error:,
 * error:, error (CODE):), "Exc", "FAT", "SEV" or "Cau". ("eRr" passes
 * too: a filter only, error_scan() decides.) */
static int err_lead_at(const char *p, const char *e)
{
    if (e - p < 3) return 0;
    unsigned char a = (unsigned char)p[0], b = (unsigned char)p[1], c = (unsigned char)p[2];
    return ((a | 0x20) == 'e' && (b | 0x20) == 'r' && (c | 0x20) == 'r') ||
           (a == 'E' && b == 'x' && c == 'c') || (a == 'F' && b == 'A' && c == 'T') ||
           (a == 'S' && b == 'E' && c == 'V') || (a == 'C' && b == 'a' && c == 'u');
}

/* The first place in [p, e) where err_lead_at() holds, e when none. Most
 * lines have none; the byte loop of error_scan() over every line (an 'e'
 * every tenth byte of English) was a fifth of the signals' time. SSE2
 * tests sixteen places a step (bytes p..p+17, so only while they lie
 * before e); the rest goes byte by byte. */
static const char *err_lead(const char *p, const char *e)
{
#ifdef __SSE2__
    const __m128i fold = _mm_set1_epi8(0x20);
    for (; e - p >= 18; p += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + 1));
        __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(p + 2));
        __m128i err = _mm_and_si128(
            _mm_and_si128(dp_eq8(_mm_or_si128(a, fold), 'e'), dp_eq8(_mm_or_si128(b, fold), 'r')),
            dp_eq8(_mm_or_si128(c, fold), 'r'));
        __m128i exc = _mm_and_si128(_mm_and_si128(dp_eq8(a, 'E'), dp_eq8(b, 'x')), dp_eq8(c, 'c'));
        __m128i fat = _mm_and_si128(_mm_and_si128(dp_eq8(a, 'F'), dp_eq8(b, 'A')), dp_eq8(c, 'T'));
        __m128i sev = _mm_and_si128(_mm_and_si128(dp_eq8(a, 'S'), dp_eq8(b, 'E')), dp_eq8(c, 'V'));
        __m128i cau = _mm_and_si128(_mm_and_si128(dp_eq8(a, 'C'), dp_eq8(b, 'a')), dp_eq8(c, 'u'));
        __m128i hit = _mm_or_si128(_mm_or_si128(_mm_or_si128(err, exc), _mm_or_si128(fat, sev)), cau);
        unsigned m = (unsigned)_mm_movemask_epi8(hit);
        if (m) return p + __builtin_ctz(m);
    }
#endif
    while (p < e && !err_lead_at(p, e)) p++;
    return p;
}

/* One pass over the line s..e, at the places err_lead() finds (from, the
 * first, is one): *lvl = the first ERROR, FATAL or SEVERE as a whole word
 * (NULL if none); returns whether the line is an error line at all (a
 * level, or "Exception", "Error:", "error:", "error (CODE):", "Caused by:"). */
static int error_scan(const char *s, const char *e, const char *from, const char **lvl)
{
    int has = 0;
    *lvl = NULL;
    for (const char *p = from; p < e; p = err_lead(p + 1, e)) {
        switch (*p) {
        case 'E':
            if (at_word(s, e, p, "ERROR", 5)) { *lvl = p; return 1; }
            if (!has) has = at_str(e, p, "Exception", 9) || at_str(e, p, "Error:", 6);
            break;
        case 'F':
            if (at_word(s, e, p, "FATAL", 5)) { *lvl = p; return 1; }
            break;
        case 'S':
            if (at_word(s, e, p, "SEVERE", 6)) { *lvl = p; return 1; }
            break;
        case 'e':
            if (!has) has = at_str(e, p, "error:", 6) || at_error_code(s, e, p);
            break;
        case 'C':
            if (!has) has = at_str(e, p, "Caused by:", 10);
            break;
        default:
            break;
        }
    }
    return has;
}

static void error_line(const char *s, const char *e, const char *from, strvec *out)
{
    const char *lvl;
    if (!error_scan(s, e, from, &lvl)) return;
    if (lvl) s = lvl;
    if (e - s >= 3 && memcmp(s, "at ", 3) == 0) return;
    char buf[ERRLINE_MAX + 8];
    size_t m = 0;
    const char *p = s;
    while (p < e && m < ERRLINE_MAX) {
        unsigned char c = (unsigned char)*p;
        if (text_c_space(c)) {
            while (p < e && text_c_space((unsigned char)*p)) p++;
            if (m && buf[m - 1] != ' ') buf[m++] = ' ';
            continue;
        }
        /* a whitespace-delimited word containing '/' is a path */
        if (p == s || text_c_space((unsigned char)p[-1])) {
            const char *we = p;
            while (we < e && !text_c_space((unsigned char)*we)) we++;
            if (memchr(p, '/', (size_t)(we - p)) && we - p > 2) {
                memcpy(buf + m, "PATH", 4);
                m += 4;
                p = we;
                continue;
            }
        }
        if (c == '0' && p + 1 < e && (p[1] == 'x' || p[1] == 'X')) {
            p += 2;
            while (p < e && isxdigit((unsigned char)*p)) p++;
            memcpy(buf + m, "HEX", 3);
            m += 3;
            continue;
        }
        if (text_c_digit(c)) {
            while (p < e && text_c_digit((unsigned char)*p)) p++;
            buf[m++] = 'N';
            continue;
        }
        buf[m++] = (char)c;
        p++;
    }
    while (m && buf[m - 1] == ' ') m--;
    if (m >= 10) add_unique(out, buf, m);
}

/* ---- versions --------------------------------------------------------------------- */

/* One step of scan_versions() at p: a version starting there goes to
 * out; returns where to go on from (past the version, else p + 1). */
static const char *version_at(const char *s, const char *p, strvec *out)
{
    int v = (*p == 'v' || *p == 'V') && isdigit((unsigned char)p[1]);
    if (!(isdigit((unsigned char)*p) || v) || (p > s && (isalnum((unsigned char)p[-1]) ||
                                                         p[-1] == '.' || p[-1] == '-')))
        return p + 1;
    const char *st = p + v, *q = st;
    int dots = 0, run = 0, bad = 0;
    while (*q && (isdigit((unsigned char)*q) || (*q == '.' && isdigit((unsigned char)q[1])))) {
        if (*q == '.') { dots++; run = 0; }
        else if (++run > 4) bad = 1;
        q++;
    }
    if (*q && (isalpha((unsigned char)*q) || *q == '_')) bad = 1;
    int prev_word = 0;
    if (!v && dots == 1) {
        /* x.y alone is too often a plain decimal: take it only after
         * a word that announces a version */
        const char *b = p;
        while (b > s && b[-1] == ' ') b--;
        const char *ws = b;
        while (ws > s && isalpha((unsigned char)ws[-1])) ws--;
        size_t wl = (size_t)(b - ws);
        prev_word = (wl == 7 && !strncasecmp(ws, "version", 7)) ||
                    (wl == 7 && !strncasecmp(ws, "release", 7)) ||
                    (wl == 8 && !strncasecmp(ws, "versions", 8));
    }
    if (!bad && dots >= 1 && dots <= 4 && (dots >= 2 || v || prev_word))
        add_unique(out, st, (size_t)(q - st));
    return q > p ? q : p + 1;
}

/* A version starts at a digit or at the 'v' just before one, so the
 * steps go from digit to digit (text_skip_to), not byte by byte. */
static void scan_versions(const char *s, strvec *out)
{
    const char *p = s;
    for (;;) {
        const char *d = text_skip_to(p, '0', '9');
        if (!*d) break;
        p = version_at(s, d > p && (d[-1] == 'v' || d[-1] == 'V') ? d - 1 : d, out);
    }
}

/* ---- driver ---------------------------------------------------------------------- */

static void scan_lines(const char *text, size_t n, text_signals *out)
{
    const char *p = text, *end = text + n;
    const char *lead = err_lead(text, end);   /* where an error word may start next */
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        const char *s = skip_ws(p, e);
        if (!frame_at(s, e, &out->frames) && !frame_py(s, e, &out->frames) &&
            !frame_native(s, e, &out->frames) && !frame_valgrind(s, e, &out->frames))
            frame_go(s, e, nl ? nl + 1 : NULL, &out->frames);
        /* a line without a place err_lead() finds is no error line; the
         * bytes skip_ws() passed (' ', '\t', '>') are none, so lead >= s */
        if (lead < p) lead = err_lead(p, end);
        if (lead < e) error_line(s, e, lead, &out->errors);
        if (!nl) break;
        p = nl + 1;
    }
}

void text_signals_extract(const text_fields *tf, text_signals *out)
{
    memset(out, 0, sizeof *out);
    for (int f = FIELD_TITLE; f <= FIELD_CODE; f++) {
        const char *t = tf->f[f] ? tf->f[f] : "";
        size_t n = strlen(t);
        scan_exceptions(t, n, &out->exceptions);
        scan_paths(t, n, &out->paths);
        scan_lines(t, n, out);
        if (f != FIELD_CODE) scan_versions(t, &out->versions);
    }
}

void text_signals_free(text_signals *s)
{
    sv_free(&s->exceptions);
    sv_free(&s->frames);
    sv_free(&s->paths);
    sv_free(&s->errors);
    sv_free(&s->versions);
}
