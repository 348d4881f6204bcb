/* store_sqlite.c -- the SQLite store: opening, migrations, transactions,
 * the statement cache and error helpers, repositories, models, kv and
 * cache blobs.
 * Items, comments, links and labels live in store_items.c; pairs and
 * verdicts in store_pairs.c; the schema in store_schema.c.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include "store_int.h"



/* ---- helpers --------------------------------------------------------- */

int store_fail(store *st, dp_err *err, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return dp_fail(err, "store: %s: %s", what, st && st->db ? sqlite3_errmsg(st->db) : "no database");
}

sqlite3_stmt *store_stmt(store *st, int slot, const char *sql, dp_err *err)
{
    if (!st->cache[slot] &&
        sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st->cache[slot], NULL) != SQLITE_OK) {
        store_fail(st, err, "preparing statement");
        st->cache[slot] = NULL;
        return NULL;
    }
    return st->cache[slot];
}

sqlite3_stmt *store_stmt_sql(store *st, const char *sql, dp_err *err)
{
    store_dyn *victim = &st->dyn[0];
    for (int i = 0; i < STORE_DYN_SLOTS; i++) {
        store_dyn *d = &st->dyn[i];
        if (d->sql && !strcmp(d->sql, sql)) {
            d->used = ++st->clock;
            return d->s;
        }
        if (!d->sql || (victim->sql && d->used < victim->used)) victim = d;
    }
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) {
        store_fail(st, err, "preparing statement");
        sqlite3_finalize(s);
        return NULL;
    }
    /* Every user of a cached statement resets it before returning, so the
     * least recently used one is never in the middle of a step. */
    sqlite3_finalize(victim->s);
    free(victim->sql);
    victim->sql = xstrdup(sql);
    victim->s = s;
    victim->used = ++st->clock;
    return s;
}

void store_done(sqlite3_stmt *s)
{
    if (!s) return;
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

int store_exec(store *st, const char *sql, const char *what, dp_err *err)
{
    char *msg = NULL;
    if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        dp_fail(err, "store: %s: %s", what, msg ? msg : sqlite3_errmsg(st->db));
        sqlite3_free(msg);
        return DP_ERR;
    }
    return DP_OK;
}

/* Prepares sql with ?1 bound to arg (when it has a parameter) and steps it
 * once: SQLITE_ROW, SQLITE_DONE or the error. *s is the caller's to
 * finalize, also after an error (NULL when preparing failed). */
static int value_step(store *st, const char *sql, int64_t arg, sqlite3_stmt **s)
{
    *s = NULL;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, s, NULL);
    if (rc != SQLITE_OK) return rc;
    if (sqlite3_bind_parameter_count(*s) > 0) sqlite3_bind_int64(*s, 1, arg);
    return sqlite3_step(*s);
}

int store_value_int(store *st, const char *sql, int64_t arg, int64_t *out)
{
    sqlite3_stmt *s;
    int rc = value_step(st, sql, arg, &s);
    if (rc == SQLITE_ROW) *out = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);   /* keeps a failure's message on the handle for store_fail */
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* Sets an integer pragma (threads, cache_size) of the connection; returns
 * the value it had, or INT64_MIN when it could not tell (and set nothing). */
static int64_t pragma_swap(store *st, const char *name, int64_t value)
{
    char sql[64];
    int64_t was = 0;
    snprintf(sql, sizeof sql, "PRAGMA %s", name);
    if (store_value_int(st, sql, 0, &was) != 1) return INT64_MIN;
    snprintf(sql, sizeof sql, "PRAGMA %s = %lld", name, (long long)value);
    sqlite3_exec(st->db, sql, NULL, NULL, NULL);   /* a setting, not a promise: cannot fail */
    return was;
}

static void pragma_restore(store *st, const char *name, int64_t was)
{
    if (was != INT64_MIN) pragma_swap(st, name, was);
}

/* SQLite's sorter sorts keys that fit the page cache in one piece, and
 * cuts the others into runs it sorts and merges. With the store's 32 MB
 * cache all of a 725k-pair index fitted: 9 indexes took 5.9 s; with a
 * 4 MB cache, 4.3 s (two sorter threads then sorted the runs; sqlite3
 * shell on the pairs of a 250k-item analysis).
 *
 * The sorter's worker threads (PRAGMA threads) are off: they took ~1.6
 * times the CPU time for the same wall time, and in an analysis the other
 * core has work of its own then (the index snapshot). One index of the
 * 725k pairs in the shell: 1.09-1.13 s and 1.7-1.8 CPU-s with two,
 * 1.13-1.22 s and 1.1 CPU-s without. The six pair indexes in 250k full
 * runs, 3 alternated pairs: 6.39 / 5.22 / 5.23 s with two, 5.17 / 5.21 /
 * 5.15 s without; at 48k 2.27 / 2.12 / 2.12 CPU-s (the snapshot's thread
 * included) against 1.65 / 1.90 / 1.98. The import's label index at
 * commit likewise (the import's end 0.84-1.23 s against 0.82-1.20 s, 4
 * pairs). Both settings are put back after. */
int store_exec_sorted(store *st, char *const *sql, size_t n, const char *what, dp_err *err)
{
    int rc = DP_OK;
    int64_t threads = pragma_swap(st, "threads", 0);
    int64_t cache = pragma_swap(st, "cache_size", -4000);
    for (size_t i = 0; rc == DP_OK && i < n; i++) rc = store_exec(st, sql[i], what, err);
    pragma_restore(st, "cache_size", cache);
    pragma_restore(st, "threads", threads);
    return rc;
}

char *store_value_text(store *st, const char *sql)
{
    sqlite3_stmt *s;
    char *v = NULL;
    if (value_step(st, sql, 0, &s) == SQLITE_ROW && sqlite3_column_text(s, 0))
        v = xstrdup((const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return v;
}

int store_step_done(store *st, sqlite3_stmt *s, dp_err *err, const char *fmt, ...)
{
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {}
    if (rc != SQLITE_DONE) {
        char what[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        store_fail(st, err, "%s", what);
        store_done(s);
        return DP_ERR;
    }
    store_done(s);
    return DP_OK;
}

int store_sp_begin(store *st, dp_err *err)
{
    if (st->bulk || st->pairs_txn) return DP_OK;
    return store_exec(st, "SAVEPOINT store_op", "starting savepoint", err);
}

int store_sp_end(store *st, int ok, dp_err *err)
{
    if (st->bulk || st->pairs_txn) return ok;
    if (ok == DP_OK)
        return store_exec(st, "RELEASE store_op", "releasing savepoint", err);
    /* Keep the caller's error message; the rollback itself cannot fail in
     * a way we could report better. */
    sqlite3_exec(st->db, "ROLLBACK TO store_op; RELEASE store_op", NULL, NULL, NULL);
    return ok;
}

void store_bind_text(sqlite3_stmt *s, int i, const char *v)
{
    if (v) sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
    else sqlite3_bind_null(s, i);
}

char *store_col_str(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    if (!t) return NULL;
    return xstrndup((const char *)t, (size_t)sqlite3_column_bytes(s, i));
}

char *store_col_str_empty(sqlite3_stmt *s, int i)
{
    char *t = store_col_str(s, i);
    return t ? t : xstrdup("");
}

/* ---- open / close / migrate ----------------------------------------- */

static int user_version(store *st, int *v, dp_err *err)
{
    int64_t n = 0;
    *v = 0;
    if (store_value_int(st, "PRAGMA user_version", 0, &n) != 1)
        return store_fail(st, err, "reading schema version of %s", st->path);
    *v = (int)n;
    return DP_OK;
}

static int too_new(store *st, int v, dp_err *err)
{
    return dp_fail(err,
                   "store: %s has schema version %d but this doppel knows only up to %d; "
                   "use a newer doppel",
                   st->path, v, store_nmigrations);
}

/* Applies the missing migration steps, each with its version bump in one
 * transaction. The version is re-read under the write lock because another
 * process may have migrated in the meantime. */
static int migrate(store *st, dp_err *err)
{
    for (;;) {
        int v;
        if (store_exec(st, "BEGIN IMMEDIATE", "locking for migration", err) != DP_OK) return DP_ERR;
        if (user_version(st, &v, err) != DP_OK) goto fail;
        if (v > store_nmigrations) {
            too_new(st, v, err);
            goto fail;
        }
        if (v == store_nmigrations) {
            st->version = v;
            return store_exec(st, "COMMIT", "finishing migration", err);
        }
        char what[64], bump[64];
        snprintf(what, sizeof what, "migrating schema to version %d", v + 1);
        snprintf(bump, sizeof bump, "PRAGMA user_version = %d", v + 1);
        if (store_exec(st, store_migrations[v], what, err) != DP_OK) goto fail;
        /* the version that dropped the sort indexes of every repository
         * makes them again where more than one repository has pairs */
        if (v + 1 == STORE_V_PAIRS_ALL && store_pairs_all_sync(st, err) != DP_OK) goto fail;
        if (store_exec(st, bump, what, err) != DP_OK) goto fail;
        if (store_exec(st, "COMMIT", what, err) != DP_OK) goto fail;
    }
fail:
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return DP_ERR;
}

/* No memory statistics (doppel reads none): with them every SQLite
 * allocation takes one process-wide mutex, which the writer and the title
 * index's thread of an import (store_fts.c) fought over -- 1 of its 14 CPU
 * seconds at 250k items. Only possible before SQLite's first use; a
 * process that used SQLite before (a test) keeps the statistics. */
static void no_memstatus(void) { (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }

static int open_common(const char *path, int readonly, store **out, dp_err *err)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, no_memstatus);
    *out = NULL;
    if (!path || !*path) path = STORE_DEFAULT_PATH;
    store *st = xcalloc(1, sizeof *st);
    st->path = xstrdup(path);
    st->readonly = readonly;
    int flags = SQLITE_OPEN_NOMUTEX |
                (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (sqlite3_open_v2(path, &st->db, flags, NULL) != SQLITE_OK) {
        store_fail(st, err, "opening %s%s", path, readonly ? " read-only" : "");
        store_close(st);
        return DP_ERR;
    }
    sqlite3_extended_result_codes(st->db, 1);
    sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
    if (store_fts_functions(st->db) != SQLITE_OK) {
        store_fail(st, err, "opening %s: the title index's functions", path);
        store_close(st);
        return DP_ERR;
    }
    char what[600];
    snprintf(what, sizeof what, "opening %s", path);
    int v = 0;
    /* mmap and a larger page cache: pair filters scan whole tables. */
    if (store_exec(st, "PRAGMA foreign_keys = ON; PRAGMA cache_size = -32768", what, err) != DP_OK ||
        store_mmap_limit(st, STORE_MAP_OPEN, err) != DP_OK)
        goto fail;
    if (!readonly) {
        /* WAL: readers (the web server) never block the writer (analyze).
         * synchronous=NORMAL is durable enough in WAL and much faster. */
        if (store_exec(st, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL", what, err) != DP_OK)
            goto fail;
        if (migrate(st, err) != DP_OK) goto fail;
    } else {
        /* A reader (the web server's per-thread handles) maps the whole
         * file: a page read through the map costs a page fault the first
         * time, through read() a system call and a copy into the page
         * cache every time a fresh handle needs it. A text filter's first
         * request at 500k pairs reads some 5,000 pages, most beyond the
         * first 256 MB (pairs and the title index come after the items):
         * 25% of its CPU time. SQLite caps the size at its compile-time
         * maximum (2 GB on Debian). */
        if (store_exec(st, "PRAGMA query_only = ON", what, err) != DP_OK ||
            store_mmap_limit(st, STORE_MAP_ALL, err) != DP_OK)
            goto fail;
        if (user_version(st, &v, err) != DP_OK) goto fail;
        if (v > store_nmigrations) {
            too_new(st, v, err);
            goto fail;
        }
        if (v == 0) {
            dp_fail(err, "store: %s is not a doppel database (no schema); import something first", path);
            goto fail;
        }
        if (v < store_nmigrations) {
            dp_fail(err, "store: %s has schema version %d, this doppel needs %d; "
                         "open it once for writing (e.g. doppel import) to migrate it",
                    path, v, store_nmigrations);
            goto fail;
        }
        st->version = v;
    }
    *out = st;
    return DP_OK;
fail:
    store_close(st);
    return DP_ERR;
}

int store_open(const char *path, store **out, dp_err *err)
{
    return open_common(path, 0, out, err);
}

int store_open_readonly(const char *path, store **out, dp_err *err)
{
    return open_common(path, 1, out, err);
}

void store_close(store *st)
{
    if (!st) return;
    for (int i = 0; i < SQ__COUNT; i++) sqlite3_finalize(st->cache[i]);
    for (int i = 0; i < STORE_DYN_SLOTS; i++) {
        sqlite3_finalize(st->dyn[i].s);
        free(st->dyn[i].sql);
    }
    store_pairs_cache_free(st);
    store_pairs_bulk_forget(st);
    store_fts_side_abort(st);
    store_labels_forget(st);
    if (st->db) {
        /* An open transaction at close is a caller bug; dropping it is the
         * only safe choice (sqlite3_close_v2 would roll back anyway). */
        if (!sqlite3_get_autocommit(st->db)) sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close_v2(st->db);
    }
    free(st->path);
    free(st);
}

int store_schema_version(store *st) { return st->version; }

const char *store_path(const store *st) { return st->path; }

int store_is_file(const store *st)
{
    return st->path && *st->path && strcmp(st->path, ":memory:") != 0 && strncmp(st->path, "file:", 5) != 0;
}

/* ---- transactions ---------------------------------------------------- */

int store_mmap_limit(store *st, size_t bytes, dp_err *err)
{
    if (!sqlite3_get_autocommit(st->db))
        return dp_fail(err, "store: mmap limit: a transaction is open");
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA mmap_size = %llu", (unsigned long long)bytes);
    return store_exec(st, sql, "setting the mmap limit", err);
}

/* A descriptor SQLite holds on the store file, found among the process's
 * own (/proc/self/fd) by device and inode, or -1. We open none ourselves:
 * closing any descriptor of a file drops every POSIX lock the process
 * holds on it, SQLite's included. */
int store_file_fd(const store *st)
{
    struct stat want, sb;
    /* st->path, not SQLite's own name for it: this may run beside the
     * store's thread (store.h), and the path is ours and never changes */
    if (!store_is_file(st) || stat(st->path, &want) != 0) return -1;
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    int found = -1;
    for (struct dirent *e; found < 0 && (e = readdir(d));) {
        char *end;
        long fd = strtol(e->d_name, &end, 10);
        if (*end || end == e->d_name || fd == dirfd(d)) continue;
        if (fstat((int)fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_dev == want.st_dev && sb.st_ino == want.st_ino)
            found = (int)fd;
    }
    closedir(d);
    return found;
}

void store_writeback(store *st)
{
    int fd = st ? store_file_fd(st) : -1;
    if (fd >= 0) (void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
}

int store_bulk_mode(store *st, dp_err *err)
{
    /* Foreign keys are not checked: a bulk write only adds rows that name
     * a repository or item it has just looked up or written, and with the
     * checks on, every insert into a table with a trigger (items) could
     * abort half-way, which costs a statement journal per insert (see
     * store_items.c). The pragma is a no-op inside a transaction, hence
     * "before store_begin". */
    if (!sqlite3_get_autocommit(st->db))
        return dp_fail(err, "store: bulk mode: a transaction is already open");
    st->bulk = 1;
    return store_exec(st, "PRAGMA temp_store = MEMORY; PRAGMA foreign_keys = OFF",
                      "setting up a bulk write", err);
}

/* Sets the journal mode; 1 when the database is now in it. A mode that
 * cannot be changed (another connection's transaction, a read-only file)
 * is not an error: the caller goes on in the mode it had. */
static int journal_mode(store *st, const char *mode)
{
    char sql[48];
    snprintf(sql, sizeof sql, "PRAGMA journal_mode = %s", mode);
    char *now = store_value_text(st, sql);
    int ok = now && !sqlite3_stricmp(now, mode);
    free(now);
    return ok;
}

/* A bulk transaction into a store without items (a first import), and a
 * replacement of the pairs in a store that has none (its first analysis),
 * run on a rollback journal. In WAL mode every page is written twice, to
 * the WAL and again by the checkpoint after the commit; a rollback journal
 * holds only the old content of pages that existed before, and such a
 * transaction writes next to nothing but new pages, so each is written
 * once: 24.2 -> 22.3 CPU seconds for a 250k-item import (medians of 3),
 * its commit 11.8 -> 0.6 s of wall time on a busy machine; the first
 * analysis at 250k (1.2 GB of pairs, texts and indexes) commits in 0.75
 * instead of 2.8 s. Readers wait while such a transaction writes, which
 * costs nothing when there is nothing to read yet. The mode changes only
 * when no other connection has the store open (journal_mode cannot leave
 * WAL then): a `serve` already running keeps reading through WAL, and a
 * store with items (pairs) keeps WAL for a later import (analysis).
 * empty_sql: a statement that gives 1 when the table is empty. */
static void bulk_journal_begin(store *st, const char *empty_sql)
{
    int64_t empty = 0;
    st->bulk_journal = store_value_int(st, empty_sql, 0, &empty) == 1 && empty && journal_mode(st, "DELETE");
}

/* Back to WAL once the transaction is over. Should that fail, the data
 * is safe all the same (the commit or rollback is done) and the next
 * store_open sets WAL again. */
static void bulk_journal_end(store *st)
{
    if (!st->bulk_journal) return;
    st->bulk_journal = 0;
    (void)journal_mode(st, "WAL");
}

/* IMMEDIATE takes the write lock now (waiting up to the busy timeout),
 * instead of failing half-way through an import when a read transaction
 * cannot be upgraded. pairs: a pair replacement (store_begin_pairs). */
static int begin_write(store *st, int pairs, dp_err *err)
{
    if (!sqlite3_get_autocommit(st->db))
        return dp_fail(err, "store: begin: a transaction is already open");
    st->pairs_repo = 0;
    st->seq_repo = 0;
    if (pairs) bulk_journal_begin(st, "SELECT NOT EXISTS(SELECT 1 FROM pairs)");
    else if (st->bulk) bulk_journal_begin(st, "SELECT NOT EXISTS(SELECT 1 FROM items)");
    int rc = store_exec(st, "BEGIN IMMEDIATE", "beginning transaction", err);
    if (rc != DP_OK) bulk_journal_end(st);
    else st->pairs_txn = pairs;
    return rc;
}

int store_begin(store *st, dp_err *err) { return begin_write(st, 0, err); }

int store_begin_pairs(store *st, dp_err *err) { return begin_write(st, 1, err); }

int store_commit(store *st, dp_err *err)
{
    if (sqlite3_get_autocommit(st->db))
        return dp_fail(err, "store: commit: no transaction is open");
    /* committed, the pairs would stay without their indexes and counts */
    if (st->pbulk.open)
        return dp_fail(err, "store: commit: a bulk pair replace is open (store_pairs_bulk_end first)");
    /* The title index, for the items the transaction wrote, in one go (see
     * store_schema.c). */
    st->pairs_repo = 0;
    st->seq_repo = 0;
    if (store_labels_commit(st, err) != DP_OK) return DP_ERR;
    if (store_fts_commit(st, err) != DP_OK) return DP_ERR;
    /* a replacement of pairs: the sort indexes of every repository follow
     * the repositories that now have pairs (store_pairs_all_sync) */
    if (st->pairs_txn && store_pairs_all_sync(st, err) != DP_OK) return DP_ERR;
    if (store_exec(st, "COMMIT", "committing transaction", err) != DP_OK) return DP_ERR;
    st->pairs_txn = 0;
    store_secure_delete_end(st);
    bulk_journal_end(st);
    return DP_OK;
}

void store_rollback(store *st)
{
    if (st && st->db && !sqlite3_get_autocommit(st->db))
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    if (st) st->pairs_txn = 0;
    if (st && st->db) bulk_journal_end(st);
    /* the rollback brought back any pair index a bulk replace dropped */
    if (st) {
        store_fts_side_abort(st);
        dp_err ignored;   /* outside a transaction it only turns the triggers on */
        if (st->db) (void)store_fts_todo_restore(st, &ignored);
        if (st->db) (void)store_fts_content_drop(st, &ignored);
        store_pairs_bulk_forget(st);
        store_labels_forget(st);   /* the rollback brought the label index back */
        store_secure_delete_end(st);
        st->pairs_repo = 0;
        st->seq_repo = 0;
    }
}

int store_read_begin(store *st, dp_err *err)
{
    if (!sqlite3_get_autocommit(st->db))
        return dp_fail(err, "store: read snapshot: a transaction is already open");
    /* A deferred BEGIN takes no lock until the first read, which then pins
     * the snapshot; it never asks for the write lock. */
    sqlite3_stmt *s = store_stmt(st, SQ_READ_BEGIN, "BEGIN", err);
    if (!s) return DP_ERR;
    st->read_clock = store_pcount_clock();   /* before the snapshot is pinned */
    return store_step_done(st, s, err, "beginning read snapshot");
}

void store_read_end(store *st)
{
    if (!st || !st->db || sqlite3_get_autocommit(st->db)) return;
    dp_err err;
    sqlite3_stmt *s = store_stmt(st, SQ_READ_END, "COMMIT", &err);
    /* Nothing was written, so ending can only fail if a statement is still
     * running (a bug); ROLLBACK then releases the lock all the same. */
    if (!s || store_step_done(st, s, &err, "ending read snapshot") != DP_OK)
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- repositories ---------------------------------------------------- */

void repo_info_free(repo_info *r)
{
    if (!r) return;
    free(r->name);
    free(r->kind);
    free(r->url);
    memset(r, 0, sizeof *r);
}

static int repo_find(store *st, const char *name, int64_t *id, dp_err *err)
{
    sqlite3_stmt *s = store_stmt(st, SQ_REPO_GET, "SELECT id FROM repositories WHERE name = ?1", err);
    if (!s) return DP_ERR;
    store_bind_text(s, 1, name);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(s, 0);
        store_done(s);
        return DP_OK;
    }
    if (rc != SQLITE_DONE) {
        store_fail(st, err, "looking up repository %s", name);
        store_done(s);
        return DP_ERR;
    }
    store_done(s);
    return DP_NOTFOUND;
}

int store_repo_get(store *st, const char *name, int create, const char *kind, const char *url,
                   int64_t *repo_id, dp_err *err)
{
    if (!name || !*name) return dp_fail(err, "store: repository name is empty");
    int rc = repo_find(st, name, repo_id, err);
    if (rc != DP_NOTFOUND || !create) return rc;
    sqlite3_stmt *s = store_stmt(st, SQ_REPO_ADD,
                                 "INSERT INTO repositories(name, kind, url) VALUES(?1, ?2, ?3)", err);
    if (!s) return DP_ERR;
    store_bind_text(s, 1, name);
    store_bind_text(s, 2, kind ? kind : "github");
    store_bind_text(s, 3, url);
    if (store_step_done(st, s, err, "adding repository %s", name) != DP_OK) return DP_ERR;
    *repo_id = sqlite3_last_insert_rowid(st->db);
    return DP_OK;
}

int store_repo_list(store *st, repo_info **out, size_t *n, dp_err *err)
{
    *out = NULL;
    *n = 0;
    /* Cached: the web server lists the repositories on every request. */
    sqlite3_stmt *s = store_stmt(st, SQ_REPO_LIST, "SELECT id, name, kind, url FROM repositories ORDER BY name",
                                 err);
    if (!s) return DP_ERR;
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 4;
            *out = xrealloc(*out, cap * sizeof **out);
        }
        repo_info *r = &(*out)[(*n)++];
        r->id = sqlite3_column_int64(s, 0);
        r->name = store_col_str(s, 1);
        r->kind = store_col_str(s, 2);
        r->url = store_col_str(s, 3);
    }
    if (rc != SQLITE_DONE) {
        store_fail(st, err, "listing repositories");
        store_done(s);
        for (size_t i = 0; i < *n; i++) repo_info_free(&(*out)[i]);
        free(*out);
        *out = NULL;
        *n = 0;
        return DP_ERR;
    }
    store_done(s);
    return DP_OK;
}

int store_repo_resolve(store *st, const char *name, int64_t *repo_id, dp_err *err)
{
    if (name) {
        int rc = repo_find(st, name, repo_id, err);
        if (rc == DP_NOTFOUND) return dp_fail(err, "store: no repository named '%s' in %s", name, st->path);
        return rc;
    }
    repo_info *rs;
    size_t n;
    if (store_repo_list(st, &rs, &n, err) != DP_OK) return DP_ERR;
    int rc = DP_OK;
    if (n == 1) {
        *repo_id = rs[0].id;
    } else if (n == 0) {
        rc = dp_fail(err, "store: no repository in %s yet; import one first (doppel import)", st->path);
    } else {
        sbuf sb;
        sb_init(&sb);
        for (size_t i = 0; i < n && i < 10; i++) sb_printf(&sb, "%s%s", i ? ", " : "", rs[i].name);
        if (n > 10) sb_adds(&sb, ", ...");
        rc = dp_fail(err, "store: %zu repositories in %s (%s); choose one with --repo", n, st->path,
                     sb_str(&sb));
        sb_free(&sb);
    }
    for (size_t i = 0; i < n; i++) repo_info_free(&rs[i]);
    free(rs);
    return rc;
}

/* ---- models ---------------------------------------------------------- */

int store_model_save(store *st, int64_t repo, const char *text, size_t ntrain, dp_err *err)
{
    if (!text) return dp_fail(err, "store: saving model: no model text");
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db,
                           "INSERT INTO models(repo_id, text, trained_at, ntrain) VALUES(?1, ?2, ?3, ?4) "
                           "ON CONFLICT(repo_id) DO UPDATE SET text = excluded.text, "
                           "trained_at = excluded.trained_at, ntrain = excluded.ntrain",
                           -1, &s, NULL) != SQLITE_OK)
        return store_fail(st, err, "saving model for repository %lld", (long long)repo);
    sqlite3_bind_int64(s, 1, repo);
    store_bind_text(s, 2, text);
    sqlite3_bind_int64(s, 3, (int64_t)time(NULL));
    sqlite3_bind_int64(s, 4, (int64_t)ntrain);
    int rc = store_step_done(st, s, err, "saving model for repository %lld", (long long)repo);
    sqlite3_finalize(s);
    return rc;
}

int store_model_load(store *st, int64_t repo, char **text, int64_t *trained_at, size_t *ntrain,
                     dp_err *err)
{
    *text = NULL;
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, "SELECT text, trained_at, ntrain FROM models WHERE repo_id = ?1", -1, &s,
                           NULL) != SQLITE_OK)
        return store_fail(st, err, "loading model for repository %lld", (long long)repo);
    sqlite3_bind_int64(s, 1, repo);
    int rc = sqlite3_step(s), ret;
    if (rc == SQLITE_ROW) {
        *text = store_col_str_empty(s, 0);
        if (trained_at) *trained_at = sqlite3_column_int64(s, 1);
        if (ntrain) *ntrain = (size_t)sqlite3_column_int64(s, 2);
        ret = DP_OK;
    } else if (rc == SQLITE_DONE) {
        ret = DP_NOTFOUND;
    } else {
        ret = store_fail(st, err, "loading model for repository %lld", (long long)repo);
    }
    sqlite3_finalize(s);
    return ret;
}

/* ---- key/value ------------------------------------------------------- */

int store_kv_set(store *st, int64_t repo, const char *key, const char *value, dp_err *err)
{
    if (!key) return dp_fail(err, "store: kv: no key");
    sqlite3_stmt *s;
    if (value)
        s = store_stmt(st, SQ_KV_SET,
                       "INSERT INTO kv(repo_id, key, value) VALUES(?1, ?2, ?3) "
                       "ON CONFLICT(repo_id, key) DO UPDATE SET value = excluded.value",
                       err);
    else
        s = store_stmt(st, SQ_KV_DEL, "DELETE FROM kv WHERE repo_id = ?1 AND key = ?2", err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, repo);
    store_bind_text(s, 2, key);
    if (value) store_bind_text(s, 3, value);
    return store_step_done(st, s, err, "setting %s", key);
}

int store_kv_get(store *st, int64_t repo, const char *key, char **value, dp_err *err)
{
    *value = NULL;
    sqlite3_stmt *s = store_stmt(st, SQ_KV_GET, "SELECT value FROM kv WHERE repo_id = ?1 AND key = ?2", err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, repo);
    store_bind_text(s, 2, key);
    int rc = sqlite3_step(s), ret;
    if (rc == SQLITE_ROW) {
        *value = store_col_str_empty(s, 0);
        ret = DP_OK;
    } else if (rc == SQLITE_DONE) {
        ret = DP_NOTFOUND;
    } else {
        ret = store_fail(st, err, "reading %s", key);
    }
    store_done(s);
    return ret;
}

/* ---- cache blobs ----------------------------------------------------- */

size_t store_cache_part = STORE_CACHE_PART;

/* Deletes every part of one cache, or of every cache of repo (name NULL). */
static int cache_delete(store *st, int64_t repo, const char *name, dp_err *err)
{
    sqlite3_stmt *s = name ? store_stmt(st, SQ_CACHE_DEL, "DELETE FROM caches WHERE repo_id = ?1 AND name = ?2", err)
                           : store_stmt(st, SQ_CACHE_DEL_ALL, "DELETE FROM caches WHERE repo_id = ?1", err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, repo);
    if (name) store_bind_text(s, 2, name);
    return store_step_done(st, s, err, "dropping cache %s of repository %lld", name ? name : "(all)",
                           (long long)repo);
}

/* Inserts data as parts 0..n-1 (one empty part when len is 0). The parts
 * are bound in place (SQLITE_STATIC): the caller's buffer outlives the step. */
static int cache_insert(store *st, int64_t repo, const char *name, const unsigned char *data, size_t len,
                        dp_err *err)
{
    sqlite3_stmt *s = store_stmt(st, SQ_CACHE_ADD,
                                 "INSERT INTO caches(repo_id, name, part, data) VALUES(?1, ?2, ?3, ?4)", err);
    if (!s) return DP_ERR;
    size_t size = store_cache_part ? store_cache_part : STORE_CACHE_PART, off = 0;
    int64_t part = 0;
    do {
        size_t n = len - off < size ? len - off : size;
        sqlite3_bind_int64(s, 1, repo);
        store_bind_text(s, 2, name);
        sqlite3_bind_int64(s, 3, part);
        /* A NULL pointer would bind SQL NULL, so an empty part is a zeroblob. */
        int rc = n ? sqlite3_bind_blob64(s, 4, data + off, n, SQLITE_STATIC) : sqlite3_bind_zeroblob(s, 4, 0);
        if (rc != SQLITE_OK) {
            store_fail(st, err, "storing part %lld of cache %s", (long long)part, name);
            store_done(s);
            return DP_ERR;
        }
        if (store_step_done(st, s, err, "storing part %lld of cache %s", (long long)part, name) != DP_OK)
            return DP_ERR;
        off += n;
        part++;
    } while (off < len);
    return DP_OK;
}

int store_cache_put(store *st, int64_t repo, const char *name, const void *data, size_t len, dp_err *err)
{
    if (!name) return dp_fail(err, "store: cache: no name");
    if (!data && len) return dp_fail(err, "store: cache %s: no data", name);
    /* Deleting first (rather than overwriting part by part) also removes
     * the trailing parts of a longer old blob. */
    if (store_sp_begin(st, err) != DP_OK) return DP_ERR;
    int rc = cache_delete(st, repo, name, err);
    if (rc == DP_OK) rc = cache_insert(st, repo, name, data, len, err);
    return store_sp_end(st, rc, err);
}

/* Counts the parts and sums their sizes (length() of a blob reads only the
 * row header, not the data). DP_NOTFOUND unless the parts are 0..n-1. */
static int cache_size(store *st, int64_t repo, const char *name, int64_t *nparts, size_t *total, dp_err *err)
{
    sqlite3_stmt *s = store_stmt(st, SQ_CACHE_STAT,
                                 "SELECT count(*), min(part), max(part), sum(length(data)) FROM caches "
                                 "WHERE repo_id = ?1 AND name = ?2",
                                 err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, repo);
    store_bind_text(s, 2, name);
    int rc = sqlite3_step(s), ret = DP_NOTFOUND;
    if (rc != SQLITE_ROW) {
        ret = store_fail(st, err, "reading cache %s", name);
    } else {
        /* part is UNIQUE per (repo, name), so min 0 and max n-1 means 0..n-1. */
        int64_t n = sqlite3_column_int64(s, 0);
        if (n > 0 && sqlite3_column_int64(s, 1) == 0 && sqlite3_column_int64(s, 2) == n - 1) {
            *nparts = n;
            *total = (size_t)sqlite3_column_int64(s, 3);
            ret = DP_OK;
        }
    }
    store_done(s);
    return ret;
}

/* Copies the parts, in order, into buf (total bytes, from cache_size).
 * Each part is read with sqlite3_blob_read straight into buf: a column read
 * would first assemble the part in SQLite's own buffer (one more copy of a
 * ~100 MB snapshot: 0.17 s -> 0.10 s on 95 MB). */
static int cache_read(store *st, int64_t repo, const char *name, int64_t nparts, unsigned char *buf, size_t total,
                      dp_err *err)
{
    sqlite3_stmt *s = store_stmt(st, SQ_CACHE_READ,
                                 "SELECT part, id, length(data) FROM caches WHERE repo_id = ?1 AND name = ?2 "
                                 "ORDER BY part",
                                 err);
    if (!s) return DP_ERR;
    sqlite3_bind_int64(s, 1, repo);
    store_bind_text(s, 2, name);
    size_t off = 0;
    int64_t part = 0;
    int rc, ret = DP_OK;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        size_t n = (size_t)sqlite3_column_int64(s, 2);
        /* Both reads share one snapshot, so this only trips on a bug. */
        if (sqlite3_column_int64(s, 0) != part || n > total - off) break;
        sqlite3_blob *b = NULL;
        int brc = sqlite3_blob_open(st->db, "main", "caches", "data", sqlite3_column_int64(s, 1), 0, &b);
        if (brc == SQLITE_OK && n) brc = sqlite3_blob_read(b, buf + off, (int)n, 0);
        sqlite3_blob_close(b);
        if (brc != SQLITE_OK) {
            ret = store_fail(st, err, "reading cache %s", name);
            break;
        }
        off += n;
        part++;
    }
    if (ret == DP_OK) {
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) ret = store_fail(st, err, "reading cache %s", name);
        else if (part != nparts || off != total)
            ret = dp_fail(err, "store: cache %s of repository %lld changed while being read", name,
                          (long long)repo);
    }
    store_done(s);
    return ret;
}

int store_cache_get(store *st, int64_t repo, const char *name, void **data, size_t *len, dp_err *err)
{
    *data = NULL;
    *len = 0;
    if (!name) return dp_fail(err, "store: cache: no name");
    /* One snapshot for sizing and copying: a commit by another connection
     * between the two would otherwise change the sizes under us. */
    if (store_sp_begin(st, err) != DP_OK) return DP_ERR;
    int64_t nparts = 0;
    size_t total = 0;
    unsigned char *buf = NULL;
    int rc = cache_size(st, repo, name, &nparts, &total, err);
    if (rc == DP_OK) {
        buf = xmalloc(total ? total : 1);
        rc = cache_read(st, repo, name, nparts, buf, total, err);
    }
    rc = store_sp_end(st, rc, err);
    if (rc != DP_OK) {
        free(buf);
        return rc;
    }
    *data = buf;
    *len = total;
    return DP_OK;
}

int store_cache_drop(store *st, int64_t repo, const char *name, dp_err *err)
{
    return cache_delete(st, repo, name, err);
}
