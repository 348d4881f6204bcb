/* test_analyze.c -- the analyze pipeline against a real (temporary) store:
 * planted duplicates come first, pairs are unordered and stored once with
 * the later item as query, known links are flagged, verdicts survive a
 * re-run, and an incremental run re-ranks only what a new item affects. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../../src/analyze/analyze.h"
#include "../../../src/store/store_int.h"
#include "test_sql.h"

#define DAY 86400
#define T0 ((int64_t)1600000000)

typedef struct fx {
    char path[64];
    store *st;
    int64_t repo;
} fx;

static void put_at(fx *f, int n, const char *title, const char *body, const char *state,
                   int64_t updated)
{
    item it;
    item_init(&it);
    char key[16];
    snprintf(key, sizeof key, "%d", n);
    it.key = key;
    it.number = n;
    it.title = (char *)title;
    it.body = (char *)body;
    it.state = (char *)state;
    it.created_at = T0 + n * DAY;
    it.updated_at = updated;
    if (strcmp(state, "open")) it.closed_at = it.updated_at;
    dp_err err;
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, NULL, &err), DP_OK);
}

static void put(fx *f, int n, const char *title, const char *body, const char *state)
{
    put_at(f, n, title, body, state, T0 + n * DAY + 3600);
}

static const char *FILLER[] = {
    "Add dark mode to the settings page",       "Translate the README into German",
    "Export results as CSV from the report view", "Keyboard shortcut for the search box",
    "Support YAML configuration files",         "Login button misaligned on small screens",
    "Upgrade the bundled logging library",      "Documentation typo in the install guide",
};

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    snprintf(f->path, sizeof f->path, "/tmp/doppel-test-analyze-%d.db", (int)getpid());
    unlink(f->path);
    dp_err err;
    assert_int_equal(store_open(f->path, &f->st, &err), DP_OK);
    assert_int_equal(store_repo_get(f->st, "o/r", 1, "github", "https://github.com/o/r", &f->repo, &err), DP_OK);
    put(f, 1, "Parquet reader crashes with ArrayIndexOutOfBoundsException on empty row group",
        "Reading a parquet file whose last row group is empty fails:\n```\n"
        "java.lang.ArrayIndexOutOfBoundsException: 0\n\tat org.x.parquet.RowGroupReader.next(RowGroupReader.java:77)\n```",
        "closed");
    for (int i = 0; i < 8; i++) {
        char body[200];
        snprintf(body, sizeof body, "%s. It would help a lot; see discussion %d.", FILLER[i], i);
        put(f, 2 + i, FILLER[i], body, i % 2 ? "open" : "closed");
    }
    put(f, 10, "ArrayIndexOutOfBoundsException in RowGroupReader when a row group is empty",
        "The parquet reader throws on an empty row group:\n```\n"
        "java.lang.ArrayIndexOutOfBoundsException: 0\n\tat org.x.parquet.RowGroupReader.next(RowGroupReader.java:77)\n```",
        "open");
    put(f, 11, "Dark mode for the settings page please", "Please add a dark mode to the settings page.",
        "open");
    item_link l = {.src_key = "11", .dst_key = "2", .type = LINK_DUPLICATE, .source = "comment"};
    assert_int_equal(store_link_add(f->st, f->repo, &l, &err), DP_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    store_close(f->st);
    unlink(f->path);
    char wal[80];
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", f->path);
    unlink(wal);
    /* the persisted index the runs wrote, and its seal */
    snprintf(wal, sizeof wal, "%s-index-%lld", f->path, (long long)f->repo);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-index-%lld.seal", f->path, (long long)f->repo);
    unlink(wal);
    free(f);
    return 0;
}

static size_t load_pairs(fx *f, pair_vec *pv)
{
    pair_filter pf;
    pair_filter_init(&pf);
    pf.repo_id = f->repo;
    dp_err err;
    memset(pv, 0, sizeof *pv);
    assert_int_equal(store_pairs_query(f->st, &pf, pv, NULL, NULL, &err), DP_OK);
    return pv->n;
}

static void dump(const pair_vec *pv)
{
    if (!getenv("ANALYZE_DEBUG")) return;
    for (size_t i = 0; i < pv->n; i++)
        fprintf(stderr, "%s %s rank %d prob %.3f known %d\n", pv->v[i].query_key, pv->v[i].cand_key,
                pv->v[i].rank, pv->v[i].prob, pv->v[i].known);
    fprintf(stderr, "--\n");
}

static const pair *find(const pair_vec *pv, const char *q, const char *c)
{
    for (size_t i = 0; i < pv->n; i++)
        if (!strcmp(pv->v[i].query_key, q) && !strcmp(pv->v[i].cand_key, c)) return &pv->v[i];
    return NULL;
}

static void run(fx *f, int mode, analyze_stats *s)
{
    analyze_opts o;
    analyze_opts_default(&o);
    o.threads = 2;
    o.mode = mode;
    o.now = T0 + 100 * DAY;
    dp_err err;
    int rc = analyze_run(f->st, f->repo, &o, NULL, NULL, s, &err);
    if (rc != DP_OK) fail_msg("analyze_run: %s", err.msg);
}

static void test_full_run(void **state)
{
    fx *f = *state;
    analyze_stats s;
    run(f, ANALYZE_FULL, &s);
    assert_int_equal(s.items, 11);
    assert_int_equal(s.queries, 6);   /* open issues: 3 5 7 9 10 11 */
    assert_int_equal(s.incremental, 0);
    /* nothing left to write but the pair indexes: the corpus was freed
     * beside their rebuild, not after the commit */
    assert_true(s.corpus_released);
    pair_vec pv;
    load_pairs(f, &pv);
    assert_true(pv.n > 0);
    /* the planted duplicate: query is the later item, the best candidate */
    const pair *p = find(&pv, "10", "1");
    assert_non_null(p);
    assert_int_equal(p->rank, 1);
    /* the comment follows the relation the judge decided, and the
     * reasoning opens with the same words and number as every view */
    if (p->relation == RELATION_DUPLICATE) {
        assert_true(strncmp(p->suggested_comment, "Duplicate of #1\n", 16) == 0);
        assert_string_equal(p->comment_on, "10");
        assert_string_equal(p->canonical, "1");
    } else if (p->relation == RELATION_RELATED) {
        assert_true(strncmp(p->suggested_comment, "Possibly related: #1 ", 21) == 0);
    } else {
        assert_string_equal(p->suggested_comment, "");
        assert_null(p->comment_on);
    }
    for (size_t i = 0; i < pv.n; i++) {
        const pair *x = &pv.v[i];
        char head[96];
        snprintf(head, sizeof head, "%s, %s confidence (%.2f)", relation_label(x->relation),
                 confidence_name(x->confidence), x->prob);
        if (strncmp(x->reasoning, head, strlen(head)) != 0)
            fail_msg("pair %s-%s: reasoning [%.60s] does not open with [%s]", x->query_key, x->cand_key,
                     x->reasoning, head);
    }
    assert_non_null(strstr(p->reasoning, "ArrayIndexOutOfBoundsException"));
    assert_null(find(&pv, "1", "10"));
    /* the known duplicate is flagged */
    const pair *k = find(&pv, "11", "2");
    assert_non_null(k);
    assert_int_equal(k->known, 1);
    /* every unordered pair once, always oriented later -> earlier */
    for (size_t i = 0; i < pv.n; i++) {
        assert_true(atoi(pv.v[i].query_key) > atoi(pv.v[i].cand_key));
        for (size_t j = i + 1; j < pv.n; j++)
            assert_false(!strcmp(pv.v[i].query_key, pv.v[j].query_key) &&
                         !strcmp(pv.v[i].cand_key, pv.v[j].cand_key));
    }
    /* open-vs-fixed outranks the known pair */
    assert_true(p->value > k->value);
    pair_vec_free(&pv);
}

/* analyze_corpus_release frees the items' texts, the index and the links
 * and keeps the count and the repository; analyze_corpus_free after it,
 * or a second release, frees nothing twice (ASan says so). A sparse
 * corpus is left whole. */
static void test_corpus_release(void **state)
{
    fx *f = *state;
    dp_err err;
    analyze_corpus co;
    assert_int_equal(analyze_corpus_load(f->st, f->repo, 1, &co, &err), DP_OK);
    assert_int_equal(co.items.n, 11);
    assert_true(co.links.n > 0);
    assert_non_null(co.ix);
    analyze_corpus_release(&co);
    assert_int_equal(co.items.n, 11);
    for (size_t i = 0; i < co.items.n; i++) {
        assert_null(co.items.v[i].key);
        assert_null(co.items.v[i].title);
    }
    assert_null(co.ix);
    assert_null(co.ls);
    assert_int_equal(co.links.n, 0);
    assert_int_equal(co.repo_id, f->repo);
    assert_string_equal(co.repo_name, "o/r");
    analyze_corpus_release(&co);
    analyze_corpus_free(&co);

    analyze_corpus sp;
    assert_int_equal(analyze_corpus_open(f->st, f->repo, 1, &sp, &err), DP_OK);
    assert_true(sp.sparse);
    analyze_corpus_release(&sp);
    assert_non_null(sp.ix);
    assert_true(analyze_corpus_find(&sp, "10") >= 0);
    analyze_corpus_free(&sp);
}

/* Every stored pair, in id order, as one text (ids themselves left out:
 * each run gives new ones). */
static char *pairs_text(fx *f)
{
    pair_vec pv;
    load_pairs(f, &pv);
    sbuf sb;
    sb_init(&sb);
    /* store_pairs_query sorts by value; ids give the insertion order */
    for (size_t i = 0; i < pv.n; i++)
        for (size_t j = i + 1; j < pv.n; j++)
            if (pv.v[j].id < pv.v[i].id) {
                pair t = pv.v[i];
                pv.v[i] = pv.v[j];
                pv.v[j] = t;
            }
    for (size_t i = 0; i < pv.n; i++) {
        const pair *p = &pv.v[i];
        sb_printf(&sb, "%s|%s|%d|%.17g|%.17g|%d|%d|%.17g|%s|%s|%s|%d|%s|%s\n", p->query_key, p->cand_key,
                  p->rank, p->score, p->prob, p->relation, p->confidence, p->value, p->reasoning,
                  p->value_detail ? p->value_detail : "", p->suggested_comment, p->known,
                  p->comment_on ? p->comment_on : "", p->canonical ? p->canonical : "");
    }
    pair_vec_free(&pv);
    return sb_take(&sb);
}

/* A full --all run with this batch size and memory ceiling. */
static int run_full(fx *f, size_t batch, size_t max_memory, analyze_stats *s, dp_err *err)
{
    analyze_opts o;
    analyze_opts_default(&o);
    o.threads = 2;
    o.all = 1;
    o.mode = ANALYZE_FULL;
    o.now = T0 + 100 * DAY;
    o.batch = batch;
    o.max_memory = max_memory;
    return analyze_run(f->st, f->repo, &o, NULL, NULL, s, err);
}

static void run_with(fx *f, size_t batch, size_t max_memory, analyze_stats *s)
{
    dp_err err;
    if (run_full(f, batch, max_memory, s, &err) != DP_OK) fail_msg("analyze_run: %s", err.msg);
}

/* Pairs are explained and stored in batches, pipelined; the batch size and
 * the memory ceiling trade memory for time, never a result: the same
 * pairs, texts and insertion order with one batch, batches of one pair,
 * and a ceiling below what the index alone takes (which then does not keep
 * the index fields, recomputes judge features, ranks in passes and says
 * so). */
static void test_batches_and_ceiling(void **state)
{
    fx *f = *state;
    analyze_stats s;
    run_with(f, 0, 0, &s);
    assert_int_equal(s.batch, ANALYZE_BATCH_MAX);   /* no ceiling: the largest batches */
    assert_int_equal(s.max_memory, 0);
    assert_true(s.pairs > 3);
    /* what a ceiling counts on for the kept hits covers what they took,
     * packed with their judge features (and counts those apart) */
    assert_true(s.hits_kept >= s.pairs);
    assert_true(s.hits_bytes > s.hits_kept * 64);
    assert_true(s.hits_bytes <= analyze_hold_bytes(s.queries, 3, 1));
    assert_true(analyze_hold_bytes(s.queries, 3, 0) < analyze_hold_bytes(s.queries, 3, 1));
    assert_true(analyze_hold_bytes(2 * s.queries, 3, 1) > analyze_hold_bytes(s.queries, 3, 1));
    assert_true(s.postings_freed > 0);   /* ranked in one pass: only queries read them */
    char *ref = pairs_text(f);

    run_with(f, 1, 0, &s);   /* a batch per pair: every pair crosses the pipeline */
    assert_int_equal(s.batch, 1);
    char *one = pairs_text(f);
    assert_string_equal(one, ref);

    run_with(f, 0, 1u << 20, &s);   /* less than the process alone takes */
    assert_int_equal(s.max_memory, 1u << 20);
    assert_true(s.mem_base > 0);
    assert_non_null(strstr(s.traded, "index fields not kept"));
    assert_non_null(strstr(s.traded, "judge features recomputed"));
    assert_non_null(strstr(s.traded, "pairs in flight per batch"));
    assert_non_null(strstr(s.traded, "ranking passes"));   /* pairs stored pass by pass: same rows, same order */
    assert_non_null(strstr(s.traded, "still over"));
    assert_int_equal(s.postings_freed, 0);   /* in passes, ranking and explaining take turns */
    assert_true(s.batch < ANALYZE_BATCH);
    char *capped = pairs_text(f);
    assert_string_equal(capped, ref);

    analyze_opts d;   /* the default ceiling (README, --help) */
    analyze_opts_default(&d);
    assert_int_equal(d.max_memory, ANALYZE_MAX_MEMORY);
    assert_int_equal(ANALYZE_MAX_MEMORY, (size_t)1800 << 20);

    run_with(f, 0, (size_t)1 << 40, &s);   /* a ceiling far above: nothing traded */
    assert_string_equal(s.traded, "nothing");
    assert_int_equal(s.batch, ANALYZE_BATCH_MAX);
    /* a ceiling with room for the plan's batches and some more (~80 MB
     * past the kept hits; the resident base moves a little run to run):
     * the batch grows into that room only, and is not what is traded */
    run_with(f, 0, s.mem_base + analyze_hold_bytes(s.queries, 3, 1) + ((size_t)80 << 20), &s);
    assert_null(strstr(s.traded, "pairs in flight"));
    assert_true(s.batch > ANALYZE_BATCH && s.batch < ANALYZE_BATCH_MAX);
    char *grown = pairs_text(f);
    assert_string_equal(grown, ref);
    free(grown);
    free(capped);
    free(one);
    free(ref);
}

/* on: the third pair text a run inserts fails ("injected failure"), so
 * the run fails half-way through its transaction; off: no more. */
static void fail_third_pair(fx *f, int on)
{
    const char *sql = on ? "CREATE TRIGGER fail_third BEFORE INSERT ON pair_texts"
                           " WHEN (SELECT count(*) FROM pair_texts) >= 2"
                           " BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
                         : "DROP TRIGGER fail_third";
    assert_int_equal(sqlite3_exec(f->st->db, sql, NULL, NULL, NULL), SQLITE_OK);
}

/* A full run that fails while storing -- here a trigger that aborts the
 * insert of the third pair's texts, after the old pairs were deleted and
 * some new ones inserted with the indexes dropped -- leaves the store as it
 * was: the old pairs with their texts, ids, counts, indexes and triggers.
 * In one pass, batch by batch, and in ranking passes. */
static void test_failed_run_keeps_old_pairs(void **state)
{
    fx *f = *state;
    analyze_stats s;
    run_with(f, 0, 0, &s);
    char *before = pairs_text(f);
    const char *schema_sql = "SELECT group_concat(name || ':' || sql, '|') FROM (SELECT name, sql FROM sqlite_master"
                             " WHERE tbl_name IN ('pairs', 'pair_texts') ORDER BY name)";
    const char *counts_sql = "SELECT group_concat(relation || confidence || known || ':' || n, '|') FROM"
                             " (SELECT * FROM pair_counts ORDER BY 1, 2, 3, 4)";
    char *schema = NULL, *counts = NULL;
    for (int round = 0; round < 4; round++) {
        sqlite3_stmt *q;
        for (int k = 0; k < 2; k++) {
            assert_int_equal(sqlite3_prepare_v2(f->st->db, k ? counts_sql : schema_sql, -1, &q, NULL), SQLITE_OK);
            assert_int_equal(sqlite3_step(q), SQLITE_ROW);
            char *v = xstrdup((const char *)sqlite3_column_text(q, 0));
            sqlite3_finalize(q);
            char **keep = k ? &counts : &schema;
            if (!*keep) *keep = v;
            else {
                assert_string_equal(v, *keep);
                free(v);
            }
        }
        if (round == 3) break;
        fail_third_pair(f, 1);
        dp_err err;   /* round 1: a batch per pair; round 2: ranking passes */
        assert_int_equal(run_full(f, round == 1, round == 2 ? 1u << 20 : 0, &s, &err), DP_ERR);
        assert_non_null(strstr(err.msg, "injected failure"));
        fail_third_pair(f, 0);
        char *after = pairs_text(f);
        assert_string_equal(after, before);
        free(after);
    }
    free(schema);
    free(counts);
    free(before);
}

/* The most frames a commit left in the WAL (sqlite3_wal_hook). */
static int wal_frames(void *ud, sqlite3 *db, const char *name, int n)
{
    (void)db;
    (void)name;
    int *most = ud;
    if (n > *most) *most = n;
    return SQLITE_OK;
}

/* The first full run into a store without pairs writes them through a
 * rollback journal (store_begin_pairs): its commit leaves nothing in the
 * WAL, in one pass and in ranking passes, and the store is in WAL again
 * after; one that fails leaves no pair and no journal. A later run (pairs
 * stored) and a first run while another connection has the store open go
 * through WAL, the other connection reading on. */
static void test_first_run_journal(void **state)
{
    fx *f = *state;
    analyze_stats s;
    dp_err err;
    char mode[16], path[80];
    snprintf(path, sizeof path, "%s-journal", f->path);
    int frames = 0;
    sqlite3_wal_hook(f->st->db, wal_frames, &frames);   /* (no automatic checkpoints meanwhile) */
    assert_int_equal(sqlite3_exec(f->st->db, "DELETE FROM pairs", NULL, NULL, NULL), SQLITE_OK);
    fail_third_pair(f, 1);
    assert_int_equal(run_full(f, 1, 0, &s, &err), DP_ERR);
    fail_third_pair(f, 0);
    assert_int_equal(tu_sql_int(f->st->db, "SELECT count(*) FROM pairs"), 0);
    assert_string_equal(tu_journal_mode(f->st->db, mode, sizeof mode), "wal");
    assert_int_equal(access(path, F_OK), -1);

    for (int passes = 0; passes < 2; passes++) {
        frames = 0;
        run_with(f, 0, passes ? 1u << 20 : 0, &s);
        assert_int_equal(frames, 0);
        assert_true(tu_sql_int(f->st->db, "SELECT count(*) FROM pairs") > 0);
        assert_string_equal(tu_journal_mode(f->st->db, mode, sizeof mode), "wal");
        assert_int_equal(access(path, F_OK), -1);
        if (!passes) assert_int_equal(sqlite3_exec(f->st->db, "DELETE FROM pairs", NULL, NULL, NULL), SQLITE_OK);
    }
    frames = 0;
    run_with(f, 0, 0, &s);
    assert_true(frames > 0);

    assert_int_equal(sqlite3_exec(f->st->db, "DELETE FROM pairs", NULL, NULL, NULL), SQLITE_OK);
    sqlite3 *other;
    assert_int_equal(sqlite3_open_v2(f->path, &other, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(tu_sql_int(other, "SELECT count(*) FROM pairs"), 0);
    frames = 0;
    run_with(f, 0, 0, &s);
    assert_true(frames > 0);
    assert_true(tu_sql_int(other, "SELECT count(*) FROM pairs") > 0);
    sqlite3_close(other);
    sqlite3_wal_autocheckpoint(f->st->db, 1000);
}

static void test_verdict_survives(void **state)
{
    fx *f = *state;
    dp_err err;
    assert_int_equal(store_verdict_set(f->st, f->repo, "10", "1", VERDICT_DUPLICATE, &err), DP_OK);
    analyze_stats s;
    run(f, ANALYZE_FULL, &s);
    pair_vec pv;
    load_pairs(f, &pv);
    const pair *p = find(&pv, "10", "1");
    assert_non_null(p);
    assert_int_equal(p->verdict, VERDICT_DUPLICATE);
    pair_vec_free(&pv);
}

static void test_incremental(void **state)
{
    fx *f = *state;
    analyze_stats s;
    run(f, ANALYZE_AUTO, &s);   /* nothing changed since the last run */
    assert_int_equal(s.incremental, 1);
    assert_int_equal(s.queries, 0);
    pair_vec before;
    size_t nbefore = load_pairs(f, &before);

    put(f, 12, "Empty row group makes the parquet RowGroupReader throw ArrayIndexOutOfBoundsException",
        "Same trace:\n```\njava.lang.ArrayIndexOutOfBoundsException: 0\n\tat org.x.parquet.RowGroupReader.next(RowGroupReader.java:77)\n```",
        "open");
    run(f, ANALYZE_AUTO, &s);
    assert_int_equal(s.incremental, 1);
    assert_int_equal(s.changed, 1);
    assert_true(s.queries >= 2 && s.queries < 7);   /* 12 and the queries near it */
    assert_int_equal(s.postings_freed, 0);   /* an incremental run keeps its index whole */
    pair_vec after;
    load_pairs(f, &after);
    dump(&before);
    dump(&after);
    assert_non_null(find(&after, "12", "10"));
    assert_non_null(find(&after, "12", "1"));
    /* untouched pairs are still there, the verdict too */
    const pair *k = find(&after, "11", "2");
    assert_non_null(k);
    assert_int_equal(k->known, 1);
    const pair *p = find(&after, "10", "1");
    assert_non_null(p);
    assert_int_equal(p->verdict, VERDICT_DUPLICATE);
    assert_true(after.n >= nbefore);

    /* a full run gives the same pairs for the new item */
    run(f, ANALYZE_FULL, &s);
    pair_vec full;
    load_pairs(f, &full);
    assert_non_null(find(&full, "12", "10"));
    assert_int_equal(full.n, after.n);
    pair_vec_free(&before);
    pair_vec_free(&after);
    pair_vec_free(&full);

    /* an item deleted upstream loses its pairs on the next incremental run */
    dp_err err;
    assert_int_equal(store_item_mark_deleted(f->st, f->repo, "12", &err), DP_OK);
    run(f, ANALYZE_AUTO, &s);
    assert_int_equal(s.incremental, 1);
    pair_vec gone;
    load_pairs(f, &gone);
    for (size_t i = 0; i < gone.n; i++) {
        assert_string_not_equal(gone.v[i].query_key, "12");
        assert_string_not_equal(gone.v[i].cand_key, "12");
    }
    assert_non_null(find(&gone, "10", "1"));
    pair_vec_free(&gone);
}

/* A new issue is an outside query against the index as it is: ranked,
 * judged and explained (reasoning, value) without joining the index. */
static void test_similar_new_item(void **state)
{
    fx *f = *state;
    item extra;
    analyze_new_item("RowGroupReader ArrayIndexOutOfBoundsException with an empty row group", NULL, NULL,
                     T0 + 100 * DAY, &extra);
    analyze_corpus co;
    dp_err err;
    assert_int_equal(analyze_corpus_load(f->st, f->repo, 1, &co, &err), DP_OK);
    assert_int_equal(co.items.n, 11);   /* #12 is deleted by now; the new issue is no doc */
    pair_vec pv = {0};
    assert_int_equal(analyze_similar_item(&co, &extra, 3, T0 + 100 * DAY, &pv, &err), DP_OK);
    assert_true(pv.n >= 2);
    int found = 0;
    for (size_t i = 0; i < 2; i++)
        found += !strcmp(pv.v[i].cand_key, "1") || !strcmp(pv.v[i].cand_key, "10");
    assert_int_equal(found, 2);
    assert_string_equal(pv.v[0].query_key, ANALYZE_NEW_KEY);
    assert_non_null(pv.v[0].reasoning);
    assert_non_null(strstr(pv.v[0].reasoning, "ArrayIndexOutOfBoundsException"));
    assert_true(pv.v[0].value > 0);
    pair_vec_free(&pv);
    analyze_corpus_free(&co);
    item_free(&extra);
}

/* All answers of a corpus as text: each doc's similar list and a new
 * issue's, as JSON. */
static char *answers(const analyze_corpus *co, const item *extra)
{
    sbuf sb;
    sb_init(&sb);
    dp_err err;
    for (uint32_t d = 0; d <= analyze_corpus_ndocs(co); d++) {
        pair_vec pv = {0};
        const item *q = extra;
        if (d < analyze_corpus_ndocs(co)) {
            assert_int_equal(analyze_similar(co, d, 5, T0 + 100 * DAY, &pv, &err), DP_OK);
            q = analyze_corpus_doc(co, d);
        } else {
            assert_int_equal(analyze_similar_item(co, extra, 5, T0 + 100 * DAY, &pv, &err), DP_OK);
        }
        json_t *j = analyze_similar_json(co, q, &pv);
        char *t = json_dumps(j, JSON_SORT_KEYS);
        sb_adds(&sb, t);
        sb_adds(&sb, "\n");
        free(t);
        json_decref(j);
        pair_vec_free(&pv);
    }
    return sb_take(&sb);
}

/* A sparse corpus (analyze_corpus_open) maps the persisted index by its
 * stamp without reading an item, reads only what a query needs, and gives
 * the full corpus' answers. A changed item, or a file the store does not
 * own, makes it load and build (and write the file again). */
/* Reading docs a chunk at a time: both ends of a link read in one call
 * (one chunk) bring it once, as a full corpus has it, and a doc named
 * twice is read once. */
static void test_sparse_need_one_call(void **state)
{
    fx *f = *state;
    dp_err err;
    analyze_corpus full, sp;
    assert_int_equal(analyze_corpus_load(f->st, f->repo, 1, &full, &err), DP_OK);
    assert_int_equal(analyze_corpus_open(f->st, f->repo, 1, &sp, &err), DP_OK);
    assert_true(sp.sparse);
    size_t n = analyze_corpus_ndocs(&sp);
    uint32_t *docs = xcalloc(2 * n, sizeof *docs);
    for (size_t d = 0; d < n; d++) docs[d] = docs[n + d] = (uint32_t)(n - 1 - d);
    assert_int_equal(analyze_corpus_need(&sp, docs, 2 * n, &err), DP_OK);
    for (size_t d = 0; d < n; d++) {
        assert_int_equal(sp.have[d], 1);
        assert_int_equal(analyze_corpus_find(&sp, sp.slots[d].key), (int64_t)d);
    }
    assert_int_equal(full.links.n, 1);
    assert_int_equal(sp.links.n, full.links.n);
    assert_string_equal(sp.links.v[0].src_key, "11");
    assert_string_equal(sp.links.v[0].dst_key, "2");
    free(docs);
    analyze_corpus_free(&sp);
    analyze_corpus_free(&full);
}

static void test_sparse_corpus(void **state)
{
    fx *f = *state;
    item extra;
    analyze_new_item("Empty row group: ArrayIndexOutOfBoundsException in the parquet reader", NULL, NULL,
                     T0 + 100 * DAY, &extra);
    dp_err err;
    analyze_corpus full, sp;
    assert_int_equal(analyze_corpus_load(f->st, f->repo, 1, &full, &err), DP_OK);
    assert_true(full.index_mapped || full.index_saved);
    char *want = answers(&full, &extra);
    assert_int_equal(analyze_corpus_open(f->st, f->repo, 1, &sp, &err), DP_OK);
    assert_true(sp.sparse && sp.index_mapped);
    assert_int_equal(sp.items.n, 0);
    size_t read = 0;
    for (size_t d = 0; d < analyze_corpus_ndocs(&sp); d++) read += sp.have[d];
    assert_int_equal(read, 0);   /* opening read no item */
    assert_int_equal(analyze_corpus_find(&sp, "10"), analyze_corpus_find(&full, "10"));
    pair_vec pv = {0};
    uint32_t q = (uint32_t)analyze_corpus_find(&sp, "2");
    assert_int_equal(analyze_similar(&sp, q, 1, T0 + 100 * DAY, &pv, &err), DP_OK);
    pair_vec_free(&pv);
    for (size_t d = 0; d < analyze_corpus_ndocs(&sp); d++) read += sp.have[d];
    assert_true(read >= 2 && read <= analyze_corpus_ndocs(&sp));
    char *got = answers(&sp, &extra);
    assert_string_equal(got, want);
    free(got);
    analyze_corpus_free(&sp);
    analyze_corpus_free(&full);

    /* an edited item: the stamp's sequence is behind the store's */
    put(f, 3, FILLER[1], "Translate the README into German, and French too.", "closed");
    assert_int_equal(analyze_corpus_open(f->st, f->repo, 1, &sp, &err), DP_OK);
    assert_false(sp.sparse);
    assert_string_equal(sp.index_file_why, "the items changed since it was written");
    assert_true(sp.index_saved);
    analyze_corpus_free(&sp);
    assert_int_equal(analyze_corpus_open(f->st, f->repo, 1, &sp, &err), DP_OK);
    assert_true(sp.sparse);
    analyze_corpus_free(&sp);
    /* a state changed, not the indexed text: the file, behind, is still
     * the index (grown by no item), so the reader stays sparse and writes
     * nothing; its answers are a full load's. A full load maps the file by
     * its content and stamps it anew; the next reader maps it sparse. */
    put(f, 3, FILLER[1], "Translate the README into German, and French too.", "open");
    assert_int_equal(analyze_corpus_open(f->st, f->repo, 1, &sp, &err), DP_OK);
    assert_true(sp.sparse);
    assert_true(sp.index_mapped);
    assert_false(sp.index_saved);
    assert_int_equal(sp.grown, 0);
    got = answers(&sp, &extra);
    analyze_corpus_free(&sp);
    assert_int_equal(analyze_corpus_load(f->st, f->repo, 1, &full, &err), DP_OK);
    assert_true(full.index_mapped);
    assert_false(full.index_saved);
    free(want);
    want = answers(&full, &extra);
    analyze_corpus_free(&full);
    assert_string_equal(got, want);
    free(got);
    assert_int_equal(analyze_corpus_open(f->st, f->repo, 1, &sp, &err), DP_OK);
    assert_true(sp.sparse);
    analyze_corpus_free(&sp);
    /* a file the store does not name as its own (another store's, or one
     * written before the store's id changed): never mapped by its stamp; a
     * full load finds it is the items' by content and stamps it anew */
    assert_int_equal(store_kv_set(f->st, f->repo, "index_file.id", "00000000000004d2", &err), DP_OK);
    analyze_corpus sc;
    assert_int_equal(analyze_corpus_load(f->st, f->repo, 1, &sc, &err), DP_OK);
    assert_true(sc.index_mapped);
    analyze_corpus_free(&sc);
    assert_int_equal(analyze_corpus_open(f->st, f->repo, 1, &sp, &err), DP_OK);
    assert_true(sp.sparse);
    analyze_corpus_free(&sp);
    /* ... and with other content, it is refused and built again */
    assert_int_equal(store_kv_set(f->st, f->repo, "index_file.id", "00000000000004d3", &err), DP_OK);
    put(f, 3, FILLER[1], "Translate the README into Dutch.", "open");
    assert_int_equal(analyze_corpus_open(f->st, f->repo, 1, &sp, &err), DP_OK);
    assert_false(sp.sparse);
    assert_string_equal(sp.index_file_why, "the items changed since it was written");
    assert_true(sp.index_saved);
    analyze_corpus_free(&sp);
    free(want);
    item_free(&extra);
}

/* One item dated 9999-12-31 (a wrong clock) must not hide the edits that
 * follow it: with a max(updated_at) watermark the next run said "up to
 * date" while they waited. Changes are found by the store's sequence. */
static void test_future_date_does_not_freeze(void **state)
{
    fx *f = *state;
    analyze_stats s;
    run(f, ANALYZE_AUTO, &s);
    put_at(f, 13, "Settings page crashes on start", "It crashes.", "open", 253402214400);
    run(f, ANALYZE_AUTO, &s);
    assert_int_equal(s.incremental, 1);
    assert_int_equal(s.changed, 1);
    /* #5 is edited into a report of the parquet crash, dated today-ish */
    put_at(f, 5, "Parquet RowGroupReader throws ArrayIndexOutOfBoundsException on an empty row group",
           "Same trace:\n```\njava.lang.ArrayIndexOutOfBoundsException: 0\n\tat "
           "org.x.parquet.RowGroupReader.next(RowGroupReader.java:77)\n```",
           "open", T0 + 400 * DAY);
    run(f, ANALYZE_AUTO, &s);
    assert_int_equal(s.up_to_date, 0);
    assert_int_equal(s.incremental, 1);
    assert_int_equal(s.changed, 1);
    pair_vec pv;
    load_pairs(f, &pv);
    assert_non_null(find(&pv, "5", "1"));
    pair_vec_free(&pv);
    run(f, ANALYZE_AUTO, &s);   /* and then it is up to date */
    assert_int_equal(s.up_to_date, 1);
}

/* Replaces the number after "\nkey " in text (a model's text format). */
static char *with_value(const char *text, const char *key, const char *value)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\n%s ", key);
    const char *at = strstr(text, pat);
    assert_non_null(at);
    at += strlen(pat);
    const char *end = strchr(at, '\n');
    return xasprintf("%.*s%s%s", (int)(at - text), text, value, end ? end : "");
}

/* The incremental signature hashes the model's content: a model retrained
 * with other options on the same day -- same date, same pair count, same
 * description -- still re-ranks every query. An unreadable stored model
 * fails analyze with a message, never falls back to the default. Runs
 * last: it leaves a model in the store. */
static void test_model_signature(void **state)
{
    fx *f = *state;
    dp_err err;
    analyze_stats s;
    run(f, ANALYZE_AUTO, &s);
    run(f, ANALYZE_AUTO, &s);
    assert_int_equal(s.up_to_date, 1);
    assert_string_equal(s.model_desc, "built-in default");

    char *text = match_model_to_text(match_model_default());
    char *a = with_value(text, "trained_on", "test options A");
    assert_int_equal(store_model_save(f->st, f->repo, a, 100, &err), DP_OK);
    run(f, ANALYZE_AUTO, &s);
    assert_int_equal(s.up_to_date, 0);
    assert_int_equal(s.incremental, 0);
    assert_non_null(strstr(s.model_desc, "on 100 pairs (test options A)"));
    char desc[sizeof s.model_desc];
    snprintf(desc, sizeof desc, "%s", s.model_desc);
    run(f, ANALYZE_AUTO, &s);
    assert_int_equal(s.up_to_date, 1);

    /* retrained the same day on as many pairs, only a weight differs */
    char *b = with_value(a, "bias", "0.125");
    assert_string_not_equal(a, b);
    assert_int_equal(store_model_save(f->st, f->repo, b, 100, &err), DP_OK);
    run(f, ANALYZE_AUTO, &s);
    assert_string_equal(s.model_desc, desc);     /* the description cannot tell */
    assert_int_equal(s.up_to_date, 0);
    assert_int_equal(s.incremental, 0);

    /* a damaged model: analyze and every other user of the lookup refuse it */
    assert_int_equal(store_model_save(f->st, f->repo, "doppel-model 1\nfeature bm25f x y z\n", 100, &err),
                     DP_OK);
    match_model m;
    int trained = 1;
    char *d = NULL;
    int rc = analyze_model_load(f->st, f->repo, &m, &trained, &d, &err);
    if (rc == DP_OK) {
        /* the parser accepted it: damage it beyond reading */
        free(d);
        if (trained) match_model_free(&m);
        assert_int_equal(store_model_save(f->st, f->repo, "not a model at all", 100, &err), DP_OK);
        rc = analyze_model_load(f->st, f->repo, &m, &trained, &d, &err);
    }
    assert_int_equal(rc, DP_ERR);
    assert_non_null(strstr(err.msg, "unreadable"));
    analyze_opts o;
    analyze_opts_default(&o);
    o.threads = 1;
    assert_int_equal(analyze_run(f->st, f->repo, &o, NULL, NULL, &s, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "unreadable"));
    free(b);
    free(a);
    free(text);
}

/* The default horizon: none below ANALYZE_HORIZON_FROM items, 365 days
 * from there on; an explicit one (0 included) whatever the size. */
static void test_horizon_default(void **state)
{
    (void)state;
    analyze_opts o;
    analyze_opts_default(&o);
    assert_int_equal(o.horizon, ANALYZE_HORIZON_AUTO);
    assert_int_equal(analyze_horizon(&o, 0), 0);
    assert_int_equal(analyze_horizon(&o, ANALYZE_HORIZON_FROM - 1), 0);
    assert_int_equal(analyze_horizon(&o, ANALYZE_HORIZON_FROM), 365);
    assert_int_equal(analyze_horizon(&o, 250000), 365);
    o.horizon = 0;
    assert_int_equal(analyze_horizon(&o, 250000), 0);
    o.horizon = 30;
    assert_int_equal(analyze_horizon(&o, 10), 30);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_horizon_default),
        cmocka_unit_test(test_full_run),
        cmocka_unit_test(test_corpus_release),
        cmocka_unit_test(test_verdict_survives),
        cmocka_unit_test(test_incremental),
        cmocka_unit_test(test_similar_new_item),
        cmocka_unit_test(test_sparse_need_one_call),
        cmocka_unit_test(test_sparse_corpus),
        cmocka_unit_test(test_future_date_does_not_freeze),
        cmocka_unit_test(test_batches_and_ceiling),   /* --all: before the runs that expect a plain one */
        cmocka_unit_test(test_failed_run_keeps_old_pairs),
        cmocka_unit_test(test_first_run_journal),
        cmocka_unit_test(test_model_signature),
    };
    return cmocka_run_group_tests_name("analyze", tests, setup, teardown);
}
