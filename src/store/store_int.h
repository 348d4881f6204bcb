/* store_int.h -- internals shared by the store_*.c files (not a public
 * contract: only src/store includes it).
 *
 * The store keeps one SQLite connection and a cache of prepared statements
 * for the hot paths (item upsert during import, pair and verdict lookups in
 * the web server). A cached statement is always reset and unbound after use,
 * so it never holds a read snapshot open between calls. Dynamic queries (the
 * pair filter) are built from fixed SQL fragments; user data is only ever
 * bound as a parameter.
 */
#ifndef DP_STORE_INT_H
#define DP_STORE_INT_H

#include <sqlite3.h>

#include "store.h"

/* Slots of the prepared-statement cache. */
enum {
    SQ_REPO_GET,
    SQ_REPO_ADD,
    SQ_ITEM_UPSERT,
    SQ_ITEM_GET,
    SQ_ITEM_LABELS_DEL,
    SQ_ITEM_LABEL_ADD,
    SQ_PAIRS_TOUCH_Q,
    SQ_PAIRS_TOUCH_C,       /* must follow SQ_PAIRS_TOUCH_Q */
    SQ_COMMENT_BY_TRACKER,
    SQ_COMMENT_FIND,
    SQ_COMMENT_UPDATE,
    SQ_COMMENT_ADD,
    SQ_LINK_ADD,
    SQ_PAIR_DEL_QUERY,
    SQ_PAIR_ADD,
    SQ_PAIR_GET,
    SQ_PAIR_FIND,
    SQ_VERDICT_SET,
    SQ_VERDICT_DEL,
    SQ_KV_SET,
    SQ_KV_DEL,
    SQ_KV_GET,
    SQ__COUNT
};

struct store {
    sqlite3 *db;
    char *path;
    int readonly;
    int version;                    /* PRAGMA user_version after migration */
    sqlite3_stmt *cache[SQ__COUNT];
};

/* The schema: migrations[i] takes the database from version i to i+1. */
extern const char *const store_migrations[];
extern const int store_nmigrations;

/* Fills err with "store: <what>: <sqlite message>" and returns DP_ERR.
 * Call it before resetting the failed statement. */
int store_fail(store *st, dp_err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Returns the cached statement for slot, preparing sql on first use; NULL
 * (err filled) when preparation fails. */
sqlite3_stmt *store_stmt(store *st, int slot, const char *sql, dp_err *err);
/* Resets and unbinds a statement after use (cached or not). */
void store_done(sqlite3_stmt *s);

/* Runs SQL without results (schema, transaction control). */
int store_exec(store *st, const char *sql, const char *what, dp_err *err);

/* Savepoints make multi-statement writes atomic on their own and nest inside
 * a caller's store_begin. store_sp_end releases on ok == DP_OK, otherwise
 * rolls the savepoint back; it returns ok (or DP_ERR if the release failed). */
int store_sp_begin(store *st, dp_err *err);
int store_sp_end(store *st, int ok, dp_err *err);

/* Binding helpers: NULL strings bind as SQL NULL. */
void store_bind_text(sqlite3_stmt *s, int i, const char *v);
/* Column helpers: NULL stays NULL; store_col_str_empty gives "" instead. */
char *store_col_str(sqlite3_stmt *s, int i);
char *store_col_str_empty(sqlite3_stmt *s, int i);

/* Steps a statement that returns no rows (or whose rows are ignored). */
int store_step_done(store *st, sqlite3_stmt *s, dp_err *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
