/* test_cache.c -- the store's cache blobs (put/get/drop, parts, atomicity,
 * the 2 -> 3 migration) and light pair references. Blobs are split into
 * tiny parts here (store_cache_part = 1000) so a few KB span several. */
#include "store_fixture.h"
#include "../../../src/store/store_int.h"

#define PART 1000

static int setup(void **state)
{
    store_cache_part = PART;
    return fx_setup_open(state);
}

static int teardown(void **state)
{
    store_cache_part = STORE_CACHE_PART;
    return fx_teardown(state);
}

/* n bytes of a pattern that contains NULs and every byte value. */
static unsigned char *blob(size_t n, unsigned seed)
{
    unsigned char *b = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) b[i] = (unsigned char)((i * 7 + seed) % 256);
    return b;
}

/* Runs a one-number query on the database through a separate connection. */
static int64_t sql_int(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

static void sql_exec(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_close(db);
}

static int64_t nparts(fx *f, const char *name)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM caches WHERE name = '%s'", name);
    return sql_int(f->path, sql);
}

/* Asserts that cache name of repo holds exactly want[0..n). */
static void expect_blob(fx *f, int64_t repo, const char *name, const unsigned char *want, size_t n)
{
    dp_err err;
    void *got = NULL;
    size_t len = 12345;
    int rc = store_cache_get(f->st, repo, name, &got, &len, &err);
    if (rc != DP_OK) fail_msg("get %s: rc %d: %s", name, rc, rc == DP_ERR ? err.msg : "not found");
    assert_non_null(got);
    assert_int_equal(len, n);
    if (n) assert_memory_equal(got, want, n);
    free(got);
}

static void expect_absent(fx *f, int64_t repo, const char *name)
{
    dp_err err;
    void *got = (void *)&err;
    size_t len = 12345;
    assert_int_equal(store_cache_get(f->st, repo, name, &got, &len, &err), DP_NOTFOUND);
    assert_null(got);
    assert_int_equal(len, 0);
}

/* ---- caches ---------------------------------------------------------- */

static void test_round_trip(void **state)
{
    fx *f = *state;
    dp_err err;
    const unsigned char nuls[] = {'a', 0, 'b', 0, 0, 0xff, 0x80, 0};
    assert_int_equal(store_cache_put(f->st, f->repo, "nuls", nuls, sizeof nuls, &err), DP_OK);
    expect_blob(f, f->repo, "nuls", nuls, sizeof nuls);
    assert_int_equal(nparts(f, "nuls"), 1);

    /* empty: one empty part, read back as a non-NULL zero-length buffer */
    assert_int_equal(store_cache_put(f->st, f->repo, "empty", NULL, 0, &err), DP_OK);
    expect_blob(f, f->repo, "empty", NULL, 0);
    assert_int_equal(nparts(f, "empty"), 1);
    assert_int_equal(sql_int(f->path, "SELECT typeof(data) = 'blob' FROM caches WHERE name = 'empty'"), 1);

    /* several parts, a short last one */
    unsigned char *big = blob(3 * PART + 500, 3);
    assert_int_equal(store_cache_put(f->st, f->repo, "big", big, 3 * PART + 500, &err), DP_OK);
    assert_int_equal(nparts(f, "big"), 4);
    assert_int_equal(sql_int(f->path, "SELECT length(data) FROM caches WHERE name = 'big' AND part = 3"), 500);
    expect_blob(f, f->repo, "big", big, 3 * PART + 500);

    /* an exact multiple of the part size has no empty trailing part */
    assert_int_equal(store_cache_put(f->st, f->repo, "exact", big, 2 * PART, &err), DP_OK);
    assert_int_equal(nparts(f, "exact"), 2);
    expect_blob(f, f->repo, "exact", big, 2 * PART);

    /* the same name in another repository is another cache */
    int64_t other;
    assert_int_equal(store_repo_get(f->st, "o/other", 1, "github", NULL, &other, &err), DP_OK);
    expect_absent(f, other, "big");
    assert_int_equal(store_cache_put(f->st, 0, "big", nuls, 3, &err), DP_OK);   /* repo 0: global */
    expect_blob(f, 0, "big", nuls, 3);
    expect_blob(f, f->repo, "big", big, 3 * PART + 500);
    free(big);

    /* bad input */
    assert_int_equal(store_cache_put(f->st, f->repo, NULL, nuls, 1, &err), DP_ERR);
    assert_int_equal(store_cache_put(f->st, f->repo, "x", NULL, 5, &err), DP_ERR);
    expect_absent(f, f->repo, "x");
}

static void test_replace_shrinks(void **state)
{
    fx *f = *state;
    dp_err err;
    unsigned char *a = blob(4 * PART + 1, 1), *b = blob(PART + 200, 2);
    assert_int_equal(store_cache_put(f->st, f->repo, "idx", a, 4 * PART + 1, &err), DP_OK);
    assert_int_equal(nparts(f, "idx"), 5);
    assert_int_equal(store_cache_put(f->st, f->repo, "idx", b, PART + 200, &err), DP_OK);
    assert_int_equal(nparts(f, "idx"), 2);
    expect_blob(f, f->repo, "idx", b, PART + 200);
    assert_int_equal(store_cache_put(f->st, f->repo, "idx", NULL, 0, &err), DP_OK);
    assert_int_equal(nparts(f, "idx"), 1);
    expect_blob(f, f->repo, "idx", NULL, 0);
    /* and grows again */
    assert_int_equal(store_cache_put(f->st, f->repo, "idx", a, 4 * PART + 1, &err), DP_OK);
    assert_int_equal(nparts(f, "idx"), 5);
    expect_blob(f, f->repo, "idx", a, 4 * PART + 1);
    free(a);
    free(b);
}

static void test_drop(void **state)
{
    fx *f = *state;
    dp_err err;
    int64_t other;
    assert_int_equal(store_repo_get(f->st, "o/other", 1, "github", NULL, &other, &err), DP_OK);
    unsigned char *b = blob(2500, 9);
    assert_int_equal(store_cache_put(f->st, f->repo, "a", b, 2500, &err), DP_OK);
    assert_int_equal(store_cache_put(f->st, f->repo, "b", b, 10, &err), DP_OK);
    assert_int_equal(store_cache_put(f->st, other, "a", b, 20, &err), DP_OK);
    assert_int_equal(store_cache_put(f->st, 0, "a", b, 30, &err), DP_OK);

    assert_int_equal(store_cache_drop(f->st, f->repo, "a", &err), DP_OK);
    expect_absent(f, f->repo, "a");
    expect_blob(f, f->repo, "b", b, 10);
    expect_blob(f, other, "a", b, 20);
    assert_int_equal(store_cache_drop(f->st, f->repo, "a", &err), DP_OK);    /* absent: fine */

    assert_int_equal(store_cache_put(f->st, f->repo, "a", b, 2500, &err), DP_OK);
    assert_int_equal(store_cache_drop(f->st, f->repo, NULL, &err), DP_OK);
    expect_absent(f, f->repo, "a");
    expect_absent(f, f->repo, "b");
    expect_blob(f, other, "a", b, 20);
    expect_blob(f, 0, "a", b, 30);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM caches"), 2);
    free(b);
}

/* Incomplete parts (a damaged cache: a gap, no part 0, a stray part)
 * read as absent, not as an error or a
 * short blob. */
static void test_notfound(void **state)
{
    fx *f = *state;
    dp_err err;
    expect_absent(f, f->repo, "never");
    unsigned char *b = blob(3 * PART, 5);
    assert_int_equal(store_cache_put(f->st, f->repo, "gap", b, 3 * PART, &err), DP_OK);
    assert_int_equal(store_cache_put(f->st, f->repo, "head", b, 3 * PART, &err), DP_OK);
    assert_int_equal(store_cache_put(f->st, f->repo, "tail", b, 3 * PART, &err), DP_OK);
    sql_exec(f->path, "DELETE FROM caches WHERE name = 'gap' AND part = 1;"
                      "UPDATE caches SET part = -1 WHERE name = 'head' AND part = 0;"
                      "UPDATE caches SET part = 7 WHERE name = 'tail' AND part = 2;");
    expect_absent(f, f->repo, "gap");
    expect_absent(f, f->repo, "head");
    expect_absent(f, f->repo, "tail");
    /* a put repairs it */
    assert_int_equal(store_cache_put(f->st, f->repo, "gap", b, 3 * PART, &err), DP_OK);
    expect_blob(f, f->repo, "gap", b, 3 * PART);
    free(b);
}

/* Inside a caller's transaction the put is undone by its rollback, and a
 * put that fails half-way undoes only itself (outside and inside one). */
static void test_transactions(void **state)
{
    fx *f = *state;
    dp_err err;
    unsigned char *a = blob(2 * PART + 10, 1), *b = blob(5 * PART, 2);
    assert_int_equal(store_cache_put(f->st, f->repo, "idx", a, 2 * PART + 10, &err), DP_OK);

    assert_int_equal(store_begin(f->st, &err), DP_OK);
    assert_int_equal(store_cache_put(f->st, f->repo, "idx", b, 5 * PART, &err), DP_OK);
    expect_blob(f, f->repo, "idx", b, 5 * PART);   /* visible inside */
    store_rollback(f->st);
    expect_blob(f, f->repo, "idx", a, 2 * PART + 10);
    assert_int_equal(nparts(f, "idx"), 3);

    /* the fourth part fails to insert */
    sql_exec(f->path, "CREATE TRIGGER boom BEFORE INSERT ON caches WHEN NEW.part = 3 "
                      "BEGIN SELECT RAISE(ABORT, 'boom'); END");
    char *before = fx_fingerprint(f->path);
    assert_int_equal(store_cache_put(f->st, f->repo, "idx", b, 5 * PART, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "part 3 of cache idx"));
    assert_non_null(strstr(err.msg, "boom"));
    char *after = fx_fingerprint(f->path);
    assert_string_equal(before, after);
    free(after);
    expect_blob(f, f->repo, "idx", a, 2 * PART + 10);

    assert_int_equal(store_begin(f->st, &err), DP_OK);
    assert_int_equal(store_kv_set(f->st, f->repo, "k", "v", &err), DP_OK);
    assert_int_equal(store_cache_put(f->st, f->repo, "idx", b, 5 * PART, &err), DP_ERR);
    assert_int_equal(store_cache_put(f->st, f->repo, "small", b, 10, &err), DP_OK);
    assert_int_equal(store_commit(f->st, &err), DP_OK);
    expect_blob(f, f->repo, "idx", a, 2 * PART + 10);
    expect_blob(f, f->repo, "small", b, 10);
    char *v;
    assert_int_equal(store_kv_get(f->st, f->repo, "k", &v, &err), DP_OK);
    assert_string_equal(v, "v");
    free(v);
    free(before);
    free(a);
    free(b);
}

/* Reading works on a read-only handle and inside a read snapshot (the get's
 * own savepoint nests); writing through a read-only handle fails. */
static void test_readonly(void **state)
{
    fx *f = *state;
    dp_err err;
    unsigned char *a = blob(2 * PART + 10, 1);
    assert_int_equal(store_cache_put(f->st, f->repo, "idx", a, 2 * PART + 10, &err), DP_OK);
    store *rw = f->st;
    assert_int_equal(store_open_readonly(f->path, &f->st, &err), DP_OK);
    expect_blob(f, f->repo, "idx", a, 2 * PART + 10);
    assert_int_equal(store_read_begin(f->st, &err), DP_OK);
    expect_blob(f, f->repo, "idx", a, 2 * PART + 10);
    expect_absent(f, f->repo, "nope");
    store_read_end(f->st);
    assert_int_equal(store_cache_put(f->st, f->repo, "idx", a, 5, &err), DP_ERR);
    assert_int_equal(store_cache_drop(f->st, f->repo, NULL, &err), DP_ERR);
    store_close(f->st);
    f->st = rw;
    expect_blob(f, f->repo, "idx", a, 2 * PART + 10);
    free(a);
}

/* A version-2 database (made by applying only the first two steps) gains
 * the caches table and keeps its data. */
static void test_migrate_from_v2(void **state)
{
    fx *f = *state;
    dp_err err;
    store_close(f->st);
    f->st = NULL;
    fx_unlink(f, "t.db");
    fx_unlink(f, "t.db-wal");
    fx_unlink(f, "t.db-shm");
    assert_true(store_nmigrations >= 3);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    for (int i = 0; i < 2; i++) assert_int_equal(sqlite3_exec(db, store_migrations[i], NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "PRAGMA user_version = 2;"
                                  "INSERT INTO repositories(id, name) VALUES(7, 'o/r');"
                                  "INSERT INTO kv VALUES(7, 'cursor', 'abc')",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM sqlite_schema WHERE name = 'caches'"), 0);

    /* read-only refuses the old version; read-write migrates */
    assert_int_equal(store_open_readonly(f->path, &f->st, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "schema version 2"));
    assert_int_equal(store_open(f->path, &f->st, &err), DP_OK);
    assert_int_equal(store_schema_version(f->st), store_nmigrations);
    assert_int_equal(sql_int(f->path, "PRAGMA user_version"), store_nmigrations);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM sqlite_schema WHERE name = 'caches'"), 1);
    char *v;
    assert_int_equal(store_kv_get(f->st, 7, "cursor", &v, &err), DP_OK);
    assert_string_equal(v, "abc");
    free(v);
    const unsigned char d[] = {1, 0, 2};
    assert_int_equal(store_cache_put(f->st, 7, "idx", d, 3, &err), DP_OK);
    expect_blob(f, 7, "idx", d, 3);
}

/* ---- pair references ------------------------------------------------- */

static void test_pair_refs(void **state)
{
    fx *f = *state;
    dp_err err;
    pair_ref_vec refs = {0};
    assert_int_equal(store_pair_refs_load(f->st, f->repo, &refs, &err), DP_OK);
    assert_int_equal(refs.n, 0);

    fx_put(f, "1", "Crash on start", "open", "bug");
    fx_put(f, "2", "crash at startup", "closed", NULL);
    fx_put(f, "3", "Startup crash", "open", NULL);
    int64_t other;
    assert_int_equal(store_repo_get(f->st, "o/other", 1, "github", NULL, &other, &err), DP_OK);
    pair p[] = {
        fx_pair("1", "2", "duplicate", "high", 5.0, 0), fx_pair("1", "3", "related", "low", 1.0, 0),
        fx_pair("2", "1", "duplicate", "medium", 7.0, 1), fx_pair("3", "1", "related", "low", 2.0, 0),
        fx_pair("3", "2", "related", "high", 9.0, 0),
    };
    for (size_t i = 0; i < 5; i++) p[i].rank = (int)i + 2;
    assert_int_equal(store_pairs_replace(f->st, other, NULL, 0, p, 2, &err), DP_OK);
    assert_int_equal(store_pairs_replace(f->st, f->repo, NULL, 0, p, 5, &err), DP_OK);
    /* replace one query, so ids are not in insertion order */
    const char *q[] = {"3"};
    assert_int_equal(store_pairs_replace(f->st, f->repo, q, 1, p + 3, 2, &err), DP_OK);

    pair_filter flt;
    pair_filter_init(&flt);
    flt.repo_id = f->repo;
    pair_vec full = {0};
    size_t total;
    assert_int_equal(store_pairs_query(f->st, &flt, &full, &total, NULL, &err), DP_OK);
    assert_int_equal(total, 5);

    assert_int_equal(store_pair_refs_load(f->st, f->repo, &refs, &err), DP_OK);
    assert_int_equal(refs.n, full.n);
    for (size_t i = 0; i < refs.n; i++) {
        for (size_t k = 0; k < i; k++) assert_true(refs.v[k].id != refs.v[i].id);
        size_t j = 0;
        while (j < full.n && full.v[j].id != refs.v[i].id) j++;
        if (j == full.n) fail_msg("ref id %lld not among the pairs", (long long)refs.v[i].id);
        assert_string_equal(refs.v[i].query_key, full.v[j].query_key);
        assert_string_equal(refs.v[i].cand_key, full.v[j].cand_key);
    }
    pair_vec_free(&full);

    /* appends; the other repository holds its own two */
    assert_int_equal(store_pair_refs_load(f->st, other, &refs, &err), DP_OK);
    assert_int_equal(refs.n, 7);
    int seen13 = 0;
    for (size_t i = 5; i < 7; i++)
        seen13 += !strcmp(refs.v[i].query_key, "1") && !strcmp(refs.v[i].cand_key, "3");
    assert_int_equal(seen13, 1);
    pair_ref_vec_free(&refs);
    assert_null(refs.v);
    assert_int_equal(refs.n, 0);
    pair_ref_vec_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replace_shrinks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notfound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readonly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_from_v2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pair_refs, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
