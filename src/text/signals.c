/* signals.c -- strong evidence in an item's text: exception names, stack
 * frames, file paths, normalised error lines and version strings.
 *
 * Two reports of the same bug often share little prose but the same
 * exception, the same top frames or the same error message; these are the
 * features (and the reasoning lines) that tell duplicates from look-alikes.
 * Everything here is a hand-written scanner over lines: no regex engine,
 * linear time, bounded output (SIG_MAX per list) on hostile input.
 */
#include "text.h"
#include "text_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

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

static int ends_with(const char *s, size_t n, const char *suf)
{
    size_t m = strlen(suf);
    return n >= m && memcmp(s + n - m, suf, m) == 0;
}

/* ---- exceptions ------------------------------------------------------------ */

static const char *const errno_names[] = {
    "EACCES", "EADDRINUSE", "EAGAIN", "EBADF", "ECONNREFUSED", "ECONNRESET", "EEXIST",
    "EINTR", "EINVAL", "EIO", "EISDIR", "EMFILE", "ENOENT", "ENOMEM", "ENOSPC", "ENOTDIR",
    "ENOTEMPTY", "EPERM", "EPIPE", "EROFS", "ETIMEDOUT", "SIGABRT", "SIGBUS", "SIGKILL",
    "SIGSEGV", "SIGTERM", "StopIteration", "KeyboardInterrupt", "SystemExit", NULL};

/* w[0..n) is one of errno_names. Every name starts with E, S or K: the
 * first letter rules out almost every identifier before any compare. */
static int is_errno_name(const char *w, size_t n)
{
    if (n < 3 || (w[0] != 'E' && w[0] != 'S' && w[0] != 'K')) return 0;
    for (int i = 0; errno_names[i]; i++)
        if (errno_names[i][0] == w[0] && strlen(errno_names[i]) == n &&
            memcmp(errno_names[i], w, n) == 0)
            return 1;
    return 0;
}

static void scan_exceptions(const char *s, strvec *out)
{
    const char *p = s;
    while (*p) {
        if (!ident_c((unsigned char)*p)) { p++; continue; }
        /* maximal dotted identifier */
        const char *st = p, *last = p;
        while (text_byte_class[(unsigned char)*p]) {   /* an ident byte or '.' (never NUL) */
            if (*p == '.' || *p == '$') last = p + 1;
            p++;
        }
        if (st > s && (ident_c((unsigned char)st[-1]))) continue;
        size_t n = (size_t)(p - last);
        const char *w = last;
        if (n > 0 && w[n - 1] == '.') continue;
        if (n < 4 || !isupper((unsigned char)w[0])) {
            if (is_errno_name(w, n)) add_unique(out, w, n);
            continue;
        }
        if ((ends_with(w, n, "Exception") && n > 9) || (ends_with(w, n, "Error") && n > 5)) {
            add_unique(out, w, n);
            continue;
        }
        if (is_errno_name(w, n)) add_unique(out, w, n);
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
    while (p < e && (ident_c((unsigned char)*p) || *p == '.' || *p == '<' || *p == '>'))
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
        if (isspace((unsigned char)*p)) return 0;
        if (*p == '(' && p > s && p[-1] != '.') { par = p; break; }
    }
    if (!par || !memchr(s, '.', (size_t)(par - s))) return 0;
    if (!memmem(next, strcspn(next, "\n"), ".go:", 4)) return 0;
    add_unique(out, s, (size_t)(par - s));
    return 1;
}

/* ---- paths ------------------------------------------------------------------- */

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

static int has_code_ext(const char *s, size_t n)
{
    const char *dot = NULL;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '.') dot = s + i;
        else if (s[i] == '/' || s[i] == '\\') dot = NULL;
    if (!dot || dot == s || dot[-1] == '/') return 0;
    size_t el = (size_t)(s + n - dot - 1);
    if (el == 0 || el > 10) return 0;   /* "properties", the longest */
    return text_name_in(code_exts, dot + 1, el);
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

static void scan_paths(const char *s, strvec *out)
{
    const char *p = s;
    while (*p) {
        while (*p && path_delim((unsigned char)*p)) p++;
        const char *st = p;
        while (*p && !path_delim((unsigned char)*p)) p++;
        size_t n = (size_t)(p - st);
        while (n && trail_punct[(unsigned char)st[n - 1]]) n--;
        /* drop a ":12" or ":12:3" line suffix (each ":digits" from the end) */
        for (size_t i = n; i > 0; i--) {
            if (st[i - 1] == ':' && i < n && isdigit((unsigned char)st[i])) { n = i - 1; continue; }
            if (!isdigit((unsigned char)st[i - 1]) && st[i - 1] != ':') break;
        }
        if (n < 3 || n > 200) continue;
        /* a path has a code extension (so a dot) or is a known file name
         * (none has a slash): most words end here */
        int known = n <= 16 && text_name_in(known_files, st, n);   /* "requirements.txt", the longest */
        if (!known && !memchr(st, '.', n)) continue;
        if (text_has(st, n, "://", 3) || memchr(st, '@', n) || (n > 4 && !strncmp(st, "www.", 4)))
            continue;
        int slash = memchr(st, '/', n) || memchr(st, '\\', n);
        int ok = known || has_code_ext(st, n);
        /* a bare file name must start like one (not "e.g.txt" noise) */
        if (ok && !slash && !isalpha((unsigned char)st[0]) && st[0] != '_' && st[0] != '.') ok = 0;
        if (ok) add_unique(out, st, n);
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

/* One pass over the line: *lvl = the first ERROR, FATAL or SEVERE as a
 * whole word (NULL if none); returns whether the line is an error line at
 * all (a level, or "Exception", "Error:", "error:", "error (CODE):", "Caused by:"). */
static int error_scan(const char *s, const char *e, const char **lvl)
{
    /* The bytes a case below starts on: a table test per byte is cheaper
     * than the switch's jump for every letter between 'C' and 'e'. */
    static const unsigned char lead[256] = {['E'] = 1, ['F'] = 1, ['S'] = 1, ['e'] = 1, ['C'] = 1};
    int has = 0;
    *lvl = NULL;
    for (const char *p = s; p < e; p++) {
        if (!lead[(unsigned char)*p]) continue;
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

static void error_line(const char *s, const char *e, strvec *out)
{
    const char *lvl;
    if (!error_scan(s, e, &lvl)) return;
    if (lvl) s = lvl;
    if (e - s >= 3 && memcmp(s, "at ", 3) == 0) return;
    char buf[ERRLINE_MAX + 8];
    size_t m = 0;
    const char *p = s;
    while (p < e && m < ERRLINE_MAX) {
        unsigned char c = (unsigned char)*p;
        if (isspace(c)) {
            while (p < e && isspace((unsigned char)*p)) p++;
            if (m && buf[m - 1] != ' ') buf[m++] = ' ';
            continue;
        }
        /* a whitespace-delimited word containing '/' is a path */
        if (p == s || isspace((unsigned char)p[-1])) {
            const char *we = p;
            while (we < e && !isspace((unsigned char)*we)) we++;
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
        if (isdigit(c)) {
            while (p < e && isdigit((unsigned char)*p)) p++;
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

static void scan_versions(const char *s, strvec *out)
{
    const char *p = s;
    while (*p) {
        int v = (*p == 'v' || *p == 'V') && isdigit((unsigned char)p[1]);
        if (!(isdigit((unsigned char)*p) || v) || (p > s && (isalnum((unsigned char)p[-1]) ||
                                                             p[-1] == '.' || p[-1] == '-'))) {
            p++;
            continue;
        }
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
        p = q > p ? q : p + 1;
    }
}

/* ---- driver ---------------------------------------------------------------------- */

static void scan_lines(const char *text, text_signals *out)
{
    const char *p = text;
    while (p && *p) {
        const char *nl = strchr(p, '\n');
        const char *e = nl ? nl : p + strlen(p);
        const char *s = skip_ws(p, e);
        if (!frame_at(s, e, &out->frames) && !frame_py(s, e, &out->frames) &&
            !frame_native(s, e, &out->frames) && !frame_valgrind(s, e, &out->frames))
            frame_go(s, e, nl ? nl + 1 : NULL, &out->frames);
        error_line(s, e, &out->errors);
        if (!nl) break;
        p = nl + 1;
    }
}

void text_signals_extract(const text_fields *tf, text_signals *out)
{
    memset(out, 0, sizeof *out);
    for (int f = FIELD_TITLE; f <= FIELD_CODE; f++) {
        const char *t = tf->f[f] ? tf->f[f] : "";
        scan_exceptions(t, &out->exceptions);
        scan_paths(t, &out->paths);
        scan_lines(t, out);
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
