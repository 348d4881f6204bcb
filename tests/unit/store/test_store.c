/* test_store.c -- the store: opening, migrations, read-only use,
 * transactions, repositories, items, comments, links, label colours, models
 * and kv. Pairs and verdicts are in test_pairs.c. */
#include "store_fixture.h"

#include <dirent.h>
#include <jansson.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>

#include "../../../src/store/store_int.h"
#include "test_sql.h"

/* ---- open / migrate -------------------------------------------------- */

static void test_open_creates_schema(void **state)
{
    fx *f = *state;
    dp_err err;
    assert_int_equal(access(f->path, F_OK), -1);
    assert_int_equal(store_open(f->path, &f->st, &err), DP_OK);
    /* The process's first SQLite use (this test runs first): the store
     * turned SQLite's memory statistics off (store_sqlite.c), so nothing
     * is counted. */
    assert_int_equal(sqlite3_memory_used(), 0);
    assert_true(store_schema_version(f->st) >= 1);
    assert_int_equal(fx_pragma_int(f->path, "PRAGMA user_version"), store_schema_version(f->st));
    /* WAL is a property of the file, visible to another connection. */
    sqlite3 *db;
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
    sqlite3_finalize(s);
    sqlite3_close(db);
    /* every table of the contract exists */
    const char *tables[] = {"repositories", "items", "comments", "links", "labels",
                            "pairs", "verdicts", "models", "kv"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM sqlite_schema WHERE type='table' AND name='%s'", tables[i]);
        assert_int_equal(fx_pragma_int(f->path, sql), 1);
    }
}

static void test_reopen_keeps_data(void **state)
{
    fx *f = *state;
    dp_err err;
    int64_t id, id2;
    assert_int_equal(store_open(f->path, &f->st, &err), DP_OK);
    assert_int_equal(store_repo_get(f->st, "o/r", 1, "github", NULL, &id, &err), DP_OK);
    assert_int_equal(store_kv_set(f->st, id, "cursor", "abc", &err), DP_OK);
    int v = store_schema_version(f->st);
    store_close(f->st);
    assert_int_equal(store_open(f->path, &f->st, &err), DP_OK);
    assert_int_equal(store_schema_version(f->st), v);
    assert_int_equal(store_repo_get(f->st, "o/r", 0, NULL, NULL, &id2, &err), DP_OK);
    assert_int_equal(id, id2);
    char *val;
    assert_int_equal(store_kv_get(f->st, id, "cursor", &val, &err), DP_OK);
    assert_string_equal(val, "abc");
    free(val);
}

static void set_user_version(const char *path, int v)
{
    sqlite3 *db;
    char sql[64];
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void test_newer_schema_refused(void **state)
{
    fx *f = *state;
    dp_err err;
    assert_int_equal(store_open(f->path, &f->st, &err), DP_OK);
    store_close(f->st);
    f->st = NULL;
    set_user_version(f->path, 999);
    assert_int_equal(store_open(f->path, &f->st, &err), DP_ERR);
    assert_null(f->st);
    assert_non_null(strstr(err.msg, "999"));
    assert_non_null(strstr(err.msg, "newer doppel"));
    assert_int_equal(store_open_readonly(f->path, &f->st, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "999"));
}

/* A version-0 database (an empty SQLite file, or one a user made) is
 * migrated; a migration that fails leaves it exactly as it was. */
static void test_migrate_from_zero(void **state)
{
    fx *f = *state;
    dp_err err;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE notes(x); INSERT INTO notes VALUES('keep me')", NULL, NULL,
                                  NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(store_open(f->path, &f->st, &err), DP_OK);
    assert_int_equal(fx_pragma_int(f->path, "PRAGMA user_version"), store_schema_version(f->st));
    assert_int_equal(fx_pragma_int(f->path, "SELECT COUNT(*) FROM notes"), 1);
    store_close(f->st);
    f->st = NULL;
    /* a clashing table makes step 1 fail half-way: nothing of it remains */
    fx_unlink(f, "t.db");
    fx_unlink(f, "t.db-wal");
    fx_unlink(f, "t.db-shm");
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE items(x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    char *before = fx_fingerprint(f->path);
    assert_int_equal(store_open(f->path, &f->st, &err), DP_ERR);
    assert_null(f->st);
    assert_non_null(strstr(err.msg, "store: migrating schema to version 1: "));
    assert_non_null(strstr(err.msg, "items"));
    char *after = fx_fingerprint(f->path);
    assert_string_equal(before, after);
    assert_int_equal(fx_pragma_int(f->path, "PRAGMA user_version"), 0);
    assert_int_equal(fx_pragma_int(f->path, "SELECT COUNT(*) FROM sqlite_schema WHERE name = 'repositories'"), 0);
    free(before);
    free(after);
}

static void test_not_a_database(void **state)
{
    fx *f = *state;
    dp_err err;
    char *text;
    size_t len;
    char copy[192];
    assert_int_equal(dp_read_file(FIXTURES "/store/not_a_database.txt", &text, &len, &err), DP_OK);
    snprintf(copy, sizeof copy, "%s/copy.txt", f->dir);
    FILE *fp = fopen(copy, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, len, fp), len);
    fclose(fp);
    assert_int_equal(store_open(copy, &f->st, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "store: "));
    assert_non_null(strstr(err.msg, "not a database"));
    /* the file was left untouched */
    char *after;
    size_t alen;
    assert_int_equal(dp_read_file(copy, &after, &alen, &err), DP_OK);
    assert_int_equal(alen, len);
    assert_memory_equal(after, text, len);
    free(text);
    free(after);
}

static void test_readonly(void **state)
{
    fx *f = *state;
    dp_err err;
    /* a missing file is not created */
    assert_int_equal(store_open_readonly(f->path, &f->st, &err), DP_ERR);
    assert_non_null(strstr(err.msg, f->path));
    assert_int_equal(access(f->path, F_OK), -1);
    /* an existing one reads fine and refuses every kind of write */
    assert_int_equal(store_open(f->path, &f->st, &err), DP_OK);
    assert_int_equal(store_repo_get(f->st, "o/r", 1, NULL, NULL, &f->repo, &err), DP_OK);
    int64_t repo = f->repo;
    fx_put(f, "1", "one", "open", "bug");
    store_close(f->st);
    char *before = fx_fingerprint(f->path);
    assert_int_equal(store_open_readonly(f->path, &f->st, &err), DP_OK);
    /* a reader maps the whole file, past the writer's 256 MB (SQLite caps
     * the size at its compile-time maximum) */
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(f->st->db, "PRAGMA mmap_size", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_true(sqlite3_column_int64(s, 0) >= ((int64_t)1 << 30));
    sqlite3_finalize(s);
    item it;
    assert_int_equal(store_item_get(f->st, repo, "1", &it, &err), DP_OK);
    assert_string_equal(it.title, "one");
    it.updated_at += 100;
    assert_int_equal(store_item_upsert(f->st, repo, &it, NULL, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "item 1"));
    item_free(&it);
    int64_t r2;
    assert_int_equal(store_repo_get(f->st, "x/y", 1, NULL, NULL, &r2, &err), DP_ERR);
    assert_int_equal(store_kv_set(f->st, repo, "k", "v", &err), DP_ERR);
    assert_int_equal(store_verdict_set(f->st, repo, "1", "2", VERDICT_DUPLICATE, &err), DP_ERR);
    pair p = fx_pair("1", "2", "duplicate", "high", 1, 0);
    assert_int_equal(store_pairs_replace(f->st, repo, NULL, 0, &p, 1, &err), DP_ERR);
    assert_int_equal(store_model_save(f->st, 0, "m", 1, &err), DP_ERR);
    store_close(f->st);
    f->st = NULL;
    char *after = fx_fingerprint(f->path);
    assert_string_equal(before, after);
    free(before);
    free(after);
}

static void test_readonly_refuses_empty_db(void **state)
{
    fx *f = *state;
    dp_err err;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE other(x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(store_open_readonly(f->path, &f->st, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "not a doppel database"));
}

/* ---- transactions ---------------------------------------------------- */

static void fill_some(fx *f)
{
    dp_err err;
    int64_t r2;
    fx_put(f, "1", "one", "open", "bug");
    fx_put(f, "2", "two", "closed", NULL);
    comment c = {.id = 7, .item_key = "1", .author = "bob", .body = "me too", .created_at = 10};
    assert_int_equal(store_comment_upsert(f->st, f->repo, &c, &err), DP_OK);
    item_link l = {.src_key = "1", .dst_key = "2", .type = LINK_DUPLICATE, .source = "body"};
    assert_int_equal(store_link_add(f->st, f->repo, &l, &err), DP_OK);
    assert_int_equal(store_label_color_set(f->st, f->repo, "bug", "d73a4a", &err), DP_OK);
    pair p = fx_pair("1", "2", "duplicate", "high", 3, 1);
    assert_int_equal(store_pairs_replace(f->st, f->repo, NULL, 0, &p, 1, &err), DP_OK);
    assert_int_equal(store_verdict_set(f->st, f->repo, "1", "2", VERDICT_DUPLICATE, &err), DP_OK);
    assert_int_equal(store_model_save(f->st, f->repo, "model v1", 10, &err), DP_OK);
    assert_int_equal(store_kv_set(f->st, f->repo, "etag", "W/1", &err), DP_OK);
    assert_int_equal(store_repo_get(f->st, "other/repo", 1, "github", NULL, &r2, &err), DP_OK);
}

static void test_rollback_leaves_nothing(void **state)
{
    fx *f = *state;
    dp_err err;
    fx_put(f, "9", "before", "open", NULL);
    char *before = fx_fingerprint(f->path);
    assert_int_equal(store_begin(f->st, &err), DP_OK);
    fill_some(f);
    /* an update of an existing row is undone too */
    item it;
    fx_item(&it, "9", "changed", "closed", 9999);
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, NULL, &err), DP_OK);
    item_free(&it);
    store_rollback(f->st);
    char *after = fx_fingerprint(f->path);
    assert_string_equal(before, after);
    free(before);
    free(after);
    /* and the same work committed is visible */
    assert_int_equal(store_begin(f->st, &err), DP_OK);
    fill_some(f);
    assert_int_equal(store_commit(f->st, &err), DP_OK);
    after = fx_fingerprint(f->path);
    assert_non_null(strstr(after, "me too"));
    assert_non_null(strstr(after, "model v1"));
    free(after);
}

static int fds_open(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    assert_non_null(d);
    while (readdir(d)) n++;
    closedir(d);
    return n;
}

static void *writeback_main(void *st)
{
    store_writeback(st);
    return NULL;
}

/* store_writeback finds SQLite's own descriptor of the store file (it
 * opens none: closing one would drop SQLite's locks), leaves no descriptor
 * behind, may run on another thread while the store writes, and a
 * transaction it ran in commits as any other. */
static void test_writeback(void **state)
{
    fx *f = *state;
    dp_err err;
    int fd = store_file_fd(f->st);
    struct stat a, b;
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &a), 0);
    assert_int_equal(stat(f->path, &b), 0);
    assert_true(a.st_dev == b.st_dev && a.st_ino == b.st_ino);
    int before = fds_open();
    assert_int_equal(store_begin(f->st, &err), DP_OK);
    /* beside the store's own thread, as an analysis calls it */
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, writeback_main, f->st), 0);
    fill_some(f);
    assert_int_equal(pthread_join(th, NULL), 0);
    store_writeback(f->st);
    assert_int_equal(fds_open(), before);
    assert_int_equal(store_commit(f->st, &err), DP_OK);
    char *after = fx_fingerprint(f->path);
    assert_non_null(strstr(after, "me too"));
    free(after);
    /* a store without a file has nothing to write back */
    store *mem;
    assert_int_equal(store_open(":memory:", &mem, &err), DP_OK);
    assert_int_equal(store_file_fd(mem), -1);
    store_writeback(mem);
    store_close(mem);
    store_writeback(NULL);
}

static void test_transaction_misuse(void **state)
{
    fx *f = *state;
    dp_err err;
    assert_int_equal(store_commit(f->st, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "no transaction"));
    assert_int_equal(store_begin(f->st, &err), DP_OK);
    assert_int_equal(store_begin(f->st, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "already open"));
    store_rollback(f->st);
    store_rollback(f->st);          /* harmless when none is open */
    assert_int_equal(store_begin(f->st, &err), DP_OK);
    assert_int_equal(store_commit(f->st, &err), DP_OK);
}

/* A reader on its own handle sees the last commit while a writer holds a
 * transaction open (WAL), and sees the new data after the commit. */
static void test_reader_beside_writer(void **state)
{
    fx *f = *state;
    dp_err err;
    store *rd;
    assert_int_equal(store_open_readonly(f->path, &rd, &err), DP_OK);
    assert_int_equal(store_begin(f->st, &err), DP_OK);
    fx_put(f, "1", "one", "open", NULL);
    item it;
    assert_int_equal(store_item_get(rd, f->repo, "1", &it, &err), DP_NOTFOUND);
    assert_int_equal(store_commit(f->st, &err), DP_OK);
    assert_int_equal(store_item_get(rd, f->repo, "1", &it, &err), DP_OK);
    assert_string_equal(it.title, "one");
    item_free(&it);
    store_close(rd);
}

/* ---- repositories ---------------------------------------------------- */

static void test_repos(void **state)
{
    fx *f = *state;
    dp_err err;
    int64_t id, r2;
    assert_int_equal(store_repo_get(f->st, "missing/repo", 0, NULL, NULL, &id, &err), DP_NOTFOUND);
    assert_int_equal(store_repo_resolve(f->st, NULL, &id, &err), DP_OK);
    assert_int_equal(id, f->repo);
    assert_int_equal(store_repo_get(f->st, "HIVE", 1, "jira", "https://issues.apache.org/jira", &r2, &err), DP_OK);
    assert_int_not_equal(r2, f->repo);
    assert_int_equal(store_repo_resolve(f->st, NULL, &id, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "HIVE"));
    assert_non_null(strstr(err.msg, "--repo"));
    assert_int_equal(store_repo_resolve(f->st, "HIVE", &id, &err), DP_OK);
    assert_int_equal(id, r2);
    assert_int_equal(store_repo_resolve(f->st, "nope", &id, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "nope"));
    repo_info *rs;
    size_t n;
    assert_int_equal(store_repo_list(f->st, &rs, &n, &err), DP_OK);
    assert_int_equal(n, 2);
    assert_string_equal(rs[0].name, "HIVE");
    assert_string_equal(rs[0].kind, "jira");
    assert_string_equal(rs[1].url, "https://github.com/o/r");
    for (size_t i = 0; i < n; i++) repo_info_free(&rs[i]);
    free(rs);
}

static void test_resolve_empty(void **state)
{
    fx *f = *state;
    dp_err err;
    int64_t id;
    assert_int_equal(store_open(f->path, &f->st, &err), DP_OK);
    assert_int_equal(store_repo_resolve(f->st, NULL, &id, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "no repository"));
}

/* One-answer questions (store_value_int, store_value_text): a row, no
 * row, a NULL value, ?1 bound when the statement has it, and a failure
 * whose message store_fail then reports. */
static void test_value_queries(void **state)
{
    fx *f = *state;
    dp_err err;
    int64_t v = -7;
    assert_int_equal(store_exec(f->st, "CREATE TABLE t(a INTEGER, b TEXT); INSERT INTO t VALUES(1, 'one'), (2, NULL)",
                                "test table", &err), DP_OK);
    assert_int_equal(store_value_int(f->st, "SELECT COUNT(*) FROM t", 0, &v), 1);
    assert_int_equal(v, 2);
    assert_int_equal(store_value_int(f->st, "SELECT a * 10 FROM t WHERE a = ?1", 2, &v), 1);
    assert_int_equal(v, 20);
    v = -7;
    assert_int_equal(store_value_int(f->st, "SELECT a FROM t WHERE a = ?1", 3, &v), 0);
    assert_int_equal(v, -7);   /* untouched without a row */
    assert_int_equal(store_value_int(f->st, "SELECT a FROM no_such_table", 0, &v), -1);
    assert_int_equal(store_fail(f->st, &err, "asking"), DP_ERR);
    assert_non_null(strstr(err.msg, "no such table"));
    char *t = store_value_text(f->st, "SELECT b FROM t WHERE a = 1");
    assert_string_equal(t, "one");
    free(t);
    assert_null(store_value_text(f->st, "SELECT b FROM t WHERE a = 2"));    /* NULL value */
    assert_null(store_value_text(f->st, "SELECT b FROM t WHERE a = 9"));    /* no row */
    assert_null(store_value_text(f->st, "SELECT b FROM no_such_table"));   /* failure */
}

/* The labels column holds jansson's compact dump of the list, whichever
 * way it was written: printable ASCII with quotes, backslashes, slashes
 * and DEL, empty and missing strings, and (jansson's own way) tabs,
 * non-ASCII and newlines. */
static void test_labels_json_as_jansson(void **state)
{
    fx *f = *state;
    dp_err err;
    static const char *const lists[][4] = {
        {"bug", "good first issue", NULL, NULL},
        {"a\"b", "c\\d", "x/y", "~\x7f "},
        {"", "\"\"\\\\", "", "}]"},
        {"tab\there", "line\nbreak", "\x01", NULL},
        {"caf\xc3\xa9", "\xf0\x9f\x90\x9b bug", NULL, NULL},
    };
    for (size_t k = 0; k < sizeof lists / sizeof *lists; k++) {
        item it;
        char key[8];
        snprintf(key, sizeof key, "%zu", k + 1);
        fx_item(&it, key, "t", "open", 100);
        json_t *a = json_array();
        for (int i = 0; i < 4 && lists[k][i]; i++) {
            sv_push(&it.labels, lists[k][i]);
            json_array_append_new(a, json_string(lists[k][i]));
        }
        if (k == 2) {   /* a missing string is written as "" */
            free(it.labels.v[2]);
            it.labels.v[2] = NULL;
        }
        char *want = json_dumps(a, JSON_COMPACT);
        json_decref(a);
        assert_int_equal(store_item_upsert(f->st, f->repo, &it, NULL, &err), DP_OK);
        sqlite3_stmt *s;
        assert_int_equal(sqlite3_prepare_v2(f->st->db, "SELECT labels FROM items WHERE key = ?1", -1, &s, NULL),
                         SQLITE_OK);
        sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
        assert_int_equal(sqlite3_step(s), SQLITE_ROW);
        assert_string_equal((const char *)sqlite3_column_text(s, 0), want);
        sqlite3_finalize(s);
        free(want);
        item_free(&it);
    }
    item it;
    fx_item(&it, "9", "t", "open", 100);
    sv_push(&it.labels, "ok");
    sv_push(&it.labels, "bad \xff byte");
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, NULL, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "not valid UTF-8"));
    item_free(&it);
}

/* ---- items ----------------------------------------------------------- */

static void test_upsert_newer_wins(void **state)
{
    fx *f = *state;
    dp_err err;
    item it, got;
    int changed = -1;
    fx_item(&it, "5", "first", "open", 100);
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, &changed, &err), DP_OK);
    assert_int_equal(changed, 1);
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, &changed, &err), DP_OK);
    assert_int_equal(changed, 0);
    /* equal updated_at, different content: a second edit within the same
     * second, which wins (see test_same_second_edit_wins) */
    free(it.title);
    it.title = xstrdup("same time");
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, &changed, &err), DP_OK);
    assert_int_equal(changed, 1);
    /* older: left alone */
    free(it.title);
    it.title = xstrdup("older");
    it.updated_at = 50;
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, &changed, &err), DP_OK);
    assert_int_equal(changed, 0);
    assert_int_equal(store_item_get(f->st, f->repo, "5", &got, &err), DP_OK);
    assert_string_equal(got.title, "same time");
    assert_int_equal(got.updated_at, 100);
    item_free(&got);
    /* newer: replaces, including labels */
    it.updated_at = 200;
    free(it.title);
    it.title = xstrdup("second");
    free(it.state);
    it.state = xstrdup("closed");
    sv_push(&it.labels, "bug");
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, &changed, &err), DP_OK);
    assert_int_equal(changed, 1);
    assert_int_equal(store_item_get(f->st, f->repo, "5", &got, &err), DP_OK);
    assert_string_equal(got.title, "second");
    assert_string_equal(got.state, "closed");
    assert_int_equal(got.labels.n, 1);
    assert_true(got.rowid > 0);
    item_free(&got);
    item_free(&it);
    size_t issues = 9, prs = 9, open = 9;
    assert_int_equal(store_item_count(f->st, f->repo, &issues, &prs, &open, &err), DP_OK);
    assert_int_equal(issues, 1);
    assert_int_equal(prs, 0);
    assert_int_equal(open, 0);
}

/* ---- the item write against the one-statement upsert it replaced ------- */

/* The upsert store_item_upsert ran before it became an INSERT OR IGNORE
 * and an UPDATE (which keep a bulk import free of statement journals):
 * the reference the rows must still match, kept verbatim. */
static const char old_upsert_sql[] =
    "INSERT INTO items(repo_id, key, number, kind, title, body, state, state_reason, author, "
    "  created_at, updated_at, closed_at, labels, components, versions, type, priority, "
    "  ncomments, reactions, url, deleted, changed_seq) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, "
    "(SELECT COALESCE(MAX(changed_seq), 0) + 1 FROM items WHERE repo_id = ?1)) "
    "ON CONFLICT(repo_id, key) DO UPDATE SET number = excluded.number, kind = excluded.kind, "
    "  title = excluded.title, body = excluded.body, state = excluded.state, "
    "  state_reason = excluded.state_reason, author = excluded.author, "
    "  created_at = excluded.created_at, updated_at = excluded.updated_at, "
    "  closed_at = excluded.closed_at, labels = excluded.labels, components = excluded.components, "
    "  versions = excluded.versions, type = excluded.type, priority = excluded.priority, "
    "  ncomments = excluded.ncomments, reactions = excluded.reactions, url = excluded.url, "
    "  deleted = excluded.deleted, changed_seq = excluded.changed_seq "
    "WHERE excluded.updated_at > items.updated_at "
    "   OR (items.updated_at > ?22 AND excluded.updated_at <> items.updated_at) "
    "   OR (excluded.updated_at = items.updated_at AND ("
    "       excluded.title IS NOT items.title OR excluded.body IS NOT items.body "
    "    OR excluded.state IS NOT items.state OR excluded.state_reason IS NOT items.state_reason "
    "    OR excluded.labels IS NOT items.labels OR excluded.components IS NOT items.components "
    "    OR excluded.versions IS NOT items.versions OR excluded.closed_at IS NOT items.closed_at "
    "    OR excluded.ncomments IS NOT items.ncomments OR excluded.deleted IS NOT items.deleted "
    "    OR excluded.kind IS NOT items.kind OR excluded.type IS NOT items.type "
    "    OR excluded.priority IS NOT items.priority)) "
    "RETURNING id";

static void bind_opt(sqlite3_stmt *s, int i, const char *v)
{
    if (v) sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
    else sqlite3_bind_null(s, i);
}

/* The old upsert of it into db; returns 1 when it wrote the row. Labels
 * are at most one here, so their JSON is written out by hand. */
static int old_upsert(sqlite3 *db, int64_t repo, const item *it)
{
    char labels[64];
    snprintf(labels, sizeof labels, it->labels.n ? "[\"%s\"]" : "[]", it->labels.n ? it->labels.v[0] : "");
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, old_upsert_sql, -1, &s, NULL), SQLITE_OK);
    sqlite3_bind_int64(s, 1, repo);
    bind_opt(s, 2, it->key);
    sqlite3_bind_int64(s, 3, it->number);
    sqlite3_bind_int(s, 4, (int)it->kind);
    bind_opt(s, 5, it->title);
    bind_opt(s, 6, it->body);
    bind_opt(s, 7, it->state);
    bind_opt(s, 8, it->state_reason);
    bind_opt(s, 9, it->author);
    sqlite3_bind_int64(s, 10, it->created_at);
    sqlite3_bind_int64(s, 11, it->updated_at);
    sqlite3_bind_int64(s, 12, it->closed_at);
    bind_opt(s, 13, labels);
    bind_opt(s, 14, "[]");
    bind_opt(s, 15, "[]");
    bind_opt(s, 16, it->type);
    bind_opt(s, 17, it->priority);
    sqlite3_bind_int(s, 18, it->ncomments);
    sqlite3_bind_int(s, 19, it->reactions);
    bind_opt(s, 20, it->url);
    sqlite3_bind_int(s, 21, it->deleted);
    sqlite3_bind_int64(s, 22, (int64_t)time(NULL) + STORE_FUTURE_SLACK);
    int rc = sqlite3_step(s), wrote = rc == SQLITE_ROW;
    if (wrote) rc = sqlite3_step(s);
    assert_int_equal(rc, SQLITE_DONE);
    sqlite3_finalize(s);
    return wrote;
}

/* Every column of every item, and (notes) the items noted for the title
 * index. */
static char *item_rows(sqlite3 *db, int notes)
{
    sbuf sb;
    sb_init(&sb);
    const char *const sql[] = {"SELECT * FROM items ORDER BY id", "SELECT id FROM items_fts_todo ORDER BY id"};
    for (int q = 0; q < 1 + notes; q++) {
        sqlite3_stmt *s = NULL;
        assert_int_equal(sqlite3_prepare_v2(db, sql[q], -1, &s, NULL), SQLITE_OK);
        while (sqlite3_step(s) == SQLITE_ROW) {
            for (int c = 0; c < sqlite3_column_count(s); c++) {
                const unsigned char *t = sqlite3_column_text(s, c);
                sb_printf(&sb, "%s%d:%s", c ? "|" : "", sqlite3_column_type(s, c), t ? (const char *)t : "");
            }
            sb_addc(&sb, '\n');
        }
        sqlite3_finalize(s);
        sb_adds(&sb, "--\n");
    }
    return sb_take(&sb);
}

/* A sequence of writes that takes every branch of newer-wins: insert, the
 * same copy again, a same-second edit, an older copy, a newer one with
 * other labels, kind and state, a stored date in the far future replaced
 * by an older one, a deletion mark, and new items after updates (the
 * change sequence). Each gives the same rows and the same "changed" as
 * the old upsert, with and without bulk mode. */
static void item_writes_match_upsert(fx *f, int bulk)
{
    dp_err err;
    store *ref;
    int64_t ref_repo;
    char path[160];
    snprintf(path, sizeof path, "%s/other.db", f->dir);
    assert_int_equal(store_open(path, &ref, &err), DP_OK);
    assert_int_equal(store_repo_get(ref, "o/r", 1, "github", "https://github.com/o/r", &ref_repo, &err), DP_OK);
    assert_int_equal(ref_repo, f->repo);
    if (bulk) assert_int_equal(store_bulk_mode(f->st, &err), DP_OK);
    assert_int_equal(store_begin(f->st, &err), DP_OK);
    assert_int_equal(store_begin(ref, &err), DP_OK);
    int64_t future = (int64_t)time(NULL) + 10 * 86400;
    struct { const char *key, *title, *state, *label; int64_t updated; int kind, deleted; } steps[] = {
        {"1", "first", "open", NULL, 100, 0, 0},
        {"2", "second", "open", "bug", 100, 0, 0},
        {"1", "first", "open", NULL, 100, 0, 0},          /* the same copy */
        {"1", "first, edited", "open", NULL, 100, 0, 0},  /* same second, other title */
        {"1", "older", "open", NULL, 50, 0, 0},           /* older */
        {"1", "newer", "closed", "docs", 200, 1, 0},      /* newer: labels, kind, state */
        {"3", "from the future", "open", NULL, future, 0, 0},
        {"3", "fixed clock", "open", NULL, 300, 0, 0},    /* replaces a far-future date */
        {"2", "second", "open", "bug", 100, 0, 1},        /* deletion mark, same date */
        {"4", "after updates", "open", NULL, 100, 0, 0},
        {"2", "second", "open", "bug", 100, 0, 1},        /* the same again */
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        item it;
        int changed = -1;
        fx_item(&it, steps[i].key, steps[i].title, steps[i].state, steps[i].updated);
        if (steps[i].label) sv_push(&it.labels, steps[i].label);
        it.kind = steps[i].kind ? ITEM_PR : ITEM_ISSUE;
        it.deleted = steps[i].deleted;
        assert_int_equal(store_item_upsert(f->st, f->repo, &it, &changed, &err), DP_OK);
        int want = old_upsert(ref->db, ref_repo, &it);
        item_free(&it);
        if (changed != want) fail_msg("step %zu: changed %d, the old upsert %d", i, changed, want);
        /* While the title index is built beside (bulk, into an empty
         * store: step 0), the title triggers are off and nothing is
         * noted; the flush below drops that build and notes every item. */
        int side = f->st->fts_side != NULL;
        if (side) assert_int_equal(fx_db_int(f->st->db, "SELECT count(*) FROM items_fts_todo"), 0);
        char *got = item_rows(f->st->db, !side), *exp = item_rows(ref->db, !side);
        if (strcmp(got, exp)) fail_msg("step %zu: rows differ\ngot:\n%s\nwant:\n%s", i, got, exp);
        free(got);
        free(exp);
        /* The old upsert failed on an item already noted for the title
         * index (test_update_noted_item): it is compared on the rest. */
        assert_int_equal(store_fts_flush(f->st, &err), DP_OK);
        assert_int_equal(store_fts_flush(ref, &err), DP_OK);
    }
    assert_int_equal(store_commit(f->st, &err), DP_OK);
    store_rollback(ref);
    store_close(ref);
}

static void test_item_write_matches_upsert(void **state) { item_writes_match_upsert(*state, 0); }
static void test_item_write_matches_upsert_bulk(void **state) { item_writes_match_upsert(*state, 1); }

/* An item written twice in one transaction, the second time with another
 * title, before the title index caught up: the update's trigger notes an
 * item already noted. The old upsert passed its ABORT down to the
 * trigger's INSERT OR IGNORE and failed ("UNIQUE constraint failed:
 * items_fts_todo.id"), so an import holding one issue twice failed. */
static void test_update_noted_item(void **state)
{
    fx *f = *state;
    dp_err err;
    item it, got;
    int changed = -1;
    assert_int_equal(store_begin(f->st, &err), DP_OK);
    fx_item(&it, "7", "first", "open", 100);
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, &changed, &err), DP_OK);
    free(it.title);
    it.title = xstrdup("edited");
    it.updated_at = 200;
    if (store_item_upsert(f->st, f->repo, &it, &changed, &err) != DP_OK) fail_msg("%s", err.msg);
    assert_int_equal(changed, 1);
    item_free(&it);
    assert_int_equal(store_commit(f->st, &err), DP_OK);
    assert_int_equal(store_item_get(f->st, f->repo, "7", &got, &err), DP_OK);
    assert_string_equal(got.title, "edited");
    item_free(&got);
    assert_int_equal(fx_pragma_int(f->path, "SELECT count(*) FROM items_fts WHERE title LIKE '%edited%'"), 1);
}

static void test_item_round_trip(void **state)
{
    fx *f = *state;
    dp_err err;
    item it, got;
    item_init(&it);
    it.key = xstrdup("HIVE-12");
    it.number = 12;
    it.kind = ITEM_PR;
    it.title = xstrdup("Crash in \"ORC\" reader — ünïcödé");
    it.body = xstrdup("line1\nline2 with 'quotes' and \\ backslash");
    it.state = xstrdup("closed");
    it.state_reason = xstrdup("Duplicate");
    it.author = xstrdup("bob");
    it.created_at = 1389900000;
    it.updated_at = 1389909999;
    it.closed_at = 1389905555;
    sv_push(&it.labels, "bug");
    sv_push(&it.labels, "needs \"triage\"");
    sv_push(&it.labels, "área:ñ");
    sv_push(&it.components, "Query Processor");
    sv_push(&it.components, "ORC");
    sv_push(&it.versions, "0.12.0");
    it.type = xstrdup("Bug");
    it.priority = xstrdup("Major");
    it.ncomments = 4;
    it.reactions = 2;
    it.url = xstrdup("https://issues.apache.org/jira/browse/HIVE-12");
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, NULL, &err), DP_OK);
    assert_int_equal(store_item_get(f->st, f->repo, "HIVE-12", &got, &err), DP_OK);
    assert_string_equal(got.key, it.key);
    assert_int_equal(got.number, 12);
    assert_int_equal(got.kind, ITEM_PR);
    assert_string_equal(got.title, it.title);
    assert_string_equal(got.body, it.body);
    assert_string_equal(got.state_reason, "Duplicate");
    assert_int_equal(got.closed_at, it.closed_at);
    assert_int_equal(got.labels.n, 3);
    for (size_t i = 0; i < 3; i++) assert_string_equal(got.labels.v[i], it.labels.v[i]);
    assert_int_equal(got.components.n, 2);
    assert_string_equal(got.components.v[1], "ORC");
    assert_int_equal(got.versions.n, 1);
    assert_string_equal(got.versions.v[0], "0.12.0");
    assert_string_equal(got.type, "Bug");
    assert_string_equal(got.priority, "Major");
    assert_int_equal(got.ncomments, 4);
    assert_int_equal(got.reactions, 2);
    assert_string_equal(got.url, it.url);
    assert_int_equal(got.deleted, 0);
    item_free(&got);
    item_free(&it);
    /* GitHub-style item: optional fields stay NULL, lists empty */
    fx_item(&it, "7", "t", "open", 1);
    free(it.author);
    it.author = NULL;
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, NULL, &err), DP_OK);
    assert_int_equal(store_item_get(f->st, f->repo, "7", &got, &err), DP_OK);
    assert_null(got.author);
    assert_null(got.state_reason);
    assert_null(got.type);
    assert_int_equal(got.labels.n + got.components.n + got.versions.n, 0);
    item_free(&got);
    item_free(&it);
    assert_int_equal(store_item_get(f->st, f->repo, "nope", &got, &err), DP_NOTFOUND);
}

static void test_item_bad_input(void **state)
{
    fx *f = *state;
    dp_err err;
    item it;
    int changed = -1;
    fx_item(&it, "HIVE-12", "t", "open", 1);
    sv_push(&it.labels, "bad\xff");
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, &changed, &err), DP_ERR);
    assert_int_equal(changed, 0);
    assert_non_null(strstr(err.msg, "store: inserting item HIVE-12"));
    item_free(&it);
    item_init(&it);
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, NULL, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "no key"));
    /* an unknown repository violates the foreign key, with SQLite's reason */
    fx_item(&it, "3", "t", "open", 1);
    assert_int_equal(store_item_upsert(f->st, 424242, &it, NULL, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "store: inserting item 3: "));
    assert_non_null(strstr(err.msg, "FOREIGN KEY"));
    item_free(&it);
    size_t n = 9;
    assert_int_equal(store_item_count(f->st, f->repo, &n, NULL, NULL, &err), DP_OK);
    assert_int_equal(n, 0);
}

static void test_items_load_and_changes(void **state)
{
    fx *f = *state;
    dp_err err;
    const char *keys[] = {"30", "10", "20"};
    int64_t created[] = {300, 100, 100};
    for (int i = 0; i < 3; i++) {
        item it;
        fx_item(&it, keys[i], keys[i], i == 0 ? "open" : "closed", 1000 + i);
        it.created_at = created[i];
        it.kind = i == 2 ? ITEM_PR : ITEM_ISSUE;
        assert_int_equal(store_item_upsert(f->st, f->repo, &it, NULL, &err), DP_OK);
        item_free(&it);
    }
    item_vec v = {0};
    assert_int_equal(store_items_load(f->st, f->repo, &v, &err), DP_OK);
    assert_int_equal(v.n, 3);
    assert_string_equal(v.v[0].key, "10");   /* created 100, number 10 */
    assert_string_equal(v.v[1].key, "20");   /* created 100, number 20 */
    assert_string_equal(v.v[2].key, "30");
    item_vec_free(&v);
    strvec ch = {0};   /* inserted 30, 10, 20: sequence numbers 1, 2, 3 */
    assert_int_equal(store_items_changed(f->st, f->repo, 1, 3, &ch, &err), DP_OK);
    assert_int_equal(ch.n, 2);
    assert_string_equal(ch.v[0], "10");
    assert_string_equal(ch.v[1], "20");
    sv_free(&ch);
    size_t issues, prs, open;
    assert_int_equal(store_item_count(f->st, f->repo, &issues, &prs, &open, &err), DP_OK);
    assert_int_equal(issues, 2);
    assert_int_equal(prs, 1);
    assert_int_equal(open, 1);
    assert_int_equal(store_item_mark_deleted(f->st, f->repo, "30", &err), DP_OK);
    assert_int_equal(store_item_mark_deleted(f->st, f->repo, "31", &err), DP_NOTFOUND);
    assert_int_equal(store_item_count(f->st, f->repo, &issues, &prs, &open, &err), DP_OK);
    assert_int_equal(issues, 1);
    assert_int_equal(open, 0);
    item got;
    assert_int_equal(store_item_get(f->st, f->repo, "30", &got, &err), DP_OK);
    assert_int_equal(got.deleted, 1);
    item_free(&got);
    /* items of another repository are separate */
    int64_t r2;
    assert_int_equal(store_repo_get(f->st, "b/b", 1, NULL, NULL, &r2, &err), DP_OK);
    assert_int_equal(store_items_load(f->st, r2, &v, &err), DP_OK);
    assert_int_equal(v.n, 0);
    item_vec_free(&v);
}

/* A large repository loads in two halves at once (store_load_split): the
 * same items in the same order, every column, as one handle reads them;
 * inside a transaction, on the one handle (its own writes included). */
static char *loaded(fx *f, int64_t repo)
{
    dp_err err;
    item_vec v = {0};
    assert_int_equal(store_items_load(f->st, repo, &v, &err), DP_OK);
    sbuf sb;
    sb_init(&sb);
    for (size_t i = 0; i < v.n; i++) {
        const item *it = &v.v[i];
        sb_printf(&sb, "%s|%lld|%s|%s|%s|%lld|%lld|%zu\n", it->key, (long long)it->rowid, it->title, it->body,
                  it->state ? it->state : "-", (long long)it->created_at, (long long)it->updated_at, it->labels.n);
    }
    item_vec_free(&v);
    return sb.s ? sb_take(&sb) : xstrdup("");
}

/* The hook's write, through a handle of its own: another process's import
 * landing between the two halves' reads. */
static const char *split_path;
static void write_between(store *st)
{
    (void)st;
    store *other;
    dp_err err;
    assert_int_equal(store_open(split_path, &other, &err), DP_OK);
    int64_t repo;
    assert_int_equal(store_repo_get(other, "o/r", 1, "github", "https://github.com/o/r", &repo, &err), DP_OK);
    item it;
    fx_item(&it, "15", "retitled between the halves", "closed", 9000);
    it.created_at = 101;
    assert_int_equal(store_item_upsert(other, repo, &it, NULL, &err), DP_OK);
    item_free(&it);
    store_close(other);
    store_load_split_hook = NULL;   /* once */
}

static void test_items_load_split(void **state)
{
    fx *f = *state;
    dp_err err;
    for (int i = 0; i < 9; i++) {
        char key[8], title[32];
        snprintf(key, sizeof key, "%d", 20 - i);
        snprintf(title, sizeof title, "title %d", i);
        item it;
        fx_item(&it, key, title, i % 2 ? "open" : "closed", 1000 + i);
        it.created_at = 100 + i / 3;   /* ties: number decides */
        sv_push(&it.labels, i % 3 ? "bug" : "docs");
        assert_int_equal(store_item_upsert(f->st, f->repo, &it, NULL, &err), DP_OK);
        item_free(&it);
    }
    size_t was = store_load_split;
    store_load_split = (size_t)-1;
    char *one = loaded(f, f->repo);
    for (size_t at = 1; at <= 9; at++) {
        store_load_split = at;
        char *two = loaded(f, f->repo);
        assert_string_equal(two, one);
        free(two);
    }
    /* created 100: 18, 19, 20 by number; then 15, 16, 17; then 12, 13, 14 */
    assert_int_equal(strncmp(one, "18|", 3), 0);
    assert_non_null(strstr(one, "\n19|"));
    assert_true(strstr(one, "\n19|") < strstr(one, "\n20|"));
    assert_true(strstr(one, "\n20|") < strstr(one, "\n15|"));
    assert_true(strstr(one, "\n17|") < strstr(one, "\n12|"));
    store_load_split = 2;
    assert_int_equal(store_begin(f->st, &err), DP_OK);
    item it;
    fx_item(&it, "99", "written in the transaction", "open", 5000);
    it.created_at = 100;
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, NULL, &err), DP_OK);
    item_free(&it);
    char *txn = loaded(f, f->repo);
    assert_non_null(strstr(txn, "99|"));
    assert_int_equal(store_commit(f->st, &err), DP_OK);
    free(txn);
    /* an item written between the halves' reads: loaded again, on one
     * handle, with the write */
    split_path = f->path;
    store_load_split_hook = write_between;
    char *again = loaded(f, f->repo);
    assert_null(store_load_split_hook);   /* the hook ran */
    assert_non_null(strstr(again, "\n15|"));
    assert_non_null(strstr(again, "retitled between the halves"));
    assert_null(strstr(again, "title 5|"));
    store_load_split = (size_t)-1;
    char *one_handle = loaded(f, f->repo);
    assert_string_equal(again, one_handle);
    free(one_handle);
    free(again);
    free(one);
    store_load_split = was;
}

/* Sequence number of one item, read behind the store's back. */
static int64_t seq_of(fx *f, const char *key)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT changed_seq FROM items WHERE key = '%s'", key);
    return fx_pragma_int(f->path, sql);
}

/* Every write that changes an item takes the next number of its
 * repository; a write that changes nothing takes none. */
static void test_change_seq(void **state)
{
    fx *f = *state;
    dp_err err;
    int64_t seq = -1, r2;
    int changed;
    assert_int_equal(store_change_seq(f->st, f->repo, &seq, &err), DP_OK);
    assert_int_equal(seq, 0);
    const char *keys[] = {"1", "2", "3"};
    for (int i = 0; i < 3; i++) {
        item it;
        fx_item(&it, keys[i], "t", "open", 500);
        assert_int_equal(store_item_upsert(f->st, f->repo, &it, NULL, &err), DP_OK);
        item_free(&it);
    }
    assert_int_equal(store_change_seq(f->st, f->repo, &seq, &err), DP_OK);
    assert_int_equal(seq, 3);
    item it;
    fx_item(&it, "1", "t", "open", 500);   /* the same copy: no write, no number */
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, &changed, &err), DP_OK);
    assert_int_equal(changed, 0);
    assert_int_equal(seq_of(f, "1"), 1);
    item_free(&it);
    fx_item(&it, "1", "edited", "open", 600);
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, &changed, &err), DP_OK);
    assert_int_equal(changed, 1);
    assert_int_equal(seq_of(f, "1"), 4);
    item_free(&it);
    assert_int_equal(store_item_mark_deleted(f->st, f->repo, "2", &err), DP_OK);
    assert_int_equal(seq_of(f, "2"), 5);
    assert_int_equal(store_item_mark_deleted(f->st, f->repo, "2", &err), DP_OK);   /* already */
    assert_int_equal(seq_of(f, "2"), 5);
    fx_item(&it, "9", "an old item imported late", "open", 1);   /* dated before all: numbered after */
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, NULL, &err), DP_OK);
    item_free(&it);
    assert_int_equal(seq_of(f, "9"), 6);
    strvec ch = {0};
    assert_int_equal(store_items_changed(f->st, f->repo, 3, 5, &ch, &err), DP_OK);
    assert_int_equal(ch.n, 2);
    assert_string_equal(ch.v[0], "1");
    assert_string_equal(ch.v[1], "2");
    sv_free(&ch);
    assert_int_equal(store_items_changed(f->st, f->repo, 0, 3, &ch, &err), DP_OK);
    assert_int_equal(ch.n, 1);   /* 1 and 2 moved past 3; "upto" bounds the list */
    assert_string_equal(ch.v[0], "3");
    sv_free(&ch);
    /* each repository counts on its own */
    assert_int_equal(store_repo_get(f->st, "b/b", 1, NULL, NULL, &r2, &err), DP_OK);
    fx_item(&it, "1", "other repo", "open", 100);
    assert_int_equal(store_item_upsert(f->st, r2, &it, NULL, &err), DP_OK);
    item_free(&it);
    assert_int_equal(store_change_seq(f->st, r2, &seq, &err), DP_OK);
    assert_int_equal(seq, 1);
    assert_int_equal(store_change_seq(f->st, f->repo, &seq, &err), DP_OK);
    assert_int_equal(seq, 6);
}

/* In a bulk transaction the writes number the items as NEXT_SEQ would
 * (store_items.c keeps the next number in hand): per repository, also
 * when the writes switch between two, and past a deletion mark, which
 * takes a number of its own. */
static void test_change_seq_bulk(void **state)
{
    fx *f = *state;
    dp_err err;
    int64_t r2;
    assert_int_equal(store_repo_get(f->st, "b/b", 1, NULL, NULL, &r2, &err), DP_OK);
    assert_int_equal(store_bulk_mode(f->st, &err), DP_OK);
    assert_int_equal(store_begin(f->st, &err), DP_OK);
    static const struct { const char *key, *title; int64_t updated; int other; } w[] = {
        {"1", "t", 500, 0}, {"2", "t", 500, 0}, {"3", "t", 500, 0},
        {"1", "t", 500, 0},             /* the same copy: no number */
        {"1", "edited", 600, 0},        /* 4 */
        {"5", "other repo", 100, 1},    /* 1 of b/b */
        {"3", "t", 400, 0},             /* older: no number */
        {"6", "back", 100, 0},          /* 6, after the mark below */
    };
    for (size_t i = 0; i < sizeof w / sizeof *w; i++) {
        if (i == 7) assert_int_equal(store_item_mark_deleted(f->st, f->repo, "2", &err), DP_OK);   /* 5 */
        item it;
        fx_item(&it, w[i].key, w[i].title, "open", w[i].updated);
        assert_int_equal(store_item_upsert(f->st, w[i].other ? r2 : f->repo, &it, NULL, &err), DP_OK);
        item_free(&it);
    }
    assert_int_equal(store_commit(f->st, &err), DP_OK);
    assert_int_equal(seq_of(f, "1"), 4);
    assert_int_equal(seq_of(f, "2"), 5);
    assert_int_equal(seq_of(f, "3"), 3);
    assert_int_equal(seq_of(f, "5"), 1);
    assert_int_equal(seq_of(f, "6"), 6);
}

/* Dates have whole seconds: a second edit within the same second carries
 * the same updated_at and must still replace the first; the same copy
 * again stays a no-op. */
static void test_same_second_edit_wins(void **state)
{
    fx *f = *state;
    dp_err err;
    int changed;
    item it, got;
    fx_item(&it, "8", "first wording", "open", 1700000000);
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, &changed, &err), DP_OK);
    assert_int_equal(changed, 1);
    item_free(&it);
    fx_item(&it, "8", "second wording", "open", 1700000000);
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, &changed, &err), DP_OK);
    assert_int_equal(changed, 1);
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, &changed, &err), DP_OK);
    assert_int_equal(changed, 0);
    item_free(&it);
    assert_int_equal(store_item_get(f->st, f->repo, "8", &got, &err), DP_OK);
    assert_string_equal(got.title, "second wording");
    item_free(&got);
    fx_item(&it, "8", "an older copy", "open", 1699999999);
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, &changed, &err), DP_OK);
    assert_int_equal(changed, 0);
    item_free(&it);
}

/* The comments digest changes with anything store_comments_load returns --
 * a comment added, a body edited within the same second, another author --
 * and with nothing else; it is the same for the same comments. */
static void test_comments_digest(void **state)
{
    fx *f = *state;
    dp_err err;
    uint64_t none[2], one[2], again[2], edited[2], other[2];
    assert_int_equal(store_comments_digest(f->st, f->repo, "9", none, &err), DP_OK);
    comment cm = {.id = 501, .item_key = "9", .author = "ann", .body = "first", .created_at = 1700000000,
                  .updated_at = 1700000000};
    assert_int_equal(store_comment_upsert(f->st, f->repo, &cm, &err), DP_OK);
    assert_int_equal(store_comments_digest(f->st, f->repo, "9", one, &err), DP_OK);
    assert_memory_not_equal(none, one, sizeof one);
    assert_int_equal(store_comments_digest(f->st, f->repo, "9", again, &err), DP_OK);
    assert_memory_equal(one, again, sizeof one);
    cm.body = "firsT";                      /* same length, same second */
    assert_int_equal(store_comment_upsert(f->st, f->repo, &cm, &err), DP_OK);
    assert_int_equal(store_comments_digest(f->st, f->repo, "9", edited, &err), DP_OK);
    assert_memory_not_equal(one, edited, sizeof one);
    cm.author = "bob";
    assert_int_equal(store_comment_upsert(f->st, f->repo, &cm, &err), DP_OK);
    assert_int_equal(store_comments_digest(f->st, f->repo, "9", other, &err), DP_OK);
    assert_memory_not_equal(edited, other, sizeof one);
    /* another item's comment leaves this one's digest alone */
    comment o = {.id = 502, .item_key = "10", .author = "ann", .body = "x", .created_at = 1700000001,
                 .updated_at = 1700000001};
    assert_int_equal(store_comment_upsert(f->st, f->repo, &o, &err), DP_OK);
    assert_int_equal(store_comments_digest(f->st, f->repo, "9", again, &err), DP_OK);
    assert_memory_equal(other, again, sizeof one);
}

/* A copy dated far in the future (a wrong clock) must not refuse the real
 * edits that follow: newer-wins compares with it only while it is sane. */
static void test_future_date_does_not_stick(void **state)
{
    fx *f = *state;
    dp_err err;
    int changed;
    item it, got;
    const int64_t y9999 = 253402214400;   /* 9999-12-31 */
    fx_item(&it, "7", "from a wrong clock", "open", y9999);
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, &changed, &err), DP_OK);
    assert_int_equal(changed, 1);
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, &changed, &err), DP_OK);
    assert_int_equal(changed, 0);   /* the same copy again: still idempotent */
    item_free(&it);
    fx_item(&it, "7", "real edit", "closed", 1700000000);
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, &changed, &err), DP_OK);
    assert_int_equal(changed, 1);
    item_free(&it);
    assert_int_equal(store_item_get(f->st, f->repo, "7", &got, &err), DP_OK);
    assert_string_equal(got.title, "real edit");
    assert_int_equal(got.updated_at, 1700000000);
    item_free(&got);
    fx_item(&it, "7", "stale copy", "open", 1600000000);   /* sane again: newer wins */
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, &changed, &err), DP_OK);
    assert_int_equal(changed, 0);
    item_free(&it);
    /* a date just inside the slack is trusted like any other */
    int64_t soon = (int64_t)time(NULL) + STORE_FUTURE_SLACK - 3600;
    fx_item(&it, "8", "soon", "open", soon);
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, &changed, &err), DP_OK);
    item_free(&it);
    fx_item(&it, "8", "older", "open", 1700000000);
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, &changed, &err), DP_OK);
    assert_int_equal(changed, 0);
    item_free(&it);
}

/* A version-3 store gains the change sequence, numbered in updated_at order
 * per repository; a step that fails half-way leaves the file as it was. */
static void make_v3(fx *f, const char *extra_sql)
{
    assert_true(store_nmigrations >= 4);
    fx_make_version(f, store_migrations, 3,
                    "INSERT INTO repositories(id, name) VALUES(1, 'o/r'), (2, 'p/q');"
                    "INSERT INTO items(id, repo_id, key, updated_at) VALUES"
                    "  (1, 1, 'a', 300), (2, 1, 'b', 100), (3, 2, 'c', 50), (4, 1, 'd', 200);"
                    "INSERT INTO kv VALUES(1, 'analyze.max_updated', '300')");
    if (extra_sql) {
        sqlite3 *db;
        assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, extra_sql, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
    }
}

static void test_migrate_from_v3(void **state)
{
    fx *f = *state;
    dp_err err;
    make_v3(f, NULL);
    assert_int_equal(store_open(f->path, &f->st, &err), DP_OK);
    assert_int_equal(store_schema_version(f->st), store_nmigrations);
    assert_int_equal(seq_of(f, "b"), 1);
    assert_int_equal(seq_of(f, "d"), 2);
    assert_int_equal(seq_of(f, "a"), 3);
    assert_int_equal(seq_of(f, "c"), 1);
    assert_int_equal(fx_pragma_int(f->path, "SELECT count(*) FROM sqlite_schema WHERE name = 'items_by_seq'"), 1);
    int64_t seq;
    assert_int_equal(store_change_seq(f->st, 1, &seq, &err), DP_OK);
    assert_int_equal(seq, 3);
    item it;   /* the next write continues the numbering */
    fx_item(&it, "e", "new", "open", 10);
    assert_int_equal(store_item_upsert(f->st, 1, &it, NULL, &err), DP_OK);
    item_free(&it);
    assert_int_equal(seq_of(f, "e"), 4);
    store_close(f->st);
    f->st = NULL;

    /* an index already named items_by_seq makes the step's last statement
     * fail after the column was added and filled: all of it is undone */
    make_v3(f, "CREATE INDEX items_by_seq ON items(key)");
    char *before = fx_fingerprint(f->path);
    assert_int_equal(store_open(f->path, &f->st, &err), DP_ERR);
    assert_non_null(strstr(err.msg, "migrating schema to version 4"));
    char *after = fx_fingerprint(f->path);
    assert_string_equal(before, after);
    assert_int_equal(fx_pragma_int(f->path, "PRAGMA user_version"), 3);
    assert_int_equal(fx_pragma_int(f->path, "SELECT count(*) FROM pragma_table_info('items') WHERE name = 'changed_seq'"),
                     0);
    free(before);
    free(after);
}

/* ---- comments, links, labels ---------------------------------------- */

static void test_comments(void **state)
{
    fx *f = *state;
    dp_err err;
    comment a = {.id = 101, .item_key = "1", .author = "bob", .body = "first", .created_at = 20};
    comment b = {.id = 0, .item_key = "1", .author = NULL, .body = "no id", .created_at = 10};
    comment c = {.id = 0, .item_key = "2", .author = "eve", .body = "other", .created_at = 5};
    assert_int_equal(store_comment_upsert(f->st, f->repo, &a, &err), DP_OK);
    assert_int_equal(store_comment_upsert(f->st, f->repo, &b, &err), DP_OK);
    assert_int_equal(store_comment_upsert(f->st, f->repo, &c, &err), DP_OK);
    /* same tracker id: updated in place */
    a.body = "edited";
    a.updated_at = 30;
    assert_int_equal(store_comment_upsert(f->st, f->repo, &a, &err), DP_OK);
    /* no id: same (item, created_at, author) is the same comment */
    b.body = "no id, edited";
    assert_int_equal(store_comment_upsert(f->st, f->repo, &b, &err), DP_OK);
    comment_vec v = {0};
    assert_int_equal(store_comments_load(f->st, f->repo, "1", &v, &err), DP_OK);
    assert_int_equal(v.n, 2);
    assert_string_equal(v.v[0].body, "no id, edited");   /* oldest first */
    assert_null(v.v[0].author);
    assert_int_equal(v.v[0].id, 0);
    assert_string_equal(v.v[1].body, "edited");
    assert_int_equal(v.v[1].id, 101);
    assert_int_equal(v.v[1].updated_at, 30);
    comment_vec_free(&v);
    assert_int_equal(store_comments_load_all(f->st, f->repo, &v, &err), DP_OK);
    assert_int_equal(v.n, 3);
    assert_string_equal(v.v[2].item_key, "2");
    comment_vec_free(&v);
    comment bad = {.id = 1};
    assert_int_equal(store_comment_upsert(f->st, f->repo, &bad, &err), DP_ERR);
    /* a tracker id already stored is not inserted again (the insert that
     * comes first leaves it alone): its row moves with it, in place */
    int64_t row = fx_db_int(f->st->db, "SELECT id FROM comments WHERE tracker_id = 101");
    a.item_key = "2";
    assert_int_equal(store_begin(f->st, &err), DP_OK);
    assert_int_equal(store_comment_upsert(f->st, f->repo, &a, &err), DP_OK);
    assert_int_equal(store_commit(f->st, &err), DP_OK);
    assert_int_equal(fx_db_int(f->st->db, "SELECT count(*) FROM comments"), 3);
    assert_int_equal(fx_db_int(f->st->db, "SELECT id FROM comments WHERE tracker_id = 101 AND item_key = '2'"), row);
}

static void test_links(void **state)
{
    fx *f = *state;
    dp_err err;
    item_link l1 = {.src_key = "1", .dst_key = "2", .type = LINK_DUPLICATE, .source = "state_reason"};
    item_link l2 = {.src_key = "1", .dst_key = "2", .type = LINK_DUPLICATE, .source = "comment"};
    item_link l3 = {.src_key = "1", .dst_key = "2", .type = LINK_RELATED, .source = "body"};
    item_link l4 = {.src_key = "3", .dst_key = "1", .type = LINK_FIXES, .source = "body"};
    assert_int_equal(store_link_add(f->st, f->repo, &l1, &err), DP_OK);
    assert_int_equal(store_link_add(f->st, f->repo, &l2, &err), DP_OK);  /* ignored */
    assert_int_equal(store_link_add(f->st, f->repo, &l3, &err), DP_OK);
    assert_int_equal(store_link_add(f->st, f->repo, &l4, &err), DP_OK);
    size_t n;
    assert_int_equal(store_links_count(f->st, f->repo, &n, &err), DP_OK);
    assert_int_equal(n, 3);
    link_vec v = {0};
    assert_int_equal(store_links_load(f->st, f->repo, &v, &err), DP_OK);
    assert_int_equal(v.n, 3);
    assert_string_equal(v.v[0].source, "state_reason");   /* the first one kept */
    assert_int_equal(v.v[0].type, LINK_DUPLICATE);
    link_vec_free(&v);
    assert_int_equal(store_links_for(f->st, f->repo, "1", &v, &err), DP_OK);
    assert_int_equal(v.n, 3);
    link_vec_free(&v);
    assert_int_equal(store_links_for(f->st, f->repo, "2", &v, &err), DP_OK);
    assert_int_equal(v.n, 2);
    link_vec_free(&v);
    assert_int_equal(store_links_for(f->st, f->repo, "3", &v, &err), DP_OK);
    assert_int_equal(v.n, 1);
    assert_int_equal(v.v[0].type, LINK_FIXES);
    link_vec_free(&v);
}

/* Whether a repository has typed (Jira) links: answered from the partial
 * index links_typed, for each repository alone, as links come and go. */
static void test_links_typed(void **state)
{
    fx *f = *state;
    dp_err err;
    int any = -1;
    int64_t other;
    assert_int_equal(store_repo_get(f->st, "o/other", 1, NULL, NULL, &other, &err), DP_OK);
    item_link gh = {.src_key = "1", .dst_key = "2", .type = LINK_DUPLICATE, .source = "state_reason"};
    item_link jira = {.src_key = "3", .dst_key = "4", .type = LINK_RELATED, .source = "jira:Relates"};
    item_link near = {.src_key = "5", .dst_key = "6", .type = LINK_RELATED, .source = "jira"};
    assert_int_equal(store_link_add(f->st, f->repo, &gh, &err), DP_OK);
    assert_int_equal(store_link_add(f->st, f->repo, &near, &err), DP_OK);
    assert_int_equal(store_links_any_typed(f->st, f->repo, &any, &err), DP_OK);
    assert_int_equal(any, 0);
    assert_int_equal(store_link_add(f->st, other, &jira, &err), DP_OK);
    assert_int_equal(store_links_any_typed(f->st, f->repo, &any, &err), DP_OK);
    assert_int_equal(any, 0);   /* another repository's */
    assert_int_equal(store_links_any_typed(f->st, other, &any, &err), DP_OK);
    assert_int_equal(any, 1);
    assert_int_equal(store_link_add(f->st, f->repo, &jira, &err), DP_OK);
    assert_int_equal(store_links_any_typed(f->st, f->repo, &any, &err), DP_OK);
    assert_int_equal(any, 1);
    /* one seek of the partial index (it holds the typed links alone), not
     * a scan of the links */
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(f->st->db, "SELECT sql FROM sqlite_master WHERE name = 'links_typed'", -1,
                                        &s, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_non_null(strstr((const char *)sqlite3_column_text(s, 0), "WHERE substr(source, 1, 5) = 'jira:'"));
    sqlite3_finalize(s);
    s = NULL;
    assert_int_equal(sqlite3_prepare_v2(f->st->db,
                                        "EXPLAIN QUERY PLAN SELECT EXISTS(SELECT 1 FROM links WHERE repo_id = 1 "
                                        "AND substr(source, 1, 5) = 'jira:')",
                                        -1, &s, NULL),
                     SQLITE_OK);
    int seek = 0, scan = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *d = (const char *)sqlite3_column_text(s, 3);
        seek += strstr(d, "USING INDEX links_typed") != NULL;
        scan += strstr(d, "SCAN links") != NULL;
    }
    sqlite3_finalize(s);
    assert_int_equal(seek, 1);
    assert_int_equal(scan, 0);
}

/* store_items_get_rows gives each row id's item at its own index, across
 * chunks (more ids than STORE_ROWS_CHUNK), in any order asked; one id
 * without a row (or in another repository) is named by its index. */
static void test_items_get_rows(void **state)
{
    fx *f = *state;
    dp_err err;
    enum { N = STORE_ROWS_CHUNK + 6 };
    for (int i = 0; i < N; i++) {
        char key[16];
        snprintf(key, sizeof key, "%d", i + 1);
        item it;
        fx_item(&it, key, key, "open", 1000 + i);
        it.number = i + 1;
        assert_int_equal(store_item_upsert(f->st, f->repo, &it, NULL, &err), DP_OK);
        item_free(&it);
    }
    item_vec v = {0};
    assert_int_equal(store_items_load(f->st, f->repo, &v, &err), DP_OK);
    assert_int_equal(v.n, N);
    int64_t rows[N + 1];
    item *out = xcalloc(N + 1, sizeof *out);
    for (int i = 0; i < N; i++) rows[i] = v.v[N - 1 - i].rowid;   /* reversed: not the table's order */
    assert_int_equal(store_items_get_rows(f->st, f->repo, rows, N, out, NULL, &err), DP_OK);
    for (int i = 0; i < N; i++) {
        assert_string_equal(out[i].key, v.v[N - 1 - i].key);
        assert_int_equal(out[i].rowid, rows[i]);
        item_free(&out[i]);
    }
    size_t missing = 0;
    rows[N] = rows[STORE_ROWS_CHUNK + 2];
    rows[STORE_ROWS_CHUNK + 2] = 1000000;   /* no such row, in the second chunk */
    assert_int_equal(store_items_get_rows(f->st, f->repo, rows, N + 1, out, &missing, &err), DP_NOTFOUND);
    assert_int_equal(missing, STORE_ROWS_CHUNK + 2);
    for (int i = 0; i <= N; i++) assert_null(out[i].key);   /* left empty */
    int64_t r2;
    assert_int_equal(store_repo_get(f->st, "b/b", 1, NULL, NULL, &r2, &err), DP_OK);
    assert_int_equal(store_items_get_rows(f->st, r2, rows, 1, out, &missing, &err), DP_NOTFOUND);
    assert_int_equal(missing, 0);
    free(out);
    item_vec_free(&v);
}

/* store_links_for_many gives every key what store_links_for gives it:
 * links between two keys asked at once go to both, a self link once, and
 * keys span more than one chunk. */
static void test_links_for_many(void **state)
{
    fx *f = *state;
    dp_err err;
    enum { N = STORE_LINKS_CHUNK + 8 };
    const char *pairs[][2] = {{"1", "2"}, {"3", "1"}, {"5", "5"}, {"39", "2"}, {"40", "39"}, {"2", "41"}};
    for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) {
        item_link l = {.src_key = (char *)pairs[i][0], .dst_key = (char *)pairs[i][1], .type = LINK_RELATED,
                       .source = "body"};
        assert_int_equal(store_link_add(f->st, f->repo, &l, &err), DP_OK);
        l.type = LINK_DUPLICATE;
        if (i == 0) assert_int_equal(store_link_add(f->st, f->repo, &l, &err), DP_OK);
    }
    char keys[N][12];
    const char *kp[N];
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof keys[i], "%d", i + 1);
        kp[i] = keys[i];
    }
    link_vec many[N];
    memset(many, 0, sizeof many);
    assert_int_equal(store_links_for_many(f->st, f->repo, kp, N, many, &err), DP_OK);
    size_t total = 0;
    for (int i = 0; i < N; i++) {
        link_vec one = {0};
        assert_int_equal(store_links_for(f->st, f->repo, kp[i], &one, &err), DP_OK);
        assert_int_equal(many[i].n, one.n);
        for (size_t k = 0; k < one.n; k++) {
            assert_string_equal(many[i].v[k].src_key, one.v[k].src_key);
            assert_string_equal(many[i].v[k].dst_key, one.v[k].dst_key);
            assert_int_equal(many[i].v[k].type, one.v[k].type);
        }
        total += one.n;
        link_vec_free(&one);
        link_vec_free(&many[i]);
    }
    assert_int_equal(total, 12);   /* 1: 3, 2: 4, 3: 1, 5: 1, 39: 2, 40: 1 */
}

static void test_label_colors(void **state)
{
    fx *f = *state;
    dp_err err;
    assert_int_equal(store_label_color_set(f->st, f->repo, "bug", "#d73a4a", &err), DP_OK);
    assert_int_equal(store_label_color_set(f->st, f->repo, "docs", NULL, &err), DP_OK);
    assert_int_equal(store_label_color_set(f->st, f->repo, "Bug", "ee0701", &err), DP_OK);  /* same label */
    strvec names = {0}, colors = {0};
    assert_int_equal(store_label_colors_load(f->st, f->repo, &names, &colors, &err), DP_OK);
    assert_int_equal(names.n, 2);
    assert_int_equal(colors.n, 2);
    assert_string_equal(names.v[0], "bug");
    assert_string_equal(colors.v[0], "ee0701");
    assert_string_equal(names.v[1], "docs");
    assert_string_equal(colors.v[1], "");
    sv_free(&names);
    sv_free(&colors);
}

/* ---- models and kv --------------------------------------------------- */

static void test_models(void **state)
{
    fx *f = *state;
    dp_err err;
    char *text;
    int64_t at = 0;
    size_t n = 0;
    assert_int_equal(store_model_load(f->st, 0, &text, &at, &n, &err), DP_NOTFOUND);
    assert_null(text);
    assert_int_equal(store_model_save(f->st, 0, "global v1", 100, &err), DP_OK);
    assert_int_equal(store_model_save(f->st, f->repo, "repo v1", 7, &err), DP_OK);
    assert_int_equal(store_model_save(f->st, 0, "global v2", 200, &err), DP_OK);
    assert_int_equal(store_model_load(f->st, 0, &text, &at, &n, &err), DP_OK);
    assert_string_equal(text, "global v2");
    assert_int_equal(n, 200);
    assert_true(at > 1600000000);
    free(text);
    assert_int_equal(store_model_load(f->st, f->repo, &text, NULL, NULL, &err), DP_OK);
    assert_string_equal(text, "repo v1");
    free(text);
}
/* A bulk transaction into a store without items writes through a rollback
 * journal (each page once, no WAL checkpoint); WAL comes back when it ends,
 * committed or rolled back, and a store with items keeps WAL throughout,
 * as does a transaction that is not bulk. */
static void test_bulk_first_import_journal(void **state)
{
    fx *f = *state;
    dp_err err;
    char mode[16], path[192];
    item it;
    assert_string_equal(tu_journal_mode(f->st->db, mode, sizeof mode), "wal");
    assert_int_equal(store_begin(f->st, &err), DP_OK);
    assert_string_equal(tu_journal_mode(f->st->db, mode, sizeof mode), "wal");   /* not bulk */
    store_rollback(f->st);

    assert_int_equal(store_bulk_mode(f->st, &err), DP_OK);
    assert_int_equal(store_begin(f->st, &err), DP_OK);
    assert_string_equal(tu_journal_mode(f->st->db, mode, sizeof mode), "delete");
    fx_item(&it, "1", "first", "open", 100);
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, NULL, &err), DP_OK);
    store_rollback(f->st);
    assert_string_equal(tu_journal_mode(f->st->db, mode, sizeof mode), "wal");
    assert_int_equal(fx_pragma_int(f->path, "SELECT count(*) FROM items"), 0);
    snprintf(path, sizeof path, "%s-journal", f->path);
    assert_int_equal(access(path, F_OK), -1);

    assert_int_equal(store_begin(f->st, &err), DP_OK);
    assert_string_equal(tu_journal_mode(f->st->db, mode, sizeof mode), "delete");
    assert_int_equal(store_item_upsert(f->st, f->repo, &it, NULL, &err), DP_OK);
    assert_int_equal(store_commit(f->st, &err), DP_OK);
    assert_string_equal(tu_journal_mode(f->st->db, mode, sizeof mode), "wal");
    assert_int_equal(fx_pragma_int(f->path, "SELECT count(*) FROM items_fts WHERE title LIKE '%firs%'"), 1);

    assert_int_equal(store_begin(f->st, &err), DP_OK);   /* the store has an item now */
    assert_string_equal(tu_journal_mode(f->st->db, mode, sizeof mode), "wal");
    store_rollback(f->st);
    item_free(&it);
}

static void test_kv(void **state)
{
    fx *f = *state;
    dp_err err;
    char *v;
    assert_int_equal(store_kv_get(f->st, f->repo, "etag", &v, &err), DP_NOTFOUND);
    assert_null(v);
    assert_int_equal(store_kv_set(f->st, f->repo, "etag", "W/1", &err), DP_OK);
    assert_int_equal(store_kv_set(f->st, f->repo, "etag", "W/2", &err), DP_OK);
    assert_int_equal(store_kv_set(f->st, 0, "etag", "global", &err), DP_OK);
    assert_int_equal(store_kv_get(f->st, f->repo, "etag", &v, &err), DP_OK);
    assert_string_equal(v, "W/2");
    free(v);
    assert_int_equal(store_kv_get(f->st, 0, "etag", &v, &err), DP_OK);
    assert_string_equal(v, "global");
    free(v);
    assert_int_equal(store_kv_set(f->st, f->repo, "etag", NULL, &err), DP_OK);
    assert_int_equal(store_kv_get(f->st, f->repo, "etag", &v, &err), DP_NOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_creates_schema, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_reopen_keeps_data, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_value_queries, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_writeback, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_comments_digest, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_item_write_matches_upsert, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_item_write_matches_upsert_bulk, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_update_noted_item, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_refused, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_migrate_from_zero, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_not_a_database, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_readonly, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_readonly_refuses_empty_db, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_rollback_leaves_nothing, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_transaction_misuse, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_reader_beside_writer, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_repos, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_resolve_empty, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_labels_json_as_jansson, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_upsert_newer_wins, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_item_round_trip, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_item_bad_input, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_items_load_split, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_items_load_and_changes, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_change_seq, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_change_seq_bulk, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_same_second_edit_wins, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_future_date_does_not_stick, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_migrate_from_v3, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_comments, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_links_typed, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_links, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_links_for_many, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_items_get_rows, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_label_colors, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_models, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_kv, fx_setup_open, fx_teardown),
        cmocka_unit_test_setup_teardown(test_bulk_first_import_journal, fx_setup_open, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
