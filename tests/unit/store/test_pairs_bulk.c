/* test_pairs_bulk.c -- store_pairs_bulk_begin/end: a full replace drops the
 * pairs' secondary indexes and builds exactly the same ones again; a
 * rollback restores them; other repositories' pairs keep them. */
#include "store_fixture.h"
#include "../../../src/store/store_int.h"

/* "name: sql" of every pair index the schema declares (not the UNIQUE
 * constraint's own), one per line, by name. */
static char *pair_indexes(fx *f)
{
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(f->st->db,
                                        "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
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
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(f->st->db, "PRAGMA integrity_check", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(s, 0), "ok");
    sqlite3_finalize(s);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_drop_and_rebuild_same_indexes, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_rollback_restores, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_needs_transaction, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_other_repo_keeps_indexes, fx_setup_open, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
