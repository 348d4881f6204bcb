/* template.c -- learning a repository's boilerplate lines statistically.
 *
 * Issue templates ("### Describe the bug", "- [x] I have searched existing
 * issues", "**Environment**") repeat across many bodies of one repository
 * and carry no evidence about the issue itself; worse, they make every pair
 * of issues look alike. We learn them without any hard-coded template: each
 * body line outside code blocks is normalised (trimmed, case-folded, digit
 * runs collapsed to one '0', whitespace collapsed, "[x]" == "[ ]"), and a
 * line that occurs in at least max(TPL_MIN_DOCS, TPL_SHARE * n) distinct
 * bodies is boilerplate.
 *
 * Why these numbers: a real template line appears in a large share of the
 * issues filed after the template was introduced (typically 20-90% on GitHub
 * repositories); a natural sentence that repeats in 2% of all issues ("Steps
 * to reproduce:", "Thanks") is just as uninformative for duplicate search,
 * so dropping it is harmless. The absolute floor of 5 documents keeps small
 * repositories (and unit-test corpora) from losing ordinary lines that two or
 * three issues happen to share -- such lines are evidence of duplication.
 */
#include "text.h"
#include "text_int.h"
#include "../common/hashmap.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#define TPL_MIN_DOCS 5
#define TPL_SHARE 0.02

struct text_template {
    uint64_t *hash;   /* sorted normalised-line hashes */
    size_t n;
};

uint64_t text_line_norm_hash(const char *s, size_t n)
{
    while (n && text_c_space((unsigned char)*s)) { s++; n--; }
    while (n && text_c_space((unsigned char)s[n - 1])) n--;
    if (n == 0 || n > 4096) return 0;
    unsigned char *folded = NULL;
    int ascii = 1;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80) { ascii = 0; break; }
    if (!ascii) {
        utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &folded,
                                          UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT |
                                              UTF8PROC_CASEFOLD);
        if (r >= 0) { s = (const char *)folded; n = (size_t)r; }
        else { free(folded); folded = NULL; }
    }
    unsigned char buf[4096];
    size_t m = 0, alnum = 0;
    for (size_t i = 0; i < n && m < sizeof buf - 4; i++) {
        unsigned char c = (unsigned char)s[i];
        if (text_c_digit(c)) {
            while (i + 1 < n && text_c_digit((unsigned char)s[i + 1])) i++;
            buf[m++] = '0';
            alnum++;
        } else if (text_c_space(c)) {
            while (i + 1 < n && text_c_space((unsigned char)s[i + 1])) i++;
            buf[m++] = ' ';
        } else if (c == '[' && i + 2 < n && (s[i + 1] == 'x' || s[i + 1] == 'X') && s[i + 2] == ']') {
            buf[m++] = '[';
            buf[m++] = ' ';
            buf[m++] = ']';
            i += 2;
        } else {
            if (c >= 0x80 || text_c_alpha(c)) alnum++;   /* both count as letters */
            buf[m++] = text_c_tolower(c);
        }
    }
    free(folded);
    if (alnum < 3) return 0;
    uint64_t h = dp_hash(buf, m);
    return h ? h : 1;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Collects the distinct normalised-line hashes of one body's non-code
 * lines into *v (reset first). Fence tracking mirrors text_split closely
 * enough: lines inside ``` / {code} / {noformat} are never template. */
static void body_hashes(const char *body, uint64_t **v, size_t *n, size_t *cap)
{
    *n = 0;
    int in_fence = 0, in_jira = 0;
    const char *p = body;
    while (p && *p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        size_t i = 0;
        while (i < len && i < 3 && p[i] == ' ') i++;
        if (len - i >= 3 && (memcmp(p + i, "```", 3) == 0 || memcmp(p + i, "~~~", 3) == 0)) {
            in_fence = !in_fence;
        } else if (!in_fence) {
            /* toggle on every {code}/{noformat} marker in the line */
            int had = 0;
            for (size_t j = 0; j < len; j++) {
                int kind;
                size_t ml;
                if (p[j] == '{' && text_jira_marker(p + j, len - j, &kind, &ml) && kind != 3) {
                    in_jira = !in_jira;
                    had = 1;
                    j += ml - 1;
                }
            }
            if (!in_jira && !had && !text_line_is_trace(p, len)) {
                uint64_t h = text_line_norm_hash(p, len);
                if (h) {
                    if (*n == *cap) {
                        *cap = *cap ? *cap * 2 : 64;
                        *v = xrealloc(*v, *cap * sizeof **v);
                    }
                    (*v)[(*n)++] = h;
                }
            }
        }
        if (!nl) break;
        p = nl + 1;
    }
    if (*n > 1) {
        qsort(*v, *n, sizeof **v, cmp_u64);
        size_t w = 1;
        for (size_t i = 1; i < *n; i++)
            if ((*v)[i] != (*v)[w - 1]) (*v)[w++] = (*v)[i];
        *n = w;
    }
}

/* Learning on several threads: each counts the bodies of the chunks it
 * takes into a map of its own; the maps are summed after. A line's count
 * is a sum, the same whoever counted which body, so the template is the
 * one a single thread learns. */
#define TPL_CHUNK 512
#define TPL_MAX_THREADS 16
typedef struct learn_job {
    const char *const *bodies;
    size_t n;
    atomic_size_t next;
    atomic_int slot;
    dp_u64map maps[TPL_MAX_THREADS];
} learn_job;

static void *learn_run(void *arg)
{
    learn_job *j = arg;
    int me = atomic_fetch_add(&j->slot, 1);
    if (me >= TPL_MAX_THREADS) return NULL;   /* never: at most TPL_MAX_THREADS start */
    dp_u64map *m = &j->maps[me];
    uint64_t *v = NULL;
    size_t vn = 0, vcap = 0;
    for (size_t lo; (lo = atomic_fetch_add(&j->next, TPL_CHUNK)) < j->n;) {
        size_t hi = lo + TPL_CHUNK < j->n ? lo + TPL_CHUNK : j->n;
        for (size_t d = lo; d < hi; d++) {
            body_hashes(j->bodies[d], &v, &vn, &vcap);
            for (size_t i = 0; i < vn; i++) (*dp_u64map_at(m, v[i]))++;
        }
    }
    free(v);
    return NULL;
}

text_template *text_template_learn_threads(const char *const *bodies, size_t n, int threads)
{
    text_template *t = xcalloc(1, sizeof *t);
    learn_job *j = xcalloc(1, sizeof *j);
    j->bodies = bodies;
    j->n = n;
    atomic_init(&j->next, 0);
    atomic_init(&j->slot, 0);
    if (threads > TPL_MAX_THREADS) threads = TPL_MAX_THREADS;
    dp_run_threads(n < 2 * TPL_CHUNK ? 1 : threads, learn_run, j);
    dp_u64map *m = &j->maps[0];   /* line hash (never 0) -> bodies it occurs in */
    for (int k = 1; k < TPL_MAX_THREADS; k++) {
        size_t pos = 0;
        uint64_t key, cnt;
        while (dp_u64map_next(&j->maps[k], &pos, &key, &cnt)) *dp_u64map_at(m, key) += cnt;
        dp_u64map_free(&j->maps[k]);
    }
    double share = ceil(TPL_SHARE * (double)n);
    uint32_t thr = (uint32_t)(share > TPL_MIN_DOCS ? share : TPL_MIN_DOCS);
    size_t cap = 0, pos = 0;
    uint64_t key, cnt;
    while (dp_u64map_next(m, &pos, &key, &cnt)) {
        if (cnt < thr) continue;
        if (t->n == cap) {
            cap = cap ? cap * 2 : 16;
            t->hash = xrealloc(t->hash, cap * sizeof *t->hash);
        }
        t->hash[t->n++] = key;
    }
    if (t->n > 1) qsort(t->hash, t->n, sizeof *t->hash, cmp_u64);   /* slot order is no order */
    dp_u64map_free(m);
    free(j);
    return t;
}

text_template *text_template_learn(const char *const *bodies, size_t n)
{
    return text_template_learn_threads(bodies, n, 1);
}

int text_template_is_boilerplate(const text_template *t, const char *line, size_t len)
{
    if (!t || t->n == 0) return 0;
    uint64_t h = text_line_norm_hash(line, len);
    if (!h) return 0;
    return bsearch(&h, t->hash, t->n, sizeof *t->hash, cmp_u64) != NULL;
}

size_t text_template_size(const text_template *t)
{
    return t ? t->n : 0;
}

const uint64_t *text_template_hashes(const text_template *t, size_t *n)
{
    *n = t ? t->n : 0;
    return t ? t->hash : NULL;
}

text_template *text_template_from_hashes(const uint64_t *h, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (h[i] <= h[i - 1]) return NULL;
    text_template *t = xcalloc(1, sizeof *t);
    if (n) {
        t->hash = xmalloc(n * sizeof *t->hash);
        memcpy(t->hash, h, n * sizeof *t->hash);
    }
    t->n = n;
    return t;
}

void text_template_free(text_template *t)
{
    if (!t) return;
    free(t->hash);
    free(t);
}
