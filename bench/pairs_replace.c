/* pairs_replace.c -- the store's half of a full `analyze`, alone: the pairs
 * of a repository already in a database are read into memory, then written
 * back the way a full run writes them (store_begin, store_pairs_bulk_begin,
 * the old pairs deleted, the new ones added in batches of 4096, the index
 * snapshot put back, store_pairs_bulk_end, store_commit), each step timed in
 * wall and CPU seconds. No ranking and no explaining: what is left is what
 * the store costs, at the size of a real run. Run by bench/pairs_replace.sh;
 * by hand (the database is rewritten: use a copy):
 *
 *   make build/bench/pairs_replace
 *   build/bench/pairs_replace COPY.db [repo-name]
 *
 * The read pairs go back with the same content (new ids), so the run can be
 * repeated on the same copy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../src/store/store_int.h"
#include "bench.h"

#define BATCH 4096


static double w0, c0, wsum, csum;

static void lap(const char *step)
{
    double w = dp_now() - w0, c = cpu_now() - c0;
    printf("%-22s %8.2f s wall %8.2f s cpu\n", step, w, c);
    fflush(stdout);
    wsum += w;
    csum += c;
    w0 = dp_now();
    c0 = cpu_now();
}

static int ref_cmp(const void *a, const void *b)
{
    const pair_ref *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: pairs_replace COPY.db [repo-name]\n");
        return 2;
    }
    store *st;
    dp_err err;
    w0 = dp_now();
    c0 = cpu_now();
    if (store_open(argv[1], &st, &err) != DP_OK) die("open", &err);
    lap("open (migrations)");
    int64_t repo = 0;
    if (argc > 2) {
        if (store_repo_get(st, argv[2], 0, NULL, NULL, &repo, &err) != DP_OK) die("repository", &err);
    } else {
        sqlite3_stmt *s;
        if (sqlite3_prepare_v2(st->db, "SELECT repo_id FROM pair_counts GROUP BY repo_id ORDER BY sum(n) DESC",
                               -1, &s, NULL) != SQLITE_OK)
            return 1;
        if (sqlite3_step(s) == SQLITE_ROW) repo = sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
    }
    if (!repo) {
        fprintf(stderr, "bench: no pairs to replace\n");
        return 1;
    }

    /* the pairs, in id order (the order a run wrote them) */
    w0 = dp_now();
    c0 = cpu_now();
    pair_ref_vec refs = {0};
    if (store_pair_refs_load(st, repo, &refs, &err) != DP_OK) die("refs", &err);
    qsort(refs.v, refs.n, sizeof *refs.v, ref_cmp);
    pair *pairs = xcalloc(refs.n ? refs.n : 1, sizeof *pairs);
    for (size_t i = 0; i < refs.n; i++)
        if (store_pair_get(st, refs.v[i].id, &pairs[i], &err) != DP_OK) die("pair", &err);
    size_t n = refs.n;
    pair_ref_vec_free(&refs);
    void *snap = NULL;
    size_t snaplen = 0;
    int has_snap = store_cache_get(st, repo, "index", &snap, &snaplen, &err);
    if (has_snap == DP_ERR) die("snapshot", &err);
    printf("%zu pairs of repository %lld, snapshot %.1f MB\n", n, (long long)repo,
           has_snap == DP_OK ? snaplen / 1048576.0 : 0.0);
    lap("read (not counted)");
    wsum = csum = 0;

    /* what analyze's full run does, in its order, with mmap off as it is then */
    if (store_mmap_limit(st, 0, &err) != DP_OK) die("mmap", &err);
    if (store_begin(st, &err) != DP_OK) die("begin", &err);
    int dropped = 0;
    if (store_pairs_bulk_begin(st, repo, n, &dropped, &err) != DP_OK) die("bulk begin", &err);
    lap("bulk begin");
    if (store_pairs_delete(st, repo, NULL, 0, &err) != DP_OK) die("delete", &err);
    lap("delete old pairs");
    for (size_t lo = 0; lo < n; lo += BATCH)
        if (store_pairs_add(st, repo, pairs + lo, n - lo < BATCH ? n - lo : BATCH, &err) != DP_OK) die("add", &err);
    lap("insert pairs");
    if (has_snap == DP_OK && store_cache_put(st, repo, "index", snap, snaplen, &err) != DP_OK) die("snapshot", &err);
    lap("snapshot");
    if (dropped && store_pairs_bulk_end(st, &err) != DP_OK) die("bulk end", &err);
    lap("bulk end");
    if (store_commit(st, &err) != DP_OK) die("commit", &err);
    lap("commit");
    printf("%-22s %8.2f s wall %8.2f s cpu\n", "total", wsum, csum);
    for (size_t i = 0; i < n; i++) pair_free(&pairs[i]);
    free(pairs);
    free(snap);
    store_close(st);
    return 0;
}
