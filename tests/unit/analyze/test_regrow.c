/* test_regrow.c -- an incremental analysis writes its grown persisted index
 * anew once it was grown by analyze_regrow_items new items (when its
 * memory ceiling leaves room to merge the lists), so that the runs after
 * it read and index only what came since.
 *
 * The fixture is 400 similar issues (as tests/cli/test_index_grow.sh makes
 * them): a few more move the averages of field lengths by well under the
 * statistics of record's bound, so the persisted index can grow.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../../src/analyze/analyze.h"
#include "../../../src/store/store.h"

#define T0 1577836800   /* 2020-01-01 */
#define DAY 86400

typedef struct fx {
    char path[64];
    store *st;
    int64_t repo;
} fx;

static const char *const W[] = {"cache",  "leak",   "timeout", "socket", "parser", "config", "thread",
                                "crash",  "replica", "schema", "token",  "memory", "disk",   "queue",
                                "lock",   "retry",  "index",   "shard",  "client", "server", "metric",
                                "widget", "render", "upload",  "export", "import", "login",  "session",
                                "proxy"};
#define NW (sizeof W / sizeof W[0])

static const char *w(int n, int k) { return W[(size_t)(n * 7 + k * 13 + (n / 3) * k) % NW]; }

/* Issue n, created on day n. */
static void put(fx *f, int n)
{
    char key[16], title[160], body[600];
    snprintf(key, sizeof key, "%d", n);
    snprintf(title, sizeof title, "%s %s fails with %s after %s restart", w(n, 1), w(n, 2), w(n, 3), w(n, 4));
    snprintf(body, sizeof body,
             "When the %s of the %s is busy the %s stops and %s grows. Seen with %s and %s enabled; %s %s "
             "keeps retrying.\n\n```\nError: %s %s failed at %s.c:%d\n```\n",
             w(n, 5), w(n, 6), w(n, 7), w(n, 8), w(n, 9), w(n, 10), w(n, 11), w(n, 12), w(n, 13), w(n, 14),
             w(n, 15), n % 97);
    item it;
    item_init(&it);
    it.key = key;
    it.number = n;
    it.title = title;
    it.body = body;
    it.state = "open";
    it.created_at = T0 + (int64_t)n * DAY / 4;
    it.updated_at = it.created_at + 3600;
    dp_err err;
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, NULL, &err), DP_OK);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    snprintf(f->path, sizeof f->path, "/tmp/doppel-test-regrow-%d.db", (int)getpid());
    unlink(f->path);
    dp_err err;
    assert_int_equal(store_open(f->path, &f->st, &err), DP_OK);
    assert_int_equal(store_repo_get(f->st, "acme/widget", 1, "github", "https://github.com/acme/widget", &f->repo,
                                    &err),
                     DP_OK);
    for (int n = 1; n <= 400; n++) put(f, n);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    store_close(f->st);
    const char *ext[] = {"", "-wal", "-shm", "-index-%lld", "-index-%lld.seal"};
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        char suffix[32], p[128];
        snprintf(suffix, sizeof suffix, ext[i], (long long)f->repo);
        snprintf(p, sizeof p, "%s%s", f->path, suffix);
        unlink(p);
    }
    free(f);
    return 0;
}

static void run_within(fx *f, int mode, size_t max_memory, analyze_stats *s)
{
    analyze_opts o;
    analyze_opts_default(&o);
    o.threads = 2;
    o.mode = mode;
    if (max_memory) o.max_memory = max_memory;
    o.now = T0 + 200 * DAY;
    dp_err err;
    if (analyze_run(f->st, f->repo, &o, NULL, NULL, s, &err) != DP_OK) fail_msg("analyze_run: %s", err.msg);
}

static void run(fx *f, int mode, analyze_stats *s) { run_within(f, mode, 0, s); }

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The pairs of the queries numbered from `from` on, "q>c#rank ...", sorted. */
static char *pairs_from(fx *f, int from)
{
    pair_filter pf;
    pair_filter_init(&pf);
    pf.repo_id = f->repo;
    pair_vec pv = {0};
    dp_err err;
    assert_int_equal(store_pairs_query(f->st, &pf, &pv, NULL, NULL, &err), DP_OK);
    strvec v = {0};
    for (size_t i = 0; i < pv.n; i++) {
        if (atoi(pv.v[i].query_key) < from) continue;
        char *e = xasprintf("%s>%s#%d", pv.v[i].query_key, pv.v[i].cand_key, pv.v[i].rank);
        sv_push(&v, e);
        free(e);
    }
    pair_vec_free(&pv);
    qsort(v.v, v.n, sizeof *v.v, cmp_str);
    sbuf sb;
    sb_init(&sb);
    for (size_t i = 0; i < v.n; i++) sb_printf(&sb, "%s%s", i ? " " : "", v.v[i]);
    sv_free(&v);
    return sb.s ? sb_take(&sb) : xstrdup("");
}

static void test_regrow_persists(void **state)
{
    fx *f = *state;
    size_t was = analyze_regrow_items;
    analyze_regrow_items = 3;
    analyze_stats s;
    run(f, ANALYZE_AUTO, &s);   /* the first run: builds and writes the file */
    assert_true(s.index_saved);
    put(f, 401);
    put(f, 402);
    run(f, ANALYZE_AUTO, &s);
    assert_true(s.incremental && s.index_mapped);
    assert_int_equal(s.grown, 2);
    assert_false(s.index_saved);   /* below the bound: the file stays as it was */
    put(f, 403);
    run(f, ANALYZE_AUTO, &s);
    assert_true(s.incremental && s.index_mapped);
    assert_int_equal(s.grown, 3);   /* 401 and 402 again, and 403 */
    assert_true(s.index_saved);     /* the bound: written anew */
    put(f, 404);
    run(f, ANALYZE_AUTO, &s);
    assert_true(s.incremental && s.index_mapped);
    assert_int_equal(s.grown, 1);   /* 404 alone: the file holds 401-403 */
    assert_false(s.index_saved);

    /* under a ceiling without room to merge the lists, the file stays
     * behind; a run with room writes it */
    put(f, 405);
    put(f, 406);
    run_within(f, ANALYZE_AUTO, (size_t)1 << 20, &s);
    assert_int_equal(s.grown, 3);
    assert_false(s.index_saved);
    put(f, 407);
    run(f, ANALYZE_AUTO, &s);
    assert_int_equal(s.grown, 4);
    assert_true(s.index_saved);
    char *incr = pairs_from(f, 401);
    assert_non_null(strstr(incr, "407>"));
    /* a run that builds the index from every item stores the same pairs
     * for the new queries */
    run(f, ANALYZE_FULL, &s);
    char *full = pairs_from(f, 401);
    assert_string_equal(incr, full);
    free(incr);
    free(full);
    analyze_regrow_items = was;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_regrow_persists, setup, teardown),
    };
    return cmocka_run_group_tests_name("regrow", tests, NULL, NULL);
}
