/* links.c -- known links written in issue text: "Duplicate of #12",
 * "fixes #7", full issue URLs, plain "#N" mentions (see ingest.h).
 *
 * The text is copied with code (fenced blocks, inline spans) blanked out,
 * then scanned for references. Each reference is classified by the words
 * just before it on the same line: that is where GitHub's own "Duplicate of
 * #N" and the closing keywords sit, and looking no further keeps unrelated
 * sentences from turning a mention into a duplicate claim.
 */
#include "ingest.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LOOKBACK 80      /* bytes of the line before a reference we read */
#define MAX_DIGITS 10

typedef enum { REF_RELATED = 1, REF_FIXES = 2, REF_DUP_BY = 3, REF_DUP = 4 } ref_kind;

typedef struct ref {
    int64_t number;
    ref_kind kind;
} ref;

/* The references of one text, in order of first appearance, with an
 * open-addressing index by number: a hostile body holds a million of them. */
typedef struct ref_set {
    ref *v;
    size_t n, cap;
    size_t *slot;       /* index + 1 into v, 0 = empty; nslot a power of two */
    size_t nslot;
} ref_set;

static size_t ref_slot(const ref_set *rs, int64_t number)
{
    size_t i = (size_t)((uint64_t)number * 0x9E3779B97F4A7C15ull) & (rs->nslot - 1);
    while (rs->slot[i] && rs->v[rs->slot[i] - 1].number != number) i = (i + 1) & (rs->nslot - 1);
    return i;
}

/* Keeps one entry per number, the strongest kind seen. */
static void ref_add(ref_set *rs, int64_t number, ref_kind kind)
{
    if (2 * (rs->n + 1) > rs->nslot) {
        free(rs->slot);
        rs->nslot = rs->nslot ? rs->nslot * 2 : 16;
        rs->slot = xcalloc(rs->nslot, sizeof *rs->slot);
        for (size_t i = 0; i < rs->n; i++) rs->slot[ref_slot(rs, rs->v[i].number)] = i + 1;
    }
    size_t s = ref_slot(rs, number);
    if (rs->slot[s]) {
        ref *r = &rs->v[rs->slot[s] - 1];
        if (kind > r->kind) r->kind = kind;
        return;
    }
    if (rs->n == rs->cap) {
        rs->cap = rs->cap ? rs->cap * 2 : 8;
        rs->v = xrealloc(rs->v, rs->cap * sizeof *rs->v);
    }
    rs->v[rs->n++] = (ref){number, kind};
    rs->slot[s] = rs->n;
}

/* ---- blanking code ------------------------------------------------------ */

static void blank(char *s, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (s[i] != '\n') s[i] = ' ';
}

/* Length of a fence (``` or ~~~, 3 or more) at line start s, 0 if none. */
static size_t fence_at(const char *s, char *ch)
{
    size_t i = 0, n = 0;
    while (i < 3 && s[i] == ' ') i++;
    if (s[i] != '`' && s[i] != '~') return 0;
    *ch = s[i];
    while (s[i + n] == *ch) n++;
    return n >= 3 ? n : 0;
}

static void blank_fences(char *s)
{
    char *line = s;
    while (*line) {
        char ch, ch2;
        size_t open = fence_at(line, &ch);
        char *eol = strchr(line, '\n');
        if (!open) {
            if (!eol) break;
            line = eol + 1;
            continue;
        }
        /* Blank from the opening fence to the end of the closing one (or of
         * the text: an unclosed fence runs to the end, as in CommonMark). */
        char *p = eol ? eol + 1 : line + strlen(line);
        for (;;) {
            if (!*p) break;
            char *e = strchr(p, '\n');
            size_t close = fence_at(p, &ch2);
            if (close >= open && ch2 == ch) {
                p = e ? e : p + strlen(p);
                break;
            }
            p = e ? e + 1 : p + strlen(p);
        }
        blank(s, (size_t)(line - s), (size_t)(p - s));
        line = p;
    }
}

/* A paragraph ends at a blank line; code spans do not cross it. */
static const char *para_end(const char *p)
{
    for (; *p; p++)
        if (*p == '\n') {
            const char *q = p + 1;
            while (*q == ' ' || *q == '\t' || *q == '\r') q++;
            if (*q == '\n' || !*q) return p;
        }
    return p;
}

static void blank_spans(char *s)
{
    char *p = s;
    while ((p = strchr(p, '`'))) {
        size_t n = 0;
        while (p[n] == '`') n++;
        const char *end = para_end(p + n);
        char *q = p + n, *close = NULL;
        while (q < end && (q = memchr(q, '`', (size_t)(end - q)))) {
            size_t m = 0;
            while (q[m] == '`') m++;
            if (m == n) {
                close = q;
                break;
            }
            q += m;
        }
        if (!close) {
            p += n;   /* a lone backtick run is literal */
            continue;
        }
        blank(s, (size_t)(p - s), (size_t)(close + n - s));
        p = close + n;
    }
}

/* ---- classifying a reference ------------------------------------------ */

static int is_word(char c) { return isalnum((unsigned char)c) || c == '_'; }

/* Does the lower-cased text t[0..n) end with phrase as whole words? On
 * success *start is where the phrase begins. */
static int ends_with(const char *t, size_t n, const char *phrase, size_t *start)
{
    size_t k = strlen(phrase);
    if (k > n || memcmp(t + n - k, phrase, k) != 0) return 0;
    if (n > k && is_word(t[n - k - 1])) return 0;
    *start = n - k;
    return 1;
}

/* Words that make "duplicate of #N" a guess or a denial, looked for in the
 * same sentence before the phrase. */
static int hedged(const char *t, size_t n)
{
    static const char *const words[] = {"possible", "possibly", "maybe", "might", "may",
                                        "potential", "potentially", "perhaps", "probably",
                                        "not", "isn't", "isnt", "wasn't", "unsure", "could",
                                        "similar", "if", NULL};
    size_t from = n;
    while (from > 0 && !strchr(".!?;", t[from - 1])) from--;
    for (size_t i = from; i < n;) {
        while (i < n && !is_word(t[i]) && t[i] != '\'') i++;
        size_t j = i;
        while (j < n && (is_word(t[j]) || t[j] == '\'')) j++;
        for (int w = 0; words[w]; w++)
            if (strlen(words[w]) == j - i && memcmp(t + i, words[w], j - i) == 0) return 1;
        i = j;
    }
    return 0;
}

static ref_kind classify(const char *text, size_t pos, item_kind kind)
{
    static const char *const dup[] = {"duplicate of", "duplicates of", "dup of", "dupe of",
                                      "duplicates", "duplicate", "dup", "dupe", NULL};
    static const char *const fixes[] = {"fix", "fixes", "fixed", "close", "closes", "closed",
                                        "resolve", "resolves", "resolved", NULL};
    char t[LOOKBACK + 1];
    size_t from = pos, n = 0, start;
    while (from > 0 && pos - from < LOOKBACK && text[from - 1] != '\n') from--;
    for (size_t i = from; i < pos; i++) t[n++] = (char)tolower((unsigned char)text[i]);
    while (n > 0 && strchr(" \t\r:*_[(", t[n - 1])) n--;
    t[n] = '\0';
    if (ends_with(t, n, "duplicated by", &start))
        return hedged(t, start) ? REF_RELATED : REF_DUP_BY;
    for (int i = 0; dup[i]; i++)
        if (ends_with(t, n, dup[i], &start)) return hedged(t, start) ? REF_RELATED : REF_DUP;
    if (kind == ITEM_PR)
        for (int i = 0; fixes[i]; i++)
            if (ends_with(t, n, fixes[i], &start)) return REF_FIXES;
    return REF_RELATED;
}

/* ---- finding references ------------------------------------------------ */

/* Where the word holding a reference starts: just after the last space or
 * '(' before it. References are met left to right, so a cursor that only
 * moves forward finds it; walking back from each one was quadratic on text
 * without spaces (",#1,#1,..."). */
typedef struct word_cursor {
    size_t at, start;
} word_cursor;

static size_t word_start(const char *t, word_cursor *c, size_t pos)
{
    for (; c->at < pos; c->at++)
        if (isspace((unsigned char)t[c->at]) || t[c->at] == '(') c->start = c->at + 1;
    return c->start;
}

/* Parses up to MAX_DIGITS digits at p that are not glued to a following
 * word character. Returns the number (0 if none) and sets *end. */
static int64_t ref_number(const char *p, const char **end)
{
    int64_t v = 0;
    int n = 0;
    while (isdigit((unsigned char)p[n]) && n <= MAX_DIGITS) v = v * 10 + (p[n++] - '0');
    if (n == 0 || n > MAX_DIGITS || is_word(p[n])) return 0;
    *end = p + n;
    return v;
}

/* "owner/name" glued before '#': accepted only when it is this repository. */
static int same_repo_prefix(const char *text, size_t hash, const char *repo)
{
    size_t i = hash;
    while (i > 0 && (is_word(text[i - 1]) || strchr("-./", text[i - 1]))) i--;
    if (!repo || !memchr(text + i, '/', hash - i)) return 0;
    return strlen(repo) == hash - i && strncasecmp(text + i, repo, hash - i) == 0;
}

/* "#N" mentions. A '#' glued to a word ("C#1", "abc#2") or an HTML entity
 * ("&#123;") is not a reference; a gdb frame "#1  0x4005d6 in main" neither. */
static void scan_hashes(const char *t, const char *repo, item_kind kind, ref_set *rs)
{
    word_cursor wc = {0, 0};
    for (const char *p = strchr(t, '#'); p; p = strchr(p + 1, '#')) {
        size_t at = (size_t)(p - t);
        const char *end;
        int64_t n = ref_number(p + 1, &end);
        if (n <= 0) continue;
        if (at > 0 && (is_word(t[at - 1]) || strchr("&#/.-", t[at - 1])) &&
            !same_repo_prefix(t, at, repo))
            continue;
        const char *q = end;
        while (*q == ' ' || *q == '\t') q++;
        if (q > end && q[0] == '0' && q[1] == 'x') continue;
        ref_add(rs, n, classify(t, word_start(t, &wc, at), kind));
    }
}

/* Full URLs "https://github.com/o/r/issues/N" (or /pull/N) of this repo. */
static void scan_urls(const char *t, const char *repo, item_kind kind, ref_set *rs)
{
    size_t rlen = repo ? strlen(repo) : 0;
    word_cursor wc = {0, 0};
    if (!rlen) return;
    for (const char *p = strstr(t, "github.com/"); p; p = strstr(p + 1, "github.com/")) {
        const char *r = p + 11, *end;
        if (strncasecmp(r, repo, rlen) != 0 || r[rlen] != '/') continue;
        const char *k = r + rlen + 1;
        if (!strncmp(k, "issues/", 7)) k += 7;
        else if (!strncmp(k, "pull/", 5)) k += 5;
        else continue;
        int64_t n = ref_number(k, &end);
        if (n <= 0) continue;
        ref_add(rs, n, classify(t, word_start(t, &wc, (size_t)(p - t)), kind));
    }
}

static void emit(const char *src_key, const ref_set *rs, const char *source, link_vec *out)
{
    for (size_t i = 0; i < rs->n; i++) {
        char num[24];
        snprintf(num, sizeof num, "%lld", (long long)rs->v[i].number);
        if (!strcmp(num, src_key)) continue;   /* self-reference */
        item_link *l = link_vec_push(out);
        int rev = rs->v[i].kind == REF_DUP_BY;
        l->src_key = xstrdup(rev ? num : src_key);
        l->dst_key = xstrdup(rev ? src_key : num);
        l->type = rs->v[i].kind == REF_RELATED ? LINK_RELATED
                : rs->v[i].kind == REF_FIXES  ? LINK_FIXES
                                              : LINK_DUPLICATE;
        l->source = xstrdup(source);
    }
}

void ingest_links_from_text(const char *src_key, item_kind src_kind, const char *text,
                            const char *repo_name, const char *source, link_vec *out)
{
    if (!text || !src_key || (!strchr(text, '#') && !strstr(text, "github.com/"))) return;
    /* GitHub honours closing keywords only in a pull request's own
     * description (and commits), never in comments. */
    if (src_kind == ITEM_PR && source && strcmp(source, "body") != 0) src_kind = ITEM_ISSUE;
    char *t = xstrdup(text);
    ref_set rs = {0};
    blank_fences(t);
    blank_spans(t);
    scan_hashes(t, repo_name, src_kind, &rs);
    scan_urls(t, repo_name, src_kind, &rs);
    emit(src_key, &rs, source, out);
    free(rs.v);
    free(rs.slot);
    free(t);
}
