/* refs.c -- references to other items written in issue text (see text.h):
 * "#12", "owner/name#12", GitHub issue URLs, Jira keys ("HIVE-123"), and a
 * bare number right after a duplicate phrase ("duplicate of 4652").
 *
 * The text is copied with code (fenced blocks, inline spans, Jira {code}
 * and {noformat} blocks) blanked out, then scanned. Each reference is
 * classified by the words just before it on the same line: that is where
 * GitHub's own "Duplicate of #N", the closing keywords and follow-up
 * phrasings ("Disabled in HIVE-20577", "backport of #7") sit, and looking
 * no further keeps unrelated sentences from turning a mention into a claim.
 */
#include "text.h"
#include "text_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define LOOKBACK 80      /* bytes of the line before a reference we read */
#define MAX_DIGITS 10
#define MAX_KEY 40       /* longest Jira key we accept */

static uint64_t ref_hash_of(const void *ctx, uint32_t i) { return dp_hash_str(((const text_refs *)ctx)->v[i].key); }

/* The slot of key in rs->idx, or the empty slot where it would go. */
static size_t ref_slot(const text_refs *rs, const char *key)
{
    size_t s;
    for (s = dp_idxmap_first(&rs->idx, dp_hash_str(key)); rs->idx.slot[s]; s = dp_idxmap_step(&rs->idx, s))
        if (!strcmp(rs->v[rs->idx.slot[s] - 1].key, key)) break;
    return s;
}

/* Keeps one entry per key, the strongest kind seen. The index keeps a
 * hostile body of a million references linear. */
static void ref_add(text_refs *rs, const char *key, text_ref_kind kind)
{
    dp_idxmap_reserve(&rs->idx, rs->n + 1, ref_hash_of, rs);
    size_t s = ref_slot(rs, key);
    if (rs->idx.slot[s]) {
        text_ref *r = &rs->v[rs->idx.slot[s] - 1];
        if (kind > r->kind) r->kind = kind;
        return;
    }
    if (rs->n == rs->cap) {
        rs->cap = rs->cap ? rs->cap * 2 : 8;
        rs->v = xrealloc(rs->v, rs->cap * sizeof *rs->v);
    }
    rs->v[rs->n].key = xstrdup(key);
    rs->v[rs->n].kind = kind;
    dp_idxmap_put(&rs->idx, s, (uint32_t)rs->n);
    rs->n++;
}

void text_refs_free(text_refs *rs)
{
    for (size_t i = 0; i < rs->n; i++) free(rs->v[i].key);
    free(rs->v);
    dp_idxmap_free(&rs->idx);
    memset(rs, 0, sizeof *rs);
}

const text_ref *text_refs_find(const text_refs *rs, const char *key)
{
    if (!rs->n) return NULL;
    size_t s = ref_slot(rs, key);
    return rs->idx.slot[s] ? &rs->v[rs->idx.slot[s] - 1] : NULL;
}

/* ---- blanking code ------------------------------------------------------ */

/* Spaces over s[from..to), its newlines kept: line by line, so the bytes
 * go through memchr and memset rather than a test and store each (code
 * blocks are a good part of many bodies: a quarter of the scan's time). */
static void blank(char *s, size_t from, size_t to)
{
    while (from < to) {
        const char *nl = memchr(s + from, '\n', to - from);
        size_t e = nl ? (size_t)(nl - s) : to;
        memset(s + from, ' ', e - from);
        from = e + 1;
    }
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

/* strcasestr(s, tag) for a tag that starts with '{' (which has no case):
 * glibc's strcasestr goes byte by byte, and every text of an import is
 * searched for both tags. */
static char *find_tag(char *s, const char *tag)
{
    size_t n = strlen(tag + 1);
    for (char *p = strchr(s, '{'); p; p = strchr(p + 1, '{'))
        if (!strncasecmp(p + 1, tag + 1, n)) return p;
    return NULL;
}

/* Jira {code...}...{code} and {noformat}...{noformat}: logs and code quote
 * other projects' keys and numbers all the time. An unclosed block runs to
 * the end, as Jira renders it. */
static void blank_jira_blocks(char *s)
{
    static const char *const tags[] = {"{code", "{noformat", NULL};
    for (int t = 0; tags[t]; t++) {
        size_t tl = strlen(tags[t]);
        char *p = s;
        while ((p = find_tag(p, tags[t]))) {
            char *open_end = strchr(p + tl, '}');
            if (!open_end || (p[tl] != '}' && p[tl] != ':')) {
                p += tl;
                continue;
            }
            char close[16];
            snprintf(close, sizeof close, "%s}", tags[t]);
            char *c = find_tag(open_end + 1, close);
            char *end = c ? c + strlen(close) : p + strlen(p);
            blank(s, (size_t)(p - s), (size_t)(end - s));
            p = end;
        }
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

static int ends_with_any(const char *t, size_t n, const char *const *phrases, size_t *start)
{
    for (int i = 0; phrases[i]; i++)
        if (ends_with(t, n, phrases[i], start)) return 1;
    return 0;
}

/* Words that make "duplicate of #N" a guess or a denial, looked for in the
 * same sentence before the phrase. */
static int hedged(const char *t, size_t n)
{
    static const char *const words[] = {"possible", "possibly", "maybe", "might", "may",
                                        "potential", "potentially", "perhaps", "probably",
                                        "not", "isn't", "isnt", "wasn't", "unsure", "could",
                                        "similar", "if", "think", "guess", "suspect",
                                        "wonder", "seems", "whether", NULL};
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

static const char *const dup_phrases[] = {"duplicate of", "duplicates of", "dup of", "dupe of",
                                          "duplicates", "duplicate", "dup", "dupe",
                                          "same as", "same issue as", "same problem as",
                                          "same bug as", NULL};

/* Phrasings that make the other item the origin of this one rather than
 * its twin: a follow-up, a revert or re-enable, a backport or clone, a
 * regression, a part or a dependency. */
static const char *const follow_phrases[] = {
    "follow-up to", "follow-up of", "follow-up for", "follow-up", "follow up to", "follow up on",
    "follow up of", "follow up for", "followup to", "followup of", "followup for", "followup",
    "addendum to", "addendum for", "addendum of", "addendum", "continuation of", "part of",
    "split from", "split out of", "spun off from", "subtask of", "sub-task of", "child of",
    "parent", "umbrella", "backport of", "backport", "backports", "cherry-pick of",
    "cherry pick of", "cherry-picks", "clone of", "cloned from", "copy of", "revert",
    "reverts", "revert of", "reverting", "regression of", "regression from", "regression in",
    "regressed in", "bug in", "issue in", "problem in", "improve upon", "improvement to",
    "improvement on", "improvements to", "extends", "blocked by", "blocks", "depends on",
    "requires", "required by", "after", "since", "caused by", "broken by", "broke",
    "breaks", "introduced by", "introduced in", NULL};

/* "<past participle> in/by/from/with X" ("Disabled in HIVE-20577", "added
 * by #12", "changed with X") points at the change that did it. */
static int participle_ref(const char *t, size_t n)
{
    static const char *const preps[] = {"in", "by", "from", "with", "via", NULL};
    size_t start;
    if (!ends_with_any(t, n, preps, &start)) return 0;
    size_t e = start;
    while (e > 0 && t[e - 1] == ' ') e--;
    size_t b = e;
    while (b > 0 && is_word(t[b - 1])) b--;
    return e - b >= 4 && t[e - 2] == 'e' && t[e - 1] == 'd';
}

/* A claim that ends in a question mark ("dup of X?") is a question. */
static int question_after(const char *text, size_t end)
{
    for (const char *p = text + end; *p && *p != '\n'; p++) {
        if (*p == '?') return 1;
        if (*p == '.' || *p == '!' || *p == ';') return p[1] == '?';
    }
    return 0;
}

static text_ref_kind classify(const char *text, size_t pos, size_t end, int closing)
{
    static const char *const fixes[] = {"fix", "fixes", "fixed", "close", "closes", "closed",
                                        "resolve", "resolves", "resolved", NULL};
    char t[LOOKBACK + 1];
    size_t from = pos, n = 0, start;
    while (from > 0 && pos - from < LOOKBACK && text[from - 1] != '\n') from--;
    for (size_t i = from; i < pos; i++) t[n++] = (char)tolower((unsigned char)text[i]);
    while (n > 0 && strchr(" \t\r:*_[(", t[n - 1])) n--;
    t[n] = '\0';
    if (ends_with(t, n, "duplicated by", &start))
        return hedged(t, start) || question_after(text, end) ? TEXT_REF_MENTION : TEXT_REF_DUP_BY;
    if (ends_with_any(t, n, dup_phrases, &start))
        return hedged(t, start) || question_after(text, end) ? TEXT_REF_MENTION : TEXT_REF_DUP;
    if (closing && ends_with_any(t, n, fixes, &start)) return TEXT_REF_FIXES;
    if (ends_with_any(t, n, follow_phrases, &start) || participle_ref(t, n))
        return TEXT_REF_FOLLOW;
    return TEXT_REF_MENTION;
}

/* ---- finding references ------------------------------------------------ */

const char *text_skip_to_plain(const char *p, unsigned char lo, unsigned char hi)
{
    while (*p && ((unsigned char)*p < lo || (unsigned char)*p > hi)) p++;
    return p;
}

#if defined(__SSE2__)
#if defined(__has_attribute)
#if __has_attribute(no_sanitize_address)
/* An aligned 16-byte load may read past the NUL (inside the same page);
 * AddressSanitizer would call that an overflow. */
#define SKIP_NO_ASAN __attribute__((no_sanitize_address))
#endif
#endif
#ifndef SKIP_NO_ASAN
#define SKIP_NO_ASAN
#endif

SKIP_NO_ASAN const char *text_skip_to(const char *p, unsigned char lo, unsigned char hi)
{
    /* byte by byte up to a 16-byte boundary */
    while (((uintptr_t)p & 15) != 0) {
        if (!*p || ((unsigned char)*p >= lo && (unsigned char)*p <= hi)) return p;
        p++;
    }
    /* c in [lo, hi] <=> (unsigned)(c - lo) <= hi - lo <=> min(c - lo, hi - lo) == c - lo */
    const __m128i vlo = _mm_set1_epi8((char)lo), vspan = _mm_set1_epi8((char)(hi - lo));
    const __m128i zero = _mm_setzero_si128();
    for (;; p += 16) {
        __m128i v = _mm_load_si128((const __m128i *)(const void *)p);
        __m128i d = _mm_sub_epi8(v, vlo);
        __m128i in = _mm_cmpeq_epi8(_mm_min_epu8(d, vspan), d);
        int m = _mm_movemask_epi8(_mm_or_si128(in, _mm_cmpeq_epi8(v, zero)));
        if (m) return p + __builtin_ctz((unsigned)m);
    }
}
#else
const char *text_skip_to(const char *p, unsigned char lo, unsigned char hi)
{
    return text_skip_to_plain(p, lo, hi);
}
#endif

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

/* Where the word holding a reference starts: just after the last space or
 * '(' before it. A scan meets references left to right; the cursor keeps
 * what was read up to the last one (at) and the start found there, so
 * each byte is read at most once: walking back without that bound is
 * quadratic on text without spaces (",#1,#1,..."), and walking forward
 * over everything since the last reference reads whole bodies for a
 * '#' near their end. */
typedef struct word_cursor {
    size_t at, start;
} word_cursor;

static size_t word_start(const char *t, word_cursor *c, size_t pos)
{
    /* the last space or '(' in [at, pos), looked for from pos back */
    for (size_t i = pos; i > c->at; i--)
        if (isspace((unsigned char)t[i - 1]) || t[i - 1] == '(') {
            c->start = i;
            break;
        }
    if (pos > c->at) c->at = pos;
    return c->start;
}

static void add_number(text_refs *rs, int64_t n, text_ref_kind kind)
{
    char num[24];
    snprintf(num, sizeof num, "%lld", (long long)n);
    ref_add(rs, num, kind);
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
static void scan_hashes(const char *t, const char *repo, int closing, text_refs *rs)
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
        add_number(rs, n, classify(t, word_start(t, &wc, at), (size_t)(end - t), closing));
    }
}

/* Full URLs "https://github.com/o/r/issues/N" (or /pull/N) of this repo. */
static void scan_urls(const char *t, const char *repo, int closing, text_refs *rs)
{
    size_t rlen = repo ? strlen(repo) : 0;
    if (!rlen) return;
    word_cursor wc = {0, 0};
    for (const char *p = strstr(t, "github.com/"); p; p = strstr(p + 1, "github.com/")) {
        const char *r = p + 11, *end;
        if (strncasecmp(r, repo, rlen) != 0 || r[rlen] != '/') continue;
        const char *k = r + rlen + 1;
        if (!strncmp(k, "issues/", 7)) k += 7;
        else if (!strncmp(k, "pull/", 5)) k += 5;
        else continue;
        int64_t n = ref_number(k, &end);
        if (n <= 0) continue;
        add_number(rs, n, classify(t, word_start(t, &wc, (size_t)(p - t)), (size_t)(end - t), closing));
    }
}

/* What may stand between scan_bare's lead words and the number. */
#define BARE_TRIM " \t\r:*_[("

/* Whether some phrase of lead ends with the (lower-case) letter c. */
static int ends_lead(const char *const *lead, char c)
{
    for (int i = 0; lead[i]; i++)
        if (lead[i][strlen(lead[i]) - 1] == c) return 1;
    return 0;
}

/* A number a reporter wrote without '#' right after a duplicate phrase or
 * the word issue/bug ("duplicate of 4652", "see issue 1201"). Only when
 * nothing word-like follows ("duplicate of 3 rows" is not a reference) and
 * the number has at least two digits. */
static void scan_bare(const char *t, int closing, text_refs *rs)
{
    static const char *const lead[] = {"duplicate of", "dup of", "dupe of", "same as",
                                       "issue", "bug", "ticket", "see issue", "see", NULL};
    /* Only a digit can start a number: jump from one to the next. */
    for (const char *p = text_skip_to(t, '0', '9'); *p; p = text_skip_to(p + 1, '0', '9')) {
        if (p > t && (is_word(p[-1]) || strchr("#/.-,", p[-1]))) continue;
        const char *end;
        int64_t n = ref_number(p, &end);
        const char *digits_end = p;
        while (isdigit((unsigned char)*digits_end)) digits_end++;
        if (n < 10 || (*end == '.' && isdigit((unsigned char)end[1]))) {   /* "4.2": a version */
            p = digits_end - 1;
            continue;
        }
        const char *q = end;
        while (*q == ' ' || *q == '\t') q++;
        if (isalnum((unsigned char)*q) || *q == '%' || *q == '$') {
            p = digits_end - 1;
            continue;
        }
        /* The letter the words before it end with, first: most numbers
         * (line numbers of stack frames, sizes, counts) follow no phrase's
         * last letter, and are passed without reading the words. */
        size_t at = (size_t)(p - t), last = at;
        while (last > 0 && at - last < LOOKBACK && t[last - 1] != '\n' && strchr(BARE_TRIM, t[last - 1])) last--;
        if (last == 0 || at - last >= LOOKBACK || t[last - 1] == '\n' ||
            !ends_lead(lead, (char)tolower((unsigned char)t[last - 1]))) {
            p = digits_end - 1;
            continue;
        }
        /* the words just before it, on the same line, up to that letter
         * (what follows it is the markup passed above) */
        char w[LOOKBACK + 1];
        size_t from = last, k = 0, start;
        while (from > 0 && at - from < LOOKBACK && t[from - 1] != '\n') from--;
        for (size_t i = from; i < last; i++) w[k++] = (char)tolower((unsigned char)t[i]);
        w[k] = '\0';
        if (ends_with_any(w, k, lead, &start)) {
            text_ref_kind kind = classify(t, at, (size_t)(end - t), closing);
            if (!(kind == TEXT_REF_DUP && hedged(w, start))) add_number(rs, n, kind);
        }
        p = digits_end - 1;
    }
}

/* Jira keys: an upper-case project of 2+ letters/digits starting with a
 * letter, '-', a number ("HIVE-123"), not glued to a word on either side.
 * Only projects in `projects` (comma-separated; NULL = any) are taken. */
static void scan_jira(const char *t, const char *projects, int closing, text_refs *rs)
{
    word_cursor wc = {0, 0};
    /* Only an upper-case letter can start a key: jump from one to the next. */
    for (const char *p = text_skip_to(t, 'A', 'Z'); *p; p = text_skip_to(p + 1, 'A', 'Z')) {
        if (p > t && (is_word(p[-1]) || p[-1] == '-')) continue;
        const char *q = p;
        while (isupper((unsigned char)*q) || isdigit((unsigned char)*q) || *q == '_') q++;
        size_t plen = (size_t)(q - p);
        if (plen < 2 || *q != '-' || !isdigit((unsigned char)q[1])) {
            p = q > p ? q - 1 : p;
            continue;
        }
        const char *end;
        int64_t n = ref_number(q + 1, &end);
        if (n <= 0 || plen + 12 > MAX_KEY || *end == '-' || (*end == '.' && isdigit((unsigned char)end[1]))) {
            p = q;
            continue;
        }
        if (projects) {
            int ok = 0;
            for (const char *s = projects; *s && !ok;) {
                const char *c = strchr(s, ',');
                size_t l = c ? (size_t)(c - s) : strlen(s);
                ok = l == plen && !strncmp(s, p, plen);
                s = c ? c + 1 : s + l;
            }
            if (!ok) {
                p = end - 1;
                continue;
            }
        }
        char key[MAX_KEY + 1];
        snprintf(key, sizeof key, "%.*s-%lld", (int)plen, p, (long long)n);
        ref_add(rs, key, classify(t, word_start(t, &wc, (size_t)(p - t)), (size_t)(end - t), closing));
        p = end - 1;
    }
}

void text_refs_scan(const char *text, const text_refs_opts *o, text_refs *out)
{
    if (!text || !*text) return;
    char *t = xstrdup(text);
    blank_fences(t);
    blank_spans(t);
    blank_jira_blocks(t);
    if (o->numeric) {
        scan_hashes(t, o->repo, o->closing, out);
        scan_urls(t, o->repo, o->closing, out);
        if (o->bare) scan_bare(t, o->closing, out);
    }
    if (o->jira) scan_jira(t, o->projects, o->closing, out);
    free(t);
}
