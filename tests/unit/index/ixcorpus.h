/* ixcorpus.h -- the deterministic corpus and the equality checks the index
 * tests share (test_snapshot.c, test_index_file.c): items with a template
 * line, traces, code and unique words; "same docs" and "same rankings"
 * between two indexes. Static functions: include it in one test program. */
#ifndef DP_TEST_IXCORPUS_H
#define DP_TEST_IXCORPUS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../../src/index/index.h"

static const char *WORDS[] = {"cache", "leak", "timeout", "socket", "parser", "config", "thread",
                              "crash", "replica", "schema", "token", "memory", "disk", "queue",
                              "lock", "retry", "index", "shard", "client", "server", "metric"};
#define NW (sizeof WORDS / sizeof WORDS[0])

/* A word unique to item i ("kqab"), so no body line but the template's
 * repeats across items (digits would not do: the template folds them). */
static const char *uniq(size_t i, char *buf)
{
    buf[0] = 'k';
    size_t n = 1;
    do { buf[n++] = (char)('a' + i % 26); i /= 26; } while (i);
    buf[n] = '\0';
    return buf;
}

/* Deterministic corpus: every body shares a template line, some carry a
 * stack trace or a code block, titles mix a few words. */
static void make_item(item *it, size_t i)
{
    char u[16];
    item_init(it);
    char key[32], title[256];
    snprintf(key, sizeof key, "P-%zu", i + 1);
    snprintf(title, sizeof title, "%s %s fails with %s after %zu", WORDS[i % NW], WORDS[(i * 7 + 3) % NW],
             WORDS[(i * 13 + 5) % NW], i % 17);
    sbuf b;
    sb_init(&b);
    sb_adds(&b, "### Steps to reproduce the problem\n");
    sb_printf(&b, "The %s of the %s goes wrong when %s is busy (%s).\n", WORDS[(i * 3) % NW],
              WORDS[(i * 5 + 1) % NW], WORDS[(i * 11 + 2) % NW], uniq(i, u));
    if (i % 3 == 0)
        sb_printf(&b, "```\njava.lang.IllegalStateException: %s closed\n"
                      "\tat org.example.%s.Worker.run(Worker.java:%zu)\n```\n",
                  WORDS[i % NW], WORDS[(i * 5) % NW], 10 + i % 9);
    if (i % 4 == 1)
        sb_printf(&b, "Seen on version 2.%zu.1 with src/%s/main.c by %s\n", i % 5, WORDS[i % NW], uniq(i, u));
    it->key = xstrdup(key);
    it->title = xstrdup(title);
    it->body = sb_take(&b);
    sv_push(&it->labels, i % 2 ? "bug" : "enhancement");
    it->created_at = 1600000000 + (int64_t)i * 3600;
}

static item *corpus(size_t n)
{
    item *v = xcalloc(n, sizeof *v);
    for (size_t i = 0; i < n; i++) make_item(&v[i], i);
    return v;
}

/* A scratch path for index files, fresh for each test: setup/teardown of
 * the tests that write them. */
static char ix_path[256];

/* The file at ix_path and its seal (index.h, "Seals") gone. */
static inline void ix_path_clear(void)
{
    char seal[300];
    snprintf(seal, sizeof seal, "%s.seal", ix_path);
    unlink(ix_path);
    unlink(seal);
}

static inline int ix_path_setup(void **st)
{
    (void)st;
    snprintf(ix_path, sizeof ix_path, "/tmp/doppel-test-ixfile-%ld", (long)getpid());
    ix_path_clear();
    return 0;
}

static inline int ix_path_teardown(void **st)
{
    (void)st;
    ix_path_clear();
    return 0;
}

static void free_items(item *v, size_t n)
{
    for (size_t i = 0; i < n; i++) item_free(&v[i]);
    free(v);
}

static void params(index_params *p)
{
    index_params_default(p);
    p->threads = 2;
}

static void assert_vec_equal(const strvec *a, const strvec *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) assert_string_equal(a->v[i], b->v[i]);
}

/* Same docs, same text, same dates, same terms (by string) and counts. */
static void assert_docs_equal(const dindex *a, const dindex *b)
{
    assert_int_equal(index_ndocs(a), index_ndocs(b));
    for (uint32_t d = 0; d < index_ndocs(a); d++) {
        for (int f = 0; f < FIELD_COUNT; f++)
            assert_string_equal(index_doc_fields(a, d)->f[f], index_doc_fields(b, d)->f[f]);
        const text_signals *x = index_doc_signals(a, d), *y = index_doc_signals(b, d);
        assert_vec_equal(&x->exceptions, &y->exceptions);
        assert_vec_equal(&x->frames, &y->frames);
        assert_vec_equal(&x->paths, &y->paths);
        assert_vec_equal(&x->errors, &y->errors);
        assert_vec_equal(&x->versions, &y->versions);
        index_doc_terms ta, tb;
        index_doc_terms_get(a, d, &ta);
        index_doc_terms_get(b, d, &tb);
        assert_int_equal(ta.n, tb.n);
        assert_memory_equal(ta.len, tb.len, sizeof(uint32_t) * FIELD_COUNT);
        assert_int_equal(index_doc_created(a, d), index_doc_created(b, d));   /* a file's: its items' */
        for (size_t i = 0; i < ta.n; i++) {   /* ids may differ: match by string */
            const char *s = index_term_str(a, ta.terms[i]);
            size_t j = 0;
            while (j < tb.n && strcmp(index_term_str(b, tb.terms[j]), s) != 0) j++;
            assert_true(j < tb.n);
            assert_memory_equal(ta.tf[i], tb.tf[j], sizeof ta.tf[i]);
        }
    }
}

/* Their snapshots are the same bytes. */
static void assert_snapshots_equal(const dindex *a, const dindex *b)
{
    sbuf sa, sb;
    sb_init(&sa);
    sb_init(&sb);
    index_snapshot_save(a, &sa);
    index_snapshot_save(b, &sb);
    assert_int_equal(sa.len, sb.len);
    assert_memory_equal(sa.s, sb.s, sa.len);
    sb_free(&sa);
    sb_free(&sb);
}

/* Every doc's top 10 agrees: same docs in the same order, scores within
 * tol (0 = bit for bit). */
static void assert_rankings_equal(const dindex *a, const dindex *b, double tol)
{
    index_hit ha[10], hb[10];
    for (uint32_t d = 0; d < index_ndocs(a); d++) {
        index_query qa, qb;
        index_query_from_doc(a, d, &qa);
        index_query_from_doc(b, d, &qb);
        size_t na = index_topk(a, &qa, 0, (uint32_t)index_ndocs(a), d, 10, ha);
        size_t nb = index_topk(b, &qb, 0, (uint32_t)index_ndocs(b), d, 10, hb);
        assert_int_equal(na, nb);
        for (size_t i = 0; i < na; i++) {
            if (tol == 0) {
                assert_int_equal(ha[i].doc, hb[i].doc);
                assert_true(ha[i].score == hb[i].score);
            } else {
                assert_float_equal(ha[i].score, hb[i].score, tol * (1 + fabs(ha[i].score)));
            }
        }
        index_query_free(&qa);
        index_query_free(&qb);
    }
}

#endif
