/* test_sql.h -- one-value reads of a store's database for unit tests that
 * look under the store API (journal mode, row counts). Every failure is a
 * test failure (cmocka asserts); include after testutil.h and sqlite3.h. */
#ifndef DP_TEST_SQL_H
#define DP_TEST_SQL_H

#include <stdio.h>

/* The first column of the first row of sql, as an integer. */
static inline int64_t tu_sql_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

/* The first column of the first row of sql, as text, into buf. */
static inline const char *tu_sql_text(sqlite3 *db, const char *sql, char *buf, size_t n)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    snprintf(buf, n, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return buf;
}

/* The connection's journal mode, lower case ("wal", "delete"). */
static inline const char *tu_journal_mode(sqlite3 *db, char *buf, size_t n)
{
    return tu_sql_text(db, "PRAGMA journal_mode", buf, n);
}

#endif
