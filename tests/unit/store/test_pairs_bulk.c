/* test_pairs_bulk.c -- store_pairs_bulk_begin/end: a full replace drops the
 * pairs' secondary indexes and triggers and makes exactly the same ones
 * again, with the counts, texts and update times the triggers and the
 * row-by-row insert would have given; a commit before the end is refused,
 * a rollback restores them; other repositories' pairs keep them. */
#include "store_fixture.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../../../src/store/store_int.h"
#include "test_sql.h"

/* "name: sql" of every pair index the schema declares (not the UNIQUE
 * constraint's own) and every trigger on pairs, one per line, by name. */
static char *pair_indexes(fx *f)
{
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(f->st->db,
                                        "SELECT name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
                                        "AND tbl_name = 'pairs' AND sql IS NOT NULL ORDER BY name",
                                        -1, &s, NULL),
                     SQLITE_OK);
    sbuf sb;
    sb_init(&sb);
    while (sqlite3_step(s) == SQLITE_ROW)
        sb_printf(&sb, "%s: %s\n", sqlite3_column_text(s, 0), sqlite3_column_text(s, 1));
    sqlite3_finalize(s);
    return sb.s ? sb_take(&sb) : xstrdup("");
}

static void seed_items(fx *f)
{
    fx_put(f, "1", "Crash when opening file", "open", "bug");
    fx_put(f, "2", "crash on open", "closed", "bug");
    fx_put(f, "3", "Docs typo", "open", NULL);
}

/* The pairs of the repo in value order, as "q>c q>c". */
static char *pairs_by_value(fx *f, int64_t repo)
{
    dp_err err;
    pair_filter flt;
    pair_filter_init(&flt);
    flt.repo_id = repo;
    pair_vec v = {0};
    assert_int_equal(store_pairs_query(f->st, &flt, &v, NULL, NULL, &err), DP_OK);
    sbuf sb;
    sb_init(&sb);
    for (size_t i = 0; i < v.n; i++) sb_printf(&sb, "%s%s>%s", i ? " " : "", v.v[i].query_key, v.v[i].cand_key);
    pair_vec_free(&v);
    return sb.s ? sb_take(&sb) : xstrdup("");
}

static void test_drop_and_rebuild_same_indexes(void **state)
{
    fx *f = *state;
    dp_err err;
    seed_items(f);
    pair old = fx_pair("2", "1", "duplicate", "high", 1.0, 0);
    assert_int_equal(store_pairs_add(f->st, f->repo, &old, 1, &err), DP_OK);
    char *before = pair_indexes(f);
    assert_non_null(strstr(before, "pairs_by_value"));   /* the schema has some to drop */
    assert_non_null(strstr(before, "pair_counts_insert"));
    assert_non_null(strstr(before, "pair_texts_delete"));

    assert_int_equal(store_begin(f->st, &err), DP_OK);
    int dropped = -1;
    assert_int_equal(store_pairs_bulk_begin(f->st, f->repo, 3, &dropped, &err), DP_OK);
    assert_int_equal(dropped, 1);
    char *during = pair_indexes(f);
    assert_string_equal(during, "");
    free(during);
    /* a second begin while one is open is refused */
    int d2;
    assert_int_equal(store_pairs_bulk_begin(f->st, f->repo, 3, &d2, &err), DP_ERR);
    assert_int_equal(store_pairs_delete(f->st, f->repo, NULL, 0, &err), DP_OK);
    pair p[] = {fx_pair("2", "1", "duplicate", "high", 5.0, 0), fx_pair("3", "1", "related", "low", 2.0, 0),
                fx_pair("3", "2", "related", "medium", 7.0, 0)};
    assert_int_equal(store_pairs_add(f->st, f->repo, p, 3, &err), DP_OK);
    assert_int_equal(store_pairs_bulk_end(f->st, &err), DP_OK);
    assert_int_equal(store_commit(f->st, &err), DP_OK);

    char *after = pair_indexes(f);
    assert_string_equal(after, before);
    /* the rebuilt indexes hold the new pairs: the page reads by value */
    char *got = pairs_by_value(f, f->repo);
    assert_string_equal(got, "3>2 2>1 3>1");
    free(got);
    fx_expect_integrity(f->st->db);
    free(before);
    free(after);
}

static void test_rollback_restores(void **state)
{
    fx *f = *state;
    dp_err err;
    seed_items(f);
    pair p = fx_pair("2", "1", "duplicate", "high", 1.0, 0);
    assert_int_equal(store_pairs_add(f->st, f->repo, &p, 1, &err), DP_OK);
    char *before = pair_indexes(f);
    char *rows = fx_fingerprint(f->path);
    assert_int_equal(store_begin(f->st, &err), DP_OK);
    int dropped = 0;
    assert_int_equal(store_pairs_bulk_begin(f->st, f->repo, 1, &dropped, &err), DP_OK);
    assert_int_equal(dropped, 1);
    assert_int_equal(store_pairs_delete(f->st, f->repo, NULL, 0, &err), DP_OK);
    /* committed, the pairs would stay without their indexes and counts */
    assert_int_equal(store_commit(f->st, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "bulk pair replace is open"));
    store_rollback(f->st);
    char *after = pair_indexes(f);
    assert_string_equal(after, before);
    char *rows2 = fx_fingerprint(f->path);
    assert_string_equal(rows2, rows);
    free(rows);
    free(rows2);
    /* the pending rebuild was forgotten: end has nothing to do, and a new
     * bulk replace may start */
    assert_int_equal(store_begin(f->st, &err), DP_OK);
    assert_int_equal(store_pairs_bulk_end(f->st, &err), DP_OK);
    assert_int_equal(store_pairs_bulk_begin(f->st, f->repo, 1, &dropped, &err), DP_OK);
    assert_int_equal(dropped, 1);
    assert_int_equal(store_pairs_bulk_end(f->st, &err), DP_OK);
    assert_int_equal(store_commit(f->st, &err), DP_OK);
    char *again = pair_indexes(f);
    assert_string_equal(again, before);
    free(before);
    free(after);
    free(again);
}

static int secure_delete(fx *f)
{
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(f->st->db, "PRAGMA secure_delete", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int v = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return v;
}

/* While a bulk replace is open, freed pages are not zeroed (secure_delete
 * FAST: the old pairs' pages are neither read back nor written), and after
 * its end until the transaction's (what follows is derived data too: the
 * snapshot replacing the old one); the mode comes back after the commit,
 * and after a rollback. */
static void test_secure_delete_fast_while_open(void **state)
{
    fx *f = *state;
    dp_err err;
    seed_items(f);
    assert_int_equal(sqlite3_exec(f->st->db, "PRAGMA secure_delete = 1", NULL, NULL, NULL), SQLITE_OK);
    for (int commit = 0; commit < 2; commit++) {
        assert_int_equal(store_begin(f->st, &err), DP_OK);
        int dropped = 0;
        assert_int_equal(store_pairs_bulk_begin(f->st, f->repo, 1, &dropped, &err), DP_OK);
        assert_int_equal(dropped, 1);
        assert_int_equal(secure_delete(f), 2);
        assert_int_equal(store_pairs_delete(f->st, f->repo, NULL, 0, &err), DP_OK);
        if (commit) {
            assert_int_equal(store_pairs_bulk_end(f->st, &err), DP_OK);
            assert_int_equal(secure_delete(f), 2);
            assert_int_equal(store_commit(f->st, &err), DP_OK);
        } else {
            store_rollback(f->st);
        }
        assert_int_equal(secure_delete(f), 1);
    }
    /* a store that had it off keeps it off */
    assert_int_equal(sqlite3_exec(f->st->db, "PRAGMA secure_delete = 0", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(store_begin(f->st, &err), DP_OK);
    int dropped = 0;
    assert_int_equal(store_pairs_bulk_begin(f->st, f->repo, 1, &dropped, &err), DP_OK);
    assert_int_equal(store_pairs_bulk_end(f->st, &err), DP_OK);
    assert_int_equal(store_commit(f->st, &err), DP_OK);
    assert_int_equal(secure_delete(f), 0);
    /* and one that had FAST keeps FAST, committed or rolled back */
    assert_int_equal(sqlite3_exec(f->st->db, "PRAGMA secure_delete = FAST", NULL, NULL, NULL), SQLITE_OK);
    for (int commit = 0; commit < 2; commit++) {
        assert_int_equal(store_begin(f->st, &err), DP_OK);
        assert_int_equal(store_pairs_bulk_begin(f->st, f->repo, 1, &dropped, &err), DP_OK);
        if (commit) {
            assert_int_equal(store_pairs_bulk_end(f->st, &err), DP_OK);
            assert_int_equal(store_commit(f->st, &err), DP_OK);
        } else {
            store_rollback(f->st);
        }
        assert_int_equal(secure_delete(f), 2);
    }
}

static void test_needs_transaction(void **state)
{
    fx *f = *state;
    dp_err err;
    int dropped = -1;
    assert_int_equal(store_pairs_bulk_begin(f->st, f->repo, 1, &dropped, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "inside a transaction"));
    assert_int_equal(dropped, 0);
}

/* Another repository holding more pairs than the run writes: rebuilding
 * its indexes would cost more than it saves, so nothing is dropped. */
static void test_other_repo_keeps_indexes(void **state)
{
    fx *f = *state;
    dp_err err;
    seed_items(f);
    int64_t r2;
    assert_int_equal(store_repo_get(f->st, "x/y", 1, NULL, NULL, &r2, &err), DP_OK);
    pair p[] = {fx_pair("1", "2", "duplicate", "high", 9.0, 0), fx_pair("2", "3", "related", "low", 1.0, 0),
                fx_pair("3", "1", "related", "low", 2.0, 0)};
    assert_int_equal(store_pairs_add(f->st, r2, p, 3, &err), DP_OK);
    char *before = pair_indexes(f);
    assert_int_equal(store_begin(f->st, &err), DP_OK);
    int dropped = -1;
    assert_int_equal(store_pairs_bulk_begin(f->st, f->repo, 2, &dropped, &err), DP_OK);
    assert_int_equal(dropped, 0);
    char *during = pair_indexes(f);
    assert_string_equal(during, before);
    assert_int_equal(store_pairs_bulk_end(f->st, &err), DP_OK);
    /* as many as the others hold: worth it */
    assert_int_equal(store_pairs_bulk_begin(f->st, f->repo, 3, &dropped, &err), DP_OK);
    assert_int_equal(dropped, 1);
    assert_int_equal(store_pairs_bulk_end(f->st, &err), DP_OK);
    assert_int_equal(store_commit(f->st, &err), DP_OK);
    char *after = pair_indexes(f);
    assert_string_equal(after, before);
    char *got = pairs_by_value(f, r2);
    assert_string_equal(got, "1>2 3>1 2>3");
    free(got);
    free(before);
    free(during);
    free(after);
}


static void put_dated(fx *f, const char *key, int64_t updated)
{
    dp_err err;
    item it;
    fx_item(&it, key, key, "open", updated);
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, NULL, &err), DP_OK);
    item_free(&it);
}

static int64_t updated_of(fx *f, const char *q, const char *c)
{
    pair p = fx_find(f, q, c);
    int64_t u = p.updated_at;
    pair_free(&p);
    return u;
}

/* A bulk replace writes what the row-by-row path writes: the counts, the
 * texts (read back, and none left of the old pairs), the update time of
 * each pair -- the later of its two items' in the repository, 0 when
 * neither is stored -- also for a query's pairs in a row and after an item
 * changes between two batches of the same bulk. */
static void test_bulk_writes_what_rows_write(void **state)
{
    fx *f = *state;
    dp_err err;
    /* another repository's item of one of our keys, first by id and later
     * than all of ours: not ours */
    int64_t r2;
    assert_int_equal(store_repo_get(f->st, "x/y", 1, NULL, NULL, &r2, &err), DP_OK);
    item other;
    fx_item(&other, "3", "3", "open", 5000);
    assert_int_equal(store_item_upsert(f->st, r2, &other, NULL, &err), DP_OK);
    item_free(&other);
    put_dated(f, "1", 100);
    put_dated(f, "2", 300);
    put_dated(f, "3", 200);
    pair old[] = {fx_pair("2", "1", "duplicate", "high", 1.0, 0), fx_pair("3", "1", "related", "low", 1.0, 0)};
    old[0].suggested_comment = (char *)"old comment";
    assert_int_equal(store_pairs_add(f->st, f->repo, old, 2, &err), DP_OK);
    assert_int_equal(fx_db_int(f->st->db, "SELECT count(*) FROM pair_texts"), 2);
    pair was = fx_find(f, "2", "1");
    int64_t old_id = was.id;
    pair_free(&was);

    assert_int_equal(store_begin(f->st, &err), DP_OK);
    int dropped = 0;
    assert_int_equal(store_pairs_bulk_begin(f->st, f->repo, 3, &dropped, &err), DP_OK);
    assert_int_equal(dropped, 1);
    assert_int_equal(store_pairs_delete(f->st, f->repo, NULL, 0, &err), DP_OK);
    assert_int_equal(fx_db_int(f->st->db, "SELECT count(*) FROM pair_texts"), 0);
    /* two pairs of one query in a row, as analyze writes them */
    pair a[] = {fx_pair("2", "1", "duplicate", "high", 5.0, 0), fx_pair("3", "9", "related", "low", 2.0, 1),
                fx_pair("3", "2", "related", "low", 2.0, 0), fx_pair("8", "9", "related", "low", 2.0, 0)};
    a[0].value_detail = (char *)"base: 1.0";
    a[0].suggested_comment = (char *)"Duplicate of #1";
    a[1].reasoning = NULL;   /* no texts at all: no row */
    assert_int_equal(store_pairs_add(f->st, f->repo, a, 4, &err), DP_OK);
    /* an item written between two batches: the next batch sees it */
    put_dated(f, "1", 900);
    pair b[] = {fx_pair("1", "3", "related", "medium", 3.0, 0)};
    assert_int_equal(store_pairs_add(f->st, f->repo, b, 1, &err), DP_OK);
    assert_int_equal(store_pairs_bulk_end(f->st, &err), DP_OK);
    assert_int_equal(store_commit(f->st, &err), DP_OK);

    fx_expect_pairs_consistent(f->st->db);
    assert_int_equal(updated_of(f, "2", "1"), 900);   /* 300, raised by the upsert of 1 */
    assert_int_equal(updated_of(f, "3", "9"), 200);   /* 9 is not stored */
    assert_int_equal(updated_of(f, "3", "2"), 300);
    assert_int_equal(updated_of(f, "8", "9"), 0);     /* neither is */
    assert_int_equal(updated_of(f, "1", "3"), 900);
    pair p;
    assert_int_equal(store_pair_find(f->st, f->repo, "2", "1", &p, &err), DP_OK);
    assert_true(p.id > old_id);
    assert_string_equal(p.reasoning, "shared terms");
    assert_string_equal(p.value_detail, "base: 1.0");
    assert_string_equal(p.suggested_comment, "Duplicate of #1");
    pair_free(&p);
    assert_int_equal(store_pair_find(f->st, f->repo, "3", "9", &p, &err), DP_OK);
    assert_null(p.reasoning);
    assert_null(p.suggested_comment);
    pair_free(&p);
    assert_int_equal(fx_db_int(f->st->db, "SELECT count(*) FROM pair_texts"), 4);
    /* the triggers are back: a later row-by-row delete takes the texts */
    const char *q = "2";
    assert_int_equal(store_pairs_delete(f->st, f->repo, &q, 1, &err), DP_OK);
    fx_expect_pairs_consistent(f->st->db);
    assert_int_equal(fx_db_int(f->st->db, "SELECT count(*) FROM pair_texts"), 3);
}

/* Another repository's pairs are not cleared with the repository's own:
 * their texts stay, and so do their counts. */
static void test_bulk_keeps_other_repo_texts(void **state)
{
    fx *f = *state;
    dp_err err;
    seed_items(f);
    int64_t r2;
    assert_int_equal(store_repo_get(f->st, "x/y", 1, NULL, NULL, &r2, &err), DP_OK);
    pair o = fx_pair("1", "2", "duplicate", "high", 9.0, 0);
    o.suggested_comment = (char *)"theirs";
    assert_int_equal(store_pairs_add(f->st, r2, &o, 1, &err), DP_OK);
    pair mine[] = {fx_pair("2", "1", "duplicate", "high", 1.0, 0), fx_pair("3", "1", "related", "low", 1.0, 0)};
    assert_int_equal(store_pairs_add(f->st, f->repo, mine, 2, &err), DP_OK);
    assert_int_equal(store_begin(f->st, &err), DP_OK);
    int dropped = 0;
    assert_int_equal(store_pairs_bulk_begin(f->st, f->repo, 2, &dropped, &err), DP_OK);
    assert_int_equal(dropped, 1);
    assert_int_equal(store_pairs_delete(f->st, f->repo, NULL, 0, &err), DP_OK);
    /* and one query's pairs, as an incremental caller would */
    assert_int_equal(store_pairs_add(f->st, f->repo, mine, 2, &err), DP_OK);
    const char *q = "3";
    assert_int_equal(store_pairs_delete(f->st, f->repo, &q, 1, &err), DP_OK);
    assert_int_equal(store_pairs_bulk_end(f->st, &err), DP_OK);
    assert_int_equal(store_commit(f->st, &err), DP_OK);
    fx_expect_pairs_consistent(f->st->db);
    pair p;
    assert_int_equal(store_pair_find(f->st, r2, "1", "2", &p, &err), DP_OK);
    assert_string_equal(p.suggested_comment, "theirs");
    pair_free(&p);
    assert_int_equal(fx_db_int(f->st->db, "SELECT count(*) FROM pairs"), 2);
    assert_int_equal(fx_db_int(f->st->db, "SELECT count(*) FROM pair_texts"), 2);
}

/* The sql text of the pairs table, owned. */
static char *pairs_schema(fx *f)
{
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(f->st->db, "SELECT sql FROM sqlite_master WHERE name = 'pairs'", -1, &s,
                                        NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    char *sql = xstrdup((const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return sql;
}

/* The only repository's pairs cleared at once (the table made again):
 * the same schema and UNIQUE constraint after, and the new pairs get the
 * ids a row-by-row delete would leave them -- after the highest id ever
 * given, not after the highest left (the AUTOINCREMENT counter is kept). */
static void test_clear_keeps_schema_and_ids(void **state)
{
    fx *f = *state;
    dp_err err;
    seed_items(f);
    pair old[] = {fx_pair("2", "1", "duplicate", "high", 1.0, 0), fx_pair("3", "1", "related", "low", 1.0, 0),
                  fx_pair("3", "2", "related", "low", 1.0, 0)};
    assert_int_equal(store_pairs_add(f->st, f->repo, old, 3, &err), DP_OK);
    const char *q = "3";
    assert_int_equal(store_pairs_delete(f->st, f->repo, &q, 1, &err), DP_OK);
    int64_t seq = fx_db_int(f->st->db, "SELECT seq FROM sqlite_sequence WHERE name = 'pairs'");
    assert_true(seq > fx_db_int(f->st->db, "SELECT max(id) FROM pairs"));
    char *before = pairs_schema(f), *idx = pair_indexes(f);

    assert_int_equal(store_begin(f->st, &err), DP_OK);
    int dropped = 0;
    assert_int_equal(store_pairs_bulk_begin(f->st, f->repo, 2, &dropped, &err), DP_OK);
    assert_int_equal(dropped, 1);
    assert_int_equal(store_pairs_delete(f->st, f->repo, NULL, 0, &err), DP_OK);
    assert_int_equal(fx_db_int(f->st->db, "SELECT count(*) FROM pairs"), 0);
    assert_int_equal(fx_db_int(f->st->db, "SELECT count(*) FROM pair_texts"), 0);
    pair p[] = {fx_pair("3", "2", "related", "medium", 7.0, 0), fx_pair("2", "1", "duplicate", "high", 5.0, 0)};
    assert_int_equal(store_pairs_add(f->st, f->repo, p, 2, &err), DP_OK);
    assert_int_equal(store_pairs_add(f->st, f->repo, p, 1, &err), DP_ERR);   /* still UNIQUE */
    assert_int_equal(store_pairs_bulk_end(f->st, &err), DP_OK);
    assert_int_equal(store_commit(f->st, &err), DP_OK);

    pair got = fx_find(f, "3", "2");
    assert_int_equal(got.id, seq + 1);
    pair_free(&got);
    got = fx_find(f, "2", "1");
    assert_int_equal(got.id, seq + 2);
    pair_free(&got);
    char *after = pairs_schema(f), *idx2 = pair_indexes(f);
    assert_string_equal(after, before);
    assert_string_equal(idx2, idx);
    fx_expect_pairs_consistent(f->st->db);
    fx_expect_integrity(f->st->db);
    free(before);
    free(after);
    free(idx);
    free(idx2);
}

/* The values PRAGMA threads and cache_size were set to, in order
 * ("threads=0 cache_size=-4000 ..."). */
static int record_threads(void *ud, int action, const char *a, const char *b, const char *db, const char *trigger)
{
    (void)db;
    (void)trigger;
    if (action == SQLITE_PRAGMA && a && b && (!sqlite3_stricmp(a, "threads") || !sqlite3_stricmp(a, "cache_size")))
        sb_printf(ud, "%s=%s ", a, b);
    return SQLITE_OK;
}

/* The indexes are rebuilt by the writer alone (no sorter threads) with a
 * page cache of 4 MB (so the sorter sorts runs), and the connection's own
 * settings come back after. */
static void test_rebuild_sorter_threads(void **state)
{
    fx *f = *state;
    dp_err err;
    seed_items(f);
    assert_int_equal(sqlite3_exec(f->st->db, "PRAGMA threads = 1; PRAGMA cache_size = -1234", NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(store_begin(f->st, &err), DP_OK);
    int dropped = 0;
    assert_int_equal(store_pairs_bulk_begin(f->st, f->repo, 1, &dropped, &err), DP_OK);
    pair p = fx_pair("2", "1", "duplicate", "high", 5.0, 0);
    assert_int_equal(store_pairs_add(f->st, f->repo, &p, 1, &err), DP_OK);
    sbuf set;
    sb_init(&set);
    sqlite3_set_authorizer(f->st->db, record_threads, &set);
    assert_int_equal(store_pairs_bulk_end(f->st, &err), DP_OK);
    sqlite3_set_authorizer(f->st->db, NULL, NULL);
    assert_int_equal(store_commit(f->st, &err), DP_OK);
    assert_non_null(set.s);
    assert_string_equal(set.s, "threads=0 cache_size=-4000 cache_size=-1234 threads=1 ");
    assert_int_equal(fx_db_int(f->st->db, "PRAGMA threads"), 1);
    assert_int_equal(fx_db_int(f->st->db, "PRAGMA cache_size"), -1234);
    sb_free(&set);
}

static int journal_file_exists(fx *f)
{
    char p[192];
    snprintf(p, sizeof p, "%s-journal", f->path);
    return access(p, F_OK) == 0;
}

/* A pair replacement into a store without pairs (a first analysis) runs on
 * a rollback journal, each new page written once; WAL comes back when it
 * ends, rolled back (nothing of it left) or committed. Once the store has
 * pairs, their replacement keeps WAL (the journal would copy every old
 * page), as does a plain store_begin. */
static void test_first_replace_journal(void **state)
{
    fx *f = *state;
    dp_err err;
    char mode[16];
    seed_items(f);
    pair p[] = {fx_pair("2", "1", "duplicate", "high", 5.0, 0), fx_pair("3", "1", "related", "low", 2.0, 0)};
    assert_int_equal(store_begin(f->st, &err), DP_OK);
    assert_string_equal(tu_journal_mode(f->st->db, mode, sizeof mode), "wal");
    store_rollback(f->st);

    assert_int_equal(store_begin_pairs(f->st, &err), DP_OK);
    assert_string_equal(tu_journal_mode(f->st->db, mode, sizeof mode), "delete");
    assert_int_equal(store_pairs_add(f->st, f->repo, p, 2, &err), DP_OK);
    store_rollback(f->st);
    assert_string_equal(tu_journal_mode(f->st->db, mode, sizeof mode), "wal");
    assert_int_equal(fx_pragma_int(f->path, "SELECT count(*) FROM pairs"), 0);
    assert_false(journal_file_exists(f));

    assert_int_equal(store_begin_pairs(f->st, &err), DP_OK);
    assert_string_equal(tu_journal_mode(f->st->db, mode, sizeof mode), "delete");
    int dropped = 0;
    assert_int_equal(store_pairs_bulk_begin(f->st, f->repo, 2, &dropped, &err), DP_OK);
    assert_int_equal(store_pairs_add(f->st, f->repo, p, 2, &err), DP_OK);
    assert_int_equal(store_pairs_bulk_end(f->st, &err), DP_OK);
    assert_int_equal(store_commit(f->st, &err), DP_OK);
    assert_string_equal(tu_journal_mode(f->st->db, mode, sizeof mode), "wal");
    assert_false(journal_file_exists(f));
    assert_int_equal(fx_pragma_int(f->path, "SELECT count(*) FROM pairs"), 2);
    fx_expect_pairs_consistent(f->st->db);

    assert_int_equal(store_begin_pairs(f->st, &err), DP_OK);   /* the store has pairs now */
    assert_string_equal(tu_journal_mode(f->st->db, mode, sizeof mode), "wal");
    store_rollback(f->st);
}

/* Another connection on the store (a running `serve`): the journal mode
 * cannot leave WAL, and the replacement goes on in WAL, the other
 * connection reading on meanwhile and seeing the pairs once committed. */
static void test_first_replace_other_connection(void **state)
{
    fx *f = *state;
    dp_err err;
    char mode[16];
    seed_items(f);
    sqlite3 *other;
    assert_int_equal(sqlite3_open_v2(f->path, &other, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(fx_db_int(other, "SELECT count(*) FROM items"), 3);
    assert_int_equal(store_begin_pairs(f->st, &err), DP_OK);
    assert_string_equal(tu_journal_mode(f->st->db, mode, sizeof mode), "wal");
    pair p = fx_pair("2", "1", "duplicate", "high", 5.0, 0);
    assert_int_equal(store_pairs_add(f->st, f->repo, &p, 1, &err), DP_OK);
    assert_int_equal(fx_db_int(other, "SELECT count(*) FROM items"), 3);   /* not blocked */
    assert_int_equal(fx_db_int(other, "SELECT count(*) FROM pairs"), 0);
    assert_int_equal(store_commit(f->st, &err), DP_OK);
    assert_int_equal(fx_db_int(other, "SELECT count(*) FROM pairs"), 1);
    assert_string_equal(tu_journal_mode(f->st->db, mode, sizeof mode), "wal");
    sqlite3_close(other);
}

/* A process killed in the middle of a first replacement -- pages of it
 * already written to the file (a tiny page cache spills them) -- leaves a
 * journal; the next open rolls it back: no pair, the store intact, WAL. */
static void test_first_replace_killed(void **state)
{
    fx *f = *state;
    dp_err err;
    seed_items(f);
    char *before = pair_indexes(f);
    store_close(f->st);   /* the child must be the only connection */
    f->st = NULL;
    struct stat sb0;
    assert_int_equal(stat(f->path, &sb0), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        store *st;
        char txt[3000];
        memset(txt, 'x', sizeof txt - 1);
        txt[sizeof txt - 1] = 0;
        if (store_open(f->path, &st, &err) != DP_OK || sqlite3_exec(st->db, "PRAGMA cache_size = 4", NULL, NULL, NULL) ||
            store_begin_pairs(st, &err) != DP_OK || !st->bulk_journal)
            _exit(2);
        int dropped = 0;
        if (store_pairs_bulk_begin(st, f->repo, 1, &dropped, &err) != DP_OK) _exit(3);
        for (int i = 0; i < 200; i++) {
            pair p = fx_pair(i % 2 ? "2" : "3", "1", "related", "low", i, 0);
            char c[16];
            snprintf(c, sizeof c, "c%d", i);
            p.cand_key = c;
            p.reasoning = txt;
            if (store_pairs_add(st, f->repo, &p, 1, &err) != DP_OK) _exit(4);
        }
        kill(getpid(), SIGKILL);
        _exit(5);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_true(journal_file_exists(f));   /* a hot journal ... */
    struct stat sb1;
    assert_int_equal(stat(f->path, &sb1), 0);
    assert_true(sb1.st_size > sb0.st_size + 200 * 3000 / 2);   /* ... and pages of the pairs in the file */
    assert_int_equal(store_open(f->path, &f->st, &err), DP_OK);
    char mode[16];
    assert_string_equal(tu_journal_mode(f->st->db, mode, sizeof mode), "wal");
    assert_int_equal(fx_db_int(f->st->db, "SELECT count(*) FROM pairs"), 0);
    assert_int_equal(fx_db_int(f->st->db, "SELECT count(*) FROM pair_texts"), 0);
    assert_int_equal(fx_db_int(f->st->db, "SELECT count(*) FROM items"), 3);
    char *after = pair_indexes(f);
    assert_string_equal(after, before);
    fx_expect_integrity(f->st->db);
    assert_false(journal_file_exists(f));
    free(before);
    free(after);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_drop_and_rebuild_same_indexes, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_rollback_restores, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_needs_transaction, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_secure_delete_fast_while_open, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_other_repo_keeps_indexes, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_bulk_writes_what_rows_write, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_bulk_keeps_other_repo_texts, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_clear_keeps_schema_and_ids, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_rebuild_sorter_threads, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_first_replace_journal, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_first_replace_other_connection, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_first_replace_killed, fx_setup_open, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
