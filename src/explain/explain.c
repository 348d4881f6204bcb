/* explain.c -- reasoning sentences and the suggested comment for one pair.
 *
 * Evidence comes in order of strength: links already in the tracker, shared
 * exceptions, stack frames, error lines and file paths (text_signals), the
 * rarest words both items use (index document frequencies), shared labels and
 * versions, states and dates, and finally which ranking features moved the
 * model's score. Each sentence is plain text; identifiers are `quoted`.
 * The value is computed in value.c. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "explain.h"
#include "../common/hashmap.h"

#define MAX_LIST 3          /* identifiers listed per sentence */
#define MAX_RARE 4          /* rare shared terms listed */
#define SHARED_SCAN 64      /* shared terms examined for rare ones */
#define SURFACE_SCAN 65536  /* bytes of a field searched for a term's spelling */
#define MAX_EVIDENCE 8

/* sb_add, sb_adds and sb_addc inlined while the buffer has room (it has
 * nearly always: the texts start with room for a pair's usual length):
 * a pair's explanation appends some hundred short pieces, most of them
 * literals whose length the compiler then knows. Same bytes as sb_add. */
static inline void x_add(sbuf *sb, const char *p, size_t n)
{
    if (sb->len + n + 1 > sb->cap) {
        sb_add(sb, p, n);
        return;
    }
    memcpy(sb->s + sb->len, p, n);
    sb->len += n;
    sb->s[sb->len] = '\0';
}

static inline void x_adds(sbuf *sb, const char *s)
{
    if (s) x_add(sb, s, strlen(s));
}

static inline void x_addc(sbuf *sb, char c) { x_add(sb, &c, 1); }

/* ---- linkset ---------------------------------------------------------- */

/* A pair's entry, found by its hash: the binary search compares 64-bit
 * numbers in the array, not the keys' strings, which lie all over the heap
 * (at 250k items, 68k links: some 16 probes a pair, each a cache miss or
 * two, for pairs that are nearly all unlinked). The strings are compared
 * only where the hash matches. */
typedef struct ls_entry {
    uint64_t h;          /* ls_hash(a, b) */
    const char *a, *b;   /* a <= b (strcmp) */
    size_t idx;
} ls_entry;

struct explain_linkset {
    ls_entry *e;
    size_t n;
    size_t nlinks;   /* links[0, nlinks) were added */
};

/* The hash of the unordered pair {a, b}: the same either way round, so a
 * lookup needs no strcmp to order its keys. */
static uint64_t ls_hash(const char *a, const char *b)
{
    uint64_t ha = dp_hash_str(a), hb = dp_hash_str(b);
    uint64_t two[2] = {ha < hb ? ha : hb, ha < hb ? hb : ha};
    return dp_hash(two, sizeof two);
}

static int ls_pair_cmp(const ls_entry *p, const ls_entry *q)
{
    int c = strcmp(p->a, q->a);
    return c ? c : strcmp(p->b, q->b);
}

/* By hash, then by pair (a hash shared by two pairs keeps each pair's
 * entries together), then a pair's links in array order. */
static int ls_cmp(const void *x, const void *y)
{
    const ls_entry *p = x, *q = y;
    if (p->h != q->h) return p->h < q->h ? -1 : 1;
    int c = ls_pair_cmp(p, q);
    return c ? c : (p->idx > q->idx) - (p->idx < q->idx);
}

/* Appends the entries of links[from, to) to e (room for them), returns
 * how many: a link without both keys has none. */
static size_t ls_entries(ls_entry *e, const item_link *links, size_t from, size_t to)
{
    size_t n = 0;
    for (size_t i = from; i < to; i++) {
        const char *s = links[i].src_key, *d = links[i].dst_key;
        if (!s || !d) continue;
        int lt = strcmp(s, d) <= 0;
        e[n++] = (ls_entry){ls_hash(s, d), lt ? s : d, lt ? d : s, i};
    }
    return n;
}

explain_linkset *explain_linkset_new(const item_link *links, size_t nlinks)
{
    explain_linkset *ls = xcalloc(1, sizeof *ls);
    ls->e = xcalloc(nlinks ? nlinks : 1, sizeof *ls->e);
    ls->n = ls_entries(ls->e, links, 0, nlinks);
    ls->nlinks = nlinks;
    qsort(ls->e, ls->n, sizeof *ls->e, ls_cmp);
    return ls;
}

void explain_linkset_grow(explain_linkset *ls, const item_link *links, size_t nlinks)
{
    if (nlinks <= ls->nlinks) return;
    ls_entry *add = xmalloc((nlinks - ls->nlinks) * sizeof *add);
    size_t na = ls_entries(add, links, ls->nlinks, nlinks);
    qsort(add, na, sizeof *add, ls_cmp);
    /* merge from the back into the grown array: the order one sort of
     * all the links would give */
    ls->e = xrealloc(ls->e, (ls->n + na ? ls->n + na : 1) * sizeof *ls->e);
    size_t i = ls->n, j = na, k = ls->n + na;
    while (j > 0) {
        if (i > 0 && ls_cmp(&ls->e[i - 1], &add[j - 1]) > 0) ls->e[--k] = ls->e[--i];
        else ls->e[--k] = add[--j];
    }
    ls->n += na;
    ls->nlinks = nlinks;
    free(add);
}

void explain_linkset_free(explain_linkset *ls)
{
    if (!ls) return;
    free(ls->e);
    free(ls);
}

size_t explain_linkset_find(const explain_linkset *ls, const char *a, const char *b, size_t *out,
                            size_t max)
{
    if (!ls->n) return 0;
    uint64_t h = ls_hash(a, b);
    size_t lo = 0, hi = ls->n;
    while (lo < hi) {   /* first entry of hash >= h */
        size_t mid = lo + (hi - lo) / 2;
        if (ls->e[mid].h < h) lo = mid + 1;
        else hi = mid;
    }
    if (lo == ls->n || ls->e[lo].h != h) return 0;   /* nearly every pair */
    if (strcmp(a, b) > 0) {
        const char *t = a;
        a = b;
        b = t;
    }
    ls_entry key = {h, a, b, 0};
    size_t n = 0;
    for (size_t i = lo; i < ls->n && ls->e[i].h == h; i++)
        if (ls_pair_cmp(&ls->e[i], &key) == 0) {   /* a's entries are adjacent, in array order */
            if (n < max) out[n] = ls->e[i].idx;
            n++;
        }
    return n;
}

/* Links between the two items, from the linkset or by scanning. */
static size_t links_between(const explain_input *in, const char *a, const char *b, size_t *out,
                            size_t max)
{
    if (in->linkset) return explain_linkset_find(in->linkset, a, b, out, max);
    size_t n = 0;
    for (size_t i = 0; i < in->nlinks; i++) {
        const item_link *l = &in->links[i];
        if (!l->src_key || !l->dst_key) continue;
        if ((!strcmp(l->src_key, a) && !strcmp(l->dst_key, b)) ||
            (!strcmp(l->src_key, b) && !strcmp(l->dst_key, a))) {
            if (n < max) out[n] = i;
            n++;
        }
    }
    return n;
}

/* ---- small formatting helpers ---------------------------------------- */

/* sb_printf's bytes in one formatting pass: sb_printf measures with
 * vsnprintf and formats again (two passes), and a pair's explanation
 * formats a dozen short pieces. A piece longer than the stack buffer takes
 * sb_printf's way. */
static void x_printf(sbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void x_printf(sbuf *sb, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof buf) {
        x_add(sb, buf, (size_t)n);
        return;
    }
    va_start(ap, fmt);
    sb_vprintf(sb, fmt, ap);
    va_end(ap);
}

/* An empty sbuf with room for cap bytes and the NUL: the texts of a pair
 * are some hundreds of bytes, which sb_add's doubling from 64 reached in
 * four reallocations. */
static void sb_init_cap(sbuf *sb, size_t cap)
{
    sb->s = xmalloc(cap + 1);
    sb->s[0] = '\0';
    sb->len = 0;
    sb->cap = cap + 1;
}

const char *explain_date(int64_t t, char buf[EXPLAIN_DATE_MAX])
{
    /* days since 1970-01-01 to a civil date (proleptic Gregorian, as
     * gmtime), by 400-year eras; H. Hinnant's days_from_civil inverted */
    int64_t days = t / 86400 - (t % 86400 < 0);
    int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);
    if (y < 1000 || y > 9999) {   /* strftime's %Y is not 4 digits there */
        dp_format_date(t, buf, EXPLAIN_DATE_MAX);
        return buf;
    }
    for (int i = 3; i >= 0; i--, y /= 10) buf[i] = (char)('0' + y % 10);
    buf[4] = '-';
    buf[5] = (char)('0' + m / 10);
    buf[6] = (char)('0' + m % 10);
    buf[7] = '-';
    buf[8] = (char)('0' + d / 10);
    buf[9] = (char)('0' + d % 10);
    buf[10] = '\0';
    return buf;
}

const char *explain_ref(const char *key, char *buf, size_t n)
{
    int numeric = key && *key;
    for (const char *p = key; numeric && *p; p++)
        if (!isdigit((unsigned char)*p)) numeric = 0;
    /* what snprintf "%s%s" writes, cut to n bytes the same way, without
     * it: two or three refs a pair */
    if (!n) return buf;
    const char *s = key ? key : "?";
    size_t o = 0;
    if (numeric && o + 1 < n) buf[o++] = '#';
    size_t len = strlen(s);
    if (len > n - 1 - o) len = n - 1 - o;
    memcpy(buf + o, s, len);
    buf[o + len] = '\0';
    return buf;
}

/* 11862 -> "11,862" */
void explain_fmt_count(size_t v, char *buf, size_t n)
{
    char tmp[32];   /* "%zu" by hand: a count or two a pair */
    int len = 0;
    do {
        tmp[sizeof tmp - 1 - len++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    memmove(tmp, tmp + sizeof tmp - len, (size_t)len);
    size_t o = 0;
    for (int i = 0; i < len && o + 1 < n; i++) {
        if (i > 0 && (len - i) % 3 == 0 && o + 2 < n) buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = '\0';
}

/* Appends s as inline code, dropping backticks and newlines (hostile text
 * must not break out of the span) and cutting it at max bytes. */
void explain_add_code(sbuf *sb, const char *s, size_t max)
{
    /* a piece at a time from a stack buffer: sb_addc a byte cost a call,
     * a growth check and a memcpy */
    char buf[128];
    size_t k = 0, n = 0;
    const char *p = s;
    x_addc(sb, '`');
    for (; *p && n < max; p++, n++) {
        char ch = *p;
        if (ch == '`') ch = '\'';
        if (ch == '\n' || ch == '\r' || ch == '\t') ch = ' ';
        buf[k++] = ch;
        if (k == sizeof buf) x_add(sb, buf, k), k = 0;
    }
    x_add(sb, buf, k);
    if (*p) {   /* cut at max bytes (strlen(s) > max) */
        /* do not leave half a UTF-8 sequence behind */
        while (sb->len > 1 && ((unsigned char)sb->s[sb->len - 1] & 0xC0) == 0x80) sb->len--;
        if (sb->len > 1 && ((unsigned char)sb->s[sb->len - 1] & 0x80)) sb->len--;
        sb->s[sb->len] = '\0';
        x_adds(sb, "...");
    }
    x_addc(sb, '`');
}

/* Whether markdown needs c escaped in a title: one of \`*_[]<>|~ (not
 * the NUL that strchr would find in its set). */
static int md_special(unsigned char c)
{
    switch (c) {
    case '\\': case '`': case '*': case '_': case '[': case ']': case '<': case '>': case '|': case '~':
        return 1;
    default:
        return 0;
    }
}

/* Appends a title for markdown: one line, markdown punctuation escaped. */
void explain_add_md_title(sbuf *sb, const char *s)
{
    char buf[256];   /* flushed before a byte and its escape could overflow it */
    size_t k = 0, n = 0;
    for (const char *p = s ? s : ""; *p && n < 200; p++, n++) {
        if (md_special((unsigned char)*p)) buf[k++] = '\\';
        buf[k++] = (*p == '\n' || *p == '\r') ? ' ' : *p;
        if (k + 2 > sizeof buf) x_add(sb, buf, k), k = 0;
    }
    x_add(sb, buf, k);
}

static void add_list(sbuf *sb, const strvec *v, size_t max_len)
{
    size_t show = v->n < MAX_LIST ? v->n : MAX_LIST;
    for (size_t i = 0; i < show; i++) {
        if (i) x_adds(sb, i + 1 == show && v->n <= MAX_LIST ? " and " : ", ");
        explain_add_code(sb, v->v[i], max_len);
    }
    if (v->n > MAX_LIST) x_printf(sb, " (%zu in all)", v->n);
}

/* A strvec of borrowed strings: ref_push adds a pointer, ref_free frees
 * the array only. The lists compared below (labels, signals) are the
 * items' own strings, which outlive the pair's explanation; copying each
 * cost a malloc and a free. */
static void ref_push(strvec *v, const char *s)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 8;
        v->v = xrealloc(v->v, v->cap * sizeof *v->v);
    }
    v->v[v->n++] = (char *)s;   /* never written through nor freed (ref_free) */
}

static void ref_free(strvec *v)
{
    free(v->v);
    v->v = NULL;
    v->n = v->cap = 0;
}

/* Strings in both a and b (exact match), in a's order, without repeats;
 * out borrows them (ref_push). */
static void sv_common(const strvec *a, const strvec *b, strvec *out)
{
    for (size_t i = 0; i < a->n; i++)
        if (sv_contains(b, a->v[i]) && !sv_contains(out, a->v[i])) ref_push(out, a->v[i]);
}

/* The same ignoring ASCII case; out borrows a's strings. */
static void sv_common_ci(const strvec *a, const strvec *b, strvec *out)
{
    for (size_t i = 0; i < a->n; i++)
        for (size_t j = 0; j < b->n; j++)
            if (!strcasecmp(a->v[i], b->v[j]) && !sv_contains(out, a->v[i])) {
                ref_push(out, a->v[i]);
                break;
            }
}

/* ---- a term's spelling in the text ------------------------------------ */

/* tolower of the C locale (doppel never calls setlocale): only A-Z move. */
static inline unsigned char x_lower(unsigned char c) { return (unsigned)(c - 'A') < 26 ? c + ('a' - 'A') : c; }

static int word_char(unsigned char ch) { return isalnum(ch) || ch == '_' || ch >= 0x80; }
static int join_char(unsigned char ch) { return ch == '.' || ch == '/' || ch == '-' || ch == ':'; }

/* Does the word w[0..n) spell the (folded, stemmed) term t? The stemmer
 * only cuts suffixes (and turns a final y into i), so the folded word must
 * start with the stem and be at most a few bytes longer. */
static int spells(const char *w, size_t n, const char *t, size_t tn)
{
    if (n < tn || n > tn + 5) return 0;
    for (size_t i = 0; i < tn; i++) {
        unsigned char a = x_lower((unsigned char)w[i]), b = (unsigned char)t[i];
        if (a == b) continue;
        if (i + 1 == tn && b == 'i' && a == 'y') continue;
        return 0;
    }
    return 1;
}

/* 1 when a word or a part of one (see explain_find_spelling) starts at p:
 * s[p] is a word character and s[p - 1] is none. */
static int part_start(const char *s, size_t p)
{
    return word_char((unsigned char)s[p]) && (p == 0 || !word_char((unsigned char)s[p - 1]));
}

/* 1 when part start p also starts a whole word: the join character before
 * it (if any) belongs to no word, as it follows none. */
static int word_start(const char *s, size_t p)
{
    return !(p >= 2 && join_char((unsigned char)s[p - 1]) && word_char((unsigned char)s[p - 2]));
}

/* The next position in [from, len) whose byte is one of the n bytes b,
 * len when none; next[k] caches where b[k] comes next (fresh: nothing
 * cached yet). memchr, not a byte loop: a field is up to SURFACE_SCAN
 * bytes and most of its words cannot spell the term. */
static size_t next_first(const char *s, size_t from, size_t len, const unsigned char *b, size_t *next,
                         size_t n, int fresh)
{
    size_t at = len;
    for (size_t k = 0; k < n; k++) {
        if (fresh || next[k] < from) {
            const char *f = from < len ? memchr(s + from, b[k], len - from) : NULL;
            next[k] = f ? (size_t)(f - s) : len;
        }
        if (next[k] < at) at = next[k];
    }
    return at;
}

int explain_has_ci(const char *hay, const char *needle)
{
    size_t nn = strlen(needle);
    if (!nn) return 1;
    unsigned char first[2] = {(unsigned char)tolower((unsigned char)needle[0]),
                              (unsigned char)toupper((unsigned char)needle[0])};
    size_t nfirst = first[0] == first[1] ? 1 : 2, hn = strlen(hay), next[2];
    if (hn < nn) return 0;
    size_t last = hn - nn;   /* the last place the needle can start */
    /* the next place either case of the first byte stands, each searched
     * again only once passed (a rare one is not searched to the end each
     * time the other is found) */
    for (size_t p = next_first(hay, 0, last + 1, first, next, nfirst, 1); p <= last;
         p = next_first(hay, p + 1, last + 1, first, next, nfirst, 0))
        if (!strncasecmp(hay + p + 1, needle + 1, nn - 1)) return 1;
    return 0;
}

/* Whether h[0, n) folds (x_lower) to w[0, n). */
static int fold_eq(const char *h, const char *w, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (x_lower((unsigned char)h[k]) != (unsigned char)w[k]) return 0;
    return 1;
}

const char *explain_memmem_ci(const char *h, size_t hn, const char *w, size_t wn)
{
    if (!wn) return h;
    if (wn > hn) return NULL;
    size_t last = hn - wn, i = 0;   /* the last place w can start */
    unsigned char w0 = (unsigned char)w[0];
#ifdef __SSE2__
    /* sixteen starts a step: those where w's first and last bytes both
     * stand, then w compared (glibc's memmem, on a folded copy, set up 256
     * bytes a call, once for each place a term's stem stands). A
     * lower-case letter of w stands for itself and its capital, which
     * differ only in the case bit (0x20): the bytes are compared with it
     * set. No other byte folds to a letter, and one that is none folds to
     * itself only. */
    unsigned char wl = (unsigned char)w[wn - 1];
    const __m128i first = _mm_set1_epi8((char)w0), lastb = _mm_set1_epi8((char)wl);
    const __m128i fcase = _mm_set1_epi8((unsigned)(w0 - 'a') < 26 ? 0x20 : 0);
    const __m128i lcase = _mm_set1_epi8((unsigned)(wl - 'a') < 26 ? 0x20 : 0);
    for (; i + 15 <= last; i += 16) {
        __m128i a = _mm_or_si128(_mm_loadu_si128((const __m128i *)(const void *)(h + i)), fcase);
        __m128i b = _mm_or_si128(_mm_loadu_si128((const __m128i *)(const void *)(h + i + wn - 1)), lcase);
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, first), _mm_cmpeq_epi8(b, lastb)));
        for (; m; m &= m - 1) {   /* all of w again: an upper-case w[0] matched itself */
            size_t at = i + (size_t)__builtin_ctz(m);
            if (fold_eq(h + at, w, wn)) return h + at;
        }
    }
#endif
    for (; i <= last; i++)
        if (x_lower((unsigned char)h[i]) == w0 && fold_eq(h + i + 1, w + 1, wn - 1)) return h + i;
    return NULL;
}

/* The words of s are its runs of word characters, with a join character
 * kept when a word character follows it ("a.b/c"); a word's parts are its
 * runs between join characters. A word or a part spells t (spells) only
 * where its first byte folds to t's, so only those places are looked at.
 * Of the words and parts spelling t, the shortest wins, the first of
 * those; a whole word before the part at its start (the longer one, or the
 * same text). */
/* Whether the word or part at p (part_start) is the best spelling of t
 * yet (*bestp, *best); 1 when it spells t exactly: nothing later is
 * shorter. */
static int consider(const char *s, size_t len, size_t p, const char *t, size_t tn, const char **bestp, size_t *best)
{
    if (!part_start(s, p)) return 0;
    size_t q = p;   /* the part: up to the first join (or other non-word) character */
    while (q < len && q - p <= tn + 5 && word_char((unsigned char)s[q])) q++;
    size_t j = q;   /* the word, when p starts one: on over joins followed by word characters */
    if (word_start(s, p))
        while (j < len && j - p <= tn + 5 &&
               (word_char((unsigned char)s[j]) ||
                (join_char((unsigned char)s[j]) && j + 1 < len && word_char((unsigned char)s[j + 1]))))
            j++;
    else
        j = p;   /* no whole word here */
    if (j > p && spells(s + p, j - p, t, tn) && (!*bestp || j - p < *best)) {
        *bestp = s + p;
        *best = j - p;
    }
    if (spells(s + p, q - p, t, tn) && (!*bestp || q - p < *best)) {
        *bestp = s + p;
        *best = q - p;
    }
    return *bestp && *best == tn;
}

/* explain_find_spelling in s's first len bytes (len <= SURFACE_SCAN, no NUL
 * before it). A word spells t only if it starts with t's first tn - 1
 * bytes folded (spells), so only the places explain_memmem_ci finds them
 * are looked at -- the same places in the same order as by the first byte,
 * less the ones that cannot spell t. */
static int find_spelling_n(const char *s, size_t len, const char *t, char *out, size_t outn)
{
    size_t tn = strlen(t), best = 0;
    const char *bestp = NULL;
    if (!tn) return 0;
    if (tn >= 2) {
        for (const char *h = explain_memmem_ci(s, len, t, tn - 1); h && !consider(s, len, (size_t)(h - s), t, tn, &bestp, &best);
             h = explain_memmem_ci(h + 1, len - (size_t)(h + 1 - s), t, tn - 1))
            ;
    } else {
        /* the bytes a first letter of t may be written as: either case,
         * and a y for a one-letter "i" (spells) */
        unsigned char c0 = (unsigned char)t[0], first[4];
        size_t nfirst = 0;
        if (tolower(c0) == c0) first[nfirst++] = c0;   /* an upper-case one folds to nothing */
        if (toupper(c0) != c0) first[nfirst++] = (unsigned char)toupper(c0);
        if (tn == 1 && c0 == 'i') {
            first[nfirst++] = 'y';
            first[nfirst++] = 'Y';
        }
        size_t next[4];
        for (size_t k = 0; k < nfirst; k++) next[k] = 0;
        for (size_t p = next_first(s, 0, len, first, next, nfirst, 1);
             p < len && !consider(s, len, p, t, tn, &bestp, &best); p = next_first(s, p + 1, len, first, next, nfirst, 0))
            ;
    }
    if (!bestp || best + 1 > outn) return 0;
    memcpy(out, bestp, best);
    out[best] = '\0';
    return 1;
}

int explain_find_spelling(const char *s, const char *t, char *out, size_t outn)
{
    return find_spelling_n(s, strnlen(s, SURFACE_SCAN), t, out, outn);
}


/* A doc's fields, asked for when first needed: most spellings are found
 * in the query's text, and when the index does not keep the fields
 * (--max-memory) each ask splits the doc again (index_doc_fields). */
typedef struct lazy_fields {
    const dindex *ix;
    uint32_t doc;
    const text_fields *tf;   /* once done (NULL: none) */
    int done;
    unsigned measured;       /* bit f: len[f] is known (lf_len) */
    size_t len[FIELD_COUNT];
} lazy_fields;

static const text_fields *lf_get(lazy_fields *l)
{
    if (!l->done) {
        l->tf = index_doc_fields(l->ix, l->doc);
        l->done = 1;
    }
    return l->tf;
}

/* The searched length of field f (lf_get done, the field there), measured
 * once a pair rather than once for every term looked up in it. */
static size_t lf_len(lazy_fields *l, text_field f)
{
    if (!(l->measured >> f & 1)) {
        l->len[f] = strnlen(l->tf->f[f], SURFACE_SCAN);
        l->measured |= 1u << f;
    }
    return l->len[f];
}

static int spelling_in_doc(lazy_fields *l, const char *t, char *out, size_t n)
{
    const text_fields *tf = lf_get(l);
    if (!tf) return 0;
    static const text_field order[] = {FIELD_TITLE, FIELD_PROSE, FIELD_CODE};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (tf->f[order[i]] &&
            find_spelling_n(tf->f[order[i]], lf_len(l, order[i]), t, out, n))
            return 1;
    return 0;
}

/* 1 when phrase (lower, its folded copy, n bytes) occurs verbatim
 * (ignoring case) in one of the doc's fields: what explain_has_ci answers,
 * by explain_memmem_ci in the field's first lf_len bytes; a field longer
 * than that (SURFACE_SCAN bytes) is searched whole by explain_has_ci, and
 * every field when lower is NULL. */
static int phrase_in_doc(lazy_fields *l, const char *phrase, const char *lower, size_t n)
{
    const text_fields *tf = lf_get(l);
    if (!tf) return 0;
    for (int f = 0; f < FIELD_COUNT; f++) {
        if (!tf->f[f]) continue;
        size_t len = lf_len(l, (text_field)f);
        if (lower && len < SURFACE_SCAN ? explain_memmem_ci(tf->f[f], len, lower, n) != NULL
                                        : explain_has_ci(tf->f[f], phrase))
            return 1;
    }
    return 0;
}

/* How term t reads in either document; bigrams "a b" word by word. */
static int term_spelling(lazy_fields *qd, lazy_fields *cd, const char *t, char *out, size_t n)
{
    const char *sp = strchr(t, ' ');
    if (sp) {
        char first[128], a[128], b[128];
        size_t fl = (size_t)(sp - t);
        if (fl >= sizeof first) return 0;
        memcpy(first, t, fl);
        first[fl] = '\0';
        if (!term_spelling(qd, cd, first, a, sizeof a) ||
            !term_spelling(qd, cd, sp + 1, b, sizeof b))
            return 0;
        int len = snprintf(out, n, "%s %s", a, b);
        if (len >= (int)n) return 0;
        /* quoted as a phrase only when someone wrote it so: the two words
         * of a bigram may stand apart, with stop words between them */
        char fold[256], *lower = (size_t)len < sizeof fold ? fold : NULL;
        for (int i = 0; lower && i <= len; i++) lower[i] = (char)tolower((unsigned char)out[i]);
        return phrase_in_doc(qd, out, lower, (size_t)len) || phrase_in_doc(cd, out, lower, (size_t)len);
    }
    if (strlen(t) < 3 || strchr(t, '<')) return 0;   /* too short, or a masked number */
    return spelling_in_doc(qd, t, out, n) || spelling_in_doc(cd, t, out, n);
}

/* 1 when the term occurs in a doc (its terms dt) only through its labels
 * field: labels are reported in their own sentence. */
static int label_only(const index_doc_terms *dt, uint32_t term)
{
    size_t lo = 0, hi = dt->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (dt->terms[mid] < term) lo = mid + 1;
        else hi = mid;
    }
    if (lo >= dt->n || dt->terms[lo] != term) return 0;
    for (int f = 0; f < FIELD_COUNT; f++)
        if (f != FIELD_LABELS && dt->tf[lo][f]) return 0;
    return 1;
}

/* ---- the sentences ----------------------------------------------------- */

typedef struct ctx {
    const explain_input *in;
    const item *q, *c;
    /* the query's side: an indexed doc's from the index, a new issue's
     * from in->mq and its own split (own_qf) */
    lazy_fields qf, cf;
    const text_signals *qsig;
    index_doc_terms qt;
    text_fields own_qf;
    int has_own_qf;
    char qref[64], cref[64];
    sbuf rs;            /* reasoning */
    uint32_t shared[SHARED_SCAN];   /* terms both docs contain, highest idf first */
    size_t nshared;
    char total[32];     /* number of documents, "11,862" */
    strvec evidence;    /* short phrases for the comment: "both report `X`" */
    strvec mentioned;   /* lower-cased identifiers already named */
} ctx;

static void sentence_end(ctx *x) { x_adds(&x->rs, ".\n"); }

static void mention(ctx *x, const strvec *v)
{
    for (size_t i = 0; i < v->n; i++) {
        char *l = xstrdup(v->v[i]);
        for (char *p = l; *p; p++) *p = (char)tolower((unsigned char)*p);
        sv_push_owned(&x->mentioned, l);
    }
}

static int was_mentioned(const ctx *x, const char *s)
{
    for (size_t i = 0; i < x->mentioned.n; i++)
        if (!strcasecmp(x->mentioned.v[i], s)) return 1;
    return 0;
}

/* Like was_mentioned, but also when one contains the other ("array" after
 * "array nesting"): a bigram and its words say the same thing. */
static int overlaps_mentioned(const ctx *x, const char *s)
{
    for (size_t i = 0; i < x->mentioned.n; i++)
        if (explain_has_ci(x->mentioned.v[i], s) || explain_has_ci(s, x->mentioned.v[i])) return 1;
    return 0;
}

static const char *link_source_words(const char *src)
{
    if (!src) return "the tracker";
    if (!strcmp(src, "state_reason")) return "its close reason";
    if (!strcmp(src, "body")) return "its description";
    if (!strcmp(src, "comment")) return "a comment";
    if (!strncmp(src, "jira:", 5)) return "a Jira issue link";
    return src;
}

/* Links already in the tracker; returns 2 when one marks a duplicate, 1
 * when they are linked otherwise, 0 when not at all. */
static int say_links(ctx *x)
{
    size_t idx[8];
    size_t n = links_between(x->in, x->q->key, x->c->key, idx, 8);
    if (n > 8) n = 8;
    int known = 0;
    for (size_t i = 0; i < n; i++) {
        const item_link *l = &x->in->links[idx[i]];
        char s[64], d[64];
        explain_ref(l->src_key, s, sizeof s);
        explain_ref(l->dst_key, d, sizeof d);
        const char *how = link_source_words(l->source);
        if (!known) known = 1;
        if (l->type == LINK_DUPLICATE) {
            known = 2;
            x_printf(&x->rs, "Already linked: %s is marked as a duplicate of %s (in %s)", s, d, how);
            sv_push_owned(&x->evidence, xasprintf("%s was already marked as a duplicate of %s", s, d));
        } else if (l->type == LINK_FIXES) {
            x_printf(&x->rs, "%s says it fixes %s (in %s)", s, d, how);
            sv_push_owned(&x->evidence, xasprintf("%s says it fixes %s", s, d));
        } else {
            x_printf(&x->rs, "%s refers to %s (in %s)", s, d, how);
            sv_push_owned(&x->evidence, xasprintf("%s already refers to %s", s, d));
        }
        sentence_end(x);
    }
    return known;
}

/* Drops error lines that only repeat an exception already named
 * ("java.util.ConcurrentModificationException" after the exception). */
static void drop_named(const ctx *x, strvec *v)
{
    size_t o = 0;
    for (size_t i = 0; i < v->n; i++) {
        const char *e = v->v[i], *dot = strrchr(e, '.');
        const char *last = dot && dot[1] ? dot + 1 : e;
        if (!strpbrk(e, " :") && was_mentioned(x, last)) continue;   /* borrowed (sv_common) */
        v->v[o++] = v->v[i];
    }
    v->n = o;
}

/* Document frequency of a word both items use (0 when not a shared term). */
static uint32_t word_df(const ctx *x, const char *word)
{
    for (size_t i = 0; i < x->nshared; i++) {
        const char *t = index_term_str(x->in->ix, x->shared[i]);
        if (!strchr(t, ' ') && spells(word, strlen(word), t, strlen(t)))
            return index_df(x->in->ix, x->shared[i]);
    }
    return 0;
}

/* Shared exceptions, stack frames, error lines and paths. */
static void say_signals(ctx *x)
{
    const text_signals *a = x->qsig;
    const text_signals *b = index_doc_signals(x->in->ix, x->in->cdoc);
    if (!a || !b) return;
    strvec v = {0};
    sbuf ph;
    sb_init(&ph);

    sv_common(&a->exceptions, &b->exceptions, &v);
    if (v.n) {
        x_adds(&x->rs, v.n == 1 ? "Both report the exception " : "Both report the exceptions ");
        add_list(&x->rs, &v, 80);
        uint32_t df = word_df(x, v.v[0]);
        if (df) {
            char dfs[32];
            explain_fmt_count(df, dfs, sizeof dfs);
            x_printf(&x->rs, " (%sin %s of %s items)", v.n > 1 ? "the first is " : "", dfs,
                      x->total);
        }
        sentence_end(x);
        x_adds(&ph, "both report ");
        add_list(&ph, &v, 80);
        sv_push_owned(&x->evidence, sb_take(&ph));
        mention(x, &v);
    }
    ref_free(&v);

    sv_common(&a->frames, &b->frames, &v);
    if (v.n) {
        x_adds(&x->rs, v.n == 1 ? "Same stack frame: " : "Same stack frames: ");
        add_list(&x->rs, &v, 100);
        sentence_end(x);
        sv_push_owned(&x->evidence, xasprintf("the stack traces share %zu frame%s", v.n,
                                              v.n == 1 ? "" : "s"));
    }
    ref_free(&v);

    sv_common(&a->errors, &b->errors, &v);
    drop_named(x, &v);
    if (v.n) {
        x_adds(&x->rs, v.n == 1 ? "Same error line: " : "Same error lines: ");
        add_list(&x->rs, &v, 120);
        sentence_end(x);
        x_adds(&ph, "the same error appears in both: ");
        explain_add_code(&ph, v.v[0], 120);
        sv_push_owned(&x->evidence, sb_take(&ph));
    }
    ref_free(&v);

    sv_common(&a->paths, &b->paths, &v);
    if (v.n) {
        x_adds(&x->rs, v.n == 1 ? "Both mention the file " : "Both mention the files ");
        add_list(&x->rs, &v, 100);
        sentence_end(x);
        x_adds(&ph, "both mention ");
        add_list(&ph, &v, 100);
        sv_push_owned(&x->evidence, sb_take(&ph));
        mention(x, &v);
    }
    ref_free(&v);
    sb_free(&ph);
}

/* The rarest words both use, with their document frequencies. */
static void say_rare_terms(ctx *x)
{
    const dindex *ix = x->in->ix;
    size_t ndocs = index_ndocs(ix);
    /* "rare": in at most 1% of the items (2 in a small repository) */
    size_t rare_max = ndocs / 100 > 2 ? ndocs / 100 : 2;
    const uint32_t *terms = x->shared;
    size_t n = x->nshared;
    sbuf ph;
    sb_init(&ph);
    size_t shown = 0;
    for (size_t i = 0; i < n && shown < MAX_RARE; i++) {
        uint32_t df = index_df(ix, terms[i]);
        if (df > rare_max) break;   /* highest idf first: the rest are commoner */
        if (label_only(&x->qt, terms[i])) continue;
        char sp[160];
        if (!term_spelling(&x->qf, &x->cf, index_term_str(ix, terms[i]), sp,
                           sizeof sp))
            continue;
        if (overlaps_mentioned(x, sp)) continue;
        char dfs[32];
        explain_fmt_count(df, dfs, sizeof dfs);
        x_adds(&x->rs, shown ? ", " : "Both mention ");
        explain_add_code(&x->rs, sp, 80);
        x_adds(&x->rs, " (in ");   /* not x_printf: up to four a pair */
        x_adds(&x->rs, dfs);
        x_adds(&x->rs, " of ");
        x_adds(&x->rs, x->total);
        x_adds(&x->rs, " items)");
        if (shown < 3) {
            x_adds(&ph, shown ? ", " : "both mention ");
            explain_add_code(&ph, sp, 80);
        }
        strvec one = {0};
        sv_push(&one, sp);
        mention(x, &one);
        sv_free(&one);
        shown++;
    }
    if (shown) {
        sentence_end(x);
        sv_push_owned(&x->evidence, sb_take(&ph));
    }
    sb_free(&ph);
}

static void say_labels(ctx *x)
{
    strvec a = {0}, b = {0}, v = {0};
    for (size_t i = 0; i < x->q->labels.n; i++) ref_push(&a, x->q->labels.v[i]);
    for (size_t i = 0; i < x->q->components.n; i++) ref_push(&a, x->q->components.v[i]);
    for (size_t i = 0; i < x->c->labels.n; i++) ref_push(&b, x->c->labels.v[i]);
    for (size_t i = 0; i < x->c->components.n; i++) ref_push(&b, x->c->components.v[i]);
    sv_common_ci(&a, &b, &v);
    if (v.n) {
        x_adds(&x->rs, "Both are labelled ");
        add_list(&x->rs, &v, 60);
        sentence_end(x);
        sbuf ph;
        sb_init(&ph);
        x_adds(&ph, "both are labelled ");
        add_list(&ph, &v, 60);
        sv_push_owned(&x->evidence, sb_take(&ph));
    }
    ref_free(&v);
    sv_common(&x->q->versions, &x->c->versions, &v);
    if (v.n) {
        x_adds(&x->rs, v.n == 1 ? "Both affect version " : "Both affect versions ");
        add_list(&x->rs, &v, 40);
        sentence_end(x);
    }
    ref_free(&v);
    ref_free(&a);
    ref_free(&b);
}

/* sb_adds, not printf: two of these a pair */
static void describe_item(sbuf *sb, const char *ref, const item *it)
{
    char d[EXPLAIN_DATE_MAX];
    int open = item_is_open(it);
    x_adds(sb, ref);
    x_adds(sb, open ? " is an open " : " is a closed ");
    x_adds(sb, item_kind_name(it->kind));
    if (it->created_at) {
        x_adds(sb, ", opened ");
        x_adds(sb, explain_date(it->created_at, d));
    }
    if (!open) {
        if (it->closed_at) {
            x_adds(sb, it->created_at ? " and closed " : ", closed ");
            x_adds(sb, explain_date(it->closed_at, d));
        }
        if (it->state_reason && *it->state_reason) {
            x_adds(sb, " as ");
            x_adds(sb, it->state_reason);
        }
    }
}

static void say_states(ctx *x)
{
    describe_item(&x->rs, x->qref, x->q);
    x_adds(&x->rs, "; ");
    describe_item(&x->rs, x->cref, x->c);
    if (x->q->created_at && x->c->created_at) {
        int64_t d = x->q->created_at - x->c->created_at;
        if (d < 0) d = -d;
        long days = (long)(d / 86400);
        char num[24];   /* "%ld" by hand, once a pair; days >= 0 */
        size_t o = sizeof num;
        do {
            num[--o] = (char)('0' + days % 10);
            days /= 10;
        } while (days);
        x_adds(&x->rs, ". Filed ");
        x_add(&x->rs, num + o, sizeof num - o);
        x_adds(&x->rs, sizeof num - o == 1 && num[o] == '1' ? " day apart" : " days apart");
    }
    sentence_end(x);
}

static const char *feature_words(match_feature f)
{
    switch (f) {
    case FEAT_BM25F: return "overall text similarity";
    case FEAT_BM25_TITLE: return "similar titles";
    case FEAT_BM25_PROSE: return "similar descriptions";
    case FEAT_BM25_CODE: return "similar code and logs";
    case FEAT_BM25_LABELS: return "matching labels text";
    case FEAT_TITLE_OVERLAP: return "title word overlap";
    case FEAT_BIGRAM_OVERLAP: return "shared phrases";
    case FEAT_SHARED_IDF: return "shared rare terms";
    case FEAT_EXCEPTION: return "the same exception";
    case FEAT_FRAMES: return "the same stack frames";
    case FEAT_PATHS: return "the same file paths";
    case FEAT_ERRORS: return "the same error lines";
    case FEAT_LABELS: return "label overlap";
    case FEAT_VERSION: return "the same affected version";
    case FEAT_TIME_GAP: return "when they were filed";
    case FEAT_SAME_AUTHOR: return "the same author";
    case FEAT_LEN_RATIO: return "similar length";
    case FEAT_KIND_SAME: return "the same kind of item";
    case FEAT_CROSSREF: return "a cross-reference";
    case FEAT_RANK_BM25: return "a top text-search rank";
    case FEAT_BM25_REL: return "text similarity close to the best match";
    case FEAT_COSINE: return "similar vocabulary";
    case FEAT_TITLE_COSINE: return "similar title wording";
    case FEAT_POPULARITY: return "a candidate that already collects duplicates";
    case FEAT_TYPE_SAME: return "the same issue type";
    case FEAT_PRIORITY_SAME: return "the same priority";
    default: return match_feature_name(f);   /* a feature newer than this list */
    }
}

/* Contribution of one feature to the model score (standardised weight). */
static double contribution(const match_model *m, const double feat[FEAT_COUNT], match_feature f)
{
    double sc = m->scale[f] != 0 ? m->scale[f] : 1.0;
    return m->w[f] * (feat[f] - m->mean[f]) / sc;
}

static void say_model(ctx *x)
{
    const explain_input *in = x->in;
    if (!in->hit || !in->model) return;
    match_feature top[FEAT_COUNT];
    size_t n = match_top_features(in->model, in->hit->feat, top, 3);
    size_t shown = 0;
    for (size_t i = 0; i < n; i++) {
        double c = contribution(in->model, in->hit->feat, top[i]);
        if (c <= 0.05) continue;
        x_adds(&x->rs, shown ? ", " : "The ranking rests mostly on ");
        x_adds(&x->rs, feature_words(top[i]));
        x_adds(&x->rs, " (+");
        explain_add_fixed(&x->rs, c, 2);
        x_addc(&x->rs, ')');
        shown++;
    }
    if (shown) sentence_end(x);
}

/* ---- the judgment -------------------------------------------------------- */

/* The verdict's reason when only the same failure keeps the pair from "not
 * related" (match_judge_decide's floor): the floor, what the wording alone
 * said, and how the probability shown follows from them. */
static void say_failure_floor(ctx *x, const match_judgment *jd)
{
    double words = jd->p[RELATION_DUPLICATE] + jd->p[RELATION_RELATED];
    x_printf(&x->rs, ": they show the same failure (stack frames or an error line few items show, below), "
                      "so they are related at all with at least %.2f, though their wording alone gives %.2f",
              jd->p_any, words);
    if (jd->pr_pair)
        x_adds(&x->rs, "; an issue and a pull request are related, never duplicates");
    else if (jd->regression)
        x_adds(&x->rs, "; a new report of something fixed before is a possible regression, not a duplicate to close");
    else
        x_printf(&x->rs, "; %s: %.2f of that", jd->relation == RELATION_DUPLICATE ? "as duplicates" : "as another relation",
                  jd->p_any > 0 ? jd->p_shown / jd->p_any : 0);
}

/* The first sentence: the relation, its confidence and the number behind
 * it, worded the same way everywhere (header, pairs, similar, API). */
static void say_verdict(ctx *x)
{
    const match_judgment *jd = x->in->jd;
    if (!jd) return;
    x_adds(&x->rs, relation_label(jd->relation));
    x_adds(&x->rs, ", ");
    x_adds(&x->rs, confidence_name(jd->confidence));
    x_adds(&x->rs, " confidence (");
    explain_add_fixed(&x->rs, jd->p_shown, 2);
    x_addc(&x->rs, ')');
    if (jd->relation == RELATION_NONE) {
        x_adds(&x->rs, ": the chance that they are related at all is ");
        explain_add_fixed(&x->rs, jd->p_any, 2);
    }
    else if (jd->failure_lifted)
        say_failure_floor(x, jd);
    else if (jd->pr_pair)
        x_printf(&x->rs, ": an issue and a pull request are related, never duplicates; related at all: %.2f",
                  jd->p_any);
    else if (jd->double_post)
        x_printf(&x->rs, ": the same person posted the same text twice within minutes, a double post; "
                          "related at all: %.2f", jd->p_any);
    else if (jd->series)
        x_printf(&x->rs, ": the same person filed both within a day under titles that read apart: "
                          "a series of reports rather than a double post; related at all: %.2f", jd->p_any);
    else if (jd->template_twins)
        x_printf(&x->rs, ": the titles fill one template with different names, so they are two "
                          "requests, not one; related at all: %.2f", jd->p_any);
    else if (jd->regression)
        x_printf(&x->rs, ": a new report of something fixed before is a possible regression, not a "
                          "duplicate to close; related at all: %.2f", jd->p_any);
    else {
        x_adds(&x->rs, ": if they are related at all (");
        explain_add_fixed(&x->rs, jd->p_any, 2);
        x_adds(&x->rs, jd->relation == RELATION_DUPLICATE ? "), the chance that it is as duplicates is "
                                                           : "), the chance that it is as another relation is ");
        explain_add_fixed(&x->rs, jd->p_shown, 2);
    }
    sentence_end(x);
}

static long days_between(int64_t a, int64_t b)
{
    int64_t d = a > b ? a - b : b - a;
    return (long)(d / 86400);
}

/* Whether say_judge reads any of match_judge_why's words for features jf:
 * only the sentences below that quote them, each under its feature. The
 * words cost more than the rest of the explanation (the titles' words
 * against every pair of opposite actions), and most pairs have none of
 * these features. Keep in step with say_judge. */
static int why_needed(const double jf[JF_COUNT])
{
    return jf[JF_MENTION_DUP] > 0 || jf[JF_MENTION_FOLLOW] > 0 || jf[JF_MENTION_PLAIN] > 0 ||
           jf[JF_OPPOSITE] > 0 || jf[JF_VERSION_ONLY] > 0 || (jf[JF_SLOT_DIFF] > 0.5 && jf[JF_TITLE_OVERLAP] >= 0.3) ||
           jf[JF_SHARED_REF] > 0;
}

/* The judge's evidence for the hard cases: what names what, titles that
 * differ in what matters, who filed them when, the candidate's state. */
static void say_judge(ctx *x)
{
    const double *jf = x->in->jf;
    if (!jf) return;
    match_judge_reasons why;
    if (!why_needed(jf)) memset(&why, 0, sizeof why);   /* most pairs: none of it is said */
    else if (x->in->mctx && x->in->mq) match_judge_why_query(x->in->mctx, x->in->mq, x->in->jq, x->in->cdoc, &why);
    else if (x->in->mctx) match_judge_why(x->in->mctx, x->in->qdoc, x->in->cdoc, &why);
    else memset(&why, 0, sizeof why);
    if (why.mention[0] && (jf[JF_MENTION_DUP] > 0 || jf[JF_MENTION_FOLLOW] > 0 || jf[JF_MENTION_PLAIN] > 0)) {
        const char *how = jf[JF_MENTION_DUP] > 0      ? "calls it the original"
                        : jf[JF_MENTION_FOLLOW] > 0 ? "names it as its origin (a follow-up, revert, "
                                                      "backport or part of it)"
                                                    : "names it";
        x_printf(&x->rs, "%s %s: \"", x->qref, how);
        for (const char *p = why.mention; *p; p++) x_addc(&x->rs, *p == '"' ? '\'' : *p);
        x_adds(&x->rs, "\"");
        sentence_end(x);
        sv_push_owned(&x->evidence, xasprintf("%s refers to %s", x->qref, x->cref));
    }
    if (jf[JF_OPPOSITE] > 0 && why.opposite[0][0])
        x_printf(&x->rs, "The titles differ in opposite actions (\"%s\" / \"%s\"): two changes, not "
                          "one problem", why.opposite[0], why.opposite[1]), sentence_end(x);
    else if (jf[JF_VERSION_ONLY] > 0)
        x_printf(&x->rs, "The titles differ only in \"%s\" / \"%s\": the same change for another "
                          "branch or release", why.diff[0][0] ? why.diff[0] : "-", why.diff[1][0] ? why.diff[1] : "-"),
            sentence_end(x);
    else if (jf[JF_TITLE_REFS_DIFFER] > 0)
        x_adds(&x->rs, "The titles name different items"), sentence_end(x);
    else if (jf[JF_SLOT_DIFF] > 0.5 && jf[JF_TITLE_OVERLAP] >= 0.3 && why.diff[0][0] && why.diff[1][0])
        x_printf(&x->rs, "Same wording around different words: \"%s\" / \"%s\"", why.diff[0], why.diff[1]),
            sentence_end(x);
    if (jf[JF_SHARED_REF] > 0 && why.shared_ref[0]) {
        char r[64];
        explain_ref(why.shared_ref, r, sizeof r);
        x_printf(&x->rs, "Both name %s: they may be two parts of one thing", r);
        sentence_end(x);
    }
    if (jf[JF_AUTHOR_2H] > 0) {
        long m = labs((long)((x->q->created_at - x->c->created_at) / 60));
        x_printf(&x->rs, "The same person filed both, %ld minute%s apart%s", m, m == 1 ? "" : "s",
                  jf[JF_AUTHOR_10MIN] > 0 ? " (a double post?)" : "");
        sentence_end(x);
    } else if (jf[JF_SAME_AUTHOR] > 0) {
        x_adds(&x->rs, "The same person filed both");
        sentence_end(x);
    }
    if (jf[JF_COPY_OTHER_AUTHOR] > 0) {
        x_adds(&x->rs, "The descriptions are near copies filed by different people (a clone?)");
        sentence_end(x);
    }
    if (jf[JF_CAND_FIXED_BEFORE] > 0 && x->c->closed_at) {
        char d[EXPLAIN_DATE_MAX];
        explain_date(x->c->closed_at, d);
        x_printf(&x->rs, "%s was closed as fixed on %s, %ld days before %s was filed%s", x->cref, d,
                  days_between(x->q->created_at, x->c->closed_at), x->qref,
                  jf[JF_LATER_VERSION] > 0 ? ", which names a later version" : "");
        sentence_end(x);
    }
}

/* ---- the suggested comment --------------------------------------------- */

static void add_evidence(sbuf *sb, const strvec *ev)
{
    size_t show = ev->n < 2 ? ev->n : 2;
    for (size_t i = 0; i < show; i++) {
        const char *e = ev->v[i];
        if (i == 0) {
            x_addc(sb, (char)toupper((unsigned char)e[0]));
            x_adds(sb, e + 1);
        } else {
            x_adds(sb, "; ");
            x_adds(sb, e);
        }
    }
    if (show) x_adds(sb, ".\n\n");
}

static void add_state_clause(sbuf *sb, const item *it)
{
    char d[EXPLAIN_DATE_MAX];
    if (item_is_open(it)) {
        x_adds(sb, ", which is still open");
        return;
    }
    if (it->kind == ITEM_PR) {
        x_adds(sb, item_closed_fixed(it) ? ", which was merged" : ", which was closed without being merged");
    } else {
        x_adds(sb, ", which was closed");
        if (item_closed_fixed(it)) x_adds(sb, " as fixed");
        else if (it->state_reason && *it->state_reason) x_printf(sb, " as %s", it->state_reason);
    }
    if (it->closed_at) {
        explain_date(it->closed_at, d);
        x_printf(sb, " on %s", d);
    }
}

static void add_item_title(sbuf *sb, const char *ref, const item *it)
{
    x_printf(sb, "%s (\"", ref);
    explain_add_md_title(sb, it->title);
    x_adds(sb, "\")");
}

static void add_url(sbuf *sb, const item *it)
{
    if (it->url && *it->url && !isdigit((unsigned char)it->key[0])) x_printf(sb, "\n\n%s: %s", it->key, it->url);
}

/* An issue and a pull request: the comment goes on the issue. */
static char *comment_pr(ctx *x, const item **on)
{
    const item *pr = x->q->kind == ITEM_PR ? x->q : x->c;
    const char *prref = pr == x->q ? x->qref : x->cref;
    *on = pr == x->q ? x->c : x->q;
    sbuf sb;
    sb_init_cap(&sb, 512);
    x_adds(&sb, "Possibly addressed by pull request ");
    add_item_title(&sb, prref, pr);
    add_state_clause(&sb, pr);
    x_adds(&sb, ".\n\n");
    add_evidence(&sb, &x->evidence);
    if (item_is_open(pr)) x_adds(&sb, "Reviews and testing of that pull request are welcome.");
    else if (item_closed_fixed(pr)) x_adds(&sb, "Please check whether it solves this for you.");
    else x_adds(&sb, "It was not merged, so this may still need a fix.");
    return sb_take(&sb);
}

/* A possible regression: on the new report, asking what tells a
 * regression from an old bug on an old version. */
static char *comment_regression(ctx *x, const item **on)
{
    *on = x->q;
    sbuf sb;
    sb_init_cap(&sb, 512);
    x_adds(&sb, "This may be a regression of ");
    add_item_title(&sb, x->cref, x->c);
    add_state_clause(&sb, x->c);
    x_adds(&sb, ".\n\n");
    add_evidence(&sb, &x->evidence);
    x_printf(&sb, "Which version are you running, and what are the exact steps to reproduce? That "
                   "tells whether the fix in %s is missing from your version or whether this is a "
                   "new problem.", x->cref);
    add_url(&sb, x->c);
    return sb_take(&sb);
}

static char *comment_related(ctx *x, const item **on)
{
    /* on the later item, or on the open one when only the other is open */
    const item *other = x->c;
    const char *oref = x->cref;
    *on = x->q;
    if (!item_is_open(x->q) && item_is_open(x->c)) {
        *on = x->c;
        other = x->q;
        oref = x->qref;
    }
    sbuf sb;
    sb_init_cap(&sb, 512);
    x_adds(&sb, "Possibly related: ");
    add_item_title(&sb, oref, other);
    add_state_clause(&sb, other);
    x_adds(&sb, ".\n\n");
    add_evidence(&sb, &x->evidence);
    x_adds(&sb, "Linking them so the discussion can be followed in one place.");
    add_url(&sb, other);
    return sb_take(&sb);
}

/* A duplicate: on the item to close, citing the canonical one (which may
 * be a third item of the cluster). */
static char *comment_duplicate(ctx *x, const item **on)
{
    const explain_input *in = x->in;
    const item *canon = in->canonical != UINT32_MAX ? index_item(in->ix, in->canonical) : NULL;
    if (!canon || (canon != x->q && canon != x->c && in->canonical >= index_ndocs(in->ix))) canon = x->c;
    /* the comment goes on the pair's other member; when neither is the
     * canonical item, on the one still open (the newer when both are) */
    if (canon == x->c) *on = x->q;
    else if (canon == x->q) *on = x->c;
    else *on = item_is_open(x->c) && !item_is_open(x->q) ? x->c : x->q;
    char cref[64];
    explain_ref(canon->key, cref, sizeof cref);
    sbuf sb;
    sb_init_cap(&sb, 512);
    x_printf(&sb, "Duplicate of %s\n\n", cref);
    if (canon != x->q && canon != x->c) {
        const item *sib = *on == x->q ? x->c : x->q;
        char sref[64];
        explain_ref(sib->key, sref, sizeof sref);
        x_printf(&sb, "This and %s both look like copies of ", sref);
    } else {
        x_adds(&sb, "This looks like the same problem as ");
    }
    add_item_title(&sb, cref, canon);
    add_state_clause(&sb, canon);
    x_adds(&sb, ".\n\n");
    if (canon->created_at > (*on)->created_at) {   /* never close the older one without saying why */
        char why[192];
        explain_canonical_why(canon, *on, why, sizeof why);
        x_printf(&sb, "%s is newer, but it is the one to keep: %s.\n\n", cref, why);
    }
    add_evidence(&sb, &x->evidence);
    if (item_is_open(canon)) x_adds(&sb, "Please follow and add to the discussion there. ");
    else if (item_closed_fixed(canon)) x_adds(&sb, "Please check whether the fix there solves this for you. ");
    x_adds(&sb, "If this is a different problem, please say how it differs.");
    add_url(&sb, canon);
    return sb_take(&sb);
}

static char *make_comment(ctx *x, const item **on)
{
    const match_judgment *jd = x->in->jd;
    *on = NULL;
    if (!jd || jd->relation == RELATION_NONE) return xstrdup("");
    if (jd->pr_pair) return comment_pr(x, on);
    if (jd->regression) return comment_regression(x, on);
    if (jd->relation == RELATION_RELATED) return comment_related(x, on);
    return comment_duplicate(x, on);
}

/* ---- entry points ------------------------------------------------------ */

void explain_pair(const explain_input *in, explain_out *out)
{
    memset(out, 0, sizeof *out);
    ctx x = {.in = in};
    x.c = index_item(in->ix, in->cdoc);
    x.cf = (lazy_fields){.ix = in->ix, .doc = in->cdoc};
    if (in->mq) {
        x.q = in->mq->it;
        text_split(x.q, index_template(in->ix), &x.own_qf);
        x.has_own_qf = 1;
        x.qf = (lazy_fields){.tf = &x.own_qf, .done = 1};
        x.qsig = in->mq->sig;
        x.qt = (index_doc_terms){in->mq->terms, in->mq->tf, in->mq->nterms, in->mq->len};
    } else {
        x.q = index_item(in->ix, in->qdoc);
        x.qf = (lazy_fields){.ix = in->ix, .doc = in->qdoc};
        x.qsig = index_doc_signals(in->ix, in->qdoc);
        index_doc_terms_get(in->ix, in->qdoc, &x.qt);
    }
    explain_ref(x.q->key, x.qref, sizeof x.qref);
    explain_ref(x.c->key, x.cref, sizeof x.cref);
    sb_init_cap(&x.rs, 1024);
    x.nshared = in->mq ? index_shared_terms_with(in->ix, x.qt.terms, x.qt.n, in->cdoc, x.shared, SHARED_SCAN)
                       : index_shared_terms(in->ix, in->qdoc, in->cdoc, x.shared, SHARED_SCAN);
    explain_fmt_count(index_ndocs(in->ix), x.total, sizeof x.total);

    say_verdict(&x);
    int link = say_links(&x);
    out->known = link == 2;
    say_judge(&x);
    say_signals(&x);
    say_rare_terms(&x);
    say_labels(&x);
    say_states(&x);
    say_model(&x);
    if (x.rs.len && x.rs.s[x.rs.len - 1] == '\n') x.rs.s[--x.rs.len] = '\0';
    out->reasoning_len = x.rs.len;
    out->reasoning = sb_take(&x.rs);

    const item *on = NULL;
    out->comment = make_comment(&x, &on);
    out->comment_len = strlen(out->comment);
    out->comment_on = on ? xstrdup(on->key) : NULL;

    match_judgment none = {.relation = RELATION_NONE};
    sbuf vd;
    sb_init_cap(&vd, 256);
    out->value = explain_value(x.q, x.c, in->jd ? in->jd : &none, on, link, in->now, &vd);
    out->value_detail_len = vd.len;
    out->value_detail = sb_take(&vd);
    if (in->jd && in->jd->relation == RELATION_DUPLICATE && !in->jd->pr_pair && !in->jd->regression)
        out->canonical = xstrdup(in->canonical != UINT32_MAX && in->canonical < index_ndocs(in->ix)
                                     ? index_item(in->ix, in->canonical)->key
                                     : x.c->key);
    sv_free(&x.evidence);
    sv_free(&x.mentioned);
    if (x.has_own_qf) text_fields_free(&x.own_qf);
}

void explain_out_free(explain_out *o)
{
    if (!o) return;
    free(o->reasoning);
    free(o->value_detail);
    free(o->comment);
    free(o->comment_on);
    free(o->canonical);
    memset(o, 0, sizeof *o);
}
