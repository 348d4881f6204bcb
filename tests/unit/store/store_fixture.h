/* store_fixture.h -- helpers shared by the store unit tests: a scratch
 * directory per test (mkdtemp, removed afterwards with the database and its
 * WAL files), item/pair builders, and a fingerprint of every table so a
 * test can prove the database did not change.
 */
#ifndef DP_STORE_FIXTURE_H
#define DP_STORE_FIXTURE_H

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "../../../src/store/store.h"
#include "../../../src/store/store_int.h"

typedef struct fx {
    char dir[64];
    char path[128];
    store *st;
    int64_t repo;
} fx;

/* Removes dir/name if it exists. */
static void fx_unlink(const fx *f, const char *name)
{
    char p[192];
    snprintf(p, sizeof p, "%s/%s", f->dir, name);
    unlink(p);
}

static int fx_setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/doppel-store-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    snprintf(f->path, sizeof f->path, "%s/t.db", f->dir);
    *state = f;
    return 0;
}

/* Like fx_setup, plus an open store holding repository "o/r". */
static int fx_setup_open(void **state)
{
    if (fx_setup(state)) return -1;
    fx *f = *state;
    dp_err err;
    if (store_open(f->path, &f->st, &err) != DP_OK) return -1;
    if (store_repo_get(f->st, "o/r", 1, "github", "https://github.com/o/r", &f->repo, &err) != DP_OK) return -1;
    return 0;
}

static int fx_teardown(void **state)
{
    fx *f = *state;
    store_close(f->st);
    const char *names[] = {"t.db", "t.db-wal", "t.db-shm", "t.db-journal", "other.db", "other.db-wal",
                           "other.db-shm", "copy.txt"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) fx_unlink(f, names[i]);
    int rc = rmdir(f->dir);
    free(f);
    return rc;
}

/* The single integer a query returns, read through a separate connection. */
static inline int fx_pragma_int(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(store_fts_tokenizer(db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int v = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

/* The single integer a query returns, read through the handle db (inside
 * its transaction, if one is open). */
static inline int64_t fx_db_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

static inline void fx_expect_integrity(sqlite3 *db)
{
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(s, 0), "ok");
    sqlite3_finalize(s);
}

/* pair_counts holds, per repository x relation x confidence x known, how
 * many pairs there are, and pair_texts only texts of pairs that exist,
 * whoever wrote (the triggers, a bulk replace's own counting). */
static inline void fx_expect_pairs_consistent(sqlite3 *db)
{
    const char *diff =
        "SELECT count(*) FROM ("
        " SELECT * FROM (SELECT repo_id, relation, confidence, known, count(*) FROM pairs GROUP BY 1, 2, 3, 4"
        "  EXCEPT SELECT repo_id, relation, confidence, known, n FROM pair_counts)"
        " UNION ALL"
        " SELECT * FROM (SELECT repo_id, relation, confidence, known, n FROM pair_counts"
        "  EXCEPT SELECT repo_id, relation, confidence, known, count(*) FROM pairs GROUP BY 1, 2, 3, 4))";
    assert_int_equal(fx_db_int(db, diff), 0);
    assert_int_equal(fx_db_int(db, "SELECT count(*) FROM pair_texts WHERE id NOT IN (SELECT id FROM pairs)"), 0);
}

/* A fresh database at f->path built by the first `version` migration steps
 * (the schema of an older doppel), then `sql` (data; NULL for none). */
static inline void fx_make_version(fx *f, const char *const *migrations, int version, const char *sql)
{
    sqlite3 *db;
    char bump[64];
    fx_unlink(f, "t.db");
    fx_unlink(f, "t.db-wal");
    fx_unlink(f, "t.db-shm");
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(store_fts_tokenizer(db), SQLITE_OK);   /* items_fts's, from version 14 */
    for (int i = 0; i < version; i++) assert_int_equal(sqlite3_exec(db, migrations[i], NULL, NULL, NULL), SQLITE_OK);
    snprintf(bump, sizeof bump, "PRAGMA user_version = %d", version);
    assert_int_equal(sqlite3_exec(db, bump, NULL, NULL, NULL), SQLITE_OK);
    if (sql) assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* Fills it with a small issue; strings are copies the caller frees with item_free. */
static void fx_item(item *it, const char *key, const char *title, const char *state, int64_t updated)
{
    item_init(it);
    it->key = xstrdup(key);
    it->number = atoll(key);
    it->title = xstrdup(title);
    it->body = xstrdup("body of ");
    it->state = xstrdup(state);
    it->author = xstrdup("alice");
    it->created_at = 1000 + it->number;
    it->updated_at = updated;
}

static void fx_put(fx *f, const char *key, const char *title, const char *state, const char *label)
{
    item it;
    dp_err err;
    fx_item(&it, key, title, state, 5000);
    if (label) sv_push(&it.labels, label);
    int rc = store_item_upsert(f->st, f->repo, &it, NULL, &err);
    item_free(&it);
    assert_int_equal(rc, DP_OK);
}

/* A pair with borrowed keys (only for passing to store_pairs_replace). */
static pair fx_pair(const char *q, const char *c, const char *rel, const char *conf, double value, int known)
{
    pair p;
    memset(&p, 0, sizeof p);
    p.query_key = (char *)q;
    p.cand_key = (char *)c;
    relation_parse(rel, &p.relation);
    confidence_parse(conf, &p.confidence);
    p.value = value;
    p.prob = value / 10.0;
    p.score = value * 2;
    p.rank = 1;
    p.known = known;
    p.reasoning = (char *)"shared terms";
    return p;
}

/* The stored pair (q, c) of f's repository; the caller pair_free()s it. */
static inline pair fx_find(fx *f, const char *q, const char *c)
{
    dp_err err;
    pair p;
    assert_int_equal(store_pair_find(f->st, f->repo, q, c, &p, &err), DP_OK);
    return p;
}

/* Text of every row of every table of the database at path, in a fixed
 * order, read through a separate connection; the caller frees it. */
static char *fx_fingerprint(const char *path)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(store_fts_tokenizer(db), SQLITE_OK);   /* items_fts is read too */
    sqlite3_stmt *t;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name", -1,
                                        &t, NULL),
                     SQLITE_OK);
    sbuf sb;
    sb_init(&sb);
    while (sqlite3_step(t) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(t, 0);
        /* Table names come from sqlite_schema, not from user data. */
        char *sql = sqlite3_mprintf("SELECT * FROM \"%w\"", name);
        sqlite3_stmt *s;
        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
        int ncol = sqlite3_column_count(s);
        sqlite3_finalize(s);
        /* order by every column, so row order cannot hide a difference */
        sbuf q;
        sb_init(&q);
        sb_adds(&q, sql);
        for (int i = 1; i <= ncol; i++) sb_printf(&q, "%s%d", i == 1 ? " ORDER BY " : ", ", i);
        sqlite3_free(sql);
        assert_int_equal(sqlite3_prepare_v2(db, sb_str(&q), -1, &s, NULL), SQLITE_OK);
        sb_free(&q);
        sb_printf(&sb, "[%s]\n", name);
        while (sqlite3_step(s) == SQLITE_ROW) {
            for (int i = 0; i < sqlite3_column_count(s); i++) {
                const unsigned char *v = sqlite3_column_text(s, i);
                sb_printf(&sb, "%s|", v ? (const char *)v : "NULL");
            }
            sb_addc(&sb, '\n');
        }
        sqlite3_finalize(s);
    }
    sqlite3_finalize(t);
    sqlite3_close(db);
    return sb_take(&sb);
}

#endif
