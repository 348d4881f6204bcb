/* text_split.c -- cutting an item into fields: title, prose, code, labels.
 *
 * The body is read line by line with a small state machine that knows
 * GitHub markdown (``` / ~~~ fences, indented code, `inline code`, links,
 * images, HTML comments) and Jira wiki markup ({code}, {noformat}, {{mono}},
 * [text|url], !image!, h2. headings). Lines that look like log output or a
 * stack trace go to the code field even outside a fence, because reporters
 * paste them raw all the time and they must not dilute the prose.
 * Boilerplate lines (the repository's issue template) are dropped when a
 * learned template is given.
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

const char *text_field_name(text_field f)
{
    switch (f) {
    case FIELD_TITLE: return "title";
    case FIELD_PROSE: return "prose";
    case FIELD_CODE: return "code";
    case FIELD_LABELS: return "labels";
    default: return "?";
    }
}

void text_fields_free(text_fields *tf)
{
    for (int i = 0; i < FIELD_COUNT; i++) {
        free(tf->f[i]);
        tf->f[i] = NULL;
    }
}

/* ---- small scanners ---------------------------------------------------- */

static int starts_with(const char *s, size_t n, const char *pre)
{
    size_t m = strlen(pre);
    return n >= m && memcmp(s, pre, m) == 0;
}

static int is_ident(int c)
{
    return text_c_alnum((unsigned char)c) || c == '_' || c == '$';
}

/* Number of leading ASCII digits of s[0..n). */
static size_t ndigits(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && text_c_digit((unsigned char)s[i])) i++;
    return i;
}

/* Matches a pattern where 'd' = digit, ' ' = space or 'T', others literal. */
static int match_shape(const char *s, size_t n, const char *shape)
{
    size_t i = 0;
    for (; shape[i]; i++) {
        if (i >= n) return 0;
        unsigned char c = (unsigned char)s[i];
        if (shape[i] == 'd') { if (!text_c_digit(c)) return 0; }
        else if (shape[i] == ' ') { if (c != ' ' && c != 'T') return 0; }
        else if ((char)c != shape[i]) return 0;
    }
    return 1;
}

static int is_log_level(const char *s, size_t n)
{
    static const text_name lv[] = {TEXT_NAME("INFO"),  TEXT_NAME("WARN"),  TEXT_NAME("WARNING"),
                                   TEXT_NAME("ERROR"), TEXT_NAME("DEBUG"), TEXT_NAME("TRACE"),
                                   TEXT_NAME("FATAL"), TEXT_NAME("SEVERE"), TEXT_NAME("CRITICAL"), {NULL, 0}};
    if (n && *s == '[') { s++; n--; }
    if (n < 4 || !memchr("IWEDTFSC", s[0], 8)) return 0;   /* the levels' first letters; all have >= 4 */
    for (int i = 0; lv[i].s; i++) {
        size_t m = lv[i].n;
        if (n >= m && memcmp(s, lv[i].s, m) == 0 &&
            (n == m || s[m] == ' ' || s[m] == ']' || s[m] == ':' || s[m] == '\t'))
            return 1;
    }
    return 0;
}

/* First word of s ends with suffix (optionally followed by ':'),
 * e.g. "java.io.IOException: boom", "KeyError: 'x'". */
static int first_word_is_exception(const char *s, size_t n)
{
    size_t w = 0;
    while (w < n && (is_ident((unsigned char)s[w]) || s[w] == '.')) w++;
    if (w < 6) return 0;
    int dotted = memchr(s, '.', w) != NULL;
    int tail_colon = w < n && s[w] == ':';
    int tail_paren = w < n && s[w] == '(';
    if (!(w == n || tail_colon || tail_paren || (dotted && s[w] == ' ')))
        return 0;
    if (w >= 9 && memcmp(s + w - 9, "Exception", 9) == 0) return dotted || tail_colon;
    if (w >= 5 && memcmp(s + w - 5, "Error", 5) == 0) return dotted || tail_colon;
    return 0;
}

/* A stack frame: "at org.foo.Bar.baz(Bar.java:12)", "at f (x.js:1:2)". */
static int is_at_frame(const char *s, size_t n)
{
    if (!starts_with(s, n, "at ")) return 0;
    size_t i = 3, st = 3;
    int dot = 0;
    while (i < n && (is_ident((unsigned char)s[i]) || s[i] == '.' || s[i] == '<' ||
                     s[i] == '>' || s[i] == '/')) {
        if (s[i] == '.') dot = 1;
        i++;
    }
    if (i == st) return 0;
    if (i < n && s[i] == ' ') i++;
    if (i >= n || s[i] != '(') return 0;
    if (dot) return 1;
    const char *close = memchr(s + i, ')', n - i);
    const char *colon = memchr(s + i, ':', n - i);
    return close && colon && colon < close && colon + 1 < s + n &&
           isdigit((unsigned char)colon[1]);
}

/* 1 when ".go:" occurs in s[0..n): text_has's answer, found by the ':'
 * (rarer in prose than the '.' text_has would stop at). */
static int has_go_path(const char *s, size_t n)
{
    for (size_t i = 3; i < n; i++) {
        const char *c = memchr(s + i, ':', n - i);
        if (!c) return 0;
        if (memcmp(c - 3, ".go", 3) == 0) return 1;
        i = (size_t)(c - s);
    }
    return 0;
}

/* Go: "main.(*T).Serve(0xc000010000, ...)" or "\t/app/server.go:42 +0x1d". */
static int is_go_frame(const char *s, size_t n)
{
    if (has_go_path(s, n) && (s[0] == '/' || memmem(s, n, " +0x", 4))) return 1;
    if (n < 5 || s[n - 1] != ')' || memchr(s, ' ', n) || !memchr(s, '.', n)) return 0;
    return memmem(s, n, "(0x", 3) || memmem(s, n, "(...)", 5) || (n > 3 && memcmp(s + n - 2, "()", 2) == 0 &&
                                                                   memmem(s, n, ".(", 2));
}

/* gdb: "#0  0x00007f in f (r=0x1) at x.c:12", "#1 0x12 in ??". */
static int is_gdb_frame(const char *s, size_t n)
{
    if (n <= 2 || !text_c_digit((unsigned char)s[1])) return 0;
    size_t d = 1 + ndigits(s + 1, n - 1);
    return d + 3 < n && s[d] == ' ' &&
           (memmem(s, n, " in ", 4) || starts_with(s + d, n - d, "  0x") || starts_with(s + d, n - d, " 0x"));
}

/* A timestamp that opens a log line, after a digit. */
static int is_log_time(const char *s, size_t n)
{
    return match_shape(s, n, "dddd-dd-dd dd:dd") || match_shape(s, n, "dd/dd/dd dd:dd") ||
           match_shape(s, n, "dd:dd:dd,ddd") || match_shape(s, n, "dd:dd:dd.ddd") ||
           match_shape(s, n, "dddd/dd/dd dd:dd");
}

/* The trace lines known by how they open: the first byte picks the one
 * check that can match (every prose line was asked them all, a strlen and
 * a memcmp each; the trace test was 10 % of the split's time). */
static int trace_opening(const char *s, size_t n)
{
    switch (s[0]) {
    case 'a': return is_at_frame(s, n);
    case 'C': return starts_with(s, n, "Caused by:");
    case 'T': return starts_with(s, n, "Traceback (most recent");
    case 'E': return starts_with(s, n, "Exception in thread");
    case 'g': return starts_with(s, n, "goroutine ");
    case '.': return starts_with(s, n, "... ") && n > 4 && text_c_digit((unsigned char)s[4]);
    case 'F': return starts_with(s, n, "File \"") && memmem(s, n, "\", line ", 8) != NULL;
    case '#': return is_gdb_frame(s, n);
    case '[': return match_shape(s, n, "[dddd-dd-dd");
    default: return text_c_digit((unsigned char)s[0]) && is_log_time(s, n);
    }
}

int text_line_is_trace(const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\t' || *s == '>')) { s++; n--; }
    while (n && text_c_space((unsigned char)s[n - 1])) n--;
    if (n == 0) return 0;
    return trace_opening(s, n) || is_go_frame(s, n) || is_log_level(s, n) || first_word_is_exception(s, n);
}

/* ---- inline processing of one prose line ------------------------------- */

static int is_url_start(const char *s, size_t n)
{
    switch (n ? s[0] : 0) {
    case 'h': return starts_with(s, n, "http://") || starts_with(s, n, "https://");
    case 'f': return starts_with(s, n, "ftp://");
    case 'w': return starts_with(s, n, "www.");
    default: return 0;
    }
}

static int is_html_tag(const char *s, size_t n, size_t *len)
{
    static const text_name tags[] = {
        TEXT_NAME("details"), TEXT_NAME("summary"), TEXT_NAME("br"), TEXT_NAME("p"), TEXT_NAME("img"),
        TEXT_NAME("a"), TEXT_NAME("sub"), TEXT_NAME("sup"), TEXT_NAME("b"), TEXT_NAME("i"), TEXT_NAME("em"),
        TEXT_NAME("strong"), TEXT_NAME("div"), TEXT_NAME("span"), TEXT_NAME("kbd"), TEXT_NAME("code"),
        TEXT_NAME("pre"), TEXT_NAME("hr"), TEXT_NAME("ul"), TEXT_NAME("ol"), TEXT_NAME("li"),
        TEXT_NAME("table"), TEXT_NAME("tr"), TEXT_NAME("td"), TEXT_NAME("th"), TEXT_NAME("h1"),
        TEXT_NAME("h2"), TEXT_NAME("h3"), TEXT_NAME("h4"), TEXT_NAME("blockquote"), {NULL, 0}};
    size_t i = 1;
    if (i < n && s[i] == '/') i++;
    size_t st = i;
    while (i < n && isalnum((unsigned char)s[i])) i++;
    if (i == st || i >= n) return 0;
    if (s[i] != '>' && s[i] != ' ' && s[i] != '/') return 0;
    if (!text_name_in(tags, s + st, i - st)) return 0;
    const char *gt = memchr(s + i, '>', n - i);
    if (!gt) return 0;
    *len = (size_t)(gt - s) + 1;
    return 1;
}

/* Jira image "!name.png!" or "!name.png|thumbnail!": returns its length. */
static size_t jira_image_len(const char *s, size_t n)
{
    if (n < 3 || s[0] != '!' || s[1] == ' ' || s[1] == '!') return 0;
    for (size_t i = 1; i < n && i < 300; i++) {
        if (s[i] == ' ' || s[i] == '\t') return 0;
        if (s[i] == '!') {
            const char *dot = memchr(s + 1, '.', i - 1);
            return dot ? i + 1 : 0;
        }
    }
    return 0;
}

/* The bytes that may open an inline construct: 1 always (code span,
 * {{mono}}, image, link, tag), 2 only at a word's start (a bare URL). */
static const unsigned char inline_opener[256] = {['`'] = 1, ['{'] = 1, ['!'] = 1, ['['] = 1, ['<'] = 1,
                                                 ['h'] = 2, ['f'] = 2, ['w'] = 2};

/* 1 when an inline construct may open at s[i]. */
static int opens_at(const char *s, size_t i, size_t n)
{
    unsigned char k = inline_opener[(unsigned char)s[i]];
    return k == 1 || (k == 2 && (i == 0 || !text_c_alnum((unsigned char)s[i - 1])) && is_url_start(s + i, n - i));
}

#ifdef __SSE2__
/* 0xff where v's byte is in [lo, lo + span] (unsigned), else 0. */
static __m128i bytes_in(__m128i v, char lo, char span)
{
    __m128i d = _mm_sub_epi8(v, _mm_set1_epi8(lo));
    return _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(span)), d);
}

/* The bytes of s[i..i+16) (i >= 1: it reads s[i - 1]) where opens_at may
 * say yes, a bit each: the bytes that always may, and 'h', 'f', 'w' that
 * follow no ASCII letter or digit. Those are rare; a mask of every 'h',
 * 'f' and 'w' stopped in most words, and was no faster than the byte loop
 * (this one: 6 % less of the split's time). */
static unsigned opener_mask(const char *s, size_t i)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
    __m128i before = _mm_loadu_si128((const __m128i *)(const void *)(s + i - 1));
    __m128i always = _mm_or_si128(_mm_or_si128(dp_eq8(v, '`'), dp_eq8(v, '{')),
                                  _mm_or_si128(dp_eq8(v, '!'), _mm_or_si128(dp_eq8(v, '['), dp_eq8(v, '<'))));
    __m128i url = _mm_or_si128(dp_eq8(v, 'h'), _mm_or_si128(dp_eq8(v, 'f'), dp_eq8(v, 'w')));
    __m128i alnum = _mm_or_si128(bytes_in(before, '0', 9),
                                 bytes_in(_mm_or_si128(before, _mm_set1_epi8(0x20)), 'a', 25));   /* ASCII letters */
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(always, _mm_andnot_si128(alnum, url)));
}
#endif

/* The end of the plain text from i (< n): the first byte of s[i..n) where
 * an inline construct may open, or n. Plain text is copied a run at a
 * time (a call a byte, sb_addc, was a third of the split's time), and
 * found sixteen bytes a step where SSE2 is (every x86-64). */
static size_t plain_run(const char *s, size_t i, size_t n)
{
#ifdef __SSE2__
    if (i == 0) {   /* opener_mask looks one byte back */
        if (opens_at(s, 0, n)) return 0;
        i = 1;
    }
    for (; i + 16 <= n; i += 16)
        for (unsigned m = opener_mask(s, i); m; m &= m - 1) {
            size_t j = i + (size_t)__builtin_ctz(m);
            if (opens_at(s, j, n)) return j;
        }
#endif
    while (i < n && !opens_at(s, i, n)) i++;
    return i;
}

/* Appends the prose of line s[0..n) to prose; code spans go to code. */
static void inline_line(const char *s, size_t n, sbuf *prose, sbuf *code)
{
    /* Headings: markdown '#' is punctuation for the tokenizer; Jira "h2. "
     * and "bq. " prefixes would become tokens, so drop them. */
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
    if (n - i >= 4 && s[i] == 'h' && s[i + 1] >= '1' && s[i + 1] <= '6' && s[i + 2] == '.' &&
        s[i + 3] == ' ')
        i += 4;
    else if (starts_with(s + i, n - i, "bq. "))
        i += 4;
    while (i < n) {
        size_t e = plain_run(s, i, n);
        if (e > i) {
            sb_add(prose, s + i, e - i);
            i = e;
            continue;
        }
        char c = s[i];
        size_t rest = n - i;
        if (c == '`') {
            size_t tick = 0;
            while (i + tick < n && s[i + tick] == '`') tick++;
            /* find closing run of the same length */
            size_t j = i + tick;
            while (j < n) {
                if (s[j] == '`') {
                    size_t t2 = 0;
                    while (j + t2 < n && s[j + t2] == '`') t2++;
                    if (t2 == tick) break;
                    j += t2;
                } else j++;
            }
            if (j < n) {
                sb_add(code, s + i + tick, j - i - tick);
                sb_addc(code, '\n');
                sb_addc(prose, ' ');
                i = j + tick;
                continue;
            }
            i += tick;
            continue;
        }
        if (c == '{' && rest > 4 && s[i + 1] == '{') {
            const char *end = memmem(s + i + 2, rest - 2, "}}", 2);
            if (end) {
                sb_add(code, s + i + 2, (size_t)(end - (s + i + 2)));
                sb_addc(code, '\n');
                sb_addc(prose, ' ');
                i = (size_t)(end - s) + 2;
                continue;
            }
        }
        if (c == '!' && rest > 1 && s[i + 1] == '[') {
            /* markdown image ![alt](url): dropped whole */
            const char *cb = memchr(s + i + 2, ']', rest - 2);
            if (cb && cb + 1 < s + n && cb[1] == '(') {
                const char *cp = memchr(cb, ')', (size_t)(s + n - cb));
                if (cp) { i = (size_t)(cp - s) + 1; sb_addc(prose, ' '); continue; }
            }
        }
        if (c == '!') {
            size_t l = jira_image_len(s + i, rest);
            if (l) { i += l; sb_addc(prose, ' '); continue; }
        }
        if (c == '[') {
            const char *cb = memchr(s + i + 1, ']', rest - 1);
            if (cb) {
                const char *txt = s + i + 1;
                size_t tl = (size_t)(cb - txt);
                if (cb + 1 < s + n && cb[1] == '(') {
                    /* markdown [text](url): keep text */
                    const char *cp = memchr(cb, ')', (size_t)(s + n - cb));
                    if (cp) {
                        sb_add(prose, txt, tl);
                        i = (size_t)(cp - s) + 1;
                        continue;
                    }
                }
                const char *bar = memchr(txt, '|', tl);
                if (bar) {   /* Jira [text|url] */
                    sb_add(prose, txt, (size_t)(bar - txt));
                    i = (size_t)(cb - s) + 1;
                    continue;
                }
                if (is_url_start(txt, tl)) {   /* Jira [url] */
                    i = (size_t)(cb - s) + 1;
                    continue;
                }
            }
        }
        if (c == '<') {
            size_t l;
            if (starts_with(s + i, rest, "<http")) {
                const char *gt = memchr(s + i, '>', rest);
                if (gt) { i = (size_t)(gt - s) + 1; continue; }
            }
            if (is_html_tag(s + i, rest, &l)) { i += l; sb_addc(prose, ' '); continue; }
        }
        if ((c == 'h' || c == 'f' || c == 'w') && (i == 0 || !text_c_alnum((unsigned char)s[i - 1])) &&
            is_url_start(s + i, rest)) {
            while (i < n && !isspace((unsigned char)s[i]) && s[i] != ')' && s[i] != ']' &&
                   s[i] != '>' && s[i] != '|')
                i++;
            sb_addc(prose, ' ');
            continue;
        }
        sb_addc(prose, c);
        i++;
    }
    sb_addc(prose, '\n');
}

/* ---- block state machine ------------------------------------------------ */

typedef struct split_state {
    char fence;          /* '`' or '~' while in a fenced block, else 0 */
    size_t fence_len;
    int jira;            /* 1 in {code}, 2 in {noformat} */
    int comment;         /* inside <!-- --> */
    int prev_blank;
    int prev_code;
    const text_template *tpl;
    sbuf prose, code;
    sbuf line;           /* split_line's scratch, kept from line to line (a malloc a line saved) */
} split_state;

/* Opening or closing code fence: up to 3 spaces, then >= 3 ` or ~. */
static int fence_of(const char *s, size_t n, char *ch, size_t *len)
{
    size_t i = 0;
    while (i < n && i < 3 && s[i] == ' ') i++;
    if (i >= n || (s[i] != '`' && s[i] != '~')) return 0;
    char c = s[i];
    size_t j = i;
    while (j < n && s[j] == c) j++;
    if (j - i < 3) return 0;
    *ch = c;
    *len = j - i;
    return 1;
}

int text_jira_marker(const char *s, size_t n, int *kind, size_t *len)
{
    /* {code}, {code:java}, {code:title=x|borderStyle=solid}, {noformat} */
    if (n < 6 || s[0] != '{') return 0;
    int k = 0;
    size_t i;
    if (starts_with(s, n, "{code")) { k = 1; i = 5; }
    else if (starts_with(s, n, "{noformat")) { k = 2; i = 9; }
    else if (starts_with(s, n, "{quote") || starts_with(s, n, "{panel") ||
             starts_with(s, n, "{color")) { k = 3; i = 6; }
    else return 0;
    if (i < n && s[i] != '}' && s[i] != ':') return 0;
    const char *cb = memchr(s + i, '}', n - i);
    if (!cb || cb - s > 200) return 0;
    *kind = k;
    *len = (size_t)(cb - s) + 1;
    return 1;
}

static int is_list_marker(const char *s, size_t n)
{
    if (n >= 2 && (s[0] == '-' || s[0] == '*' || s[0] == '+') && s[1] == ' ') return 1;
    size_t d = ndigits(s, n);
    return d > 0 && d + 1 < n && (s[d] == '.' || s[d] == ')') && s[d + 1] == ' ';
}

/* A line outside any block. */
static void prose_or_code_line(split_state *st, const char *s, size_t n)
{
    size_t ind = 0, col = 0;
    while (ind < n && (s[ind] == ' ' || s[ind] == '\t')) {
        col += s[ind] == '\t' ? 4 : 1;
        ind++;
    }
    if (ind == n) {
        sb_addc(&st->prose, '\n');
        st->prev_blank = 1;
        st->prev_code = 0;
        return;
    }
    if (text_line_is_trace(s, n)) {
        sb_add(&st->code, s, n);
        sb_addc(&st->code, '\n');
        st->prev_blank = 0;
        st->prev_code = 1;
        return;
    }
    if (st->tpl && text_template_is_boilerplate(st->tpl, s, n)) {
        st->prev_blank = 0;
        st->prev_code = 0;
        return;
    }
    if (col >= 4 && (st->prev_blank || st->prev_code) && !is_list_marker(s + ind, n - ind)) {
        sb_add(&st->code, s + ind, n - ind);
        sb_addc(&st->code, '\n');
        st->prev_blank = 0;
        st->prev_code = 1;
        return;
    }
    inline_line(s, n, &st->prose, &st->code);
    st->prev_blank = 0;
    st->prev_code = 0;
}

/* The bytes that may open a comment or a Jira block marker, for dp_scan_any. */
static const unsigned char marker_opener[256] = {['<'] = 1, ['{'] = 1};

/* Splits one physical line on Jira block markers and HTML comments. */
static void split_line(split_state *st, const char *s, size_t n)
{
    /* Fenced markdown block: everything to the closing fence is code. */
    char fc;
    size_t fl;
    if (st->fence) {
        if (fence_of(s, n, &fc, &fl) && fc == st->fence && fl >= st->fence_len) {
            size_t j = 0;
            while (j < n && (s[j] == ' ' || s[j] == st->fence)) j++;
            while (j < n && isspace((unsigned char)s[j])) j++;
            if (j == n) { st->fence = 0; return; }
        }
        sb_add(&st->code, s, n);
        sb_addc(&st->code, '\n');
        return;
    }
    if (!st->jira && !st->comment && fence_of(s, n, &fc, &fl)) {
        st->fence = fc;
        st->fence_len = fl;
        st->prev_code = 1;
        return;
    }
    /* Walk the line; segments outside comments/blocks are prose candidates. */
    size_t i = 0, seg = 0;
    sbuf out = st->line;
    out.len = 0;
    int had_marker = 0;
    while (i < n) {
        if (st->comment) {
            /* text_find, not memmem: every line of a comment or a {code}
             * block is searched for its end, and memmem's setup per line
             * cost more than the search (3 % of the split's time) */
            const char *e = text_find(s + i, n - i, "-->", 3);
            if (!e) { i = n; seg = n; break; }
            i = (size_t)(e - s) + 3;
            seg = i;
            st->comment = 0;
            continue;
        }
        if (st->jira) {
            const char *close = st->jira == 1 ? "{code}" : "{noformat}";
            size_t cl = strlen(close);
            const char *e = text_find(s + i, n - i, close, cl);
            size_t end = e ? (size_t)(e - s) : n;
            sb_add(&st->code, s + i, end - i);
            sb_addc(&st->code, '\n');
            if (!e) { i = n; seg = n; break; }
            st->jira = 0;
            i = end + cl;
            seg = i;
            had_marker = 1;
            continue;
        }
        /* most lines have neither '<' nor '{': skip 16 bytes a step */
        i = dp_scan_any((const unsigned char *)s, i, n, '<', '{', '<', '{', 0, marker_opener);
        if (i == n) break;
        int kind;
        size_t ml;
        if (s[i] == '<' && starts_with(s + i, n - i, "<!--")) {
            sb_add(&out, s + seg, i - seg);
            st->comment = 1;
            i += 4;
            seg = i;
            continue;
        }
        if (s[i] == '{' && text_jira_marker(s + i, n - i, &kind, &ml)) {
            sb_add(&out, s + seg, i - seg);
            sb_addc(&out, ' ');
            if (kind == 1 || kind == 2) {
                /* flush prose before the block, block starts after marker */
                if (out.len) prose_or_code_line(st, out.s, out.len);
                sb_reset(&out);
                st->jira = kind;
                had_marker = 1;
            }
            i += ml;
            seg = i;
            continue;
        }
        i++;
    }
    if (seg == 0) {   /* no comment, block or marker met: the line itself, not a copy */
        if (!st->comment) prose_or_code_line(st, s, n);   /* an empty line in a comment is no blank */
        return;
    }
    if (seg < n) sb_add(&out, s + seg, n - seg);
    /* A line eaten whole by a comment or a block marker is not a blank line
     * (it must not start an indented code block). */
    int blank = 1;
    for (size_t j = 0; j < out.len; j++)
        if (!isspace((unsigned char)out.s[j])) { blank = 0; break; }
    if (!blank || !(had_marker || seg > 0 || st->comment))
        prose_or_code_line(st, out.len ? out.s : "", out.len);
    st->line = out;
}

static void split_body(split_state *st, const char *body)
{
    const char *p = body;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        size_t m = n;
        if (m && p[m - 1] == '\r') m--;
        split_line(st, p, m);
        if (!nl) break;
        p = nl + 1;
    }
}

/* Appends sb's text to out with runs of blank lines dropped (so the
 * fields stay compact), and a NUL. The non-blank lines between two blank
 * ones are copied at once, not a copy a line (5 % of the split's time);
 * sb holds no NUL (its bytes come from a C string), so its length ends it
 * as a NUL did. The last line's missing '\n' need not be added: trailing
 * ones are cut anyway. */
static void squeeze_into(const sbuf *sb, sbuf *out)
{
    const char *p = sb_str(sb), *end = p + sb->len;
    const char *keep = p;   /* the non-blank lines not yet copied start here */
    size_t start = out->len;
    int blank_run = 1;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end, *next = nl ? nl + 1 : end, *q = p;
        while (q < eol && text_c_space((unsigned char)*q)) q++;
        if (q < eol) {
            blank_run = 0;
        } else {
            sb_add(out, keep, (size_t)(p - keep));
            if (!blank_run) sb_addc(out, '\n');
            blank_run = 1;
            keep = next;
        }
        p = next;
    }
    if (keep < end) sb_add(out, keep, (size_t)(end - keep));
    while (out->len > start && out->s[out->len - 1] == '\n') out->len--;
    sb_addc(out, '\0');
}

/* Appends s trimmed of white space at both ends, and a NUL. */
static void trimmed_into(const char *s, sbuf *out)
{
    if (!s) s = "";
    while (*s && isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) n--;
    sb_add(out, s, n);
    sb_addc(out, '\0');
}

/* Appends the labels, components and type, a line each, and a NUL. */
static void labels_into(const item *it, sbuf *out)
{
    size_t start = out->len;
    for (size_t i = 0; i < it->labels.n; i++) { sb_adds(out, it->labels.v[i]); sb_addc(out, '\n'); }
    for (size_t i = 0; i < it->components.n; i++) { sb_adds(out, it->components.v[i]); sb_addc(out, '\n'); }
    if (it->type && *it->type) { sb_adds(out, it->type); sb_addc(out, '\n'); }
    if (out->len > start) out->len--;
    sb_addc(out, '\0');
}

static size_t strlen0(const char *s) { return s ? strlen(s) : 0; }

/* The fields as one block: the text_fields, then each field's text, NUL
 * terminated, in field order. The block is sized for the unsqueezed text,
 * written once, then cut to its exact size (realloc shrinks in place). */
static text_fields *fields_block(const item *it, split_state *st)
{
    size_t cap = sizeof(text_fields) + strlen0(it->title) + st->prose.len + st->code.len + 2 * FIELD_COUNT + 8;
    for (size_t i = 0; i < it->labels.n; i++) cap += strlen0(it->labels.v[i]) + 1;
    for (size_t i = 0; i < it->components.n; i++) cap += strlen0(it->components.v[i]) + 1;
    cap += strlen0(it->type) + 1;
    sbuf b;
    b.s = xmalloc(cap);
    b.cap = cap;
    b.len = sizeof(text_fields);
    size_t off[FIELD_COUNT];
    off[FIELD_TITLE] = b.len;
    trimmed_into(it->title, &b);
    off[FIELD_PROSE] = b.len;
    squeeze_into(&st->prose, &b);
    off[FIELD_CODE] = b.len;
    squeeze_into(&st->code, &b);
    off[FIELD_LABELS] = b.len;
    labels_into(it, &b);
    text_fields *c = xrealloc(b.s, b.len);
    for (int f = 0; f < FIELD_COUNT; f++) c->f[f] = (char *)c + off[f];
    return c;
}

/* The body split into st's prose and code. */
static void split_run(const item *it, const text_template *tpl, split_state *st)
{
    memset(st, 0, sizeof *st);
    st->tpl = tpl;
    st->prev_blank = 1;
    if (it->body) split_body(st, it->body);
    sb_free(&st->line);
}

text_fields *text_split_compact(const item *it, const text_template *tpl)
{
    split_state st;
    split_run(it, tpl, &st);
    text_fields *c = fields_block(it, &st);
    sb_free(&st.prose);
    sb_free(&st.code);
    return c;
}

void text_split(const item *it, const text_template *tpl, text_fields *out)
{
    text_fields *c = text_split_compact(it, tpl);
    for (int f = 0; f < FIELD_COUNT; f++) out->f[f] = xstrdup(c->f[f]);
    free(c);
}
