/* store_pairs.c -- speed of the store's pair paths on a synthetic database:
 * 20k items, 100k pairs (5 per query), 5k verdicts. Built and run by
 * bench/pairs_api.sh (which also loads the HTTP API); by hand:
 *
 *   make BUILD=build/bench build/bench/doppel      # builds the store and common objects
 *   cc -std=c11 -D_GNU_SOURCE -O2 -o build/bench/store_pairs bench/store_pairs.c \
 *        $(ls build/bench/store/[!.]*.o build/bench/common/[!.]*.o) \
 *        $(pkg-config --libs sqlite3 jansson zlib libutf8proc) -lm
 *   build/bench/store_pairs [npairs [keep.db]] [--plans]
 *
 * With keep.db the database is written there and kept (for EXPLAIN QUERY
 * PLAN sessions); otherwise it lives in a temporary directory. --plans also
 * prints the query plan of every path of each filter.
 *
 * Prints, for each query, the median of 21 runs in milliseconds of wall
 * time and of process CPU time (the latter is what to compare on a busy
 * machine), once for one repository and once for all (repo_id 0). Counts
 * are cached by the store until the database changes, so they are timed
 * twice: "warm" (cache hit) and "cold" (after a one-row write, whose own
 * cost is printed too).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../src/store/store_int.h"
#include "bench.h"

static const char *words[] = {"crash", "error", "timeout", "parser", "memory", "leak", "docs", "window",
                              "dark",  "mode",  "login",   "cache",  "index",  "query", "slow", "fails"};
static const char *labels[] = {"bug", "docs", "enhancement", "question", "perf", "ui", "build", "test"};


static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct timing { double wall, cpu; } timing;

/* Median wall and CPU time of 21 runs of fn, in ms. */
static timing median_of(void (*fn)(void *), void *arg)
{
    double w[21], c[21];
    for (int r = 0; r < 21; r++) {
        double t0 = dp_now(), c0 = cpu_now();
        fn(arg);
        w[r] = (dp_now() - t0) * 1000;
        c[r] = (cpu_now() - c0) * 1000;
    }
    qsort(w, 21, sizeof w[0], cmp_double);
    qsort(c, 21, sizeof c[0], cmp_double);
    return (timing){w[10], c[10]};
}

typedef struct qarg {
    store *st;
    const pair_filter *f;
    int64_t id;
    size_t total, rows;
} qarg;

static void run_query(void *p)
{
    qarg *a = p;
    dp_err err;
    pair_vec v = {0};
    if (store_pairs_query(a->st, a->f, &v, &a->total, NULL, &err) != DP_OK) die("query", &err);
    a->rows = v.n;
    pair_vec_free(&v);
}

/* The page alone: no counts asked. */
static void run_page(void *p)
{
    qarg *a = p;
    dp_err err;
    pair_vec v = {0};
    if (store_pairs_query(a->st, a->f, &v, NULL, NULL, &err) != DP_OK) die("query", &err);
    pair_vec_free(&v);
}

static unsigned writes;

/* A one-row write: enough to make every cached count stale. */
static void run_write(void *p)
{
    qarg *a = p;
    dp_err err;
    char v[32];
    snprintf(v, sizeof v, "%u", ++writes);
    if (store_kv_set(a->st, 0, "bench.touch", v, &err) != DP_OK) die("kv", &err);
}

/* Page and counts after a write: the counts are computed afresh. */
static void run_query_cold(void *p)
{
    run_write(p);
    run_query(p);
}

static void run_neighbors(void *p)
{
    qarg *a = p;
    dp_err err;
    int64_t prev, next;
    if (store_pair_neighbors(a->st, a->f, a->id, &prev, &next, &err) != DP_OK) die("neighbors", &err);
}

int main(int argc, char **argv)
{
    int plans = 0, npos = 0;
    const char *pos[2] = {NULL, NULL};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--plans")) plans = 1;
        else if (npos < 2) pos[npos++] = argv[i];
    }
    size_t npairs = pos[0] ? (size_t)atol(pos[0]) : 100000;
    if (npairs < 10) npairs = 10;
    size_t nitems = npairs / 5;
    char dir[] = "/tmp/doppel-bench-XXXXXX", path[512];
    if (!mkdtemp(dir)) return 1;
    snprintf(path, sizeof path, "%s/b.db", dir);
    if (pos[1]) snprintf(path, sizeof path, "%s", pos[1]);
    store *st;
    dp_err err;
    int64_t repo;
    srand(42);
    if (store_open(path, &st, &err) != DP_OK) die("open", &err);
    if (store_repo_get(st, "bench/repo", 1, "github", NULL, &repo, &err) != DP_OK) die("repo", &err);

    double t0 = dp_now(), c0 = cpu_now();
    if (store_begin(st, &err) != DP_OK) die("begin", &err);
    for (size_t i = 1; i <= nitems; i++) {
        item it;
        item_init(&it);
        it.key = xasprintf("%zu", i);
        it.number = (int64_t)i;
        it.title = xasprintf("%s %s in %s %zu", words[rand() % 16], words[rand() % 16], words[rand() % 16], i);
        it.body = xstrdup("body text");
        it.state = xstrdup(rand() % 3 ? "closed" : "open");
        it.created_at = 1500000000 + (int64_t)i * 60;
        it.updated_at = it.created_at + rand() % 100000;
        for (int k = rand() % 3; k > 0; k--) sv_push(&it.labels, labels[rand() % 8]);
        if (store_item_upsert(st, repo, &it, NULL, &err) != DP_OK) die("item", &err);
        item_free(&it);
    }
    if (store_commit(st, &err) != DP_OK) die("commit", &err);
    double t_items = dp_now() - t0, c_items = cpu_now() - c0;

    pair *ps = xcalloc(npairs, sizeof *ps);
    for (size_t i = 0; i < npairs; i++) {
        ps[i].query_key = xasprintf("%zu", i / 5 + 1);
        ps[i].cand_key = xasprintf("%zu", (i / 5 + 1 + (i % 5) * 997 + 1) % nitems + 1);
        if (strcmp(ps[i].query_key, ps[i].cand_key) == 0) {
            free(ps[i].cand_key);
            ps[i].cand_key = xstrdup("0");
        }
        ps[i].rank = (int)(i % 5) + 1;
        ps[i].relation = rand() % 4 ? RELATION_RELATED : RELATION_DUPLICATE;
        ps[i].confidence = rand() % 3 == 0 ? CONFIDENCE_HIGH : rand() % 2 ? CONFIDENCE_MEDIUM : CONFIDENCE_LOW;
        ps[i].value = (double)rand() / RAND_MAX * 5;
        ps[i].prob = (double)rand() / RAND_MAX;
        ps[i].known = rand() % 20 == 0;
        ps[i].reasoning = xstrdup("Shared rare terms: crash, parser.\nSame label: bug.");
        ps[i].suggested_comment = xstrdup("Possibly a duplicate of #123.");
    }
    t0 = dp_now();
    c0 = cpu_now();
    if (store_pairs_replace(st, repo, NULL, 0, ps, npairs, &err) != DP_OK) die("pairs", &err);
    double t_pairs = dp_now() - t0, c_pairs = cpu_now() - c0;
    for (size_t i = 0; i < npairs; i += npairs / 5000 ? npairs / 5000 : 1)
        if (store_verdict_set(st, repo, ps[i].query_key, ps[i].cand_key, VERDICT_DUPLICATE, &err) != DP_OK)
            die("verdict", &err);

    printf("items: %zu upserts in one transaction: %.0f ms wall %.0f ms cpu\n", nitems, t_items * 1000,
           c_items * 1000);
    printf("pairs: replace %zu pairs: %.0f ms wall %.0f ms cpu\n", npairs, t_pairs * 1000, c_pairs * 1000);

    struct { const char *name; pair_filter f; } q[8];
    for (int i = 0; i < 8; i++) {
        pair_filter_init(&q[i].f);
        q[i].f.repo_id = repo;
        q[i].f.limit = 50;
    }
    q[0].name = "first page, no filter";
    q[1].name = "page 100 (offset 5000)";
    q[1].f.offset = 5000;
    q[2].name = "duplicate+open query+unreviewed";
    q[2].f.relation = RELATION_DUPLICATE;
    q[2].f.query_state = "open";
    q[2].f.reviewed = 0;
    q[3].name = "label 'perf' on either side";
    q[3].f.label = "perf";
    q[4].name = "text 'memory leak'";
    q[4].f.text = "memory leak";
    q[5].name = "sort updated";
    q[5].f.sort = "updated";
    q[6].name = "all filters";
    q[6].f.relation = RELATION_RELATED;
    q[6].f.confidence = CONFIDENCE_HIGH;
    q[6].f.query_state = "closed";
    q[6].f.cand_state = "closed";
    q[6].f.label = "bug";
    q[6].f.reviewed = 0;
    q[6].f.include_known = 0;
    q[6].f.text = "crash";
    q[7].name = "hide known, sort prob";
    q[7].f.include_known = 0;
    q[7].f.sort = "prob";
    pair mid;
    if (store_pair_find(st, repo, ps[npairs / 2].query_key, ps[npairs / 2].cand_key, &mid, &err) != DP_OK)
        die("find", &err);
    for (int all = 0; all < 2; all++) {
        printf("-- %s\n", all ? "all repositories (repo_id 0)" : "one repository");
        for (int i = 0; i < 8; i++) {
            q[i].f.repo_id = all ? 0 : repo;
            qarg a = {st, &q[i].f, 0, 0, 0};
            timing warm = median_of(run_query, &a), cold = median_of(run_query_cold, &a);
            timing page = median_of(run_page, &a);
            printf("query %-34s total %6zu rows %2zu  page %6.2f ms | +count warm %6.2f cold %6.2f ms "
                   "(cpu %6.2f)\n",
                   q[i].name, a.total, a.rows, page.wall, warm.wall, cold.wall, cold.cpu);
            if (plans) {
                sbuf sb;
                sb_init(&sb);
                if (store_pairs_explain(st, &q[i].f, &sb, &err) != DP_OK) die("explain", &err);
                printf("%s", sb_str(&sb));
                sb_free(&sb);
            }
        }
        int nb[] = {0, 2, 4, 5};
        for (int i = 0; i < 4; i++) {
            qarg a = {st, &q[nb[i]].f, mid.id, 0, 0};
            timing t = median_of(run_neighbors, &a);
            printf("neighbors %-30s                       median %7.2f ms wall %7.2f ms cpu\n", q[nb[i]].name,
                   t.wall, t.cpu);
        }
    }
    qarg w = {st, NULL, 0, 0, 0};
    timing wt = median_of(run_write, &w);
    printf("one-row write (kv) that invalidates cached counts: median %.2f ms wall\n", wt.wall);
    pair_free(&mid);

    for (size_t i = 0; i < npairs; i++) {
        ps[i].verdict = VERDICT_NONE;
        pair_free(&ps[i]);
    }
    free(ps);
    store_close(st);
    char p2[600];
    if (pos[1]) {
        rmdir(dir);
        return 0;
    }
    unlink(path);
    snprintf(p2, sizeof p2, "%s-wal", path);
    unlink(p2);
    snprintf(p2, sizeof p2, "%s-shm", path);
    unlink(p2);
    rmdir(dir);
    return 0;
}
